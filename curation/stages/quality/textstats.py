"""Shared, linear-time text statistics used by several rule sets (computed once per document).

Words are whitespace-separated tokens (as in Gopher, Rae et al. 2021), with scripts written without
spaces segmented per character (:func:`curation.stages.quality.segment.tokenize`). Repeated n-grams are
found by hashing word ids into 64-bit rolling hashes with numpy and sorting (``np.unique``), so a 20 MB
document costs a few sorts, never a quadratic scan.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from functools import cached_property
from itertools import compress, repeat
from operator import not_

import numpy as np

from curation.stages.quality.segment import tokenize

_PARAGRAPH_SPLIT_RE = re.compile(r"\n\s*\n")
_ALPHA_RE = re.compile(r"[^\W\d_]")
# A line (one distinct word, after its newline) of characters that are not alphabetic (not [^\W\d_]) nor
# whitespace; the literal leading newline lets the engine skip from line start to line start.
_NON_ALPHA_LINE_RE = re.compile(r"\n((?:[^\w\s]|[\d_])+)(?=\n)")
_STRIP = string.punctuation + "“”‘’«»…"

_MIX = np.uint64(0x9E3779B97F4A7C15)
_MUL = np.uint64(0xBF58476D1CE4E5B9)
_ONE = np.uint64(1)


class TextStats:
    """Lazily computed views of one text: words, lines, paragraphs, word lengths, n-gram hashes."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._ngram_cache: dict[int, np.ndarray] = {}
        self._sorted_cache: dict[int, np.ndarray] = {}

    @cached_property
    def words(self) -> list[str]:
        return tokenize(self.text)

    @cached_property
    def word_lengths(self) -> np.ndarray:
        return np.fromiter(map(len, self.words), dtype=np.int64, count=len(self.words))

    @cached_property
    def word_chars(self) -> int:
        return int(self.word_lengths.sum())

    @cached_property
    def lines(self) -> list[str]:
        """Non-empty lines, stripped."""
        return [s for s in (ln.strip() for ln in self.text.split("\n")) if s]

    @cached_property
    def paragraphs(self) -> list[str]:
        return [s for s in (p.strip() for p in _PARAGRAPH_SPLIT_RE.split(self.text)) if s]

    @cached_property
    def word_counts(self) -> Counter[str]:
        return Counter(self.words)

    @cached_property
    def non_alpha_words(self) -> int:
        """Words without any alphabetic character.

        The distinct words, one per line, searched by one regex for whole lines without an alphabetic
        character (words hold no whitespace, so such a line is one of ``[\\W\\d_]`` minus whitespace);
        only those (few) words are looked up for their counts. The same count as a regex search per
        distinct word (:func:`non_alpha_words_reference`, tested equal), about 2x cheaper.
        """
        counts = self.word_counts
        return sum(map(counts.__getitem__, _NON_ALPHA_LINE_RE.findall("\n" + "\n".join(counts) + "\n")))

    def count_words_in(self, vocabulary: frozenset[str]) -> int:
        """Occurrences of words in ``vocabulary`` (lower-case, surrounding punctuation ignored)."""
        counts = self.word_counts
        keys = map(str.strip, map(str.lower, counts), repeat(_STRIP))
        return sum(compress(counts.values(), map(vocabulary.__contains__, keys)))

    @cached_property
    def word_ids(self) -> np.ndarray:
        """Python's string hash of each word: equal words get equal ids within a process.

        Only equality of ids is ever used (never their values or order), so results do not depend on
        the per-process hash seed (up to 64-bit collisions).
        """
        return np.fromiter(map(hash, self.words), dtype=np.int64, count=len(self.words)).view(np.uint64)

    def ngram_hashes(self, n: int) -> np.ndarray:
        """64-bit hashes of all word n-grams (length ``len(words) - n + 1``, possibly empty)."""
        cache = self._ngram_cache
        h = cache.get(n)
        if h is not None:
            return h
        if n > len(self.words):
            h = cache[n] = np.zeros(0, dtype=np.uint64)
            return h
        uni = cache.get(1)
        if uni is None:  # unsigned array arithmetic wraps silently (no errstate needed, ~2 us a call)
            uni = cache[1] = (self.word_ids + _ONE) * _MIX
        if n == 1:
            return uni
        k = n - 1  # the longest cached shorter n-gram hashes, then one multiply-add per length (no recursion)
        while k > 1 and k not in cache:
            k -= 1
        h = cache[k]
        for m in range(k + 1, n + 1):
            h = h[:-1] * _MUL
            h += uni[m - 1 :]
            cache[m] = h
        return cache[n]

    @cached_property
    def cum_word_lengths(self) -> np.ndarray:
        """``[0, len(w0), len(w0) + len(w1), ...]``: characters of words ``i:j`` are ``c[j] - c[i]``."""
        return np.concatenate(([0], np.cumsum(self.word_lengths)))

    def ngram_char_lengths(self, n: int) -> np.ndarray:
        """Characters (without separating spaces) of each word n-gram."""
        c = np.concatenate(([0], np.cumsum(self.word_lengths)))
        return c[n:] - c[:-n] if len(self.words) >= n else np.zeros(0, dtype=np.int64)

    def sorted_ngram_hashes(self, n: int) -> np.ndarray:
        """:meth:`ngram_hashes` sorted (cached: the top-n-gram and word-order signals sort the same array)."""
        cache = self._sorted_cache
        if n not in cache:
            cache[n] = np.sort(self.ngram_hashes(n))
        return cache[n]


def non_alpha_words_reference(stats: TextStats) -> int:
    """Words without any alphabetic character: a regex search per distinct word, weighted by its count."""
    counts = stats.word_counts
    return sum(compress(counts.values(), map(not_, map(_ALPHA_RE.search, counts))))


def _run_starts(s: np.ndarray) -> np.ndarray:
    """Mask of the entries of the sorted, non-empty ``s`` that differ from the one before (the first is
    True): the first entry of each run of equal values."""
    first = np.empty(len(s), dtype=bool)
    first[0] = True
    np.not_equal(s[1:], s[:-1], out=first[1:])
    return first


def _runs(s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(start index, length) of each run of equal values of the sorted array ``s`` (non-empty).

    Array methods and ``out=`` buffers instead of ``np.concatenate``/``np.append``/``np.diff`` (Python-level
    wrappers): the same arrays, about half the per-call overhead on the short arrays of a page."""
    starts = _run_starts(s).nonzero()[0]
    ends = np.empty_like(starts)
    ends[-1] = len(s)
    ends[:-1] = starts[1:]
    ends -= starts
    return starts, ends


# Above this many entries _members first drops the entries whose low 16 bits no value has (a table
# look-up per entry) and binary-searches only the rest: random binary searches over a long array cost
# ~10 ns a step (branch misses); 5000 entries 270 -> 32 us, no gain below ~500.
_FILTER_MIN = 512
_LOW_BITS = 0xFFFF


def _members(h: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Mask of the entries of ``h`` that are in the sorted, distinct, non-empty ``values``.

    Exact either way: the 16-bit table only rules out entries that cannot be members."""
    if len(h) <= _FILTER_MIN:
        pos = values.searchsorted(h)
        np.minimum(pos, len(values) - 1, out=pos)
        return values[pos] == h
    table = np.zeros(_LOW_BITS + 1, dtype=bool)
    table[values.view(np.int64) & _LOW_BITS] = True
    cand = table[h.view(np.int64) & _LOW_BITS].nonzero()[0]
    hc = h[cand]
    pos = values.searchsorted(hc)
    np.minimum(pos, len(values) - 1, out=pos)
    mask = np.zeros(len(h), dtype=bool)
    mask[cand[values[pos] == hc]] = True
    return mask


def top_ngram_char_ratio(stats: TextStats, n: int) -> float:
    """Share of word characters covered by the most frequent repeated n-gram (Gopher, Table A1).

    ``count * chars(n-gram) / chars(all words)``; among equally frequent n-grams the longest counts.
    0.0 when no n-gram repeats.
    """
    h = stats.ngram_hashes(n)
    if len(h) < 2 or stats.word_chars == 0:
        return 0.0
    s = stats.sorted_ngram_hashes(n)
    starts, counts = _runs(s)
    top = int(counts.max())
    if top < 2:
        return 0.0
    tops = s[starts[counts == top]]
    pos = (h == tops[0] if len(tops) == 1 else _members(h, tops)).nonzero()[0]  # usually one top n-gram
    c = stats.cum_word_lengths  # characters only at the top n-grams' positions: the same maximum
    longest = int((c[pos + n] - c[pos]).max())
    return min(1.0, top * longest / stats.word_chars)


def _covered_chars(stats: TextStats, pos: np.ndarray, n: int) -> tuple[float, np.ndarray]:
    """Word characters inside n-grams that repeat an earlier one, among the n-grams at positions ``pos``
    (ascending; every occurrence of a repeated n-gram must be among them), and the positions of n-grams
    occurring at least twice there (ascending). One sort of the hashes at ``pos`` (a text without repeats
    costs only that); the first-occurrence search runs only on the repeated n-grams (usually few)."""
    h = stats.ngram_hashes(n)[pos]
    s = h.copy()
    s.sort()
    eq = s[1:] == s[:-1]
    if not eq.any():
        return 0.0, pos[:0]
    rep = s[1:][eq]
    if len(rep) > 1:  # distinct repeated values, sorted
        rep = rep[_run_starts(rep)]
    sub = pos[_members(h, rep)]
    hs = stats.ngram_hashes(n)[sub]
    order = hs.argsort(kind="stable")  # equal n-grams in position order: the first is the earliest
    later = np.ones(len(sub), dtype=bool)
    later[order[_run_starts(hs[order])]] = False
    starts = sub[later]  # ascending; each marks words starts .. starts + n - 1
    # Characters of the union of the n-word windows: each window adds the words past the previous
    # window's end (windows have one width, so the previous end is the largest so far).
    c = stats.cum_word_lengths
    begin = starts.copy()
    np.maximum(starts[1:], starts[:-1] + n, out=begin[1:])
    return float(int((c[starts + n] - c[begin]).sum())), sub


def dup_ngram_char_ratio(stats: TextStats, n: int) -> float:
    """Share of word characters inside n-grams that repeat an earlier n-gram (Gopher, Table A1).

    Every occurrence but the first of a repeated n-gram marks its words; overlapping marks count once.
    """
    h = stats.ngram_hashes(n)
    if len(h) < 2 or stats.word_chars == 0:
        return 0.0
    chars, _ = _covered_chars(stats, np.arange(len(h)), n)
    return chars / stats.word_chars


def dup_ngram_char_ratios(stats: TextStats, ns: range) -> dict[int, float]:
    """:func:`dup_ngram_char_ratio` for consecutive ``ns`` (e.g. 5..10), sorting only what can repeat.

    An n-gram can repeat only where its (n-1)-gram prefix repeats, so each longer n is evaluated on the
    positions whose previous n-gram occurs at least twice (first occurrences included): the same result
    as computing every n on all positions, with sorts over a shrinking subset.
    """
    out: dict[int, float] = {}
    cand: np.ndarray | None = None
    for n in ns:
        h_all = stats.ngram_hashes(n)
        if len(h_all) < 2 or stats.word_chars == 0 or (cand is not None and len(cand) < 2):
            out[n] = 0.0
            cand = np.zeros(0, dtype=np.int64)
            continue
        cand = np.arange(len(h_all)) if cand is None else cand[cand < len(h_all)]
        chars, cand = _covered_chars(stats, cand, n)
        out[n] = chars / stats.word_chars
    return out


def duplicate_stats(items: list[str]) -> tuple[int, int]:
    """(number of items equal to an earlier item, characters in those items)."""
    seen: set[str] = set()
    dup = dup_chars = 0
    for it in items:
        if it in seen:
            dup += 1
            dup_chars += len(it)
        else:
            seen.add(it)
    return dup, dup_chars


def ratio(num: float, den: float) -> float:
    """``num / den`` rounded to 6 places (0.0 when ``den`` is 0), for stable stored signals."""
    return round(num / den, 6) if den else 0.0


def unigram_entropy(stats: TextStats) -> float:
    """Entropy (nats) of the word distribution (RedPajama-V2 ``rps_doc_unigram_entropy``); 0.0 if empty."""
    ids = stats.word_ids
    if len(ids) == 0:
        return 0.0
    _, counts = _runs(np.sort(ids))  # np.unique's counts, same order
    p = counts / counts.sum()
    return float(-(p * np.log(p)).sum())


def _repeated(h: np.ndarray) -> int:
    """Number of entries of ``h`` equal to an earlier entry."""
    if len(h) < 2:
        return 0
    s = np.sort(h)
    return int(np.count_nonzero(s[1:] == s[:-1]))


def word_order_ratio(stats: TextStats, permutations: int = 2, min_words: int = 150) -> float | None:
    """How much word order structures the text: repeated bigrams over those of shuffled words.

    ``(repeated bigrams + 1) / (mean repeated bigrams of the same words in a fixed random order + 1)``.
    Real text repeats collocations ("of the", "in order to") far more than its words shuffled would;
    word salad made of real words does not (ratio about 1). A permutation test with fixed seeds
    (deterministic), no language model: a cheap stand-in for the perplexity filters of CCNet (Wenzek et
    al. 2020). ``None`` (no signal, the rule cannot fire) below ``min_words`` words: a short text has
    too few repeated bigrams for the test to tell real text from shuffled words.
    """
    n = len(stats.words)
    if n < min_words:
        return None
    uni = stats.ngram_hashes(1)
    s2 = stats.sorted_ngram_hashes(2)
    observed = int(np.count_nonzero(s2[1:] == s2[:-1]))
    shuffled = 0
    for seed in range(permutations):
        p = uni[np.random.default_rng(seed).permutation(n)]
        b = p[:-1] * _MUL
        b += p[1:]
        shuffled += _repeated(b)
    return (observed + 1) / (shuffled / permutations + 1)


# The first letter of the word after a sentence end: ". ! ?" then whitespace.
_AFTER_END_RE = re.compile(r"[.!?]\s+([^\W\d_])")


def sentence_case_ratio(stats: TextStats, min_ends: int = 5) -> float | None:
    """Share of words after a sentence end (``. ! ?``) that start with a capital letter, cased scripts only.

    In edited prose of a cased script (Latin, Cyrillic, Greek, Armenian...) a sentence starts with a
    capital letter; in word salad the word after a full stop is capitalised only as often as words are
    in general. Only next words starting with a cased letter count (digits, CJK, Arabic are skipped).
    ``None`` (no signal) with fewer than ``min_ends`` such sentence ends: too little evidence.
    """
    starts = _AFTER_END_RE.findall(stats.text)  # one C-level pass
    upper = sum(map(str.isupper, starts))  # C-level map chains: the same counts as generator loops
    total = upper + sum(map(str.islower, starts))
    if total < min_ends:
        return None
    return upper / total
