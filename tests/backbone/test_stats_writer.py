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
