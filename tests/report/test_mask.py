"""Masking offensive words in reject examples: on by default, per language, off with --show-offensive."""

from __future__ import annotations

from pathlib import Path

from curation.report.mask import build_masker, load_masker
from curation.rules import RULES_DIR
from curation.stages.toxicity.terms import TermMatcher


class _Lex:
    def __init__(self) -> None:
        self.strong = {"en": ("fuck*", "kill yourself")}
        self.mild = {"en": ("shit",), "de": ("scheiße",)}


def test_masks_words_of_the_examples_language_only() -> None:
    m = build_masker(_Lex(), TermMatcher)
    assert m.mask("What the fucking hell, shit happens", "en") == "What the f****** hell, s*** happens"
    assert m.mask("Please kill yourself now", "en") == "Please k*** y******* now"
    # English list is not applied to German text; German list is
    assert m.mask("fucking Scheiße", "de") == "fucking S******"
    assert m.mask("A shitake mushroom in Scunthorpe", "en") == "A shitake mushroom in Scunthorpe"
    assert m.mask("shit", "und") == "shit"  # no list for this language: unchanged
    assert m.masked == 4


def test_load_masker_uses_the_toxicity_rules_and_reports_missing_rules(tmp_path: Path) -> None:
    m, why = load_masker(RULES_DIR / "toxicity.yaml")
    assert m is not None and why == "" and "en" in m.matchers
    none, why = load_masker(tmp_path / "missing.yaml")
    assert none is None and "no toxicity rules" in why
