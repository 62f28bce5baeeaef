"""Fixtures: a tiny project-written eval set and helpers to build documents around its items."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from curation.document import Document
from curation.stages.decontamination.evalsets import EvalItem
from curation.stages.decontamination.index import NgramIndex
from curation.stages.decontamination.rules import DecontaminationRules

QUESTION = (
    "Which instrument did the lighthouse keeper repair during the storm winter before the supply ship "
    "finally reached the island harbour"
)  # 20 words -> 8 13-grams
SHORT_Q = "What colour was the keeper's second boat"  # 7 words after splitting "keeper's" -> 8 words
CONTEXT = (
    "The keeper repaired the fog horn with wire from the old fence, and the supply ship reached the "
    "harbour three weeks late because the ice had closed the northern channel for most of February."
)
ITEMS = [
    EvalItem("qa", "q1", (QUESTION, "the fog horn")),
    EvalItem("qa", "q2", (SHORT_Q,)),
    EvalItem("reading", "r1", (CONTEXT,)),
]
FILLER = " ".join(f"alpha{i} beta{i % 7} gamma" for i in range(120))  # 360 words, ~2.9k chars


def doc(text: str, kind: str = "web", id: str = "d", **kw: object) -> Document:
    return Document(id=id, source_kind=kind, source="test", text=text, **kw)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def rules() -> DecontaminationRules:
    return DecontaminationRules()


@pytest.fixture(scope="session")
def index(rules: DecontaminationRules) -> NgramIndex:
    return NgramIndex.build(ITEMS, rules, ["qa", "reading"])


def write_eval_set(path: Path) -> Path:
    """ITEMS as JSONL files (one per set) in ``path``; returns the folder."""
    rows = {"qa": [], "reading": []}
    for it in ITEMS:
        rows[it.eval_set].append({"id": it.item_id, "question": it.texts[0], "answer": list(it.texts[1:])})
    for name, rs in rows.items():
        (path / f"{name}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rs), encoding="utf-8")
    return path
