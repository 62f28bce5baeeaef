"""Beam shells of the toxicity stage: Score (model, batched) -> Decide (MapStage) and the bias probe.

The scorer runs in its own DoFn so the per-bundle bias co-occurrence partials can leave it as a side
output (``CombineGlobal`` of nested counts -> ``("bias", {...})`` stats); deciding, span removal,
token recount and accounting reuse :class:`curation.stage.MapStage`.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import apache_beam as beam
from apache_beam import pvalue
from apache_beam.metrics import Metrics
from apache_beam.transforms.window import GlobalWindows

from curation import beamfn as lean
from curation.document import Document
from curation.stage import STAGE_MICROS, CombineGlobal, MapStage, StageOutput, cpu_micros_since, freeze_heap
from curation.stages.toxicity.bias import (
    BiasLists,
    Nested,
    add_nested,
    doc_representation,
    finalize_cooccurrence,
    finalize_representation,
    identity_scanner,
    representation_from_signals,
)
from curation.stages.toxicity.config import ToxicityRules
from curation.stages.toxicity.decide import ToxicityDecider
from curation.stages.toxicity.scoring import ToxicityScorer

_BIAS = "bias"


#: CPU counter of the bias probe (run before and after curation, outside the stage).
PROBE_TIMER = "toxicity.probe"


class SumNested(beam.CombineFn):
    """Sum nested dicts of counts (commutative, associative: runner- and bundle-independent)."""

    def create_accumulator(self) -> Nested:
        return {}

    def add_input(self, acc: Nested, item: Nested) -> Nested:
        return add_nested(acc, item)

    def merge_accumulators(self, accs: Any) -> Nested:
        out: Nested = {}
        for a in accs:
            add_nested(out, a)
        return out

    def extract_output(self, acc: Nested) -> Nested:
        return acc


class _ScoreDoFn(lean.LeanDoFn):
    """Scores documents in batches of ``batch_size`` (the rest at bundle end), as ``_ProcessorDoFn`` does:
    no ``BatchElements`` step before it (a leaf transform and a hop per document less, and full batches
    from the start: ``BatchElements`` grows its batches from 1 by timing them)."""

    def __init__(self, scorer: ToxicityScorer, batch_size: int = 64) -> None:
        self.scorer = scorer
        self.batch_size = max(1, batch_size)

    def setup(self) -> None:
        self.scorer.setup()
        freeze_heap()

    def start_bundle(self) -> None:
        self._bias: Nested = {}
        self._batch: list[Document] = []

    def process(self, doc: Document) -> Iterator[Any]:
        self._batch.append(doc)
        if len(self._batch) >= self.batch_size:
            batch, self._batch = self._batch, []
            yield from self._score(batch)

    def _score(self, batch: list[Document]) -> list[Document]:
        t0 = time.thread_time()  # scoring is this stage's main cost: count its CPU in the stage timer
        scored, partial = self.scorer.score_batch(batch)
        add_nested(self._bias, partial)
        Metrics.counter("toxicity", STAGE_MICROS).inc(cpu_micros_since(t0))
        return scored

    def finish_bundle(self) -> Iterator[Any]:
        if self._batch:
            batch, self._batch = self._batch, []
            for doc in self._score(batch):
                yield GlobalWindows.windowed_value(doc)
        if self._bias:
            yield pvalue.TaggedOutput(_BIAS, GlobalWindows.windowed_value(self._bias))


class ToxicityStage(beam.PTransform):
    """``Score`` (batched) -> ``Decide`` (MapStage: drop / remove spans / tag, recount, account)."""

    def __init__(self, scorer: ToxicityScorer, rules: ToxicityRules, batch_size: int, tokenizer: str) -> None:
        super().__init__(label="toxicity")
        self.scorer = scorer
        self.rules = rules
        self.batch_size = batch_size
        self.tokenizer = tokenizer

    def expand(self, docs: beam.PCollection) -> StageOutput:
        score = beam.ParDo(_ScoreDoFn(self.scorer, self.batch_size))
        scored = docs | "Score" >> score.with_outputs(_BIAS, main="scored")
        out = scored["scored"] | "Decide" >> MapStage(
            ToxicityDecider(self.rules), batch_size=256, tokenizer=self.tokenizer
        )
        cooc = self.rules.bias.cooccurrence
        stats = (
            scored[_BIAS]
            | "CombineBias" >> CombineGlobal(SumNested())
            | "FinishBias"
            >> lean.Map(lambda acc: (_BIAS, finalize_cooccurrence(acc, cooc.top_k, cooc.min_count)))
        )
        return StageOutput(kept=out.kept, rejected=out.rejected, counts=out.counts, stats=stats)


class _RepresentationDoFn(lean.LeanDoFn):
    """Identity-term counts of each document, summed per bundle (one element per bundle for the combine);
    its CPU goes to the ``toxicity.probe`` timer."""

    def __init__(self, lists: BiasLists) -> None:
        self.lists = lists

    def setup(self) -> None:
        self._matcher = identity_scanner(self.lists.matcher())
        freeze_heap()

    def start_bundle(self) -> None:
        self._sum: Nested = {}
        self._micros = Metrics.counter(PROBE_TIMER, STAGE_MICROS)

    def count(self, doc: Document) -> Nested:
        """The representation counts of one document (its kind's and under ``all``)."""
        # after curation: the toxicity stage's own counts (no second scan); before: scan the text
        rep = representation_from_signals(doc.signals, doc.source_kind)
        if rep is None:
            rep = doc_representation(doc.text, doc.source_kind, self._matcher)
        return {**rep, "all": rep[doc.source_kind]}

    def process(self, doc: Document) -> None:
        t0 = time.thread_time()
        add_nested(self._sum, self.count(doc))
        self._micros.inc(cpu_micros_since(t0))

    def finish_bundle(self) -> Iterator[Any]:
        if self._sum:
            yield GlobalWindows.windowed_value(self._sum)


class RepresentationProbe(beam.PTransform):
    """``PCollection[Document]`` -> ``[("representation", {kind: {...}})]`` (identity-term shares)."""

    def __init__(self, lists: BiasLists) -> None:
        super().__init__()
        self.lists = lists

    def expand(self, docs: beam.PCollection) -> beam.PCollection:
        return (
            docs
            | "Count" >> beam.ParDo(_RepresentationDoFn(self.lists))
            | "Combine" >> CombineGlobal(SumNested())
            | "Finish" >> lean.Map(lambda acc: ("representation", finalize_representation(acc)))
        )
