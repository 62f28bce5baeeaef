"""The PII DocProcessor: detect (chunked, pre-checked), score density, decide, replace.

Score first, decide second: every document gets ``pii.count.<ENTITY>`` (non-zero counts only),
``pii.count_total``, ``pii.chars`` (characters analysed), ``pii.names`` (whether PERSON detection ran) and
``pii.spans`` (every replaced span as ``"TYPE start end"`` in the stage's input ``text``, so users and tests
can audit what was replaced) signals; the rule :func:`decide` turns them into reject reasons, so the
report's what-if can replay it. Kept documents carry the scrubbed text; conversations are scrubbed message
by message (and speaker labels that are names, per ``names.speakers``) and ``text`` is re-rendered with
:func:`curation.document.render_messages`. A reject keeps the stage's input text (the rejects table is the
audit trail; the report shows snippets through :func:`curation.stages.pii.scrub_snippet`).

Cost: per-document CPU time of the pattern recognizers and of PERSON is attached as transient signals
``pii._pattern_ms`` / ``pii._ner_ms``; :class:`curation.stages.pii.PiiStage` strips them from the
documents (output stays deterministic) and sums them into the stage's ``cost`` stats.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from curation.document import Document, SignalValue, render_messages
from curation.stage import DocProcessor, Outcome
from curation.stages.pii.rules import PiiRules

if TYPE_CHECKING:  # recognizers are built in setup(), on the worker, not when the pipeline is built
    from curation.stages.pii.anonymize import Anonymizer
    from curation.stages.pii.engine import PiiAnalyzer
    from curation.stages.pii.spans import Span

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
    """Scrubs PII and secrets; the recognizers are built in :meth:`setup`.

    ``models_dir``: the folder of ``curate models fetch``, whose prebuilt PERSON word tables
    (``pii_names.pickle``, checked against the rules and packages) spare each worker building them; without
    it (or with a stale file) they are built from the packages, the same tables.
    """

    stage = STAGE

    def __init__(self, rules: PiiRules, models_dir: str | None = None) -> None:
        self.rules = rules
        self.models_dir = models_dir
        self._analyzer: PiiAnalyzer | None = None
        self._anonymizer: Anonymizer | None = None

    def __getstate__(self) -> dict:
        return {"rules": self.rules, "models_dir": self.models_dir, "_analyzer": None, "_anonymizer": None}

    def setup(self) -> None:
        if self._analyzer is None:
            from curation.stages.pii.anonymize import Anonymizer
            from curation.stages.pii.engine import PiiAnalyzer
            from curation.stages.pii.gazetteer import ARTEFACT

            tables = Path(self.models_dir) / ARTEFACT if self.models_dir is not None else None
            self._analyzer = PiiAnalyzer(self.rules, tables)
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
        from curation.stages.pii.engine import TextJob

        assert self._analyzer is not None and self._anonymizer is not None
        jobs: list[TextJob] = []
        owners: list[int] = []
        flags = self._name_doc_flags(docs)
        for i, d in enumerate(docs):
            for u in self._units(d):
                jobs.append(TextJob(u, d.lang, d.source_kind, flags[i], group=i))
                owners.append(i)
        results, pattern_s, name_s = self._analyzer.analyze(jobs)
        per_doc: list[list[tuple[str, list[Span]]]] = [[] for _ in docs]
        cost = [[0.0, 0.0] for _ in docs]
        for job, owner, res, ps, ns in zip(jobs, owners, results, pattern_s, name_s, strict=True):
            per_doc[owner].append((job.text, res))
            cost[owner][0] += ps
            cost[owner][1] += ns
        return [self._finish(d, parts, f, c)
                for d, parts, f, c in zip(docs, per_doc, flags, cost, strict=True)]

    def _name_doc_flags(self, docs: Sequence[Document]) -> list[bool]:
        """PERSON runs on the configured source kinds, in the configured languages (or before language ID)."""
        names = self.rules.names
        return [self.rules.names_on and d.source_kind in names.source_kinds
                and (d.lang is None or d.lang in names.languages) for d in docs]

    def _speaker_is_name(self, role: str) -> bool:
        names = self.rules.names
        if names.speakers == "off" or role.strip().lower() in names.generic_speakers or not role.strip():
            return False
        if names.speakers == "all":
            return True
        assert self._analyzer is not None
        rec = self._analyzer.recognizers.get("PERSON")
        return rec is not None and rec.is_name(role)  # type: ignore[attr-defined]

    def _finish(self, doc: Document, parts: list[tuple[str, list[Span]]], names: bool,
                cost: list[float]) -> Outcome:
        assert self._anonymizer is not None
        counts: dict[str, int] = {}
        for _u, res in parts:
            for r in res:
                counts[r.entity_type] = counts.get(r.entity_type, 0) + 1
        speakers: list[bool] = []
        if doc.messages is not None and self.rules.scrub_messages:
            speakers = [names and self._speaker_is_name(role) for role, _c in doc.messages]
            if any(speakers):
                counts["PERSON"] = counts.get("PERSON", 0) + sum(speakers)
        signals: dict[str, SignalValue] = {f"{STAGE}.count.{e}": n for e, n in sorted(counts.items())}
        signals[f"{STAGE}.count_total"] = sum(counts.values())
        signals[f"{STAGE}.chars"] = sum(len(u) for u, _ in parts)
        signals[f"{STAGE}.names"] = names
        signals[f"{STAGE}.spans"] = _span_signal(doc, parts, speakers)
        signals[f"{TRANSIENT_PREFIX}pattern_ms"] = round(cost[0] * 1000, 3)
        signals[f"{TRANSIENT_PREFIX}ner_ms"] = round(cost[1] * 1000, 3)
        reasons = decide(signals, self.rules, doc.source_kind)
        if reasons:
            return self.reject(doc.with_signals(signals), reasons[0], reasons)
        if not counts:
            return doc.with_signals(signals)
        scrubbed = [self._anonymizer.apply(u, res) for u, res in parts]
        if doc.messages is not None and self.rules.scrub_messages:
            person = self._anonymizer.operators.get("PERSON")
            messages = tuple(
                ((person(role) if is_name and person else role), s)
                for (role, _c), s, is_name in zip(doc.messages, scrubbed, speakers, strict=True)
            )
            return doc.with_signals(signals, messages=messages, text=render_messages(messages))
        return doc.with_signals(signals, text=scrubbed[0])


def _span_signal(doc: Document, parts: list[tuple[str, list[Span]]], speakers: list[bool]) -> list[str]:
    """``"TYPE start end"`` per replaced span, in the coordinates of the input ``doc.text``.

    Conversations are analysed per message; their offsets are mapped into the rendered ``text``
    (``speaker: content`` lines). Should ``text`` not be that rendering, offsets are per message and
    carry the message index (``"TYPE start end m3"``).
    """
    out: list[str] = []
    if doc.messages is None or len(parts) != len(doc.messages):
        for _u, res in parts:
            out.extend(f"{r.entity_type} {r.start} {r.end}" for r in res)
        return out
    rendered = render_messages(doc.messages) == doc.text
    pos = 0
    for k, ((role, content), (_u, res)) in enumerate(zip(doc.messages, parts, strict=True)):
        if speakers and speakers[k]:
            out.append(f"PERSON {pos} {pos + len(role)}" if rendered
                       else f"PERSON 0 {len(role)} m{k} speaker")
        base = pos + len(role) + 2
        for r in res:
            out.append(f"{r.entity_type} {base + r.start} {base + r.end}" if rendered
                       else f"{r.entity_type} {r.start} {r.end} m{k}")
        pos = base + len(content) + 1
    return out
