"""Runner portability of the full default pipeline (all stages of rules/pipeline.yaml on the sample data).

What can be proven without a cluster: every stage transform pickles with Beam's pickler (as it must to
reach Flink/Spark/Dataflow workers), the whole pipeline runs under ``multi_processing`` with two worker
processes, outputs are identical to the in-process runner, and nothing is written outside the declared
output folder. ``tests/portability`` adds the portable protocol (``PortableRunner``, Beam's job service
and an external worker pool running only the built wheel) and object stores (a local S3 server).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from apache_beam.internal import pickler

from curation.config import load_config
from curation.pipeline import plan
from curation.run import run

REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / "rules" / "pipeline.yaml"


def test_every_stage_of_the_default_pipeline_pickles() -> None:
    the_plan = plan(load_config(CONFIG))
    assert [s.spec.name for s in the_plan.stages] == [
        "normalize",
        "langid",
        "quality",
        "license",
        "dedup",
        "pii",
        "toxicity",
        "decontamination",
    ]
    for ps in the_plan.stages:
        clone = pickler.loads(pickler.dumps(ps.transform))
        assert type(clone) is type(ps.transform), ps.spec.name
        if ps.probe is not None:
            pickler.loads(pickler.dumps(ps.probe))
    for shard in the_plan.shards:
        assert pickler.loads(pickler.dumps(shard)) == shard


def _rows(out: Path, sub: str) -> list[dict]:
    rows = pq.read_table(out / sub).to_pylist()
    for r in rows:
        r["source_kind"] = str(r["source_kind"])
    return sorted(rows, key=lambda r: (r["source_kind"], r["id"], r.get("stage") or ""))


def _stats(out: Path) -> dict[str, dict]:
    """Stage stats without PII's ``cost`` entry: measured seconds, the one output that is a timing."""
    stats = {p.name: json.loads(p.read_text()) for p in (out / "report" / "stats").glob("*.json")}
    stats.get("pii.json", {}).pop("cost", None)
    return stats


def _files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


@pytest.mark.beam
def test_full_pipeline_same_output_in_process_and_multi_processing(tmp_path: Path) -> None:
    home = Path(os.environ["HOME"])
    before = _files(home)
    a, b = tmp_path / "in_process", tmp_path / "multi"
    run(CONFIG, a, report=False)
    run(CONFIG, b, ["--direct_running_mode=multi_processing", "--direct_num_workers=2"], report=False)

    data_a, data_b = _rows(a, "data"), _rows(b, "data")
    assert data_a and data_a == data_b
    assert _rows(a, "rejects") == _rows(b, "rejects")
    stages_a = json.loads((a / "report" / "stages.json").read_text())
    stages_b = json.loads((b / "report" / "stages.json").read_text())
    assert stages_a == stages_b
    stats_a, stats_b = _stats(a), _stats(b)
    assert stats_a == stats_b and "dedup.json" in stats_a
    # every stage ran and the accounting chains from read to write
    names = [s["stage"] for s in stages_a["stages"]]
    assert names[0] == "read" and names[-1] == "write" and len(names) == 10
    assert all(s["invariant_ok"] for s in stages_a["stages"])
    # no state outside the declared outputs (HOME/TMPDIR are this test's own folder)
    leftovers = {f for f in _files(home) - before if not f.startswith(("pytest", ".cache/matplotlib"))}
    assert not leftovers, sorted(leftovers)[:10]
