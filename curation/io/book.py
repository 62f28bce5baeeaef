"""Book reader: plain-text files (one book per file) or JSONL/Parquet records (``text``, ``title``,
``author``; one book or chapter per record).

Books longer than ``Limits.book_max_chars`` are split with :func:`curation.io.book_split.split_book`
into chapter-sized documents; ``meta`` gets ``part`` (0-based), ``parts`` and ``chapter``. Plain-text books
take title/author from the options, else from a Project Gutenberg-style ``Title:`` / ``Author:`` line in
the head, else the file name. The Gutenberg header and footer are kept (the license stage reads them).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator
from typing import Any

from curation.document import Document, Reject
from curation.io.book_split import split_book
from curation.io.common import ReadContext, str_meta
from curation.io.records import extra_meta, get_str, index_key, iter_records
from curation.io.streams import strip_compression
from curation.io.textfile import read_file_text

_FIELD_LINE = re.compile(r"(?im)^[ \t]*(title|author)[ \t]*:[ \t]*(\S[^\r\n]{0,300})$")
_HEAD_CHARS = 5_000
_USED = frozenset({"title", "author"})


def read_book(ctx: ReadContext) -> Iterator[Document | Reject]:
    if ctx.shard.format == "text":
        yield from _text_file(ctx)
        return
    for item in iter_records(ctx):
        if isinstance(item, Reject):
            yield item
            continue
        index, obj = item
        key = index_key(index)
        fields = {
            "title": get_str(obj, "title"),
            "author": get_str(obj, "author"),
            "meta": extra_meta(obj, _USED | {ctx.options.text_field}),
        }
        text = get_str(obj, ctx.options.text_field)
        if text is None:
            yield ctx.reject(
                key, f"missing_field:{ctx.options.text_field}", error="record has no text", **fields
            )
            continue
        yield from _emit(ctx, key, text, fields)


def _text_file(ctx: ReadContext) -> Iterator[Document | Reject]:
    key = index_key(0)
    text = read_file_text(ctx, ctx.shard.path, key)
    if isinstance(text, Reject):
        yield text
        return
    head = dict((k.lower(), v.strip()) for k, v in _FIELD_LINE.findall(text[:_HEAD_CHARS]))
    name = posixpath.basename(strip_compression(ctx.shard.rel))
    fields = {
        "title": ctx.options.title or head.get("title") or posixpath.splitext(name)[0],
        "author": ctx.options.author or head.get("author"),
        "meta": {"file": ctx.shard.rel},
    }
    yield from _emit(ctx, key, text, fields)


def _emit(ctx: ReadContext, key: str, text: str, fields: dict[str, Any]) -> Iterator[Document | Reject]:
    """One document, or one per part when the book is longer than ``book_max_chars``."""
    max_chars = ctx.limits.book_max_chars
    if len(text) <= max_chars:
        yield ctx.check(key, text, **fields)
        return
    big = ctx.too_large(key, text, **fields)
    if big is not None:
        yield big
        return
    parts = split_book(text, max_chars, ctx.options.min_part_chars)
    base_meta = dict(fields.get("meta") or {})
    for i, part in enumerate(parts):
        meta = {**base_meta, **str_meta({"part": i, "parts": len(parts), "chapter": part.heading})}
        yield ctx.check(f"{key}/part{i}", part.text, **{**fields, "meta": meta})
