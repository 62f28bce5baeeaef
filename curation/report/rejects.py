"""Why documents were removed: reasons per stage with tokens and examples, and filter overlap.

One streaming pass over ``rejects/*.parquet`` keeps only bounded aggregates: counts and tokens per
(stage, reason), the 3 examples per reason with the smallest document ids (ids are hashes, so this is a
deterministic pseudo-random sample), and, for stages whose rejects list several reasons (the quality rules),
the co-firing counts of every pair of reasons and the tokens each reason removes *alone* (documents no
other rule would have dropped: what relaxing that one rule would bring back).

Example snippets are short and PII-scrubbed with ``curation.stages.pii.scrub_snippet`` when that stage is
installed, otherwise with the conservative local patterns below (emails, phone numbers, IP addresses,
long digit runs, URLs with credentials).
"""

from __future__ import annotations

import importlib
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from curation.accounting import reason_key
from curation.report import plots
from curation.report.load import Record
from curation.report.model import Figure, Heading, Para, Section, Table, pct, table

EXAMPLES_PER_REASON = 3
SNIPPET_CHARS = 160
MAX_OVERLAP_RULES = 20

# Fallback scrubbing (only used when curation.stages.pii is unavailable). Deliberately over-eager.
_FALLBACK_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\b[a-z][a-z0-9+.-]*://[^\s/@]+@\S+", re.IGNORECASE), "<URL_WITH_CREDENTIALS>"),
    (re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"), "<EMAIL>"),
    (re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b"), "<IP>"),
    (re.compile(r"(?<!\w)\+?\(?\d[\d\s().-]{6,}\d(?!\w)"), "<PHONE_OR_NUMBER>"),
    (re.compile(r"\d{5,}"), "<NUMBER>"),
)
_WS_RE = re.compile(r"\s+")


def fallback_scrub(text: str) -> str:
    """Replace emails, phone-like numbers, IPs, credentials in URLs and digit runs of 5+ with placeholders."""
    for pattern, repl in _FALLBACK_PATTERNS:
        text = pattern.sub(repl, text)
    return text


def get_scrubber() -> Callable[[str], str]:
    """``curation.stages.pii.scrub_snippet`` when importable, else :func:`fallback_scrub`."""
    try:
        fn = importlib.import_module("curation.stages.pii").scrub_snippet
    except (ImportError, AttributeError):
        return fallback_scrub
    return fn if callable(fn) else fallback_scrub


def make_snippet(text: str | None, scrub: Callable[[str], str], limit: int = SNIPPET_CHARS) -> str:
    """A one-line, scrubbed, truncated excerpt of ``text`` (scrubbed before truncation)."""
    if not text:
        return ""
    flat = _WS_RE.sub(" ", text[: limit * 4]).strip()
    try:
        clean = scrub(flat)
    except Exception:
        clean = fallback_scrub(flat)
    clean = fallback_scrub(clean) if scrub is not fallback_scrub else clean
    return clean if len(clean) <= limit else clean[: limit - 1].rstrip() + "…"


@dataclass
class RejectStats:
    """Aggregates of one pass over the rejects."""

    docs: Counter = field(default_factory=Counter)  # (stage, reason key) -> docs
    tokens: Counter = field(default_factory=Counter)  # (stage, reason key) -> tokens
    examples: dict[tuple[str, str], list[tuple[str, str]]] = field(default_factory=dict)  # (id, snippet)
    keep: dict[tuple[str, str], list[Record]] = field(default_factory=dict)  # during the pass
    fired: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))  # stage -> rule -> docs
    fired_tokens: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    alone_docs: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    alone_tokens: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    pairs: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))  # stage -> (a, b) -> docs
    multi: Counter = field(default_factory=Counter)  # stage -> rejects with more than one reason


def collect(
    records: Iterable[Record],
    scrub: Callable[[str], str] | None = None,
    mask: Callable[[str, str | None], str] | None = None,
) -> RejectStats:
    """One pass over reject records (see module docstring); ``mask(text, lang)`` masks offensive words."""
    scrub = scrub or get_scrubber()
    st = RejectStats()
    for r in records:
        stage = r.stage or "unknown"
        key = (stage, reason_key(r.reason or "unknown"))
        st.docs[key] += 1
        st.tokens[key] += r.tokens
        _offer(st.keep.setdefault(key, []), r)
        rules = sorted({reason_key(x) for x in (r.reasons or (r.reason or "unknown",))})
        if len(rules) > 1:
            st.multi[stage] += 1
        for a in rules:
            st.fired[stage][a] += 1
            st.fired_tokens[stage][a] += r.tokens
        if len(rules) == 1:
            st.alone_docs[stage][rules[0]] += 1
            st.alone_tokens[stage][rules[0]] += r.tokens
        for i, a in enumerate(rules):
            for b in rules[i + 1 :]:
                st.pairs[stage][(a, b)] += 1
    for key, recs in st.keep.items():
        st.examples[key] = [(rec.id, _example_text(rec, scrub, mask)) for rec in recs]
    st.keep.clear()
    return st


def _offer(kept: list[Record], rec: Record) -> None:
    """Keep the :data:`EXAMPLES_PER_REASON` records with the smallest ids (sorted, tiny list)."""
    if len(kept) < EXAMPLES_PER_REASON:
        kept.append(rec)
    elif rec.id < kept[-1].id:
        kept[-1] = rec
    else:
        return
    kept.sort(key=lambda x: x.id)


def _example_text(
    rec: Record, scrub: Callable[[str], str], mask: Callable[[str, str | None], str] | None = None
) -> str:
    if rec.text and rec.text.strip():
        text = rec.text[: SNIPPET_CHARS * 4]
        return make_snippet(mask(text, rec.lang) if mask else text, scrub)
    if rec.error:
        return f"(unreadable record: {make_snippet(rec.error, scrub, 120)})"
    if rec.text is None:
        return "(no text stored)"
    return "(empty text)"


def overlap_stages(st: RejectStats, always: tuple[str, ...] = ("quality",)) -> list[str]:
    """Stages with an overlap analysis: quality, plus any stage whose rejects list several reasons."""
    return [s for s in sorted(st.fired) if s in always or st.multi[s] > 0]


def overlap_matrix(
    st: RejectStats, stage: str, limit: int = MAX_OVERLAP_RULES
) -> tuple[list[str], list[list[int]]]:
    """The ``limit`` most frequent rules of ``stage`` and their symmetric co-firing count matrix."""
    rules = [r for r, _ in sorted(st.fired[stage].items(), key=lambda kv: (-kv[1], kv[0]))][:limit]
    idx = {r: i for i, r in enumerate(rules)}
    m = [[0] * len(rules) for _ in rules]
    for r in rules:
        m[idx[r]][idx[r]] = st.fired[stage][r]
    for (a, b), n in st.pairs[stage].items():
        if a in idx and b in idx:
            m[idx[a]][idx[b]] = m[idx[b]][idx[a]] = n
    return rules, m


def rejects_summary(st: RejectStats, stage_order: list[str]) -> dict[str, Any]:
    """The ``removed`` and ``overlap`` parts of ``summary.json``."""
    order = {s: i for i, s in enumerate(stage_order)}
    removed = [
        {
            "stage": s,
            "reason": r,
            "docs": st.docs[(s, r)],
            "tokens": st.tokens[(s, r)],
            "examples": [{"id": i, "snippet": t} for i, t in st.examples.get((s, r), [])],
        }
        for s, r in sorted(st.docs, key=lambda k: (order.get(k[0], len(order)), k[0], -st.docs[k], k[1]))
    ]
    overlap = {}
    for s in overlap_stages(st):
        rules, m = overlap_matrix(st, s)
        overlap[s] = {
            "rules": rules,
            "matrix": m,
            "rejects_with_several_reasons": st.multi[s],
            "fired": {r: {"docs": st.fired[s][r], "tokens": st.fired_tokens[s][r]} for r in rules},
            "alone": {r: {"docs": st.alone_docs[s][r], "tokens": st.alone_tokens[s][r]} for r in rules},
        }
    return {"removed": removed, "overlap": overlap}


def read_skipped(signals: Iterable[dict[str, Any]]) -> dict[str, int]:
    """Bytes the readers could not delimit into records (``read.skipped_bytes`` on read rejects; pure)."""
    sizes = [int(s.get("read.skipped_bytes") or 0) for s in signals]
    return {"rejects": sum(1 for b in sizes if b), "bytes": sum(sizes)}


def removed_section(summary: dict[str, Any], stages_json_reasons: dict[str, dict[str, int]]) -> Section:
    """Per stage and reason: documents (from stages.json), tokens and examples (from the rejects)."""
    sec = Section("removed", "Why documents were removed")
    if not summary["removed"] and not any(stages_json_reasons.values()):
        return sec.add(Para("No document was removed."))
    sec.add(
        Para(
            "Per stage and reason: documents (from the accounting), tokens and up to "
            f"{EXAMPLES_PER_REASON} example snippets (from rejects/*.parquet; PII-scrubbed, truncated to "
            f"{SNIPPET_CHARS} characters). Judge from the examples whether a filter is right."
        )
    )
    m = summary.get("examples_masking")
    if m:
        if m.get("enabled"):
            text = (
                f"Offensive words are masked ({m.get('words_masked', 0):,} masked, e.g. f***): the toxicity "
                "stage's lexicon for the example's language. Rebuild with `curate report --show-offensive` "
                "to see examples verbatim."
            )
        else:
            text = f"Offensive words are not masked: {m.get('note', '')}."
        sec.add(Para(text, "note"))
    skipped = summary.get("read_skipped") or {}
    if skipped.get("bytes"):
        sec.add(
            Para(
                f"{skipped['bytes']:,} bytes of input could not be delimited into records and were skipped "
                f"({skipped['rejects']:,} read rejects say where; signal read.skipped_bytes). See "
                "docs/readers.md for what each format can recover.",
                "warn",
            )
        )
    by_stage: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in summary["removed"]:
        by_stage[row["stage"]].append(row)
    stages = list(dict.fromkeys([*stages_json_reasons, *by_stage]))
    for stage in stages:
        counted = stages_json_reasons.get(stage, {})
        rows = {r["reason"]: r for r in by_stage.get(stage, [])}
        reasons = sorted(
            set(counted) | set(rows), key=lambda r: (-counted.get(r, rows.get(r, {}).get("docs", 0)), r)
        )
        if not reasons:
            continue
        total_docs = sum(counted.values()) or sum(r["docs"] for r in rows.values())
        sec.add(Heading(f"Stage {stage}"))
        trs = []
        for reason in reasons:
            row = rows.get(reason, {})
            docs = counted.get(reason, row.get("docs", 0))
            ex = " ‖ ".join(e["snippet"] for e in row.get("examples", []))
            trs.append([reason, docs, pct(docs, total_docs), row.get("tokens"), ex])
        sec.add(table(["reason", "docs", "share", "tokens", "examples"], trs))
    return sec


def overlap_section(summary: dict[str, Any]) -> Section:
    sec = Section("overlap", "Filter overlap")
    if not summary["overlap"]:
        return sec.add(Para("No quality rejects in this run, so no overlap to analyse."))
    sec.add(
        Para(
            "For documents dropped by rules that record every reason that fired (Reject.reasons): how often "
            "two rules fire on the same document (diagonal: documents the rule fired on), and how many "
            "documents and tokens each rule removes alone, i.e. what relaxing only that rule would "
            "bring back."
        )
    )
    for stage, ov in summary["overlap"].items():
        rules, m = ov["rules"], ov["matrix"]
        sec.add(Heading(f"Stage {stage}"))
        total = sum(ov["fired"][r]["docs"] for r in rules)
        sec.add(
            Para(
                f"{ov['rejects_with_several_reasons']:,} rejects of this stage list more than one reason. "
                f"{len(rules)} rules shown."
            )
        )
        sec.add(
            table(
                ["rule", "fired on (docs)", "tokens", "alone (docs)", "alone (tokens)", "alone share"],
                [
                    [
                        r,
                        ov["fired"][r]["docs"],
                        ov["fired"][r]["tokens"],
                        ov["alone"][r]["docs"],
                        ov["alone"][r]["tokens"],
                        pct(ov["alone"][r]["docs"], ov["fired"][r]["docs"]),
                    ]
                    for r in rules
                ],
                f"Rule firings sum to {total:,} over the stage's rejects.",
            )
        )
        if len(rules) > 1:
            short = [f"r{i + 1}" for i in range(len(rules))]
            sec.add(
                Table(
                    columns=("", *short),
                    rows=tuple(
                        (f"{s} {r}", *(f"{v:,}" for v in m[i]))
                        for i, (s, r) in enumerate(zip(short, rules, strict=True))
                    ),
                    caption="Co-firing matrix (documents).",
                    numeric=(False, *([True] * len(rules))),
                )
            )
            ch = plots.chart(
                plots.overlap_heatmap_figure(rules, m, f"{stage}: rules co-firing on the same document")
            )
            sec.add(Figure(f"overlap_{stage}", ch.png, f"Co-firing of the {stage} rules.", svg=ch.svg))
    return sec
