"""Web reader: WARC/WET archives (warcio) and JSONL/Parquet records with ``url`` + ``html`` or ``text``.

* WARC ``response`` (and ``resource``) records with an HTML payload -> main-content text via
  :func:`curation.io.html.extract_main_text`; raw HTML kept in ``Document.html``; ``text/plain`` payloads
  are taken as they are. WET ``conversion`` records are already text.
* Fetch metadata goes to ``meta``: ``warc_date``, ``warc_record_id``, ``content_type``, ``http_status``.
* The record key is the URL (``url#n`` for the n-th repeat inside one shard), else the record index.
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Iterator
from typing import Any

from curation.document import Document, Reject
from curation.io.common import ReadContext, decode_utf8, str_meta
from curation.io.html import decode_html, extract_main_text, is_html_type, looks_like_html
from curation.io.records import KeyDeduper, extra_meta, gap_reject, get_str, index_key, iter_records
from curation.io.streams import Gap, StreamError, gunzip_chunks, iter_chunks, strip_compression
from curation.io.warc_split import Oversize, Skip, split_records

_HTTP_HEADROOM = 1 << 16  # WARC body bytes allowed beyond max_doc_bytes for HTTP headers

_USED = frozenset({"url", "html", "title"})


def read_web(ctx: ReadContext) -> Iterator[Document | Reject]:
    fmt = ctx.shard.format
    if fmt == "warc":
        yield from _warc(ctx)
    elif fmt == "text":
        from curation.io.textfile import read_text_file

        yield from read_text_file(ctx)
    else:
        dedupe = KeyDeduper()
        for item in iter_records(ctx):
            if isinstance(item, Reject):
                yield item
            else:
                yield _from_record(ctx, dedupe, *item)


def _from_record(ctx: ReadContext, dedupe: KeyDeduper, index: int, obj: dict[str, Any]) -> Document | Reject:
    opts = ctx.options
    url = get_str(obj, "url")
    key = dedupe(url) if url else index_key(index)
    html = get_str(obj, "html")
    text = get_str(obj, opts.text_field)
    meta = extra_meta(obj, _USED | {opts.text_field})
    fields: dict[str, Any] = {"url": url, "title": get_str(obj, "title"), "meta": meta}
    use_html = html is not None and (
        opts.extract_html == "always" or (opts.extract_html == "auto" and not (text and text.strip()))
    )
    if use_html:
        return _from_html(ctx, key, html, url, fields)
    if text is None:
        return ctx.reject(
            key, f"missing_field:{opts.text_field}", error="record has no text or html", **fields
        )
    return ctx.check(key, text, html=html, **fields)


def _from_html(
    ctx: ReadContext, key: str, html: str, url: str | None, fields: dict[str, Any]
) -> Document | Reject:
    """Extract the main text of a page (size-checked first: the extractor is the slow part)."""
    limit = ctx.limits.max_doc_bytes
    if len(html) * 4 > limit and len(html.encode("utf-8", "surrogatepass")) > limit:
        return ctx.reject(
            key,
            "too_large",
            raw=html[: ctx.limits.raw_bytes_in_rejects].encode("utf-8", "replace"),
            error=f"html is larger than max_doc_bytes {limit}",
            **fields,
        )
    opts = ctx.options
    text = extract_main_text(
        html,
        url,
        extractor=opts.html_extractor,
        fast=opts.html_fast,
        favor_recall=opts.html_favor_recall,
        include_tables=opts.html_include_tables,
    )
    if text is None:
        return ctx.reject(
            key,
            "html_extraction_failed",
            raw=html[: ctx.limits.raw_bytes_in_rejects].encode("utf-8", "replace"),
            error=f"{opts.html_extractor} found no main content",
            html=html,
            **fields,
        )
    return ctx.check(key, text, html=html, **fields)


class _ChunkReader(io.RawIOBase):
    """A file object over :func:`iter_chunks` for warcio (ARC files); a stream gap raises StreamError."""

    def __init__(self, chunks: Iterator[bytes | Gap]) -> None:
        self._chunks = chunks
        self._buf = b""

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        while not self._buf:
            nxt = next(self._chunks, None)
            if nxt is None:
                return 0
            if isinstance(nxt, Gap):
                raise nxt.error()
            self._buf = nxt
        n = min(len(b), len(self._buf))
        b[:n] = self._buf[:n]
        self._buf = self._buf[n:]
        return n


_DOC_TYPES = ("response", "resource", "conversion")  # request, metadata, warcinfo, revisit: not documents


def _warc(ctx: ReadContext) -> Iterator[Document | Reject]:
    """WARC/WET: records delimited and checked by :mod:`curation.io.warc_split`, each parsed by warcio.

    A damaged record (wrong or non-numeric Content-Length, garbage, a gzip member that does not decode)
    is one reject that says how many bytes were skipped; the records after it are read.
    """
    from warcio.bufferedreaders import BufferedReader
    from warcio.recordloader import ArcWarcRecordLoader

    loader = ArcWarcRecordLoader()
    chunks = iter_chunks(ctx.shard.path, root=ctx.root, allow_outside=ctx.options.allow_symlinks_outside)
    if strip_compression(ctx.shard.path).lower().endswith(".arc"):
        yield from _arc(ctx, chunks)
        return
    first = next(chunks, b"")
    chunks = itertools.chain([first], chunks)
    if isinstance(first, bytes) and first.startswith(b"\x1f\x8b"):  # gzip members inside (warcio allows it)
        chunks = gunzip_chunks(chunks)
    dedupe = KeyDeduper()
    index = 0
    limit = ctx.limits.max_doc_bytes
    for item in split_records(chunks, limit + _HTTP_HEADROOM, ctx.limits.raw_bytes_in_rejects):
        if isinstance(item, Skip):
            yield gap_reject(ctx, f"@{item.offset}", item, item.head)
            continue
        if isinstance(item, Oversize):
            yield ctx.reject(
                f"@{item.offset}",
                "too_large",
                raw=item.head,
                error=f"WARC record body is {item.length} bytes > max_doc_bytes {limit}",
                signals={"read.skipped_bytes": item.length},
            )
            continue
        try:
            record = loader.parse_record_stream(BufferedReader(io.BytesIO(item.data)), known_format="warc")
            if record.rec_type not in _DOC_TYPES:
                continue
            out = _from_warc_record(ctx, dedupe, index, record)
        except Exception as exc:  # warcio: bad HTTP headers, bad chunked encoding, ...
            out = ctx.reject(
                f"@{item.offset}",
                "malformed_warc",
                raw=item.data,
                error=f"{type(exc).__name__}: {exc}",
            )
        index += 1
        yield out


def _arc(ctx: ReadContext, chunks: Iterator[bytes | Gap]) -> Iterator[Document | Reject]:
    """Legacy ARC files (warcio with ``arc2warc``): reading ends at the first damaged record."""
    from warcio.archiveiterator import ArchiveIterator

    dedupe = KeyDeduper()
    index = 0
    stream = io.BufferedReader(_ChunkReader(chunks), buffer_size=1 << 20)
    try:
        for record in ArchiveIterator(stream, arc2warc=True):
            if record.rec_type not in _DOC_TYPES:
                continue
            yield _from_warc_record(ctx, dedupe, index, record)
            index += 1
    except StreamError as exc:
        yield gap_reject(ctx, index_key(index), exc)
    except Exception as exc:  # warcio raises ArchiveLoadFailed / ValueError on malformed records
        yield ctx.reject(index_key(index), "malformed_warc", error=f"{type(exc).__name__}: {exc}")


def _from_warc_record(ctx: ReadContext, dedupe: KeyDeduper, index: int, record: Any) -> Document | Reject:
    h = record.rec_headers
    url = h.get_header("WARC-Target-URI")
    key = dedupe(url) if url else index_key(index)
    status = None
    content_type = h.get_header("Content-Type")
    if record.http_headers is not None and record.rec_type == "response":
        status = record.http_headers.get_statuscode()
        content_type = record.http_headers.get_header("Content-Type") or content_type
    meta = str_meta(
        {
            "warc_type": record.rec_type,
            "warc_date": h.get_header("WARC-Date"),
            "warc_record_id": h.get_header("WARC-Record-ID"),
            "content_type": content_type,
            "http_status": status,
        }
    )
    fields: dict[str, Any] = {"url": url, "meta": meta}
    limit = ctx.limits.max_doc_bytes
    body = record.content_stream().read(limit + 1)
    if len(body) > limit:
        return ctx.reject(key, "too_large", raw=body, error=f"payload > max_doc_bytes {limit}", **fields)
    if status is not None and not str(status).startswith("2"):
        return ctx.reject(key, f"http_status:{status}", raw=body, error="non-2xx response", **fields)
    if record.rec_type == "conversion" or (content_type or "").lower().startswith("text/plain"):
        text, err = decode_utf8(body)
        if text is None:
            return ctx.reject(key, "invalid_utf8", raw=body, error=err, **fields)
        return ctx.check(key, text, **fields)
    if is_html_type(content_type) or (not content_type and looks_like_html(body)):
        return _from_html(ctx, key, _decode_page(body, content_type), url, fields)
    ct = (content_type or "unknown").split(";")[0].strip().lower()
    return ctx.reject(
        key, f"unsupported_content_type:{ct}", raw=body, error="not HTML or plain text", **fields
    )


def _decode_page(body: bytes, content_type: str | None) -> str:
    """UTF-8 when the payload decodes cleanly as UTF-8 and is not plain ASCII, else :func:`decode_html`.

    Servers often send ``charset=iso-8859-1`` (the HTTP/1.1 default) for UTF-8 pages; a latin-1 decode
    never fails, so trusting the header turns every non-ASCII character into mojibake. Text in a legacy
    8-bit encoding almost never forms valid multi-byte UTF-8 sequences, so a clean UTF-8 decode is the
    stronger evidence (the WHATWG encoding sniffing and the chardet/ftfy tools rest on the same fact).
    """
    if not body.isascii():
        try:
            return body.decode("utf-8").removeprefix("\ufeff")
        except UnicodeDecodeError:
            pass
    return decode_html(body, content_type)
