"""The quality stage: score every applicable rule set (signals), optionally clean lines, then decide.

Per document: C4 line cleaning first (web by default; it changes the text, and the framework recounts
tokens), then the signals of every set that ``rules/quality/quality.yaml`` applies to the document's
source kind, computed on the cleaned text, then a fastText classifier score (batched), then
``quality.score`` and :func:`~curation.stages.quality.decide.decide`. A rejected document lists every
failing rule (``quality:<set>.<rule>``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from curation.config import PipelineConfig, StageSpec
from curation.document import Document, SignalValue
from curation.rules import ConfigError
from curation.stage import DocProcessor, MapStage, Outcome
from curation.stages.langid.stage import batch_size_option
from curation.stages.quality.c4 import c4_signals, clean_lines
from curation.stages.quality.classifier import FastTextScorer, Preprocess, resolve_model_path
from curation.stages.quality.code import code_signals, conversation_signals
from curation.stages.quality.decide import (
    PREFIX,
    DecisionPlan,
    decide_planned,
    decision_plan,
    signal_key,
    signal_lang,
)
from curation.stages.quality.prose import book_signals, fineweb_signals, gopher_signals, repetition_signals
from curation.stages.quality.rules import QualityRules, load_stage_rules
from curation.stages.quality.textstats import TextStats, ratio
from curation.stages.quality.view import ProseView, prose_view

STAGE = "quality"
FETCH_COMMAND = (
    "make install  (or: .venv/bin/python scripts/train_quality_model.py --out models/quality_default.bin)"
)

Signals = dict[str, SignalValue]


def score_document(
    doc: Document, rules: QualityRules, skipped: tuple[str, ...] | None = None
) -> tuple[str, Signals]:
    """The (possibly line-cleaned) text of ``doc`` and the signals of every heuristic set applied to it.

    Sets with ``scope: prose`` score the prose view of the cleaned text (:mod:`.view`), sets with
    ``scope: page`` the whole cleaned text. ``quality.lang`` records the language whose per-language
    thresholds apply (``und`` before language ID) and ``quality.lang_rules`` whether that language is
    calibrated (``calibrated`` | ``independent_only`` | ``published``: every threshold for every language).
    ``skipped``: :func:`skipped_rules` of the document's kind and language when the caller has it.
    """
    sets = rules.sets_for(doc.source_kind)
    text = doc.text
    signals: Signals = {}
    lang = doc.lang or "und"
    lr = rules.languages
    signals[f"{PREFIX}.lang"] = lang
    if not lr.enabled:
        signals[f"{PREFIX}.lang_rules"] = "published"
    else:
        signals[f"{PREFIX}.lang_rules"] = "calibrated" if lang in lr.params else "independent_only"
    views: dict[str, TextStats] = {}
    prose: list[ProseView] = []

    def stats_for(scope: str, current: str) -> TextStats:
        if scope not in views:
            if scope == "prose":
                pv = prose_view(current)
                prose.append(pv)
                views[scope] = TextStats(pv.text)
            else:
                views[scope] = TextStats(current)
        return views[scope]

    if "c4" in sets:
        c4r = rules.c4 if doc.messages is None else _no_clean(rules)
        clean = clean_lines(text, c4r, lang)
        text = clean.text
        judged = stats_for(rules.c4.scope, text).text
        for k, v in c4_signals(clean.text, clean, len(doc.text), judged).items():
            signals[signal_key("c4", k)] = v
    cleaned = doc if text == doc.text else doc.evolve(text=text)
    stop_words = lr.stop_word_lists.get(lang) if lr.enabled else None
    for name in sets:
        if name == "gopher":
            sw = stop_words if lr.enabled else frozenset(w.lower() for w in rules.gopher.stop_words)
            part = gopher_signals(stats_for(rules.gopher.scope, text), rules.gopher, sw)
        elif name == "repetition":
            part = repetition_signals(stats_for(rules.repetition.scope, text))
        elif name == "fineweb":
            part = fineweb_signals(stats_for(rules.fineweb.scope, text), rules.fineweb)
        elif name == "book":
            sw = stop_words if lr.enabled else frozenset(w.lower() for w in rules.book.stop_words)
            part = book_signals(stats_for("page", text), rules.book, sw)
        elif name == "code":
            part = code_signals(cleaned, rules.code)
        elif name == "conversation":
            part = conversation_signals(cleaned, rules.conversation.min_repeat_words)
        else:  # c4 (done above) and classifier (batched, see QualityProcessor)
            continue
        for k, v in part.items():
            signals[signal_key(name, k)] = v
    if prose:
        pv = prose[0]
        signals[f"{PREFIX}.view.lines"] = pv.lines
        signals[f"{PREFIX}.view.prose_lines"] = pv.prose_lines
        signals[f"{PREFIX}.view.code_lines"] = pv.code_lines
        signals[f"{PREFIX}.view.table_lines"] = pv.table_lines
        signals[f"{PREFIX}.view.link_lines"] = pv.link_lines
        signals[f"{PREFIX}.view.label_lines"] = pv.label_lines
        signals[f"{PREFIX}.view.prose_char_share"] = ratio(len(pv.text), len(text))
    if skipped is None:
        skipped = skipped_rules(rules, doc.source_kind, lang)
    if skipped:
        signals[f"{PREFIX}.skipped_rules"] = list(skipped)
    return text, signals


def _no_clean(rules: QualityRules) -> Any:
    import dataclasses

    return dataclasses.replace(rules.c4, clean_lines=False)


def skipped_rules(rules: QualityRules, source_kind: str, lang: str) -> tuple[str, ...]:
    """Language-dependent rules (``<set>.<key>``) calibrated for some language but not for ``lang``."""
    lr = rules.languages
    if not lr.enabled:
        return ()
    out = []
    for name in rules.sets_for(source_kind):
        rs = rules.rule_set(name)
        for key in getattr(rs, "PER_LANGUAGE", ()):
            used = any(key in sets.get(name, {}) for sets in lr.params.values())
            if used and key in rs.CHECKS and lr.threshold(lang, name, key) is None:
                out.append(f"{name}.{key}")
    return tuple(sorted(out))


# (signal, transform) pairs averaged into the heuristic quality.score; each term is in [0, 1].
_HEURISTIC_TERMS: tuple[tuple[str, str], ...] = (
    ("gopher.alpha_words_ratio", "id"),
    ("book.alpha_words_ratio", "id"),
    ("repetition.dup_5gram_char_ratio", "inv"),
    ("book.dup_10gram_char_ratio", "inv"),
    ("fineweb.line_punct_ratio", "id"),
    ("fineweb.char_dup_ratio", "inv"),
    ("code.alnum_fraction", "id"),
    ("code.data_token_fraction", "inv"),
    ("conversation.repeated_turn_ratio", "inv"),
    ("conversation.empty_turn_ratio", "inv"),
)


def heuristic_score(signals: Signals) -> float:
    """A coarse [0, 1] score from heuristic signals (higher = better), used when no classifier scored.

    Mean of: share of alphabetic words, 1 - repeated 5-gram (books: 10-gram) character share, share of
    lines ending in punctuation, 1 - duplicated-line characters; code: alphanumeric share, 1 - numeric
    token share; conversations: 1 - repeated and empty turn shares. A tie-breaker (e.g. for the dedup keep
    rule), not a calibrated quality estimate.
    """
    terms = []
    for key, how in _HEURISTIC_TERMS:
        v = signals.get(f"{PREFIX}.{key}")
        if isinstance(v, int | float) and not isinstance(v, bool):
            x = min(1.0, max(0.0, float(v)))
            terms.append(x if how == "id" else 1.0 - x)
    return round(sum(terms) / len(terms), 6) if terms else 0.0


class QualityProcessor(DocProcessor):
    """Heuristic rule sets plus an optional fastText classifier (loaded once per worker in setup)."""

    stage = STAGE

    def __init__(self, rules: QualityRules, model_path: Path | None) -> None:
        self.rules = rules
        self.model_path = model_path
        self._scorer: FastTextScorer | None = None
        # (source kind, language) -> (skipped rules, decision plan): functions of the rules only, made on
        # first use in each worker (a handful of keys), so documents do not redo them.
        self._plans: dict[tuple[str, str | None], tuple[tuple[str, ...], DecisionPlan]] = {}

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_scorer"] = None
        state["_plans"] = {}
        return state

    def _plan(self, source_kind: str, lang: str | None) -> tuple[tuple[str, ...], DecisionPlan]:
        """The skipped rules (for ``lang or "und"``) and the decision plan of a kind and language."""
        key = (source_kind, lang)
        plan = self._plans.get(key)
        if plan is None:
            skipped = skipped_rules(self.rules, source_kind, lang or "und")
            plan = self._plans[key] = (skipped, decision_plan(self.rules, source_kind, lang or "und"))
        return plan

    def setup(self) -> None:
        if self._scorer is None and self.model_path is not None and self.model_path.is_file():
            c = self.rules.classifier
            opts = Preprocess(c.lowercase, c.split_punctuation, c.max_chars)
            self._scorer = FastTextScorer(self.model_path, c.label, opts)

    def process_batch(self, docs: Sequence[Document]) -> list[Outcome]:
        scored = [score_document(d, self.rules, self._plan(d.source_kind, d.lang)[0]) for d in docs]
        wants = [i for i, d in enumerate(docs) if "classifier" in self.rules.sets_for(d.source_kind)]
        status = "disabled" if self.model_path is None else ("scored" if self._scorer else "missing_model")
        if self._scorer is not None and wants:
            bs = self.rules.classifier.batch_size
            for start in range(0, len(wants), bs):
                chunk = wants[start : start + bs]
                for i, s in zip(chunk, self._scorer.score([scored[j][0] for j in chunk]), strict=True):
                    scored[i][1][signal_key("classifier", "score")] = s
        for i in wants:
            scored[i][1][signal_key("classifier", "status")] = status
        out: list[Outcome] = []
        for doc, (text, signals) in zip(docs, scored, strict=True):
            cls_score = signals.get(signal_key("classifier", "score"))
            if isinstance(cls_score, float):
                signals[f"{PREFIX}.score"] = cls_score
                signals[f"{PREFIX}.score_source"] = "classifier"
            else:
                signals[f"{PREFIX}.score"] = heuristic_score(signals)
                signals[f"{PREFIX}.score_source"] = "heuristic"
            scored_doc = doc.with_signals(signals)
            lang = signal_lang(scored_doc.signals)
            plan = self._plan(doc.source_kind, doc.lang)[1]
            if lang != (doc.lang or "und"):  # a signal from an earlier stage: as decide() would read it
                plan = decision_plan(self.rules, doc.source_kind, lang)
            reasons = decide_planned(scored_doc.signals, plan, self.rules, lang)
            if reasons:  # the reject keeps the original text (what was dropped), with all signals
                out.append(self.reject(scored_doc, reasons[0], reasons))
            else:
                out.append(scored_doc.evolve(text=text) if text != doc.text else scored_doc)
        return out

    def process(self, doc: Document) -> Outcome:
        return self.process_batch([doc])[0]


def classifier_model_path(rules: QualityRules, models_dir: Path, rules_file: Path) -> Path | None:
    """The classifier model to load (``None``: not configured); a missing required model fails here."""
    c = rules.classifier
    used = any("classifier" in rules.sets_for(k) for k in ("web", "book", "code", "conversation"))
    if c.model is None or not used:
        return None
    path = resolve_model_path(c.model, models_dir)
    if c.required and not path.is_file():
        msg = f"quality model file not found: {path}; create it with: {FETCH_COMMAND}"
        raise ConfigError(rules_file, "classifier.model", msg)
    return path


def build_stage(spec: StageSpec, cfg: PipelineConfig) -> MapStage:
    """Parse rules/quality (failing now on bad keys or types) and build the per-document stage."""
    path = cfg.rules_path(spec)
    rules = load_stage_rules(path)
    batch_size = batch_size_option(spec, cfg, default=rules.classifier.batch_size)
    processor = QualityProcessor(rules, classifier_model_path(rules, cfg.models_path, path))
    return MapStage(processor, batch_size=batch_size, tokenizer=cfg.tokenizer)
