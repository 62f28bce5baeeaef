"""The detected-span value and the recognizer interface shared by every PII detector.

A recognizer is a plain object with ``entity`` (the type it reports), ``context`` (words that, found just
before a match, raise its score) and ``find(text) -> list[Span]``. Keeping this interface free of any NLP
framework lets the stage import nothing heavy on the worker (presidio's analyzer pulled in transformers
and torch: ~6 CPU-s per process, issue 21) while the validators stay the published ones (Luhn, mod-97,
``ipaddress``, python-phonenumbers).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(slots=True)
class Span:
    """``text[start:end]`` is an ``entity_type`` value with confidence ``score`` (0..1)."""

    entity_type: str
    start: int
    end: int
    score: float
    context_boosted: bool = False


class Recognizer(Protocol):
    """Finds the spans of one entity type in a text."""

    entity: str
    context: tuple[str, ...]

    def find(self, text: str) -> list[Span]: ...


def dedupe(spans: list[Span]) -> list[Span]:
    """Drop spans with identical boundaries and type, keeping the highest score (deterministic)."""
    best: dict[tuple[str, int, int], Span] = {}
    for s in spans:
        key = (s.entity_type, s.start, s.end)
        if key not in best or s.score > best[key].score:
            best[key] = s
    return sorted(best.values(), key=lambda s: (s.start, s.end, s.entity_type))
