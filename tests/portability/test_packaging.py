"""Package data, ``curate init``, ``curate models fetch`` steps, and the ``source_kind`` data column."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import apache_beam as beam
import pyarrow.parquet as pq
import pytest

from curation import models
from curation.config import load_config
from curation.document import Document
from curation.io.shards import expand_sources
from curation.project_init import init_project
from curation.project_init import main as init_main
from curation.rules import RULES_DIR, SAMPLE_DATA_DIR, package_data_dir, resolve_rules_path
from curation.sinks import WriteDocuments, delete_tree, path_exists
from tests.beam_helpers import fnapi_options

REPO = Path(__file__).resolve().parents[2]


# --- rules as package data ---------------------------------------------------------------------------


def test_packaged_rules_resolve_by_name_from_anywhere(tmp_path: Path) -> None:
    assert (RULES_DIR / "pipeline.yaml").is_file() and (SAMPLE_DATA_DIR / "sample").is_dir()
    assert resolve_rules_path("quality/quality.yaml", tmp_path) == RULES_DIR / "quality" / "quality.yaml"
    assert resolve_rules_path("rules/dedup.yaml", tmp_path) == RULES_DIR / "dedup.yaml"
    mine = tmp_path / "dedup.yaml"
    mine.write_text("{}\n")
    assert resolve_rules_path("dedup.yaml", tmp_path) == mine  # beside the config wins


def test_package_data_dir_falls_back_to_the_checkout_folder(tmp_path: Path) -> None:
    assert package_data_dir("curation.no_such_data_package", tmp_path) == tmp_path


# --- curate init -------------------------------------------------------------------------------------


def test_init_writes_rules_config_and_sample_data_whose_paths_work_there(tmp_path: Path) -> None:
    dest = tmp_path / "proj"
    init_project(dest)
    cfg = load_config(dest / "rules" / "pipeline.yaml")
    assert cfg.models_path.resolve() == (dest / "models").resolve() and (dest / "models").is_dir()
    shards = expand_sources(cfg)
    assert shards and all(Path(s.path).resolve().is_relative_to(dest.resolve()) for s in shards)
    assert {s.kind for s in shards} == {"web", "book", "code", "conversation"}
    for st in cfg.enabled_stages:
        assert cfg.rules_path(st).resolve().is_relative_to(dest.resolve()), st.name
    assert not list(dest.rglob("__pycache__"))


def test_init_refuses_to_overwrite_without_force(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    dest = tmp_path / "proj"
    assert init_main([str(dest)]) == 0
    (dest / "rules" / "dedup.yaml").write_text("edited: true\n")
    assert init_main([str(dest)]) == 1
    assert "already exists" in capsys.readouterr().err
    assert (dest / "rules" / "dedup.yaml").read_text() == "edited: true\n"
    assert init_main([str(dest), "--force"]) == 0
    assert (dest / "rules" / "dedup.yaml").read_text() == (RULES_DIR / "dedup.yaml").read_text()


# --- curate models fetch -----------------------------------------------------------------------------


def _step(calls: list[str], name: str = "toy", version: str = "1", missing: str | None = None) -> Any:
    def build(dest: Path) -> None:
        calls.append(name)
        (dest / f"{name}.bin").write_bytes(b"model")

    return models.ModelStep(
        name, f"{name}.bin", "a toy model", build, version=version, missing=lambda: missing
    )


def test_fetch_builds_missing_skips_up_to_date_and_rebuilds_stale(tmp_path: Path) -> None:
    calls: list[str] = []
    logs: list[str] = []
    assert models.fetch(tmp_path, steps=[_step(calls)], log=logs.append) == [tmp_path / "toy.bin"]
    assert calls == ["toy"]
    models.fetch(tmp_path, steps=[_step(calls)], log=logs.append)
    assert calls == ["toy"] and "up to date" in logs[-1]
    models.fetch(tmp_path, steps=[_step(calls, version="2")], log=logs.append)  # changed step: rebuild
    assert calls == ["toy", "toy"]
    models.fetch(tmp_path, steps=[_step(calls, version="2")], force=True, log=logs.append)
    assert calls == ["toy", "toy", "toy"]
    stamp = json.loads((tmp_path / models.STAMP_DIR / "toy.json").read_text())
    assert stamp == {"step": "toy", "version": "2"}


def test_fetch_only_and_unknown_steps(tmp_path: Path) -> None:
    calls: list[str] = []
    steps = [_step(calls, "a"), _step(calls, "b")]
    models.fetch(tmp_path, only=["b"], steps=steps, log=lambda _: None)
    assert calls == ["b"]
    with pytest.raises(ValueError, match="unknown model step 'c'; allowed: a, b"):
        models.fetch(tmp_path, only=["c"], steps=steps)


def test_step_without_its_inputs_is_skipped_with_the_reason(tmp_path: Path) -> None:
    calls: list[str] = []
    logs: list[str] = []
    models.fetch(tmp_path, steps=[_step(calls, missing="no data here")], log=logs.append)
    assert calls == [] and "SKIPPED: no data here" in logs[-1]


def test_a_step_that_writes_nothing_fails(tmp_path: Path) -> None:
    bad = models.ModelStep("bad", "bad.bin", "writes nothing", lambda dest: None)
    with pytest.raises(RuntimeError, match="did not write"):
        models.fetch(tmp_path, steps=[bad], log=lambda _: None)


def test_default_steps_and_their_scripts_are_shipped() -> None:
    names = [s.name for s in models.STEPS]
    assert names[:2] == ["lid", "quality"] and len(set(names)) == len(names)
    for s in models.STEPS:
        if s.script:
            assert (models.SCRIPTS_DIR / s.script).is_file(), s.script
            assert "script_sha256" in s.fingerprint()


# --- source_kind column ------------------------------------------------------------------------------


@pytest.mark.beam
def test_source_kind_is_a_column_of_every_data_file(tmp_path: Path) -> None:
    docs = [
        Document(id=f"{k}{i}", source_kind=k, source="t", text=f"text {k} {i}", token_count=3)  # type: ignore[arg-type]
        for k in ("web", "code")
        for i in range(3)
    ]
    out = str(tmp_path / "out")
    with beam.Pipeline(options=fnapi_options()) as p:
        _ = p | beam.Create(docs) | WriteDocuments(out, ["web", "code"])
    files = sorted((tmp_path / "out" / "data").rglob("*.parquet"))
    assert len(files) == 2
    for f in files:  # each file alone (what Hugging Face datasets and single-file readers see)
        kinds = set(pq.read_table(f).column("source_kind").to_pylist())
        assert kinds == {f.parent.name.split("=", 1)[1]}
    table = pq.read_table(tmp_path / "out" / "data")  # hive discovery still merges with the column
    assert sorted(map(str, table.column("source_kind").to_pylist())) == ["code"] * 3 + ["web"] * 3


# --- object-store-safe folder helpers (local behaviour) ---------------------------------------------


def test_path_exists_and_delete_tree_locally(tmp_path: Path) -> None:
    d = tmp_path / "d"
    assert not path_exists(str(d))
    (d / "sub").mkdir(parents=True)
    (d / "sub" / "f.txt").write_text("x")
    assert path_exists(str(d)) and path_exists(str(d / "sub" / "f.txt"))
    delete_tree(str(d))
    assert not d.exists()
    delete_tree(str(d))  # deleting what is not there is a no-op
