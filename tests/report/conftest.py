"""Report test fixtures: a fixture run directory and a fake what-if stage registered as `quality`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from curation.report import rejects
from curation.stages.registry import STAGES, StageEntry
from tests.report.runfixture import FIXTURE_DOCS, make_run


@pytest.fixture
def fake_quality(monkeypatch: pytest.MonkeyPatch) -> None:
    """Register tests/report/fake_stage.py as the quality stage module."""
    monkeypatch.setitem(STAGES, "quality", StageEntry("tests.report.fake_stage"))


@pytest.fixture
def fast_scrub(monkeypatch: pytest.MonkeyPatch) -> None:
    """Use the local fallback scrubber (importing presidio takes seconds; one test uses the real one)."""
    monkeypatch.setattr(rejects, "get_scrubber", lambda: rejects.fallback_scrub)


def make_fixture_run(root: Path) -> Path:
    """The fixture run plus stats files of several shapes (and one broken file)."""
    make_run(root, FIXTURE_DOCS)
    stats = root / "report" / "stats"
    stats.mkdir()
    (stats / "dedup.json").write_text(
        json.dumps(
            {
                "clusters": {"count": 3, "largest": 4},
                "cluster_size_histogram": {"1": 10, "2": 3, "3": 1, "4+": 1},
                "by_kind": {"web": {"duplicates": 1, "tokens": 70}, "code": {"duplicates": 0, "tokens": 0}},
            }
        )
    )
    (stats / "license.json").write_text(
        json.dumps(
            {
                "tokens_by_spdx": [{"kind": "web", "spdx": "CC-BY-4.0", "tokens": 12}],
                "deep": {"a": {"b": [1, 2]}},
            }
        )
    )
    (stats / "toxicity.probe.json").write_text(
        json.dumps(
            {"before": {"identity": {"women": 0.1, "men": 0.2}}, "after": {"identity": {"women": 0.12}}}
        )
    )
    (stats / "pii.json").write_text("{not json")  # a broken stats file drops its section only
    return root


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    return make_fixture_run(tmp_path / "run")
