"""The dedup stage as a composite Beam transform (a whole-collection stage finishing with SplitOutcomes).

Steps (labels as in the pipeline graph)::

    Fingerprint      batches of documents -> members (id, keep-rule fields), bucket keys, signatures
    Buckets          GroupByKey on exact / URL / LSH band keys -> star edges (centre = smallest id)
    MergeEdges       one edge per pair, flagged exact if any exact bucket produced it
    Verify           band-only edges: join both signatures (two joins on id), keep J >= threshold
    Components       connected components by large-star / small-star rounds (components.py)
    Clusters         join labels with members, GroupByKey on the root, apply the keep rule
    Join             join on id (documents packed as bytes): document + decision -> Document | Reject
    Stats            one global combine of per-cluster and per-bundle partial stats

Only fingerprints go through the shuffles; the full document is shuffled once, in the final join. A join
is a Flatten + GroupByKey of values its producers emitted tagged, ``(id, (tag, value))``; edge and
unsettled-node counts are summed per bundle: the stage is ~65 leaf transforms (it was 129 with
CoGroupByKeys and a combine per statistic), and every leaf costs start-up on every worker.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import apache_beam as beam
import numpy as np
from apache_beam import pvalue
from apache_beam.metrics import Metrics
from apache_beam.transforms.window import GlobalWindows

from curation import beamfn as lean
from curation.document import Document, Reject, pack_document, unpack_document
from curation.incremental import PriorIndex, batch_probe, prior_reject, state_values
from curation.stage import CombineGlobal, SplitOutcomes, StageOutput, cpu_timed, timed_iter
from curation.stages.dedup.cluster import (
    Decision,
    MemberTuple,
    cluster_stats,
    decide_cluster,
    merge_stats,
)
from curation.stages.dedup.components import UNSETTLED, ConnectedComponents, Edge, star_edges
from curation.stages.dedup.fingerprint import BAND, NO_GROUP, Fingerprinter
from curation.stages.dedup.rules import DedupRules
from curation.stages.dedup.signature import sketch_jaccard

STAGE = "dedup"
_KEYS = "keys"
_SIGS = "sigs"
_STATS = "stats"
_STATE = "state"
_DOCS = "docs"
_PRIOR = "prior"
# Tags of the values meeting in one GroupByKey: each producer emits ``(id, (tag, value))`` and the joins
# flatten and group them (2 steps), instead of CoGroupByKey's tag-per-input, flatten, group and collect
# (3 + inputs steps): every step of the graph costs start-up on every worker, whatever the input size.
_T_MEMBER, _T_SIG, _T_STATE, _T_EDGE, _T_ROOT, _T_DOC, _T_DECISION = "m", "s", "t", "e", "r", "d", "c"
_EDGE_NAMES = ("exact_edges", "band_edges", "near_edges", "rejected_edges")


def _windowed(value: Any) -> Any:
    return GlobalWindows.windowed_value(value)


class _FingerprintDoFn(lean.LeanDoFn):
    """Thin shell: fingerprint a batch; emit members (main), bucket keys per shard, signatures, state values.

    Members, signatures and state values are emitted tagged for the joins that read them
    (``(id, (tag, value))``). Bucket keys (1 + bands per document) would dominate the element count of the
    pipeline, so the keys of one batch travel as one element per shard (``key hash mod shards``) holding
    arrays; the bucket step groups by key within a shard (:func:`shard_edges`). A bucket still lives in
    exactly one shard.

    With ``prior`` (the committed fingerprint files of earlier waves and runs, :mod:`curation.incremental`)
    the same fingerprints are first looked up in them: a document duplicating an earlier kept one is
    emitted as a reject (``_PRIOR``) and takes no further part; the others are emitted (``_DOCS``) with
    their fingerprints. So a wave fingerprints each document once, for the prior filter, its own dedup
    and the state it writes.
    """

    def __init__(self, fingerprinter: Fingerprinter, shards: int, prior: tuple[str, ...] = ()) -> None:
        self.fingerprinter = fingerprinter
        self.shards = shards
        self.prior = prior

    def setup(self) -> None:
        self.fingerprinter.setup()
        self._index = PriorIndex.load(self.prior) if self.prior else None

    def process(self, batch: Sequence[Document]) -> Iterator[Any]:
        return timed_iter(STAGE, self._fingerprint(batch))

    def _fingerprint(self, batch: Sequence[Document]) -> Iterator[Any]:
        fp = self.fingerprinter.fingerprint_batch(batch)
        values = state_values(fp)
        keep = np.ones(len(batch), dtype=bool)
        if self._index is not None:
            mh = self.fingerprinter.rules.minhash
            exact, bands = batch_probe(fp)
            hits = self._index.match_batch(len(batch), exact, bands, fp.signatures, mh.threshold, mh.verify)
            for i, (doc, hit) in enumerate(zip(batch, hits, strict=True)):
                if hit is None:
                    yield pvalue.TaggedOutput(_DOCS, doc)
                else:
                    keep[i] = False
                    yield pvalue.TaggedOutput(_PRIOR, prior_reject(doc, *hit))
        ids = [m[0] for m in fp.members]
        for i in np.flatnonzero(keep).tolist():
            doc_id = ids[i]
            yield (doc_id, (_T_MEMBER, fp.members[i]))
            yield pvalue.TaggedOutput(_STATE, (doc_id, (_T_STATE, values[i])))
            if fp.signatures[i] is not None:
                yield pvalue.TaggedOutput(_SIGS, (doc_id, (_T_SIG, fp.signatures[i])))
        mine = keep[fp.key_doc]
        key_doc, key_type, key_hash, key_group = (
            a[mine] for a in (fp.key_doc, fp.key_type, fp.key_hash, fp.key_group)
        )
        if not key_hash.size:
            return
        shard = key_hash % self.shards
        order = np.argsort(shard, kind="stable")
        shards, starts = np.unique(shard[order], return_index=True)
        ends = [*starts[1:].tolist(), len(order)]
        for s, lo, hi in zip(shards.tolist(), starts.tolist(), ends, strict=True):
            idx = order[lo:hi]
            doc_ids = tuple(ids[i] for i in key_doc[idx].tolist())
            keys = (doc_ids, *(a[idx].tobytes() for a in (key_type, key_hash, key_group)))
            yield pvalue.TaggedOutput(_KEYS, (s, keys))


@dataclasses.dataclass(frozen=True)
class Fingerprints:
    """The outputs of the fingerprint step that the rest of the stage consumes."""

    members: beam.PCollection  # (id, (_T_MEMBER, MemberTuple))
    keys: beam.PCollection  # (shard, ShardKeys)
    sigs: beam.PCollection  # (id, (_T_SIG, sketch bytes))
    state: beam.PCollection  # (id, (_T_STATE, StateValue))


def _fingerprint_outputs(out: Any) -> Fingerprints:
    return Fingerprints(members=out["members"], keys=out[_KEYS], sigs=out[_SIGS], state=out[_STATE])


def fingerprint_and_match(
    docs: beam.PCollection, rules: DedupRules, prior: Sequence[str]
) -> tuple[beam.PCollection, beam.PCollection, Fingerprints]:
    """Fingerprint ``docs`` once and drop those duplicating the committed fingerprints ``prior``.

    Returns the passing documents, the rejects (``Reject`` elements, not yet split/accounted) and the
    passing documents' fingerprints, which the pipeline hands to the dedup stage that follows
    (:meth:`DedupStage.with_fingerprints`), so that it does not compute them again."""
    out = (
        docs
        | "Batch" >> beam.BatchElements(min_batch_size=rules.batch_size, max_batch_size=rules.batch_size)
        | "FingerprintAndMatch"
        >> beam.ParDo(_FingerprintDoFn(Fingerprinter(rules), rules.bucket_shards, tuple(prior))).with_outputs(
            _KEYS, _SIGS, _STATE, _DOCS, _PRIOR, main="members"
        )
    )
    return out[_DOCS], out[_PRIOR], _fingerprint_outputs(out)


def bucket_edges(key_type: int, members: Iterable[tuple[str, int]]) -> Iterator[tuple[Edge, bool]]:
    """Star edges of one bucket, flagged exact unless the bucket is an LSH band (needs verification).

    ``members`` are ``(doc id, exact group)`` pairs. In a band bucket, copies with the same exact-text key
    are collapsed to their smallest id first: the exact bucket already links them, so more band edges
    would add nothing but shuffle volume (k exact copies sharing b bands would give ~b*k edges, not b).
    """
    exact = key_type != BAND
    if exact:
        ids: Iterable[str] = (doc_id for doc_id, _ in members)
    else:
        first: dict[int, str] = {}
        loose: list[str] = []
        for doc_id, group in members:
            if group == NO_GROUP:
                loose.append(doc_id)
            elif group not in first or doc_id < first[group]:
                first[group] = doc_id
        ids = [*first.values(), *loose]
    for edge in star_edges(ids):
        yield edge, exact


# Per key: doc ids, key types (int8 bytes), key hashes (int64 bytes), exact groups of the docs (int64
# bytes); bytes, not arrays, so that Beam's coder writes them without pickling.
ShardKeys = tuple[tuple[str, ...], bytes, bytes, bytes]


def shard_edges(shard: int, chunks: Iterable[ShardKeys]) -> Iterator[tuple[Edge, bool]]:
    """Find the buckets of one shard holding two or more documents (numpy) and emit their star edges."""
    chunks = list(chunks)
    if not chunks:
        return
    ids = [i for c in chunks for i in c[0]]
    types = np.frombuffer(b"".join(c[1] for c in chunks), dtype=np.int8)
    hashes = np.frombuffer(b"".join(c[2] for c in chunks), dtype=np.int64)
    groups = np.frombuffer(b"".join(c[3] for c in chunks), dtype=np.int64)
    _, inverse, counts = np.unique(hashes, return_inverse=True, return_counts=True)
    shared = np.flatnonzero(counts[inverse] > 1)
    buckets: dict[tuple[int, int], list[tuple[str, int]]] = {}
    for pos, t, h, g in zip(shared.tolist(), types[shared].tolist(), hashes[shared].tolist(),
                            groups[shared].tolist(), strict=True):
        buckets.setdefault((t, h), []).append((ids[pos], g))
    for key in sorted(buckets):
        yield from bucket_edges(key[0], buckets[key])


class _EdgeCountingDoFn(lean.LeanDoFn):
    """Counts edges per bundle for the ``edges`` stats: one ``("edges", {name: n})`` element per bundle
    (on the ``_STATS`` output) instead of a counting step per edge collection."""

    def start_bundle(self) -> None:
        self._n: dict[str, int] = {}

    def _count(self, name: str) -> None:
        self._n[name] = self._n.get(name, 0) + 1

    def finish_bundle(self) -> Iterator[Any]:
        if self._n:
            yield pvalue.TaggedOutput(_STATS, _windowed(("edges", self._n)))


class _SplitEdgesDoFn(_EdgeCountingDoFn):
    """Exact edges go straight to the components (main output); LSH band edges go to verification,
    tagged for its join (``_T_EDGE``), or with ``verify`` off to the components as accepted edges."""

    def __init__(self, verify: bool) -> None:
        self.verify = verify

    def process(self, item: tuple[Edge, bool]) -> Iterator[Any]:
        return timed_iter(STAGE, self._split(item))

    def _split(self, item: tuple[Edge, bool]) -> Iterator[Any]:
        edge, exact = item
        if exact:
            self._count("exact_edges")
            yield edge
            return
        self._count("band_edges")
        if self.verify:
            yield pvalue.TaggedOutput("band", (edge[0], (_T_EDGE, edge[1])))
        else:
            self._count("near_edges")
            yield edge


def _split_tagged(values: Iterable[tuple[str, Any]], *tags: str) -> list[list[Any]]:
    """The values of one grouped key, split by tag (in the order of ``tags``)."""
    out: dict[str, list[Any]] = {t: [] for t in tags}
    for tag, value in values:
        out[tag].append(value)
    return [out[t] for t in tags]


def _attach_first_signature(doc_id: str, values: Iterable[tuple[str, Any]]) -> Iterator[tuple[str, Any]]:
    """Join step 1 (keyed by the smaller end): forward each edge with that end's signature."""
    edges, sigs = _split_tagged(values, _T_EDGE, _T_SIG)
    if not sigs:
        return
    for other in sorted(set(edges)):
        yield other, (_T_EDGE, (doc_id, sigs[0]))


class _VerifyDoFn(_EdgeCountingDoFn):
    """Join step 2 (keyed by the larger end): keep the edge if the estimated Jaccard reaches the threshold."""

    def __init__(self, threshold: float) -> None:
        self.threshold = threshold
        self._dropped = Metrics.counter(STAGE, "candidate_edges_rejected")

    def process(self, item: tuple[str, Iterable[tuple[str, Any]]]) -> Iterator[Any]:
        return timed_iter(STAGE, self._verify(item))

    def _verify(self, item: tuple[str, Iterable[tuple[str, Any]]]) -> Iterator[Any]:
        doc_id, values = item
        edges, sigs = _split_tagged(values, _T_EDGE, _T_SIG)
        if not sigs:
            return
        for other, other_sig in sorted(edges):
            j = sketch_jaccard(other_sig, sigs[0])
            if j >= self.threshold:
                self._count("near_edges")
                yield (other, doc_id)
            else:
                self._dropped.inc()
                self._count("rejected_edges")


def _members_by_root(doc_id: str, values: Iterable[tuple[str, Any]]) -> Iterator[tuple[str, MemberTuple]]:
    roots, members = _split_tagged(values, _T_ROOT, _T_MEMBER)
    if roots and members:
        yield roots[0], members[0]


def _decide(root: str, members: Iterable[MemberTuple]) -> Iterator[Any]:
    members = list(members)
    decisions, _ = decide_cluster(root, members)
    for doc_id, decision in decisions:
        yield doc_id, (_T_DECISION, decision)
    yield pvalue.TaggedOutput(_STATS, ("clusters", cluster_stats(members, decisions)))


class _ApplyDoFn(lean.LeanDoFn):
    """The full document meets its decision: kept with cluster signals, or a ``duplicate_of`` reject.

    The state values of a kept document (computed by the fingerprint step and joined here) go to the
    ``_STATE`` output, so the state writer needs no second fingerprinting."""

    def process(self, item: tuple[str, Iterable[tuple[str, Any]]]) -> Iterator[Any]:
        return timed_iter(STAGE, self._apply(item))

    def _apply(self, item: tuple[str, Iterable[tuple[str, Any]]]) -> Iterator[Any]:
        doc_id, values = item
        docs, decisions, state = _split_tagged(values, _T_DOC, _T_DECISION, _T_STATE)
        decision: Decision | None = decisions[0] if decisions else None
        kept = False
        for packed in docs:
            out = apply_decision(unpack_document(packed), decision)
            kept = kept or not isinstance(out, Reject)
            yield out
        if kept:
            for value in state:
                yield pvalue.TaggedOutput(_STATE, (doc_id, value))


def _keyed_packed(doc: Document) -> tuple[str, tuple[str, bytes]]:
    """The join carries documents as packed bytes: a runner that groups in memory (the FnApiRunner decodes
    grouped values) then holds compact bytes, not Python objects, for every document of the corpus."""
    return doc.id, (_T_DOC, pack_document(doc))


def apply_decision(doc: Document, decision: Decision | None) -> Document | Reject:
    """Kept documents carry ``dedup.cluster_id`` / ``dedup.cluster_size`` (a singleton is its own cluster);
    a dropped copy becomes a reject with reason ``duplicate_of:<kept id>`` and the cluster in its signals."""
    if decision is None:
        return doc.with_signals({f"{STAGE}.cluster_id": doc.id, f"{STAGE}.cluster_size": 1})
    signals = {
        f"{STAGE}.cluster_id": decision.cluster_id,
        f"{STAGE}.cluster_size": decision.cluster_size,
    }
    if decision.match == "kept":
        return doc.with_signals(signals)
    signals[f"{STAGE}.match"] = decision.match
    signals[f"{STAGE}.kept_id"] = decision.keeper
    reason = f"duplicate_of:{decision.keeper}"
    return Reject(doc=doc.with_signals(signals), stage=STAGE, reason=reason, reasons=(reason,))


def _empty_clusters() -> dict[str, Any]:
    return {
        "clusters": 0, "docs_in_clusters": 0, "max_cluster_size": 0, "size_histogram": {},
        "removed": {"docs": 0, "tokens": 0, "chars": 0}, "removed_by_match": {}, "removed_by_kind": {},
        "kept_by_kind": {}, "cross_source": {"docs": 0, "tokens": 0, "by_pair": {}},
    }


class _DedupStatsFn(beam.CombineFn):
    """Sums the stage's partial stats in one global combine: ``("clusters", d)`` per cluster (merged with
    :func:`merge_stats`), ``("edges", {name: n})`` and ``("unsettled", n)`` per bundle."""

    def create_accumulator(self) -> dict[str, Any]:
        return {"clusters": _empty_clusters(), "edges": dict.fromkeys(_EDGE_NAMES, 0), UNSETTLED: 0}

    def add_input(self, acc: dict[str, Any], value: tuple[str, Any]) -> dict[str, Any]:
        name, part = value
        if name == UNSETTLED:
            return {**acc, UNSETTLED: acc[UNSETTLED] + part}
        return {**acc, name: merge_stats(acc[name], part)}

    def merge_accumulators(self, accs: Iterable[dict[str, Any]]) -> dict[str, Any]:
        accs = list(accs)
        out = accs[0]
        for a in accs[1:]:
            out = {
                "clusters": merge_stats(out["clusters"], a["clusters"]),
                "edges": merge_stats(out["edges"], a["edges"]),
                UNSETTLED: out[UNSETTLED] + a[UNSETTLED],
            }
        return out

    def extract_output(self, acc: dict[str, Any]) -> dict[str, Any]:
        return acc


def _stats_items(acc: dict[str, Any], max_rounds: int, params: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    """The stage's stats elements, ``(name, dict)``, from the combined partial stats."""
    n = acc[UNSETTLED]
    yield "clusters", acc["clusters"]
    yield "edges", acc["edges"]
    yield "components", {"rounds": max_rounds, "unsettled_nodes": n, "converged": n == 0}
    yield "params", params


class DedupStage(beam.PTransform):
    """Exact + MinHash-LSH near-duplicate removal over the whole collection (see module docstring).

    ``fingerprints``: the fingerprints of the input documents when an earlier step computed them (the
    prior-duplicate filter of a wave, :func:`fingerprint_and_match`); the stage then does not compute
    them again. The output's ``extra["state"]`` holds ``(id, StateValue)`` of the kept documents, for the
    dedup state writer (``dedup[state]`` in :mod:`curation.pipeline`).
    """

    def __init__(
        self,
        rules: DedupRules,
        params: dict[str, Any] | None = None,
        fingerprints: Fingerprints | None = None,
    ) -> None:
        super().__init__(label=STAGE)
        self.rules = rules
        self.params = params or {}
        self.fingerprints = fingerprints

    def with_fingerprints(self, fingerprints: Fingerprints) -> DedupStage:
        """The same stage, reading the already computed ``fingerprints`` of its input documents."""
        return DedupStage(self.rules, self.params, fingerprints)

    def expand(self, docs: beam.PCollection) -> StageOutput:
        rules = self.rules
        verify = rules.near and rules.minhash.verify
        fps = self.fingerprints
        if fps is None:
            size = rules.batch_size
            fps = _fingerprint_outputs(
                docs
                | "Batch" >> beam.BatchElements(min_batch_size=size, max_batch_size=size)
                | "Fingerprint"
                >> beam.ParDo(_FingerprintDoFn(Fingerprinter(rules), rules.bucket_shards)).with_outputs(
                    _KEYS, _SIGS, _STATE, main="members"
                )
            )

        edges = (
            fps.keys
            | "Buckets/Group" >> beam.GroupByKey()
            | "Buckets/StarEdges" >> lean.FlatMapTuple(cpu_timed(STAGE, shard_edges))
            | "MergeEdges" >> beam.CombinePerKey(any)
            | "SplitEdges" >> beam.ParDo(_SplitEdgesDoFn(verify)).with_outputs("band", _STATS, main="exact")
        )
        stats_parts = [edges[_STATS]]
        all_edges = [edges["exact"]]
        if verify:
            first = (
                (edges["band"], fps.sigs)
                | "Verify/JoinFirst" >> beam.Flatten()
                | "Verify/GroupFirst" >> beam.GroupByKey()
                | "Verify/AttachFirst" >> lean.FlatMapTuple(cpu_timed(STAGE, _attach_first_signature))
            )
            verified = (
                (first, fps.sigs)
                | "Verify/JoinSecond" >> beam.Flatten()
                | "Verify/GroupSecond" >> beam.GroupByKey()
                | "Verify/Check" >> beam.ParDo(_VerifyDoFn(rules.minhash.threshold)).with_outputs(
                    _STATS, main="edges"
                )
            )
            all_edges.append(verified["edges"])
            stats_parts.append(verified[_STATS])
        labels, unsettled = (
            tuple(all_edges)
            | "AllEdges" >> beam.Flatten()
            | "Components" >> ConnectedComponents(rules.max_rounds, tag=_T_ROOT, timer=STAGE)
        )
        decided = (
            (labels, fps.members)
            | "Clusters/Join" >> beam.Flatten()
            | "Clusters/GroupById" >> beam.GroupByKey()
            | "Clusters/ByRoot" >> lean.FlatMapTuple(cpu_timed(STAGE, _members_by_root))
            | "Clusters/Group" >> beam.GroupByKey()
            | "Clusters/Keep"
            >> lean.FlatMapTuple(cpu_timed(STAGE, _decide)).with_outputs(_STATS, main="decisions")
        )
        applied = (
            (docs | "KeyById" >> lean.Map(cpu_timed(STAGE, _keyed_packed)), decided["decisions"], fps.state)
            | "Join/Flatten" >> beam.Flatten()
            | "Join/Group" >> beam.GroupByKey()
            | "Join/Apply" >> beam.ParDo(_ApplyDoFn()).with_outputs(_STATE, main="outcomes")
        )
        out = applied["outcomes"] | SplitOutcomes(STAGE)
        stats = (
            (*stats_parts, unsettled, decided[_STATS])
            | "Stats/Combine" >> CombineGlobal(_DedupStatsFn())
            | "Stats/Items" >> lean.FlatMap(_stats_items, rules.max_rounds, self.params)
        )
        return dataclasses.replace(out, stats=stats, extra={"state": applied[_STATE]})
