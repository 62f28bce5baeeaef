"""Pure parts of the report: snippet scrubbing, stats layout, cell formatting, rendering escapes."""

from __future__ import annotations

from curation.report.model import Figure, Heading, Para, Section, Table, fmt, human, table
from curation.report.rejects import fallback_scrub, make_snippet
from curation.report.render import to_html, to_markdown
from curation.report.stats import probe_blocks, records, render_value


def test_fallback_scrub_removes_contacts_and_numbers() -> None:
    text = "Mail jane_roe+x@mail.example.org, call (415) 555-0100 or +44 20 7946 0958; 192.168.0.12; 123456"
    out = fallback_scrub(text)
    for leaked in ("jane_roe", "555-0100", "7946", "192.168", "123456"):
        assert leaked not in out
    assert "<EMAIL>" in out and "<IP>" in out
    assert fallback_scrub("see https://user:secret@host.example/x") == "see <URL_WITH_CREDENTIALS>"
    assert fallback_scrub("in 2023 we had 42 cats") == "in 2023 we had 42 cats"  # short numbers stay


def test_make_snippet_flattens_scrubs_truncates() -> None:
    s = make_snippet("line one\n\n  line two " + "x" * 500 + " me@ex.com", fallback_scrub, limit=40)
    assert s.startswith("line one line two") and len(s) == 40 and s.endswith("…") and "\n" not in s

    def leaky(text: str) -> str:
        raise RuntimeError("scrubber broke")

    assert make_snippet("mail me@ex.com", leaky) == "mail <EMAIL>"  # falls back, never leaks
    assert make_snippet("", fallback_scrub) == ""


def test_records_group_nested_stats_into_tables() -> None:
    stats = {
        "total": 3,
        "web": {"by_category": {"permissive": {"docs": 1, "tokens": 9}, "unknown": {"docs": 2, "tokens": 4}}},
        "hist": {"1": 5, "2": 3, "3+": 1},
        "ids": ["a", "b"],
    }
    recs = records(stats)
    assert recs[0] == ((), {"total": 3, "ids": "a, b"})
    assert (("web", "by_category", "permissive"), {"docs": 1, "tokens": 9}) in recs
    blocks = render_value("license_tokens", stats, "stats_license")
    assert isinstance(blocks[0], Heading)
    tables = [b for b in blocks if isinstance(b, Table)]
    grouped = next(t for t in tables if t.columns == ("", "docs", "tokens"))
    assert grouped.rows == (
        ("web / by_category / permissive", "1", "9"),
        ("web / by_category / unknown", "2", "4"),
    )
    assert any(isinstance(b, Figure) for b in blocks)  # the histogram-like record is charted
    assert render_value("n", 7, "p")[1].rows == (("value", "7"),)


def test_probe_compares_before_and_after() -> None:
    blocks = probe_blocks(
        "toxicity", {"before": {"share": {"a": 0.5, "b": 0.5}}, "after": {"share": {"a": 0.25}}}
    )
    t = blocks[-1]
    assert t.rows == (("share.a", "0.5", "0.25", "-0.25"), ("share.b", "0.5", "", ""))


def test_formatting() -> None:
    assert fmt(1234567) == "1,234,567" and fmt(0.12345) == "0.1235" and fmt(True) == "yes" and fmt(None) == ""
    assert (
        fmt(2.5e9) == "2,500,000,000"
        and fmt(2.5e-5) == "2.5e-05"
        and human(2.5e9) == "2.5B"
        and human(70e9) == "70B"
        and human(12) == "12"
    )
    t = table(["a", "b", "c"], [["x", 1, True], ["y", 2.5, False]])
    assert t.numeric == (False, True, False)


def test_renderers_escape_text() -> None:
    sec = Section("s", "T <1>").add(Para("a <script>x</script> | b"), table(["k|", "v"], [["<i>", 1]]))
    html = to_html("R & D", ["m"], [sec])
    assert "<script>" not in html and "&lt;script&gt;" in html and "R &amp; D" in html
    md = to_markdown("R", [], [sec], "figures")
    assert "| k\\| | v |" in md and "## T <1>" in md
