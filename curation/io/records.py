"""Record-level reading of JSONL and Parquet shards, shared by all source kinds.

:func:`iter_records` yields ``(index, record)`` for every good record and a :class:`Reject` for every bad
one (``malformed_json``, ``invalid_utf8``, ``too_large`` for over-long lines, ``truncated_gzip`` ...),
then carries on; a damaged stream ends the shard with one reject after every good record before it.
``index`` is the 0-based line number (row number for Parquet), so ids do not shift when a line is bad.

Damage inside a compressed stream (:class:`~curation.io.streams.Gap`) becomes one reject that says how
many bytes were skipped (``error``, and the signal ``read.skipped_bytes``), then reading goes on with the
lines after it. A UTF-8 byte-order mark before a line is dropped; JSON nested too deeply for the parser is
``malformed_json`` (the lines after it still read).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from curation.document import Reject
from curation.io.common import ReadContext
from curation.io.streams import Gap, LongLine, StreamError, guard_local, iter_chunks, iter_lines, open_raw

Record = tuple[int, dict[str, Any]]

_PARQUET_BATCH = 256
# A row group larger than this uncompressed (metadata) is not decoded: max(64 MiB, 16 x max_doc_bytes).
_ROW_GROUP_MIN_CAP = 64 << 20
# Record fields copied into Document.meta when a reader does not map them to a typed column.
_META_MAX_CHARS = 512
_SKIP_META = frozenset({"source_kind", "html", "text", "content", "messages", "conversations"})


def index_key(index: int) -> str:
    """Record key of records without a natural key."""
    return f"#{index}"


def iter_records(ctx: ReadContext) -> Iterator[Record | Reject]:
    if ctx.shard.format == "parquet":
        yield from _parquet(ctx)
    else:
        yield from _jsonl(ctx)


def gap_reject(ctx: ReadContext, key: str, gap: Any, partial: bytes = b"") -> Reject:
    """The reject for damaged or refused input (a Gap, a StreamError or a WARC Skip): reason, message and
    the bytes that were skipped (signal ``read.skipped_bytes``)."""
    message = str(gap) if isinstance(gap, StreamError) else gap.message
    signals = {"read.skipped_bytes": gap.skipped} if gap.skipped else {}
    return ctx.reject(key, gap.reason, raw=partial or None, error=message, signals=signals)


def _jsonl(ctx: ReadContext) -> Iterator[Record | Reject]:
    limits = ctx.limits
    loads = json.loads
    last = -1
    chunks = iter_chunks(ctx.shard.path, root=ctx.root, allow_outside=ctx.options.allow_symlinks_outside)
    try:
        for lineno, line in iter_lines(chunks, limits.max_line_bytes, limits.raw_bytes_in_rejects):
            last = lineno
            if isinstance(line, Gap):
                yield gap_reject(ctx, index_key(lineno), line, line.partial)
                continue
            if isinstance(line, LongLine):
                yield ctx.reject(
                    index_key(lineno),
                    "too_large",
                    raw=line.head,
                    error=f"line {lineno + 1} is {line.size} bytes > max_line_bytes {limits.max_line_bytes}",
                )
                continue
            if not line or line.isspace():
                continue
            if line.startswith(b"\xef\xbb\xbf"):  # UTF-8 byte-order mark (first line of many exports)
                line = line[3:]
            try:
                s = line.decode("utf-8")
            except UnicodeDecodeError as exc:
                yield ctx.reject(
                    index_key(lineno),
                    "invalid_utf8",
                    raw=line,
                    error=f"line {lineno + 1}: invalid UTF-8 at byte {exc.start}: {exc.reason}",
                )
                continue
            try:
                obj = loads(s)
            except ValueError as exc:
                yield ctx.reject(
                    index_key(lineno), "malformed_json", raw=line, error=f"line {lineno + 1}: {exc}"
                )
                continue
            except RecursionError:
                yield ctx.reject(
                    index_key(lineno),
                    "malformed_json",
                    raw=line,
                    error=f"line {lineno + 1}: JSON nested too deeply to parse",
                )
                continue
            if not isinstance(obj, dict):
                yield ctx.reject(
                    index_key(lineno),
                    "malformed_json",
                    raw=line,
                    error=f"line {lineno + 1}: expected a JSON object, got {type(obj).__name__}",
                )
                continue
            yield lineno, obj
    except StreamError as exc:
        yield gap_reject(ctx, index_key(last + 1), exc, exc.partial)


def _parquet(ctx: ReadContext) -> Iterator[Record | Reject]:
    import pyarrow.parquet as pq

    index = 0
    refused = guard_local(ctx.shard.path, ctx.root, ctx.options.allow_symlinks_outside)
    if refused is not None:
        yield ctx.reject(index_key(0), refused[0], error=refused[1])
        return
    cap = max(_ROW_GROUP_MIN_CAP, 16 * ctx.limits.max_doc_bytes)
    try:
        with open_raw(ctx.shard.path) as fh:
            pf = pq.ParquetFile(fh)
            for g in range(pf.num_row_groups):
                meta = pf.metadata.row_group(g)
                if meta.total_byte_size > cap:  # a Parquet bomb: never decoded (one reject per row)
                    for _ in range(meta.num_rows):
                        yield ctx.reject(
                            index_key(index),
                            "too_large",
                            error=f"row group {g} is {meta.total_byte_size} bytes uncompressed > {cap}",
                        )
                        index += 1
                    continue
                for batch in pf.iter_batches(batch_size=_PARQUET_BATCH, row_groups=[g]):
                    for row in batch.to_pylist():
                        yield index, row
                        index += 1
    except Exception as exc:  # pyarrow raises ArrowInvalid/OSError for damaged files
        reason = "corrupt_parquet"
        yield ctx.reject(index_key(index), reason, error=f"{type(exc).__name__}: {exc}")


def get_str(obj: Mapping[str, Any], *names: str) -> str | None:
    """The first of ``names`` holding a string (``None`` when none does)."""
    for n in names:
        v = obj.get(n)
        if isinstance(v, str):
            return v
    return None


def extra_meta(obj: Mapping[str, Any], used: frozenset[str] | set[str]) -> dict[str, str]:
    """Scalar record fields not mapped to a column, as meta strings (``id`` becomes ``source_id``)."""
    meta: dict[str, str] = {}
    for k, v in obj.items():
        if k in used or k in _SKIP_META or v is None:
            continue
        if isinstance(v, str):
            if len(v) <= _META_MAX_CHARS:
                meta["source_id" if k == "id" else k] = v
        elif isinstance(v, bool | int | float):
            meta["source_id" if k == "id" else k] = str(v)
    return meta


class KeyDeduper:
    """Makes natural keys unique within a shard: the n-th repeat of ``k`` becomes ``k#n``."""

    def __init__(self) -> None:
        self._seen: dict[str, int] = {}

    def __call__(self, key: str) -> str:
        n = self._seen.get(key, 0)
        self._seen[key] = n + 1
        return key if n == 0 else f"{key}#{n}"
