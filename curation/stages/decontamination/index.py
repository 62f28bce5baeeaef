"""The n-gram index: sorted unique uint64 n-gram hashes with a CSR mapping hash -> evaluation items.

Compact and numpy-only, so it pickles cheaply as a Beam side input. A batch of documents is probed
with one vectorised bit-table lookup of their ``min_n``-gram hashes (``bitmap``, 16 bits per entry,
keyed by each entry's first ``min_n`` words), and only candidate positions are hashed at full length
and binary-searched (``np.searchsorted``). Layout (U hashes, P (hash, item) pairs, I items):
``hashes`` uint64[U], ``offsets`` int32[U+1], ``postings`` int32[P] (item numbers), ``item_set``
int16[I], ``item_ngrams`` int32[I] (distinct n-grams of the item before boilerplate filtering, the
denominator of coverage), ``item_ids`` (I strings), ``set_names``, ``lengths`` (n-gram lengths present).

The same structure is built per document from joined hits on the join path
(:meth:`NgramIndex.from_entries`), so both paths run the same matching code.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from curation.stages.decontamination.evalsets import EvalItem
from curation.stages.decontamination.ngrams import fields_ngram_hashes
from curation.stages.decontamination.rules import DecontaminationRules

_BUILD_BATCH = 20_000  # eval fields hashed per vectorised pass while building
ItemRef = tuple[str, str, int]  # (eval set, item id, distinct n-grams of the item)
Entry = tuple[int, int, int, tuple[ItemRef, ...]]  # (hash, n-gram length, probe hash, items sharing it)


@dataclass(frozen=True)
class NgramIndex:
    hashes: np.ndarray
    offsets: np.ndarray
    postings: np.ndarray
    item_set: np.ndarray
    item_ngrams: np.ndarray
    item_ids: tuple[str, ...]
    set_names: tuple[str, ...]
    items_per_set: tuple[int, ...]  # items read per eval set (found or not)
    bitmap: np.ndarray  # uint8 bit table over the top bits of the entries' probe hashes (a prefilter)
    bitmap_shift: int

    lengths: tuple[int, ...]  # distinct n-gram lengths present (documents are hashed for each)

    def __len__(self) -> int:
        return len(self.hashes)

    @property
    def nbytes(self) -> int:
        arrays = (
            self.hashes,
            self.offsets,
            self.postings,
            self.item_set,
            self.item_ngrams,
            self.bitmap,
        )
        return sum(a.nbytes for a in arrays) + sum(len(i) + 49 for i in self.item_ids)

    def candidates(self, probes: np.ndarray) -> np.ndarray:
        """Boolean mask: may an entry start where a document has this ``min_n``-gram probe hash?

        One memory probe per hash into a bit table with about 16 bits per entry (no false negatives,
        roughly 6% false candidates), so the full n-gram hashes of every length are computed and
        binary-searched only at candidate positions.
        """
        if len(self.hashes) == 0 or len(probes) == 0:
            return np.zeros(len(probes), dtype=bool)
        slot = probes >> np.uint64(self.bitmap_shift)
        bits = self.bitmap[slot >> np.uint64(3)] >> (slot & np.uint64(7)).astype(np.uint8)
        return (bits & 1).astype(bool)

    def find(self, hashes: np.ndarray) -> np.ndarray:
        """Index position of each full n-gram hash, or -1 where absent (vectorised binary search)."""
        if len(self.hashes) == 0 or len(hashes) == 0:
            return np.full(len(hashes), -1, dtype=np.int64)
        pos = np.searchsorted(self.hashes, hashes)
        pos[pos == len(self.hashes)] = 0
        return np.where(self.hashes[pos] == hashes, pos, -1)

    def items_at(self, pos: int) -> np.ndarray:
        return self.postings[self.offsets[pos] : self.offsets[pos + 1]]

    def item_ref(self, item: int) -> ItemRef:
        return (self.set_names[self.item_set[item]], self.item_ids[item], int(self.item_ngrams[item]))

    # -- construction ------------------------------------------------------------------------------------

    @classmethod
    def build(
        cls, items: Iterable[EvalItem], rules: DecontaminationRules, set_names: Sequence[str]
    ) -> NgramIndex:
        """Index evaluation items; items sharing (set, id) are merged into one item."""
        set_no = {s: i for i, s in enumerate(set_names)}
        key_no: dict[tuple[str, str], int] = {}
        item_set: list[int] = []
        item_ids: list[str] = []
        per_set = [0] * len(set_names)
        hs, ks, ps, idx = [], [], [], []
        batch_fields: list[str] = []
        batch_items: list[int] = []

        def flush() -> None:
            h, k, pr, field = fields_ngram_hashes(batch_fields, rules.ngram)
            hs.append(h)
            ks.append(k)
            ps.append(pr)
            idx.append(np.asarray(batch_items, dtype=np.int32)[field])
            batch_fields.clear()
            batch_items.clear()

        for it in items:
            key = (it.eval_set, it.item_id)
            no = key_no.get(key)
            if no is None:
                no = key_no[key] = len(item_ids)
                item_set.append(set_no[it.eval_set])
                item_ids.append(it.item_id)
                per_set[set_no[it.eval_set]] += 1
            batch_fields.extend(it.texts)
            batch_items.extend([no] * len(it.texts))
            if len(batch_fields) >= _BUILD_BATCH:
                flush()
        if batch_fields:
            flush()
        h = np.concatenate(hs) if hs else np.empty(0, np.uint64)
        k = np.concatenate(ks) if ks else np.empty(0, np.int16)
        pr = np.concatenate(ps) if ps else np.empty(0, np.uint64)
        i = np.concatenate(idx) if idx else np.empty(0, np.int32)
        h, k, pr, i = _unique_pairs(h, k, pr, i)
        item_ngrams = np.bincount(i, minlength=len(item_ids)).astype(np.int32)
        return cls._from_pairs(
            h,
            k,
            pr,
            i,
            rules.index.max_items_per_ngram,
            item_set=np.asarray(item_set, dtype=np.int16),
            item_ngrams=item_ngrams,
            item_ids=tuple(item_ids),
            set_names=tuple(set_names),
            items_per_set=tuple(per_set),
        )

    @classmethod
    def from_entries(cls, entries: Iterable[Entry], set_names: Sequence[str]) -> NgramIndex:
        """A (small) index from already-filtered join entries (hash, length, item refs)."""
        set_no = {s: i for i, s in enumerate(set_names)}
        key_no: dict[tuple[str, str], int] = {}
        item_set: list[int] = []
        item_ids: list[str] = []
        item_ngrams: list[int] = []
        hs, ks, ps, idx = [], [], [], []
        for h, k, pr, refs in entries:
            for s, iid, total in refs:
                no = key_no.get((s, iid))
                if no is None:
                    no = key_no[(s, iid)] = len(item_ids)
                    item_set.append(set_no[s])
                    item_ids.append(iid)
                    item_ngrams.append(total)
                hs.append(h)
                ks.append(k)
                ps.append(pr)
                idx.append(no)
        h_arr, k_arr, p_arr, i_arr = _unique_pairs(
            np.asarray(hs, dtype=np.uint64),
            np.asarray(ks, dtype=np.int16),
            np.asarray(ps, dtype=np.uint64),
            np.asarray(idx, dtype=np.int32),
        )
        return cls._from_pairs(
            h_arr,
            k_arr,
            p_arr,
            i_arr,
            0,
            item_set=np.asarray(item_set, dtype=np.int16),
            item_ngrams=np.asarray(item_ngrams, np.int32),
            item_ids=tuple(item_ids),
            set_names=tuple(set_names),
            items_per_set=(0,) * len(set_names),
        )

    @classmethod
    def _from_pairs(
        cls, h: np.ndarray, k: np.ndarray, pr: np.ndarray, i: np.ndarray, max_items: int, **items: object
    ) -> NgramIndex:
        uniq, start, count = np.unique(h, return_index=True, return_counts=True)
        keep = count <= max_items if max_items > 0 else np.ones(len(uniq), dtype=bool)
        pair_keep = np.repeat(keep, count)
        odt = np.int32 if len(i) < 2**31 else np.int64
        offsets = np.zeros(int(keep.sum()) + 1, dtype=odt)
        np.cumsum(count[keep], out=offsets[1:])
        hashes = uniq[keep]
        bitmap, shift = _bitmap(pr[start][keep])
        return cls(
            hashes=hashes,
            bitmap=bitmap,
            bitmap_shift=shift,
            offsets=offsets,
            postings=i[pair_keep].astype(np.int32),
            lengths=tuple(int(x) for x in np.unique(k[start][keep])),
            **items,  # type: ignore[arg-type]
        )


def _bitmap(hashes: np.ndarray) -> tuple[np.ndarray, int]:
    """A bit table with >= 16 bits per entry, addressed by the hashes' top bits (hashes are mixed)."""
    bits = max(10, int(np.ceil(np.log2(max(len(hashes), 1) * 16))))
    shift = 64 - bits
    table = np.zeros(1 << (bits - 3), dtype=np.uint8)
    slot = hashes >> np.uint64(shift)
    np.bitwise_or.at(table, slot >> np.uint64(3), np.left_shift(1, slot & np.uint64(7)).astype(np.uint8))
    return table, shift


def _unique_pairs(
    h: np.ndarray, k: np.ndarray, pr: np.ndarray, i: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Sort (hash, item) pairs by hash then item and drop repeated pairs (length, probe follow hash)."""
    order = np.lexsort((i, h))
    h, k, pr, i = h[order], k[order], pr[order], i[order]
    if len(h) > 1:
        first = np.ones(len(h), dtype=bool)
        first[1:] = (h[1:] != h[:-1]) | (i[1:] != i[:-1])
        h, k, pr, i = h[first], k[first], pr[first], i[first]
    return h, k, pr, i
