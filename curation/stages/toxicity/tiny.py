"""A tiny detoxify-format checkpoint with random BERT weights, for tests and the throughput benchmark.

It mimics what a user downloads: a ``.ckpt`` whose ``model_type`` is the hub name ``bert-base-uncased``
(so it cannot load offline as is) and a Hugging Face folder holding only a base-model ``config.json``
(2 labels, not the checkpoint's 6) and a WordPiece ``vocab.txt``. The classifier head is fixed (zero
weights, bias -8 for every class but ``identity_hate`` at +8) so its outputs are known: toxicity ~0,
identity_attack ~1. It is NOT a toxicity model: use it only to exercise loading and measure overhead.
"""

from __future__ import annotations

from pathlib import Path

CLASSES = ["toxic", "severe_toxic", "obscene", "threat", "insult", "identity_hate"]
VOCAB = [
    "[PAD]",
    "[UNK]",
    "[CLS]",
    "[SEP]",
    "[MASK]",
    *"you are an idiot the cat sat on a mat hello world".split(),
]


def build_tiny_detoxify(root: Path, hidden: int = 16, layers: int = 1, seed: int = 0) -> tuple[Path, Path]:
    """Write ``root/toxic_tiny.ckpt`` and ``root/downloaded_hf/``; return their paths."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification

    hf = root / "downloaded_hf"
    hf.mkdir(parents=True, exist_ok=True)
    (hf / "vocab.txt").write_text("\n".join(VOCAB) + "\n", encoding="utf-8")
    shape = {
        "vocab_size": len(VOCAB),
        "hidden_size": hidden,
        "num_hidden_layers": layers,
        "num_attention_heads": 2,
        "intermediate_size": 2 * hidden,
        "max_position_embeddings": 512,
    }
    torch.manual_seed(seed)
    model = BertForSequenceClassification(BertConfig(**shape, num_labels=len(CLASSES)))
    with torch.no_grad():
        model.classifier.weight.zero_()
        model.classifier.bias.copy_(torch.tensor([-8.0] * (len(CLASSES) - 1) + [8.0]))
    BertConfig(**shape).save_pretrained(hf)  # a base-model config (2 labels), like bert-base-uncased's
    (hf / "model.safetensors").write_bytes(b"base weights: never copied by prepare")
    ckpt = root / "toxic_tiny.ckpt"
    args = {
        "model_type": "bert-base-uncased",
        "model_name": "BertForSequenceClassification",
        "tokenizer_name": "BertTokenizer",
        "num_classes": len(CLASSES),
    }
    torch.save(
        {
            "config": {"arch": {"args": args}, "dataset": {"args": {"classes": CLASSES}}},
            "state_dict": model.state_dict(),
        },
        ckpt,
    )
    return ckpt, hf


ML_CLASSES = [
    "toxicity",
    "severe_toxicity",
    "obscene",
    "identity_attack",
    "insult",
    "threat",
    "sexual_explicit",
]
_SPM_TEXT = (
    "you are an idiot. the cat sat on a mat. hello world.\n"
    "eres un idiota. el gato se sentó en la alfombra. hola mundo.\n"
    "sei un idiota. il gatto è seduto sul tappeto. ciao mondo.\n"
    "du bist ein idiot. die katze sitzt auf der matte. hallo welt.\n"
)


def build_tiny_multilingual(
    root: Path, hidden: int = 16, layers: int = 1, seed: int = 0
) -> tuple[Path, Path]:
    """Like :func:`build_tiny_detoxify` for the ``multilingual`` variant: an XLM-R-format checkpoint
    (``model_type`` = ``xlm-roberta-base``) and a folder with a base config and a tiny SentencePiece
    model trained here on four lines (``sentencepiece.bpe.model``). Head: ``toxicity`` ~1, others ~0."""
    import sentencepiece as spm
    import torch
    from transformers import XLMRobertaConfig, XLMRobertaForSequenceClassification

    hf = root / "downloaded_hf_ml"
    hf.mkdir(parents=True, exist_ok=True)
    corpus = root / "spm.txt"
    corpus.write_text(_SPM_TEXT * 4, encoding="utf-8")
    spm.SentencePieceTrainer.train(
        input=str(corpus),
        model_prefix=str(hf / "sentencepiece.bpe"),
        vocab_size=60,
        model_type="bpe",
        character_coverage=1.0,
        num_threads=1,
        seed_sentencepiece_size=1000,
        minloglevel=2,
    )
    shape = {
        "vocab_size": 70,
        "hidden_size": hidden,
        "num_hidden_layers": layers,
        "num_attention_heads": 2,
        "intermediate_size": 2 * hidden,
        "max_position_embeddings": 514,
        "pad_token_id": 1,
    }
    torch.manual_seed(seed)
    model = XLMRobertaForSequenceClassification(XLMRobertaConfig(**shape, num_labels=len(ML_CLASSES)))
    with torch.no_grad():
        model.classifier.out_proj.weight.zero_()
        model.classifier.out_proj.bias.copy_(torch.tensor([8.0] + [-8.0] * (len(ML_CLASSES) - 1)))
    XLMRobertaConfig(**shape).save_pretrained(hf)
    ckpt = root / "multilingual_tiny.ckpt"
    args = {
        "model_type": "xlm-roberta-base",
        "model_name": "XLMRobertaForSequenceClassification",
        "tokenizer_name": "XLMRobertaTokenizer",
        "num_classes": len(ML_CLASSES),
    }
    torch.save(
        {
            "config": {"arch": {"args": args}, "dataset": {"args": {"classes": ML_CLASSES}}},
            "state_dict": model.state_dict(),
        },
        ckpt,
    )
    return ckpt, hf
