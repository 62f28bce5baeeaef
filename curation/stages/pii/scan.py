"""Anchored scanning: ``rx.finditer(text)`` tried only at candidate positions that a cheap scan finds.

Python's regex engine has a fast path only for patterns that start with a literal or a character class;
a pattern that starts with a case-insensitive key word (``(?i:secret|token|...)``), a word boundary
(``\\b[0-9]{3}``) or a look-behind is tried at every position of the text, which made the secret and SSN
patterns a large share of the PII stage (issue 21). Every match of such a pattern starts where a cheaper
*anchor* matches (a lower-case key word in the lower-cased text, the start of a digit run), so
:func:`anchored_finditer` runs the pattern only there and returns exactly the matches of ``finditer``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from functools import lru_cache

#: Characters that a case-insensitive pattern matches to an ASCII letter although ``str.lower`` does not
#: map them to it (Turkish dotted and dotless i, long s; the first also lowers to two characters).
#: ``tests/pii`` checks this list against the running Python over every code point.
FOLD_EXTRA = "İıſ"
_FOLD_EXTRA = re.compile(f"[{FOLD_EXTRA}]")


@lru_cache(maxsize=2)  # the secret recognizers of one text ask one after the other
def lowered(text: str) -> str | None:
    """``text.lower()`` when its offsets are ``text``'s and an ASCII key word ``(?i:w)`` matches ``text``
    exactly where ``w`` matches the lowered text; ``None`` otherwise (then scan without anchors)."""
    if _FOLD_EXTRA.search(text) is not None:
        return None
    low = text.lower()
    return low if len(low) == len(text) else None


def anchored_finditer(rx: re.Pattern[str], text: str, starts: Iterable[int]) -> Iterator[re.Match[str]]:
    """The matches of ``rx.finditer(text)``, given ``starts``: increasing positions that include the start
    of every non-empty match of ``rx`` at any position of ``text``.

    ``finditer`` returns the match at the first position ``>= pos`` where ``rx`` matches, then continues at
    its end; positions outside ``starts`` cannot match, so trying ``starts`` in order gives the same
    matches. ``rx`` must not match the empty string.
    """
    pos = 0
    for s in starts:
        if s < pos:
            continue
        m = rx.match(text, s)
        if m is not None:
            yield m
            pos = m.end()


def anchor_positions(anchor: re.Pattern[str], text: str) -> Iterator[int]:
    """Every position where ``anchor`` matches (overlapping occurrences too), in increasing order."""
    m = anchor.search(text)
    while m is not None:
        s = m.start()
        yield s
        m = anchor.search(text, s + 1)


def literal_positions(words: tuple[str, ...], text: str) -> list[int]:
    """Every position where one of ``words`` starts in ``text`` (overlapping occurrences too), increasing:
    ``anchor_positions`` of the alternation of ``words``, found with ``str.find`` per word.

    An alternation of literals with different first characters is tried by the regex engine at every
    position (~5 ns a character); ``str.find`` skips ahead, so a few words are found in less time.
    """
    found: set[int] = set()
    for w in words:
        i = text.find(w)
        while i != -1:
            found.add(i)
            i = text.find(w, i + 1)
    return sorted(found)
