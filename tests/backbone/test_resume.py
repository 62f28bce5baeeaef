"""Resuming a batch job over the same output folder: completed shards are skipped, nothing is mixed."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from curation.rules import ConfigError
from curation.run import run
from tests.backbone.test_pipeline import write_fixture


def test_resume_skips_complete_shards_and_merges_accounting(tmp_path: Path) -> None:
    cfg = write_fixture(tmp_path)
    out = tmp_path / "out"
    first = run(cfg, out)
    assert (first.run_id, first.shards_skipped) == ("r0", 0)
    before = json.loads((out / "report" / "stages.json").read_text())

    # a used output folder is never silently mixed with a new job
    with pytest.raises(ConfigError, match="--resume"):
        run(cfg, out)

    # nothing new: the resume reads no shard and the totals stay the same
    again = run(cfg, out, resume=True)
    assert again.state == "NOTHING_TO_DO" and again.shards_skipped == first.shards_total
    assert json.loads((out / "report" / "stages.json").read_text())["stages"] == before["stages"]

    # a new shard arrives: only it is read, as run r1, and the accounting is summed over both runs
    (tmp_path / "data" / "book" / "part-1.jsonl").write_text(
        json.dumps({"id": "b2", "title": "More", "text": "Another short book."}) + "\n", encoding="utf-8"
    )
    third = run(cfg, out, resume=True)
    assert third.run_id == "r1" and third.shards_total - third.shards_skipped == 1
    merged = json.loads((out / "report" / "stages.json").read_text())
    totals = {s["stage"]: s["total"] for s in merged["stages"]}
    read = totals["read"]
    assert read["docs_in"] == before["stages"][0]["total"]["docs_in"] + 1
    assert merged["runs"] == 2
    files = sorted(p.name for p in (out / "data").rglob("*.parquet"))
    assert any(f.startswith("part-r0-") for f in files) and any(f.startswith("part-r1-") for f in files)
    ids = pq.read_table(out / "data").column("id").to_pylist()
    assert len(ids) == len(set(ids)) == totals["write"]["docs_kept"]
    # no temporary or partial files are left visible next to the finalized ones
    assert not [p for p in out.rglob("*") if p.is_file() and "temp" in p.name.lower()]

    # --overwrite starts afresh
    fresh = run(cfg, out, overwrite=True)
    assert fresh.run_id == "r0" and json.loads((out / "report" / "stages.json").read_text())["runs"] == 1
