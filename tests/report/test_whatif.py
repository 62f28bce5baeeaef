"""What-if: overrides parse and type-check; decisions are recomputed from stored signals on a fixture run."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from curation.report.load import iter_kept, iter_rejected, load_run
from curation.report.whatif import (
    WhatIfError,
    apply_override,
    build_scenarios,
    evaluate,
    parse_override,
    parse_rules_file_arg,
)
from curation.report.whatif_report import whatif_summary
from curation.stages.registry import STAGES, StageEntry
from tests.report.fake_stage import FakeQualityRules, GopherRules


def _whatif(run_dir: Path, overrides: list[str], files: list[str] | None = None) -> dict:
    run = load_run(run_dir)
    scenarios, problems = build_scenarios(run, overrides, files or [])
    res = evaluate(run, scenarios, itertools.chain(iter_kept(run), iter_rejected(run))) if scenarios else None
    return whatif_summary(run, res, scenarios, problems)


def test_parse_override() -> None:
    ov = parse_override("quality.gopher.min_words=30")
    assert (ov.stage, ov.path, ov.raw) == ("quality", ("gopher", "min_words"), 30)
    assert parse_override("toxicity.max_score= 0.5").raw == 0.5
    assert parse_override("quality.apply.web=[gopher, c4]").raw == ["gopher", "c4"]
    for bad in ("quality.gopher.min_words", "quality=3", "q.k=[unclosed"):
        with pytest.raises(WhatIfError):
            parse_override(bad)


def test_apply_override_nested_typed_and_frozen() -> None:
    rules = FakeQualityRules(min_words_by_kind={"code": 5})
    new = apply_override(rules, ("gopher", "min_words"), 30)
    assert new.gopher.min_words == 30 and rules.gopher.min_words == 50  # original untouched
    assert apply_override(rules, ("gopher", "max_symbol_ratio"), 1).gopher.max_symbol_ratio == 1
    assert apply_override(rules, ("min_words_by_kind", "code"), 9).min_words_by_kind == {"code": 9}
    with pytest.raises(WhatIfError, match="allowed keys: min_words, max_words, max_symbol_ratio"):
        apply_override(rules, ("gopher", "min_wrds"), 30)
    with pytest.raises(WhatIfError, match="expected an integer"):
        apply_override(rules, ("gopher", "min_words"), "many")
    with pytest.raises(WhatIfError, match="min_words must be >= 0"):  # the dataclass's own validation runs
        apply_override(rules, ("gopher", "min_words"), -1)
    with pytest.raises(WhatIfError, match="not a section"):
        apply_override(GopherRules(), ("min_words", "x"), 1)


def test_lower_threshold_keeps_more(run_dir: Path, fake_quality: None) -> None:
    wi = _whatif(run_dir, ["quality.gopher.min_words=30"])
    assert wi["problems"] == []
    assert wi["baseline_agreement"]["quality"] == {"checked": 10, "agree": 10, "undecidable": 0}
    # a02 (35 words) and a05 (45) pass now; a01 (10) and a00 (5, also symbol ratio) still fail.
    assert wi["newly_kept"] == {"docs": {"web": 2}, "tokens": {"web": 35 + 45}}
    assert wi["newly_rejected"]["docs"] == {}
    q = next(f for f in wi["funnel"] if f["stage"] == "quality")
    assert (q["docs_in"], q["docs_rejected"], q["docs_rejected_delta"]) == (10, 3, -2)
    assert wi["reasons"]["quality"]["after"] == {
        "quality:gopher.min_words": 2,
        "quality:gopher.symbol_ratio": 1,
    }
    ft = wi["final_tokens"]
    assert ft["original"] == {"book": 200, "code": 55, "web": 60}
    assert ft["what_if_upper_bound"]["web"] == 60 + 80
    # estimate: web retention after quality in the run = 60 / 130 (dedup removed a06's 70 tokens)
    assert ft["what_if_estimate"]["web"] == pytest.approx(60 + 80 * 60 / 130)
    mix = {m["source_kind"]: m for m in wi["mix_change"]}
    assert mix["web"]["share_delta_points"] > 0 > mix["book"]["share_delta_points"]


def test_higher_threshold_rejects_more(run_dir: Path, fake_quality: None) -> None:
    wi = _whatif(run_dir, ["quality.gopher.min_words=65"])
    # a03 (web, 60) and a08 (code, 55) are kept in the run and now fail; a06 (70, dedup) still passes.
    assert wi["newly_rejected"] == {"docs": {"web": 1, "code": 1}, "tokens": {"web": 60, "code": 55}}
    assert wi["final_tokens"]["what_if_estimate"] == {"book": 200, "code": 0, "web": 0}
    write = next(f for f in wi["funnel"] if f["stage"] == "write")
    assert (write["docs_in"], write["tokens_out"]) == (2, 200)
    dedup = next(f for f in wi["funnel"] if f["stage"] == "dedup")
    assert dedup["docs_in"] == 3 and dedup["docs_rejected"] == 1


def test_per_kind_override_and_rules_file(run_dir: Path, tmp_path: Path, fake_quality: None) -> None:
    wi = _whatif(run_dir, ["quality.min_words_by_kind={code: 100}"])
    assert wi["problems"] == [] and wi["newly_rejected"]["docs"] == {"code": 1}
    rules = tmp_path / "strict.yaml"
    rules.write_text("gopher: {min_words: 1, max_symbol_ratio: 1.0}\n")
    wi = _whatif(run_dir, [], [f"quality={rules}"])
    assert wi["newly_kept"]["docs"] == {"web": 5}  # every quality reject comes back
    assert wi["requested"] == [f"quality rules from {rules}"]


def test_problems_are_reported_not_raised(run_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(STAGES, "quality", StageEntry("tests.report.fake_noprotocol"))
    monkeypatch.setitem(STAGES, "dedup", StageEntry("tests.report.does_not_exist"))
    wi = _whatif(run_dir, ["quality.gopher.min_words=30", "dedup.threshold=0.5", "langid.min_score=0.1"])
    text = " ".join(wi["problems"])
    assert "does not implement the what-if protocol (missing load_stage_rules, decide)" in text
    assert "cannot be imported" in text
    assert "did not run" in text
    assert "funnel" not in wi


def test_rules_file_stage_inference() -> None:
    assert parse_rules_file_arg("rules/quality/quality.yaml") == (
        "quality",
        Path("rules/quality/quality.yaml"),
    )
    assert parse_rules_file_arg("/x/toxicity.yaml")[0] == "toxicity"
    assert parse_rules_file_arg("pii=/x/mine.yaml") == ("pii", Path("/x/mine.yaml"))
    with pytest.raises(WhatIfError, match="STAGE="):
        parse_rules_file_arg("/x/mine.yaml")
