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

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import apache_beam as beam
import numpy as np
import pyarrow as pa
from apache_beam import pvalue
from apache_beam.io.filesystems import FileSystems

from curation.document import Document, Reject
from curation.rules import ConfigError
from curation.stage import REJECTED, SplitOutcomes, StageOutput

STAGE = "dedup"
STATE_DIR = "dedup_state"
BATCH = 1024

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


def fingerprint_rows(fingerprinter: Any, docs: Sequence[Document]) -> list[dict[str, Any]]:
    """One state row per document: exact key, band keys and verification signature (pure)."""
    from curation.stages.dedup.fingerprint import BAND, EXACT_TEXT

    fp = fingerprinter.fingerprint_batch(docs)
    rows = []
    for i, (member, sig) in enumerate(zip(fp.members, fp.signatures, strict=True)):
        mine = fp.key_doc == i
        exact = fp.key_hash[mine & (fp.key_type == EXACT_TEXT)]
        bands = fp.key_hash[mine & (fp.key_type == BAND)]
        rows.append(
            {
                "id": member[0],
                "exact": int(exact[0]) if exact.size else None,
                "bands": bands.astype(np.int64).tobytes(),
                "sig": sig or b"",
            }
        )
    return rows


@dataclass
class PriorIndex:
    """Sorted arrays over the committed fingerprints; looked up per document without Python dicts."""

    ids: list[str]
    exact_keys: np.ndarray  # int64, sorted
    exact_doc: np.ndarray  # index into ids, aligned with exact_keys
    band_keys: np.ndarray  # int64, sorted
    band_doc: np.ndarray  # index into ids, aligned with band_keys
    sigs: list[bytes]

    @classmethod
    def from_table(cls, table: pa.Table) -> PriorIndex:
        ids = table.column("id").to_pylist()
        exact = table.column("exact").to_pylist()
        bands = table.column("bands").to_pylist()
        has_exact = [i for i, e in enumerate(exact) if e is not None]
        ex_keys = np.array([exact[i] for i in has_exact], dtype=np.int64)
        ex_doc = np.array(has_exact, dtype=np.int64)
        per_doc = [np.frombuffer(b, dtype=np.int64) for b in bands]
        b_keys = np.concatenate(per_doc) if per_doc else np.empty(0, dtype=np.int64)
        b_doc = np.repeat(np.arange(len(ids), dtype=np.int64), [len(b) for b in per_doc])
        eo, bo = np.argsort(ex_keys, kind="stable"), np.argsort(b_keys, kind="stable")
        return cls(ids, ex_keys[eo], ex_doc[eo], b_keys[bo], b_doc[bo], table.column("sig").to_pylist())

    @classmethod
    def load(cls, files: Sequence[str]) -> PriorIndex:
        import pyarrow.parquet as pq

        tables = []
        for path in files:
            with FileSystems.open(path) as fh:
                table = pq.read_table(fh)
            _check_version(path, table.schema)
            tables.append(table.replace_schema_metadata(None))
        table = pa.concat_tables(tables) if tables else STATE_SCHEMA.empty_table()
        return cls.from_table(table)

    def __len__(self) -> int:
        return len(self.ids)

    def _hits(self, keys: np.ndarray, values: np.ndarray, where: np.ndarray) -> list[int]:
        lo = np.searchsorted(keys, values, side="left")
        hi = np.searchsorted(keys, values, side="right")
        return sorted({int(d) for a, b in zip(lo, hi, strict=True) for d in where[a:b]})

    def match(self, exact: int | None, bands: bytes, sig: bytes, threshold: float, verify: bool) -> Any:
        """``(kept id, "exact" | "near")`` of the earlier document this one duplicates, else ``None``.

        The smallest matching id wins, so the answer does not depend on file or worker order."""
        from curation.stages.dedup.signature import sketch_jaccard

        if exact is not None and self.exact_keys.size:
            hits = self._hits(self.exact_keys, np.array([exact], dtype=np.int64), self.exact_doc)
            if hits:
                return min(self.ids[d] for d in hits), "exact"
        if not bands or not self.band_keys.size:
            return None
        near = []
        for d in self._hits(self.band_keys, np.frombuffer(bands, dtype=np.int64), self.band_doc):
            if not verify or (sig and self.sigs[d] and sketch_jaccard(sig, self.sigs[d]) >= threshold):
                near.append(self.ids[d])
        return (min(near), "near") if near else None


def prior_reject(doc: Document, kept_id: str, match: str) -> Reject:
    """The reject of a document duplicating ``kept_id`` from an earlier wave or run."""
    signals = {f"{STAGE}.match": match, f"{STAGE}.kept_id": kept_id, f"{STAGE}.prior": True}
    reason = f"duplicate_of:{kept_id}"
    return Reject(doc=doc.with_signals(signals), stage=STAGE, reason=reason, reasons=(reason,))


class _PriorFilterFn(beam.DoFn):
    """Thin shell: load the committed fingerprints once per worker; reject documents that match them."""

    def __init__(self, rules: Any, files: tuple[str, ...]) -> None:
        self.rules = rules
        self.files = files

    def setup(self) -> None:
        from curation.stages.dedup.fingerprint import Fingerprinter

        self._fp = Fingerprinter(self.rules)
        self._fp.setup()
        self._index = PriorIndex.load(self.files)

    def process(self, batch: Sequence[Document]) -> Iterator[Any]:
        mh = self.rules.minhash
        for doc, row in zip(batch, fingerprint_rows(self._fp, batch), strict=True):
            hit = self._index.match(row["exact"], row["bands"], row["sig"], mh.threshold, mh.verify)
            if hit is None:
                yield doc
            else:
                yield pvalue.TaggedOutput(REJECTED, prior_reject(doc, *hit))


class DropPriorDuplicates(beam.PTransform):
    """``dedup[prior]``: drop documents that duplicate a document kept by an earlier wave or run.

    Returns ``(passed documents, StageOutput of the rejects)``. The counts cover the rejected documents
    only, under the stage name ``dedup``: the dedup stage proper counts the documents that pass, so for
    the stage as a whole ``docs_in == kept + rejected`` still holds.
    """

    def __init__(self, rules: Any, files: Sequence[str]) -> None:
        super().__init__()
        self.rules = rules
        self.files = tuple(files)

    def expand(self, docs: beam.PCollection) -> tuple[beam.PCollection, StageOutput]:
        out = (
            docs
            | "Batch" >> beam.BatchElements(min_batch_size=1, max_batch_size=BATCH)
            | "Match"
            >> beam.ParDo(_PriorFilterFn(self.rules, self.files)).with_outputs(REJECTED, main="kept")
        )
        rejected = out[REJECTED] | SplitOutcomes(STAGE)
        return out["kept"], rejected


class _StateRowsFn(beam.DoFn):
    def __init__(self, rules: Any) -> None:
        self.rules = rules

    def setup(self) -> None:
        from curation.stages.dedup.fingerprint import Fingerprinter

        self._fp = Fingerprinter(self.rules)
        self._fp.setup()

    def process(self, batch: Sequence[Document]) -> Iterator[dict[str, Any]]:
        yield from fingerprint_rows(self._fp, batch)


class WriteDedupState(beam.PTransform):
    """Write the fingerprints of the documents dedup kept to ``<output>/dedup_state/<prefix>-*.parquet``."""

    def __init__(self, rules: Any, output: str, prefix: str) -> None:
        super().__init__()
        self.rules = rules
        self.output = output
        self.prefix = prefix

    def expand(self, kept: beam.PCollection) -> beam.pvalue.PDone:
        return (
            kept
            | "Batch" >> beam.BatchElements(min_batch_size=1, max_batch_size=BATCH)
            | "Fingerprint" >> beam.ParDo(_StateRowsFn(self.rules))
            | "Write"
            >> beam.io.WriteToParquet(
                FileSystems.join(self.output, STATE_DIR, self.prefix),
                schema=STATE_SCHEMA,
                file_name_suffix=".parquet",
                codec="zstd",
            )
        )


__all__ = [
    "STATE_DIR",
    "DropPriorDuplicates",
    "PriorIndex",
    "WriteDedupState",
    "check_state",
    "fingerprint_rows",
    "prior_reject",
    "state_files",
]
