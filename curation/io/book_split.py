"""Deterministic splitting of long books into chapter-sized parts.

1. Chapter headings (``CHAPTER I``, ``Chapter 12. Loomings``, ``BOOK II``, ``ACT III``, ``STAVE ONE`` ...
   on a line of their own after a blank line) cut the book into chapters; front matter and chapters
   shorter than ``min_chars`` are merged into the following chapter (the last one into the previous).
2. Without at least two headings the whole book is one segment.
3. Segments longer than ``max_chars`` are cut into ``ceil(len / max_chars)`` near-equal pieces at
   paragraph boundaries (blank lines), else line ends, else at the target offset.

Parts are exact slices: ``"".join(parts) == text`` (nothing is lost or duplicated). Only ``re`` and
``str.rfind`` run over the text, so a 20 MB book splits in linear time.
"""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass

_KEYWORD = r"(?i:chapter|book|part|act|stave|canto|letter|volume)"
_NUMBER = (
    r"(?:[0-9]{1,4}|[IVXLCDM]{1,8}|(?i:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve"
    r"|the[ \t]+\w+))"
)
# A heading line: keyword + number, an optional short title, then a blank line.
HEADING = re.compile(
    r"(?m)^[ \t]*(" + _KEYWORD + r"[ \t]+" + _NUMBER + r"(?:[.:,\u2014 \t-][^\n]{0,80})?)"
    r"[ \t]*\r?\n[ \t]*\r?$"
)


@dataclass(frozen=True)
class Part:
    text: str
    heading: str | None  # the chapter heading the part starts with, if any


def _heading_starts(text: str) -> list[int]:
    """Offsets of heading lines that follow a blank line (or start the text)."""
    starts = []
    for m in HEADING.finditer(text):
        pos = m.start()
        if pos == 0 or text[max(0, pos - 4) : pos].replace("\r", "").endswith("\n\n"):
            starts.append(pos)
    return starts


def _merge_short(bounds: list[int], n: int, min_chars: int) -> list[int]:
    """Drop cut points so that no segment is shorter than ``min_chars`` (except a lone one)."""
    out = [bounds[0]]
    for b in bounds[1:]:
        if b - out[-1] >= min_chars:
            out.append(b)
    if len(out) > 1 and n - out[-1] < min_chars:
        out.pop()
    return out


def _pack(text: str, start: int, end: int, max_chars: int) -> list[int]:
    """Cut points inside ``[start, end)`` giving near-equal pieces of at most ``max_chars``."""
    cuts = []
    pos = start
    while end - pos > max_chars:
        pieces = math.ceil((end - pos) / max_chars)
        target = pos + (end - pos) // pieces
        lo = pos + max(1, (target - pos) // 2)
        hi = pos + max_chars
        cut = -1
        for sep in ("\n\n", "\n"):
            cut = text.rfind(sep, lo, target)
            if cut < 0:
                cut = text.find(sep, target, hi)
            if cut >= 0:
                cut += len(sep)
                break
        if cut < 0 or cut <= pos or cut > hi:
            cut = target
        cuts.append(cut)
        pos = cut
    return cuts


def split_book(text: str, max_chars: int, min_chars: int = 2000) -> list[Part]:
    """Split ``text`` into chapter-sized parts (see module docstring); short books are one part."""
    if max_chars < 1:
        raise ValueError(f"max_chars must be >= 1, got {max_chars}")
    n = len(text)
    if n <= max_chars:
        return [Part(text, None)]
    starts = _heading_starts(text)
    bounds = [0, *[s for s in starts if s > 0]] if len(starts) >= 2 else [0]
    bounds = _merge_short(bounds, n, min(min_chars, max_chars))
    cuts: list[int] = []
    heads: dict[int, str | None] = {}
    for i, b in enumerate(bounds):
        e = bounds[i + 1] if i + 1 < len(bounds) else n
        cuts.append(b)
        heads[b] = _first_heading(text, starts, b, e) if len(starts) >= 2 else None
        cuts.extend(_pack(text, b, e, max_chars))
    cuts.append(n)
    parts = []
    current: str | None = None
    for a, z in itertools.pairwise(cuts):
        if a in heads:
            current = heads[a]
        parts.append(Part(text[a:z], current))
    return parts


def _first_heading(text: str, starts: list[int], b: int, e: int) -> str | None:
    """The first chapter heading inside ``[b, e)`` (front matter merged into a chapter gets its heading)."""
    for s in starts:
        if b <= s < e:
            m = HEADING.match(text, s)
            return m.group(1).strip() if m else None
    return None
