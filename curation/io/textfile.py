"""Whole-file documents (``format: text``): one file is one document, read with a size bound.

Used by the web and book readers for ``.txt`` shards and by the code reader for single source files and
the files of a code tree. At most ``Limits.max_doc_bytes + 1`` bytes are ever held.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from curation.document import Document, Reject
from curation.io.common import ReadContext, decode_utf8
from curation.io.records import index_key
from curation.io.streams import StreamError, read_bounded


def read_file_bytes(ctx: ReadContext, file: str, key: str, **fields: Any) -> bytes | Reject:
    """The (decompressed) bytes of a file, or a reject (``too_large``, ``truncated_gzip``, ...).

    Local files that are not regular files, or symlinks leading outside the shard's input root, are
    refused without being opened (``not_regular_file``, ``symlink_outside_input``).
    """
    limit = ctx.limits.max_doc_bytes
    try:
        data, exceeded = read_bounded(file, limit, ctx.root, ctx.options.allow_symlinks_outside)
    except StreamError as exc:
        signals = {"read.skipped_bytes": exc.skipped} if exc.skipped else {}
        return ctx.reject(key, exc.reason, error=str(exc), signals=signals, **fields)
    if exceeded:
        return ctx.reject(
            key, "too_large", raw=data, error=f"file is larger than max_doc_bytes {limit}", **fields
        )
    return data


def read_file_text(ctx: ReadContext, file: str, key: str, **fields: Any) -> str | Reject:
    """The UTF-8 text of a file, or a reject (``invalid_utf8`` keeps the raw bytes)."""
    data = read_file_bytes(ctx, file, key, **fields)
    if isinstance(data, Reject):
        return data
    text, err = decode_utf8(data)
    if text is None:
        return ctx.reject(key, "invalid_utf8", raw=data, error=err, **fields)
    return text


def read_text_file(ctx: ReadContext) -> Iterator[Document | Reject]:
    """One document per file (web/other kinds' ``.txt`` shards)."""
    key = index_key(0)
    text = read_file_text(ctx, ctx.shard.path, key)
    yield text if isinstance(text, Reject) else ctx.check(key, text)
