"""In headless Chromium the report lays out with nothing overlapping or cut (real bounding boxes).

Runs where ``/usr/bin/chromium`` exists (CI installs Debian's ``chromium``) and skips with the reason
elsewhere. The page is the report of the fixture run with a target size, a what-if and the fixture's
stats files, so every kind of block (tables, wide tables, heatmap, waterfall, funnel, scaling chart)
is on it; it is checked at a desktop and a narrow window width. The probe itself is shown to fire on a
page with a deliberately overlapping block and a cut text.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from curation.report import build_report, rejects
from tests.report.browser import CHROMIUM, layout_report
from tests.report.conftest import make_fixture_run

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="headless Chromium not installed: apt-get install -y chromium"
)


@pytest.fixture(scope="module")
def report_html(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run_dir = make_fixture_run(tmp_path_factory.mktemp("browser") / "run")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(rejects, "get_scrubber", lambda: rejects.fallback_scrub)
        return build_report(run_dir, what_if=["quality.gopher.min_words=30"], target_params=7e9)["html"]


@pytest.mark.parametrize("width", [1280, 760])
def test_report_has_no_overlap_and_nothing_cut(report_html: Path, width: int) -> None:
    result = layout_report(report_html, width)
    assert result["problems"] == []
    assert result["counts"]["charts"] >= 4 and result["counts"]["chart_texts"] > 50
    assert result["counts"]["blocks"] > 20


def test_probe_fires_on_a_broken_layout(tmp_path: Path) -> None:
    page = tmp_path / "bad.html"
    page.write_text(
        "<!DOCTYPE html><html><head><style>main{max-width:500px}</style></head><body><main>"
        '<section id="s"><h2>Title</h2><p style="margin-top:-40px">overlapping paragraph</p>'
        '<p style="overflow:hidden;white-space:nowrap;width:80px">a text that is far too long for its box</p>'
        "</section></main></body></html>",
        encoding="utf-8",
    )
    problems = layout_report(page, 1000)["problems"]
    assert any(p.startswith("overlap:") for p in problems), problems
    assert any(p.startswith("text cut:") for p in problems), problems


def test_probe_fires_on_overlapping_and_cut_chart_text(tmp_path: Path) -> None:
    import matplotlib.pyplot as plt

    from curation.report import plots
    from curation.report.model import Figure, Section
    from curation.report.render import to_html

    fig, ax = plt.subplots(figsize=(4, 3))
    ax.plot([0, 1], [0, 1])
    ax.text(0.5, 0.5, "first label here", fontsize=10)
    ax.text(0.52, 0.5, "second label here", fontsize=10)  # on top of the first
    ax.text(0.5, 0.2, "t", fontsize=3)  # too small
    ch = plots.chart(fig)
    sec = Section("s", "S").add(Figure("bad", ch.png, "bad chart", svg=ch.svg))
    page = tmp_path / "chart.html"
    page.write_text(to_html("t", [], [sec]), encoding="utf-8")
    problems = layout_report(page, 1000)["problems"]
    assert any(p.startswith("chart texts overlap:") and "first label" in p for p in problems), problems
    assert any(p.startswith("chart text under 7 px:") for p in problems), problems
