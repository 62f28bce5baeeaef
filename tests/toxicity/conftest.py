"""Fixtures: a tiny detoxify-format checkpoint built here (random BERT, local WordPiece vocab).

It mimics what a user downloads: a ``.ckpt`` whose ``model_type`` is the hub name ``bert-base-uncased``
(so it cannot load offline as is) and a Hugging Face folder holding only ``config.json`` (without the
checkpoint's label count) and ``vocab.txt``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from curation.config import PipelineConfig, SourceSpec, StageSpec
from curation.rules import REPO_ROOT

CLASSES = ["toxic", "severe_toxic", "obscene", "threat", "insult", "identity_hate"]
VOCAB = [
    "[PAD]",
    "[UNK]",
    "[CLS]",
    "[SEP]",
    "[MASK]",
    *"you are an idiot the cat sat on a mat hello world".split(),
]


@pytest.fixture(scope="session")
def tiny_detoxify(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    import torch
    from transformers import BertConfig, BertForSequenceClassification

    root = tmp_path_factory.mktemp("detoxify")
    hf = root / "downloaded_hf"
    hf.mkdir()
    (hf / "vocab.txt").write_text("\n".join(VOCAB) + "\n", encoding="utf-8")
    cfg = BertConfig(
        vocab_size=len(VOCAB),
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=64,
        num_labels=len(CLASSES),
    )
    torch.manual_seed(0)
    model = BertForSequenceClassification(cfg)
    with torch.no_grad():  # make two outputs certain: identity_hate ~1, toxic ~0 (weights stay random)
        model.classifier.weight.zero_()
        model.classifier.bias.copy_(torch.tensor([-8.0, -8.0, -8.0, -8.0, -8.0, 8.0]))
    base = BertConfig(
        vocab_size=len(VOCAB),
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=64,
    )
    base.save_pretrained(hf)  # a base-model config: 2 labels, like bert-base-uncased's config.json
    (hf / "model.safetensors").write_bytes(b"not used")  # base weights, must not be copied
    ckpt = root / "toxic_tiny.ckpt"
    torch.save(
        {
            "config": {
                "arch": {
                    "args": {
                        "model_type": "bert-base-uncased",
                        "model_name": "BertForSequenceClassification",
                        "tokenizer_name": "BertTokenizer",
                        "num_classes": len(CLASSES),
                    }
                },
                "dataset": {"args": {"classes": CLASSES}},
            },
            "state_dict": model.state_dict(),
        },
        ckpt,
    )
    return {"checkpoint": ckpt, "hf_dir": hf, "root": root}


def make_cfg(tmp_path: Path, rules_text: str | None = None, models_dir: Path | None = None) -> tuple:
    """A pipeline config whose toxicity rules file is ``rules_text`` (default: the repo's rules)."""
    if rules_text is None:
        rules = REPO_ROOT / "rules" / "toxicity.yaml"
    else:
        rules = tmp_path / "toxicity.yaml"
        rules.write_text(rules_text, encoding="utf-8")
    cfg = PipelineConfig(
        sources=(SourceSpec(kind="web", paths=("x",)),),
        tokenizer="whitespace",
        models_dir=str(models_dir or tmp_path),
        path=str(tmp_path / "pipeline.yaml"),
    )
    return cfg, StageSpec(name="toxicity", rules=str(rules))
