"""The two HTML extractors (reader option ``html_extractor``): main text kept, boilerplate dropped,
failures as ``None``, the option validated at build time, and the web reader using the chosen one."""

from __future__ import annotations

import json

import pytest

from curation.config import Limits
from curation.document import Document, Reject
from curation.io.html import EXTRACTORS, decode_html, extract_main_text
from curation.io.options import parse_options
from curation.rules import ConfigError

ARTICLE = " ".join(
    f"Sentence number {i} of the article explains how the river shaped the valley over many years."
    for i in range(30)
)
PAGE = f"""<!doctype html><html><head><title>T</title><style>.x{{color:red}}</style>
<script>var tracking = "script text must not appear";</script></head><body>
<nav><ul><li><a href="/">Home</a></li><li><a href="/about">About us</a></li></ul></nav>
<main><article><h1>The river valley</h1><p>{ARTICLE}</p>
<p>A second paragraph closes the article with one more sentence about the valley.</p></article></main>
<footer>Copyright 2024 Example Site. All rights reserved.</footer></body></html>"""


@pytest.mark.parametrize("extractor", EXTRACTORS)
def test_main_text_kept_and_script_dropped(extractor: str) -> None:
    text = extract_main_text(PAGE, "https://example.org/a", extractor=extractor)  # type: ignore[arg-type]
    assert text is not None
    assert "Sentence number 29 of the article" in text
    assert "second paragraph closes the article" in text
    assert "script text must not appear" not in text
    assert "color:red" not in text


def test_resiliparse_drops_navigation_and_footer() -> None:
    text = extract_main_text(PAGE, extractor="resiliparse")
    assert text is not None
    assert "About us" not in text
    assert "All rights reserved" not in text
    assert "\n\n\n" not in text


@pytest.mark.parametrize("extractor", EXTRACTORS)
def test_empty_page_is_none(extractor: str) -> None:
    assert extract_main_text("<html><body></body></html>", extractor=extractor) is None  # type: ignore[arg-type]


def test_unknown_extractor_raises() -> None:
    with pytest.raises(ValueError, match="allowed: resiliparse, trafilatura"):
        extract_main_text(PAGE, extractor="boilerpipe")  # type: ignore[arg-type]


def test_option_validated_at_build_time() -> None:
    assert parse_options(None, file="p.yaml", key="sources[0].options").html_extractor == "resiliparse"
    opts = parse_options({"html_extractor": "trafilatura"}, file="p.yaml", key="sources[0].options")
    assert opts.html_extractor == "trafilatura"
    with pytest.raises(ConfigError, match="html_extractor"):
        parse_options({"html_extractor": "boilerpipe"}, file="p.yaml", key="sources[0].options")


def test_decode_detects_legacy_encoding() -> None:
    body = '<html><head><meta charset="windows-1251"></head><body>Привет, мир</body></html>'.encode("cp1251")
    assert "Привет, мир" in decode_html(body)
    assert decode_html("Café".encode("latin-1"), "text/html; charset=latin-1") == "Café"


@pytest.mark.parametrize("extractor", EXTRACTORS)
def test_web_reader_uses_the_chosen_extractor(tmp_path, extractor: str) -> None:
    from curation.io import read_shard
    from curation.io.common import Shard

    path = tmp_path / "pages.jsonl"
    path.write_text(
        json.dumps({"url": "https://example.org/a", "html": PAGE})
        + "\n"
        + json.dumps({"url": "https://example.org/b", "html": "<html><body></body></html>"})
        + "\n"
    )
    shard = Shard(
        source="s", kind="web", path=str(path), format="jsonl", license=None, rel="pages.jsonl",
        options={"html_extractor": extractor},
    )
    out = list(read_shard(shard, Limits()))
    assert isinstance(out[0], Document) and "Sentence number 29" in out[0].text
    assert isinstance(out[1], Reject) and out[1].reason == "html_extraction_failed"
    assert extractor in (out[1].error or "")
