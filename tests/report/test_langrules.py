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


def test_read_skipped_sums_undelimited_bytes_and_the_report_warns() -> None:
    from curation.report.model import Para
    from curation.report.rejects import read_skipped, removed_section

    skipped = read_skipped([{"read.skipped_bytes": 120}, {}, {"read.skipped_bytes": 30}])
    assert skipped == {"rejects": 2, "bytes": 150}
    summary = {"removed": [], "read_skipped": skipped}
    sec = removed_section(summary, {"read": {"malformed_warc": 2}})
    assert any(isinstance(b, Para) and "150 bytes" in b.text for b in sec.blocks)
    quiet = removed_section({"removed": [], "read_skipped": read_skipped([{}])}, {"read": {"empty": 1}})
    assert not any(isinstance(b, Para) and "bytes of input" in b.text for b in quiet.blocks)
