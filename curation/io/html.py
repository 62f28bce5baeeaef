"""HTML -> main-content text, with one of two extractors (reader option ``html_extractor``):

* ``resiliparse`` (default): Resiliparse's ``extract_plain_text(main_content=True)`` (Bevendorff et al.
  2018, "Elastic ChatNoir: Search Engine for the ClueWeb and the Common Crawl"; the extractor DCLM used
  for its web pool, Li et al. 2024, "DataComp-LM", sec. 3 and app. F). Written in C++ on the Lexbor
  parser: on the dev corpus's 250 pages it is ~14x cheaper per page than trafilatura at almost the same
  word overlap with the reference text (benchmarks/html_extraction.py, figures in docs/readers.md and
  BENCHMARKS.md). Departure from DCLM: image alt texts and comment sections are left out (trafilatura's
  settings here leave them out too, and neither is main text).
* ``trafilatura``: ``trafilatura.extract`` (Barbaresi 2021, ACL demo "Trafilatura: A Web Scraping Library
  and Command-Line Tool for Text Discovery and Extraction"; the extractor FineWeb used), slightly higher
  precision, much slower. Settings are fixed for determinism: no cross-document deduplication
  (trafilatura's LRU cache would make the output depend on which pages a worker saw before), no
  signal-based timeout (it breaks off the main thread and depends on machine speed), no metadata or
  comments; ``fast`` + ``favor_recall`` were the best measured trade-off on the dev corpus.

Both libraries are imported on first use in a worker, never at import of this module.
"""

from __future__ import annotations

import functools
import re
from configparser import ConfigParser
from typing import Literal

Extractor = Literal["resiliparse", "trafilatura"]
EXTRACTORS: tuple[str, ...] = ("resiliparse", "trafilatura")
DEFAULT_EXTRACTOR: Extractor = "resiliparse"

_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9_.:-]+)", re.IGNORECASE)
_BLANK_RUNS = re.compile(r"\n\n\n+")  # = \n{3,}; a literal prefix lets the engine skip ahead (~10x faster)


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
    extractor: Extractor = DEFAULT_EXTRACTOR,
    fast: bool = True,
    favor_recall: bool = True,
    include_tables: bool = True,
) -> str | None:
    """Main-content text of a page, or ``None`` when the extractor finds nothing (or fails).

    ``fast``, ``favor_recall`` and ``include_tables`` are trafilatura's settings (resiliparse keeps
    tables as text and has no such switches).
    """
    if extractor == "resiliparse":
        return _resiliparse(html)
    if extractor == "trafilatura":
        return _trafilatura(html, url, fast=fast, favor_recall=favor_recall, include_tables=include_tables)
    raise ValueError(f"unknown html extractor {extractor!r}; allowed: {', '.join(EXTRACTORS)}")


def _resiliparse(html: str) -> str | None:
    from resiliparse.extract.html2text import extract_plain_text
    from resiliparse.parse.html import HTMLTree

    try:
        text = extract_plain_text(
            HTMLTree.parse(html),
            main_content=True,
            alt_texts=False,
            comments=False,
            noscript=False,
            form_fields=False,
            links=False,
        )
    except Exception:  # parser failures on odd markup are data errors, not crashes
        return None
    if "\n\n\n" in text:  # substring search first: the regex scan costs ~5% of the extraction
        text = _BLANK_RUNS.sub("\n\n", text)
    text = text.strip()
    return text or None


def _trafilatura(
    html: str, url: str | None, *, fast: bool, favor_recall: bool, include_tables: bool
) -> str | None:
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
    """Decode an HTML payload: the HTTP charset if declared and valid, else UTF-8, else detection
    (Resiliparse's encoding detector: the page's meta charset, then byte statistics)."""
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
        from resiliparse.parse.encoding import bytes_to_str, detect_encoding

        return bytes_to_str(body, detect_encoding(body))


def is_html_type(content_type: str | None) -> bool:
    """text/html and application/xhtml+xml."""
    return "html" in (content_type or "").lower()


def looks_like_html(body: bytes) -> bool:
    head = body[:1024].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html", b"<?xml")) or b"<html" in head
