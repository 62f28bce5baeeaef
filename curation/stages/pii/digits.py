"""One pass for the digit runs of a text, shared by the pre-check and the house-number recognizer.

Python's ``re`` skips ahead quickly only to a literal; a pattern that starts with a character class such
as ``\\d`` costs ~5 ns per character of the text however rarely it matches, and ~1 µs more per match. The
pre-check's digit-run and IBAN hints and STREET_ADDRESS's house numbers were three such scans of every
text (~0.11 CPU-s on the dev corpus). Each is a function of the text's maximal digit runs, which
:func:`digit_runs` finds once per text with numpy (the text's code points as an array; cached for the two
texts in hand), and the functions below read:

* :func:`max_digits` = the pre-check's longest run of digits with single separators
  (``engine._DIGIT_RUN``);
* :func:`iban_hint` = ``engine._IBAN_HINT.search(text) is not None`` (its two digits start a run);
* :func:`house_numbers` = the matches of ``address._HOUSE`` (a run of 1-5 digits not glued to
  ``[\\w.,/:-]``).

A digit is what ``\\d`` matches (Unicode category Nd, ``str.isdecimal``). ``tests/pii/test_digits.py``
checks each function against its regular expression on generated texts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

_IBAN_HINT = re.compile(r"[A-Z][A-Z]\d\d ?[A-Z0-9]{4}")
_GLUE = re.compile(r"[\w.,/:-]")  # a house number is not glued to one of these
#: The characters that may separate the digits of one pre-check digit run (``[ ().\\-/]``).
_SEPARATOR_CHARS = frozenset(" ().-/")
_CAPITALS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
#: ``_GLUE`` on the ASCII code points (``\\w`` on ASCII is ``[A-Za-z0-9_]``).
_GLUE_ASCII = np.array([_GLUE.match(chr(i)) is not None for i in range(128)])


@dataclass(frozen=True)
class DigitRuns:
    """The maximal runs of decimal digits of a text: run ``i`` is ``text[starts[i]:ends[i]]``; ``codes``
    holds the text's code points (uint8 for ASCII text, uint32 otherwise)."""

    starts: list[int]
    ends: list[int]
    codes: np.ndarray | None  # None: a short text, scanned with a regular expression
    edges: np.ndarray | None  # starts and ends interleaved


def _codes(text: str) -> tuple[np.ndarray, np.ndarray]:
    """The code points of ``text`` and which of them are decimal digits."""
    if text.isascii():
        codes = np.frombuffer(text.encode("ascii"), dtype=np.uint8)
        return codes, (codes - np.uint8(48)) < np.uint8(10)  # unsigned: wraps below "0"
    codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    digit = (codes - np.uint32(48)) < np.uint32(10)
    high = [c for c in np.unique(codes[codes > 127]).tolist() if chr(c).isdecimal()]
    if high:
        digit |= np.isin(codes, high)
    return codes, digit


#: Texts shorter than this are scanned with a regular expression: numpy's fixed cost per call (~20 µs)
#: would exceed the scan (most conversation messages are short).
NUMPY_MIN_CHARS = 4096
_RUN = re.compile(r"\d+")
_RUN_ASCII = re.compile(r"[0-9]+")  # the same on ASCII text, faster


@lru_cache(maxsize=2)  # the pre-check and the address recognizer ask for the same chunk
def digit_runs(text: str) -> DigitRuns:
    """The maximal ``\\d`` runs of ``text``."""
    if len(text) < NUMPY_MIN_CHARS:
        spans = [m.span() for m in (_RUN_ASCII if text.isascii() else _RUN).finditer(text)]
        return DigitRuns([s for s, _e in spans], [e for _s, e in spans], None, None)
    codes, digit = _codes(text)
    edges = np.flatnonzero(np.diff(digit, prepend=False, append=False))  # bool diff: a change of class
    return DigitRuns(edges[0::2].tolist(), edges[1::2].tolist(), codes, edges)


def max_digits(text: str, runs: DigitRuns, enough: int = 13) -> int:
    """What ``engine._max_digits`` returns: the digits of the first match of
    ``\\d(?:[ ().\\-/]{0,2}\\d){6,}`` with ``enough`` or more, else of the longest match, else 0.

    The separators and the digits are disjoint, so such a match is a whole chain of runs joined by gaps of
    one or two separators, with 7+ digits, and no match starts inside a chain of fewer.
    """
    best = 0
    count = 0
    prev_end = -3
    for s, e in zip(runs.starts, runs.ends, strict=True):
        if s - prev_end <= 2 and all(ch in _SEPARATOR_CHARS for ch in text[prev_end:s]):
            count += e - s
        else:
            if count >= 7 and count > best:
                best = count
                if best >= enough:
                    return best
            count = e - s
        prev_end = e
    return count if count >= 7 and count > best else best


def iban_hint(text: str, runs: DigitRuns) -> bool:
    """``[A-Z][A-Z]\\d\\d ?[A-Z0-9]{4}`` occurs in ``text``: its first digit starts a run of two or more
    digits after two capitals."""
    for s, e in zip(runs.starts, runs.ends, strict=True):
        if e - s >= 2 and s >= 2 and text[s - 1] in _CAPITALS and _IBAN_HINT.match(text, s - 2) is not None:
            return True
    return False


def house_numbers(text: str, runs: DigitRuns) -> list[tuple[int, int]]:
    """The spans of ``\\d(?<![\\w.,/:-]\\d)\\d{0,4}(?!\\d)`` in ``text``: whole runs of 1-5 digits whose
    previous character is not in ``[\\w.,/:-]`` (a digit inside a run follows a digit, which is ``\\w``)."""
    if not runs.starts:
        return []
    if runs.codes is None or runs.edges is None:
        glue = _GLUE.match
        return [(s, e) for s, e in zip(runs.starts, runs.ends, strict=True)
                if e - s <= 5 and (s == 0 or glue(text, s - 1) is None)]
    starts, ends, codes = runs.edges[0::2], runs.edges[1::2], runs.codes
    short = (ends - starts) <= 5
    starts, ends = starts[short], ends[short]
    prev = codes[np.maximum(starts - 1, 0)]
    ascii_prev = prev < 128
    glued = (starts > 0) & ascii_prev & _GLUE_ASCII[np.minimum(prev, 127)]
    unsure = ((starts > 0) & ~ascii_prev).tolist()  # a non-ASCII character before: asked to the regex
    return [(s, e) for s, e, g, u in zip(starts.tolist(), ends.tolist(), glued.tolist(), unsure, strict=True)
            if not g and not (u and _GLUE.match(text, s - 1) is not None)]
