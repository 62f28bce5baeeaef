"""Text -> normalised words -> 64-bit n-gram hashes, identical for evaluation items and documents.

Normalisation (rules ``ngram``): Unicode NFKC, lower case, punctuation stripped -- the GPT-3 overlap
analysis (Brown et al. 2020, Appendix C) lower-cases and strips punctuation before counting 13-gram
overlap, so "Who wrote *Hamlet*?" matches "who  wrote hamlet". Words are defined per whitespace-separated
chunk (normalise the chunk, then take its runs of letters and digits), which lets the hot path work on the
whole text at C speed for ASCII text and lets :func:`word_spans` map every word back to the characters of
the original text for span cutting.

Hashing is stable across processes and runs (never Python's salted ``hash()``): every distinct word is
hashed once with BLAKE2b-64 (cached per worker), and n-gram hashes are a polynomial over word hashes
modulo 2**64, computed for all positions at once with numpy prefix sums, then mixed with the SplitMix64
finaliser (Steele et al. 2014) together with the n-gram length.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Sequence

import numpy as np

from curation.stages.decontamination.rules import NgramRules

_WORD_RE = re.compile(r"[^\W_]+")  # letters and digits; underscore and punctuation separate words
_CHUNK_RE = re.compile(r"\S+")  # same splitting as str.split()

_BASE = 0x100000001B3  # odd multiplier (FNV-64 prime), invertible modulo 2**64
_BASE_INV = pow(_BASE, -1, 1 << 64)
_LEN_SALT = 0x9E3779B97F4A7C15
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_U64 = np.uint64

_WORD_CACHE: dict[str, int] = {}  # per-process memo of a pure function (results never depend on it)
_WORD_CACHE_MAX = 1_000_000
_CHUNK_CACHE: dict[tuple[str, bool, bool, str], tuple[str, ...]] = {}


def _norm_chunk(chunk: str, rules: NgramRules) -> tuple[str, ...]:
    """Words of one whitespace-free chunk after normalisation."""
    if rules.unicode_form != "none" and not chunk.isascii():
        chunk = unicodedata.normalize(rules.unicode_form, chunk)
    if rules.lowercase:
        chunk = chunk.lower()
    if rules.strip_punctuation:
        return tuple(_WORD_RE.findall(chunk))
    return tuple(chunk.split())


def _norm_chunk_cached(chunk: str, rules: NgramRules) -> tuple[str, ...]:
    key = (chunk, rules.lowercase, rules.strip_punctuation, rules.unicode_form)
    out = _CHUNK_CACHE.get(key)
    if out is None:
        if len(_CHUNK_CACHE) >= _WORD_CACHE_MAX:
            _CHUNK_CACHE.clear()
        out = _CHUNK_CACHE[key] = _norm_chunk(chunk, rules)
    return out


def words(text: str, rules: NgramRules) -> list[str]:
    """The normalised words of ``text`` (linear time; C-speed regex for ASCII text)."""
    if text.isascii():
        t = text.lower() if rules.lowercase else text
        return _WORD_RE.findall(t) if rules.strip_punctuation else t.split()
    out: list[str] = []
    for chunk in text.split():
        out.extend(_norm_chunk_cached(chunk, rules))
    return out


def word_spans(text: str, rules: NgramRules) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Words of ``text`` (exactly :func:`words`) with the character span of each in the original text.

    Non-ASCII chunks map each word to its whole chunk (normalisation may change lengths); ASCII words
    map exactly. Used only for documents that matched, so a per-chunk loop is fine here.
    """
    ws: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    for m in _CHUNK_RE.finditer(text):
        chunk = m.group()
        if chunk.isascii():
            t = chunk.lower() if rules.lowercase else chunk
            if rules.strip_punctuation:
                for w in _WORD_RE.finditer(t):
                    ws.append(w.group())
                    starts.append(m.start() + w.start())
                    ends.append(m.start() + w.end())
            else:
                ws.append(t)
                starts.append(m.start())
                ends.append(m.end())
            continue
        for w in _norm_chunk(chunk, rules):
            ws.append(w)
            starts.append(m.start())
            ends.append(m.end())
    return ws, np.asarray(starts, dtype=np.int64), np.asarray(ends, dtype=np.int64)


def _hash_word(w: str) -> int:
    h = _WORD_CACHE.get(w)
    if h is None:
        if len(_WORD_CACHE) >= _WORD_CACHE_MAX:
            _WORD_CACHE.clear()
        digest = hashlib.blake2b(w.encode("utf-8", "surrogatepass"), digest_size=8).digest()
        h = _WORD_CACHE[w] = int.from_bytes(digest, "little")
    return h


def word_hashes(ws: Sequence[str]) -> np.ndarray:
    """BLAKE2b-64 of each word as a uint64 array."""
    get = _WORD_CACHE.get
    return np.fromiter((get(w) or _hash_word(w) for w in ws), dtype=np.uint64, count=len(ws))


def _mix(z: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser (vectorised, wrapping uint64 arithmetic)."""
    z = z ^ (z >> _U64(30))
    z = z * _M1
    z = z ^ (z >> _U64(27))
    z = z * _M2
    return z ^ (z >> _U64(31))


class _Prefix:
    """Prefix sums that give the polynomial hash of any run of words in O(1) (vectorised)."""

    def __init__(self, wh: np.ndarray) -> None:
        m = len(wh)
        with np.errstate(over="ignore"):
            pw = np.full(m + 1, _BASE, dtype=np.uint64)
            pw[0] = 1
            self.pow_b = np.cumprod(pw)  # B**i
            pinv = np.full(m, _BASE_INV, dtype=np.uint64)
            pinv[0] = 1
            pow_inv = np.cumprod(pinv)  # B**-i
            self.sums = np.zeros(m + 1, dtype=np.uint64)
            np.cumsum(wh * pow_inv, out=self.sums[1:])
        self.m = m

    def ngrams(self, k: int) -> np.ndarray:
        """Hashes of every run of ``k`` consecutive words (position i = words i..i+k-1)."""
        if self.m < k:
            return np.empty(0, dtype=np.uint64)
        with np.errstate(over="ignore"):
            poly = (self.sums[k:] - self.sums[:-k]) * self.pow_b[k - 1 : self.m]
            return _mix(poly + _U64((k * _LEN_SALT) & 0xFFFFFFFFFFFFFFFF))


def ngram_hashes(ws: Sequence[str], lengths: Iterable[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All n-gram hashes of a word sequence for each length: (hashes, start word index, length)."""
    lengths = sorted(set(lengths))
    if not ws or not lengths:
        e = np.empty(0, dtype=np.uint64)
        return e, np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int16)
    pre = _Prefix(word_hashes(ws))
    hs, starts, ks = [], [], []
    for k in lengths:
        h = pre.ngrams(k)
        hs.append(h)
        starts.append(np.arange(len(h), dtype=np.int64))
        ks.append(np.full(len(h), k, dtype=np.int16))
    return np.concatenate(hs), np.concatenate(starts), np.concatenate(ks)


def item_ngram_hashes(field_texts: Iterable[str], rules: NgramRules) -> tuple[np.ndarray, np.ndarray]:
    """Distinct n-gram hashes of an evaluation item and the length of each, fields never joined.

    A field with at least ``n`` words contributes all its n-grams; a field with ``min_n..n-1`` words
    contributes itself as one n-gram of its own length (GPT-3 Appendix C shortens n for short items);
    shorter fields contribute nothing (too short to be evidence).
    """
    hs: list[np.ndarray] = []
    ks: list[np.ndarray] = []
    for text in field_texts:
        ws = words(text, rules)
        m = len(ws)
        if m < rules.min_n:
            continue
        k = min(m, rules.n)
        h = _Prefix(word_hashes(ws)).ngrams(k)
        hs.append(h)
        ks.append(np.full(len(h), k, dtype=np.int16))
    if not hs:
        return np.empty(0, dtype=np.uint64), np.empty(0, dtype=np.int16)
    h = np.concatenate(hs)
    k = np.concatenate(ks)
    uniq, first = np.unique(h, return_index=True)
    return uniq, k[first]
