"""Case-insensitive substring pre-checks without lower-casing the whole text.

The license detectors first ask whether ``text.lower()`` contains one of a few ASCII key words before
running their (costly) patterns. Lower-casing a multi-megabyte HTML page or book as ``str`` costs ~5x more
than encoding it to UTF-8 and lower-casing the bytes (``bytes.lower`` maps only A-Z, a C loop): the same
answer for ASCII keys, because only two characters outside ASCII lower-case to ASCII letters (U+0130
'İ' -> "i̇", U+212A KELVIN SIGN -> 'k'; a text with either takes ``str.lower``), every other one lower-cases
to characters outside ASCII, and a UTF-8 multi-byte sequence holds no ASCII byte.
"""

from __future__ import annotations

from functools import cache

_TO_ASCII_WHEN_LOWERED = ("\u0130", "\u212a")


@cache
def _encoded(needles: tuple[str, ...]) -> tuple[bytes, ...]:
    if not all(n.isascii() and n == n.lower() for n in needles):
        raise ValueError(f"needles must be lower-case ASCII: {needles!r}")
    return tuple(n.encode("ascii") for n in needles)


def lower_contains(text: str, needles: tuple[str, ...]) -> bool:
    """``any(n in text.lower() for n in needles)`` for lower-case ASCII ``needles``, computed on the
    lower-cased UTF-8 bytes of ``text`` (see the module docstring for why the answers agree)."""
    keys = _encoded(needles)
    if not text.isascii() and any(c in text for c in _TO_ASCII_WHEN_LOWERED):
        low = text.lower()
        return any(n in low for n in needles)
    data = text.encode("ascii") if text.isascii() else text.encode("utf-8", "surrogatepass")
    low_b = data.lower()
    return any(k in low_b for k in keys)
