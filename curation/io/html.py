"""HTML -> main-content text with trafilatura (Barbaresi 2021, ACL demo "Trafilatura: A Web Scraping
Library and Command-Line Tool for Text Discovery and Extraction").

Settings are fixed for determinism: no cross-document deduplication (trafilatura's LRU cache would make
the output depend on which pages a worker saw before), no signal-based timeout (it breaks off the main
thread and depends on machine speed), no metadata or comments. ``fast`` + ``favor_recall`` were the best
measured trade-off on the dev corpus (see docs/readers.md and benchmarks/html_extraction.py).
"""

from __future__ import annotations

import functools
import re
from configparser import ConfigParser

_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9_.:-]+)", re.IGNORECASE)


@functools.lru_cache(maxsize=1)
def _config() -> ConfigParser:
    from trafilatura.settings import use_config

    cfg = use_config()
    cfg.set("DEFAULT", "EXTRACTION_TIMEOUT", "0")
    return cfg


def extract_main_text(
    html: str,
    url: str | None = None,
    *,
    fast: bool = True,
    favor_recall: bool = True,
    include_tables: bool = True,
) -> str | None:
    """Main-content text of a page, or ``None`` when the extractor finds nothing (or fails)."""
    import trafilatura

    try:
        text = trafilatura.extract(
            html,
            url=url,
            fast=fast,
            favor_recall=favor_recall,
            include_comments=False,
            include_tables=include_tables,
            include_images=False,
            include_links=False,
            deduplicate=False,
            with_metadata=False,
            output_format="txt",
            config=_config(),
        )
    except Exception:  # lxml / extractor failures on odd markup are data errors, not crashes
        return None
    return text or None


def decode_html(body: bytes, content_type: str | None = None) -> str:
    """Decode an HTML payload: the HTTP charset if declared and valid, else UTF-8, else detection."""
    if content_type:
        m = _CHARSET.search(content_type)
        if m:
            try:
                return body.decode(m.group(1))
            except (LookupError, UnicodeDecodeError):
                pass
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        from trafilatura.utils import decode_file

        return decode_file(body)


def is_html_type(content_type: str | None) -> bool:
    """text/html and application/xhtml+xml."""
    return "html" in (content_type or "").lower()


def looks_like_html(body: bytes) -> bool:
    head = body[:1024].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html", b"<?xml")) or b"<html" in head
