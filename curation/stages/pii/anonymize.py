"""Replacement of detected spans with presidio-anonymizer, one operator per entity from ``rules/pii.yaml``.

Modes: ``replace``/``drop`` -> typed placeholder (``<EMAIL_ADDRESS>``); ``mask`` -> ``*****1234``;
``hash`` -> ``<EMAIL_ADDRESS:1f0c...>`` (presidio's Hash operator with the rules' salt, truncated: the same
value maps to the same token in every run with the same salt, so repeated mentions stay linkable without
revealing the value); ``swap`` -> reserved documentation values (RFC 5737 ``192.0.2.x``, RFC 3849
``2001:db8::``, RFC 2606 ``example.com``), chosen by the salted hash so the mapping is stable.

Results must be non-overlapping (see :func:`curation.stages.pii.engine.resolve_overlaps`). They are
applied in segments of at most :data:`SEGMENT_RESULTS` results, because presidio's conflict handling is
quadratic in the number of results of one call.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Sequence

from presidio_anonymizer import AnonymizerEngine
from presidio_anonymizer.entities import ConflictResolutionStrategy, OperatorConfig, RecognizerResult
from presidio_anonymizer.operators import Hash

from curation.stages.pii.rules import PiiRules

SEGMENT_RESULTS = 256


def salted_digest(value: str, salt: str, length: int) -> str:
    """Truncated salted SHA-256 of ``value`` via presidio's Hash operator (deterministic given the salt)."""
    return Hash().operate(value, {"salt": salt, "hash_type": "sha256"})[:length]


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
    """Build once per worker (holds presidio's ``AnonymizerEngine`` and the per-entity operators)."""

    def __init__(self, rules: PiiRules) -> None:
        self.rules = rules
        self.engine = AnonymizerEngine()
        self.operators = {e: self._operator(e) for e in rules.entities}

    def _operator(self, entity: str) -> OperatorConfig:
        rules = self.rules
        mode = rules.entities[entity].mode
        placeholder = rules.placeholder.format(entity=entity)
        if mode in ("replace", "drop"):
            return OperatorConfig("replace", {"new_value": placeholder})
        fn: Callable[[str], str]
        if mode == "mask":
            char, keep = rules.mask.char, rules.mask.keep_last
            fn = lambda v: mask_value(v, char, keep)  # noqa: E731
        elif mode == "hash":
            salt, n = rules.hash.salt, rules.hash.length
            fn = lambda v: placeholder[:-1] + ":" + salted_digest(v, salt, n) + placeholder[-1:]  # noqa: E731
        elif entity == "IP_ADDRESS":  # swap
            salt, keep_private = rules.hash.salt, rules.swap.keep_private_ips
            fn = lambda v: swap_ip(v, salt, keep_private)  # noqa: E731
        else:  # swap e-mail
            salt = rules.hash.salt
            fn = lambda v: swap_email(v, salt)  # noqa: E731
        return OperatorConfig("custom", {"lambda": fn})

    def apply(self, text: str, results: Sequence[RecognizerResult]) -> str:
        """``text`` with every (non-overlapping, sorted) result replaced according to its entity's mode."""
        if not results:
            return text
        pieces: list[str] = []
        pos = 0
        for i in range(0, len(results), SEGMENT_RESULTS):
            group = results[i : i + SEGMENT_RESULTS]
            seg_end = results[i + SEGMENT_RESULTS].start if i + SEGMENT_RESULTS < len(results) else len(text)
            shifted = [RecognizerResult(r.entity_type, r.start - pos, r.end - pos, r.score) for r in group]
            out = self.engine.anonymize(
                text=text[pos:seg_end],
                analyzer_results=shifted,
                operators=self.operators,
                conflict_resolution=ConflictResolutionStrategy.REMOVE_INTERSECTIONS,
                merge_entities_with_spaces=False,
            )
            pieces.append(out.text)
            pos = seg_end
        return "".join(pieces)
