"""Seeded generators of hostile input files (small; every test builds its own in its tmp folder)."""

from __future__ import annotations

import gzip
import json
import random
import struct
import zlib
from collections.abc import Iterable
from pathlib import Path

from curation.config import Limits
from curation.document import DOCUMENT_SCHEMA, REJECT_SCHEMA, Document, Reject, document_to_row, reject_to_row
from curation.io import Shard, read_shard

SEED = 23
MARKER = "OUTSIDE-SECRET-7f3a"  # written into files outside the inputs; must never appear in any output


def words(rng: random.Random, n: int) -> str:
    vocab = ["harbour", "lamp", "keeper", "tide", "gull", "stone", "rope", "boat", "wind", "light", "bay"]
    return " ".join(rng.choice(vocab) for _ in range(n))


def records(n: int, seed: int = SEED) -> list[dict]:
    rng = random.Random(seed)
    return [{"url": f"https://h.example/{i}", "text": f"record {i}: " + words(rng, 30)} for i in range(n)]


def jsonl(recs: Iterable[dict | bytes]) -> bytes:
    return b"".join((r if isinstance(r, bytes) else json.dumps(r).encode()) + b"\n" for r in recs)


def gzip_member(data: bytes, level: int = 6) -> bytes:
    return gzip.compress(data, compresslevel=level, mtime=0)


def corrupt_crc(member: bytes) -> bytes:
    """The same gzip member with a wrong CRC32 in its trailer (the data itself is intact)."""
    crc = struct.unpack("<I", member[-8:-4])[0]
    return member[:-8] + struct.pack("<I", crc ^ 0xFFFFFFFF) + member[-4:]


def raw_deflate_gzip(data: bytes) -> bytes:
    """A gzip member built by hand (for corrupting the deflate stream at a chosen place)."""
    co = zlib.compressobj(6, zlib.DEFLATED, -15)
    body = co.compress(data) + co.flush()
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03"
    return header + body + struct.pack("<II", zlib.crc32(data), len(data) & 0xFFFFFFFF)


def shard(path: Path, kind: str, fmt: str, rel: str | None = None, **options) -> Shard:
    return Shard(source="hostile", kind=kind, path=str(path), format=fmt, license=None,
                 rel=rel or path.name, options=options)  # fmt: skip


def read(s: Shard, limits: Limits | None = None) -> tuple[list[Document], list[Reject]]:
    docs: list[Document] = []
    rejects: list[Reject] = []
    for out in read_shard(s, limits or Limits()):
        (rejects if isinstance(out, Reject) else docs).append(out)
    return docs, rejects


def assert_writable(docs: list[Document], rejects: list[Reject]) -> None:
    """Every output row encodes as Parquet-valid UTF-8 (the writers raised UnicodeEncodeError before)."""
    import pyarrow as pa

    pa.Table.from_pylist([document_to_row(d) for d in docs], schema=DOCUMENT_SCHEMA)
    pa.Table.from_pylist([reject_to_row(r) for r in rejects], schema=REJECT_SCHEMA)
    for d in [*docs, *(r.doc for r in rejects)]:
        d.text.encode("utf-8")  # fastText's multilinePredict needs valid UTF-8 too


def assert_unique_ids(docs: list[Document], rejects: list[Reject]) -> None:
    ids = [d.id for d in docs] + [r.doc.id for r in rejects]
    assert len(ids) == len(set(ids))


def warc_record(uri: str, payload: bytes, rtype: str = "conversion", ctype: str = "text/plain",
                length: bytes | None = None) -> bytes:  # fmt: skip
    """One uncompressed WARC record; ``length`` overrides the Content-Length header value."""
    n = str(len(payload)).encode() if length is None else length
    rid = uri.encode()[-12:].rjust(12, b"0")
    lines = [b"WARC/1.0", b"WARC-Type: " + rtype.encode(), b"WARC-Target-URI: " + uri.encode(),
             b"WARC-Date: 2024-01-01T00:00:00Z", b"WARC-Record-ID: <urn:uuid:" + rid + b">",
             b"Content-Type: " + ctype.encode(), b"Content-Length: " + n]  # fmt: skip
    head = b"\r\n".join(lines) + b"\r\n\r\n"
    return head + payload + b"\r\n\r\n"


def http_response(body: bytes, ctype: str) -> bytes:
    return b"HTTP/1.1 200 OK\r\nContent-Type: " + ctype.encode() + b"\r\n\r\n" + body


def wet_records(n: int, seed: int = SEED) -> list[tuple[str, bytes]]:
    rng = random.Random(seed)
    return [(f"https://w.example/{i}", f"page {i} ".encode() + words(rng, 40).encode()) for i in range(n)]


def warc_of(recs: list[tuple[str, bytes]]) -> bytes:
    return b"".join(warc_record(u, p) for u, p in recs)
