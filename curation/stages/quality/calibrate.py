"""Calibrate per-language thresholds on a reference corpus of good text (``curate quality calibrate``).

Method (FineWeb-2, Penedo et al. 2025, "FineWeb2: One Pipeline to Scale Them All": per-language filter
thresholds are set from the distribution of each signal on reference text of that language, instead of
reusing the English values). For every language with at least ``min_docs`` reference documents and
every language-dependent rule (``PER_LANGUAGE`` of a set), the signal is computed exactly as the stage
computes it (same segmentation, same prose view, same stop-word list), and the threshold is the quantile
that keeps ``keep_share`` of the reference documents, widened by ``margin`` (relative) so that
near-boundary good documents of another genre are not dropped:

* ``min_*`` rules: ``quantile(1 - keep_share) * (1 - margin)``;
* ``max_*`` rules: ``quantile(keep_share) * (1 + margin)``.

Departures from FineWeb-2, stated: FineWeb-2 chose the quantile per filter by ablation (training small
models), which needs compute we do not have; we keep a fixed, stated share. Languages with too few
reference documents get no entry, so their language-dependent rules are skipped (never English ones).
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import gzip
import json
from collections import defaultdict
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from curation.document import Document
from curation.stages.quality.rules import LanguageRules, QualityRules
from curation.stages.quality.segment import has_unspaced
from curation.stopwords import spacy_stop_words

# (set, threshold key, signal, "min"|"max") calibrated per language.
CALIBRATED: tuple[tuple[str, str, str, str], ...] = (
    ("gopher", "min_stop_word_ratio", "stop_word_ratio", "min"),
    ("gopher", "min_mean_word_length", "mean_word_length", "min"),
    ("gopher", "max_mean_word_length", "mean_word_length", "max"),
    ("book", "min_stop_word_ratio", "stop_word_ratio", "min"),
    ("book", "min_mean_word_length", "mean_word_length", "min"),
    ("book", "max_mean_word_length", "mean_word_length", "max"),
)


def iter_reference(paths: Iterable[Path], text_field: str = "text", lang_field: str = "lang") -> Iterator[
    tuple[str, str]
]:
    """(lang, text) of every JSONL(.gz) record of ``paths`` that has both fields."""
    for p in paths:
        opener = gzip.open if p.suffix == ".gz" else open
        with opener(p, "rt", encoding="utf-8") as fh:  # type: ignore[operator]
            for line in fh:
                if not line.strip():
                    continue
                rec = json.loads(line)
                lang, text = rec.get(lang_field), rec.get(text_field)
                if isinstance(lang, str) and isinstance(text, str) and text.strip():
                    yield lang, text


def windows(text: str, size: int) -> list[str]:
    """Consecutive lines of ``text`` joined into windows of about ``size`` characters (0: whole text)."""
    if size <= 0:
        return [text]
    out, cur, n = [], [], 0
    for line in text.split("\n"):
        cur.append(line)
        n += len(line) + 1
        if n >= size:
            out.append("\n".join(cur))
            cur, n = [], 0
    if n >= size // 2 or not out:
        out.append("\n".join(cur))
    return out


def reference_signals(
    items: Iterable[tuple[str, str]], rules: QualityRules, kind: str = "web", window_chars: int = 1000,
) -> dict[str, dict[str, list[float]]]:
    """lang -> signal key (``<set>.<signal>``) -> values over reference windows of that language.

    Each reference document is cut into windows of about ``window_chars`` characters: a window's
    statistics vary more than a whole page's, so a quantile over windows is a conservative bound for
    documents of other genres (fiction, news) in the same language. Windows whose prose view has fewer
    words than ``gopher.min_words`` (tables, code listings) say nothing about the language's prose and
    are skipped.
    """
    from curation.stages.quality.stage import score_document

    out: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    stop_lists: dict[str, frozenset[str]] = {}
    unspaced: dict[str, list[bool]] = defaultdict(list)
    for lang, text in items:
        unspaced[lang].append(has_unspaced(text[:2000]))
        if lang not in stop_lists:
            stop_lists[lang] = spacy_stop_words(lang)
        lr = dataclasses.replace(
            rules.languages, enabled=True, stop_words="lists",
            stop_word_lists={lang: stop_lists[lang]} if stop_lists[lang] else {},
            params={lang: {}},
        )
        r = dataclasses.replace(rules, languages=lr)
        min_words = rules.gopher.min_words or 1
        for k, win in ((k, w) for w in windows(text, window_chars) for k in (kind, "book")):
            doc = Document(id="ref", source_kind=k, source="reference", text=win, lang=lang)
            _, signals = score_document(doc, r)
            n = signals.get("quality.gopher.word_count", signals.get("quality.book.word_count"))
            if not isinstance(n, int) or n < min_words:
                continue
            for set_name, _key, sig, _op in CALIBRATED:
                v = signals.get(f"quality.{set_name}.{sig}")
                if isinstance(v, int | float) and not isinstance(v, bool):
                    out[lang][f"{set_name}.{sig}"].append(float(v))
    for lang, flags in unspaced.items():
        # word length is not defined for scripts segmented per character (zh, ja, th): not calibrated
        if sum(flags) * 2 > len(flags):
            for set_name in ("gopher", "book"):
                out[lang].pop(f"{set_name}.mean_word_length", None)
    return out


def thresholds(
    values: dict[str, dict[str, list[float]]], keep_share: float, margin: float, min_docs: int,
) -> dict[str, dict[str, dict[str, float]]]:
    """Per-language thresholds from reference signal values (see the module docstring)."""
    params: dict[str, dict[str, dict[str, float]]] = {}
    for lang in sorted(values):
        per: dict[str, dict[str, float]] = {}
        for set_name, key, sig, op in CALIBRATED:
            xs = values[lang].get(f"{set_name}.{sig}", [])
            if len(xs) < min_docs:
                continue
            a = np.asarray(xs, dtype=float)
            if op == "min":
                t = float(np.quantile(a, 1.0 - keep_share)) * (1.0 - margin)
                if t <= 0.0:  # the signal is 0 on good text (e.g. a stop-word list that never matches
                    continue  # the segmentation): a rule that can never fire is not calibrated
            else:
                t = float(np.quantile(a, keep_share)) * (1.0 + margin)
            per.setdefault(set_name, {})[key] = round(t, 4)
        if per:
            params[lang] = per
    return params


def calibrate(
    paths: list[Path], rules: QualityRules, *, keep_share: float = 0.99, margin: float = 0.1,
    min_docs: int = 20, source: str = "", text_field: str = "text", lang_field: str = "lang",
    window_chars: int = 1000,
) -> dict[str, Any]:
    """The content of a ``languages.yaml`` calibrated on ``paths`` (JSONL with ``text`` and ``lang``)."""
    if not 0.5 <= keep_share < 1.0:
        raise ValueError(f"keep_share must be in [0.5, 1), got {keep_share}")
    items = iter_reference(paths, text_field, lang_field)
    values = reference_signals(items, rules, window_chars=window_chars)
    params = thresholds(values, keep_share, margin, min_docs)
    counts = {lang: len(v.get("gopher.stop_word_ratio", [])) for lang, v in sorted(values.items())}
    return {
        "enabled": True,
        "stop_words": "spacy",
        "provenance": {
            "command": "curate quality calibrate",
            "reference": source or ", ".join(str(p) for p in paths),
            "windows_per_language": counts,
            "window_chars": window_chars,
            "keep_share": keep_share,
            "margin": margin,
            "min_docs": min_docs,
            "method": "FineWeb-2 (Penedo et al. 2025): per-language quantile of each signal on "
            "reference text",
            "date": _dt.date.today().isoformat(),
        },
        "params": params,
    }


def write_languages_yaml(content: dict[str, Any], out: Path) -> None:
    """Write the calibrated table with a header comment (the provenance is also inside the data)."""
    header = (
        "# Per-language thresholds of the quality stage, written by `curate quality calibrate`\n"
        "# (curation/stages/quality/calibrate.py). Language-dependent rules (stop words, word length) run\n"
        "# only for the languages listed under params; every other language gets the language-independent\n"
        "# rules only. Re-run the command to recalibrate; see provenance for how these values were made.\n"
    )
    out.write_text(header + yaml.safe_dump(content, sort_keys=False, allow_unicode=True), encoding="utf-8")


def coverage(lr: LanguageRules) -> dict[str, list[str]]:
    """lang -> calibrated ``<set>.<key>`` names (for the report and docs)."""
    return {
        lang: sorted(f"{s}.{k}" for s, keys in sets.items() for k in keys)
        for lang, sets in lr.params.items()
    }
