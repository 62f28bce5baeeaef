"""Readers: turn raw shards (web, book, code, conversation) into :class:`~curation.document.Document` values.

``expand_sources(cfg)`` lists the work at pipeline build time; ``read_shard(shard, limits)`` streams
one shard's documents and read-stage rejects on a worker (``read_counted``: with their token counts).
See docs/readers.md.
"""

from curation.io.common import STAGE, Shard
from curation.io.read import read_counted, read_shard
from curation.io.shards import detect_format, expand_sources

__all__ = ["STAGE", "Shard", "detect_format", "expand_sources", "read_counted", "read_shard"]
