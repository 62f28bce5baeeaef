"""The classifier file is absent (a pip install without the labelled dev set): ``if_missing`` decides.

The shipped rules say ``lexicon``: the build succeeds without the classifier, warns once and tells
run.json; ``error`` fails at build naming the file, the key and how to build the model. A present model
is loaded and no note is written. No test here needs the dev sets: the model is trained from a fixture.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import yaml

from curation.rules import ConfigError
from curation.stages.toxicity import build_scorer, build_stage, stage_notes
from curation.stages.toxicity.classifier import train_records
from tests.toxicity.conftest import make_cfg
from tests.toxicity.helpers import rules_dict

BIAS_DIR = str(Path(__file__).parents[2] / "rules" / "bias")


def _rules_text(**overrides: object) -> str:
    data = rules_dict(**overrides)
    data["bias"]["terms_dir"] = BIAS_DIR
    return yaml.safe_dump(data, allow_unicode=True)


def _tiny_model(path: Path) -> Path:
    rows = []
    for i in range(30):
        rows.append({"text": f"eres un cabrón asqueroso número {i}", "label": "offensive", "lang": "es"})
        rows.append({"text": f"el jardín tiene flores bonitas {i}", "label": "clean", "lang": "es"})
    train_records(rows, path, seed=1, epoch=5)
    return path


def test_shipped_rules_run_without_the_missing_default_model(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    empty = tmp_path / "models"
    empty.mkdir()
    cfg, spec = make_cfg(tmp_path, models_dir=empty)  # the repo's own rules/toxicity.yaml
    with caplog.at_level(logging.WARNING, logger="curation.stages.toxicity"):
        stage = build_stage(spec, cfg)
    warnings = [r for r in caplog.records if "toxicity_default.bin" in r.getMessage()]
    assert len(warnings) == 1
    assert "curate models fetch" in warnings[0].getMessage()
    assert stage.scorer.classifier_path is None
    (note,) = stage.notes
    assert str(empty / "toxicity_default.bin") in note and "lexicon" in note


def test_if_missing_error_fails_at_build_naming_key_and_command(tmp_path: Path) -> None:
    text = _rules_text(embedded__classifier__if_missing="error")
    cfg, spec = make_cfg(tmp_path, text, models_dir=tmp_path / "nowhere")
    with pytest.raises(ConfigError, match=r"embedded\.classifier\.model.*curate models fetch") as exc:
        build_scorer(spec, cfg)
    assert "toxicity_default.bin" in str(exc.value) and "if_missing" in str(exc.value)


def test_if_missing_rejects_unknown_values(tmp_path: Path) -> None:
    cfg, spec = make_cfg(tmp_path, _rules_text(embedded__classifier__if_missing="skip"), models_dir=tmp_path)
    with pytest.raises(ConfigError, match=r"if_missing.*lexicon.*error"):
        build_scorer(spec, cfg)


def test_present_model_is_used_and_no_note_is_written(tmp_path: Path) -> None:
    model = _tiny_model(tmp_path / "toxicity_default.bin")
    cfg, spec = make_cfg(tmp_path, models_dir=tmp_path)
    stage = build_stage(spec, cfg)
    assert stage.scorer.classifier_path == model
    assert stage.notes == () == stage_notes(spec, cfg)


def test_no_classifier_configured_is_not_a_missing_file(tmp_path: Path) -> None:
    cfg, spec = make_cfg(tmp_path, _rules_text(embedded__classifier__model=None), models_dir=tmp_path)
    stage = build_stage(spec, cfg)
    assert stage.scorer.classifier_path is None and stage.notes == ()


def test_a_run_without_the_model_keeps_going_and_says_so_in_run_json(tmp_path: Path) -> None:
    import json

    from curation.run import run

    (tmp_path / "data").mkdir()
    rows = [
        {"id": "t", "text": "Eres un gilipollas, hijo de puta. Cabrón de mierda, vete a la mierda."},
        {"id": "c", "text": "El jardín tiene flores bonitas y árboles altos junto al río."},
    ]
    (tmp_path / "data" / "es.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    (tmp_path / "models").mkdir()
    cfg = {
        "name": "no-model",
        "tokenizer": "whitespace",
        "models_dir": str(tmp_path / "models"),
        "sources": [{"name": "w", "kind": "web", "paths": ["data/*.jsonl"]}],
        "stages": [
            {"name": "normalize", "rules": "normalize.yaml"},
            {"name": "toxicity", "rules": str(Path(__file__).parents[2] / "rules" / "toxicity.yaml")},
        ],
        "output": {"report": False},
    }
    path = tmp_path / "pipeline.yaml"
    path.write_text(yaml.safe_dump(cfg), encoding="utf-8")
    run(path, tmp_path / "out")
    info = json.loads((tmp_path / "out" / "report" / "run.json").read_text())
    (note,) = info["notes"]
    assert note.startswith("toxicity: ") and "toxicity_default.bin not found" in note
    stages = json.loads((tmp_path / "out" / "report" / "stages.json").read_text())
    tox = next(s for s in stages["stages"] if s["stage"] == "toxicity")["total"]
    assert tox["docs_in"] == 2 and tox["docs_kept"] == 1  # the lexicon still rejects the abusive page
    assert tox["rejected_by_reason"] == {"toxicity:combined": 1}
