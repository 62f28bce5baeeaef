"""The words of :data:`curation.stages.toxicity.terms.WORD_PATTERN` without running the regex per word.

``\\w+(?:['’]\\w+)*`` over a case-folded text (the stage's word definition) splits the text into maximal
runs of word characters joined by single apostrophes: a match always starts at a run's first character
and ends at a run's last one, and an apostrophe belongs to a word exactly when word characters stand on
both sides of it. So the words are what ``str.split()`` gives once every other character is replaced by
a space -- word characters and apostrophes are never whitespace (tested over every code point). That
replacement is done with numpy on the code points (a per-code-point table of ``\\w``, which is tested
equal to the regex's own ``\\w``), so sre's per-character work and its per-match call overhead go.

Case folding is per character; a window whose folded form has another length (``ß`` -> ``ss``) is left to
:func:`curation.stages.toxicity.terms.tokenize`, which folds its words one by one, so every text gets
exactly the words it got before (tests compare both on the dev corpus and generated edge cases).
"""

from __future__ import annotations

import codecs
import functools
from collections.abc import Callable, Sequence

import numpy as np

from curation.codepoints import word_char_mask as word_mask  # \w of each code point

_SPACE = np.uint32(32)
_SEP = "\x00"  # joins a batch's texts
_APOSTROPHES = (0x27, 0x2019)


def words_mask(cps: np.ndarray) -> np.ndarray:
    """:func:`word_mask` plus every apostrophe (``'`` or ``’``) with a word character on both sides:
    the characters inside the regex's words."""
    mask = word_mask(cps)
    apos = np.flatnonzero((cps == _APOSTROPHES[0]) | (cps == _APOSTROPHES[1]))
    return _with_apostrophes(mask, apos)


@functools.lru_cache(maxsize=1)
def _byte_table() -> np.ndarray:
    """:func:`word_mask` of the code points 0-255 (indexed by an ASCII text's bytes)."""
    return word_mask(np.arange(256, dtype=np.uint32))


def ascii_words_mask(b: np.ndarray) -> np.ndarray:
    """:func:`words_mask` of an ASCII text given as its bytes (``uint8``): a 256-entry table instead of
    the code-point table over four times the memory."""
    return _with_apostrophes(_byte_table()[b], np.flatnonzero(b == _APOSTROPHES[0]))


def _with_apostrophes(mask: np.ndarray, apos: np.ndarray) -> np.ndarray:
    """``mask`` (of ``\\w``) with the apostrophes at ``apos`` that stand between two word characters set."""
    apos = apos[(apos > 0) & (apos < len(mask) - 1)]
    if len(apos):
        mask[apos[mask[apos - 1] & mask[apos + 1]]] = True  # neighbours read before any is set
    return mask


def split_folded(
    texts: Sequence[str], slow: Callable[[str], tuple[str, ...]]
) -> list[tuple[str, tuple[str, ...]]]:
    """``(casefold(t), words)`` of each text in one numpy pass over the batch: the texts joined by NUL,
    every character outside a word but the NULs made a space, then split at the NULs and each piece at
    whitespace (NUL is neither a word character nor whitespace).

    Words come as tuples, not lists: a batch's ~90k word sequences live until the batch is scored, and
    tuples of strings leave the garbage collector's tracking at its first pass, where lists would be
    traversed by every later collection (~0.1 CPU-s on the dev corpus's windows, measured).

    ``slow(t)``: the words of ``t`` by the regex (:func:`curation.stages.toxicity.terms.tokenize`), for a
    text whose folded form changes length (its words are folded one by one there)."""
    folded = [t.casefold() for t in texts]
    same = [len(f) == len(t) for f, t in zip(folded, texts, strict=True)]
    parts = [f if s else "" for f, s in zip(folded, same, strict=True)]
    joined = _SEP.join(parts)  # NUL is no word character: it never joins two words
    if joined.count(_SEP) != len(parts) - 1:  # a text holds a NUL itself: the regex splits that one
        same = [s and _SEP not in f for f, s in zip(folded, same, strict=True)]
        parts = [f if s else "" for f, s in zip(folded, same, strict=True)]
        joined = _SEP.join(parts)
    if not joined.strip(_SEP):
        return [(f, () if s else slow(t)) for f, s, t in zip(folded, same, texts, strict=True)]
    if joined.isascii():  # bytes and a 256-entry table: a quarter of the memory of UTF-32
        b = np.frombuffer(joined.encode("ascii"), dtype=np.uint8)
        keep = ascii_words_mask(b)
        keep |= b == 0  # the separators stay
        spaced = codecs.latin_1_decode(np.where(keep, b, np.uint8(32)))[0]
    else:
        cps = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        keep = words_mask(cps)
        keep |= cps == 0
        spaced = codecs.utf_32_le_decode(np.where(keep, cps, _SPACE))[0]  # decoded from the array's buffer
    # each window's words: its piece split at whitespace, as a tuple (the garbage collector untracks it)
    pieces = spaced.split(_SEP)
    return [
        (f, tuple(piece.split()) if s else slow(t))
        for f, s, t, piece in zip(folded, same, texts, pieces, strict=True)
    ]


def word_runs(folded: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(code points, starts, ends)`` of the words of a case-folded text as runs of :func:`words_mask`:
    word ``i`` is ``folded[starts[i]:ends[i]]``, the ``i``-th word :func:`split_folded` gives (the same
    words as the regex when folding kept the text's length). ASCII text is read as bytes (``uint8``
    code points), other text as UTF-32 code points."""
    if folded.isascii():
        cps = np.frombuffer(folded.encode("ascii"), dtype=np.uint8)
        mask = ascii_words_mask(cps)
    else:
        cps = np.frombuffer(folded.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        mask = words_mask(cps)
    padded = np.zeros(len(mask) + 2, dtype=bool)
    padded[1:-1] = mask
    edges = np.flatnonzero(padded[1:] != padded[:-1])  # start, end, start, end, ...
    return cps, edges[0::2], edges[1::2]
