"""Character classes of code points as numpy masks: word splitting without a regex call per word.

``re``'s word class ``\\w`` on ``str`` is ``str.isalnum()`` or ``_``, so one per-code-point table of the
Basic Multilingual Plane (built on first use, ~4 ms, once per process) serves both the letters-and-digits
class ``[^\\W_]`` (decontamination n-grams) and ``\\w`` (toxicity words). Code points above the BMP
(emoji, rare CJK) are rare and are decided one distinct value at a time. Both are tested equal to the
regex on every code point (tests/decontamination/test_ngrams.py, tests/toxicity/test_wordsplit.py).
"""

from __future__ import annotations

import functools

import numpy as np

_BMP = 0x10000
_UNDERSCORE = 0x5F


@functools.lru_cache(maxsize=2)
def _bmp_table(underscore: bool) -> np.ndarray:
    """``table[c]``: ``chr(c).isalnum()`` (or ``c`` is ``_`` when ``underscore``) for every BMP code point."""
    table = np.fromiter((chr(c).isalnum() for c in range(_BMP)), dtype=bool, count=_BMP)
    table[_UNDERSCORE] = underscore
    return table


def _mask(cps: np.ndarray, underscore: bool) -> np.ndarray:
    table = _bmp_table(underscore)
    astral = cps >= _BMP
    if not astral.any():
        return table[cps]
    mask = table[np.where(astral, 0, cps)]
    above = cps[astral]
    distinct = np.unique(above)
    flags = np.array([chr(c).isalnum() for c in distinct.tolist()], dtype=bool)
    mask[astral] = flags[np.searchsorted(distinct, above)]
    return mask


def alnum_mask(cps: np.ndarray) -> np.ndarray:
    """Whether each code point of ``cps`` (uint32) is a letter or digit: ``[^\\W_]``, ``str.isalnum``."""
    return _mask(cps, underscore=False)


def word_char_mask(cps: np.ndarray) -> np.ndarray:
    """Whether each code point of ``cps`` (uint32) is a word character: ``\\w`` (letters, digits, ``_``)."""
    return _mask(cps, underscore=True)
