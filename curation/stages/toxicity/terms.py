"""Whole-word term matching for word lists (toxicity lexicon, identity terms, descriptors).

Text is split into case-folded words once; terms of one or more words are looked up in a dict keyed by
word tuples (longest match first, so ``african american`` is one mention, not also ``american``), and
stems written ``stem*`` match any word starting with the stem. Cost is linear in the number of words
(a few dict lookups per word), with no giant regex alternation and no substring false positives
("Scunthorpe problem").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

_WORD_RE = re.compile(r"\w+(?:['’]\w+)*")


def words(text: str) -> list[tuple[str, int, int]]:
    """Case-folded words of ``text`` with their ``[start, end)`` offsets."""
    return [(m.group().casefold(), m.start(), m.end()) for m in _WORD_RE.finditer(text)]


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
        return m

    def find(self, text: str, toks: list[tuple[str, int, int]] | None = None) -> list[Match]:
        """Non-overlapping matches in ``text`` (pass ``toks`` = :func:`words` output to reuse it)."""
        toks = words(text) if toks is None else toks
        out: list[Match] = []
        i, n = 0, len(toks)
        exact, stems, firsts = self.exact, self.stems, self.firsts
        while i < n:
            hit = None
            w = toks[i][0]
            top = min(self.max_len, n - i) if w in firsts else 1
            for k in range(top, 0, -1):
                key = tuple(t[0] for t in toks[i : i + k]) if k > 1 else (w,)
                lab = exact.get(key)
                if lab is not None:
                    hit = (k, lab)
                    break
            if hit is None and stems:
                for ln in self.stem_lengths:
                    if ln <= len(w):
                        lab = stems.get(w[:ln])
                        if lab is not None:
                            hit = (1, lab)
                            break
            if hit is None:
                i += 1
                continue
            k, (label, term) = hit
            out.append(Match(label, term, toks[i][1], toks[i + k - 1][2]))
            i += k
        return out

    def __bool__(self) -> bool:
        return bool(self.exact or self.stems)
