"""Streaming byte access to shards: open through Beam FileSystems, decompress gzip/zstd, split lines.

Decompression is done here rather than by Beam's ``CompressionTypes`` so that a damaged file is
*classified* (``truncated_gzip``, ``corrupt_gzip``, ``truncated_zstd``, ``corrupt_zstd``) and everything
decoded before the damage is still delivered: :func:`iter_chunks` yields every good byte and only then
raises :class:`StreamError`. Nothing here holds more than one chunk plus one line in memory; lines longer
than ``max_line`` are skipped chunk by chunk (only their first bytes are kept for the reject).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

import zstandard
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

CHUNK = 1 << 20  # decompressed bytes per step
_RAW_CHUNK = 1 << 18  # compressed bytes read per step

_GZIP_EXT = (".gz", ".gzip")
_ZSTD_EXT = (".zst", ".zstd")


class StreamError(Exception):
    """A shard's byte stream is damaged; ``reason`` is the machine-readable reject reason."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.partial: bytes = b""  # bytes of the incomplete last line (set by iter_lines)


def compression_of(path: str) -> str | None:
    """``gzip``, ``zstd`` or ``None`` from the file name."""
    low = path.lower()
    if low.endswith(_GZIP_EXT):
        return "gzip"
    if low.endswith(_ZSTD_EXT):
        return "zstd"
    return None


def strip_compression(name: str) -> str:
    """The file name without a compression suffix (``a.jsonl.gz`` -> ``a.jsonl``)."""
    low = name.lower()
    for ext in (*_GZIP_EXT, *_ZSTD_EXT):
        if low.endswith(ext):
            return name[: -len(ext)]
    return name


def open_raw(path: str) -> BinaryIO:
    """Open ``path`` (local, gs://, s3://, ...) for reading raw, undecompressed bytes."""
    return FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED)


def iter_chunks(path: str, compression: str | None = "auto") -> Iterator[bytes]:
    """Yield the decompressed bytes of ``path`` chunk by chunk; raise StreamError after the last good byte."""
    comp = compression_of(path) if compression == "auto" else compression
    try:
        fh = open_raw(path)
    except Exception as exc:  # missing file, permission, remote error
        raise StreamError("unreadable_file", f"{type(exc).__name__}: {exc}") from exc
    with fh:
        if comp == "gzip":
            yield from _gunzip(fh)
        elif comp == "zstd":
            yield from _unzstd(fh)
        else:
            while True:
                try:
                    b = fh.read(CHUNK)
                except OSError as exc:
                    raise StreamError("unreadable_file", f"{type(exc).__name__}: {exc}") from exc
                if not b:
                    return
                yield b


def _gunzip(fh: BinaryIO) -> Iterator[bytes]:
    """Multi-member gzip with bounded output per step (gzip bombs cannot exhaust memory)."""
    d = zlib.decompressobj(wbits=31)
    started = False
    while True:
        raw = fh.read(_RAW_CHUNK)
        if not raw:
            break
        while raw:
            started = True
            try:
                out = d.decompress(raw, CHUNK)
            except zlib.error as exc:
                raise StreamError("corrupt_gzip", f"gzip data is corrupt: {exc}") from exc
            if out:
                yield out
            if d.eof:  # end of one member; the rest may be another member (or trailing padding)
                raw = d.unused_data.lstrip(b"\x00")
                d = zlib.decompressobj(wbits=31)
                started = False
            else:
                raw = d.unconsumed_tail
    if started and not d.eof:
        raise StreamError("truncated_gzip", "gzip stream ended before its end-of-stream marker")


def _unzstd(fh: BinaryIO) -> Iterator[bytes]:
    """Multi-frame zstd; a frame without its end is ``truncated_zstd``, bad data ``corrupt_zstd``."""
    dctx = zstandard.ZstdDecompressor()
    d = dctx.decompressobj()
    started = False
    while True:
        raw = fh.read(1 << 16)
        if not raw:
            break
        while raw:
            started = True
            try:
                out = d.decompress(raw)
            except zstandard.ZstdError as exc:
                raise StreamError("corrupt_zstd", f"zstd data is corrupt: {exc}") from exc
            if out:
                yield out
            if d.eof:
                raw = d.unused_data
                d = dctx.decompressobj()
                started = False
            else:
                raw = b""
    if started and not d.eof:
        raise StreamError("truncated_zstd", "zstd stream ended inside a frame")


@dataclass(frozen=True)
class LongLine:
    """A line longer than the limit: its total size and first bytes (the rest was never held)."""

    size: int
    head: bytes


def iter_lines(
    chunks: Iterator[bytes], max_line: int, head_bytes: int = 4096
) -> Iterator[tuple[int, bytes | LongLine]]:
    """Split a chunk stream into ``(line_number, line)`` without the newline; 0-based line numbers.

    Lines longer than ``max_line`` come out as :class:`LongLine`. On a :class:`StreamError` the bytes of
    the incomplete last line are attached as ``exc.partial`` before it propagates.
    """
    pending: list[bytes] = []
    pending_len = 0
    long_size = -1  # >= 0 while skipping an over-long line
    long_head = b""
    lineno = 0
    try:
        for chunk in chunks:
            parts = chunk.split(b"\n")
            last = parts.pop()
            for part in parts:
                if long_size >= 0:
                    yield lineno, LongLine(long_size + len(part), long_head)
                    long_size = -1
                else:
                    if pending:
                        pending.append(part)
                        part = b"".join(pending)
                        pending, pending_len = [], 0
                    if len(part) > max_line:
                        yield lineno, LongLine(len(part), part[:head_bytes])
                    else:
                        yield lineno, part
                lineno += 1
            if not last:
                continue
            if long_size >= 0:
                long_size += len(last)
                continue
            pending.append(last)
            pending_len += len(last)
            if pending_len > max_line:
                long_head = b"".join(pending)[:head_bytes]
                long_size = pending_len
                pending, pending_len = [], 0
    except StreamError as exc:
        exc.partial = long_head if long_size >= 0 else b"".join(pending)
        raise
    if long_size >= 0:
        yield lineno, LongLine(long_size, long_head)
    elif pending:
        yield lineno, b"".join(pending)


def read_bounded(path: str, limit: int) -> tuple[bytes, bool]:
    """Read (and decompress) at most ``limit + 1`` bytes of ``path``; return (bytes, exceeded_limit).

    Raises :class:`StreamError` for damaged compressed data (after nothing was returned: whole-file
    documents are all-or-nothing).
    """
    parts: list[bytes] = []
    size = 0
    for chunk in iter_chunks(path):
        parts.append(chunk)
        size += len(chunk)
        if size > limit:
            return b"".join(parts)[: limit + 1], True
    return b"".join(parts), False
