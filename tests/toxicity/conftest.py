"""Fixtures: the tiny detoxify-format checkpoint (random BERT, local WordPiece vocab) and configs."""

from __future__ import annotations

from pathlib import Path

import pytest

from curation.config import PipelineConfig, SourceSpec, StageSpec
from curation.rules import REPO_ROOT
from curation.stages.toxicity.tiny import build_tiny_detoxify


@pytest.fixture(scope="session")
def tiny_detoxify(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("detoxify")
    ckpt, hf = build_tiny_detoxify(root)
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
        models_dir=str(models_dir or REPO_ROOT / "models"),
        path=str(tmp_path / "pipeline.yaml"),
    )
    return cfg, StageSpec(name="toxicity", rules=str(rules))
