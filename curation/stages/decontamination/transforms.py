"""Beam wiring: the side-input path (index in every worker) and the join path (GroupByKey on hashes).

Both paths end in the same steps -- ``Account`` (token recount of cut documents, per-key counts) and
``Stats`` (the contamination report) -- and score documents with the same
:func:`~curation.stages.decontamination.match.score_batch_with_found`; the join path only replaces the
global index by a per-document index holding exactly the index entries whose hashes the document has,
so both paths make identical decisions.

Join path (eval sets larger than a worker's memory)::

    eval items -> GroupByKey(set, id) -> (hash, item) -> GroupByKey(hash) -> drop boilerplate n-grams
    docs -> distinct n-gram hashes -> (hash, doc id)
    CoGroupByKey(hash) -> (doc id, index entry) ; CoGroupByKey(doc id) with the documents -> score
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import apache_beam as beam
import numpy as np
from apache_beam import pvalue
from apache_beam.transforms.window import GlobalWindows

from curation import beamfn as lean
from curation.document import Document, Reject
from curation.stage import (
    COUNTS,
    KEPT,
    REJECTED,
    AccountingDoFn,
    CombineGlobal,
    Outcome,
    StageOutput,
    cpu_timed,
    retokenize,
    timed_iter,
)
from curation.stages.decontamination.decide import STAGE, Evidence, found_sets
from curation.stages.decontamination.evalsets import EvalItem, read_items
from curation.stages.decontamination.index import Entry, NgramIndex
from curation.stages.decontamination.match import distinct_doc_hashes, score_batch_with_found
from curation.stages.decontamination.ngrams import item_ngram_hashes
from curation.stages.decontamination.rules import DecontaminationOptions, DecontaminationRules, EvalSetSpec
from curation.stages.decontamination.stats import ContaminationStats
from curation.tokens import get_counter

FOUND = "found"
STATS = "stats"


def _emit(results: Iterable[tuple[Document, Outcome, list[Evidence]]]) -> Iterator[Any]:
    """Main output ``(before or None, outcome)``; found items to the ``found`` output."""
    for before, out, found in results:
        for e in found:
            yield pvalue.TaggedOutput(FOUND, (e.eval_set, e.item_id))
        changed = isinstance(out, Document) and out.text != before.text
        yield (before if changed else None, out)


class _IndexMatchDoFn(lean.LeanDoFn):
    """Side-input path: score documents against the whole index, ``batch_size`` at a time (the rest at
    bundle end). Batched here rather than by a ``BatchElements`` step before it: a leaf transform and a
    hop per document less, and full batches from the start (``BatchElements`` grows its batches from 1 by
    timing them, while ``batch_hits`` does its work once per batch). The index is the global window's
    side input: the one seen by ``process`` serves the bundle's last, partial batch."""

    def __init__(self, rules: DecontaminationRules, batch_size: int = 256) -> None:
        self.rules = rules
        self.batch_size = max(1, batch_size)

    def start_bundle(self) -> None:
        self._batch: list[Document] = []
        self._index: NgramIndex | None = None

    def process(self, doc: Document, index: NgramIndex) -> Iterator[Any]:
        self._index = index
        self._batch.append(doc)
        if len(self._batch) >= self.batch_size:
            batch, self._batch = self._batch, []
            return timed_iter(STAGE, self._match(batch, index))
        return iter(())

    def finish_bundle(self) -> Iterator[Any]:
        if not self._batch:
            return
        batch, self._batch = self._batch, []
        assert self._index is not None
        for out in timed_iter(STAGE, self._match(batch, self._index)):
            if isinstance(out, pvalue.TaggedOutput):
                yield pvalue.TaggedOutput(out.tag, GlobalWindows.windowed_value(out.value))
            else:
                yield GlobalWindows.windowed_value(out)

    def _match(self, batch: Sequence[Document], index: NgramIndex) -> Iterator[Any]:
        results = score_batch_with_found(batch, index, self.rules)
        yield from _emit((b, o, f) for b, (o, f) in zip(batch, results, strict=True))


class _JoinMatchDoFn(lean.LeanDoFn):
    """Join path: score each document against the index entries joined to it."""

    def __init__(self, rules: DecontaminationRules, set_names: tuple[str, ...]) -> None:
        self.rules = rules
        self.set_names = set_names

    def process(self, element: tuple[str, dict[str, Iterable[Any]]]) -> Iterator[Any]:
        return timed_iter(STAGE, self._match(element))

    def _match(self, element: tuple[str, dict[str, Iterable[Any]]]) -> Iterator[Any]:
        _, grouped = element
        entries: list[Entry] = sorted((_u64(h), k, _u64(pr), refs) for h, k, pr, refs in grouped["hits"])
        index = NgramIndex.from_entries(entries, self.set_names) if entries else None
        for doc in grouped["doc"]:
            if index is None:
                yield (None, doc)
                continue
            ((out, found),) = score_batch_with_found([doc], index, self.rules)
            yield from _emit([(doc, out, found)])


class _AccountDoFn(AccountingDoFn):
    """Recount tokens of cut documents, count kept/rejected per key, emit contamination records."""

    def __init__(self, tokenizer: str) -> None:
        super().__init__(STAGE)
        self.tokenizer = tokenizer

    def setup(self) -> None:
        get_counter(self.tokenizer)

    def process(self, pair: tuple[Document | None, Outcome]) -> Iterator[Any]:
        return timed_iter(STAGE, self._account(pair))

    def _account(self, pair: tuple[Document | None, Outcome]) -> Iterator[Any]:
        before, out = pair
        if isinstance(out, Reject):
            self.acc.rejected(out.doc, out)
            sets = out.doc.signals.get(f"{STAGE}.eval_sets") or []
            yield pvalue.TaggedOutput(
                STATS, ("doc", out.doc.source_kind, tuple(sets), "drop", out.doc.token_count)
            )
            yield pvalue.TaggedOutput(REJECTED, out)
            return
        if before is None:
            self.acc.kept(out, out)
            yield out
            return
        out = retokenize(before, out, self.tokenizer)
        self.acc.kept(before, out)
        sets = tuple(out.signals.get(f"{STAGE}.eval_sets") or ())
        removed = max(0, before.token_count - out.token_count)
        yield pvalue.TaggedOutput(STATS, ("doc", out.source_kind, sets, "cut", removed))
        yield out


def _u64(signed: int) -> int:
    """Join keys travel as signed 64-bit ints (portable coders); back to the uint64 value."""
    return signed & 0xFFFFFFFFFFFFFFFF


def _sorted_tuple(values: Iterable[int]) -> tuple[int, ...]:
    return tuple(sorted(values))


class DecontaminationStage(beam.PTransform):
    """The decontamination stage: ``PCollection[Document]`` -> :class:`StageOutput` (with stats)."""

    def __init__(
        self, rules: DecontaminationRules, options: DecontaminationOptions, tokenizer: str, use_join: bool
    ) -> None:
        super().__init__(label=STAGE)
        self.rules = rules
        self.options = options
        self.tokenizer = tokenizer
        self.use_join = use_join

    @property
    def set_names(self) -> tuple[str, ...]:
        return tuple(es.name for es in self.options.eval_sets)

    def expand(self, docs: beam.PCollection) -> StageOutput:
        p = docs.pipeline
        if self.use_join:
            specs = p | "EvalSets" >> beam.Create(list(self.options.eval_sets))
            matched, item_totals = self._join(docs, specs)
        else:
            matched, item_totals = self._side_input(docs)
        results = matched[KEPT] | "Account" >> beam.ParDo(_AccountDoFn(self.tokenizer)).with_outputs(
            REJECTED, COUNTS, STATS, main=KEPT
        )
        counts = results[COUNTS]  # partial sums per bundle, summed with every stage's for stages.json
        found = (
            matched[FOUND]
            | "DistinctFound" >> beam.Distinct()
            | "FoundRecord" >> lean.Map(lambda key: ("found", key[0], 1))
        )
        stats = (
            (item_totals, found, results[STATS])
            | "CombineStats" >> CombineGlobal(ContaminationStats())
            | "NameStats" >> lean.Map(lambda d: ("contamination", d))
        )
        return StageOutput(kept=results[KEPT], rejected=results[REJECTED], counts=counts, stats=stats)

    def _side_input(self, docs: beam.PCollection) -> tuple[Any, beam.PCollection]:
        # The eval-set specs are configuration, known when the graph is built: one step reads and indexes
        # them all (no Create + global collect of the specs: 12 leaf transforms and 2 shuffles fewer).
        rules, names, id_field = self.rules, self.set_names, self.rules.index.id_field
        specs = list(self.options.eval_sets)
        index = (
            docs.pipeline
            | "EvalSets" >> beam.Impulse()
            | "BuildIndex"
            >> lean.Map(cpu_timed(STAGE, lambda _: build_index(specs, rules, names, id_field)))
        )
        totals = index | "ItemTotals" >> lean.FlatMap(
            lambda idx: [("items", s, n) for s, n in zip(idx.set_names, idx.items_per_set, strict=True)]
        )
        matched = (
            docs
            | "Match"
            >> beam.ParDo(
                _IndexMatchDoFn(rules, self.options.batch_size), index=pvalue.AsSingleton(index)
            ).with_outputs(
                FOUND, main=KEPT
            )
        )
        return matched, totals

    def _join(self, docs: beam.PCollection, specs: beam.PCollection) -> tuple[Any, beam.PCollection]:
        rules, id_field = self.rules, self.rules.index.id_field
        max_items = rules.index.max_items_per_ngram
        items = (
            specs
            | "ReadItems" >> lean.FlatMap(read_items, id_field)
            | "KeyItems" >> lean.Map(lambda it: ((it.eval_set, it.item_id), it.texts))
            | "MergeItems" >> beam.GroupByKey()
        )
        totals = items | "ItemTotals" >> lean.Map(lambda kv: ("items", kv[0][0], 1))
        by_hash = (
            items
            | "ItemNgrams" >> lean.FlatMap(cpu_timed(STAGE, item_entries), rules)
            | "GroupEvalNgrams" >> beam.GroupByKey()
            | "DropBoilerplate" >> lean.FlatMap(filter_entry, max_items)
        )
        lengths = pvalue.AsSingleton(
            by_hash
            | "Lengths" >> lean.Map(lambda kv: kv[1][0])
            | "DistinctLengths" >> beam.Distinct()
            | "LengthList" >> CombineGlobal(beam.combiners.ToListCombineFn())
            | "LengthTuple" >> lean.Map(_sorted_tuple)
        )
        keyed_docs = docs | "KeyDocs" >> lean.Map(lambda d: (d.id, d))
        doc_hashes = docs | "DocNgrams" >> lean.FlatMap(cpu_timed(STAGE, doc_entries), rules, lengths)
        hits = (
            {"eval": by_hash, "docs": doc_hashes}
            | "JoinNgrams" >> beam.CoGroupByKey()
            | "Hits" >> lean.FlatMap(cpu_timed(STAGE, hits_per_doc))
        )
        matched = (
            {"doc": keyed_docs, "hits": hits}
            | "RegroupPerDoc" >> beam.CoGroupByKey()
            | "Match" >> beam.ParDo(_JoinMatchDoFn(rules, self.set_names)).with_outputs(FOUND, main=KEPT)
        )
        return matched, totals


def build_index(
    specs: Sequence[EvalSetSpec], rules: DecontaminationRules, set_names: Sequence[str], id_field: str
) -> NgramIndex:
    """Read every eval set once and index it (side-input path; order of ``specs`` is irrelevant)."""
    by_name = {s.name: s for s in specs}
    items = (it for name in set_names for it in read_items(by_name[name], id_field))
    return NgramIndex.build(items, rules, set_names)


def item_entries(
    kv: tuple[tuple[str, str], Iterable[tuple[str, ...]]], rules: DecontaminationRules
) -> Iterator[tuple[int, tuple[int, tuple[str, str, int]]]]:
    """(hash, (length, item ref)) for each distinct n-gram of a merged item (hash as signed int64)."""
    (eval_set, item_id), texts_list = kv
    texts = [t for texts in texts_list for t in texts]
    hashes, ks, probes = item_ngram_hashes(texts, rules.ngram)
    ref = (eval_set, item_id, len(hashes))
    for h, k, pr in zip(
        hashes.view(np.int64).tolist(), ks.tolist(), probes.view(np.int64).tolist(), strict=True
    ):
        yield h, (k, pr, ref)


def filter_entry(
    kv: tuple[int, Iterable[tuple[int, int, tuple[str, str, int]]]], max_items: int
) -> Iterator[tuple[int, tuple[int, int, tuple[tuple[str, str, int], ...]]]]:
    """Keep a hash unless more than ``max_items`` distinct items share it (as the index build does)."""
    h, values = kv
    values = list(values)
    refs = tuple(sorted({ref for _, _, ref in values}))
    if max_items > 0 and len(refs) > max_items:
        return
    yield h, (values[0][0], values[0][1], refs)


def doc_entries(
    doc: Document, rules: DecontaminationRules, lengths: Sequence[int]
) -> Iterator[tuple[int, str]]:
    """(hash, doc id) for each distinct n-gram of the document of a length present in the index."""
    if not lengths:
        return
    for h in distinct_doc_hashes(doc.text, rules, lengths).view(np.int64).tolist():
        yield h, doc.id


def hits_per_doc(kv: tuple[int, dict[str, Iterable[Any]]]) -> Iterator[tuple[str, tuple[int, int, Any]]]:
    """For an n-gram present on both sides: (doc id, (hash, length, item refs)) per document."""
    h, grouped = kv
    evals = list(grouped["eval"])
    if not evals:
        return
    k, pr, refs = evals[0]
    for doc_id in sorted(set(grouped["docs"])):
        yield doc_id, (h, k, pr, refs)


__all__ = ["DecontaminationStage", "EvalItem", "build_index", "found_sets"]
