"""Build the curation pipeline from a validated config: read -> stages (in config order) -> write.

Everything that can fail from configuration fails in :func:`plan`, before a pipeline object exists:
the config is validated, globs are expanded and every enabled stage parses its rules. :func:`build`
then wires the Beam graph:

    Read (shards -> Document | Reject, tokens counted)
      -> <stage 1> -> <stage 2> -> ...   each returns kept / rejected / counts (/ stats)
      -> Write (Parquet per source kind)
    rejects of every stage  -> rejects/<prefix>-<stage>-*.parquet (written by the stage's own workers)
    counts of every stage   -> report/stages.json   (docs_in == kept + rejected checked)
    stats of stages/probes  -> report/stats/<stage>.json
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import apache_beam as beam
from apache_beam import pvalue
from apache_beam.metrics import Metrics
from apache_beam.options.pipeline_options import TypeOptions

from curation import beamfn as lean
from curation.config import PipelineConfig, StageSpec
from curation.document import Document
from curation.incremental import DropPriorDuplicates, WriteDedupState
from curation.resume import RunLayout
from curation.sinks import StatsParts, WriteDocuments, WriteRejects, WriteStagesReport, WriteStats
from curation.stage import (
    COUNTS,
    KEPT,
    REJECTED,
    STAGE_MICROS,
    AccountingDoFn,
    StageOutput,
    cpu_micros_since,
    parts,
    share_once,
)
from curation.stages import registry
from curation.tokens import get_counter

READ_STAGE = "read"
WRITE_STAGE = "write"


@dataclass(frozen=True)
class PlannedStage:
    spec: StageSpec
    transform: beam.PTransform
    probe: beam.PTransform | None


@dataclass(frozen=True)
class Plan:
    """Everything the graph needs, computed and validated at build time."""

    cfg: PipelineConfig
    shards: tuple[Any, ...]  # curation.io.Shard
    stages: tuple[PlannedStage, ...]
    sizes: tuple[int, ...] = ()  # bytes of each shard when known (spreads the reading, see deal_shards)

    @property
    def stage_order(self) -> list[str]:
        return [READ_STAGE, *(s.spec.name for s in self.stages), WRITE_STAGE]


def plan(cfg: PipelineConfig, shards: list[Any] | None = None) -> Plan:
    """Expand the sources and build every enabled stage (parsing its rules) — fails fast on bad config."""
    from curation.io import expand_sources

    shard_list = list(shards) if shards is not None else expand_sources(cfg)
    planned = []
    for spec in cfg.enabled_stages:
        transform = registry.build(spec, cfg)
        module = importlib.import_module(registry.STAGES[spec.name].module)
        probe_builder = getattr(module, "build_probe", None)
        probe = probe_builder(spec, cfg) if probe_builder is not None else None
        planned.append(PlannedStage(spec, transform, probe))
    return Plan(cfg=cfg, shards=tuple(shard_list), stages=tuple(planned))


class _ReadShardFn(AccountingDoFn):
    """Reads one shard (streaming), counts the tokens of every document with the run's tokenizer and
    accounts the ``read`` stage (documents on the main output, rejects and per-bundle counts tagged)."""

    def __init__(self, limits: Any, tokenizer: str) -> None:
        super().__init__(READ_STAGE)
        self.limits = limits
        self.tokenizer = tokenizer

    def setup(self) -> None:
        from curation.io import read_counted

        self._read = read_counted
        self._counter = get_counter(self.tokenizer)

    def process(self, shard: Any) -> Iterator[Any]:
        micros = Metrics.counter(READ_STAGE, STAGE_MICROS)
        t0 = time.thread_time()  # CPU time of reading, not of the fused stages after each yield
        # documents come counted, a batch at a time (read_counted: the counter's tables stay warm instead
        # of being evicted by the fused stages that run between one record and the next)
        for out in self._read(shard, self.limits, self._counter.count_batch):
            if isinstance(out, Document):
                self.acc.kept(out, out)
                micros.inc(cpu_micros_since(t0))
                yield out
            else:
                self.acc.rejected(out.doc, out)
                micros.inc(cpu_micros_since(t0))
                yield pvalue.TaggedOutput(REJECTED, out)
            t0 = time.thread_time()


def deal_shards(shards: Sequence[Any], sizes: Sequence[int] = ()) -> list[tuple[int, Any]]:
    """``(key, shard)`` pairs that spread the reading evenly over workers, deterministically.

    Keys are the shards' ranks by size, largest first (ties and unknown sizes in plan order). Beam's
    ``Reshuffle`` keys elements at random, so which worker reads which shard changed from run to run, and
    with few shards one worker could get most of the bytes: on the 4x scale test with 2 workers one
    worker read 3,117 documents and the other 1,039. Distinct keys in size order let a runner deal the
    shards out like cards (the in-process runner gives key ``i`` to worker ``i mod n``), so every worker
    gets one of each pair of similar-sized shards; runners that hash keys still get distinct keys.
    """
    known = list(sizes) if len(sizes) == len(shards) else [0] * len(shards)
    order = sorted(range(len(shards)), key=lambda i: (-known[i], i))
    return [(rank, shards[i]) for rank, i in enumerate(order)]


class ReadSources(beam.PTransform):
    """The ``read`` stage: shards are dealt out to the workers by size (:func:`deal_shards`; the group
    by key is the fusion break that lets them run in parallel), each read as a stream."""

    def __init__(
        self, shards: tuple[Any, ...], limits: Any, tokenizer: str, sizes: Sequence[int] = ()
    ) -> None:
        super().__init__()
        self.shards = shards
        self.limits = limits
        self.tokenizer = tokenizer
        self.sizes = tuple(sizes)

    def expand(self, pbegin: beam.pvalue.PBegin) -> StageOutput:
        results = (
            pbegin
            | "Shards" >> beam.Create(deal_shards(self.shards, self.sizes), reshuffle=False)
            | "Deal" >> beam.GroupByKey()
            | "Unkey" >> lean.FlatMapTuple(_values)
            | "ReadShard"
            >> beam.ParDo(_ReadShardFn(self.limits, self.tokenizer)).with_outputs(REJECTED, COUNTS, main=KEPT)
        )
        return StageOutput(kept=results[KEPT], rejected=results[REJECTED], counts=results[COUNTS])


def _values(_key: int, values: Iterable[Any]) -> Iterable[Any]:
    return values


def build(
    p: beam.Pipeline,
    the_plan: Plan,
    layout: RunLayout,
    dedup_prior: Sequence[str] = (),
    dedup_state: bool = False,
) -> None:
    """Wire the whole curation graph into pipeline ``p``, writing run ``layout`` of its output folder.

    ``dedup_prior``: fingerprint files committed by earlier waves/runs; documents duplicating them are
    dropped right before dedup (:mod:`curation.incremental`). ``dedup_state``: also write the
    fingerprints of the documents this run's dedup keeps, for later waves and runs.
    """
    output = layout.output
    cfg = the_plan.cfg
    # Beam's build-time type inference (``pipeline_type_check``) inspects the signature of every DoFn
    # method of every transform; on this graph (~530 leaf transforms) that is about half of the build's
    # CPU (3.0 -> 1.6 CPU-s, and 1.5 -> 1.1 s to translate it for the runner). The curation DoFns carry
    # no type hints, so it checks nothing; coders stay the generic ones (documents pickle packed anyway).
    p.options.view_as(TypeOptions).pipeline_type_check = False
    share_once(p)  # one Impulse for every run-once step (combine extracts, finalisers, reports)
    read = p | "read" >> ReadSources(the_plan.shards, cfg.limits, cfg.tokenizer, the_plan.sizes)
    docs = read.kept
    rejected = [read.rejected]
    counts = [read.counts]
    stats: dict[str, StatsParts] = {}
    probes = [ps for ps in the_plan.stages if ps.probe is not None]
    prior_rejects = None

    # Raw HTML is large and only some stages read it: drop it after the last of them (or right after
    # reading if none runs), unless the output keeps it. Less memory and less data in every shuffle.
    html_users = [i for i, ps in enumerate(the_plan.stages) if registry.STAGES[ps.spec.name].uses_html]
    drop_html_after = None if cfg.output.keep_html else (html_users[-1] if html_users else -1)
    if drop_html_after == -1:
        docs = docs | "DropHtml" >> lean.Map(Document.without_html)

    for i, ps in enumerate(the_plan.stages):
        transform = ps.transform
        if ps.spec.name == "dedup" and dedup_prior:
            prior_filter = DropPriorDuplicates(transform.rules, dedup_prior)
            docs, prior, fingerprints = docs | "dedup[prior]" >> prior_filter
            counts.append(prior.counts)
            prior_rejects = prior.rejected
            transform = transform.with_fingerprints(fingerprints)  # computed once, for both steps
        out: StageOutput = docs | ps.spec.name >> transform
        if ps.spec.name == "dedup" and dedup_state:
            _ = out.extra["state"] | "dedup[state]" >> WriteDedupState(output, layout.part_prefix)
        docs = out.kept
        if i == drop_html_after:
            docs = docs | f"DropHtml[after {ps.spec.name}]" >> lean.Map(Document.without_html)
        rejected.append(out.rejected)
        counts.extend(parts(out.counts))
        if out.stats is not None:
            stats[ps.spec.name] = [(None, out.stats)]

    for ps in probes:
        # before and after curation: the stats writer reads both whole (a side input each) and nests
        # them as {"after": {...}, "before": {...}} in <stage>.probe.json
        name = ps.spec.name
        before = read.kept | f"Probe[{name}]/before" >> ps.probe
        after = docs | f"Probe[{name}]/after" >> ps.probe
        stats[f"{name}.probe"] = [("before", before), ("after", after)]

    write_rejects, write_counts = docs | "write" >> WriteDocuments(
        output, kinds={s.kind for s in cfg.sources}, keep_html=cfg.output.keep_html, prefix=layout.part_prefix
    )
    rejected.append(write_rejects)
    counts.append(write_counts)

    # Rejects are written where they arise, one file set per stage (rejects/part-r<N>-<stage>-*), by one
    # sink with a single finalise step (see curation.sinks.WriteRejects).
    by_stage = dict(zip(the_plan.stage_order, rejected, strict=True))
    if prior_rejects is not None:
        by_stage["prior_dedup"] = prior_rejects
    _ = by_stage | "rejects" >> WriteRejects(
        output, keep_text=cfg.output.rejects_text, prefix=layout.part_prefix
    )
    _ = (
        tuple(counts)
        | "AllCounts" >> beam.Flatten()
        | "stages.json" >> WriteStagesReport(layout.run_report_dir, the_plan.stage_order, cfg.tokenizer)
    )
    if stats:
        _ = p | "stats" >> WriteStats(layout.run_report_dir, stats)
