"""Fixture builders for the reader tests: shards of every format, written in the test's tmp folder."""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path
from typing import Any

import zstandard

from curation.config import Limits
from curation.document import Document, Reject
from curation.io import Shard, read_shard


def write(path: Path, data: bytes) -> Path:
    """Write ``data``, gzip/zstd-compressed when the name says so."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.name.endswith(".gz"):
        data = gzip.compress(data, mtime=0)
    elif path.name.endswith(".zst"):
        data = zstandard.ZstdCompressor().compress(data)
    path.write_bytes(data)
    return path


def jsonl(records: list[Any]) -> bytes:
    """JSON lines; ``bytes`` items are written as raw (possibly broken) lines."""
    return b"".join((r if isinstance(r, bytes) else json.dumps(r).encode()) + b"\n" for r in records)


def shard(path: Path, kind: str, fmt: str, license: str | None = None, **options: Any) -> Shard:
    return Shard(source="test", kind=kind, path=str(path), format=fmt, license=license, rel=path.name,
                 options=options)  # fmt: skip


def read(s: Shard, limits: Limits | None = None) -> tuple[list[Document], list[Reject]]:
    docs: list[Document] = []
    rejects: list[Reject] = []
    for out in read_shard(s, limits or Limits()):
        (rejects if isinstance(out, Reject) else docs).append(out)
    return docs, rejects


def html_page(title: str, body: str, footer: str = "") -> str:
    paras = "".join(f"<p>{p}</p>" for p in body.split("\n\n"))
    return (
        f"<html><head><title>{title}</title></head><body><nav>Home | About | Contact</nav>"
        f"<article><h1>{title}</h1>{paras}</article><footer>{footer}</footer></body></html>"
    )


LONG_PARA = (
    "The lighthouse keeper climbed the narrow stairs every evening to light the great lamp, and from the "
    "gallery she watched the fishing boats return across the grey water of the bay while the gulls circled "
    "above the harbour wall and the town slowly fell quiet."
)


def warc_bytes(records: list[tuple[str, str, str, bytes]], gzip_: bool = True) -> bytes:
    """A WARC written with warcio: (uri, record type, content type, payload) per record."""
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    buf = io.BytesIO()
    w = WARCWriter(buf, gzip=gzip_)
    for uri, rtype, ctype, payload in records:
        if rtype == "response":
            status = "404 Not Found" if uri.endswith("/404") else "200 OK"
            http = StatusAndHeaders(status, [("Content-Type", ctype)], protocol="HTTP/1.1")
            rec = w.create_warc_record(uri, "response", payload=io.BytesIO(payload), http_headers=http)
        else:
            rec = w.create_warc_record(uri, rtype, payload=io.BytesIO(payload), warc_content_type=ctype)
        w.write_record(rec)
    return buf.getvalue()
