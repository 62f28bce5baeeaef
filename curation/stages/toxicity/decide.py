"""Decide second: rules turn the stored toxicity signals into drop / remove spans / tag.

:func:`decide` is pure and reads only signals, so ``curate report --what-if`` can re-run the
document-level decisions with other thresholds (the what-if protocol of curation/stages/registry.py).
Span removal and tagging happen in :class:`ToxicityDecider` for kept documents.

Drop reasons (primary first):

* ``toxicity:<score>``: document-level score >= ``document.drop_threshold``. For the source kinds in
  ``document.after_span_removal`` (default: conversation), when the backend gives ``<score>.kept``
  (embedded ``combined``: the score of the text left once toxic spans are removed), that one: a
  conversation is a sequence of separate turns, so one whose toxic turns the stage removes anyway is
  edited rather than dropped, while a web page, a book passage or a joke is one piece of writing,
  judged whole (a short one with a slur is dropped, as C4's blocklist drops any such page);
* ``toxicity:<score>.max``: worst window >= ``document.max_threshold``;
* ``toxicity:toxic_fraction``: share of the text's characters in toxic spans >=
  ``document.toxic_fraction_threshold``;
* ``toxicity:identity_attack``: detoxify's worst ``identity_attack`` window >=
  ``bias.identity_attack_threshold``;
* ``toxicity:identity_toxic_cooccurrence``: share of the text in toxic spans that mention an identity
  term (pronouns excluded) >= ``bias.identity_toxic_fraction_threshold``;
* ``toxicity:empty_after_span_removal``: nothing left once the toxic spans are removed.

The two bias reasons drop only when ``bias.action`` is ``drop``; with ``flag`` they become the signal
``toxicity.bias_flags`` and the document is kept.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from curation.document import Document
from curation.stage import DocProcessor, Outcome
from curation.stages.toxicity.config import ToxicityRules, primary_score, span_action
from curation.stages.toxicity.windows import decode_spans, remove_spans

STAGE = "toxicity"


def _num(signals: Mapping[str, Any], key: str) -> float | None:
    v = signals.get(key)
    return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None


def _at_least(value: float | None, threshold: float | None) -> bool:
    return value is not None and threshold is not None and value >= threshold


def bias_reasons(signals: Mapping[str, Any], rules: ToxicityRules) -> tuple[str, ...]:
    """Bias-filter reasons (independent of ``bias.action``)."""
    b = rules.bias
    out = []
    if _at_least(_num(signals, f"{STAGE}.identity_attack.max"), b.identity_attack_threshold):
        out.append(f"{STAGE}:identity_attack")
    if _at_least(_num(signals, f"{STAGE}.identity_toxic_fraction"), b.identity_toxic_fraction_threshold):
        out.append(f"{STAGE}:identity_toxic_cooccurrence")
    return tuple(out)


def decide(signals: Mapping[str, Any], rules: ToxicityRules, source_kind: str) -> tuple[str, ...]:
    """Reasons that reject a document given its stored toxicity signals (empty = keep)."""
    d = rules.document
    reasons: list[str] = []
    scored = _num(signals, f"{STAGE}.scored_chars") or 0.0
    score = primary_score(rules)
    if scored >= d.min_scored_chars:
        # the embedded backend also scores what is left once toxic spans are removed: for the kinds in
        # document.after_span_removal (conversation turns) the drop rule reads that
        kept = _num(signals, f"{STAGE}.{score}.kept") if source_kind in d.after_span_removal else None
        if _at_least(kept if kept is not None else _num(signals, f"{STAGE}.{score}"), d.drop_threshold):
            reasons.append(f"{STAGE}:{score}")
        if _at_least(_num(signals, f"{STAGE}.{score}.max"), d.max_threshold):
            reasons.append(f"{STAGE}:{score}.max")
        if _at_least(_num(signals, f"{STAGE}.toxic_fraction"), d.toxic_fraction_threshold):
            reasons.append(f"{STAGE}:toxic_fraction")
    if rules.bias.action == "drop":
        reasons.extend(bias_reasons(signals, rules))
    return tuple(reasons)


class ToxicityDecider(DocProcessor):
    """Applies :func:`decide`, then removes or tags toxic spans of kept documents (no model needed)."""

    stage = STAGE

    def __init__(self, rules: ToxicityRules) -> None:
        self.rules = rules

    def process(self, doc: Document) -> Outcome:
        reasons = decide(doc.signals, self.rules, doc.source_kind)
        if reasons:
            return self.reject(doc, reasons[0], reasons)
        extra: dict[str, Any] = {}
        if self.rules.bias.action == "flag":
            extra[f"{STAGE}.bias_flags"] = list(bias_reasons(doc.signals, self.rules))
        spans = decode_spans(doc.signals.get(f"{STAGE}.toxic_spans"))  # type: ignore[arg-type]
        action = span_action(self.rules, doc.source_kind)
        if not spans or action == "tag":
            extra[f"{STAGE}.spans_removed"] = 0
            return doc.with_signals(extra)
        text, messages = remove_spans(doc, spans)
        extra[f"{STAGE}.spans_removed"] = len(spans)
        extra[f"{STAGE}.chars_removed"] = len(doc.text) - len(text)
        out = doc.with_signals(extra, text=text, messages=messages)
        if not text.strip():
            return self.reject(out, f"{STAGE}:empty_after_span_removal")
        return out


class ToxicityProcessor(DocProcessor):
    """Score + decide in one processor (for :func:`curation.stage.run_processor`, tests, benchmarks).

    The Beam stage runs the two halves as separate steps so the bias statistics can leave the scorer.
    """

    stage = STAGE

    def __init__(self, scorer: Any, rules: ToxicityRules) -> None:
        self.scorer = scorer
        self.decider = ToxicityDecider(rules)
        self.last_bias: dict[str, Any] = {}

    def setup(self) -> None:
        self.scorer.setup()

    def process_batch(self, docs: Sequence[Document]) -> list[Outcome]:
        scored, partial = self.scorer.score_batch(docs)
        self.last_bias = partial
        return [self.decider.process(d) for d in scored]
