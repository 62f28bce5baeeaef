"""The HTML report is one well-formed, self-contained page; in headless Chromium it logs no console error.

The Chromium check runs only where /usr/bin/chromium exists (see docs/report.md for the manual command);
the html.parser checks always run.
"""

from __future__ import annotations

import base64
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from curation.report import build_report, rejects
from tests.report.conftest import make_fixture_run

VOID = {"meta", "img", "br", "hr", "link", "input", "col", "source", "wbr"}
CHROMIUM = Path("/usr/bin/chromium")


class _Checker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.urls: list[tuple[str, str]] = []
        self.ids: set[str] = set()
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        a = dict(attrs)
        if a.get("id"):
            if a["id"] in self.ids:
                self.errors.append(f"duplicate id {a['id']}")
            self.ids.add(a["id"] or "")
        for name in ("src", "href"):
            if a.get(name) is not None:
                self.urls.append((name, a[name] or ""))
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes <{self.stack[-1] if self.stack else None}>")
            return
        self.stack.pop()


@pytest.fixture(scope="module")
def report_html(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run_dir = make_fixture_run(tmp_path_factory.mktemp("html") / "run")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(rejects, "get_scrubber", lambda: rejects.fallback_scrub)
        # an unsupported what-if request and odd characters must not break the page
        return build_report(run_dir, what_if=["dedup.x=<b>1</b>"], target_params=1e9)["html"]


def test_html_is_well_formed_and_self_contained(report_html: Path) -> None:
    text = report_html.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    checker = _Checker()
    checker.feed(text)
    checker.close()
    assert checker.errors == [] and checker.stack == []
    assert "script" not in checker.tags and "link" not in checker.tags
    assert not re.search(
        r"(?i)(https?:)?//[a-z0-9.-]+\.[a-z]{2,}/", text.replace("arXiv:", "")
    )  # nothing to fetch
    for _name, url in checker.urls:
        if url.startswith("#"):
            assert url[1:] in checker.ids, url  # only in-page links (navigation, SVG <use>)
        else:  # raster parts of charts (heatmaps) are embedded PNGs
            assert url.startswith("data:image/png;base64,"), url[:40]
            assert base64.b64decode(url.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    assert {"funnel", "removed", "overlap", "what-if", "stage-dedup", "scaling"} <= checker.ids
    assert "&lt;b&gt;1&lt;/b&gt;" in text  # user text is escaped
    assert checker.tags.count("svg") >= 5  # charts are inline SVG with real text elements
    assert "<text" in text and "<?xml" not in text and "<metadata>" not in text


@pytest.mark.skipif(not CHROMIUM.exists(), reason="headless Chromium not installed (see docs/report.md)")
def test_chromium_renders_without_console_errors(report_html: Path, tmp_path: Path) -> None:
    # A copy with a probe script that reports broken images to the console (the report has no script).
    probe = tmp_path / "probe.html"
    probe.write_text(
        report_html.read_text(encoding="utf-8").replace(
            "</body>",
            "<script>window.addEventListener('load',()=>{let bad=0;for(const i of document.images)"
            "{if(!i.naturalWidth){bad++;console.error('broken image '+i.alt)}}"
            "console.log('REPORT_IMAGES '+document.images.length+' BROKEN '+bad)})</script></body>",
        ),
        encoding="utf-8",
    )
    for page, expect_probe in ((report_html, False), (probe, True)):
        proc = subprocess.run(
            [
                str(CHROMIUM),
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                f"--user-data-dir={tmp_path / 'profile'}",
                "--enable-logging=stderr",
                "--log-level=0",
                "--virtual-time-budget=5000",
                "--dump-dom",
                page.as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert proc.returncode == 0, proc.stderr[-2000:]
        console = [line for line in proc.stderr.splitlines() if ":CONSOLE" in line]
        assert "Data-scaling analysis" in proc.stdout
        if expect_probe:
            assert len(console) == 1 and "BROKEN 0" in console[0], console
        else:
            assert console == [], console
    shutil.rmtree(tmp_path / "profile", ignore_errors=True)
