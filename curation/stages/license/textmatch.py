"""Full-text and notice matching against the license knowledge base (a small, fast ScanCode-like matcher).

Every reference text (license text or rule from :mod:`kb`) is reduced to its set of word 3-gram shingles
(lower-cased ``[^_\\W]+`` tokens, as ScanCode tokenizes). One sorted numpy inverted index maps shingle ->
reference, so a single ``bincount`` gives, for *every* reference at once, how many of its shingles occur
in the query region (exact set intersection sizes, no sampling).

A reference is a candidate when it covers enough of itself (``coverage = |R & Q| / |R|`` at least the
rule's own ``minimum_coverage`` from the data, else a length-dependent floor from the rules file; short
rules must match completely). The winner maximises ``|R & Q| - penalty * |R - Q|``: the longest reference
that is (nearly) fully present wins. That is what separates near variants:

* BSD-3-Clause text contains BSD-2-Clause's shingles plus the "neither the name" clause, so on a BSD-3
  document BSD-3 explains more shingles and wins; on a BSD-2 document BSD-3 misses that clause and pays
  the penalty.
* ``GPL-2.0-or-later`` notices add "or (at your option) any later version" to the ``-only`` notice; the
  same arithmetic picks the right one.
* MIT vs ISC differ in most shingles and never compete.

After a winner, its shingles are removed from the query and the search repeats (a file may carry two
notices: their expressions are combined with AND; a matched exception attaches to the previous license
with WITH). Rules marked ``is_false_positive`` in the data consume their shingles without producing a
license. Reference: ScanCode Toolkit license detection (Ombredanne et al., nexB), whose data this uses.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import repeat
from typing import Any

import numpy as np

from curation.stages.license.kb import KnowledgeBase, RuleText

TOKEN_RE = re.compile(r"[^_\W]+")
_BITS = 20  # token ids < 2**20: three ids pack into 60 bits of an int64
_MASK = (1 << _BITS) - 1


@dataclass(frozen=True)
class MatchParams:
    """Thresholds of the matcher (``rules/license.yaml`` section ``text_match``)."""

    min_tokens: int = 2  # references shorter than this are not indexed (two-token tags match by bigram)
    min_relevance: int = 80  # ScanCode rule relevance (0-100) below which rules are not indexed
    kinds: tuple[str, ...] = ("text", "notice", "reference", "tag", "false_positive")
    full_match_below: int = 12  # references with fewer shingles must match completely
    min_coverage_short: float = 0.9  # coverage floor for references with < 60 shingles
    min_coverage_long: float = 0.8  # coverage floor for longer references
    missing_penalty: float = 2.0  # score = matched - penalty * missing shingles
    max_matches: int = 4  # notices per region
    min_new_shingles: int = 10  # a further match must explain at least this many new shingles
    secondary_kinds: tuple[str, ...] = ("text", "notice")  # kinds allowed after the first match


@dataclass(frozen=True, slots=True)
class TextMatch:
    """One matched reference: SPDX expression, its kind, coverage and name (for debugging/evidence)."""

    spdx: str
    kind: str
    coverage: float
    matched: int
    rule: str
    is_exception: bool


def tokenize(text: str) -> list[str]:
    return TOKEN_RE.findall(text.lower())


_BIGRAM_TAG = 1 << 61  # marks packed bigrams (only two-token references are indexed by bigram)


def _shingles(ids: np.ndarray, bigrams: bool) -> np.ndarray:
    """Unique packed 3-gram shingles of a token-id array (ids < 0 mark unknown tokens), plus bigrams."""
    parts = []
    if ids.size >= 3:
        a, b, c = ids[:-2], ids[1:-1], ids[2:]
        sh = (a << (2 * _BITS)) | (b << _BITS) | c
        parts.append(sh[(a >= 0) & (b >= 0) & (c >= 0)])
    if bigrams and ids.size >= 2:
        a, b = ids[:-1], ids[1:]
        parts.append(((a << _BITS) | b)[(a >= 0) & (b >= 0)] | _BIGRAM_TAG)
    if not parts:
        return np.empty(0, dtype=np.int64)
    s = np.sort(np.concatenate(parts))  # np.unique without its np.ma check (which imports numpy.ma)
    return s[np.concatenate(([True], s[1:] != s[:-1]))] if s.size else s


class TextMatcher:
    """The inverted index over the knowledge base. Build once per worker (a few seconds, ~100 MB)."""

    def __init__(self, kb: KnowledgeBase, params: MatchParams) -> None:
        self.params = params
        self.kb = kb
        vocab: dict[str, int] = {}
        refs: list[RuleText] = []
        sizes: list[int] = []
        shingle_sets: list[np.ndarray] = []
        required: list[tuple[np.ndarray, ...]] = []
        for ref in kb.texts:
            if ref.kind not in params.kinds or ref.relevance < params.min_relevance:
                continue
            toks = tokenize(ref.text)
            if len(toks) < params.min_tokens:
                continue
            for t in sorted(set(toks).difference(vocab)):  # sorted: ids independent of hash seed
                vocab[t] = len(vocab)
            ids = np.array(list(map(vocab.__getitem__, toks)), dtype=np.int64)
            sh = _shingles(ids, bigrams=len(toks) == 2)
            if sh.size == 0:
                continue
            refs.append(ref)
            required.append(self._required(ref.text, vocab))
            sizes.append(int(sh.size))
            shingle_sets.append(sh)
        if len(vocab) >= (1 << _BITS):
            raise ValueError("license vocabulary too large for packed shingles")
        self.vocab = vocab
        self.refs = refs
        self.required = required
        self.spdx = [kb.to_spdx(r.expression) if r.expression else "" for r in refs]
        later = vocab.get("later", -2)
        # An "or later" reference needs the word "later" in the query: what separates a GPL-2.0-or-later
        # notice from the same notice without "or (at your option) any later version" (GPL-2.0-only).
        self.needs_later = np.asarray(
            ["-or-later" in x for x in self.spdx], dtype=bool
        ) & np.asarray([later in (sh >> (2 * _BITS)) for sh in shingle_sets], dtype=bool)
        self._later_id = later
        self.exception = [bool(s) and all(kb.is_exception(k) for k in s.split()) for s in self.spdx]
        self.sizes = np.asarray(sizes, dtype=np.int64)
        keys = np.concatenate(shingle_sets)
        vals = np.repeat(np.arange(len(refs), dtype=np.int32), self.sizes)
        order = np.argsort(keys, kind="stable")
        self.keys = keys[order]
        self.vals = vals[order]
        self.sets = shingle_sets
        self._derive(params, [r.kind for r in refs], [r.minimum_coverage for r in refs])

    def _derive(self, params: MatchParams, kinds: Sequence[str], min_coverage: Sequence[int]) -> None:
        """Per-reference thresholds from ``params`` and the stored reference sizes / coverages / kinds."""
        p = params
        self.min_cov = np.where(self.sizes < 60, p.min_coverage_short, p.min_coverage_long)
        own = np.asarray(min_coverage, dtype=np.float64) / 100.0
        self.min_cov = np.maximum(self.min_cov, own)
        self.min_cov[self.sizes < p.full_match_below] = 1.0
        self.secondary_ok = np.asarray(
            [k in p.secondary_kinds or e for k, e in zip(kinds, self.exception, strict=True)]
        )

    # -- prebuilt index (curation/stages/license/index.py writes and reads these) --------------------------
    def state(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """Arrays and JSON metadata from which :meth:`from_state` rebuilds this matcher without the
        knowledge base's 37k files (the reference texts themselves are not needed after indexing)."""
        req_counts = np.asarray([len(r) for r in self.required], dtype=np.int64)
        phrases = [ph for r in self.required for ph in r]
        arrays = {
            "keys": self.keys,
            "vals": self.vals,
            "sizes": self.sizes,
            "sets": np.concatenate(self.sets) if self.sets else np.empty(0, dtype=np.int64),
            "needs_later": self.needs_later,
            "min_coverage": np.asarray([r.minimum_coverage for r in self.refs], dtype=np.int64),
            "req_counts": req_counts,
            "req_lengths": np.asarray([len(ph) for ph in phrases], dtype=np.int64),
            "req_flat": np.concatenate(phrases) if phrases else np.empty(0, dtype=np.int64),
        }
        meta = {
            "vocab": sorted(self.vocab, key=self.vocab.__getitem__),
            "names": [r.name for r in self.refs],
            "kinds": [r.kind for r in self.refs],
            "spdx": self.spdx,
            "exception": self.exception,
            "later_id": self._later_id,
        }
        return arrays, meta

    @classmethod
    def from_state(
        cls, arrays: dict[str, np.ndarray], meta: dict[str, Any], kb: KnowledgeBase, params: MatchParams
    ) -> TextMatcher:
        """The matcher saved by :meth:`state` (arrays may be read-only memory maps, shared by workers)."""
        self = cls.__new__(cls)
        self.params = params
        self.kb = kb
        self.vocab = {t: i for i, t in enumerate(meta["vocab"])}
        mins = arrays["min_coverage"].tolist()
        names, kinds = meta["names"], meta["kinds"]
        # Records made on access: building all 36k frozen dataclasses cost ~0.09 CPU-s of every worker's
        # set-up, and a run looks at a few dozen (the references that match).
        self.refs = _LoadedRefs(names, kinds, mins)
        self.spdx = list(meta["spdx"])
        self.exception = list(meta["exception"])
        self._later_id = int(meta["later_id"])
        self.sizes = np.asarray(arrays["sizes"])
        self.keys = arrays["keys"]
        self.vals = arrays["vals"]
        self.needs_later = np.asarray(arrays["needs_later"], dtype=bool)
        offsets = np.concatenate([[0], np.cumsum(self.sizes)]).tolist()
        # Plain ndarray views of the memory maps (no copy): slicing a np.memmap runs its Python
        # __array_finalize__ per slice, ~0.15 CPU-s for the 36k references at every worker start.
        flat = np.asarray(arrays["sets"])
        self.sets = [flat[a:b] for a, b in itertools.pairwise(offsets)]
        lengths = arrays["req_lengths"].tolist()
        ends = np.cumsum(lengths).tolist()
        req_flat = np.asarray(arrays["req_flat"])
        phrases = [req_flat[e - n : e] for n, e in zip(lengths, ends, strict=True)]
        required: list[tuple[np.ndarray, ...]] = []
        pos = 0
        for count in arrays["req_counts"].tolist():
            required.append(tuple(phrases[pos : pos + count]))
            pos += count
        self.required = required
        self._derive(params, kinds, mins)
        return self

    @staticmethod
    def _required(text: str, vocab: dict[str, int]) -> tuple[np.ndarray, ...]:
        """Shingles of the rule's ``{{required phrases}}`` (ScanCode rule syntax): all must be present."""
        if "{{" not in text:
            return ()
        out = []
        for phrase in re.findall(r"\{\{(.*?)\}\}", text, flags=re.DOTALL):
            ids = np.array([vocab.get(t, -1) for t in tokenize(phrase)], dtype=np.int64)
            if ids.size >= 2:
                out.append(_shingles(ids, bigrams=ids.size == 2))
        return tuple(out)

    def _token_ids(self, text: str) -> np.ndarray:
        """Vocabulary id of each token of ``text`` (-1: unknown), looked up in one C-level ``map``."""
        toks = tokenize(text)
        return np.fromiter(map(self.vocab.get, toks, repeat(-1)), dtype=np.int64, count=len(toks))

    def query_shingles(self, text: str) -> np.ndarray:
        return _shingles(self._token_ids(text), bigrams=True)

    def known_share(self, text: str) -> float:
        """Share of the word 3-grams of ``text`` that occur in some reference (0.0 without 3-grams).

        One ``searchsorted`` over the index: the cheap test of whether a region reads like license text
        (a license text scores near 1, source code near 0), before the full match runs on it."""
        q = _shingles(self._token_ids(text), bigrams=False)
        if q.size == 0:
            return 0.0
        pos = np.searchsorted(self.keys, q)
        pos[pos == len(self.keys)] = 0
        return float(np.count_nonzero(self.keys[pos] == q)) / q.size

    def _hits(self, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(references sharing a shingle with ``q``, ascending; how many each): the non-zero entries of
        ``bincount`` over all ~36k references, from a sort of the hit (shingle, reference) pairs instead
        when they are fewer than a quarter of the references (no dense array to fill and scan per round:
        0.042 -> 0.027 CPU-s on the dev regions); with more pairs, the ``bincount``."""
        left = self.keys.searchsorted(q, side="left")
        right = self.keys.searchsorted(q, side="right")
        lengths = right - left
        hit = lengths > 0
        left, lengths = left[hit], lengths[hit]
        total = int(lengths.sum())
        if total == 0:
            return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.int64)
        starts = np.repeat(left - np.cumsum(lengths) + lengths, lengths)
        idx = np.arange(total, dtype=np.int64) + starts
        v = np.asarray(self.vals)[idx]
        if total * 4 > len(self.refs):  # many pairs (a whole license text): counting beats sorting them
            counts = np.bincount(v, minlength=len(self.refs))
            nz = counts.nonzero()[0]
            return nz, counts[nz]
        v.sort()
        first = np.empty(total, dtype=bool)
        first[0] = True
        np.not_equal(v[1:], v[:-1], out=first[1:])
        run = first.nonzero()[0]
        counts = np.empty(len(run), dtype=np.int64)
        counts[:-1] = run[1:] - run[:-1]
        counts[-1] = total - run[-1]
        return v[run].astype(np.intp), counts

    def match(self, text: str) -> list[TextMatch]:
        """All references found in ``text``, in order of discovery (best first)."""
        q = self.query_shingles(text)
        has_later = re.search(r"(?i)\blater\b", text) is not None
        q_all = q
        found: list[TextMatch] = []
        p = self.params
        for _ in range(p.max_matches + 2):  # false positives may consume extra rounds
            if q.size < 1:
                break
            # Only references sharing a shingle with the query can match: every test runs on those
            # (ascending, so argmax breaks ties towards the lowest index as over all references).
            nz, c = self._hits(q)
            sizes = self.sizes[nz]
            cov = c / sizes
            ok = cov >= self.min_cov[nz]
            if not has_later:
                ok &= ~self.needs_later[nz]
            if found:
                ok &= (c >= p.min_new_shingles) & self.secondary_ok[nz]
            if not ok.any():
                break
            score = np.where(ok, c - p.missing_penalty * (sizes - c), -np.inf)
            j = int(np.argmax(score))
            best = int(nz[j])
            while self.required[best] and not all(np.isin(r, q_all).all() for r in self.required[best]):
                score[j] = -np.inf  # a required phrase is missing: next best
                j = int(np.argmax(score))
                best = int(nz[j])
                if score[j] == -np.inf:
                    break
            if score[j] == -np.inf:
                break
            ref = self.refs[best]
            q = np.setdiff1d(q, self.sets[best], assume_unique=True)
            if ref.kind == "false_positive":
                continue
            if any(_family(self.spdx[best]) == _family(f.spdx) for f in found):
                continue  # a leftover reference to a license already found (e.g. "GPL-2" file pointer)
            found.append(
                TextMatch(
                    spdx=self.spdx[best],
                    kind=ref.kind,
                    coverage=float(cov[j]),
                    matched=int(c[j]),
                    rule=ref.name,
                    is_exception=self.exception[best],
                )
            )
            if len(found) >= p.max_matches:
                break
        return found


_FAMILY_RE = re.compile(r"-(only|or-later)\b|\+")


def _family(expr: str) -> str:
    """A license expression without its version-range suffixes (GPL-2.0-only ~ GPL-2.0-or-later)."""
    return _FAMILY_RE.sub("", expr)


def combine(matches: Sequence[TextMatch]) -> str | None:
    """Combine matched expressions: AND between distinct notices, WITH for an exception (either order)."""
    licenses = [m for m in matches if not m.is_exception]
    exceptions = [m for m in matches if m.is_exception]
    if len(licenses) == 1 and " " not in licenses[0].spdx and exceptions:
        return f"{licenses[0].spdx} WITH {exceptions[0].spdx}"
    parts: list[str] = []
    for m in matches:
        expr = m.spdx if " " not in m.spdx or m.spdx.startswith("(") else f"({m.spdx})"
        if m.spdx not in parts and expr not in parts:
            parts.append(expr)
    if not parts:
        return None
    if len(parts) == 1:
        return parts[0][1:-1] if _wrapped(parts[0]) else parts[0]
    return " AND ".join(parts)


def _wrapped(expr: str) -> bool:
    """True if ``expr`` is one parenthesised group ``( ... )`` (not ``(a) AND (b)``)."""
    if not (expr.startswith("(") and expr.endswith(")")):
        return False
    depth = 0
    for i, ch in enumerate(expr):
        depth += ch == "("
        depth -= ch == ")"
        if depth == 0 and i < len(expr) - 1:
            return False
    return True


class _LoadedRefs(Sequence[RuleText]):
    """The reference records of a loaded index, as a read-only sequence that builds each
    :class:`RuleText` when first asked for (a loaded index keeps no expression or text; see
    :meth:`TextMatcher.from_state`)."""

    def __init__(self, names: list[str], kinds: list[str], mins: list[int]) -> None:
        self._names, self._kinds, self._mins = names, kinds, mins
        self._made: dict[int, RuleText] = {}

    def __len__(self) -> int:
        return len(self._names)

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(len(self)))]
        k = range(len(self._names))[i]  # bounds check and negative indices, as a list does
        ref = self._made.get(k)
        if ref is None:
            ref = self._made[k] = RuleText(self._names[k], "", self._kinds[k], "", 100, int(self._mins[k]))
        return ref

