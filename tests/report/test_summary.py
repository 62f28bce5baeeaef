"""build_report writes the three files, and summary.json agrees with stages.json number for number."""

from __future__ import annotations

import json
import math
import sys
import types
from pathlib import Path

import pytest

from curation.report import build_report, rejects
from curation.report.cli import main
from tests.report.conftest import make_fixture_run

FIELDS = (
    "docs_in",
    "docs_kept",
    "docs_rejected",
    "tokens_in",
    "tokens_out",
    "tokens_rejected",
    "bytes_in",
    "bytes_out",
    "bytes_rejected",
)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    run_dir = make_fixture_run(tmp_path_factory.mktemp("built") / "run")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(rejects, "get_scrubber", lambda: rejects.fallback_scrub)
        paths = build_report(run_dir, target_params=7e9)
    assert set(paths) == {"html", "markdown", "summary"}
    assert all(p.is_file() and p.parent == run_dir / "report" for p in paths.values())
    return run_dir, json.loads(paths["summary"].read_text())


def test_summary_numbers_equal_stages_json(built: tuple[Path, dict]) -> None:
    run_dir, summary = built
    stages = json.loads((run_dir / "report" / "stages.json").read_text())["stages"]
    assert [s["stage"] for s in summary["funnel"]] == [s["stage"] for s in stages]
    for got, want in zip(summary["funnel"], stages, strict=True):
        for f in FIELDS:
            assert got[f] == want["total"][f], (want["stage"], f)
        assert got["rejected_by_reason"] == want["total"]["rejected_by_reason"]
        for kind, counts in want["by_source_kind"].items():
            assert {f: got["by_source_kind"][kind][f] for f in FIELDS} == {f: counts[f] for f in FIELDS}
    write = stages[-1]
    assert summary["final"]["tokens"] == write["total"]["tokens_out"] == 60 + 200 + 55
    assert summary["final"]["docs"] == write["total"]["docs_kept"] == 4
    assert summary["final"]["tokens_by_source_kind"] == {
        k: v["tokens_out"] for k, v in write["by_source_kind"].items()
    }
    assert summary["input"]["tokens"] == stages[0]["total"]["tokens_in"]
    assert sum(summary["final"]["share_by_source_kind"].values()) == pytest.approx(1.0)
    by_lang = {(r["source_kind"], r["lang"]): r["tokens"] for r in summary["final"]["by_source_kind_lang"]}
    assert by_lang == {("book", "de"): 120, ("book", "en"): 80, ("code", "en"): 55, ("web", "en"): 60}
    # Scaling figures are computed from the final token count.
    assert summary["scaling"]["corpus"]["unique_tokens"] == summary["final"]["tokens"]
    # 7e9 parameters: Table 3 log-log interpolation (1e9 -> 20.2e9, 1e10 -> 205.1e9 tokens)
    target = summary["scaling"]["target"]
    assert target["readings"]["table3"]["tokens_needed"]["value"] == pytest.approx(
        20.2e9 * 7 ** (math.log(205.1 / 20.2) / math.log(10)), rel=1e-9
    )
    assert target["tokens_needed"]["source"].startswith("Hoffmann et al. 2022, Approach 3")


def test_removed_reasons_tokens_and_scrubbed_examples(built: tuple[Path, dict]) -> None:
    run_dir, summary = built
    rows = {(r["stage"], r["reason"]): r for r in summary["removed"]}
    assert rows[("quality", "quality:gopher.min_words")]["docs"] == 4
    assert rows[("quality", "quality:gopher.min_words")]["tokens"] == 10 + 35 + 45 + 9
    assert rows[("dedup", "duplicate")]["docs"] == 1  # duplicate_of:<id> is grouped
    examples = rows[("quality", "quality:gopher.min_words")]["examples"]
    assert [e["id"] for e in examples] == ["a00", "a01", "a02"]  # 3 per reason, smallest ids
    assert [e["id"] for e in rows[("quality", "quality:gopher.symbol_ratio")]["examples"]] == ["a10"]
    for path in (run_dir / "report").glob("*.*"):
        text = path.read_text(encoding="utf-8", errors="replace")
        assert "john.doe@example.com" not in text and "555 0100" not in text, path
    assert "<EMAIL>" in examples[0]["snippet"] and "call" in examples[0]["snippet"]


def test_overlap_of_quality_rules(built: tuple[Path, dict]) -> None:
    _, summary = built
    ov = summary["overlap"]["quality"]
    assert ov["rules"] == ["quality:gopher.min_words", "quality:gopher.symbol_ratio"]
    assert ov["matrix"] == [[4, 1], [1, 2]]
    assert ov["alone"]["quality:gopher.min_words"] == {"docs": 3, "tokens": 10 + 35 + 45}
    assert ov["alone"]["quality:gopher.symbol_ratio"] == {"docs": 1, "tokens": 52}
    assert ov["rejects_with_several_reasons"] == 1
    assert "dedup" not in summary["overlap"]  # single-reason stage


def test_stats_sections_and_markdown(built: tuple[Path, dict]) -> None:
    run_dir, summary = built
    assert summary["stats_sections"] == ["dedup", "license", "toxicity"]  # broken pii.json dropped
    md = (run_dir / "report" / "report.md").read_text()
    for title in (
        "## Token funnel",
        "## Why documents were removed",
        "## Filter overlap",
        "## Deduplication",
        "## Licenses",
        "## Toxicity and bias",
        "## Data-scaling analysis",
    ):
        assert title in md
    assert "## PII" not in md and "## What-if" not in md
    for ref in [line.split("](")[1].rstrip(")") for line in md.splitlines() if line.startswith("![")]:
        assert (run_dir / "report" / ref).is_file()


def test_cli_writes_report_and_reports_problems(
    run_dir: Path, tmp_path: Path, fast_scrub: None, fake_quality: None, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "elsewhere"
    assert main([str(run_dir), "--out", str(out), "--what-if", "quality.gopher.min_words=30"]) == 0
    assert (out / "report.html").is_file() and "summary" in capsys.readouterr().out
    assert main([str(run_dir), "--out", str(out), "--what-if", "quality.gopher.nope=1"]) == 1
    assert "unknown key" in capsys.readouterr().err
    assert main([str(tmp_path / "missing")]) == 2


def test_pii_stage_scrubber_is_preferred(monkeypatch: pytest.MonkeyPatch) -> None:
    """get_scrubber uses curation.stages.pii.scrub_snippet when importable, else the local fallback."""
    fake = types.ModuleType("curation.stages.pii")
    fake.scrub_snippet = lambda text: "SCRUBBED"  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "curation.stages.pii", fake)
    assert rejects.get_scrubber()("x") == "SCRUBBED"
    monkeypatch.setitem(sys.modules, "curation.stages.pii", types.ModuleType("curation.stages.pii"))
    assert rejects.get_scrubber() is rejects.fallback_scrub


def test_minimal_run_dir_with_only_stages_json(tmp_path: Path, fast_scrub: None) -> None:
    """Only stages.json (no data, rejects, run.json, stats): the report still builds."""
    (tmp_path / "report").mkdir()
    empty = {
        "docs_in": 0,
        "docs_kept": 0,
        "docs_rejected": 0,
        "rejected_by_reason": {},
        "tokens_in": 0,
        "tokens_out": 0,
        "tokens_rejected": 0,
        "bytes_in": 0,
        "bytes_out": 0,
        "bytes_rejected": 0,
    }
    stages = [
        {"stage": s, "total": empty, "by_source_kind": {}, "by_source_kind_lang": [], "invariant_ok": True}
        for s in ("read", "write")
    ]
    (tmp_path / "report" / "stages.json").write_text(
        json.dumps({"tokenizer": "whitespace", "stages": stages})
    )
    paths = build_report(tmp_path, target_params=1e9)
    summary = json.loads(paths["summary"].read_text())
    assert summary["final"]["tokens"] == 0 and summary["removed"] == [] and summary["overlap"] == {}
    assert "target" in summary["scaling"] and summary["scaling"]["corpus"]["unique_tokens"] == 0
    assert "The output is empty" in paths["markdown"].read_text()


def test_filter_costs_from_stored_counts() -> None:
    from curation.report.scaling_section import removed_items, scaling_summary

    stages = [
        {"stage": "read", "tokens_in": 1000, "tokens_out": 1000},
        {"stage": "quality", "tokens_in": 1000, "tokens_out": 600},
        {"stage": "dedup", "tokens_in": 600, "tokens_out": 500},
        {"stage": "pii", "tokens_in": 500, "tokens_out": 250},
        {"stage": "write", "tokens_in": 250, "tokens_out": 250},
    ]
    removed = [
        {"stage": "quality", "reason": "quality:a", "tokens": 300},
        {"stage": "quality", "reason": "quality:b", "tokens": 100},
        {"stage": "dedup", "reason": "duplicate", "tokens": 100},
    ]
    overlap = {
        "quality": {
            "rules": ["quality:a", "quality:b"],
            "alone": {"quality:a": {"docs": 2, "tokens": 200}, "quality:b": {"docs": 0, "tokens": 0}},
        }
    }
    items = {(i["stage"], i["reason"]): i for i in removed_items(stages, removed, overlap)}
    keep = (500 / 600) * (250 / 500)  # share of quality's output tokens that dedup and pii keep
    assert items[("quality", "(whole stage)")]["tokens"] == pytest.approx(400 * keep)
    assert items[("quality", "quality:a")]["tokens"] == pytest.approx(200 * keep)
    assert ("quality", "quality:b") not in items  # never removed anything alone
    assert items[("dedup", "duplicate")]["unique"] is False
    fc = scaling_summary(250, 1e9, stages, removed, overlap)["filter_costs"]
    by = {(r["stage"], r["reason"]): r for r in fc["filters"]}
    assert (
        by[("quality", "(whole stage)")]["loss_delta"]["value"]
        > by[("quality", "quality:a")]["loss_delta"]["value"]
        > 0
    )
    assert by[("dedup", "duplicate")]["loss_delta"]["value"] == 0.0
    assert fc["params"] == 1e9
