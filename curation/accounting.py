"""Per-stage accounting as data: counts are values in a PCollection, combined per key.

Every stage emits ``(CountKey, StageCounts)`` pairs (accumulated per bundle, so there is one pair per key
per bundle, not per document) which are summed with :class:`MergeCounts` into one value per
``(stage, source_kind, lang)``. The invariant ``docs_in == docs_kept + docs_rejected`` holds by
construction for every key and is re-checked by :func:`check_invariants` before ``stages.json`` is
written. Beam Metrics counters mirror the totals for monitoring only.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

import apache_beam as beam

from curation.document import Document, Reject

CountKey = tuple[str, str, str]  # (stage, source_kind, lang)


@dataclass
class StageCounts:
    """Documents, tokens and bytes in and out of one stage for one (source kind, language)."""

    docs_in: int = 0
    docs_kept: int = 0
    docs_rejected: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    tokens_rejected: int = 0
    bytes_in: int = 0
    bytes_out: int = 0
    bytes_rejected: int = 0
    rejected_by_reason: Counter = field(default_factory=Counter)

    def merge(self, other: StageCounts) -> StageCounts:
        self.docs_in += other.docs_in
        self.docs_kept += other.docs_kept
        self.docs_rejected += other.docs_rejected
        self.tokens_in += other.tokens_in
        self.tokens_out += other.tokens_out
        self.tokens_rejected += other.tokens_rejected
        self.bytes_in += other.bytes_in
        self.bytes_out += other.bytes_out
        self.bytes_rejected += other.bytes_rejected
        self.rejected_by_reason.update(other.rejected_by_reason)
        return self

    def to_json(self) -> dict[str, Any]:
        return {
            "docs_in": self.docs_in,
            "docs_kept": self.docs_kept,
            "docs_rejected": self.docs_rejected,
            "rejected_by_reason": dict(sorted(self.rejected_by_reason.items())),
            "tokens_in": self.tokens_in,
            "tokens_out": self.tokens_out,
            "tokens_rejected": self.tokens_rejected,
            "bytes_in": self.bytes_in,
            "bytes_out": self.bytes_out,
            "bytes_rejected": self.bytes_rejected,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> StageCounts:
        c = cls(**{k: v for k, v in data.items() if k in COUNT_FIELDS})
        c.rejected_by_reason = Counter(data.get("rejected_by_reason", {}))
        return c


#: The integer fields of :class:`StageCounts`, in stages.json order (the report reads them by name).
COUNT_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(StageCounts) if f.name != "rejected_by_reason")


def reason_key(reason: str) -> str:
    """Group reasons for accounting: ``duplicate_of:<id>`` -> ``duplicate``; others are kept as they are.

    Reasons carrying a per-document id would make one accounting key per document.
    """
    if reason.startswith("duplicate_of:"):
        return "duplicate"
    return reason


class CountAccumulator:
    """Accumulates counts within one bundle of one stage; emitted at bundle end as (key, counts) pairs."""

    def __init__(self, stage: str) -> None:
        self.stage = stage
        self._counts: dict[CountKey, StageCounts] = {}

    def _get(self, doc: Document) -> StageCounts:
        key = (self.stage, doc.source_kind, doc.lang_key)
        c = self._counts.get(key)
        if c is None:
            c = self._counts[key] = StageCounts()
        return c

    def kept(self, before: Document, after: Document) -> None:
        """Count a kept document; ``after`` may have new text (then its token_count is already updated)."""
        c = self._get(after)
        b_in = before.num_bytes
        c.docs_in += 1
        c.docs_kept += 1
        c.tokens_in += before.token_count
        c.tokens_out += after.token_count
        c.bytes_in += b_in
        c.bytes_out += b_in if after.text is before.text else after.num_bytes

    def rejected(self, before: Document, rej: Reject) -> None:
        """Count a rejected document (``before`` is the stage's input; ``rej.doc`` may carry signals)."""
        c = self._get(rej.doc)
        b_in = len(rej.raw) if rej.raw is not None and not before.text else before.num_bytes
        c.docs_in += 1
        c.docs_rejected += 1
        c.tokens_in += before.token_count
        c.tokens_rejected += before.token_count
        c.bytes_in += b_in
        c.bytes_rejected += b_in
        c.rejected_by_reason[reason_key(rej.reason)] += 1

    def items(self) -> Iterable[tuple[CountKey, StageCounts]]:
        return self._counts.items()


class MergeCounts(beam.CombineFn):
    """Sums :class:`StageCounts` values (associative and commutative, so any runner gives one answer)."""

    def create_accumulator(self) -> StageCounts:
        return StageCounts()

    def add_input(self, acc: StageCounts, value: StageCounts) -> StageCounts:
        return acc.merge(value)

    def merge_accumulators(self, accs: Iterable[StageCounts]) -> StageCounts:
        out = StageCounts()
        for a in accs:
            out.merge(a)
        return out

    def extract_output(self, acc: StageCounts) -> StageCounts:
        return acc


def check_invariants(rows: Iterable[tuple[CountKey, StageCounts]]) -> list[str]:
    """Return a description of every key whose counts break ``docs_in == kept + rejected``."""
    problems = []
    for key, c in rows:
        if c.docs_in != c.docs_kept + c.docs_rejected:
            problems.append(f"{key}: docs_in={c.docs_in} != kept={c.docs_kept} + rejected={c.docs_rejected}")
        n_reasons = sum(c.rejected_by_reason.values())
        if n_reasons != c.docs_rejected:
            problems.append(f"{key}: reasons sum to {n_reasons} != {c.docs_rejected}")
    return problems


def stages_report(
    rows: Iterable[tuple[CountKey, StageCounts]], stage_order: list[str], tokenizer: str
) -> dict[str, Any]:
    """Build the ``stages.json`` document: per stage, totals plus a breakdown per source kind and language.

    ``stage_order`` lists the stages as they ran (``read`` first, ``write`` last).
    """
    by_stage: dict[str, dict[tuple[str, str], StageCounts]] = {}
    for (stage, kind, lang), c in rows:
        by_stage.setdefault(stage, {})[(kind, lang)] = c
    order = list(stage_order) + sorted(set(by_stage) - set(stage_order))
    stages = []
    for stage in order:
        parts = by_stage.get(stage, {})
        total = StageCounts()
        by_kind: dict[str, StageCounts] = {}
        for (kind, _lang), c in parts.items():
            total.merge(c)
            by_kind.setdefault(kind, StageCounts()).merge(c)
        stages.append(
            {
                "stage": stage,
                "total": total.to_json(),
                "by_source_kind": {k: v.to_json() for k, v in sorted(by_kind.items())},
                "by_source_kind_lang": [
                    {"source_kind": k, "lang": lang, **c.to_json()} for (k, lang), c in sorted(parts.items())
                ],
                "invariant_ok": total.docs_in == total.docs_kept + total.docs_rejected,
            }
        )
    return {"tokenizer": tokenizer, "stages": stages}
