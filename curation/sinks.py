"""Output sinks: cleaned Parquet per source kind, the rejects Parquet, and the JSON reports.

All writes go through Beam's file sinks (temp files + atomic rename at finalize) or ``FileSystems`` so the
same code writes to a local folder, GCS, S3 or HDFS on any runner. The ``write`` step is a stage like the
others: rows that cannot be serialised become rejects (reason ``write_error``), and it is accounted in
``stages.json`` so the funnel ends with what actually reached the Parquet files.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

import apache_beam as beam
import pyarrow as pa
from apache_beam import pvalue
from apache_beam.io.filesystems import FileSystems

from curation.accounting import MergeCounts, check_invariants, stages_report
from curation.document import (
    DATA_FILE_SCHEMA,
    REJECT_SCHEMA,
    Document,
    Reject,
    document_to_row,
    reject_to_row,
)
from curation.stage import COUNTS, REJECTED, AccountingDoFn

WRITE_STAGE = "write"


# ``source_kind`` is a column of the data files as well as their hive folder (``source_kind=<kind>/``), so
# readers that ignore hive folders (Hugging Face ``datasets``, a single file opened alone) still see it. It
# is dictionary-encoded: pyarrow's hive discovery infers folder keys as dictionary<int32, string>, and a
# plain string column of the same name would not merge with that (``pq.read_table(<out>/data)`` fails).
KIND_FIELD = pa.field("source_kind", pa.dictionary(pa.int32(), pa.string()), nullable=False)
DATA_SCHEMA = pa.schema([DATA_FILE_SCHEMA.field(0), KIND_FIELD, *list(DATA_FILE_SCHEMA)[1:]])

# Bytes of Arrow data a Parquet writer buffers before it writes a row group (Beam's default is 64 MiB).
# Every stage writes its own rejects, so several writers are open at once in one fused stage; 16 MiB
# bounds that memory while keeping row groups large enough for columnar readers.
ROW_GROUP_BYTES = 16 * 1024 * 1024


def join_path(*parts: str) -> str:
    return FileSystems.join(*parts)


def path_exists(path: str) -> bool:
    """A file, or a folder with at least one file under it: object stores (s3://, gs://) have no folders,
    so ``FileSystems.exists`` of a folder URL is False there even when files are under it."""
    if FileSystems.exists(path):
        return True
    return bool(FileSystems.match([FileSystems.join(path, "**")])[0].metadata_list)


def delete_tree(path: str) -> None:
    """Delete a file or a folder and everything under it, locally and on object stores.

    Beam's object-store filesystems delete a folder only when its URL ends with ``/`` (else they delete
    the one object of that name); the local filesystem deletes a folder either way.
    """
    if "://" in path and not FileSystems.exists(path):
        FileSystems.delete([path.rstrip("/") + "/"])
    elif FileSystems.exists(path):
        FileSystems.delete([path])


class _ToRowFn(AccountingDoFn):
    """Serialises kept documents to Parquet rows keyed by source kind; failures become rejects."""

    def __init__(self, keep_html: bool) -> None:
        super().__init__(WRITE_STAGE)
        self.keep_html = keep_html

    def process(self, doc: Document) -> Iterator[Any]:
        try:
            row = document_to_row(doc, keep_html=self.keep_html)
        except Exception as exc:
            rej = Reject(
                doc=doc, stage=WRITE_STAGE, reason="write_error", error=f"{type(exc).__name__}: {exc}"
            )
            self.acc.rejected(doc, rej)
            yield pvalue.TaggedOutput(REJECTED, rej)
            return
        self.acc.kept(doc, doc)
        yield pvalue.TaggedOutput(doc.source_kind, row)


class WriteDocuments(beam.PTransform):
    """Write kept documents to ``<out>/data/source_kind=<kind>/part-*.parquet``.

    Returns ``(write_rejects, write_counts)``.
    """

    def __init__(
        self, output: str, kinds: Iterable[str], keep_html: bool = False, prefix: str = "part"
    ) -> None:
        super().__init__()
        self.output = output
        self.kinds = sorted(set(kinds))
        self.keep_html = keep_html
        self.prefix = prefix

    def expand(self, docs: beam.PCollection) -> tuple[beam.PCollection, beam.PCollection]:
        rows = docs | "ToRow" >> beam.ParDo(_ToRowFn(self.keep_html)).with_outputs(
            REJECTED, COUNTS, *self.kinds
        )
        for kind in self.kinds:
            prefix = join_path(self.output, "data", f"source_kind={kind}", self.prefix)
            _ = rows[kind] | f"Write[{kind}]" >> beam.io.WriteToParquet(
                prefix,
                schema=DATA_SCHEMA,
                file_name_suffix=".parquet",
                codec="zstd",
                row_group_buffer_size=ROW_GROUP_BYTES,
            )
        counts = rows[COUNTS] | "Account" >> beam.CombinePerKey(MergeCounts())
        return rows[REJECTED], counts


class WriteRejects(beam.PTransform):
    """Write rejects to ``<out>/rejects/<prefix>-*.parquet`` (the pipeline uses one prefix per stage)."""

    def __init__(self, output: str, keep_text: bool = True, prefix: str = "part") -> None:
        super().__init__()
        self.output = output
        self.keep_text = keep_text
        self.prefix = prefix

    def expand(self, rejects: beam.PCollection) -> beam.pvalue.PDone:
        keep_text = self.keep_text

        def to_row(rej: Reject) -> dict[str, Any]:
            row = reject_to_row(rej)
            if not keep_text:
                row["text"] = None
            return row

        return (
            rejects
            | "ToRow" >> beam.Map(to_row)
            | "Write"
            >> beam.io.WriteToParquet(
                join_path(self.output, "rejects", self.prefix),
                schema=REJECT_SCHEMA,
                file_name_suffix=".parquet",
                codec="zstd",
                row_group_buffer_size=ROW_GROUP_BYTES,
            )
        )


def write_json(path: str, data: Any) -> None:
    """Write ``data`` as pretty JSON through Beam's FileSystems (local, GCS, S3, HDFS)."""
    payload = json.dumps(data, indent=2, sort_keys=False, ensure_ascii=False, default=str).encode("utf-8")
    with FileSystems.create(path) as fh:
        fh.write(payload)


class WriteStagesReport(beam.PTransform):
    """Collect all combined counts into ``<report_dir>/stages.json`` (checked for the invariant)."""

    def __init__(self, report_dir: str, stage_order: list[str], tokenizer: str) -> None:
        super().__init__()
        self.report_dir = report_dir
        self.stage_order = stage_order
        self.tokenizer = tokenizer

    def expand(self, counts: beam.PCollection) -> beam.PCollection:
        path = join_path(self.report_dir, "stages.json")
        order, tok = self.stage_order, self.tokenizer

        def write(rows: list) -> str:
            problems = check_invariants(rows)
            if problems:
                raise RuntimeError("accounting invariant broken: " + "; ".join(problems[:5]))
            write_json(path, stages_report(rows, order, tok))
            return path

        return (
            counts
            | "Remerge" >> beam.CombinePerKey(MergeCounts())
            | "Gather" >> beam.combiners.ToList()
            | "WriteJson" >> beam.Map(write)
        )


class WriteStats(beam.PTransform):
    """Write stage stats ``(stage, (name, dict))`` to ``<report_dir>/stats/<stage>.json``."""

    def __init__(self, report_dir: str) -> None:
        super().__init__()
        self.report_dir = report_dir

    def expand(self, stats: beam.PCollection) -> beam.PCollection:
        report_dir = self.report_dir

        def write(kv: tuple[str, Iterable[tuple[str, Any]]]) -> str:
            stage, items = kv
            path = join_path(report_dir, "stats", f"{stage}.json")
            write_json(path, dict(sorted(items, key=lambda it: it[0])))
            return path

        return stats | "ByStage" >> beam.GroupByKey() | "WriteJson" >> beam.Map(write)
