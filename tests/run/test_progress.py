"""Progress lines of a run in waves: per-wave document counts, per-stage counts, the estimate of a wave."""

from __future__ import annotations

import io

from curation.progress import Progress, stage_counts_line, wave_counts


def _stages(read: int, kept_after: list[tuple[str, int]]) -> dict:
    rows = [{"stage": "read", "total": {"docs_in": read, "docs_kept": read}}]
    rows += [{"stage": name, "total": {"docs_in": 0, "docs_kept": kept}} for name, kept in kept_after]
    return {"stages": rows}


def test_wave_counts_and_stage_line_come_from_the_wave_report() -> None:
    stages = _stages(100, [("quality", 80), ("dedup", 50)])
    assert wave_counts(stages) == (100, 50)
    assert stage_counts_line(stages) == "read 100 > quality 80 > dedup 50"
    assert wave_counts(None) == (0, 0) and wave_counts({"stages": []}) == (0, 0)
    assert stage_counts_line(None) == ""


def test_log_lines_give_each_wave_its_counts_and_the_next_wave_an_estimate() -> None:
    out = io.StringIO()
    progress = Progress(0, 0, 0, mode="log", interval=3600, stream=out)
    progress.plan(3000, 2, 4)
    progress.wave_started(0, 2, 1000)
    progress.wave_done(0, 1000, _stages(100, [("dedup", 60)]))
    progress.wave_started(1, 2, 2000)
    progress.wave_done(1, 2000, _stages(190, [("dedup", 120)]))
    progress.close()
    lines = out.getvalue().splitlines()
    assert lines[1] == "wave 1/2: 2 shards, 1.0 KB"  # nothing finished yet: no estimate
    assert "100 docs read, 60 kept" in lines[2] and "wave 1/2 done" in lines[2]
    assert lines[3] == "  wave 1 per stage (docs kept): read 100 > dedup 60"
    assert lines[4] == "wave 2/2: 2 shards, 2.0 KB, ~200 docs"  # 100 docs per KB so far
    # the wave's own counts, then the totals so far
    assert "190 docs read, 120 kept" in lines[5] and "total 290 docs read, 180 kept" in lines[5]


def test_quiet_progress_prints_nothing() -> None:
    out = io.StringIO()
    progress = Progress(0, 0, 0, mode="quiet", stream=out)
    progress.plan(10, 1, 1)
    progress.wave_started(0, 1, 10)
    progress.wave_done(0, 10, _stages(1, []))
    progress.close()
    assert out.getvalue() == ""
