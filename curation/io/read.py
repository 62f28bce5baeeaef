"""``read_shard``: stream one shard's documents and read-stage rejects (never raises on bad data)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from curation.config import Limits
from curation.document import Document, Reject
from curation.io.book import read_book
from curation.io.code import read_code
from curation.io.common import ReadContext, Shard
from curation.io.conversation import read_conversation
from curation.io.web import read_web

_READERS: dict[str, Callable[[ReadContext], Iterator[Document | Reject]]] = {
    "web": read_web,
    "book": read_book,
    "code": read_code,
    "conversation": read_conversation,
}


def read_shard(shard: Shard, limits: Limits) -> Iterator[Document | Reject]:
    """Documents (``token_count=0``) and rejects (``stage="read"``) of ``shard``, in shard order.

    A reader bug or an I/O failure that escapes the readers' own handling ends the shard with one
    ``read_error`` reject instead of failing the pipeline (the records already emitted stand).
    """
    ctx = ReadContext(shard, limits)
    reader = _READERS[shard.kind]
    n = 0
    try:
        for out in reader(ctx):
            n += 1
            yield out
    except Exception as exc:
        yield ctx.reject(
            f"read_error#{n}", "read_error", error=f"{type(exc).__name__}: {exc} (after {n} records)"
        )
