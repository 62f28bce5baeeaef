"""Replacement of detected spans, one operator per entity from ``rules/pii.yaml``.

Modes: ``replace``/``drop`` -> typed placeholder (``<EMAIL_ADDRESS>``); ``mask`` -> ``*****1234``;
``hash`` -> ``<EMAIL_ADDRESS:1f0c...>`` (SHA-256 of value + salt as presidio's Hash operator computes it,
truncated: the same
value maps to the same token in every run with the same salt, so repeated mentions stay linkable without
revealing the value); ``swap`` -> reserved documentation values (RFC 5737 ``192.0.2.x``, RFC 3849
``2001:db8::``, RFC 2606 ``example.com``), chosen by the salted hash so the mapping is stable.

Spans must be non-overlapping and sorted (see :func:`curation.stages.pii.engine.resolve_overlaps`); the
text is rebuilt in one pass (presidio-anonymizer's engine was dropped: importing it pulled presidio's
analyzer, transformers and torch, ~7 CPU-s per process, and its conflict handling is quadratic).
"""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Callable, Sequence

from curation.stages.pii.rules import PiiRules
from curation.stages.pii.spans import Span


def salted_digest(value: str, salt: str, length: int) -> str:
    """Truncated SHA-256 of ``value`` + ``salt`` (deterministic given the salt)."""
    return hashlib.sha256(value.encode() + salt.encode()).hexdigest()[:length]


def swap_ip(value: str, salt: str, keep_private: bool) -> str:
    """A documentation address for ``value`` (IPv4 -> 192.0.2.1-254, IPv6 -> 2001:db8::/32)."""
    try:
        addr = ipaddress.ip_address(value.split("/")[0].split("%")[0])
    except ValueError:
        return value
    if keep_private and (addr.is_private or addr.is_loopback or addr.is_link_local or addr.is_reserved):
        return value
    h = int(salted_digest(value, salt, 8), 16)
    if addr.version == 4:
        return f"192.0.2.{1 + h % 254}"
    return f"2001:db8::{h & 0xFFFF:x}:{(h >> 16) & 0xFFFF:x}"


def swap_email(value: str, salt: str) -> str:
    return f"user-{salted_digest(value.lower(), salt, 8)}@example.com"


def mask_value(value: str, char: str, keep_last: int) -> str:
    keep = min(keep_last, len(value) // 2)
    return char * (len(value) - keep) + (value[len(value) - keep :] if keep else "")


class Anonymizer:
    """Build once per worker: one replacement function per entity."""

    def __init__(self, rules: PiiRules) -> None:
        self.rules = rules
        self.operators: dict[str, Callable[[str], str]] = {e: self._operator(e) for e in rules.entities}

    def _operator(self, entity: str) -> Callable[[str], str]:
        rules = self.rules
        mode = rules.entities[entity].mode
        placeholder = rules.placeholder.format(entity=entity)
        if mode in ("replace", "drop"):
            return lambda _v: placeholder
        if mode == "mask":
            char, keep = rules.mask.char, rules.mask.keep_last
            return lambda v: mask_value(v, char, keep)
        if mode == "hash":
            salt, n = rules.hash.salt, rules.hash.length
            return lambda v: placeholder[:-1] + ":" + salted_digest(v, salt, n) + placeholder[-1:]
        if entity == "IP_ADDRESS":  # swap
            salt, keep_private = rules.hash.salt, rules.swap.keep_private_ips
            return lambda v: swap_ip(v, salt, keep_private)
        salt = rules.hash.salt  # swap e-mail
        return lambda v: swap_email(v, salt)

    def apply(self, text: str, results: Sequence[Span]) -> str:
        """``text`` with every (non-overlapping, sorted) span replaced according to its entity's mode."""
        if not results:
            return text
        pieces: list[str] = []
        pos = 0
        for r in results:
            pieces.append(text[pos : r.start])
            pieces.append(self.operators[r.entity_type](text[r.start : r.end]))
            pos = r.end
        pieces.append(text[pos:])
        return "".join(pieces)
