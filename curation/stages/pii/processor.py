"""The PII DocProcessor: detect (batched, chunked, pre-checked), score density, decide, replace.

Score first, decide second: every document gets ``pii.count.<ENTITY>`` (non-zero counts only),
``pii.count_total``, ``pii.chars`` (characters analysed) and ``pii.ner`` (whether NER ran) signals; the
rule :func:`decide` turns them into reject reasons, so the report's what-if can replay it. Kept documents
carry the scrubbed text; conversations are scrubbed message by message and ``text`` is re-rendered with
:func:`curation.document.render_messages`. A reject keeps the stage's input text (the rejects table is the
audit trail; the report shows snippets through :func:`curation.stages.pii.scrub_snippet`).

Cost: per-document time of the pattern recognizers and of NER is attached as transient signals
``pii._pattern_ms`` / ``pii._ner_ms``; :class:`curation.stages.pii.PiiStage` strips them from the
documents (output stays deterministic) and sums them into the stage's ``cost`` stats.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from curation.document import Document, SignalValue, render_messages
from curation.stage import DocProcessor, Outcome
from curation.stages.pii.rules import PiiRules

if TYPE_CHECKING:  # presidio is imported in setup(), on the worker, not when the pipeline is built
    from presidio_analyzer import RecognizerResult

    from curation.stages.pii.anonymize import Anonymizer
    from curation.stages.pii.engine import PiiAnalyzer

STAGE = "pii"
REASON_DENSITY = "pii_density"
REASON_ERROR = "pii_error"
TRANSIENT_PREFIX = f"{STAGE}._"


def decide(signals: Mapping[str, SignalValue], rules: PiiRules, source_kind: str = "") -> tuple[str, ...]:
    """Reject reasons from stored signals: drop-mode entities denser than ``density.max_per_1k_chars``."""
    drop_entities = sorted(e for e, r in rules.entities.items() if r.mode == "drop")
    drop = sum(int(signals.get(f"{STAGE}.count.{e}") or 0) for e in drop_entities)
    chars = max(1, int(signals.get(f"{STAGE}.chars") or 0))
    if drop >= max(1, rules.density.min_count) and drop * 1000.0 / chars > rules.density.max_per_1k_chars:
        return (REASON_DENSITY,)
    return ()


class PiiProcessor(DocProcessor):
    """Scrubs PII and secrets; models (presidio engines, spaCy) are built in :meth:`setup`."""

    stage = STAGE

    def __init__(self, rules: PiiRules) -> None:
        self.rules = rules
        self._analyzer: PiiAnalyzer | None = None
        self._anonymizer: Anonymizer | None = None

    def __getstate__(self) -> dict:
        return {"rules": self.rules, "_analyzer": None, "_anonymizer": None}

    def setup(self) -> None:
        if self._analyzer is None:
            from curation.stages.pii.anonymize import Anonymizer
            from curation.stages.pii.engine import PiiAnalyzer

            self._analyzer = PiiAnalyzer(self.rules)
            self._anonymizer = Anonymizer(self.rules)

    def _units(self, doc: Document) -> list[str]:
        if doc.messages is not None and self.rules.scrub_messages:
            return [content for _role, content in doc.messages]
        return [doc.text]

    def process(self, doc: Document) -> Outcome:
        return self.process_batch([doc])[0]

    def process_batch(self, docs: Sequence[Document]) -> list[Outcome]:
        self.setup()
        try:
            return self._process_all(docs)
        except Exception:  # one bad document must not lose the batch: retry one by one
            if len(docs) == 1:
                raise
            out: list[Outcome] = []
            for d in docs:
                try:
                    out.extend(self._process_all([d]))
                except Exception as exc:
                    rej = self.reject(d, REASON_ERROR)
                    out.append(dataclasses.replace(rej, error=f"{type(exc).__name__}: {exc}"[:1000]))
            return out

    def _process_all(self, docs: Sequence[Document]) -> list[Outcome]:
        assert self._analyzer is not None and self._anonymizer is not None
        units: list[str] = []
        owners: list[int] = []
        for i, d in enumerate(docs):
            for u in self._units(d):
                units.append(u)
                owners.append(i)
        doc_flags = self._ner_doc_flags(docs)
        flags = [doc_flags[i] for i in owners]
        results, pattern_s, ner_s = self._analyzer.analyze_many(units, flags)
        per_doc: list[list[tuple[str, list[RecognizerResult]]]] = [[] for _ in docs]
        cost = [[0.0, 0.0] for _ in docs]
        for u, owner, res, ps, ns in zip(units, owners, results, pattern_s, ner_s, strict=True):
            per_doc[owner].append((u, res))
            cost[owner][0] += ps
            cost[owner][1] += ns
        return [self._finish(d, parts, flags_doc, c)
                for d, parts, flags_doc, c in zip(docs, per_doc, doc_flags, cost, strict=True)]

    def _ner_doc_flags(self, docs: Sequence[Document]) -> list[bool]:
        """NER runs on the configured source kinds, in the model's languages (or before language ID)."""
        ner = self.rules.ner
        return [self.rules.ner_on and d.source_kind in ner.source_kinds
                and (d.lang is None or d.lang in ner.languages) for d in docs]

    def _finish(self, doc: Document, parts: list[tuple[str, list[RecognizerResult]]], ner: bool,
                cost: list[float]) -> Outcome:
        assert self._anonymizer is not None
        counts: dict[str, int] = {}
        for _u, res in parts:
            for r in res:
                counts[r.entity_type] = counts.get(r.entity_type, 0) + 1
        signals: dict[str, SignalValue] = {f"{STAGE}.count.{e}": n for e, n in sorted(counts.items())}
        signals[f"{STAGE}.count_total"] = sum(counts.values())
        signals[f"{STAGE}.chars"] = sum(len(u) for u, _ in parts)
        signals[f"{STAGE}.ner"] = ner
        signals[f"{TRANSIENT_PREFIX}pattern_ms"] = round(cost[0] * 1000, 3)
        signals[f"{TRANSIENT_PREFIX}ner_ms"] = round(cost[1] * 1000, 3)
        reasons = decide(signals, self.rules, doc.source_kind)
        if reasons:
            return self.reject(doc.with_signals(signals), reasons[0], reasons)
        if not counts:
            return doc.with_signals(signals)
        scrubbed = [self._anonymizer.apply(u, res) for u, res in parts]
        if doc.messages is not None and self.rules.scrub_messages:
            messages = tuple((role, s) for (role, _c), s in zip(doc.messages, scrubbed, strict=True))
            return doc.with_signals(signals, messages=messages, text=render_messages(messages))
        return doc.with_signals(signals, text=scrubbed[0])
