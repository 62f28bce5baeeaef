"""WriteStats: every stage's stats file from side inputs (no Flatten, no shuffle), same documents."""

from __future__ import annotations

import json
from pathlib import Path

import apache_beam as beam

from curation.sinks import WriteStats, stats_documents
from tests.beam_helpers import fnapi_options


def test_documents_sorted_nested_and_empty_stages_skipped() -> None:
    layout = [("dedup", (None,)), ("pii", (None,)), ("toxicity.probe", ("before", "after"))]
    lists = [
        [("z", {"n": 1}), ("a", {"n": 2})],
        [],
        [("representation", {"k": 1})],
        [],
    ]
    docs = dict(stats_documents(layout, lists))
    assert list(docs) == ["dedup", "toxicity.probe"]  # pii produced nothing: no file
    assert list(docs["dedup"]) == ["a", "z"]
    assert docs["toxicity.probe"] == {"after": {}, "before": {"representation": {"k": 1}}}
    assert list(docs["toxicity.probe"]) == ["after", "before"]


def test_writes_one_file_per_stage_with_stats(tmp_path: Path) -> None:
    with beam.Pipeline(options=fnapi_options()) as p:
        a = p | "A" >> beam.Create([("clusters", {"n": 3}), ("bands", {"b": 1})])
        none = p | "None" >> beam.Create([])
        before = p | "Before" >> beam.Create([("representation", {"docs": 2})])
        after = p | "After" >> beam.Create([])
        stats = {
            "dedup": [(None, a)],
            "pii": [(None, none)],
            "tox.probe": [("before", before), ("after", after)],
        }
        _ = p | WriteStats(str(tmp_path), stats)
    files = sorted(f.name for f in (tmp_path / "stats").iterdir())
    assert files == ["dedup.json", "tox.probe.json"]
    dedup = json.loads((tmp_path / "stats" / "dedup.json").read_text())
    assert dedup == {"bands": {"b": 1}, "clusters": {"n": 3}}
    probe = json.loads((tmp_path / "stats" / "tox.probe.json").read_text())
    assert probe == {"after": {}, "before": {"representation": {"docs": 2}}}


def test_a_stages_reject_parts_share_its_file_set(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    from curation.document import Document, Reject
    from curation.sinks import WriteRejects
    from curation.stage import parts

    def rej(i: int) -> Reject:
        doc = Document(id=f"d{i}", source_kind="code", source="s", text=f"t{i}")
        return Reject(doc=doc, stage="license", reason="license:policy")

    assert parts("x") == ("x",) and parts(("a", "b")) == ("a", "b")
    with beam.Pipeline(options=fnapi_options()) as p:
        a = p | "A" >> beam.Create([rej(0), rej(1)])
        b = p | "B" >> beam.Create([rej(2)])
        none = p | "N" >> beam.Create([])
        _ = {"license": (a, b), "read": none} | WriteRejects(str(tmp_path), prefix="part")
    license_files = sorted((tmp_path / "rejects").glob("part-license-*.parquet"))
    ids = sorted(i for f in license_files for i in pq.read_table(f).column("id").to_pylist())
    assert ids == ["d0", "d1", "d2"]
    read_files = list((tmp_path / "rejects").glob("part-read-*.parquet"))
    assert len(read_files) == 1 and pq.read_table(read_files[0]).num_rows == 0
