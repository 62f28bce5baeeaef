"""``read_shard``: stream one shard's documents and read-stage rejects (never raises on bad data);
``read_counted``: the same with every document's token count, read and counted a few records at a time."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

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


# Records read ahead by :func:`read_counted` before their documents are counted: a few dozen keep the
# HTML extractor's and the token counter's tables warm across records (in a pipeline every record is
# otherwise followed by all the fused stages after reading); the character budget bounds the memory held
# (documents of up to ``max_doc_bytes`` each: the budget plus one document at most).
READ_AHEAD = 64
READ_AHEAD_CHARS = 1 << 22


def read_counted(
    shard: Shard,
    limits: Limits,
    count_batch: Callable[[list[str]], Sequence[int]],
    read_ahead: int = READ_AHEAD,
    read_ahead_chars: int = READ_AHEAD_CHARS,
) -> Iterator[Document | Reject]:
    """:func:`read_shard` with ``token_count`` set on every document by ``count_batch`` (a
    :class:`~curation.tokens.TokenCounter`'s), in the same order.

    Records are read until ``read_ahead`` of them or documents holding ``read_ahead_chars`` characters
    (text and HTML) are in hand, then their documents are counted in one call and all are yielded: in a
    fused pipeline the extractor and the counter then run back to back on a few dozen records instead of
    once between every record's passage through the later stages, whose work evicts their tables from the
    CPU caches (read stage on the dev corpus 1.06 -> 0.85 CPU-s, docs/readers.md).
    """
    records = read_shard(shard, limits)
    while True:
        chunk: list[Document | Reject] = []
        chars = 0
        for out in records:
            chunk.append(out)
            if isinstance(out, Document):
                chars += len(out.text) + len(out.html or "")
            if len(chunk) >= read_ahead or chars >= read_ahead_chars:
                break
        if not chunk:
            return
        docs = [i for i, out in enumerate(chunk) if isinstance(out, Document)]
        counts = count_batch([chunk[i].text for i in docs]) if docs else ()
        for i, n in zip(docs, counts, strict=True):
            chunk[i] = chunk[i].evolve(token_count=n)
        yield from chunk
