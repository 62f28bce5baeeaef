"""A tiny stage module implementing the what-if protocol (so report tests don't depend on real stages)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from curation.rules import load_rules


@dataclass(frozen=True)
class GopherRules:
    min_words: int = 50
    max_words: int = 100_000
    max_symbol_ratio: float = 0.1

    def __post_init__(self) -> None:
        if self.min_words < 0:
            raise ValueError("min_words must be >= 0")


@dataclass(frozen=True)
class FakeQualityRules:
    gopher: GopherRules = field(default_factory=GopherRules)
    min_words_by_kind: dict[str, int] = field(default_factory=dict)


def load_stage_rules(path: str | Path) -> FakeQualityRules:
    return load_rules(path, FakeQualityRules)


def decide(signals: Mapping[str, Any], rules: FakeQualityRules, source_kind: str) -> tuple[str, ...]:
    words = signals["quality.gopher.word_count"]  # KeyError for documents without signals
    reasons = []
    if words < rules.min_words_by_kind.get(source_kind, rules.gopher.min_words):
        reasons.append("quality:gopher.min_words")
    if words > rules.gopher.max_words:
        reasons.append("quality:gopher.max_words")
    if signals.get("quality.gopher.symbol_ratio", 0.0) > rules.gopher.max_symbol_ratio:
        reasons.append("quality:gopher.symbol_ratio")
    return tuple(reasons)
