"""Key words and literals found in one Hyperscan scan of a text instead of ``str.lower`` and one search each:
the pre-check's hints (:func:`hints`) and the secret recognizers' key-word anchors (:func:`literal_starts`).

The pre-check (:func:`curation.stages.pii.engine.precheck`) asks a dozen substring questions of every chunk:
``"@"``, ``"xox"``, ``"PRIVATE KEY"``, the AWS key-id and GitHub token prefixes, and on the lower-cased text
the secret and password key words (``secret``, ``token``, ``auth``, ``passw``, ``pwd``, ...). Answered with
``str.lower`` and ``in``, that was ~14 scans of each text (~0.08 CPU-s on the dev corpus); Hyperscan (Intel's
multi-pattern matcher, the ``hyperscan`` package) answers all of them in one pass over the UTF-8 bytes.

Why the answers are the same:

* a literal or an ASCII-only pattern occurs in a ``str`` iff it occurs in its UTF-8 bytes (the bytes of a
  non-ASCII character are all >= 0x80, so no match starts or ends inside one);
* an ASCII key word ``w`` occurs in ``text.lower()`` iff it occurs, ASCII letters compared caselessly
  (``HS_FLAG_CASELESS``), in ``text`` -- provided no non-ASCII character lower-cases to a string holding an
  ASCII character. Only U+0130 (``İ`` -> ``i̇``) and U+212A (Kelvin sign -> ``k``) do
  (:data:`ASCII_LOWERING`, checked over every code point by the tests); they are scanned for too, and a
  text holding one gets ``None`` (the caller then asks ``str.lower`` and ``in`` as before).

:func:`python_hints` is the reference (the pre-check's former tests); ``tests/pii/test_hints.py`` checks
the two agree on generated texts. Without the ``hyperscan`` package every text takes the reference.
"""

from __future__ import annotations

import re
import threading
from functools import lru_cache
from typing import Any

#: Non-ASCII characters whose ``str.lower()`` holds an ASCII character.
ASCII_LOWERING = "\u0130\u212a"

_AWS_ID_HINT = re.compile(r"A(?:KIA|SIA|3T|BIA|CCA)[A-Z0-9]")
_GITHUB_HINT = re.compile(r"gh[pousr]_|github_pat_")

#: hint name -> text searched in the text as it is (literals, or the two ASCII patterns above)
LITERALS = {"@": "@", "://": "://", "xox": "xox", "hooks.slack.com": "hooks.slack.com",
            "PRIVATE KEY": "PRIVATE KEY"}
PATTERNS = {"aws_id": _AWS_ID_HINT, "github": _GITHUB_HINT}
#: key words searched in the lower-cased text (each is its own hint name)
KEY_WORDS = ("secret", "token", "auth", "credential", "api_key", "apikey", "api-key", "access_key",
             "private_key", "passw", "pwd", "passphrase")
NAMES = frozenset({*LITERALS, *PATTERNS, *KEY_WORDS})


def python_hints(text: str) -> frozenset[str]:
    """The names of the hints occurring in ``text``, with ``str.lower``, ``in`` and ``re`` (the reference)."""
    low = text.lower()
    found = {n for n, lit in LITERALS.items() if lit in text}
    found.update(n for n, rx in PATTERNS.items() if rx.search(text) is not None)
    found.update(w for w in KEY_WORDS if w in low)
    return frozenset(found)


def _hex(literal: str) -> bytes:
    """A Hyperscan expression matching the UTF-8 bytes of ``literal`` (every byte as a hex escape)."""
    return "".join(f"\\x{b:02x}" for b in literal.encode("utf-8")).encode("ascii")


class _Matcher:
    """The Hyperscan database of every hint (and of :data:`ASCII_LOWERING`); one scratch per thread."""

    def __init__(self) -> None:
        import hyperscan

        entries: list[tuple[str | None, bytes, int]] = []
        single = hyperscan.HS_FLAG_SINGLEMATCH
        entries += [(n, _hex(lit), single) for n, lit in LITERALS.items()]
        entries += [(n, rx.pattern.encode("ascii"), single) for n, rx in PATTERNS.items()]
        # the key words are lower-case ASCII letters, "_" and "-": literal as they are, caseless
        entries += [(w, w.encode("ascii"), single | hyperscan.HS_FLAG_CASELESS) for w in KEY_WORDS]
        entries += [(None, _hex(ch), single) for ch in ASCII_LOWERING]
        self.names = [n for n, _p, _f in entries]
        self.db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
        self.db.compile(expressions=[p for _n, p, _f in entries], ids=list(range(len(entries))),
                        elements=len(entries), flags=[f for _n, _p, f in entries])
        self._hyperscan = hyperscan
        self._local = threading.local()

    def hints(self, text: str) -> frozenset[str] | None:
        scratch = getattr(self._local, "scratch", None)
        if scratch is None:
            scratch = self._local.scratch = self._hyperscan.Scratch(self.db)
        ids: list[int] = []

        def on_match(i: int, _start: int, _end: int, _flags: int, _ctx: Any) -> None:
            ids.append(i)

        self.db.scan(text.encode("utf-8", "surrogatepass"), match_event_handler=on_match, scratch=scratch)
        names = self.names
        found = [names[i] for i in ids]
        if None in found:  # a character whose lower-casing holds an ASCII letter: ask str.lower
            return None
        return frozenset(found)  # type: ignore[arg-type]


@lru_cache(maxsize=1)
def _matcher() -> _Matcher | None:
    """The process's matcher (built on first use, ~0.012 CPU-s), or ``None`` without ``hyperscan``."""
    try:
        return _Matcher()
    except ImportError:
        return None


def hints(text: str) -> frozenset[str]:
    """The names (:data:`NAMES`) of the hints occurring in ``text``: :func:`python_hints`, in one scan."""
    m = _matcher()
    found = m.hints(text) if m is not None else None
    return found if found is not None else python_hints(text)


# ----------------------------------------------------------------------------------------------------
# Where key words start (the secret recognizers' anchors)

#: Non-ASCII characters that ``str.lower`` or a case-insensitive ``re`` pattern relates to an ASCII letter
#: (``İ``, dotless ``ı``, long ``ſ``, Kelvin sign; checked over every code point by the tests).
CASE_FOLD_ASCII = "\u0130\u0131\u017f\u212a"
_KEY_WORD = re.compile(r"[a-z_-]+")


class _Starts:
    """A caseless Hyperscan database of lower-case ASCII key words (and of :data:`CASE_FOLD_ASCII`)."""

    def __init__(self, words: tuple[str, ...]) -> None:
        import hyperscan

        self.lengths = [len(w) for w in words]
        exprs = [w.encode("ascii") for w in words] + [_hex(ch) for ch in CASE_FOLD_ASCII]
        self.db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
        self.db.compile(expressions=exprs, ids=list(range(len(exprs))), elements=len(exprs),
                        flags=[hyperscan.HS_FLAG_CASELESS] * len(exprs))
        self._hyperscan = hyperscan
        self._local = threading.local()

    def starts(self, text: str) -> list[int] | None:
        scratch = getattr(self._local, "scratch", None)
        if scratch is None:
            scratch = self._local.scratch = self._hyperscan.Scratch(self.db)
        lengths = self.lengths
        words = len(lengths)
        found: list[int] = []
        bad: list[int] = []

        def on_match(i: int, _start: int, end: int, _flags: int, _ctx: Any) -> None:
            if i < words:
                found.append(end - lengths[i])  # an ASCII word: its bytes are its characters
            else:
                bad.append(i)

        data = text.encode("utf-8", "surrogatepass")
        self.db.scan(data, match_event_handler=on_match, scratch=scratch)
        if bad:
            return None
        if found and len(data) != len(text):  # byte offsets to character offsets: lead bytes before
            import numpy as np

            lead = (np.frombuffer(data, dtype=np.uint8) & 0xC0) != 0x80
            char_at = np.cumsum(lead) - 1
            return sorted(set(char_at[np.array(found)].tolist()))
        return sorted(set(found))


@lru_cache(maxsize=8)
def _starts_db(words: tuple[str, ...]) -> _Starts | None:
    """The process's database for ``words`` (built on first use); ``None`` without ``hyperscan`` or for
    words that are not lower-case ASCII key words."""
    if not all(_KEY_WORD.fullmatch(w) for w in words):
        return None
    try:
        return _Starts(words)
    except ImportError:
        return None


def literal_starts(words: tuple[str, ...], text: str) -> list[int] | None:
    """Every position where one of ``words`` (lower-case ASCII) starts in ``text.lower()`` (overlapping
    occurrences too), increasing: ``scan.literal_positions(words, text.lower())`` in one caseless scan of
    the text, without lower-casing it. ``None`` (then lower-case and search as before) without
    ``hyperscan``, or when the text holds a character of :data:`CASE_FOLD_ASCII`: there lower-casing moves
    offsets or a case-insensitive pattern matches where no ASCII-caseless word does."""
    db = _starts_db(words)
    return db.starts(text) if db is not None else None
