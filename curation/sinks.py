"""Output sinks: cleaned Parquet per source kind, the rejects Parquet, and the JSON reports.

All writes go through Beam's file sinks (temp files + atomic rename at finalize) or ``FileSystems`` so the
same code writes to a local folder, GCS, S3 or HDFS on any runner. The ``write`` step is a stage like the
others: rows that cannot be serialised become rejects (reason ``write_error``), and it is accounted in
``stages.json`` so the funnel ends with what actually reached the Parquet files.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import apache_beam as beam
import pyarrow as pa
from apache_beam import pvalue
from apache_beam.io.filesystems import FileSystems
from apache_beam.metrics import Metrics
from apache_beam.transforms.window import GlobalWindows

from curation import beamfn as lean
from curation.accounting import MergeCounts, check_invariants, stages_report
from curation.document import (
    DATA_FILE_SCHEMA,
    REJECT_SCHEMA,
    Document,
    Reject,
    document_to_row,
    reject_to_row,
)
from curation.stage import (
    COUNTS,
    REJECTED,
    STAGE_MICROS,
    AccountingDoFn,
    cpu_micros_since,
    cpu_timed,
    once,
    parts,
    timed_iter,
)

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


# --- Parquet file sets written where their rows arise -------------------------------------------------
#
# Beam's ``WriteToParquet`` expands to ~14 leaf transforms and ~5 fused stages (initialise, write bundles,
# group results, pre-finalise, finalise, each with side inputs); one per reject stage and per source kind
# made ~200 of the graph's ~520 leaf transforms and about half of its fused stages, a fixed cost of every
# run (bundle-processor creation inspects every DoFn of every stage). Here one ParDo per input writes
# each bundle's rows to temp files (fused with the stage that produced them, so rows never wait in a
# buffer), and one finalise step renames them all: the same files (``<prefix>-SSSSS-of-NNNNN.parquet``,
# at least one per prefix, empty if no row), the same row groups (record batches of 1,000 rows, a row
# group per ``ROW_GROUP_BYTES`` of Arrow data, zstd) and the same temp-then-rename commit as Beam's sink.

#: Rows per Arrow record batch (Beam's ``WriteToParquet`` default ``record_batch_size``).
RECORD_BATCH_ROWS = 1000


class _BundleFile:
    """One temp Parquet file of one bundle: rows buffered into record batches, written per row group."""

    def __init__(self, path: str, schema: pa.Schema) -> None:
        import pyarrow.parquet as pq

        self.path = path
        self.schema = schema
        self.rows = 0
        self.first_id = ""
        self._columns: list[list[Any]] = [[] for _ in schema.names]
        # (name, required) per column, looked up once: pyarrow builds a new list for ``schema.names`` and
        # a new Field for ``schema.field(i)`` on every call, and ``add`` runs per row and column
        self._fields = [(f.name, not f.nullable) for f in schema]
        self._batches: list[pa.RecordBatch] = []
        self._batch_bytes = 0
        self._fh = FileSystems.create(path, mime_type="application/x-parquet")
        self._writer = pq.ParquetWriter(
            self._fh, schema, compression="zstd", use_deprecated_int96_timestamps=False,
            use_compliant_nested_type=False,
        )

    def add(self, row: dict[str, Any]) -> None:
        # Same order of checks as Beam's _RowDictionariesToArrowTable, so the row groups come out alike.
        if len(self._columns[0]) >= RECORD_BATCH_ROWS:
            self._flush_batch()
        if self._batch_bytes >= ROW_GROUP_BYTES:
            self._write_row_group()
        if not self.rows:
            self.first_id = str(row.get("id") or "")
        self.rows += 1
        for col, (name, required) in zip(self._columns, self._fields, strict=True):
            col.append(row[name] if required else row.get(name))

    def _flush_batch(self) -> None:
        arrays = [pa.array(col, type=t) for col, t in zip(self._columns, self.schema.types, strict=True)]
        self._columns = [[] for _ in self.schema.names]
        self._batches.append(pa.RecordBatch.from_arrays(arrays, schema=self.schema))
        self._batch_bytes += sum(b.size for a in arrays for b in a.buffers() if b is not None)

    def _write_row_group(self) -> None:
        self._writer.write_table(pa.Table.from_batches(self._batches, schema=self.schema))
        self._batches = []
        self._batch_bytes = 0

    def close(self) -> None:
        if self._columns[0]:
            self._flush_batch()
        if self._batch_bytes > 0:
            self._write_row_group()
        self._writer.close()
        self._fh.close()


class _WriteBundlesFn(lean.LeanDoFn):
    """Writes the rows of each bundle to one temp file per final prefix; emits ``(prefix, temp, rows,
    first id)`` per file at bundle end (a retried bundle writes new temp files; only the committed
    attempt's are renamed, the others go with the temp folder)."""

    def __init__(self, to_row: Any, schema: pa.Schema, temp_dir: str, timer: str) -> None:
        self.to_row = to_row  # element -> (final prefix, row)
        self.schema = schema
        self.temp_dir = temp_dir
        self.timer = timer  # the stage whose CPU counter this writing adds to

    def start_bundle(self) -> None:
        self._files: dict[str, _BundleFile] = {}
        self._micros = Metrics.counter(self.timer, STAGE_MICROS)

    def process(self, element: Any) -> None:
        t0 = time.thread_time()
        self._add(element)
        self._micros.inc(cpu_micros_since(t0))

    def _add(self, element: Any) -> None:
        prefix, row = self.to_row(element)
        f = self._files.get(prefix)
        if f is None:
            import uuid

            path = join_path(self.temp_dir, f"{uuid.uuid4().hex}.parquet")
            f = self._files[prefix] = _BundleFile(path, self.schema)
        f.add(row)

    def finish_bundle(self) -> Iterator[Any]:
        t0 = time.thread_time()
        done = []
        for prefix, f in self._files.items():
            f.close()
            done.append(GlobalWindows.windowed_value((prefix, f.path, f.rows, f.first_id)))
        self._files = {}
        self._micros.inc(cpu_micros_since(t0))
        yield from done


def finalize_parquet(
    written: Iterable[tuple[str, str, int, str]], prefixes: Iterable[str], schema: pa.Schema, temp_dir: str
) -> list[str]:
    """Rename the temp files to ``<prefix>-SSSSS-of-NNNNN.parquet`` (in a deterministic order: first row
    id, rows, temp name), write one empty file for a prefix without rows, delete the temp folder."""
    import pyarrow.parquet as pq

    by_prefix: dict[str, list[tuple[str, int, str]]] = {p: [] for p in prefixes}
    for prefix, temp, rows, first_id in written:
        by_prefix.setdefault(prefix, []).append((first_id, rows, temp))
    finals = []
    for prefix, files in by_prefix.items():
        parent = prefix.rsplit("/", 1)[0]
        if "://" not in prefix and not FileSystems.exists(parent):
            FileSystems.mkdirs(parent)
        if not files:
            final = f"{prefix}-00000-of-00001.parquet"
            with FileSystems.create(final, mime_type="application/x-parquet") as fh:
                pq.ParquetWriter(fh, schema, compression="zstd").close()
            finals.append(final)
            continue
        n = len(files)
        src, dst = [], []
        for i, (_, _, temp) in enumerate(sorted(files)):
            final = f"{prefix}-{i:05d}-of-{n:05d}.parquet"
            finals.append(final)
            if FileSystems.exists(temp):  # a retried finalise finds the files already renamed
                src.append(temp)
                dst.append(final)
        if src:
            FileSystems.rename(src, dst)
    delete_tree(temp_dir)
    return finals


class ParquetSet:
    """Graph-building helper: write PCollections into Parquet file sets under one temp folder, then
    finalise them all in one step (an ``Impulse``, one element, reading the written files as a side
    input, so it runs, and writes the empty files, even when nothing was written)."""

    def __init__(self, output: str, schema: pa.Schema, timer: str = WRITE_STAGE) -> None:
        import uuid

        self.schema = schema
        self.timer = timer  # stage whose CPU counter the writing adds to
        self.temp_dir = join_path(output, f".temp-parquet-{uuid.uuid4().hex}")
        self.written: list[beam.PCollection] = []

    def write(self, pcoll: beam.PCollection, label: str, to_row: Any) -> None:
        write = _WriteBundlesFn(to_row, self.schema, self.temp_dir, self.timer)
        self.written.append(pcoll | label >> beam.ParDo(write))

    def finalize(self, pipeline: beam.Pipeline, prefixes: list[str]) -> beam.PCollection:
        schema, temp_dir = self.schema, self.temp_dir

        def finalize(_: Any, *written: list[Any]) -> Iterator[str]:
            return finalize_parquet([w for ws in written for w in ws], prefixes, schema, temp_dir)

        # each write's file list is its own side input: a Flatten of them first would be a fused stage of
        # its own (materialised, on every run), for a few small elements per bundle
        return (
            once(pipeline)
            | "Finalize"
            >> lean.FlatMap(cpu_timed(self.timer, finalize), *[beam.pvalue.AsList(w) for w in self.written])
        )


class _KindRow:
    """``(source_kind, row)`` -> ``(data/source_kind=<kind>/<prefix>, row)``."""

    def __init__(self, prefixes: dict[str, str]) -> None:
        self.prefixes = prefixes

    def __call__(self, kv: tuple[str, dict[str, Any]]) -> tuple[str, dict[str, Any]]:
        return self.prefixes[kv[0]], kv[1]


class _RejectRow:
    """A reject -> ``(rejects/<prefix>, row)`` (text dropped unless the run keeps rejects' text)."""

    def __init__(self, prefix: str, keep_text: bool) -> None:
        self.prefix = prefix
        self.keep_text = keep_text

    def __call__(self, rej: Reject) -> tuple[str, dict[str, Any]]:
        row = reject_to_row(rej)
        if not self.keep_text:
            row["text"] = None
        return self.prefix, row


class _ToRowFn(AccountingDoFn):
    """Serialises kept documents to ``(source_kind, Parquet row)``; failures become rejects."""

    def __init__(self, keep_html: bool) -> None:
        super().__init__(WRITE_STAGE)
        self.keep_html = keep_html

    def process(self, doc: Document) -> Iterator[Any]:
        return timed_iter(WRITE_STAGE, self._row(doc))

    def _row(self, doc: Document) -> Iterator[Any]:
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
        yield doc.source_kind, row


class WriteDocuments(beam.PTransform):
    """Write kept documents to ``<out>/data/source_kind=<kind>/part-*.parquet``.

    Returns ``(write_rejects, write_counts)``; ``write_counts`` are per-bundle partial counts (summed
    with the other stages' in ``stages.json``).
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
            REJECTED, COUNTS, main="rows"
        )
        prefixes = {k: join_path(self.output, "data", f"source_kind={k}", self.prefix) for k in self.kinds}
        files = ParquetSet(self.output, DATA_SCHEMA)
        files.write(rows["rows"], "WriteBundles", _KindRow(prefixes))
        _ = files.finalize(docs.pipeline, list(prefixes.values()))
        return rows[REJECTED], rows[COUNTS]


class WriteRejects(beam.PTransform):
    """Write the rejects of every stage, ``{stage: PCollection[Reject] or a tuple of them}``, to
    ``<out>/rejects/<prefix>-<stage>-*.parquet``: each stage's rejects are written by the workers of that
    stage (no Flatten: a Flatten across stages is materialised until its last input is done, so every
    reject would wait in memory), and one step finalises all the files."""

    def __init__(self, output: str, keep_text: bool = True, prefix: str = "part") -> None:
        super().__init__()
        self.output = output
        self.keep_text = keep_text
        self.prefix = prefix

    def expand(self, rejects: dict[str, beam.PCollection | tuple[beam.PCollection, ...]]) -> beam.PCollection:
        files = ParquetSet(self.output, REJECT_SCHEMA)
        prefixes = []
        pipeline = None
        for stage, pcolls in rejects.items():
            prefix = join_path(self.output, "rejects", f"{self.prefix}-{stage}")
            prefixes.append(prefix)
            for i, pcoll in enumerate(parts(pcolls)):  # a stage's parts share its file set
                label = f"Write[{stage}]" if i == 0 else f"Write[{stage}]{i}"
                files.write(pcoll, label, _RejectRow(prefix, self.keep_text))
                pipeline = pcoll.pipeline
        assert pipeline is not None, "no rejects to write"
        return files.finalize(pipeline, prefixes)


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

        # One combine of every stage's partial counts, read whole as a side input by a one-element step
        # (so stages.json is written, with no stage, even when nothing was read); cheaper to build and run
        # than ToList's global combine with its default value.
        merged = counts | "Merge" >> beam.CombinePerKey(MergeCounts())
        return (
            once(counts.pipeline)
            | "WriteJson" >> lean.Map(lambda _, rows: write(rows), beam.pvalue.AsList(merged))
        )


#: A stage's stats for :class:`WriteStats`: ``(part, PCollection[(name, dict)])`` pairs. Part ``None`` puts
#: its items at the top level of the stage's file; a named part nests them under that name (a probe's
#: ``"before"`` and ``"after"``).
StatsParts = Sequence[tuple[str | None, beam.PCollection]]


def stats_documents(
    layout: Sequence[tuple[str, Sequence[str | None]]], lists: Sequence[list[tuple[str, Any]]]
) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(stage, JSON document)`` of every stage that has stats, from the parts' item lists.

    ``layout`` is ``(stage, part names)`` in order and ``lists`` the items of each part, flattened in the
    same order. A stage's document is ``{name: dict}`` sorted by name; a stage whose only parts are
    unnamed and empty has no document (no file), as a stage that produced no stats."""
    it = iter(lists)
    for stage, names in layout:
        entries: list[tuple[str, Any]] = []
        for part in names:
            items = next(it)
            if part is None:
                entries.extend(items)
            else:
                entries.append((part, dict(sorted(items, key=lambda kv: kv[0]))))
        if entries:
            yield stage, dict(sorted(entries, key=lambda kv: kv[0]))


def _write_stats(_: Any, report_dir: str, layout: Any, *lists: list[tuple[str, Any]]) -> Iterator[str]:
    for stage, doc in stats_documents(layout, lists):
        path = join_path(report_dir, "stats", f"{stage}.json")
        write_json(path, doc)
        yield path


class WriteStats(beam.PTransform):
    """Write every stage's stats, ``{stage: StatsParts}``, to ``<report_dir>/stats/<stage>.json`` (applied
    to the pipeline: ``p | WriteStats(report_dir, stats)``).

    Stats are already combined (a few items per stage), so one step after an ``Impulse`` reads every
    part whole as a side input and writes the files: no tagging step per stage, no Flatten and no
    GroupByKey (each was a leaf transform, and the Flatten and the shuffle fused stages of their own, on
    every run and worker)."""

    def __init__(self, report_dir: str, stats: Mapping[str, StatsParts]) -> None:
        super().__init__()
        self.report_dir = report_dir
        self.stats = dict(stats)

    def expand(self, pbegin: beam.pvalue.PBegin) -> beam.PCollection:
        stats = self.stats
        stages = sorted(stats)
        layout = tuple((stage, tuple(part for part, _ in stats[stage])) for stage in stages)
        sides = [beam.pvalue.AsList(pc) for stage in stages for _, pc in stats[stage]]
        return (
            once(pbegin.pipeline)
            | "WriteJson" >> lean.FlatMap(_write_stats, self.report_dir, layout, *sides)
        )
