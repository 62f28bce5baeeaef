"""Streaming byte access to shards: open through Beam FileSystems, decompress gzip/zstd, split lines.

Decompression is done here rather than by Beam's ``CompressionTypes`` so that a damaged file is
*classified* and everything decodable is still delivered. :func:`iter_chunks` yields decompressed bytes and,
where the stream is damaged, a :class:`Gap` that says why and how many compressed bytes were skipped:

* gzip: every byte before a corrupt deflate block (or a bad CRC) is delivered (the decoder state is copied
  before each step and the failing step is replayed in small pieces); reading resumes at the next gzip
  member header (``1f 8b 08``), so in a multi-member file (WARC.gz: one member per record) only the damaged
  member is lost; a stream cut short ends with ``truncated_gzip``.
* zstd: input is fed in 1 KiB slices, so one step never yields more than 256 zstd blocks (<= 32 MiB) however
  large the frame; a corrupt frame resumes at the next frame magic (``28 b5 2f fd``).
* gzip output is bounded per step by zlib's ``max_length``. Nothing here holds more than one chunk plus one
  line in memory; lines longer than ``max_line`` are skipped chunk by chunk (only their first bytes kept).

:func:`guard_local` refuses local paths that are not regular files (FIFOs, devices, sockets: reading one
could block forever) and symlinks whose target lies outside the shard's input root.
"""

from __future__ import annotations

import os
import stat
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

import zstandard
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

CHUNK = 1 << 20  # decompressed bytes per step
_RAW_CHUNK = 1 << 18  # compressed bytes read per step
_ZSTD_SLICE = 1 << 10  # compressed bytes per zstd step (bounds one step's output, see module docstring)
_SALVAGE_PIECE = 256  # compressed bytes per replay step after a gzip error

_GZIP_EXT = (".gz", ".gzip")
_ZSTD_EXT = (".zst", ".zstd")
_GZIP_MAGIC = b"\x1f\x8b\x08"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


class StreamError(Exception):
    """A shard's byte stream is damaged; ``reason`` is the machine-readable reject reason."""

    def __init__(self, reason: str, message: str, skipped: int = 0) -> None:
        super().__init__(message)
        self.reason = reason
        self.skipped = skipped  # compressed/raw bytes that could not be read
        self.partial: bytes = b""  # bytes of the incomplete last line (set by iter_lines)


@dataclass(frozen=True)
class Gap:
    """Damage inside a stream: ``skipped`` input bytes could not be decoded; reading went on after them.

    ``partial`` (set by :func:`iter_lines`) holds the bytes of the line the damage cut off.
    """

    reason: str
    message: str
    skipped: int = 0
    partial: bytes = b""

    def error(self) -> StreamError:
        return StreamError(self.reason, self.message, self.skipped)


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


def is_local(path: str) -> bool:
    return "://" not in path


def inside(path: str, root: str) -> bool:
    """``path`` is ``root`` or below it (both already resolved)."""
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def guard_local(path: str, root: str | None, allow_outside: bool = False) -> tuple[str, str] | None:
    """(reason, message) when a local ``path`` must not be read, else ``None`` (remote paths: ``None``).

    ``not_regular_file``: a FIFO, device, socket or directory. ``symlink_outside_input``: ``path`` is (or
    passes through) a symlink whose target resolves outside ``root`` (unless ``allow_outside``).
    """
    if not is_local(path):
        return None
    try:
        st = os.stat(path)  # follows symlinks: the kind of the target
    except OSError as exc:
        return "unreadable_file", f"{type(exc).__name__}: {exc.strerror or exc}"
    if root is not None and not allow_outside:
        real = os.path.realpath(path)
        if not inside(real, os.path.realpath(root)):
            return "symlink_outside_input", "a symlink resolves outside the input folder; not followed"
    if not stat.S_ISREG(st.st_mode):
        return "not_regular_file", f"not a regular file (mode {stat.filemode(st.st_mode)}); not read"
    return None


def open_raw(path: str) -> BinaryIO:
    """Open ``path`` (local, gs://, s3://, ...) for reading raw, undecompressed bytes."""
    return FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED)


def iter_chunks(
    path: str, compression: str | None = "auto", root: str | None = None, allow_outside: bool = False
) -> Iterator[bytes | Gap]:
    """Decompressed bytes of ``path`` chunk by chunk, with a :class:`Gap` wherever bytes were skipped.

    With ``root`` a local path is first checked by :func:`guard_local` (a refused path is one final Gap).
    """
    comp = compression_of(path) if compression == "auto" else compression
    refused = guard_local(path, root, allow_outside)
    if refused is not None:
        yield Gap(*refused)
        return
    try:
        fh = open_raw(path)
    except Exception as exc:  # missing file, permission, remote error
        yield Gap("unreadable_file", f"{type(exc).__name__}: {exc}")
        return
    with fh:
        src = _Raw(fh)
        try:
            if comp == "gzip":
                yield from _gunzip(src)
            elif comp == "zstd":
                yield from _unzstd(src)
            else:
                while b := src.take():
                    yield b
        except OSError as exc:
            yield Gap("unreadable_file", f"{type(exc).__name__}: {exc}")


class _Raw:
    """Compressed input with push-back (a decoder hands back what it did not use)."""

    def __init__(self, fh: BinaryIO) -> None:
        self._fh = fh
        self._back: list[bytes] = []

    def take(self, size: int = _RAW_CHUNK) -> bytes:
        if self._back:
            return self._back.pop()
        return self._fh.read(size)

    def push(self, data: bytes) -> None:
        if data:
            self._back.append(data)


def _resync(src: _Raw, data: bytes, magic: bytes) -> int:
    """Skip to the next ``magic`` after the first byte of ``data`` (pushed back); return the bytes skipped."""
    skipped = 0
    start = 1
    while True:
        k = data.find(magic, start)
        if k >= 0:
            src.push(data[k:])
            return skipped + k
        keep = len(magic) - 1
        cut = max(len(data) - keep, start)
        skipped += cut
        tail = data[cut:]
        more = src.take()
        if not more:
            return skipped + len(tail)
        data, start = tail + more, 0


def _salvage(d: zlib._Decompress, data: bytes) -> tuple[bytes, int]:
    """Replay a failed gzip step in small pieces, the failing piece byte by byte: (the output before the
    error, offset of the failing byte)."""
    out: list[bytes] = []
    size = 0
    step = _SALVAGE_PIECE
    i = 0
    while i < len(data) and size < CHUNK:
        piece = data[i : i + step]
        before = d.copy()
        try:
            o = d.decompress(piece, CHUNK - size)
        except zlib.error:
            if step == 1:
                return b"".join(out), i
            d, step = before, 1  # replay this piece one byte at a time
            continue
        out.append(o)
        size += len(o)
        if d.eof:
            return b"".join(out), i + len(piece) - len(d.unused_data)
        used = len(piece) - len(d.unconsumed_tail)
        if d.unconsumed_tail:  # output limit reached: CHUNK bytes salvaged
            return b"".join(out), i + used
        i += used
    return b"".join(out), i


def _gunzip(src: _Raw) -> Iterator[bytes | Gap]:
    """Multi-member gzip with bounded output per step; corrupt members are skipped to the next header."""
    d: zlib._Decompress | None = None
    fresh = True  # d has not consumed input yet (then a replay needs no copy of its state)
    while raw := src.take():
        while raw:
            if d is None:
                raw = raw.lstrip(b"\x00")  # padding between members
                if not raw:
                    break
                d, fresh = zlib.decompressobj(wbits=31), True
            saved = None if fresh else d.copy()
            fresh = False
            try:
                out = d.decompress(raw, CHUNK)
            except zlib.error as exc:
                good, at = _salvage(saved or zlib.decompressobj(wbits=31), raw)
                if good:
                    yield good
                skipped = _resync(src, raw[at:], _GZIP_MAGIC) if at < len(raw) else 0
                yield Gap("corrupt_gzip", f"gzip data is corrupt ({exc}); skipped {skipped} bytes", skipped)
                d = None
                break
            if out:
                yield out
            if d.eof:  # end of one member; the rest may be another member
                raw = d.unused_data
                d = None
            else:
                raw = d.unconsumed_tail
    if d is not None:
        yield Gap("truncated_gzip", "gzip stream ended before its end-of-stream marker")


def _unzstd(src: _Raw) -> Iterator[bytes | Gap]:
    """Multi-frame zstd fed in small slices (bounded output); corrupt frames skipped to the next magic."""
    dctx = zstandard.ZstdDecompressor()
    d = None
    buf: list[bytes] = []
    size = 0
    while raw := src.take():
        pos = 0
        while pos < len(raw):
            if d is None:
                d = dctx.decompressobj()
            piece = raw[pos : pos + _ZSTD_SLICE]
            try:
                out = d.decompress(piece)
            except zstandard.ZstdError as exc:
                if buf:
                    yield b"".join(buf)
                    buf, size = [], 0
                skipped = _resync(src, raw[pos:], _ZSTD_MAGIC)
                yield Gap("corrupt_zstd", f"zstd data is corrupt ({exc}); skipped {skipped} bytes", skipped)
                d = None
                break
            pos += len(piece)
            if out:
                buf.append(out)
                size += len(out)
                if size >= CHUNK:
                    yield b"".join(buf)
                    buf, size = [], 0
            if d.eof:
                rest = d.unused_data
                d = None
                if rest:
                    pos -= len(rest)
    if buf:
        yield b"".join(buf)
    if d is not None:
        yield Gap("truncated_zstd", "zstd stream ended inside a frame")


class _ChunkRaw(_Raw):
    """Compressed input taken from a chunk stream (nested compression); a Gap ends it and is kept."""

    def __init__(self, chunks: Iterator[bytes | Gap]) -> None:
        self._chunks = chunks
        self._back = []
        self.gap: Gap | None = None
        self.done = False

    def take(self, size: int = _RAW_CHUNK) -> bytes:
        if self._back:
            return self._back.pop()
        if self.gap is not None or self.done:
            return b""
        nxt = next(self._chunks, None)
        if nxt is None:
            self.done = True
            return b""
        if isinstance(nxt, Gap):
            self.gap = nxt
            return b""
        return nxt


def gunzip_chunks(chunks: Iterator[bytes | Gap]) -> Iterator[bytes | Gap]:
    """Decompress a chunk stream that is itself gzip (a ``.warc`` of gzip members, a doubly gzipped file)."""
    src = _ChunkRaw(chunks)
    while True:
        yield from _gunzip(src)
        if src.gap is None:
            return
        yield src.gap
        src.gap = None


@dataclass(frozen=True)
class LongLine:
    """A line longer than the limit: its total size and first bytes (the rest was never held)."""

    size: int
    head: bytes


def iter_lines(
    chunks: Iterator[bytes | Gap], max_line: int, head_bytes: int = 4096
) -> Iterator[tuple[int, bytes | LongLine | Gap]]:
    """Split a chunk stream into ``(line_number, line)`` without the newline; 0-based line numbers.

    Lines longer than ``max_line`` come out as :class:`LongLine`. A :class:`Gap` in the stream comes out in
    place of the line it cut, with that line's bytes as ``partial`` (and takes its line number). A raised
    :class:`StreamError` gets the bytes of the incomplete last line as ``exc.partial`` before it propagates.
    """
    pending: list[bytes] = []
    pending_len = 0
    long_size = -1  # >= 0 while skipping an over-long line
    long_head = b""
    lineno = 0
    try:
        for chunk in chunks:
            if isinstance(chunk, Gap):
                partial = long_head if long_size >= 0 else b"".join(pending)
                yield lineno, Gap(chunk.reason, chunk.message, chunk.skipped, partial[:head_bytes])
                lineno += 1
                pending, pending_len, long_size, long_head = [], 0, -1, b""
                continue
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


def read_bounded(
    path: str, limit: int, root: str | None = None, allow_outside: bool = False
) -> tuple[bytes, bool]:
    """Read (and decompress) at most ``limit + 1`` bytes of ``path``; return (bytes, exceeded_limit).

    Raises :class:`StreamError` for damaged or refused input (whole-file documents are all-or-nothing).
    """
    parts: list[bytes] = []
    size = 0
    for chunk in iter_chunks(path, root=root, allow_outside=allow_outside):
        if isinstance(chunk, Gap):
            raise chunk.error()
        parts.append(chunk)
        size += len(chunk)
        if size > limit:
            return b"".join(parts)[: limit + 1], True
    return b"".join(parts), False
