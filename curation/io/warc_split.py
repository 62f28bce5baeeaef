"""Delimit WARC records in a decompressed byte stream, checking every ``Content-Length`` and resynchronising.

warcio trusts ``Content-Length``: a length that is too long swallows the following records, a too-short
one makes it parse payload text as headers (phantom records with ``arc2warc``), a non-numeric one ends the
archive. This splitter reads the record header block itself and accepts a record only when its declared
length lands exactly on the ``\\r\\n\\r\\n`` that ends a record (ISO 28500, sec. 4); otherwise the record is
damaged and reading resumes at the next line starting with ``WARC/1.``, found inside the declared body
(length too long) or after it (too short). Every byte not delivered as a record is counted in a
:class:`Skip`. Each delivered record (header block + body, at most ``max_body`` body bytes) is then parsed
by warcio on its own, so warcio's HTTP and transfer-encoding handling is kept.

Bodies longer than ``max_body`` are never held: they are streamed past (keeping their first bytes) and come
out as :class:`Oversize`; if such a body's length turns out to be wrong, the records inside it cannot be
recovered (the skipped byte count says how much was lost).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from curation.io.streams import Gap

MAX_HEADER = 1 << 16  # bytes of a WARC header block before it is declared malformed
_NEXT = b"\nWARC/1."
_LENGTH = re.compile(rb"(?im)^content-length[ \t]*:[ \t]*([^\r\n]*?)[ \t]*\r?$")


@dataclass(frozen=True)
class Record:
    """One well-delimited record: the header block and body, without the trailing CRLF CRLF."""

    data: bytes
    offset: int  # position in the decompressed stream


@dataclass(frozen=True)
class Oversize:
    """A well-delimited record whose body exceeds the limit: its header block and the first body bytes."""

    header: bytes
    head: bytes
    length: int
    offset: int


@dataclass(frozen=True)
class Skip:
    """Bytes that could not be delimited as a record (``reason`` is a read reject reason)."""

    reason: str
    message: str
    skipped: int
    head: bytes
    offset: int


class _Buffer:
    """A window over the chunk stream; a :class:`Gap` ends the current segment (like end of file)."""

    def __init__(self, chunks: Iterator[bytes | Gap]) -> None:
        self._chunks = chunks
        self.buf = b""
        self.pos = 0  # start of unconsumed bytes in buf
        self.offset = 0  # stream offset of buf[pos]
        self.ended = False  # the segment ended (end of file or a gap)
        self.gap: Gap | None = None

    def avail(self) -> int:
        return len(self.buf) - self.pos

    def fill(self, n: int) -> bool:
        """Make at least ``n`` bytes available unless the segment ends first; True when they are."""
        have = self.avail()
        if have >= n or self.ended:
            return have >= n
        parts = [self.buf[self.pos :]]
        while have < n:
            nxt = next(self._chunks, None)
            if nxt is None:
                self.ended = True
                break
            if isinstance(nxt, Gap):
                self.ended, self.gap = True, nxt
                break
            parts.append(nxt)
            have += len(nxt)
        self.buf, self.pos = b"".join(parts), 0  # one copy per fill, however small the chunks
        return have >= n

    def view(self, start: int, end: int) -> bytes:
        return self.buf[self.pos + start : self.pos + end]

    def find(self, sub: bytes, start: int, end: int | None = None) -> int:
        stop = len(self.buf) if end is None else min(len(self.buf), self.pos + end)
        k = self.buf.find(sub, self.pos + start, stop)
        return -1 if k < 0 else k - self.pos

    def consume(self, n: int) -> None:
        n = min(n, self.avail())
        self.pos += n
        self.offset += n
        if self.pos > (1 << 20) and self.pos * 2 > len(self.buf):
            self.buf, self.pos = self.buf[self.pos :], 0

    def next_segment(self) -> Gap | None:
        """After a gap: start the next segment and return the gap (``None`` at the real end)."""
        gap, self.gap = self.gap, None
        if gap is not None:
            self.ended = False
        return gap


def _skip_to_next(b: _Buffer, start: int, head_bytes: int) -> tuple[int, bytes]:
    """Consume up to the next ``\\nWARC/1.`` at or after ``start``; (bytes skipped, their first bytes)."""
    head = b.view(0, head_bytes)
    skipped = 0
    while True:
        k = b.find(_NEXT, max(start - 1, 0))
        if k >= 0:
            b.consume(k + 1)
            return skipped + k + 1, head
        keep = len(_NEXT) - 1
        drop = max(b.avail() - keep, 0)
        if b.ended:
            drop = b.avail()
        b.consume(drop)
        skipped += drop
        start = 0
        if b.ended:
            return skipped, head
        b.fill(b.avail() + (1 << 16))


def split_records(
    chunks: Iterator[bytes | Gap], max_body: int, head_bytes: int = 4096
) -> Iterator[Record | Oversize | Skip]:
    """Records, oversize records and skipped byte runs (stream gaps included), in stream order."""
    b = _Buffer(chunks)
    while True:
        while True:  # leading blank lines between records
            b.fill(2)
            s = b.view(0, 2)
            if s[:1] in (b"\r", b"\n"):
                b.consume(1)
                continue
            break
        if not b.fill(1):
            gap = b.next_segment()
            if gap is None:
                return
            yield Skip(gap.reason, gap.message, gap.skipped, gap.partial, b.offset)
            continue
        start = b.offset
        b.fill(5)
        if b.view(0, 5) != b"WARC/":
            yield from _resync(b, 1, head_bytes, start, "bytes without a WARC header")
            continue
        b.fill(MAX_HEADER)
        end = b.find(b"\r\n\r\n", 0, MAX_HEADER)
        sep = 4
        lf = b.find(b"\n\n", 0, end + 2 if end >= 0 else MAX_HEADER)
        if lf >= 0 and (end < 0 or lf < end):
            end, sep = lf, 2
        if end < 0:
            yield from _resync(b, 1, head_bytes, start, "unterminated WARC header")
            continue
        header = b.view(0, end + sep)
        m = _LENGTH.search(header)
        if m is None or not m.group(1).isdigit():
            what = "no Content-Length" if m is None else f"Content-Length {m.group(1)[:40]!r} is not a number"
            yield from _resync(b, 1, head_bytes, start, what)
            continue
        length = int(m.group(1))
        body_at = end + sep
        if length <= max_body:
            b.fill(body_at + length + 4)
            trailer = b.view(body_at + length, body_at + length + 4)
            term = _record_end(b, trailer, body_at + length)
            if term >= 0:
                yield Record(b.view(0, body_at + length), start)
                b.consume(body_at + length + term)
                continue
            what = f"Content-Length {length} does not end the record"
            yield from _resync(b, body_at, head_bytes, start, what)
            continue
        head = b.view(body_at, body_at + head_bytes)
        b.consume(body_at)
        left = length
        while left and b.fill(1):
            step = min(left, b.avail())
            b.consume(step)
            left -= step
        b.fill(4)
        trailer = b.view(0, 4)
        term = _record_end(b, trailer, 0) if not left else -1
        if term >= 0:
            b.consume(term)
            yield Oversize(header, head, length, start)
            continue
        n, _ = _skip_to_next(b, 0, head_bytes)
        n += body_at + length - left
        yield from _end_of_segment(b, Skip(
            "malformed_warc",
            f"Content-Length {length} does not end the record (body larger than the limit, records inside it "
            f"are lost); skipped {n} bytes",
            n, header[:head_bytes], start,
        ))  # fmt: skip


def _resync(b: _Buffer, at: int, head_bytes: int, start: int, what: str) -> Iterator[Skip]:
    """Skip to the next record header at or after ``at``: one ``malformed_warc`` skip (or the gap's)."""
    n, head = _skip_to_next(b, at, head_bytes)
    yield from _end_of_segment(b, Skip("malformed_warc", f"{what}; skipped {n} bytes", n, head, start))


def _record_end(b: _Buffer, trailer: bytes, at: int) -> int:
    """Length of the record terminator at the start of ``trailer`` (CRLF CRLF, LF LF, or a shorter tail
    at the very end of the data), or -1 when the bytes after a body do not end a record."""
    if trailer == b"\r\n\r\n":
        return 4
    if trailer[:2] == b"\n\n":
        return 2
    if b.ended and b.avail() == at + len(trailer) and trailer in (b"", b"\r\n", b"\r\n\r", b"\n"):
        return len(trailer)
    return -1


def _end_of_segment(b: _Buffer, skip: Skip) -> Iterator[Skip]:
    """A skip that ran into a stream gap is reported once, as the gap, with both byte counts."""
    if b.ended and b.avail() == 0 and b.gap is not None:
        gap = b.next_segment()
        assert gap is not None
        total = gap.skipped + skip.skipped
        yield Skip(gap.reason, f"{gap.message}; {skip.skipped} bytes of a cut record lost", total, skip.head,
                   skip.offset)  # fmt: skip
        return
    yield skip
