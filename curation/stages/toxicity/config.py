"""Rules of the toxicity stage (``rules/toxicity.yaml``) as frozen dataclasses, validated at build time.

Every threshold, action and word list lives in the YAML file; this module only declares the shape, the
allowed values and the cross-field checks. :func:`load_toxicity_rules` is also the what-if protocol's
``load_stage_rules``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from curation.rules import ConfigError, check_range, load_rules

Backend = Literal["embedded", "detoxify"]
Variant = Literal["original", "unbiased", "multilingual"]
Device = Literal["auto", "cpu", "cuda"]
SpanAction = Literal["remove", "tag"]
BiasAction = Literal["drop", "flag"]
IfMissing = Literal["lexicon", "error"]
SOURCE_KIND_KEYS = ("web", "book", "code", "conversation")


@dataclass(frozen=True)
class Lexicon:
    """Word lists per language: ``strong`` terms (slurs, explicit) and ``mild`` (crude) terms.

    A term ending in ``*`` matches every word starting with the stem (``fuck*`` matches ``fucking``);
    ``(a|b)`` groups spell a term's forms (``scop(ano|ato)``); terms of several words match the same
    word sequence. Matching is on whole words, case-folded.
    """

    strong: dict[str, tuple[str, ...]] = field(default_factory=dict)
    mild: dict[str, tuple[str, ...]] = field(default_factory=dict)
    strong_weight: float = 0.9  # score contributed by one strong hit (noisy-or over hits)
    mild_weight: float = 0.4
    # word lists shipped by a PyPI package (``<module>/data/dictionaries/<file>.json``), per language
    package: str | None = "glin-profanity"
    package_files: dict[str, str] = field(default_factory=dict)  # lang -> file name without .json
    package_weight: float = 0.4
    exclude: dict[str, tuple[str, ...]] = field(default_factory=dict)  # package terms never matched
    elision_langs: tuple[str, ...] = ("it", "fr", "ca")  # words split at apostrophes (l'uccello)
    unspaced_langs: tuple[str, ...] = ("zh", "ja", "th")  # substring matching (no spaces between words)
    unspaced_min_chars: int = 2  # shorter package/mild terms of unspaced languages are not matched
    leet: bool = True  # map digits/symbols back to letters (sh1t, f*ck) and collapse stretched letters


@dataclass(frozen=True)
class ClassifierRules:
    """A supervised fastText toxicity classifier (``curate toxicity train``), scored on document blocks.

    ``langs``: languages the model was trained for; documents of other languages are not scored by it
    (signal ``toxicity.classifier`` = 0, the lexicon still applies). Empty = every language.
    ``if_missing``: what a build does when ``model`` names a file that does not exist: ``error`` (a
    ConfigError naming the file and how to build it) or ``lexicon`` (run without the classifier, say so
    once in the log and in ``run.json``). The shipped default model is trained from the labelled dev set
    at install, which a pip user may not have, so the shipped rules say ``lexicon``.
    """

    model: str | None = "toxicity_default.bin"  # under models_dir; null = no classifier
    if_missing: IfMissing = "error"
    label: str = "__label__toxic"
    langs: tuple[str, ...] = ()
    block_chars: int = 1500  # windows are grouped into blocks of about this size for the classifier

    def __post_init__(self) -> None:
        if self.block_chars < 100:
            raise ValueError("block_chars >= 100 required")


@dataclass(frozen=True)
class EmbeddedRules:
    """The embedded backend: alt-profanity-check's shipped model combined (max) with the lexicon."""

    classifier: ClassifierRules = field(default_factory=ClassifierRules)
    use_model: bool = True
    # the model is English-only (English vocabulary, English stop words): apply it only to documents of
    # these languages, or of undetermined language (no language ID stage); the lexicon applies to all
    model_langs: tuple[str, ...] = ("en",)
    lexicon: Lexicon = field(default_factory=Lexicon)


@dataclass(frozen=True)
class DetoxifyRules:
    """The detoxify backend: a local checkpoint and a local Hugging Face config/tokenizer directory.

    Relative paths are resolved against the pipeline's ``models_dir``.
    """

    variant: Variant = "original"
    checkpoint: str = "detoxify/original/model.ckpt"
    hf_dir: str = "detoxify/original/hf"
    device: Device = "cpu"
    batch_size: int = 32
    max_length: int = 256  # tokens per window fed to the model (windows are short already)
    max_windows_per_doc: int = 512  # later windows are not scored (signal toxicity.windows_unscored)

    def __post_init__(self) -> None:
        if self.batch_size < 1 or self.max_length < 8 or self.max_windows_per_doc < 1:
            raise ValueError("batch_size >= 1, max_length >= 8 and max_windows_per_doc >= 1 required")


@dataclass(frozen=True)
class WindowRules:
    """How a document is cut into scoring windows (lines, then sentences, then word-bounded chunks)."""

    max_chars: int = 400
    min_chars: int = 3  # shorter windows (after stripping) are not scored
    merge_chars: int = 80  # consecutive sentences of one line/paragraph are merged up to this length
    code: Literal["comments_and_strings", "all", "none"] = "comments_and_strings"

    def __post_init__(self) -> None:
        if self.max_chars < 16 or self.min_chars < 1:
            raise ValueError("max_chars >= 16 and min_chars >= 1 required")


@dataclass(frozen=True)
class DocumentRules:
    """Document-level drop rules (reason ``toxicity:<score>`` / ``toxicity:toxic_fraction``)."""

    score: str | None = None  # the score the thresholds apply to; null = backend default (primary_score)
    drop_threshold: float | None = 0.9  # doc-level score (char-weighted mean of windows) >= -> drop
    max_threshold: float | None = None  # worst window >= -> drop (off by default: spans handle it)
    toxic_fraction_threshold: float | None = 0.5  # share of the text inside toxic spans >= -> drop
    min_scored_chars: int = 0  # documents with fewer scored chars are never dropped by the rules above
    # source kinds whose drop rule reads ``<score>.kept`` (the score of the text left once toxic spans
    # are removed) when the backend gives it: kinds made of separable units (conversation turns)
    after_span_removal: tuple[str, ...] = ("conversation",)


@dataclass(frozen=True)
class SpanRules:
    """Window-level rules: a window whose score >= threshold is a toxic span, removed or only tagged."""

    threshold: float = 0.8
    action: dict[str, SpanAction] = field(
        default_factory=lambda: {"web": "remove", "book": "remove", "code": "tag", "conversation": "remove"}
    )


@dataclass(frozen=True)
class CooccurrenceRules:
    """Bias co-occurrence report: PMI of identity groups with adjectives / occupations (rules/bias)."""

    top_k: int = 10
    min_count: int = 3  # joint window count below which a PMI is not reported


@dataclass(frozen=True)
class BiasRules:
    """Identity-term lists and the bias filter (see rules/bias/README.md)."""

    terms_dir: str = "bias"  # folder of group lists, resolved like rules files
    identity_attack_threshold: float | None = 0.8  # detoxify identity_attack max window >= -> action
    # share of the text in toxic spans that mention an identity term >= -> action
    identity_toxic_fraction_threshold: float | None = 0.25
    action: BiasAction = "drop"
    # subgroups not counted by the co-occurrence filter (pronouns are not identity-targeted abuse)
    filter_exclude: frozenset[str] = frozenset({"gender/female_pronouns", "gender/male_pronouns"})
    cooccurrence: CooccurrenceRules = field(default_factory=CooccurrenceRules)


@dataclass(frozen=True)
class ToxicityRules:
    """Top level of ``rules/toxicity.yaml``."""

    backend: Backend = "embedded"
    embedded: EmbeddedRules = field(default_factory=EmbeddedRules)
    detoxify: DetoxifyRules = field(default_factory=DetoxifyRules)
    windows: WindowRules = field(default_factory=WindowRules)
    document: DocumentRules = field(default_factory=DocumentRules)
    spans: SpanRules = field(default_factory=SpanRules)
    bias: BiasRules = field(default_factory=BiasRules)


def _unknown_kind(kinds: Iterable[str]) -> str | None:
    """The first (sorted) of ``kinds`` that is not a source kind, if any."""
    return next(iter(sorted(set(kinds) - set(SOURCE_KIND_KEYS))), None)


def validate(rules: ToxicityRules, path: str | Path | None) -> ToxicityRules:
    """Cross-field checks the dataclasses cannot express (ranges, kinds, score names)."""
    for key, v in (
        ("document.drop_threshold", rules.document.drop_threshold),
        ("document.max_threshold", rules.document.max_threshold),
        ("document.toxic_fraction_threshold", rules.document.toxic_fraction_threshold),
        ("spans.threshold", rules.spans.threshold),
        ("bias.identity_attack_threshold", rules.bias.identity_attack_threshold),
        ("bias.identity_toxic_fraction_threshold", rules.bias.identity_toxic_fraction_threshold),
        ("embedded.lexicon.strong_weight", rules.embedded.lexicon.strong_weight),
        ("embedded.lexicon.mild_weight", rules.embedded.lexicon.mild_weight),
        ("embedded.lexicon.package_weight", rules.embedded.lexicon.package_weight),
    ):
        if v is not None:
            check_range(path, key, v, 0.0, 1.0)
    from curation.stages.toxicity.terms import forms_balanced

    lex = rules.embedded.lexicon
    for tier, lists in (("strong", lex.strong), ("mild", lex.mild), ("exclude", lex.exclude)):
        for lang, terms in lists.items():
            bad = next((t for t in terms if not forms_balanced(t)), None)
            if bad is not None:
                raise ConfigError(
                    path, f"embedded.lexicon.{tier}.{lang}",
                    f"term {bad!r}: forms must be non-nested (a|b) groups, e.g. cul(o|i)",
                )
    allowed = ", ".join(SOURCE_KIND_KEYS)
    unknown = _unknown_kind(rules.document.after_span_removal)
    if unknown:
        key = "document.after_span_removal"
        raise ConfigError(path, key, f"unknown kind {unknown!r}; allowed: {allowed}")
    unknown = _unknown_kind(rules.spans.action)
    if unknown:
        raise ConfigError(path, f"spans.action.{unknown}", f"allowed keys: {allowed}")
    allowed_scores = EMBEDDED_SCORES + EMBEDDED_DOC_SCORES if rules.backend == "embedded" else DETOXIFY_SCORES
    if rules.document.score is not None and rules.document.score not in allowed_scores:
        raise ConfigError(
            path, "document.score", f"invalid value {rules.document.score!r}; allowed: {allowed_scores}"
        )
    return rules


#: Scores the embedded backend gives.
EMBEDDED_SCORES: tuple[str, ...] = ("toxicity", "profanity", "lexicon")
#: Document-level scores of the embedded backend (blocks, not windows; see scoring.py).
EMBEDDED_DOC_SCORES: tuple[str, ...] = ("classifier", "combined")
#: Scores every detoxify variant gives (unbiased/multilingual add more, e.g. sexual_explicit).
DETOXIFY_SCORES: tuple[str, ...] = (
    "toxicity",
    "severe_toxicity",
    "obscene",
    "threat",
    "insult",
    "identity_attack",
    "sexual_explicit",
)


def load_toxicity_rules(path: str | Path) -> ToxicityRules:
    """Load and validate ``rules/toxicity.yaml`` (also the what-if ``load_stage_rules``)."""
    return validate(load_rules(path, ToxicityRules), path)


def primary_score(rules: ToxicityRules) -> str:
    """The document score the thresholds apply to: ``document.score``, else ``combined`` (embedded) or
    ``toxicity`` (detoxify)."""
    if rules.document.score:
        return rules.document.score
    return "combined" if rules.backend == "embedded" else "toxicity"


def span_action(rules: ToxicityRules, source_kind: str) -> SpanAction:
    """The span action for a source kind (``tag`` when the kind is not listed)."""
    return rules.spans.action.get(source_kind, "tag")
