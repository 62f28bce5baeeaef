"""Counting a :class:`~curation.stages.toxicity.terms.TermMatcher`'s matches in a long text without making
its words: the bias probe's scan of whole documents (issue 21).

:meth:`TermMatcher.labels` splits a text into word strings, counts them and looks the distinct ones up.
For a whole document almost none of those words is a term, so here the words stay positions: the word
runs of the case-folded text come from the code-point mask of :mod:`wordsplit` (the same words as the
regex, as :func:`wordsplit.split_folded` gives them), each run gets a cheap numeric key (its length and
its first, second and last code points, mixed into a slot of a table of flags), and only the runs whose
slot is a term word's are sliced out of the text and looked up exactly. Equal words have equal slots, so
no term word is missed; a run whose slot collides with a term's is rejected by the exact look-up. The
matches are then made as :meth:`TermMatcher.labels` makes them (longest multi-word term first, left to
right, non-overlapping; then the one-word terms of the words no multi-word match covers).

Texts whose case folding changes their length (``ß`` -> ``ss``) and matchers with stems (``stem*``: any
word could match) are left to :meth:`TermMatcher.labels`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from curation.stages.toxicity.terms import TermMatcher
from curation.stages.toxicity.wordsplit import word_runs

_U32 = np.uint32
# odd 32-bit multipliers (any fixed mix will do: slots only pre-select runs for the exact look-up)
_K_LEN, _K_FIRST, _K_SECOND, _K_LAST = _U32(0x9E3779B1), _U32(0x85EBCA77), _U32(0xC2B2AE3D), _U32(0x27D4EB2F)
SLOT_BITS = 20  # a table of 2**20 flags: ~600 term words fill 0.06% of it


def run_slots(cps: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """A slot in ``[0, 2**SLOT_BITS)`` of each run ``cps[start:end]`` (non-empty), mixed from its length
    and its first, second (the first again for a one-character run) and last code points: equal runs
    get equal slots."""
    if not len(starts):
        return np.empty(0, dtype=_U32)
    first = cps[starts].astype(_U32)
    second = cps[np.minimum(starts + 1, ends - 1)].astype(_U32)
    last = cps[ends - 1].astype(_U32)
    mixed = (ends - starts).astype(_U32) * _K_LEN + first * _K_FIRST + second * _K_SECOND + last * _K_LAST
    return mixed >> _U32(32 - SLOT_BITS)  # the high bits depend on every input bit


def slot_table(words: Iterable[str]) -> np.ndarray:
    """Flags over the slots: set at the :func:`run_slots` of ``words`` (case-folded words, no space in
    any), computed the same way as a text's runs: from the words joined by spaces."""
    table = np.zeros(1 << SLOT_BITS, dtype=bool)
    ws = [w for w in words if w]
    if ws:
        cps, starts, ends = word_runs(" ".join(ws))
        table[run_slots(cps, starts, ends)] = True
    return table


@dataclass(frozen=True)
class KeyedTerms:
    """A matcher's words as keys, built once per worker: :meth:`labels` counts a long text's matches.

    ``keep``: which labels to return (the probe keeps identity labels only); multi-word terms of any
    label are still matched, since a match covers the words under it."""

    matcher: TermMatcher
    keep: Callable[[str], bool]
    table: np.ndarray  # slots of the one-word terms kept and of the first words of multi-word terms
    singles: frozenset[str]  # one-word terms whose label is kept

    @classmethod
    def build(cls, matcher: TermMatcher, keep: Callable[[str], bool]) -> KeyedTerms:
        singles = frozenset(w for (w, *rest), (label, _) in matcher.exact.items() if not rest and keep(label))
        return cls(matcher, keep, slot_table(singles | matcher.firsts), singles)

    def labels(self, text: str) -> tuple[list[tuple[str, str]], int]:
        """The kept ``(label, term)`` pairs of :meth:`TermMatcher.labels` (a multiset) and the word count."""
        m = self.matcher
        folded = text.casefold()
        if m.stems or len(folded) != len(text):
            found, n = m.labels(text)
            return [lt for lt in found if self.keep(lt[0])], n
        cps, starts, ends = word_runs(folded)
        n = len(starts)
        at = np.flatnonzero(self.table[run_slots(cps, starts, ends)])
        if not len(at):
            return [], n

        def word(i: int) -> str:
            return folded[int(starts[i]) : int(ends[i])]

        cand = [
            (i, folded[a:b])
            for i, a, b in zip(at.tolist(), starts[at].tolist(), ends[at].tolist(), strict=True)
        ]
        multi = self._multi(cand, word, n)
        out = [lab for _, _, lab in multi if self.keep(lab[0])]
        covered = {j for i, k, _ in multi for j in range(i, i + k)}
        exact, singles = m.exact, self.singles
        out.extend(exact[(w,)] for i, w in cand if w in singles and i not in covered)
        return out, n

    def _multi(
        self, cand: list[tuple[int, str]], word: Callable[[int], str], n: int
    ) -> list[tuple[int, int, tuple[str, str]]]:
        """:meth:`TermMatcher._multi_matches` from the candidate positions: at each first word followed by
        one of its terms' second words, the longest multi-word term; then those starting inside an
        earlier one dropped."""
        m = self.matcher
        exact, top, follows = m.exact, m.max_len, m.follows
        found = []
        for i, w in cand:
            nxt = follows.get(w)
            if nxt is None or i + 1 >= n or word(i + 1) not in nxt:
                continue
            ws = [w, *(word(j) for j in range(i + 1, min(n, i + top)))]
            for k in range(len(ws), 1, -1):
                lab = exact.get(tuple(ws[:k]))
                if lab is not None:
                    found.append((i, k, lab))
                    break
        out, end = [], 0
        for i, k, lab in found:
            if i >= end:
                out.append((i, k, lab))
                end = i + k
        return out
