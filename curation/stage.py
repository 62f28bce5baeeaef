"""The stage framework: a stage is a small composite ``beam.PTransform`` returning kept, rejected, counts.

Two ways to write a stage:

* **Per-document stages** (normalize, language ID, quality, PII, toxicity, license, ...) implement a
  picklable :class:`DocProcessor` holding their parsed rules: ``setup()`` loads models once per worker,
  ``process_batch(docs)`` scores each document (namespaced signals) and decides (keep, edit or reject).
  :class:`MapStage` wraps it: ``ScoreAndDecide`` (batching, scoring, deciding, accounting per bundle).
* **Whole-collection stages** (dedup, decontamination joins) build their own transforms and finish with
  :class:`SplitOutcomes`, which turns a ``PCollection[Document | Reject]`` into the same three outputs.

Either way the stage returns a :class:`StageOutput`; the pipeline chains ``kept`` into the next stage and
flattens ``rejected`` and ``counts`` across stages. Token counts are recomputed (with the run's one
tokenizer) whenever a stage changes a document's text.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import apache_beam as beam
from apache_beam import pvalue
from apache_beam.metrics import Metrics
from apache_beam.transforms.window import GlobalWindows

from curation import beamfn as lean
from curation.accounting import CountAccumulator, CountKey, StageCounts
from curation.collector import collector_tuned, freeze_heap
from curation.document import Document, Reject
from curation.tokens import DEFAULT_TOKENIZER, get_counter

KEPT = "kept"
REJECTED = "rejected"
COUNTS = "counts"

Outcome = Document | Reject

#: Beam Metrics counter (namespace = stage name) of CPU microseconds spent in a stage's own logic, from the
#: calling thread's CPU clock (:func:`time.thread_time`), so it is not inflated by other processes or by
#: threads waiting on a busy machine (wall-clock timers were). Read by curation.run and benchmarks/run.py
#: for the per-stage profile. Monitoring only: the accounting never depends on it.
STAGE_MICROS = "cpu_micros"


def cpu_micros_since(t0: float) -> int:
    """CPU microseconds this thread spent since ``t0 = time.thread_time()`` (for the STAGE_MICROS counter)."""
    return int((time.thread_time() - t0) * 1e6)


def timed_iter(stage: str, items: Iterable[Any], spent: int = 0) -> Iterator[Any]:
    """``items`` (typically a DoFn's generator), adding the thread CPU time spent producing each item
    (plus ``spent`` microseconds already used) to ``stage``'s STAGE_MICROS counter, once at the end. Time
    between items -- the fused steps that consume each output -- is not counted, so the counter holds
    this step's own work."""
    micros = Metrics.counter(stage, STAGE_MICROS)
    it = iter(items)
    try:
        while True:
            t0 = time.thread_time()
            try:
                item = next(it)
            except StopIteration:
                spent += cpu_micros_since(t0)
                return
            spent += cpu_micros_since(t0)
            yield item
    finally:
        micros.inc(spent)


def cpu_timed(stage: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` (for ``Map``/``FlatMap`` steps) with its thread CPU time, and that of the iterator it returns,
    added to ``stage``'s STAGE_MICROS counter. A plain function with ``fn``'s signature (Beam passes side
    inputs by inspecting it; callable objects get only the element)."""

    @functools.wraps(fn)
    def timed(*args: Any, **kwargs: Any) -> Any:
        t0 = time.thread_time()
        out = fn(*args, **kwargs)
        if isinstance(out, Iterator):  # one counter update for the call and its items
            return timed_iter(stage, out, cpu_micros_since(t0))
        Metrics.counter(stage, STAGE_MICROS).inc(cpu_micros_since(t0))
        return out

    return timed


@dataclass(frozen=True)
class StageOutput:
    """What every stage returns: kept documents, rejects, per-key counts, optional stats.

    ``counts`` holds partial sums, one ``(CountKey, StageCounts)`` pair per key per bundle; the pipeline
    sums the counts of every stage in one ``CombinePerKey`` (:class:`MergeCounts`) for ``stages.json``
    rather than each stage combining its own (a combine per stage was a shuffle and a fused stage more
    per stage, a fixed cost of every run). Anyone reading one stage's counts sums them per key.

    ``stats`` (optional) is a ``PCollection[tuple[str, dict]]`` of already-combined, JSON-serialisable
    summaries (one element per name, e.g. ``("clusters", {...})``); the pipeline writes them to
    ``report/stats/<stage>.json`` as ``{name: dict}`` for the curation report.
    """

    kept: beam.PCollection  # PCollection[Document]
    #: PCollection[Reject], or a tuple of them (parts of one stage that are written as they are: no
    #: Flatten, which a runner runs as a stage of its own, just to merge them); see :func:`parts`.
    rejected: beam.PCollection | tuple[beam.PCollection, ...]
    #: PCollection[tuple[CountKey, StageCounts]] (partial sums per bundle), or a tuple of them.
    counts: beam.PCollection | tuple[beam.PCollection, ...]
    stats: beam.PCollection | None = None  # PCollection[tuple[str, dict]]
    #: Further named outputs of a stage that the pipeline wires explicitly to a later step (dedup:
    #: ``"state"``, the fingerprints of its kept documents, for the dedup state writer).
    extra: Mapping[str, beam.PCollection] = field(default_factory=dict)


def parts(pcolls: beam.PCollection | tuple[beam.PCollection, ...]) -> tuple[beam.PCollection, ...]:
    """The parts of a :class:`StageOutput` field that may be one PCollection or a tuple of them."""
    return pcolls if isinstance(pcolls, tuple) else (pcolls,)


class DocProcessor:
    """Pure per-document logic of a stage, shipped to workers by pickling.

    Subclasses keep their parsed, frozen rules as attributes, load heavy resources in :meth:`setup`
    (called once per worker by the DoFn's ``setup``; never at import or in ``__init__``) and implement
    :meth:`process` or, for batched models, :meth:`process_batch`. Returning a :class:`Reject` drops the
    document; returning a document keeps it (possibly with new text and signals).
    """

    #: Stage name used in signals, rejects and accounting.
    stage: str = "stage"

    def setup(self) -> None:
        """Load models or other per-worker resources. Default: nothing."""

    def process(self, doc: Document) -> Outcome:
        raise NotImplementedError

    def process_batch(self, docs: Sequence[Document]) -> list[Outcome]:
        return [self.process(d) for d in docs]

    def reject(self, doc: Document, reason: str, reasons: Sequence[str] = ()) -> Reject:
        """Build a reject of this stage (``reasons`` lists every rule that fired, primary first)."""
        return Reject(doc=doc, stage=self.stage, reason=reason, reasons=tuple(reasons))


def retokenize(before: Document, after: Document, tokenizer: str) -> Document:
    """Recount ``after``'s tokens if its text differs from ``before``'s (only the changed segments, see
    :meth:`curation.tokens.TiktokenCounter.recount`)."""
    if after.text is before.text or after.text == before.text:
        if after.token_count != before.token_count:
            return after.evolve(token_count=before.token_count)
        return after
    count = get_counter(tokenizer).recount(before.text, before.token_count, after.text)
    return after.evolve(token_count=count)


class AccountingDoFn(lean.LeanDoFn):
    """Base of the DoFns that account a stage: ``self.acc`` collects counts during a bundle and they are
    emitted once per bundle and key on the ``COUNTS`` tag (to be summed with :class:`MergeCounts`)."""

    def __init__(self, stage: str) -> None:
        super().__init__()
        self.stage = stage

    def start_bundle(self) -> None:
        self.acc = CountAccumulator(self.stage)

    def finish_bundle(self) -> Iterator[Any]:
        for key, counts in self.acc.items():
            yield pvalue.TaggedOutput(COUNTS, GlobalWindows.windowed_value((key, counts)))


class _ProcessorDoFn(AccountingDoFn):
    """Thin shell around a :class:`DocProcessor`: setup once, process batches, account per bundle.

    Documents are batched here (up to ``batch_size`` per call, the rest at bundle end) rather than by a
    ``BatchElements`` step before it: one leaf transform less per stage (start-up of every run), no
    per-element hop between two DoFns, and full batches from the start (``BatchElements`` grows its
    batches from 1 by timing them, so the first calls of every bundle got a handful of documents).
    """

    def __init__(self, processor: DocProcessor, tokenizer: str, batch_size: int = 64) -> None:
        super().__init__(processor.stage)
        self.processor = processor
        self.tokenizer = tokenizer
        self.batch_size = max(1, batch_size)
        self._kept = Metrics.counter(processor.stage, "docs_kept")
        self._rejected = Metrics.counter(processor.stage, "docs_rejected")
        self._micros = Metrics.counter(processor.stage, STAGE_MICROS)

    def setup(self) -> None:
        self.processor.setup()
        get_counter(self.tokenizer)
        freeze_heap()

    def start_bundle(self) -> None:
        super().start_bundle()
        self._batch: list[Document] = []

    def process(self, doc: Document) -> Iterator[Any]:
        self._batch.append(doc)
        if len(self._batch) >= self.batch_size:
            batch, self._batch = self._batch, []
            yield from self._process_batch(batch, windowed=False)

    def finish_bundle(self) -> Iterator[Any]:
        if self._batch:
            batch, self._batch = self._batch, []
            yield from self._process_batch(batch, windowed=True)
        yield from super().finish_bundle()

    def _process_batch(self, batch: list[Document], windowed: bool) -> Iterator[Any]:
        # Timed up to the first yield (what follows a yield is the next fused stage's work), including
        # the token recount of changed texts, which this stage causes.
        t0 = time.thread_time()
        outcomes = self.processor.process_batch(batch)
        if len(outcomes) != len(batch):
            raise RuntimeError(f"stage {self.processor.stage}: {len(batch)} docs in, {len(outcomes)} out")
        outcomes = [
            out if isinstance(out, Reject) else retokenize(before, out, self.tokenizer)
            for before, out in zip(batch, outcomes, strict=True)
        ]
        self._micros.inc(cpu_micros_since(t0))
        wrap = GlobalWindows.windowed_value if windowed else (lambda x: x)  # finish_bundle emits windowed
        for before, out in zip(batch, outcomes, strict=True):
            if isinstance(out, Reject):
                self.acc.rejected(before, out)
                self._rejected.inc()
                yield pvalue.TaggedOutput(REJECTED, wrap(out))
            else:
                self.acc.kept(before, out)
                self._kept.inc()
                yield wrap(out)


class MapStage(beam.PTransform):
    """A per-document stage: ``ScoreAndDecide`` (batches of ``batch_size``; kept, rejected, per-bundle
    counts)."""

    def __init__(self, processor: DocProcessor, batch_size: int = 64, tokenizer: str = DEFAULT_TOKENIZER):
        super().__init__(label=processor.stage)
        self.processor = processor
        self.batch_size = batch_size
        self.tokenizer = tokenizer

    def expand(self, docs: beam.PCollection) -> StageOutput:
        results = docs | "ScoreAndDecide" >> beam.ParDo(
            _ProcessorDoFn(self.processor, self.tokenizer, self.batch_size)
        ).with_outputs(REJECTED, COUNTS, main=KEPT)
        return StageOutput(kept=results[KEPT], rejected=results[REJECTED], counts=results[COUNTS])


class _SplitDoFn(AccountingDoFn):
    def process(self, out: Outcome) -> Iterator[Any]:
        if isinstance(out, Reject):
            self.acc.rejected(out.doc, out)
            yield pvalue.TaggedOutput(REJECTED, out)
        else:
            self.acc.kept(out, out)
            yield out


class SplitOutcomes(beam.PTransform):
    """Split ``PCollection[Document | Reject]`` into a :class:`StageOutput` for stage ``stage``.

    For stages that do not change text: a kept document counts the same tokens in and out, a reject
    counts its ``doc`` (the stage's input document, possibly with signals added) as input.
    """

    def __init__(self, stage: str) -> None:
        super().__init__(label=f"{stage}/Split")
        self.stage = stage

    def expand(self, outcomes: beam.PCollection) -> StageOutput:
        results = outcomes | "Split" >> beam.ParDo(_SplitDoFn(self.stage)).with_outputs(
            REJECTED, COUNTS, main=KEPT
        )
        return StageOutput(kept=results[KEPT], rejected=results[REJECTED], counts=results[COUNTS])


_ONCE_ATTR = "_curation_once"


def share_once(pipeline: beam.Pipeline) -> beam.PCollection:
    """Give ``pipeline`` one shared ``Impulse`` (applied here, at the top level, as ``Once``) for every step
    that runs once per run: combine extracts (:class:`CombineGlobal`), file finalisers, report writers.

    Each ``Impulse`` is a root, and every root is a fused stage of its own, run on every worker of every
    run (bundle set-up, a round trip to the runner) whatever the input size. Consumers of one Impulse fuse
    into one stage wherever the runner can order them (Beam's fuser keeps apart a step that reads another
    one's output as a side input), so the run-once steps share a few stages instead of one each. Call it
    once, before building; the PCollection is kept on the pipeline object (graph construction only)."""
    once = pipeline | "Once" >> beam.Impulse()
    setattr(pipeline, _ONCE_ATTR, once)
    return once


def once(pipeline: beam.Pipeline, label: str = "Once") -> beam.PCollection:
    """The pipeline's shared ``Impulse`` (:func:`share_once`), or a new one labelled ``label`` where the
    pipeline has none (a stage or sink applied on its own, as in tests)."""
    shared = getattr(pipeline, _ONCE_ATTR, None)
    return shared if shared is not None else pipeline | label >> beam.Impulse()


class CombineGlobal(beam.PTransform):
    """``beam.CombineGlobally(fn)`` with its default (``fn`` applied to nothing when the input is empty),
    in 3 leaf transforms and at most one extra fused stage: each bundle folds its elements into one
    accumulator in the producer's own stage (combiner lifting, as Beam's precombine does), and a step after
    an ``Impulse`` (the pipeline's shared one, :func:`share_once`) reads the accumulators as a side input,
    merges them and extracts the result. Beam's own expansion takes 9 leaf
    transforms (``DoOnce`` + ``InjectDefault``), a shuffle of the partial results and 3 more stages; every
    stage costs start-up on every worker, whatever the input size. The side input holds one accumulator
    per bundle, never the elements. ``fn`` must be commutative and associative, as any CombineFn.
    """

    def __init__(self, fn: beam.CombineFn) -> None:
        super().__init__()
        self.fn = fn

    def expand(self, pcolls: beam.PCollection | tuple[beam.PCollection, ...]) -> beam.PCollection:
        """``pcolls``: one PCollection, or several combined as one (each folded in its own producer's stage,
        so no ``Flatten`` has to gather them first: a Flatten of several producers is a stage of its own)."""
        inputs = pcolls if isinstance(pcolls, tuple) else (pcolls,)
        labels = ["Precombine"] if len(inputs) == 1 else [f"Precombine{i}" for i in range(len(inputs))]
        partials = [
            pvalue.AsList(pc | label >> beam.ParDo(_PrecombineDoFn(self.fn)))
            for label, pc in zip(labels, inputs, strict=True)
        ]
        return once(inputs[0].pipeline) | "Extract" >> lean.Map(_merge_and_extract, self.fn, *partials)


class _PrecombineDoFn(lean.LeanDoFn):
    """One accumulator of ``fn`` per bundle (none for an empty bundle)."""

    def __init__(self, fn: beam.CombineFn) -> None:
        super().__init__()
        self.fn = fn

    def setup(self) -> None:
        self.fn.setup()

    def start_bundle(self) -> None:
        self._acc: Any = None

    def process(self, element: Any) -> None:
        if self._acc is None:
            self._acc = self.fn.create_accumulator()
        self._acc = self.fn.add_input(self._acc, element)

    def finish_bundle(self) -> Iterator[Any]:
        if self._acc is not None:
            yield GlobalWindows.windowed_value(self._acc)

    def teardown(self) -> None:
        self.fn.teardown()


def _merge_and_extract(_: Any, fn: beam.CombineFn, *per_input: list[Any]) -> Any:
    """``fn``'s output over every bundle's accumulator of every input (its default when there are none)."""
    accumulators = [acc for accs in per_input for acc in accs]
    fn.setup()
    acc = fn.merge_accumulators(accumulators) if accumulators else fn.create_accumulator()
    return fn.extract_output(acc)


def run_processor(processor: DocProcessor, docs: Iterable[Document]) -> list[Outcome]:
    """Run a processor outside Beam (tests, benchmarks, the report's what-if): setup, then one batch."""
    processor.setup()
    return processor.process_batch(list(docs))


__all__ = [
    "COUNTS",
    "KEPT",
    "REJECTED",
    "STAGE_MICROS",
    "AccountingDoFn",
    "CombineGlobal",
    "CountKey",
    "DocProcessor",
    "MapStage",
    "Outcome",
    "SplitOutcomes",
    "StageCounts",
    "StageOutput",
    "collector_tuned",
    "cpu_micros_since",
    "cpu_timed",
    "freeze_heap",
    "once",
    "parts",
    "retokenize",
    "run_processor",
    "share_once",
    "timed_iter",
]
