"""Mask offensive words in the report's reject examples (on by default; ``curate report --show-offensive``).

The words are the toxicity stage's own lexicon (``embedded.lexicon.strong`` and ``.mild`` per language in
the rules file the run used, loaded with :func:`curation.stages.toxicity.config.load_toxicity_rules`) and
are matched with that stage's whole-word matcher (:class:`curation.stages.toxicity.terms.TermMatcher`),
so the report masks exactly what the stage counts. A language's list applies only to examples of that
language (no English list on other languages); examples of a language without a list stay unmasked.
A masked word keeps its first letter: ``f***``. When the toxicity stage cannot be imported or its rules
cannot be read, masking is off and the report says so.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Masker:
    """Per-language matchers built once from the lexicon; :meth:`mask` is cheap per snippet."""

    matchers: dict[str, Any] = field(default_factory=dict)
    masked: int = 0  # words masked so far (for the report's note)

    def mask(self, text: str, lang: str | None) -> str:
        m = self.matchers.get((lang or "").split("_")[0].lower())
        if m is None or not text:
            return text
        hits = m.find(text)
        if not hits:
            return text
        out, last = [], 0
        for h in hits:
            word = text[h.start : h.end]
            out += [text[last : h.start], _star(word)]
            last = h.end
            self.masked += 1
        out.append(text[last:])
        return "".join(out)


def _star(span: str) -> str:
    """Keep the first letter of every word of ``span``, star the other letters: ``k*** y*******``."""
    out, start = [], True
    for ch in span:
        if ch.isalnum():
            out.append(ch if start else "*")
            start = False
        else:
            out.append(ch)
            start = True
    return "".join(out)


def build_masker(lexicon: Any, matcher_cls: Callable[..., Any]) -> Masker:
    """A :class:`Masker` from a toxicity ``Lexicon`` (``strong``/``mild``: language -> terms)."""
    strong: Mapping[str, Any] = getattr(lexicon, "strong", {}) or {}
    mild: Mapping[str, Any] = getattr(lexicon, "mild", {}) or {}
    matchers = {}
    for lang in sorted(set(strong) | set(mild)):
        m = matcher_cls.build({"strong": tuple(strong.get(lang, ())), "mild": tuple(mild.get(lang, ()))})
        if m:
            matchers[lang] = m
    return Masker(matchers)


def load_masker(rules_path: Path | None) -> tuple[Masker | None, str]:
    """The masker for the run's toxicity rules, or ``(None, why not)``."""
    try:
        config = importlib.import_module("curation.stages.toxicity.config")
        terms = importlib.import_module("curation.stages.toxicity.terms")
    except ImportError as exc:
        return None, f"the toxicity stage is not importable ({exc})"
    if rules_path is None or not Path(rules_path).is_file():
        return None, "no toxicity rules file found for this run"
    try:
        rules = config.load_toxicity_rules(rules_path)
        lexicon = rules.embedded.lexicon
    except Exception as exc:  # a broken or changed rules file must not break the report
        return None, f"the toxicity rules could not be read ({type(exc).__name__}: {exc})"
    return build_masker(lexicon, terms.TermMatcher), ""
