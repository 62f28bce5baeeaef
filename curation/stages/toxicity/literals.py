"""Which texts of a batch contain any of a fixed set of literals, in one Hyperscan pass.

:func:`curation.stages.toxicity.terms.windows_containing` runs one ``str.find`` pass over the joined
batch per literal: for the lexicon's stems (12 per language, found in almost no window) that is 12 passes
over every window's text, ~0.05 CPU-s over the dev corpus. A Hyperscan database of the literals (the
``hyperscan`` package, already a dependency for the PII hints) finds every occurrence in one pass over the
batch's UTF-8 bytes (~0.008 CPU-s, encoding included). The databases are built once per literal set and
process (a read-only table of a pure function: the same sets recur for every batch).

Same answer as ``windows_containing``: UTF-8 is self-synchronising, so a literal's bytes occur in the
encoded text exactly where the literal occurs in the text; the texts are joined by NUL and a literal
without NUL never spans two texts, so a match's last byte names its text by the NULs before it. A text or
literal holding NUL itself, or a missing ``hyperscan``, takes ``windows_containing``.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from curation.stages.toxicity.terms import windows_containing


def _hex(literal: str) -> bytes:
    """A Hyperscan expression matching the UTF-8 bytes of ``literal`` (every byte as a hex escape)."""
    return "".join(f"\\x{b:02x}" for b in literal.encode("utf-8", "surrogatepass")).encode("ascii")


class _Scanner:
    """A Hyperscan block-mode database of some byte expressions; one scratch space per thread."""

    def __init__(self, expressions: tuple[bytes, ...]) -> None:
        import hyperscan

        self._hyperscan = hyperscan
        self.db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
        self.db.compile(expressions=list(expressions), ids=list(range(len(expressions))),
                        elements=len(expressions), flags=[0] * len(expressions))
        self._local = threading.local()

    def match_ends(self, data: bytes) -> list[int]:
        """End offsets (exclusive) of every match of every expression in ``data``."""
        scratch = getattr(self._local, "scratch", None)
        if scratch is None:
            scratch = self._local.scratch = self._hyperscan.Scratch(self.db)
        ends: list[int] = []

        def on_match(_id: int, _start: int, end: int, _flags: int, _ctx: Any) -> None:
            ends.append(end)

        self.db.scan(data, match_event_handler=on_match, scratch=scratch)
        return ends


@lru_cache(maxsize=64)
def _compiled(expressions: tuple[bytes, ...]) -> _Scanner | None:
    """The scanner of ``expressions`` (built on first use), or ``None`` without ``hyperscan``."""
    try:
        return _Scanner(expressions)
    except ImportError:
        return None


def _scanner(literals: tuple[str, ...]) -> _Scanner | None:
    """The scanner of ``literals`` (each matched as its UTF-8 bytes), or ``None`` without ``hyperscan``."""
    return _compiled(tuple(_hex(x) for x in literals))


def _texts_of(scanner: _Scanner, texts: Sequence[str]) -> set[int] | None:
    """Indices of ``texts`` where a match of ``scanner`` ends (its expressions never match NUL), from
    one scan of the texts joined by NUL; ``None`` when a text holds NUL itself."""
    import numpy as np

    data = "\x00".join(texts).encode("utf-8", "surrogatepass")
    ends = scanner.match_ends(data)
    if not ends:
        return set()
    nuls = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == 0)
    if len(nuls) != len(texts) - 1:  # a text holds NUL itself: its pieces would be miscounted
        return None
    # a match's last byte is data[end - 1]; the NULs before it count the texts before its own
    return set(np.searchsorted(nuls, np.asarray(ends, dtype=np.int64) - 1).tolist())


def texts_containing(literals: tuple[str, ...], texts: Sequence[str]) -> set[int]:
    """Indices of ``texts`` containing any of ``literals``: ``windows_containing(literals, texts)``.

    ``literals`` should be a fixed set reused across batches (each distinct set compiles a database)."""
    literals = tuple(x for x in literals if x)
    if not literals or not texts or any("\x00" in x for x in literals):
        return windows_containing(literals, texts)
    scanner = _scanner(literals)
    if scanner is None:
        return windows_containing(literals, texts)
    got = _texts_of(scanner, texts)
    return windows_containing(literals, texts) if got is None else got


# An ASCII digit or symbol of the obfuscation check next to an ASCII letter or to any byte of a non-ASCII
# character (every letter outside ASCII is encoded as bytes >= 0x80): a superset, in UTF-8 bytes, of
# lexicon's ``_ADJACENT_RE`` hits that have a letter (``str.isalpha``) on either side.
_SYMBOL_NEXT_TO_LETTER = (rb"[0-9@$*!|][A-Za-z\x80-\xff]", rb"[A-Za-z\x80-\xff][0-9@$*!|]")


def symbol_letter_texts(texts: Sequence[str]) -> set[int] | None:
    """Indices of ``texts`` with a digit or symbol of ``[0-9@$*!|]`` next to an ASCII letter or a
    non-ASCII character: a superset of the texts where one touches a letter, in one Hyperscan pass.
    ``None`` without ``hyperscan`` or when a text holds NUL (the caller then uses its regex)."""
    scanner = _compiled(_SYMBOL_NEXT_TO_LETTER)
    if scanner is None or not texts:
        return None
    return _texts_of(scanner, texts)
