"""Language-ID rules (rules/langid.yaml) as frozen dataclasses, and the what-if decision function.

The decision reads only stored signals (``langid.lang``, ``langid.score``, ``langid.chars``,
``langid.shares``), so ``curate report --what-if 'langid.web.min_score=0.8'`` can recompute it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from curation.document import SignalValue
from curation.rules import load_rules

STAGE = "langid"


@dataclass(frozen=True)
class SourceLangRules:
    """Language policy of one source kind."""

    text: Literal["body", "comments", "none"] = "body"  # what is identified (code: comments only)
    allowed: tuple[str, ...] = ()  # ISO 639-1 codes; empty = every language
    min_score: float = 0.0  # fastText probability of the top language
    min_chars: int = 0  # texts with fewer analysed characters are not filtered (too short to tell)
    min_allowed_share: float = 0.0  # long documents: char share of paragraphs in allowed languages

    def __post_init__(self) -> None:
        if not 0.0 <= self.min_score <= 1.0 or not 0.0 <= self.min_allowed_share <= 1.0:
            raise ValueError("min_score and min_allowed_share must be within [0, 1]")


@dataclass(frozen=True)
class ParagraphRules:
    """Per-paragraph identification of long documents (shares of each language)."""

    min_doc_chars: int = 2000  # documents at least this long are analysed per paragraph
    min_paragraph_chars: int = 100  # shorter paragraphs are merged with the next one
    max_paragraphs: int = 12  # at most this many paragraphs, spread evenly over the document
    max_paragraph_chars: int = 400  # each paragraph is truncated to this many characters
    mixed_min_share: float = 0.2  # langid.mixed when a second language has at least this share


@dataclass(frozen=True)
class LangIdRules:
    model: str = "lid.176.ftz"  # relative to the models folder, or absolute
    max_chars: int = 2000  # the document-level prediction reads at most this many characters
    label_map: dict[str, str] = field(default_factory=dict)  # model label -> reported code
    paragraphs: ParagraphRules = field(default_factory=ParagraphRules)
    web: SourceLangRules = field(default_factory=SourceLangRules)
    book: SourceLangRules = field(default_factory=SourceLangRules)
    code: SourceLangRules = field(default_factory=lambda: SourceLangRules(text="comments"))
    conversation: SourceLangRules = field(default_factory=SourceLangRules)

    def for_kind(self, source_kind: str) -> SourceLangRules:
        return getattr(self, source_kind, None) or SourceLangRules()

    def __post_init__(self) -> None:
        if self.max_chars < 1:
            raise ValueError("max_chars must be >= 1")


def load_stage_rules(path: str | Path) -> LangIdRules:
    return load_rules(path, LangIdRules)


def parse_shares(value: SignalValue) -> dict[str, float]:
    """``["en:0.8", "fr:0.2"]`` -> ``{"en": 0.8, "fr": 0.2}`` (malformed items are ignored)."""
    out: dict[str, float] = {}
    if isinstance(value, list):
        for item in value:
            lang, _, share = str(item).partition(":")
            try:
                out[lang] = float(share)
            except ValueError:
                continue
    return out


def decide(signals: Mapping[str, SignalValue], rules: LangIdRules, source_kind: str) -> tuple[str, ...]:
    """Reasons to drop a document given its stored language-ID signals (empty = keep).

    ``lang:<code>`` (language not allowed), ``lang_score_low`` (top probability below ``min_score``),
    ``lang_mixed`` (share of allowed languages below ``min_allowed_share``).
    """
    r = rules.for_kind(source_kind)
    if r.text == "none" or signals.get(f"{STAGE}.basis") == "none":
        return ()
    chars = signals.get(f"{STAGE}.chars")
    if isinstance(chars, int) and chars < r.min_chars:
        return ()
    lang = signals.get(f"{STAGE}.lang")
    score = signals.get(f"{STAGE}.score")
    reasons: list[str] = []
    if r.allowed and isinstance(lang, str) and lang not in r.allowed:
        reasons.append(f"lang:{lang}")
    if isinstance(score, int | float) and score < r.min_score:
        reasons.append("lang_score_low")
    if r.allowed and r.min_allowed_share > 0:
        shares = parse_shares(signals.get(f"{STAGE}.shares"))
        if shares and sum(v for k, v in shares.items() if k in r.allowed) < r.min_allowed_share:
            reasons.append("lang_mixed")
    return tuple(reasons)
