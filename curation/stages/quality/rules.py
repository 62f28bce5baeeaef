"""Quality rules as data: one frozen dataclass per published rule set, loaded from ``rules/quality/``.

``rules/quality/quality.yaml`` says which rule sets apply to which source kind (``apply``) and holds or
includes each set: a set's value is either an inline mapping or the name of a YAML file beside
``quality.yaml`` (e.g. ``gopher: gopher.yaml``). Unknown keys and wrong value types fail at build time
with a :class:`~curation.rules.ConfigError` naming the file and the key.

Every threshold of a set is declared in its ``CHECKS`` table, ``threshold key -> (signal name, op)``:

* ``op == "min"``: the rule fails when the signal is *below* the threshold,
* ``op == "max"``: the rule fails when the signal is *above* the threshold,
* ``op == "max_ge"``: the rule fails when the signal is *at or above* the threshold (FineWeb's ">= 0.67"),
* ``op == "flag"``: the threshold is a boolean switch; the rule fails when it is on and the signal is true.

Thresholds named in a set's ``PER_LANGUAGE`` depend on the language (stop words, word length). With
``languages.enabled`` (the default) they are taken only from the per-language table
(``rules/quality/languages.yaml``, written by ``curate quality calibrate``): a language without an entry
gets only the language-independent rules. ``languages.enabled: false`` is the published behaviour (the
set's own value applies to every document, e.g. Gopher's English stop words).

A threshold set to ``null`` disables its rule. The reject reason of a failing rule is
``quality:<set>.<threshold key>``; its signal is ``quality.<set>.<signal name>``. Because decisions only
read stored signals, ``curate report --what-if 'quality.gopher.min_words=30'`` can recompute them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal

from curation.rules import ConfigError, from_mapping, load_yaml

SetName = Literal["gopher", "repetition", "c4", "fineweb", "book", "code", "conversation", "classifier"]
Check = tuple[str, Literal["min", "max", "max_ge", "flag"]]
Scope = Literal["page", "prose"]


@dataclass(frozen=True)
class GopherRules:
    """Gopher quality filter (Rae et al. 2021, "Scaling Language Models", Appendix A.1.1)."""

    scope: Scope = "prose"  # prose: judge the prose view of the page (see view.py); page: the whole text
    min_words: int | None = 50
    max_words: int | None = 100_000
    min_mean_word_length: float | None = 3.0
    max_mean_word_length: float | None = 10.0
    max_symbol_word_ratio: float | None = 0.1  # '#' per word OR ellipses per word (each on its own)
    max_bullet_lines_ratio: float | None = 0.9
    max_ellipsis_lines_ratio: float | None = 0.3
    min_alpha_words_ratio: float | None = 0.8  # words with at least one alphabetic character
    min_stop_words: int | None = 2
    min_stop_word_ratio: float | None = None  # share of words that are stop words (per language)
    # Not Gopher: UTF-8 text decoded as Latin-1/cp1252 ("Ã©", "â€™"), per word (the idea of ftfy).
    max_mojibake_ratio: float | None = None
    stop_words: tuple[str, ...] = ("the", "be", "to", "of", "and", "that", "have", "with")
    bullets: tuple[str, ...] = ("•", "-", "*", "‣", "◦", "●", "▪", "–")

    PER_LANGUAGE: ClassVar[frozenset[str]] = frozenset(
        {"min_mean_word_length", "max_mean_word_length", "min_stop_words", "min_stop_word_ratio"}
    )

    CHECKS: ClassVar[dict[str, Check]] = {
        "min_words": ("word_count", "min"),
        "max_words": ("word_count", "max"),
        "min_mean_word_length": ("mean_word_length", "min"),
        "max_mean_word_length": ("mean_word_length", "max"),
        "max_symbol_word_ratio": ("symbol_word_ratio", "max"),
        "max_bullet_lines_ratio": ("bullet_lines_ratio", "max"),
        "max_ellipsis_lines_ratio": ("ellipsis_lines_ratio", "max"),
        "min_alpha_words_ratio": ("alpha_words_ratio", "min"),
        "min_stop_words": ("stop_words", "min"),
        "min_stop_word_ratio": ("stop_word_ratio", "min"),
        "max_mojibake_ratio": ("mojibake_ratio", "max"),
    }


@dataclass(frozen=True)
class RepetitionRules:
    """Gopher repetition filter (Rae et al. 2021, Table A1): duplicate lines/paragraphs and n-grams."""

    scope: Scope = "prose"

    max_dup_line_ratio: float | None = 0.30
    max_dup_paragraph_ratio: float | None = 0.30
    max_dup_line_char_ratio: float | None = 0.20
    max_dup_paragraph_char_ratio: float | None = 0.20
    max_top_2gram_char_ratio: float | None = 0.20
    max_top_3gram_char_ratio: float | None = 0.18
    max_top_4gram_char_ratio: float | None = 0.16
    max_dup_5gram_char_ratio: float | None = 0.15
    max_dup_6gram_char_ratio: float | None = 0.14
    max_dup_7gram_char_ratio: float | None = 0.13
    max_dup_8gram_char_ratio: float | None = 0.12
    max_dup_9gram_char_ratio: float | None = 0.11
    max_dup_10gram_char_ratio: float | None = 0.10
    # Not Gopher: unigram entropy of the words (RedPajama-V2 signal rps_doc_unigram_entropy; Together AI
    # 2023): keyword spam repeats a handful of words. Word order: repeated word bigrams of the text over
    # those of the same words in a fixed random order (1.0 = no more structure than shuffled words).
    # Sentence case: share of words after ". ! ?" that are capitalised (cased scripts only).
    min_unigram_entropy: float | None = None
    min_word_order_ratio: float | None = None
    min_sentence_case_ratio: float | None = None

    CHECKS: ClassVar[dict[str, Check]] = {
        "min_unigram_entropy": ("unigram_entropy", "min"),
        "min_word_order_ratio": ("word_order_ratio", "min"),
        "min_sentence_case_ratio": ("sentence_case_ratio", "min"),
        "max_dup_line_ratio": ("dup_line_ratio", "max"),
        "max_dup_paragraph_ratio": ("dup_paragraph_ratio", "max"),
        "max_dup_line_char_ratio": ("dup_line_char_ratio", "max"),
        "max_dup_paragraph_char_ratio": ("dup_paragraph_char_ratio", "max"),
        **{f"max_top_{n}gram_char_ratio": (f"top_{n}gram_char_ratio", "max") for n in (2, 3, 4)},
        **{f"max_dup_{n}gram_char_ratio": (f"dup_{n}gram_char_ratio", "max") for n in range(5, 11)},
    }


@dataclass(frozen=True)
class C4Rules:
    """C4 (Raffel et al. 2020, Sec. 2.2): line-level cleaning, then document rules.

    Line-level settings edit the text (they are not what-if-able: changing them needs a re-run); the
    document rules below ``CHECKS`` are decided from signals of the cleaned text.
    """

    # --- line-level cleaning (edits text)
    clean_lines: bool = True
    min_words_per_line: int = 5  # paper: "at least 5 words" (datatrove's variant uses 3)
    remove_no_terminal_punct: bool = False  # FineWeb (Penedo et al. 2024) disables this C4 line rule
    remove_javascript_lines: bool = True
    remove_policy_lines: bool = True
    remove_citations: bool = True  # "[1]", "[edit]", "[citation needed]" (TFDS c4_utils)
    max_word_length: int = 1000  # lines with a longer word are removed
    policy_substrings: tuple[str, ...] = (
        "terms of use", "privacy policy", "cookie policy", "uses cookies", "use of cookies", "use cookies",
    )
    terminal_punctuation: tuple[str, ...] = (".", "!", "?", '"')
    policy_languages: tuple[str, ...] = ("en",)  # the policy substrings are English: other languages skip
    # --- document rules (decided from signals)
    scope: Scope = "prose"  # TFDS checks "{" and counts sentences only on the lines its filter kept
    min_sentences: int | None = 3  # paper: pages with fewer than 3 sentences (datatrove's variant: 5)
    lorem_ipsum: bool = True
    curly_bracket: bool = True

    CHECKS: ClassVar[dict[str, Check]] = {
        "min_sentences": ("sentence_count", "min"),
        "lorem_ipsum": ("has_lorem_ipsum", "flag"),
        "curly_bracket": ("has_curly_bracket", "flag"),
    }

    def __post_init__(self) -> None:
        if self.min_words_per_line < 0 or self.max_word_length < 1:
            raise ValueError("min_words_per_line must be >= 0 and max_word_length >= 1")


@dataclass(frozen=True)
class FineWebRules:
    """FineWeb custom filters (Penedo et al. 2024, "The FineWeb Datasets", Sec. 3.5)."""

    scope: Scope = "prose"
    min_line_punct_ratio: float | None = 0.12
    max_short_line_ratio: float | None = 0.67
    short_line_length: int = 30
    max_char_dup_ratio: float | None = 0.01
    max_newline_word_ratio: float | None = 0.3
    terminal_punctuation: tuple[str, ...] = (
        ".", "!", "?", '"', "'", "”", "’", "。", "！", "？", "…", ":", ";",
    )

    CHECKS: ClassVar[dict[str, Check]] = {
        "min_line_punct_ratio": ("line_punct_ratio", "min"),
        "max_short_line_ratio": ("short_line_ratio", "max_ge"),  # FineWeb: drop at >= 0.67
        "max_char_dup_ratio": ("char_dup_ratio", "max"),
        "max_newline_word_ratio": ("newline_word_ratio", "max"),
    }


@dataclass(frozen=True)
class BookRules:
    """Long-prose rules for books: Gopher document statistics without line-shape rules.

    Novels and plays have many short dialogue lines and repeated speaker names, so no line-level or
    count-based duplicate rule applies; only character-weighted repetition of paragraphs and long
    n-grams (copy-paste, scan errors) and the Gopher word statistics (Rae et al. 2021) are used.
    """

    min_words: int | None = 50
    min_mean_word_length: float | None = 3.0
    max_mean_word_length: float | None = 10.0
    min_alpha_words_ratio: float | None = 0.7
    min_stop_words: int | None = 2
    min_stop_word_ratio: float | None = None
    max_dup_paragraph_char_ratio: float | None = 0.3
    max_dup_10gram_char_ratio: float | None = 0.3
    stop_words: tuple[str, ...] = ("the", "be", "to", "of", "and", "that", "have", "with")

    PER_LANGUAGE: ClassVar[frozenset[str]] = GopherRules.PER_LANGUAGE

    CHECKS: ClassVar[dict[str, Check]] = {
        "min_words": ("word_count", "min"),
        "min_mean_word_length": ("mean_word_length", "min"),
        "max_mean_word_length": ("mean_word_length", "max"),
        "min_alpha_words_ratio": ("alpha_words_ratio", "min"),
        "min_stop_words": ("stop_words", "min"),
        "min_stop_word_ratio": ("stop_word_ratio", "min"),
        "max_dup_paragraph_char_ratio": ("dup_paragraph_char_ratio", "max"),
        "max_dup_10gram_char_ratio": ("dup_10gram_char_ratio", "max"),
    }


@dataclass(frozen=True)
class CodeRules:
    """Code rules: Codex (Chen et al. 2021) / The Stack & StarCoder (Kocetkov et al. 2022; Li et al. 2023)."""

    max_line_length: int | None = 1000
    max_mean_line_length: float | None = 100.0
    min_alnum_fraction: float | None = 0.25
    autogenerated: bool = True
    minified: bool = True
    max_data_token_fraction: float | None = 0.5  # numeric-literal tokens: data tables, not code
    min_chars: int | None = 1
    header_lines: int = 5  # auto-generated markers are searched in the first N lines (StarCoder)
    autogenerated_markers: tuple[str, ...] = (
        "auto-generated", "autogenerated", "automatically generated", "generated by", "do not edit",
        "code generated",
    )
    minified_path_suffixes: tuple[str, ...] = (".min.js", ".min.css", "-min.js", ".bundle.js")

    CHECKS: ClassVar[dict[str, Check]] = {
        "max_line_length": ("max_line_length", "max"),
        "max_mean_line_length": ("mean_line_length", "max"),
        "min_alnum_fraction": ("alnum_fraction", "min"),
        "autogenerated": ("autogenerated", "flag"),
        "minified": ("minified", "flag"),
        "max_data_token_fraction": ("data_token_fraction", "max"),
        "min_chars": ("chars", "min"),
    }


@dataclass(frozen=True)
class ConversationRules:
    """Turn-level rules for dialogues (Gopher-style repetition applied to turns)."""

    min_turns: int | None = 2
    max_empty_turn_ratio: float | None = 0.3
    max_repeated_turn_ratio: float | None = 0.5
    max_turn_chars: int | None = 20_000
    min_mean_turn_words: float | None = 1.0
    min_speakers: int | None = 1
    min_repeat_words: int = 1  # shorter turns are not counted as repeated (phatic turns recur)

    CHECKS: ClassVar[dict[str, Check]] = {
        "min_turns": ("turns", "min"),
        "max_empty_turn_ratio": ("empty_turn_ratio", "max"),
        "max_repeated_turn_ratio": ("repeated_turn_ratio", "max"),
        "max_turn_chars": ("max_turn_chars", "max"),
        "min_mean_turn_words": ("mean_turn_words", "min"),
        "min_speakers": ("speakers", "min"),
    }


@dataclass(frozen=True)
class ClassifierRules:
    """A fastText quality classifier (e.g. DCLM-style, or the default model of scripts/)."""

    model: str | None = "quality_default.bin"  # relative to the models folder, or absolute; null = off
    required: bool = False  # true: a missing model file fails at build time; false: heuristics only
    label: str = "__label__hq"  # score = P(label)
    min_score: float | None = None  # null: score only (no reject)
    lowercase: bool = True  # preprocessing, identical at training and inference
    split_punctuation: bool = True
    max_chars: int = 20_000
    batch_size: int = 64

    CHECKS: ClassVar[dict[str, Check]] = {"min_score": ("score", "min")}

    def __post_init__(self) -> None:
        if self.max_chars < 1 or self.batch_size < 1:
            raise ValueError("max_chars and batch_size must be >= 1")


@dataclass(frozen=True)
class LanguageRules:
    """Per-language thresholds (``rules/quality/languages.yaml``, written by ``curate quality calibrate``).

    ``params``: language -> rule set -> threshold key -> value, for the keys a set lists in
    ``PER_LANGUAGE``. ``stop_words``: ``spacy`` takes each language's list from the ``spacy`` package
    (``spacy/lang/<xx>/stop_words.py``); ``lists`` uses only ``stop_word_lists`` given here. The lists are
    resolved when the rules are loaded (never per document). ``provenance`` records how the thresholds
    were derived (reference corpus, keep share, command, date).
    """

    enabled: bool = True
    stop_words: Literal["spacy", "lists"] = "spacy"
    stop_word_lists: dict[str, frozenset[str]] = field(default_factory=dict)
    params: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)
    provenance: dict[str, Any] = field(default_factory=dict)

    def threshold(self, lang: str | None, set_name: str, key: str) -> float | None:
        """The calibrated threshold of ``key`` for ``lang`` (``None``: not calibrated, rule skipped)."""
        if lang is None:
            return None
        return self.params.get(lang, {}).get(set_name, {}).get(key)


@dataclass(frozen=True)
class SoftRules:
    """Rules that only score (weak signals); a document fails them only in combination.

    C4's curly-bracket rule targets code in prose, FineWeb's line-shape rules target lists and menus and
    the n-gram / duplicated-line-character rules target boilerplate; on technical documentation they fire
    on good pages (inline code, formulaic "Changed in version" lines, repeated field lines). Soft rules
    are grouped in ``families`` (name -> rules measuring one phenomenon, so correlated rules such as the
    5..10-gram ones count once). When the quality classifier scored the document and its language is in
    ``classifier_languages`` (the default model knows English only), the classifier breaks the tie: the
    soft failures drop the document iff its score is below ``classifier_min_score``. Otherwise the
    document is dropped when soft rules of at least ``min_failures`` families fail. ``families: {}`` makes
    every rule hard (the published behaviour).
    """

    families: dict[str, tuple[str, ...]] = field(default_factory=dict)
    min_failures: int = 2
    classifier_min_score: float | None = 0.5
    classifier_languages: tuple[str, ...] = ("en",)


@dataclass(frozen=True)
class ApplyRules:
    """Which rule sets run on each source kind (in this order)."""

    web: tuple[SetName, ...] = ("c4", "gopher", "repetition", "fineweb", "classifier")
    book: tuple[SetName, ...] = ("book", "classifier")
    code: tuple[SetName, ...] = ("code",)
    conversation: tuple[SetName, ...] = ("conversation",)


@dataclass(frozen=True)
class QualityRules:
    """All of rules/quality/quality.yaml (sets inline or included from per-set files)."""

    apply: ApplyRules = field(default_factory=ApplyRules)
    gopher: GopherRules = field(default_factory=GopherRules)
    repetition: RepetitionRules = field(default_factory=RepetitionRules)
    c4: C4Rules = field(default_factory=C4Rules)
    fineweb: FineWebRules = field(default_factory=FineWebRules)
    book: BookRules = field(default_factory=BookRules)
    code: CodeRules = field(default_factory=CodeRules)
    conversation: ConversationRules = field(default_factory=ConversationRules)
    classifier: ClassifierRules = field(default_factory=ClassifierRules)
    languages: LanguageRules = field(default_factory=LanguageRules)
    soft: SoftRules = field(default_factory=SoftRules)

    def sets_for(self, source_kind: str) -> tuple[str, ...]:
        return tuple(getattr(self.apply, source_kind, ()))

    def rule_set(self, name: str) -> Any:
        return getattr(self, name)


SET_NAMES: tuple[str, ...] = tuple(
    f.name for f in dataclasses.fields(QualityRules) if f.name not in ("apply", "languages", "soft")
)


def load_stage_rules(path: str | Path) -> QualityRules:
    """Load quality.yaml, resolving ``<set>: <file>.yaml`` includes relative to its folder."""
    p = Path(path)
    data = load_yaml(p)
    if not isinstance(data, Mapping):
        raise ConfigError(p, None, "expected a mapping at the top level")
    allowed = {f.name: f for f in dataclasses.fields(QualityRules)}
    unknown = sorted(set(map(str, data)) - set(allowed))
    if unknown:
        raise ConfigError(p, unknown[0], f"unknown key; allowed keys: {', '.join(sorted(allowed))}")
    kwargs: dict[str, Any] = {}
    for name, value in data.items():
        cls = allowed[name].default_factory  # type: ignore[misc]
        if isinstance(value, str) and name != "apply":
            inc = p.parent / value
            sub = load_yaml(inc)
            kwargs[name] = from_mapping(cls, sub, file=inc, key="")
        else:
            kwargs[name] = from_mapping(cls, value, file=p, key=name)
    if "languages" in kwargs:
        kwargs["languages"] = with_stop_words(kwargs["languages"], p)
    return QualityRules(**kwargs)


def with_stop_words(lr: LanguageRules, file: Path) -> LanguageRules:
    """Resolve ``stop_words: spacy`` into lists for every language of ``params`` (at load time)."""
    if not lr.enabled or lr.stop_words != "spacy":
        return lr
    from curation.stopwords import spacy_stop_words

    lists = dict(lr.stop_word_lists)
    for lang in lr.params:
        if lang not in lists:
            words = spacy_stop_words(lang)
            if words:
                lists[lang] = words
    return dataclasses.replace(lr, stop_word_lists=lists)
