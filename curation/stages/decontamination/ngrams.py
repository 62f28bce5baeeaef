"""Text -> normalised words -> 64-bit n-gram hashes, identical for evaluation items and documents.

Normalisation (rules ``ngram``): Unicode NFKC, lower case, punctuation stripped -- the GPT-3 overlap
analysis (Brown et al. 2020, Appendix C) lower-cases and strips punctuation before counting 13-gram
overlap, so "Who wrote *Hamlet*?" matches "who  wrote hamlet". Words are defined per whitespace-separated
chunk (normalise the chunk, then take its runs of letters and digits), which lets the hot path work on the
whole text at C speed for ASCII text and lets :func:`word_spans` map every word back to the characters of
the original text for span cutting.

Hashing is stable across processes, platforms and runs (never Python's salted ``hash()``) and fully
vectorised: a word's hash is a polynomial over its UTF-8 bytes modulo 2**64 with a dense odd base, and an
n-gram's hash is the same polynomial over its words' hashes; both are computed for all positions at once
with numpy prefix sums (wrapping uint64 arithmetic) and passed through the SplitMix64 finaliser (Steele,
Lea & Flood 2014) salted with the length. (A per-word BLAKE2b with a dict cache measured 3x slower.)
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence

import numpy as np

from curation.codepoints import alnum_mask
from curation.polyhash import powers
from curation.stages.decontamination.rules import NgramRules

_WORD_RE = re.compile(r"[^\W_]+")  # letters and digits; underscore and punctuation separate words
_CHUNK_RE = re.compile(r"\S+")  # same splitting as str.split()

_LEN_SALT = 0xD1B54A32D192ED03
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_U64 = np.uint64

_WORD_CHUNK = 1 << 16  # words hashed per numpy pass (bounds memory on huge documents)
_CACHE_MAX = 500_000
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
        if len(_CHUNK_CACHE) >= _CACHE_MAX:
            _CHUNK_CACHE.clear()
        out = _CHUNK_CACHE[key] = _norm_chunk(chunk, rules)
    return out


def _whole_text_form(text: str, rules: NgramRules) -> str | None:
    """The normalised text when word offsets survive normalisation (else ``None``: go chunk by chunk).

    True for ASCII text and for text already in the Unicode form whose lower-casing keeps its length
    (nearly all text); then words and their offsets come from one regex pass over the whole text.
    """
    if (
        not text.isascii()
        and rules.unicode_form != "none"
        and not unicodedata.is_normalized(rules.unicode_form, text)
    ):
        return None
    if not rules.lowercase:
        return text
    low = text.lower()
    return low if len(low) == len(text) else None


def normalized_text(text: str, rules: NgramRules) -> str:
    """``text`` in the rules' Unicode form, lower-cased: the words of :func:`words` are its letter and digit
    runs (or whitespace-separated tokens).

    Normalising the whole text gives the same words as normalising each whitespace-separated chunk (the
    definition, :func:`words_by_chunk`): every character ``str.split`` cuts at is a starter that no
    normalisation form composes with a neighbour or reorders across, and maps to whitespace or to
    itself, so the normal form of a text is the normal forms of its chunks and separators put together;
    lower-casing is per character except for the Greek final sigma, whose context ends at whitespace too.
    Offsets may move (decomposition, ``"İ".lower()``), which only :func:`word_spans` needs. Tested against
    the chunk-wise definition on every code point between and beside whitespace.
    """
    if rules.unicode_form != "none" and not text.isascii():
        text = unicodedata.normalize(rules.unicode_form, text)
    return text.lower() if rules.lowercase else text


def words(text: str, rules: NgramRules) -> list[str]:
    """The normalised words of ``text`` (linear time; one normalisation and one C regex pass)."""
    t = normalized_text(text, rules)
    return _WORD_RE.findall(t) if rules.strip_punctuation else t.split()


def words_by_chunk(text: str, rules: NgramRules) -> list[str]:
    """:func:`words` by definition: each whitespace-separated chunk normalised on its own (the reference
    for :func:`normalized_text`; also what :func:`word_spans` maps words back through)."""
    out: list[str] = []
    for chunk in text.split():
        out.extend(_norm_chunk_cached(chunk, rules))
    return out


def word_spans(text: str, rules: NgramRules) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Words of ``text`` (exactly :func:`words`) with the character span of each in the original text.

    When normalisation changes offsets (text not yet in the Unicode form, or lower-casing changing its
    length), each word maps to its whole whitespace-separated chunk. Used only for documents that
    matched, so the per-word loop is fine here.
    """
    ws: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    t = _whole_text_form(text, rules)
    if t is not None and t.isascii():
        _, st, en = _ascii_words(t, rules)
        return [t[i:j] for i, j in zip(st.tolist(), en.tolist(), strict=True)], st, en
    if t is not None:
        for w in (_WORD_RE if rules.strip_punctuation else _CHUNK_RE).finditer(t):
            ws.append(w.group())
            starts.append(w.start())
            ends.append(w.end())
    else:
        for m in _CHUNK_RE.finditer(text):
            for w in _norm_chunk_cached(m.group(), rules):
                ws.append(w)
                starts.append(m.start())
                ends.append(m.end())
    return ws, np.asarray(starts, dtype=np.int64), np.asarray(ends, dtype=np.int64)


def _span_hashes(b: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Stable 64-bit hash of each byte segment ``b[start:end]``: mixed polynomial over its bytes.

    Depends only on the segment's bytes (not on where it sits), so words hashed from a joined string
    and words hashed in place in ASCII text get the same value. Chunked to bound memory.
    """
    out = np.empty(len(starts), dtype=np.uint64)
    for i in range(0, len(starts), _WORD_CHUNK):
        st, en = starts[i : i + _WORD_CHUNK], ends[i : i + _WORD_CHUNK]
        lo = int(st[0])
        pre = _Prefix(b[lo : int(en[-1])].astype(np.uint64) + _U64(1))
        s0, e0 = st - lo, en - lo
        with np.errstate(over="ignore"):
            poly = (pre.sums[e0] - pre.sums[s0]) * pre.pow_b[e0 - 1]
            out[i : i + len(st)] = _mix(poly + (e0 - s0).astype(np.uint64) * _U64(_LEN_SALT))
    return out


def word_hashes(ws: Sequence[str]) -> np.ndarray:
    """Stable 64-bit hash of each word (words never contain whitespace; UTF-8 never contains 0x20)."""
    if not ws:
        return np.empty(0, dtype=np.uint64)
    b = np.frombuffer(" ".join(ws).encode("utf-8", "surrogatepass"), dtype=np.uint8)
    sp = np.flatnonzero(b == 32)
    starts = np.zeros(len(ws), dtype=np.int64)
    starts[1:] = sp + 1
    ends = np.empty(len(ws), dtype=np.int64)
    ends[:-1] = sp
    ends[-1] = len(b)
    return _span_hashes(b, starts, ends)


_ASCII_WORD = np.zeros(256, dtype=bool)
for _c in b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789":
    _ASCII_WORD[_c] = True
_ASCII_TOKEN = np.ones(256, dtype=bool)  # whitespace-separated tokens (strip_punctuation: false)
for _c in b" \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f":
    _ASCII_TOKEN[_c] = False


def _ascii_words(t: str, rules: NgramRules) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(bytes, word starts, word ends) of normalised ASCII text, found with a byte table (no regex)."""
    b = np.frombuffer(t.encode("ascii"), dtype=np.uint8)
    isw = (_ASCII_WORD if rules.strip_punctuation else _ASCII_TOKEN)[b].view(np.int8)
    edge = np.diff(isw, prepend=np.int8(0), append=np.int8(0))
    return b, np.flatnonzero(edge == 1), np.flatnonzero(edge == -1)


def _unicode_words(t: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(UTF-8 bytes, word byte starts, word byte ends) of normalised text: the matches of ``_WORD_RE``
    (runs of letters and digits) found with a code-point table instead of the regex (~1.5x faster with
    the hashing that follows; equal on every code point, tested)."""
    cp = np.frombuffer(t.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    astral = cp > 0xFFFF
    isw = alnum_mask(cp)
    utf8_len = 1 + (cp >= 0x80).astype(np.int64) + (cp >= 0x800) + astral  # surrogates: 3 (surrogatepass)
    offset = np.zeros(len(cp) + 1, dtype=np.int64)
    np.cumsum(utf8_len, out=offset[1:])
    edge = np.diff(isw.view(np.int8), prepend=np.int8(0), append=np.int8(0))
    b = np.frombuffer(t.encode("utf-8", "surrogatepass"), dtype=np.uint8)
    return b, offset[np.flatnonzero(edge == 1)], offset[np.flatnonzero(edge == -1)]


def text_word_hashes(text: str, rules: NgramRules) -> np.ndarray:
    """Hashes of the words of ``text`` -- exactly ``word_hashes(words(text))``, found with byte or code-point
    tables instead of a regex and a joined copy of the words."""
    t = normalized_text(text, rules)
    if t.isascii():  # also text that only NFKC makes ASCII (no-break spaces, ellipses, ligatures)
        b, starts, ends = _ascii_words(t, rules)
    elif rules.strip_punctuation:
        b, starts, ends = _unicode_words(t)
    else:
        return word_hashes(t.split())
    return _span_hashes(b, starts, ends) if len(starts) else np.empty(0, dtype=np.uint64)


# Texts hashed as one joined text by :func:`texts_word_hashes` hold at most this many characters together
# (its code-point and offset arrays take ~30 bytes a character); a longer text is hashed on its own.
_JOIN_CHARS = 1 << 20


def _join_groups(lengths: Sequence[int]) -> list[tuple[int, int]]:
    """Consecutive ``(first, stop)`` ranges of at most ``_JOIN_CHARS`` characters (or one text)."""
    groups, first, chars = [], 0, 0
    for i, n in enumerate(lengths):
        if chars and chars + n > _JOIN_CHARS:
            groups.append((first, i))
            first, chars = i, 0
        chars += n + 1
    if first < len(lengths):
        groups.append((first, len(lengths)))
    return groups


def texts_word_hashes(texts: Sequence[str], rules: NgramRules) -> list[np.ndarray]:
    """:func:`text_word_hashes` of each text, found for many texts at once.

    Normalised texts of one kind (ASCII; the others when punctuation is stripped) are joined by single
    spaces and their words found and hashed in one pass: a space is no part of a word and a word's hash
    depends only on its bytes, so each text's words and hashes are those it has alone (tested), and the
    numpy calls are made once per group of texts instead of once per text. Each group's words are then
    handed back to their texts by byte offset.
    """
    norm = [normalized_text(t, rules) for t in texts]
    out: list[np.ndarray] = [_EMPTY_U64] * len(norm)
    ascii_idx = [i for i, t in enumerate(norm) if t.isascii()]
    other_idx = [i for i, t in enumerate(norm) if not t.isascii()]
    if not rules.strip_punctuation:
        for i in other_idx:
            out[i] = word_hashes(norm[i].split())
        other_idx = []
    for idx, is_ascii in ((ascii_idx, True), (other_idx, False)):
        for first, stop in _join_groups([len(norm[i]) for i in idx]):
            members = idx[first:stop]
            group = [norm[i] for i in members]
            joined = " ".join(group)
            b, starts, ends = _ascii_words(joined, rules) if is_ascii else _unicode_words(joined)
            if not len(starts):
                continue
            hashes = _span_hashes(b, starts, ends)
            sizes = [len(t) if is_ascii else len(t.encode("utf-8", "surrogatepass")) for t in group]
            text_starts = np.cumsum([0] + [n + 1 for n in sizes[:-1]])  # byte offset of each text in b
            cuts = np.searchsorted(starts, np.append(text_starts, len(b) + 1)).tolist()
            for j, i in enumerate(members):
                out[i] = hashes[cuts[j] : cuts[j + 1]]
    return out


_EMPTY_U64 = np.empty(0, dtype=np.uint64)


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
        pow_b, pow_inv = powers(m + 1)
        self.pow_b = pow_b[: m + 1]  # B**i
        with np.errstate(over="ignore"):
            self.sums = np.zeros(m + 1, dtype=np.uint64)
            np.cumsum(wh * pow_inv[:m], out=self.sums[1:])
        self.m = m

    def ngrams(self, k: int) -> np.ndarray:
        """Hashes of every run of ``k`` consecutive words (position i = words i..i+k-1)."""
        if self.m < k:
            return np.empty(0, dtype=np.uint64)
        with np.errstate(over="ignore"):
            poly = (self.sums[k:] - self.sums[:-k]) * self.pow_b[k - 1 : self.m]
            return _mix(poly + np.uint64(k) * _U64(_LEN_SALT))

    def ngrams_at(self, starts: np.ndarray, k: int | np.ndarray) -> np.ndarray:
        """Hashes of the ``k``-grams starting at ``starts`` (``k`` scalar or per start; start + k <= m)."""
        with np.errstate(over="ignore"):
            poly = (self.sums[starts + k] - self.sums[starts]) * self.pow_b[starts + (k - 1)]
            salt = np.asarray(k, dtype=np.uint64) * _U64(_LEN_SALT)
            return _mix(poly + salt)


def prefix_sums(ws: Sequence[str]) -> _Prefix:
    """Prefix structure of a word sequence: O(1) vectorised hash of any run of words."""
    return _Prefix(word_hashes(ws))


def text_prefix_sums(text: str, rules: NgramRules) -> _Prefix:
    """:func:`prefix_sums` of the words of ``text`` (the hot path of document scoring)."""
    return _Prefix(text_word_hashes(text, rules))


def ngram_hashes(ws: Sequence[str], lengths: Iterable[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All n-gram hashes of a word sequence for each length: (hashes, start word index, length)."""
    lengths = sorted(set(lengths))
    if not ws or not lengths:
        e = np.empty(0, dtype=np.uint64)
        return e, np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int16)
    pre = prefix_sums(ws)
    hs, starts, ks = [], [], []
    for k in lengths:
        h = pre.ngrams(k)
        hs.append(h)
        starts.append(np.arange(len(h), dtype=np.int64))
        ks.append(np.full(len(h), k, dtype=np.int16))
    return np.concatenate(hs), np.concatenate(starts), np.concatenate(ks)


def fields_ngram_hashes(
    fields: Sequence[str], rules: NgramRules
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """N-gram hashes of many evaluation fields at once: (hash, length, probe hash, field number).

    A field with at least ``n`` words contributes all its n-grams; a field with ``min_n..n-1`` words
    contributes itself as one n-gram of its own length (GPT-3 Appendix C shortens n for short items);
    shorter fields contribute nothing (too short to be evidence). N-grams never span two fields. The
    probe hash of an n-gram is the hash of its first ``min_n`` words: documents are probed with their
    ``min_n``-grams only, and full hashes are computed just where a probe hits. Vectorised over all
    fields (one prefix structure over the concatenated words).
    """
    all_words: list[str] = []
    bounds = [0]
    for text in fields:
        all_words.extend(words(text, rules))
        bounds.append(len(all_words))
    b = np.asarray(bounds, dtype=np.int64)
    m = np.diff(b)
    use = np.flatnonzero(m >= rules.min_n)
    if len(use) == 0:
        e = np.empty(0, dtype=np.uint64)
        return e, np.empty(0, dtype=np.int16), e, np.empty(0, dtype=np.int64)
    k_field = np.minimum(m[use], rules.n)
    count = m[use] - k_field + 1  # n-grams per used field
    field = np.repeat(use, count)
    first = np.repeat(np.cumsum(count) - count, count)
    starts = b[field] + (np.arange(len(field)) - first)
    ks = np.repeat(k_field, count)
    pre = prefix_sums(all_words)
    return pre.ngrams_at(starts, ks), ks.astype(np.int16), pre.ngrams_at(starts, rules.min_n), field


def item_ngram_hashes(
    field_texts: Iterable[str], rules: NgramRules
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct n-gram hashes of one evaluation item, the length of each and its probe hash."""
    h, k, pr, _ = fields_ngram_hashes(list(field_texts), rules)
    uniq, first = np.unique(h, return_index=True)
    return uniq, k[first], pr[first]
