"""The dedup stage as a composite Beam transform (a whole-collection stage finishing with SplitOutcomes).

Steps (labels as in the pipeline graph)::

    Fingerprint      batches of documents -> members (id, keep-rule fields), bucket keys, signatures
    Buckets          GroupByKey on exact / URL / LSH band keys -> star edges (centre = smallest id)
    MergeEdges       one edge per pair, flagged exact if any exact bucket produced it
    Verify           band-only edges: join both signatures (two CoGroupByKeys on id), keep J >= threshold
    Components       connected components by large-star / small-star rounds (components.py)
    Clusters         join labels with members, GroupByKey on the root, apply the keep rule
    Join             CoGroupByKey on id (documents packed as bytes): document + decision -> Document | Reject

Only fingerprints go through the shuffles; the full document is shuffled once, in the final join.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import apache_beam as beam
import numpy as np
from apache_beam import pvalue
from apache_beam.metrics import Metrics

from curation.document import Document, Reject, pack_document, unpack_document
from curation.incremental import PriorIndex, batch_probe, prior_reject, state_values
from curation.stage import SplitOutcomes, StageOutput
from curation.stages.dedup.cluster import (
    Decision,
    MemberTuple,
    cluster_stats,
    decide_cluster,
    merge_stats,
)
from curation.stages.dedup.components import ConnectedComponents, Edge, star_edges
from curation.stages.dedup.fingerprint import BAND, NO_GROUP, Fingerprinter
from curation.stages.dedup.rules import DedupRules
from curation.stages.dedup.signature import sketch_jaccard

STAGE = "dedup"
_KEYS = "keys"
_SIGS = "sigs"
_REJECTED_EDGES = "rejected_edges"
_STATS = "stats"
_STATE = "state"
_DOCS = "docs"
_PRIOR = "prior"


class _FingerprintDoFn(beam.DoFn):
    """Thin shell: fingerprint a batch; emit members (main), bucket keys per shard, signatures, state values.

    Bucket keys (1 + bands per document) would dominate the element count of the pipeline, so the keys of
    one batch travel as one element per shard (``key hash mod shards``) holding arrays; the bucket step
    groups by key within a shard (:func:`shard_edges`). A bucket still lives in exactly one shard.

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
            yield (doc_id, fp.members[i])
            yield pvalue.TaggedOutput(_STATE, (doc_id, values[i]))
            if fp.signatures[i] is not None:
                yield pvalue.TaggedOutput(_SIGS, (doc_id, fp.signatures[i]))
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

    members: beam.PCollection  # (id, MemberTuple)
    keys: beam.PCollection  # (shard, ShardKeys)
    sigs: beam.PCollection  # (id, sketch bytes)
    state: beam.PCollection  # (id, StateValue)


#: Attribute by which a PCollection of documents carries the fingerprints of its elements, already
#: computed by the prior-duplicate filter (:func:`fingerprint_with_prior`), to the dedup stage that follows.
FINGERPRINTS_ATTR = "_curation_dedup_fingerprints"
#: Attribute by which the stage's kept PCollection carries the state values of its kept documents.
STATE_ATTR = "_curation_dedup_state"


def _fingerprint_outputs(out: Any) -> Fingerprints:
    return Fingerprints(members=out["members"], keys=out[_KEYS], sigs=out[_SIGS], state=out[_STATE])


def fingerprint_with_prior(
    docs: beam.PCollection, rules: DedupRules, prior: Sequence[str]
) -> tuple[beam.PCollection, beam.PCollection]:
    """Fingerprint ``docs`` once and drop those duplicating the committed fingerprints ``prior``.

    Returns the passing documents, which carry their fingerprints for the dedup stage that follows
    (:data:`FINGERPRINTS_ATTR`), and the rejects."""
    out = (
        docs
        | "Batch" >> beam.BatchElements(min_batch_size=rules.batch_size, max_batch_size=rules.batch_size)
        | "FingerprintAndMatch"
        >> beam.ParDo(_FingerprintDoFn(Fingerprinter(rules), rules.bucket_shards, tuple(prior))).with_outputs(
            _KEYS, _SIGS, _STATE, _DOCS, _PRIOR, main="members"
        )
    )
    passed = out[_DOCS]
    setattr(passed, FINGERPRINTS_ATTR, _fingerprint_outputs(out))
    return passed, out[_PRIOR]


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


def _split_edges(item: tuple[Edge, bool]) -> Iterator[Any]:
    edge, exact = item
    if exact:
        yield edge
    else:
        yield pvalue.TaggedOutput("band", (edge[0], edge[1]))


def _attach_first_signature(doc_id: str, grouped: dict[str, list]) -> Iterator[tuple[str, tuple[str, bytes]]]:
    """Join step 1 (keyed by the smaller end): forward each edge with that end's signature."""
    sigs = grouped["sig"]
    if not sigs:
        return
    for other in sorted(set(grouped["edge"])):
        yield other, (doc_id, sigs[0])


class _VerifyDoFn(beam.DoFn):
    """Join step 2 (keyed by the larger end): keep the edge if the estimated Jaccard reaches the threshold."""

    def __init__(self, threshold: float) -> None:
        self.threshold = threshold
        self._dropped = Metrics.counter(STAGE, "candidate_edges_rejected")

    def process(self, item: tuple[str, dict[str, list]]) -> Iterator[Any]:
        doc_id, grouped = item
        sigs = grouped["sig"]
        if not sigs:
            return
        for other, other_sig in sorted(grouped["edge"]):
            j = sketch_jaccard(other_sig, sigs[0])
            if j >= self.threshold:
                yield (other, doc_id)
            else:
                self._dropped.inc()
                yield pvalue.TaggedOutput(_REJECTED_EDGES, 1)


def _members_by_root(doc_id: str, grouped: dict[str, list]) -> Iterator[tuple[str, MemberTuple]]:
    roots, members = grouped["root"], grouped["member"]
    if roots and members:
        yield roots[0], members[0]


def _decide(root: str, members: Iterable[MemberTuple]) -> Iterator[Any]:
    members = list(members)
    decisions, _ = decide_cluster(root, members)
    yield from decisions
    yield pvalue.TaggedOutput(_STATS, cluster_stats(members, decisions))


class _ApplyDoFn(beam.DoFn):
    """The full document meets its decision: kept with cluster signals, or a ``duplicate_of`` reject.

    The state values of a kept document (computed by the fingerprint step and joined here) go to the
    ``_STATE`` output, so the state writer needs no second fingerprinting."""

    def process(self, item: tuple[str, dict[str, list]]) -> Iterator[Any]:
        doc_id, grouped = item
        decision: Decision | None = grouped["decision"][0] if grouped["decision"] else None
        kept = False
        for packed in grouped["doc"]:
            out = apply_decision(unpack_document(packed), decision)
            kept = kept or not isinstance(out, Reject)
            yield out
        if kept:
            for value in grouped["state"]:
                yield pvalue.TaggedOutput(_STATE, (doc_id, value))


def _keyed_packed(doc: Document) -> tuple[str, bytes]:
    """The join carries documents as packed bytes: a runner that groups in memory (the FnApiRunner decodes
    grouped values) then holds compact bytes, not Python objects, for every document of the corpus."""
    return doc.id, pack_document(doc)


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


class _MergeStats(beam.CombineFn):
    def create_accumulator(self) -> dict:
        return {}

    def add_input(self, acc: dict, value: dict) -> dict:
        return merge_stats(acc, value)

    def merge_accumulators(self, accs: Iterable[dict]) -> dict:
        out: dict = {}
        for a in accs:
            out = merge_stats(out, a)
        return out

    def extract_output(self, acc: dict) -> dict:
        return acc


class DedupStage(beam.PTransform):
    """Exact + MinHash-LSH near-duplicate removal over the whole collection (see module docstring)."""

    def __init__(self, rules: DedupRules, params: dict[str, Any] | None = None) -> None:
        super().__init__(label=STAGE)
        self.rules = rules
        self.params = params or {}

    def expand(self, docs: beam.PCollection) -> StageOutput:
        rules = self.rules
        fps: Fingerprints | None = getattr(docs, FINGERPRINTS_ATTR, None)
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
        members, keys, sigs = fps.members, fps.keys, fps.sigs

        edges = (
            keys
            | "Buckets/Group" >> beam.GroupByKey()
            | "Buckets/StarEdges" >> beam.FlatMapTuple(shard_edges)
            | "MergeEdges" >> beam.CombinePerKey(any)
            | "SplitEdges" >> beam.FlatMap(_split_edges).with_outputs("band", main="exact")
        )
        exact_edges, band_edges = edges["exact"], edges["band"]
        if rules.near and rules.minhash.verify:
            first = (
                {"edge": band_edges, "sig": sigs}
                | "Verify/JoinFirst" >> beam.CoGroupByKey()
                | "Verify/AttachFirst" >> beam.FlatMapTuple(_attach_first_signature)
            )
            verified = (
                {"edge": first, "sig": sigs}
                | "Verify/JoinSecond" >> beam.CoGroupByKey()
                | "Verify/Check" >> beam.ParDo(_VerifyDoFn(rules.minhash.threshold)).with_outputs(
                    _REJECTED_EDGES, main="edges"
                )
            )
            near_edges, rejected_edges = verified["edges"], verified[_REJECTED_EDGES]
        else:
            near_edges = band_edges
            rejected_edges = docs.pipeline | "NoRejectedEdges" >> beam.Create([])
        all_edges = (exact_edges, near_edges) | "AllEdges" >> beam.Flatten()
        labels, component_stats = all_edges | "Components" >> ConnectedComponents(rules.max_rounds)

        decided = (
            {"root": labels, "member": members}
            | "Clusters/Join" >> beam.CoGroupByKey()
            | "Clusters/ByRoot" >> beam.FlatMapTuple(_members_by_root)
            | "Clusters/Group" >> beam.GroupByKey()
            | "Clusters/Keep" >> beam.FlatMapTuple(_decide).with_outputs(_STATS, main="decisions")
        )
        applied = (
            {
                "doc": docs | "KeyById" >> beam.Map(_keyed_packed),
                "decision": decided["decisions"],
                "state": fps.state,
            }
            | "Join/Group" >> beam.CoGroupByKey()
            | "Join/Apply" >> beam.ParDo(_ApplyDoFn()).with_outputs(_STATE, main="outcomes")
        )
        out = applied["outcomes"] | SplitOutcomes(STAGE)
        setattr(out.kept, STATE_ATTR, applied[_STATE])
        return dataclasses.replace(out, stats=self._stats(docs, decided[_STATS], component_stats, {
            "exact_edges": exact_edges, "band_edges": band_edges, "near_edges": near_edges,
            "rejected_edges": rejected_edges,
        }))

    def _stats(
        self,
        docs: beam.PCollection,
        cluster_stats_pc: beam.PCollection,
        component_stats: beam.PCollection,
        edge_pcs: dict[str, beam.PCollection],
    ) -> beam.PCollection:
        p = docs.pipeline
        empty = {
            "clusters": 0, "docs_in_clusters": 0, "max_cluster_size": 0, "size_histogram": {},
            "removed": {"docs": 0, "tokens": 0, "chars": 0}, "removed_by_match": {}, "removed_by_kind": {},
            "kept_by_kind": {}, "cross_source": {"docs": 0, "tokens": 0, "by_pair": {}},
        }
        clusters = (
            (cluster_stats_pc, p | "Stats/Empty" >> beam.Create([empty]))
            | "Stats/FlattenClusters" >> beam.Flatten()
            | "Stats/MergeClusters" >> beam.CombineGlobally(_MergeStats())
            | "Stats/ClustersKey" >> beam.Map(lambda d: ("clusters", d))
        )
        names = [
            pc | f"Stats/Name_{name}" >> beam.Map(lambda _, k=name: k)
            for name, pc in sorted(edge_pcs.items())
        ]
        counted = (
            names
            | "Stats/FlattenEdges" >> beam.Flatten()
            | "Stats/CountEdges" >> beam.combiners.Count.PerElement()
            | "Stats/EdgeDicts" >> beam.MapTuple(lambda k, n: {k: n})
        )
        zeros = p | "Stats/EdgeZeros" >> beam.Create([dict.fromkeys(edge_pcs, 0)])
        edges = (
            (counted, zeros)
            | "Stats/AllEdgeCounts" >> beam.Flatten()
            | "Stats/MergeEdges" >> beam.CombineGlobally(_MergeStats())
            | "Stats/EdgesKey" >> beam.Map(lambda d: ("edges", d))
        )
        params = p | "Stats/Params" >> beam.Create([("params", self.params)])
        return (clusters, edges, component_stats, params) | "Stats/All" >> beam.Flatten()
