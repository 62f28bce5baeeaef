"""Pure decision logic: evidence -> found items -> keep / cut / drop, and the GPT-3 style span cutting.

The same :func:`decide_reasons` serves the live stage and the report's what-if protocol (via
:func:`decide`, which re-reads the evidence stored in a document's signals). Span cutting follows
Brown et al. 2020, Appendix C: remove each contaminated n-gram plus ``margin_chars`` on both sides,
split the document at the removed spans, discard pieces shorter than ``min_piece_chars`` and drop the
whole document if it was split into more than ``max_pieces`` pieces.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from curation.document import Message, SignalValue
from curation.stages.decontamination.rules import ActionRules, DecontaminationRules, MatchRules

STAGE = "decontamination"
P = f"{STAGE}."


@dataclass(frozen=True, order=True)
class Evidence:
    """One evaluation item with at least one of its n-grams in a document."""

    eval_set: str
    item_id: str
    matched: int  # distinct n-grams of the item found in the document
    total: int  # distinct n-grams of the item

    def encode(self) -> str:
        return f"{self.eval_set}:{self.item_id}:{self.matched}/{self.total}"

    @classmethod
    def decode(cls, s: str) -> Evidence:
        eval_set, rest = s.split(":", 1)
        item_id, counts = rest.rsplit(":", 1)
        matched, total = counts.split("/")
        return cls(eval_set, item_id, int(matched), int(total))

    def is_found(self, rules: MatchRules) -> bool:
        return self.matched >= rules.min_matched_ngrams and (
            self.matched >= rules.min_item_coverage * max(self.total, 1)
        )


def rank(evidence: Sequence[Evidence]) -> list[Evidence]:
    """Most overlapping items first; ties by set and id (deterministic)."""
    return sorted(evidence, key=lambda e: (-e.matched, e.eval_set, e.item_id))


def found_sets(found: Sequence[Evidence]) -> list[str]:
    """Eval sets of the found items, the set of the most overlapping item first."""
    out: list[str] = []
    for e in rank(found):
        if e.eval_set not in out:
            out.append(e.eval_set)
    return out


def decide_reasons(
    found: Sequence[Evidence],
    pieces: int,
    kept_pieces: int,
    removed_fraction: float,
    action: ActionRules,
    source_kind: str,
) -> tuple[str, ...]:
    """Reasons to drop the document (empty = keep, possibly cut). Primary reason first."""
    if not found:
        return ()
    must_drop = (
        action.for_kind(source_kind) == "drop"
        or kept_pieces == 0
        or pieces > action.max_pieces
        or removed_fraction > action.max_removed_fraction
    )
    return tuple(f"contaminated:{s}" for s in found_sets(found)) if must_drop else ()


def decide(
    signals: Mapping[str, SignalValue], rules: DecontaminationRules, source_kind: str
) -> tuple[str, ...]:
    """What-if protocol: reasons from stored signals (evidence list capped at ``max_evidence``)."""
    raw = signals.get(P + "evidence") or []
    if not isinstance(raw, list):
        return ()
    found = [e for e in (Evidence.decode(s) for s in raw) if e.is_found(rules.match)]
    return decide_reasons(
        found,
        int(signals.get(P + "pieces") or 0),
        int(signals.get(P + "kept_pieces") or 0),
        float(signals.get(P + "removed_fraction") or 0.0),
        rules.action,
        source_kind,
    )


# -- span cutting --------------------------------------------------------------------------------------


def plan_cut(
    text_len: int, spans: Sequence[tuple[int, int]], action: ActionRules
) -> tuple[list[tuple[int, int]], int]:
    """Character ranges to keep after removing ``spans`` +- margin, and the number of raw pieces.

    Raw pieces are the non-empty stretches between removed ranges (GPT-3 counts these against
    ``max_pieces``); kept pieces are those at least ``min_piece_chars`` long.
    """
    m = action.margin_chars
    removed: list[list[int]] = []
    for s, e in sorted((max(0, s - m), min(text_len, e + m)) for s, e in spans):
        if removed and s <= removed[-1][1]:
            removed[-1][1] = max(removed[-1][1], e)
        else:
            removed.append([s, e])
    pieces: list[tuple[int, int]] = []
    pos = 0
    for s, e in removed:
        if s > pos:
            pieces.append((pos, s))
        pos = e
    if pos < text_len:
        pieces.append((pos, text_len))
    kept = [(s, e) for s, e in pieces if e - s >= max(1, action.min_piece_chars)]
    return kept, len(pieces)


def cut_text(text: str, kept: Sequence[tuple[int, int]]) -> str:
    """Join the kept pieces (stripped) with newlines."""
    return "\n".join(p for p in (text[s:e].strip() for s, e in kept) if p)


def message_ranges(messages: Sequence[Message]) -> list[tuple[int, int]]:
    """``(start, end)`` of each message's content in ``render_messages(messages)`` (``role: `` prefix)."""
    out = []
    pos = 0
    for role, content in messages:
        c0 = pos + len(role) + 2
        out.append((c0, c0 + len(content)))
        pos = c0 + len(content) + 1
    return out


@dataclass(frozen=True)
class TurnCut:
    """The per-message cut of a conversation: new contents of the touched turns, and the number of raw
    pieces of the rendered conversation between removed ranges (what ``max_pieces`` counts)."""

    contents: dict[int, str]  # message index -> new content (only contaminated turns are listed)
    pieces: int


def plan_turn_cut(
    messages: Sequence[Message], spans: Sequence[tuple[int, int]], action: ActionRules
) -> TurnCut:
    """Cut a conversation per message: each matched span (offsets into the rendered conversation) is
    clipped to the turns it overlaps, its margin stays inside those turns, and only those turns change.

    Every other turn keeps its content byte for byte (not re-stripped, kept when blank). A touched turn
    keeps its pieces of at least ``min_piece_chars`` (GPT-3's rule, applied within the turn), joined
    by newlines.
    """
    ranges = message_ranges(messages)
    local: dict[int, list[tuple[int, int]]] = {}
    for s, e in spans:
        for i, (c0, c1) in enumerate(ranges):
            if s < c1 and e > c0:
                local.setdefault(i, []).append((max(s, c0) - c0, min(e, c1) - c0))
    contents: dict[int, str] = {}
    removed_global: list[tuple[int, int]] = []
    no_margin = dataclasses.replace(action, margin_chars=0)
    m = action.margin_chars
    for i, turn_spans in sorted(local.items()):
        content = messages[i][1]
        widened = [(max(0, s - m), min(len(content), e + m)) for s, e in turn_spans]
        kept, _ = plan_cut(len(content), widened, no_margin)
        contents[i] = cut_text(content, kept)
        c0 = ranges[i][0]
        removed_global.extend((c0 + s, c0 + e) for s, e in widened)
    total = ranges[-1][1] if ranges else 0
    _, pieces = plan_cut(total, removed_global, dataclasses.replace(no_margin, min_piece_chars=0))
    return TurnCut(contents, pieces)


def apply_turn_cut(messages: tuple[Message, ...], cut: TurnCut) -> tuple[Message, ...]:
    """The conversation after ``cut``: touched turns get their new content, a touched turn cut to nothing
    is removed; every other turn is the same tuple as before."""
    out: list[Message] = []
    for i, (role, content) in enumerate(messages):
        if i not in cut.contents:
            out.append((role, content))
        elif cut.contents[i]:
            out.append((role, cut.contents[i]))
    return tuple(out)
