"""The real detoxify loading path, end to end, on a tiny random BERT checkpoint built by conftest.py."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from curation.document import Reject
from curation.rules import ConfigError
from curation.stages.toxicity import build_scorer, build_stage
from curation.stages.toxicity.checkpoint import PREPARED_MARKER, load_detoxify, read_checkpoint
from curation.stages.toxicity.cli import main
from curation.stages.toxicity.decide import ToxicityProcessor
from curation.stages.toxicity.tiny import CLASSES
from tests.beam_helpers import run_stage
from tests.toxicity.conftest import make_cfg
from tests.toxicity.helpers import doc, rules_dict


def _detoxify_rules(out: Path, **extra: object) -> str:
    data = rules_dict(backend="detoxify", **extra)
    data["detoxify"].update(checkpoint=str(out / "model.ckpt"), hf_dir="prepared/hf")  # relative: models_dir
    return yaml.safe_dump(data, allow_unicode=True)


@pytest.fixture(scope="module")
def prepared(tiny_detoxify: dict[str, Path]) -> Path:
    out = tiny_detoxify["root"] / "prepared"
    argv = ["prepare-detoxify", "--checkpoint", str(tiny_detoxify["checkpoint"])]
    assert main([*argv, "--hf-dir", str(tiny_detoxify["hf_dir"]), "--out", str(out)]) == 0
    return out


def test_prepare_rewrites_model_type_and_labels(prepared: Path, capsys: pytest.CaptureFixture) -> None:
    ck = read_checkpoint(prepared / "model.ckpt")
    assert ck["config"]["arch"]["args"]["model_type"] == str((prepared / "hf").resolve())
    cfg = json.loads((prepared / "hf" / "config.json").read_text())
    assert cfg["num_labels"] == len(CLASSES) and cfg["id2label"]["5"] == "identity_attack"
    assert sorted(p.name for p in (prepared / "hf").iterdir()) == [
        "config.json",
        PREPARED_MARKER,
        "vocab.txt",
    ]


def test_stock_detoxify_loads_the_prepared_checkpoint_offline(prepared: Path) -> None:
    from detoxify import Detoxify

    stock = Detoxify(checkpoint=str(prepared / "model.ckpt"), huggingface_config_path=str(prepared / "hf"))
    assert sorted(stock.predict(["you are an idiot"])) == sorted(
        ["toxicity", "severe_toxicity", "obscene", "threat", "insult", "identity_attack"]
    )
    model, tokenizer, names = load_detoxify(prepared / "model.ckpt", prepared / "hf")
    assert names[0] == "toxicity" and tokenizer("hello world")["input_ids"][0] == 2  # [CLS] of our vocab
    assert model.classifier.bias.tolist() == [-8.0] * 5 + [8.0]  # the checkpoint's weights, not a fresh init


def test_unprepared_checkpoint_cannot_load_offline(tiny_detoxify: dict[str, Path]) -> None:
    from detoxify import Detoxify

    with pytest.raises(OSError):  # model_type 'bert-base-uncased' needs the hub; HF_HUB_OFFLINE is set
        Detoxify(
            checkpoint=str(tiny_detoxify["checkpoint"]), huggingface_config_path=str(tiny_detoxify["hf_dir"])
        )


def test_prepare_names_missing_hf_files(tiny_detoxify: dict[str, Path], tmp_path: Path, capsys) -> None:
    empty = tmp_path / "hf"
    empty.mkdir()
    code = main(
        [
            "prepare-detoxify",
            "--checkpoint",
            str(tiny_detoxify["checkpoint"]),
            "--hf-dir",
            str(empty),
            "--out",
            str(tmp_path / "out"),
        ]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert "config.json" in err and "vocab.txt" in err


def test_missing_checkpoint_error_names_files_and_command(tmp_path: Path) -> None:
    cfg, spec = make_cfg(tmp_path, _detoxify_rules(tmp_path / "nowhere"), models_dir=tmp_path)
    with pytest.raises(ConfigError) as info:
        build_stage(spec, cfg)
    msg = str(info.value)
    assert str(tmp_path / "nowhere" / "model.ckpt") in msg
    assert "config.json" in msg and "vocab.txt" in msg
    assert "curate toxicity prepare-detoxify" in msg and "toxic_original" in msg


def test_detoxify_stage_end_to_end(prepared: Path, tmp_path: Path) -> None:
    models = prepared.parent
    text = "hello world\nthe cat sat on a mat"
    # the tiny model says identity_attack ~1 and toxicity ~0 for every window
    cfg, spec = make_cfg(tmp_path, _detoxify_rules(prepared), models_dir=models)
    scorer = build_scorer(spec, cfg)
    scored, _ = scorer.score_batch([doc(text)])
    sig = scored[0].signals
    assert sig["toxicity.backend"] == "detoxify:original" and sig["toxicity.windows"] == 2
    assert sig["toxicity.identity_attack.max"] > 0.99 and sig["toxicity.toxicity.max"] < 0.01
    assert {f"toxicity.{c}" for c in ("severe_toxicity", "obscene", "threat", "insult")} <= set(sig)

    kept, rejected, counts = run_stage(build_stage(spec, cfg), [doc(text, i="a"), doc("hello", i="b")])
    assert not kept and len(rejected) == 2
    assert {r.reason for r in rejected} == {"toxicity:identity_attack"}
    assert counts[("toxicity", "web", "und")].docs_rejected == 2

    (tmp_path / "off").mkdir()
    cfg2, spec2 = make_cfg(
        tmp_path / "off", _detoxify_rules(prepared, bias__identity_attack_threshold=None), models_dir=models
    )
    scorer2 = build_scorer(spec2, cfg2)
    (out,) = ToxicityProcessor(scorer2, scorer2.rules).process_batch([doc(text)])
    assert not isinstance(out, Reject)  # the same document passes once the identity_attack rule is off


def test_relocated_prepared_folder_still_loads(prepared: Path, tmp_path: Path) -> None:
    import torch

    moved = tmp_path / "moved"
    shutil.copytree(prepared, moved)
    ck = read_checkpoint(moved / "model.ckpt")
    ck["config"]["arch"]["args"]["model_type"] = "/nonexistent/original/place/hf"
    torch.save(ck, moved / "model.ckpt")
    _, _, names = load_detoxify(moved / "model.ckpt", moved / "hf")
    assert names[-1] == "identity_attack"


def test_multilingual_checkpoint_end_to_end_batched_on_auto_device(tmp_path: Path) -> None:
    from curation.stages.toxicity.tiny import build_tiny_multilingual

    ckpt, hf = build_tiny_multilingual(tmp_path)
    out = tmp_path / "prepared"
    argv = ["prepare-detoxify", "--checkpoint", str(ckpt), "--hf-dir", str(hf), "--out", str(out)]
    assert main(argv) == 0
    data = rules_dict(backend="detoxify")
    data["detoxify"].update(
        variant="multilingual",
        checkpoint="prepared/model.ckpt",
        hf_dir="prepared/hf",
        batch_size=2,
        device="auto",
    )
    cfg, spec = make_cfg(tmp_path, yaml.safe_dump(data, allow_unicode=True), models_dir=tmp_path)
    scorer = build_scorer(spec, cfg)
    texts = ["eres un idiota\nhola mundo\nel gato", "sei un idiota", "du bist ein idiot"]
    langs = ["es", "it", "de"]
    scored, _ = scorer.score_batch([doc(t, i=lang, lang=lang) for t, lang in zip(texts, langs, strict=True)])
    assert scored[0].signals["toxicity.windows"] == 3  # 5 windows in batches of 2
    for d in scored:  # the tiny head says toxicity ~1 in every language; sexual_explicit is a signal too
        assert d.signals["toxicity.backend"] == "detoxify:multilingual"
        assert d.signals["toxicity.toxicity.max"] > 0.99 and "toxicity.sexual_explicit" in d.signals
    assert scorer._backend.rules.device == "cpu"  # auto: no GPU on this machine


def test_auto_device_picks_cuda_when_torch_sees_a_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    from curation.stages.toxicity.scoring import resolve_device

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_device("auto") == "cuda"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device("auto") == "cpu" and resolve_device("cuda") == "cuda"
