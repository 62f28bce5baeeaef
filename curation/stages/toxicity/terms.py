"""Whole-word term matching for word lists (toxicity lexicon, identity terms, descriptors).

Text is split into case-folded words once; terms of one or more words are looked up in a dict keyed by
word tuples (longest match first, so ``african american`` is one mention, not also ``american``), and
stems written ``stem*`` match any word starting with the stem. Cost is linear in the number of words
(a few dict lookups per word), with no giant regex alternation and no substring false positives
("Scunthorpe problem").
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import accumulate

from curation.stages.toxicity.wordsplit import split_folded

_WORD_RE = re.compile(r"\w+(?:['’]\w+)*")


def words(text: str) -> list[tuple[str, int, int]]:
    """Case-folded words of ``text`` with their ``[start, end)`` offsets."""
    return [(m.group().casefold(), m.start(), m.end()) for m in _WORD_RE.finditer(text)]


def _fold_each(ws: list[str]) -> list[str]:
    """``[w.casefold() for w in ws]`` in one C-speed pass: case folding maps characters one by one and
    keeps NUL, which no word contains, so folding the NUL-joined words and splitting gives each folded."""
    return "\x00".join(ws).casefold().split("\x00") if ws else []


def folded_words(text: str) -> list[str]:
    """The words of :func:`words` without offsets, at C speed where possible.

    Case folding never shortens a character, so when the folded text has the same length every
    character folded to exactly one character and splitting the folded text gives the folded words.
    """
    folded = text.casefold()
    if len(folded) == len(text):
        return _WORD_RE.findall(folded)
    return _fold_each(_WORD_RE.findall(text))


def windows_matching(pattern: re.Pattern[str] | None, texts: Sequence[str]) -> set[int]:
    """Indices of ``texts`` where ``pattern`` matches, in one regex pass over the joined batch."""
    if pattern is None or not texts:
        return set()
    starts = list(accumulate((len(t) + 1 for t in texts), initial=0))
    joined = "\x00".join(texts)
    return {bisect_right(starts, m.start()) - 1 for m in pattern.finditer(joined)}


def windows_containing(subs: Iterable[str], texts: Sequence[str]) -> set[int]:
    """Indices of ``texts`` that contain any of ``subs`` as a substring: a superset of
    :func:`windows_matching` with a matcher's ``stem_re`` (stems at a word start) found with ``str.find``
    over the joined batch, several times faster than the regex; a text is searched no further once found."""
    subs = [x for x in subs if x]
    if not subs or not texts:
        return set()
    starts = list(accumulate((len(t) + 1 for t in texts), initial=0))
    joined = "\x00".join(texts)
    out: set[int] = set()
    for sub in subs:
        pos = joined.find(sub)
        while pos >= 0:
            k = bisect_right(starts, pos) - 1
            out.add(k)
            pos = joined.find(sub, starts[k + 1]) if k + 1 < len(texts) else -1
    return out


_FORMS_RE = re.compile(r"\(([^()]*)\)")


def expand_forms(term: str) -> tuple[str, ...]:
    """Every form a term with ``(a|b)`` groups spells: ``cul(o|i)`` -> ``culo``, ``culi``; ``x(|e)`` -> ``x``,
    ``xe``; several groups multiply. A term without groups is itself. (Parentheses and ``|``, not braces
    and commas, so terms stay plain scalars inside YAML flow lists.)"""
    m = _FORMS_RE.search(term)
    if m is None:
        return (term,)
    head, tail = term[: m.start()], term[m.end() :]
    return tuple(
        dict.fromkeys(f for alt in m.group(1).split("|") for f in expand_forms(f"{head}{alt.strip()}{tail}"))
    )


def forms_balanced(term: str) -> bool:
    """Whether ``term``'s form groups are well formed (non-nested ``(...)`` groups only)."""
    rest = _FORMS_RE.sub("", term)
    return "(" not in rest and ")" not in rest


def tokenize_many(texts: Sequence[str]) -> list[tuple[str, Sequence[str]]]:
    """:func:`tokenize` of each text, in one numpy pass over the batch (:func:`wordsplit.split_folded`:
    the same words as the regex, ~10% less CPU on the dev corpus's windows than a ``findall`` each)."""
    return split_folded(texts, _regex_words)


_NUMPY_MIN_CHARS = 256  # below this, one findall beats numpy's per-call set-up


def tokenize(text: str) -> tuple[str, Sequence[str]]:
    """``(case-folded text, its words)``: computed once per window and shared by every matcher.

    Long texts (the bias probe's whole documents) go through :func:`wordsplit.split_folded` (the same
    words; about half the CPU of the regex on the dev corpus's documents)."""
    if len(text) >= _NUMPY_MIN_CHARS:
        return split_folded([text], _regex_words)[0]
    return _regex_tokenize(text)


def _regex_tokenize(text: str) -> tuple[str, tuple[str, ...]]:
    """:func:`tokenize` by the regex: ``findall`` on the folded text, or, when folding changes the
    text's length, on the text itself with its words folded one by one."""
    folded = text.casefold()
    ws = (
        _WORD_RE.findall(folded)
        if len(folded) == len(text)
        else _fold_each(_WORD_RE.findall(text))
    )
    return folded, tuple(ws)


def _regex_words(text: str) -> tuple[str, ...]:
    return _regex_tokenize(text)[1]


def word_positions(ws: Sequence[str], targets: Iterable[str]) -> list[int]:
    """Sorted indices ``i`` with ``ws[i]`` in ``targets``, found with C-speed ``str.find`` (words hold no
    space): in the words joined by single spaces, with a space before each, word ``i`` follows the
    ``i``-th space, so an occurrence of `` w `` at character ``p`` is word ``count(" ", 0, p)`` (counted
    incrementally between sorted occurrences: linear in the text, not a Python step per word)."""
    targets = list(targets)
    if not targets:
        return []
    line = " " + " ".join(ws) + " "
    hits = []
    for w in targets:
        needle = f" {w} "
        p = line.find(needle)
        while p >= 0:
            hits.append(p)
            p = line.find(needle, p + 1)
    out, pos, words = [], 0, 0
    for p in sorted(hits):
        words += line.count(" ", pos, p)
        pos = p
        out.append(words)
    return out


_SET_MIN_WORDS = 256  # above this many words, labels() makes the words' set once


@dataclass(frozen=True)
class Match:
    label: str  # the label the term was registered with (e.g. "religion/muslim" or "strong")
    term: str
    start: int
    end: int


@dataclass
class TermMatcher:
    """Match labelled terms in text. Build once (per worker or per call site), reuse for every text."""

    exact: dict[tuple[str, ...], tuple[str, str]] = field(default_factory=dict)
    stems: dict[str, tuple[str, str]] = field(default_factory=dict)
    max_len: int = 1
    firsts: set[str] = field(default_factory=set)  # first words of multi-word terms
    stem_lengths: tuple[int, ...] = ()
    singles: frozenset[str] = frozenset()  # one-word exact terms (a C-speed disjointness pre-check)
    seconds: frozenset[str] = frozenset()  # second words of multi-word terms (with firsts: a pre-check)
    stem_re: re.Pattern[str] | None = None  # any stem at a word start (pre-check over the folded text)
    follows: dict[str, frozenset[str]] = field(default_factory=dict)  # first word -> its terms' second words
    starts: frozenset[str] = frozenset()  # every word a match of an exact term can start with

    @classmethod
    def build(cls, labelled: Mapping[str, Iterable[str]]) -> TermMatcher:
        """``labelled`` maps a label to its terms. A term listed under two labels keeps the first label."""
        m = cls()
        for label in labelled:
            for raw in labelled[label]:
                term = raw.strip().casefold()
                if not term:
                    continue
                if term.endswith("*") and " " not in term:
                    m.stems.setdefault(term[:-1], (label, raw))
                    continue
                key = tuple(w for w, _, _ in words(term))
                if key:
                    m.exact.setdefault(key, (label, raw))
                    if len(key) > 1:
                        m.firsts.add(key[0])
                    m.max_len = max(m.max_len, len(key))
        m.stem_lengths = tuple(sorted({len(s) for s in m.stems}, reverse=True))
        m.singles = frozenset(k[0] for k in m.exact if len(k) == 1)
        m.seconds = frozenset(k[1] for k in m.exact if len(k) > 1)
        m.starts = m.singles | m.firsts
        follows: dict[str, set[str]] = {}
        for k in m.exact:
            if len(k) > 1:
                follows.setdefault(k[0], set()).add(k[1])
        m.follows = {f: frozenset(v) for f, v in follows.items()}
        if m.stems:
            alt = "|".join(re.escape(s) for s in sorted(m.stems, key=lambda x: (-len(x), x)))
            m.stem_re = re.compile(rf"(?<!\w)(?:{alt})")
        return m

    def find(self, text: str, toks: list[tuple[str, int, int]] | None = None) -> list[Match]:
        """Non-overlapping matches in ``text`` (pass ``toks`` = :func:`words` output to reuse it)."""
        toks = words(text) if toks is None else toks
        return [
            Match(label, term, toks[i][1], toks[i + k - 1][2])
            for i, k, (label, term) in self._scan([t[0] for t in toks])
        ]

    def labels(
        self, text: str, tokens: tuple[str, Sequence[str]] | None = None, stems: bool | None = None
    ) -> tuple[list[tuple[str, str]], int]:
        """``(label, term)`` of every match of :meth:`find` (in no particular order) and the word count.

        For counting, offsets are not needed: when no first word of a multi-word term occurs, every match
        is a single word, so the words are counted once and each distinct word is looked up once.
        ``tokens``: :func:`tokenize` of ``text`` if already computed; ``stems``: whether a stem may occur
        (``None``: check; a caller that ran :func:`windows_matching` with ``stem_re`` over a batch knows).
        """
        folded, ws = tokens if tokens is not None else tokenize(text)
        n = len(ws)
        # a long text is counted once (first-occurrence order, as before) and its set operations run on
        # its distinct words: one pass over the words instead of one per check
        counts = Counter(ws) if n > _SET_MIN_WORDS else None
        wset = ws if counts is None else counts
        if not self.firsts.isdisjoint(wset) and not self.seconds.isdisjoint(wset):
            multi = self._multi_matches(ws, wset)
            if multi:
                return self._labels_around(ws, multi, counts), n
        if stems is None:
            stems = self.stem_re is not None and self.stem_re.search(folded) is not None
        exact = self.exact
        if not stems:  # only one-word terms can match: look up just the words that are terms
            hits = self.singles.intersection(wset)
            if not hits:
                return [], n
            if len(hits) == 1:
                (w,) = hits
                return [exact[(w,)]] * (ws.count(w) if counts is None else counts[w]), n
            if n <= 64:  # in first-occurrence order, as the Counter path below gives them
                order = sorted(hits, key=ws.index)
                return [lab for w in order for lab in [exact[(w,)]] * ws.count(w)], n
            counts = Counter(ws) if counts is None else counts
            return [lab for w in filter(hits.__contains__, counts) for lab in [exact[(w,)]] * counts[w]], n
        out: list[tuple[str, str]] = []
        for w, count in (Counter(ws) if counts is None else counts).items():
            lab = exact.get((w,)) or (self._stem(w) if stems else None)
            if lab is not None:
                out.extend([lab] * count)
        return out, n

    def _has_multi(self, ws: Sequence[str]) -> bool:
        """Whether a multi-word term occurs (else the per-distinct-word path gives the same matches)."""
        return bool(self._multi_matches(ws))

    def _multi_matches(
        self, ws: Sequence[str], wset: Iterable[str] | None = None
    ) -> list[tuple[int, int, tuple[str, str]]]:
        """The multi-word matches :meth:`_scan` makes: ``(start word, length, label)``, in order.

        The scan takes, at each word it reaches, the longest term starting there, and skips the words a
        match covers; a one-word match covers only itself. So its multi-word matches are the longest
        multi-word term at each position where one starts, left to right, less those starting inside
        an earlier one. A multi-word term can only start where a first word is followed by one of its
        terms' second words: first words are located with :func:`word_positions` (C-speed ``str.find``),
        so a long document is not walked once per common first word ("old", "first", "two"). ``wset``:
        ``ws`` or its set (set operations on a long document's distinct words, not on every word)."""
        exact, top, n, follows = self.exact, self.max_len, len(ws), self.follows
        wset = ws if wset is None else wset
        present = self.seconds.intersection(wset)
        starts = [f for f in self.firsts.intersection(wset) if not follows[f].isdisjoint(present)]
        found = []
        for i in word_positions(ws, starts):
            if i + 1 >= n or ws[i + 1] not in follows[ws[i]]:
                continue  # no term starting with this word goes on with the next one
            for k in range(min(top, n - i), 1, -1):
                lab = exact.get(tuple(ws[i : i + k]))
                if lab is not None:
                    found.append((i, k, lab))
                    break
        out, end = [], 0
        for i, k, lab in found:
            if i >= end:
                out.append((i, k, lab))
                end = i + k
        return out

    def _labels_around(
        self,
        ws: Sequence[str],
        multi: list[tuple[int, int, tuple[str, str]]],
        counts: Counter[str] | None = None,
    ) -> list[tuple[str, str]]:
        """Labels of :meth:`_scan` given its multi-word matches: those, and every word they do not cover
        looked up once per distinct word (counted). ``counts``: ``Counter(ws)`` if made (consumed)."""
        counts = Counter(ws) if counts is None else counts
        for i, k, _ in multi:
            counts.subtract(ws[i : i + k])
        exact, stems = self.exact, bool(self.stems)
        out = [lab for _, _, lab in multi]
        for w, c in counts.items():
            if c > 0:
                lab = exact.get((w,)) or (self._stem(w) if stems else None)
                if lab is not None:
                    out.extend([lab] * c)
        return out

    def _stem(self, w: str) -> tuple[str, str] | None:
        for ln in self.stem_lengths:
            if ln <= len(w):
                lab = self.stems.get(w[:ln])
                if lab is not None:
                    return lab
        return None

    def _scan(self, ws: Sequence[str]) -> Iterator[tuple[int, int, tuple[str, str]]]:
        """Longest-first, non-overlapping matches over folded words: ``(start word, length, label)``."""
        i, n = 0, len(ws)
        exact, firsts = self.exact, self.firsts
        while i < n:
            hit = None
            w = ws[i]
            top = min(self.max_len, n - i) if w in firsts else 1
            for k in range(top, 0, -1):
                lab = exact.get(tuple(ws[i : i + k]) if k > 1 else (w,))
                if lab is not None:
                    hit = (k, lab)
                    break
            if hit is None and self.stems:
                lab = self._stem(w)
                if lab is not None:
                    hit = (1, lab)
            if hit is None:
                i += 1
                continue
            yield i, hit[0], hit[1]
            i += hit[0]

    def __bool__(self) -> bool:
        return bool(self.exact or self.stems)
