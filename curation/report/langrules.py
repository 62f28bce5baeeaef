"""Which quality rules ran for which language: the per-language coverage table of the report.

The quality stage records on every document it judged ``quality.lang`` (the language whose thresholds
applied), ``quality.lang_rules`` (``calibrated``: thresholds of that language from
``rules/quality/languages.yaml``; ``independent_only``: no calibrated thresholds, so only the
language-independent rules ran; ``published``: the published English-tuned variant was configured) and
``quality.skipped_rules`` (language-dependent rules that did not run). This module counts them over kept
and rejected documents, so a reader sees that no language was judged by another language's lists.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import Any

from curation.report.model import Para, Section, Table

_LANG = "quality.lang"
_MODE = "quality.lang_rules"
_SKIPPED = "quality.skipped_rules"


def coverage(signals: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per language: documents judged, per rule mode, kept or rejected at quality, skipped rules (pure)."""
    out: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"docs": 0, "modes": Counter(), "skipped": Counter()}
    )
    for s in signals:
        lang = s.get(_LANG)
        if lang is None:
            continue
        row = out[str(lang)]
        row["docs"] += 1
        row["modes"][str(s.get(_MODE, "unknown"))] += 1
        for rule in s.get(_SKIPPED) or ():
            row["skipped"][str(rule)] += 1
    return dict(out)


def langrules_section(signals: Iterable[dict[str, Any]]) -> Section | None:
    """The "Quality rules per language" section, or None when the quality stage did not run."""
    cov = coverage(signals)
    if not cov:
        return None
    rows = []
    for lang, row in sorted(cov.items(), key=lambda kv: (-kv[1]["docs"], kv[0])):
        modes = ", ".join(f"{m} {n}" for m, n in sorted(row["modes"].items()))
        skipped = ", ".join(f"{r} ({n})" for r, n in row["skipped"].most_common()) or "none"
        rows.append((lang, str(row["docs"]), modes, skipped))
    sec = Section("quality-languages", "Quality rules per language")
    sec.add(
        Para(
            "Each language is judged with its own thresholds (calibrated) or, where none are calibrated, "
            "with the language-independent rules only; English lists never run on other languages. "
            "Counts are documents the quality stage judged (kept or rejected there or later)."
        ),
        Table(
            ("language", "documents", "rules applied", "language-dependent rules skipped"),
            tuple(rows),
            numeric=(False, True, False, False),
        ),
    )
    return sec


__all__ = ["coverage", "langrules_section"]
