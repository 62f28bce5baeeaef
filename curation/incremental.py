"""Incremental dedup across waves and runs: fingerprints of kept documents persist in the output folder.

A run in waves (``curate run --wave-size``) and a later ``--resume`` with new shards each run the dedup
stage on their own shards only. So that a document duplicating one kept *earlier* is still dropped, every
wave writes the fingerprints of the documents its dedup stage kept to
``<out>/dedup_state/part-r<N>-*.parquet`` (committed with the wave), and the next wave filters its
documents against all committed fingerprints *before* its own dedup runs.

What is stored (compact, columnar; ~0.9 KB per kept document with 256 permutations and 32 bands):

    id        string   the kept document
    exact     int64    exact-text key (null when exact dedup is off)
    bands     binary   LSH band keys (int64 x bands; empty when the document has too few tokens)
    sig       binary   b-bit signature for verification (uint16 x num_perm; empty when verify is off)

The guarantee (docs/dedup.md): a later document is dropped when it is an exact copy of a kept earlier one,
or shares an LSH band with one and (with ``verify``) their estimated Jaccard is >= the threshold. The
earlier kept copy is never revisited: the keep rule (license, quality, length) chooses among the copies of
one wave; across waves the first kept copy wins. The fingerprints and the decision rule are the dedup
stage's own (:class:`~curation.stages.dedup.fingerprint.Fingerprinter`), so a wave boundary changes which
copy is kept, not what counts as a copy.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import apache_beam as beam
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from apache_beam.io.filesystems import FileSystems

from curation.document import Document, Reject
from curation.rules import ConfigError
from curation.sinks import ParquetSet
from curation.stage import SplitOutcomes, StageOutput

STAGE = "dedup"
STATE_DIR = "dedup_state"

# Bump when the fingerprint encoding changes (band keys, verification sketch): older state is refused.
STATE_VERSION = "2"
STATE_SCHEMA = pa.schema(
    [
        pa.field("id", pa.string(), nullable=False),
        pa.field("exact", pa.int64()),
        pa.field("bands", pa.binary(), nullable=False),
        pa.field("sig", pa.binary(), nullable=False),
    ],
    metadata={"curation.dedup_state": STATE_VERSION},
)


def state_files(output: str) -> list[str]:
    """Committed fingerprint files of ``output`` (sorted, so every worker builds the same index)."""
    pattern = FileSystems.join(output, STATE_DIR, "*.parquet")
    try:
        found = FileSystems.match([pattern])[0].metadata_list
    except Exception:  # nothing committed yet: Beam raises for a missing folder on some filesystems
        return []
    return sorted(m.path for m in found)


def _check_version(path: str, schema: pa.Schema) -> None:
    found = (schema.metadata or {}).get(b"curation.dedup_state", b"none").decode()
    if found != STATE_VERSION:
        raise ConfigError(
            path,
            None,
            f"dedup state version {found}; this version reads {STATE_VERSION}: "
            "rerun with --overwrite to rebuild the output folder",
        )


def check_state(files: Sequence[str]) -> list[str]:
    """Driver-side check of committed fingerprint files before any worker loads them; returns them."""
    import pyarrow.parquet as pq

    for path in files:
        with FileSystems.open(path) as fh:
            _check_version(path, pq.read_schema(fh))
    return list(files)


# What the dedup stage carries per document for the state writer: (exact key or None, band keys, sketch).
StateValue = tuple[int | None, bytes, bytes]


def batch_probe(fp: Any) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """The ``(document index, key)`` arrays of a batch's exact-text keys and LSH band keys (pure)."""
    from curation.stages.dedup.fingerprint import BAND, EXACT_TEXT

    ex, band = fp.key_type == EXACT_TEXT, fp.key_type == BAND
    return (fp.key_doc[ex], fp.key_hash[ex]), (fp.key_doc[band], fp.key_hash[band])


def state_values(fp: Any) -> list[StateValue]:
    """Per document of a fingerprinted batch: its exact key, band keys (int64 bytes) and sketch (pure)."""
    (ex_doc, ex_key), (band_doc, band_key) = batch_probe(fp)
    n = len(fp.members)
    exact: list[int | None] = [None] * n
    for d, k in zip(ex_doc.tolist(), ex_key.tolist(), strict=True):
        exact[d] = k
    order = np.argsort(band_doc, kind="stable")
    band_doc, band_key = band_doc[order], band_key[order].astype(np.int64)
    bounds = np.searchsorted(band_doc, np.arange(n + 1))
    return [
        (exact[i], band_key[bounds[i] : bounds[i + 1]].tobytes(), fp.signatures[i] or b"") for i in range(n)
    ]


def state_row(doc_id: str, value: StateValue) -> dict[str, Any]:
    """One ``dedup_state`` row."""
    exact, bands, sig = value
    return {"id": doc_id, "exact": exact, "bands": bands, "sig": sig}


def fingerprint_rows(fingerprinter: Any, docs: Sequence[Document]) -> list[dict[str, Any]]:
    """One state row per document: exact key, band keys and verification signature (pure)."""
    fp = fingerprinter.fingerprint_batch(docs)
    return [state_row(m[0], v) for m, v in zip(fp.members, state_values(fp), strict=True)]


class PriorIndex:
    """Sorted arrays over the committed fingerprints, looked up a batch at a time with numpy.

    Loading is columnar: the band keys of every document are one int64 view of the ``bands`` column's
    data buffer, and ids and signatures stay Arrow arrays, read only for the few candidates that match,
    so loading costs no Python object per stored document or key.
    """

    def __init__(self, table: pa.Table) -> None:
        n = table.num_rows
        self._ids = table.column("id").combine_chunks()
        self._sigs = table.column("sig").combine_chunks()
        exact = table.column("exact").combine_chunks()
        valid = np.asarray(exact.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
        values = np.asarray(pc.fill_null(exact, 0).to_numpy(zero_copy_only=False), dtype=np.int64)
        ex_doc = np.flatnonzero(valid).astype(np.int64)
        b_keys, per_doc = _int64_cells(table.column("bands").combine_chunks())
        b_doc = np.repeat(np.arange(n, dtype=np.int64), per_doc)
        eo = np.argsort(values[ex_doc], kind="stable")
        bo = np.argsort(b_keys, kind="stable")
        self.exact_keys, self.exact_doc = values[ex_doc][eo], ex_doc[eo]
        self.band_keys, self.band_doc = b_keys[bo], b_doc[bo]

    @classmethod
    def from_table(cls, table: pa.Table) -> PriorIndex:
        return cls(table)

    @classmethod
    def load(cls, files: Sequence[str]) -> PriorIndex:
        import pyarrow.parquet as pq

        tables = []
        for path in files:
            with FileSystems.open(path) as fh:
                table = pq.read_table(fh, columns=STATE_SCHEMA.names)
            _check_version(path, table.schema)
            tables.append(table.replace_schema_metadata(None))
        table = pa.concat_tables(tables) if tables else STATE_SCHEMA.empty_table()
        return cls(table)

    def __len__(self) -> int:
        return len(self._ids)

    def id_of(self, d: int) -> str:
        return str(self._ids[d].as_py())

    def sig_of(self, d: int) -> bytes:
        return self._sigs[d].as_py() or b""

    def match_batch(
        self,
        n_docs: int,
        exact: tuple[np.ndarray, np.ndarray],
        bands: tuple[np.ndarray, np.ndarray],
        sigs: Sequence[bytes | None],
        threshold: float,
        verify: bool,
    ) -> list[tuple[str, str] | None]:
        """Per document of a batch: ``(kept id, "exact" | "near")`` of the earlier document it duplicates,
        else ``None``. ``exact`` and ``bands`` are ``(document index, key)`` arrays of the batch.

        An exact match wins over a near one; among several matches the smallest id wins, so the answer
        depends neither on file nor on worker order."""
        from curation.stages.dedup.signature import sketch_jaccard

        hits: list[tuple[str, str] | None] = [None] * n_docs
        for doc, cands in _candidates(self.exact_keys, self.exact_doc, *exact).items():
            hits[doc] = (min(self.id_of(c) for c in cands), "exact")
        for doc, cands in sorted(_candidates(self.band_keys, self.band_doc, *bands).items()):
            if hits[doc] is not None:
                continue
            sig = sigs[doc]
            near = [
                self.id_of(c)
                for c in sorted(cands)
                if not verify or (sig and (o := self.sig_of(c)) and sketch_jaccard(sig, o) >= threshold)
            ]
            if near:
                hits[doc] = (min(near), "near")
        return hits

    def match(self, exact: int | None, bands: bytes, sig: bytes, threshold: float, verify: bool) -> Any:
        """:meth:`match_batch` for one document given as a state row's fields."""
        ex = np.array([] if exact is None else [exact], dtype=np.int64)
        band_keys = np.frombuffer(bands, dtype=np.int64)
        return self.match_batch(
            1,
            (np.zeros(ex.size, dtype=np.int64), ex),
            (np.zeros(band_keys.size, dtype=np.int64), band_keys),
            [sig or None],
            threshold,
            verify,
        )[0]


def _int64_cells(column: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """All int64 values packed in a binary column, concatenated (zero-copy), and how many per row."""
    if len(column) == 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    width = np.int64 if pa.types.is_large_binary(column.type) else np.int32
    offsets = np.frombuffer(column.buffers()[1], dtype=width)[column.offset : column.offset + len(column) + 1]
    lengths = np.diff(offsets).astype(np.int64)
    if lengths.sum() == 0:
        return np.empty(0, dtype=np.int64), np.zeros(len(column), dtype=np.int64)
    data = np.frombuffer(column.buffers()[2], dtype=np.uint8)[int(offsets[0]) : int(offsets[-1])]
    return data.view(np.int64), lengths // 8


def _candidates(
    keys: np.ndarray, owner: np.ndarray, doc: np.ndarray, probe: np.ndarray
) -> dict[int, set[int]]:
    """For each probing document, the stored documents sharing one of its keys (sorted ``keys``)."""
    if not keys.size or not probe.size:
        return {}
    lo = np.searchsorted(keys, probe, side="left")
    hi = np.searchsorted(keys, probe, side="right")
    found: dict[int, set[int]] = {}
    for j in np.flatnonzero(hi > lo).tolist():
        found.setdefault(int(doc[j]), set()).update(owner[lo[j] : hi[j]].tolist())
    return found


def prior_reject(doc: Document, kept_id: str, match: str) -> Reject:
    """The reject of a document duplicating ``kept_id`` from an earlier wave or run."""
    signals = {f"{STAGE}.match": match, f"{STAGE}.kept_id": kept_id, f"{STAGE}.prior": True}
    reason = f"duplicate_of:{kept_id}"
    return Reject(doc=doc.with_signals(signals), stage=STAGE, reason=reason, reasons=(reason,))


class DropPriorDuplicates(beam.PTransform):
    """``dedup[prior]``: drop documents that duplicate a document kept by an earlier wave or run.

    Returns ``(passed documents, StageOutput of the rejects, their fingerprints)``. The documents are
    fingerprinted here once (:func:`~curation.stages.dedup.stage.fingerprint_and_match`); the pipeline
    hands the fingerprints of the passing ones to the dedup stage applied next, which then does not
    compute them again. The counts cover the rejected documents only, under the stage name ``dedup``:
    the dedup stage proper counts the documents that pass, so ``docs_in == kept + rejected`` still holds.
    """

    def __init__(self, rules: Any, files: Sequence[str]) -> None:
        super().__init__()
        self.rules = rules
        self.files = tuple(files)

    def expand(self, docs: beam.PCollection) -> tuple[beam.PCollection, StageOutput, Any]:
        from curation.stages.dedup.stage import fingerprint_and_match

        passed, rejects, fingerprints = fingerprint_and_match(docs, self.rules, self.files)
        return passed, rejects | SplitOutcomes(STAGE), fingerprints


class WriteDedupState(beam.PTransform):
    """``dedup[state]``: write the state values ``(id, StateValue)`` of the documents dedup kept (the
    stage's ``extra["state"]``, computed by its fingerprint step) to ``<output>/dedup_state/<prefix>-*``."""

    def __init__(self, output: str, prefix: str) -> None:
        super().__init__()
        self.output = output
        self.prefix = prefix

    def expand(self, state: beam.PCollection) -> beam.PCollection:
        # The run's own Parquet sink (curation.sinks): one write step per bundle and one finalise step, the
        # same ``<prefix>-SSSSS-of-NNNNN.parquet`` names as Beam's WriteToParquet without its shuffle
        # (14 -> 4 transforms, a stage fewer for the runner to plan and execute).
        prefix = FileSystems.join(self.output, STATE_DIR, self.prefix)
        files = ParquetSet(self.output, STATE_SCHEMA, timer="dedup")
        files.write(state, "Write", _StateRow(prefix))
        return files.finalize(state.pipeline, [prefix])


class _StateRow:
    """``(id, StateValue)`` -> ``(prefix, row)`` for :class:`curation.sinks.ParquetSet`."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    def __call__(self, kv: tuple[str, Any]) -> tuple[str, dict[str, Any]]:
        return self.prefix, state_row(*kv)


__all__ = [
    "STATE_DIR",
    "DropPriorDuplicates",
    "PriorIndex",
    "WriteDedupState",
    "batch_probe",
    "check_state",
    "fingerprint_rows",
    "prior_reject",
    "state_files",
    "state_row",
    "state_values",
]
