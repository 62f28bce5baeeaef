"""The prose view of a page: the lines that are running text, without code, tables, link lists and labels.

Technical documentation mixes prose with code blocks, option tables, API headings and lists. The
published web rules were written for the prose of web pages: C4 (Raffel et al. 2020; TFDS ``c4_utils``)
checks its curly-bracket and sentence rules only on the lines that survive its line filter (>= 5 words,
terminal punctuation), i.e. on the prose of the page. We generalise that: rule sets with
``scope: prose`` score the prose view, so a page is judged by the quality of its running text and a code
block or an options table neither fails the prose rules (curly brackets, stop words, alphabetic words,
punctuation) nor counts as repetition. A page whose prose view is too small still fails
``gopher.min_words``, so link lists, menus, symbol soup and code dumps with a line of prose are dropped.

A line is *not* prose when it is

* code-like: a prompt (``$ ``, ``>>> ``, ``# `` followed by a command), or >= ``code_symbol_ratio`` of its
  characters are code symbols (``{}[]();=<>\\|$_`` ...);
* table-like: two or more tab or `` | `` cell separators, or a ``Field: value`` line (a capitalised key
  of at most three words, as in definition lists and metadata blocks: "Context: server config");
* link-like: URLs are >= 30 % of its characters;
* a label: fewer than ``min_words`` words (headings, list items, buttons; words per
  :func:`~curation.stages.quality.segment.tokenize`, so a CJK line needs as many characters).

Counts of each kind are signals (``quality.view.*``), so the report can show why a page had little prose.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from curation.stages.quality.segment import has_unspaced, tokenize

_CODE_CHARS = re.compile(r"[{}\[\]();=<>\\|$_^~`@#*&%+/]")
_PROMPT_RE = re.compile(r"^(?:\$|>>>|\.\.\.|%|#)\s+\S")
_URL_RE = re.compile(r"(?:https?://|www\.)\S+")
# "Field: value" lines of definition lists and metadata blocks (a capitalised key of <= 3 words).
_FIELD_RE = re.compile(r"^[A-Z][\w-]*(?: [\w-]+){0,2}:\s")
# "\n{3,}" spelt with a literal prefix: the engine then searches for it like str.find (~10x faster).
_MULTI_BLANK_RE = re.compile(r"\n\n\n+")


@dataclass(frozen=True)
class ProseView:
    """The prose lines of a text (paragraph breaks kept) and how many lines of each other kind it had."""

    text: str
    lines: int
    prose_lines: int
    code_lines: int
    table_lines: int
    link_lines: int
    label_lines: int


def line_kind(line: str, min_words: int = 5, code_symbol_ratio: float = 0.08) -> str:
    """``prose`` | ``code`` | ``table`` | ``link`` | ``label`` for one stripped, non-empty line."""
    return _kind(line, len(_CODE_CHARS.findall(line)), True, True, True, min_words, code_symbol_ratio)


def _kind(
    line: str,
    code_chars: int,
    cells: bool,
    urls: bool,
    unspaced: bool,
    min_words: int,
    code_symbol_ratio: float,
) -> str:
    """:func:`line_kind` of ``line`` given its number of ``_CODE_CHARS`` characters. ``cells`` / ``urls`` /
    ``unspaced``: whether the text of the line can hold a tab or `` | `` / ``http`` or ``www.`` / a
    character of an unspaced script (False: those per-line tests are known negative and skipped)."""
    n = len(line)
    first = line[0]  # cheap first-character tests before the anchored regexes (same results)
    if first in "$>.%#" and _PROMPT_RE.match(line):
        return "code"
    if (cells and line.count("\t") + line.count(" | ") >= 2) or (
        "A" <= first <= "Z" and ":" in line and _FIELD_RE.match(line)
    ):
        return "table"
    if urls and ("http" in line or "www." in line):
        url_chars = sum(len(m) for m in _URL_RE.findall(line))
        if url_chars * 10 >= n * 3:
            return "link"
    if code_chars >= code_symbol_ratio * n:
        return "code"
    words = line.split(None, min_words) if not unspaced or line.isascii() else tokenize(line)
    if len(words) < min_words:
        return "label"
    return "prose"


# _CODE_CHARS' characters are ASCII, and a UTF-8 multi-byte sequence holds no ASCII byte: deleting every
# other byte but the newline from a text's UTF-8 form leaves, line by line, its code characters.
_NOT_CODE_BYTES = bytes(b for b in range(256) if b != 0x0A and not _CODE_CHARS.match(chr(b)))


def code_char_counts(text: str) -> list[int]:
    """``len(_CODE_CHARS.findall(line))`` for each line of ``text.split("\n")``, in two C-level passes
    (one ``bytes.translate``, one split) instead of a regex call per line."""
    data = text.encode("ascii") if text.isascii() else text.encode("utf-8", "surrogatepass")
    return list(map(len, data.translate(None, _NOT_CODE_BYTES).split(b"\n")))


def prose_view(text: str, min_words: int = 5, code_symbol_ratio: float = 0.08) -> ProseView:
    """Keep the prose lines of ``text`` (one linear pass).

    Whole-text facts first (C-level): each line's code characters (:func:`code_char_counts`), and
    whether the text has a tab or `` | ``, ``http`` or ``www.``, a character of an unspaced script at
    all; the per-line tests those make known negative are skipped (the same kinds as :func:`line_kind`).
    """
    counts = {"prose": 0, "code": 0, "table": 0, "link": 0, "label": 0}
    out: list[str] = []
    cells = "\t" in text or " | " in text
    urls = "http" in text or "www." in text
    unspaced = has_unspaced(text)
    for raw, code_chars in zip(text.split("\n"), code_char_counts(text), strict=True):
        line = raw.strip()
        if not line:
            out.append("")
            continue
        kind = _kind(line, code_chars, cells, urls, unspaced, min_words, code_symbol_ratio)
        counts[kind] += 1
        if kind == "prose":
            out.append(line)
        elif out and out[-1]:
            out.append("")  # a removed block separates the prose around it into paragraphs
    kept = _MULTI_BLANK_RE.sub("\n\n", "\n".join(out)).strip("\n")
    return ProseView(
        text=kept,
        lines=sum(counts.values()),
        prose_lines=counts["prose"],
        code_lines=counts["code"],
        table_lines=counts["table"],
        link_lines=counts["link"],
        label_lines=counts["label"],
    )
