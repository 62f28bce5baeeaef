"""The report's per-language quality-rule table counts what the quality stage recorded."""

from __future__ import annotations

from curation.report.langrules import coverage, langrules_section
from curation.report.model import Table


def test_coverage_counts_modes_and_skipped_rules_per_language() -> None:
    signals = [
        {"quality.lang": "en", "quality.lang_rules": "calibrated"},
        {"quality.lang": "en", "quality.lang_rules": "calibrated"},
        {
            "quality.lang": "ar",
            "quality.lang_rules": "independent_only",
            "quality.skipped_rules": ["gopher.min_stop_words", "gopher.mean_word_length"],
        },
        {"read.lone_surrogates": 1},  # never reached the quality stage
    ]
    cov = coverage(signals)
    assert set(cov) == {"en", "ar"}
    assert cov["en"]["docs"] == 2 and dict(cov["en"]["modes"]) == {"calibrated": 2}
    assert dict(cov["ar"]["skipped"]) == {"gopher.min_stop_words": 1, "gopher.mean_word_length": 1}
    sec = langrules_section(signals)
    assert sec is not None
    (table,) = [b for b in sec.blocks if isinstance(b, Table)]
    assert table.rows[0][:3] == ("en", "2", "calibrated 2")
    assert table.rows[1][0] == "ar" and "gopher.min_stop_words (1)" in table.rows[1][3]


def test_no_section_without_the_quality_stage() -> None:
    assert langrules_section([{"dedup.cluster_size": 1}]) is None
