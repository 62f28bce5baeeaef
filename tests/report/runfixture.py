"""Build small run directories in the layout `curate run` writes (data, rejects, report/*.json)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from curation.accounting import CountAccumulator, stages_report
from curation.document import DOCUMENT_SCHEMA, REJECT_SCHEMA, Document, Reject, document_to_row, reject_to_row

STAGE_ORDER = ["read", "normalize", "quality", "dedup", "write"]
RULES_YAML = "gopher:\n  min_words: 50\n  max_words: 100000\n  max_symbol_ratio: 0.1\n"


@dataclass(frozen=True)
class Doc:
    """A fixture document and its fate: ``stage`` = the rejecting stage, None = kept."""

    id: str
    kind: str
    words: int | None
    stage: str | None = None
    reasons: tuple[str, ...] = ()
    symbol_ratio: float = 0.0
    text: str = ""
    lang: str = "en"

    def document(self) -> Document:
        signals = {}
        if self.words is not None:
            signals = {
                "quality.gopher.word_count": self.words,
                "quality.gopher.symbol_ratio": self.symbol_ratio,
            }
        text = self.text or " ".join(["word"] * (self.words or 1))
        return Document(
            id=self.id,
            source_kind=self.kind,
            source="fixture",
            text=text,
            lang=self.lang,
            token_count=len(text.split()),
            signals=signals,
        )


def _write(path: Path, rows: list[dict], schema: pa.Schema) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), path)


def write_run(
    root: Path, outcomes: Sequence[Document | Reject], stage_order: Sequence[str], rules: dict[str, Path]
) -> Path:
    """Write ``root`` as a run directory: kept documents pass every stage, a reject stops at its stage."""
    accs = {s: CountAccumulator(s) for s in stage_order}
    kept: dict[str, list[dict]] = {}
    reject_rows: list[dict] = []
    for out in outcomes:
        doc = out.doc if isinstance(out, Reject) else out
        for stage in stage_order:
            if isinstance(out, Reject) and stage == out.stage:
                accs[stage].rejected(doc, out)
                reject_rows.append(reject_to_row(out))
                break
            accs[stage].kept(doc, doc)
        else:
            row = document_to_row(doc)
            del row["source_kind"]  # the partition folder names it, as the real sink does
            kept.setdefault(doc.source_kind, []).append(row)
    data_schema = pa.schema([f for f in DOCUMENT_SCHEMA if f.name != "source_kind"])
    for kind, rows in kept.items():
        _write(root / "data" / f"source_kind={kind}" / "part-00000-of-00001.parquet", rows, data_schema)
    _write(root / "rejects" / "part-00000-of-00001.parquet", reject_rows, REJECT_SCHEMA)
    counts = [kv for acc in accs.values() for kv in acc.items()]
    report = root / "report"
    report.mkdir(parents=True, exist_ok=True)
    (report / "stages.json").write_text(
        json.dumps(stages_report(counts, list(stage_order), "whitespace"), indent=2)
    )
    run_info = {
        "config": str(root / "pipeline.yaml"),
        "name": "fixture",
        "tokenizer": "whitespace",
        "stages": [
            {"name": s, "rules": str(rules[s]) if s in rules else None, "enabled": True}
            for s in stage_order
            if s not in ("read", "write")
        ],
        "started": "2026-01-01T00:00:00+00:00",
        "finished": "2026-01-01T00:01:00+00:00",
        "state": "DONE",
    }
    (report / "run.json").write_text(json.dumps(run_info))
    return root


def make_run(root: Path, docs: Sequence[Doc]) -> Path:
    """The fixture run of :data:`FIXTURE_DOCS`-style specs, with a quality rules file for the fake stage."""
    outcomes: list[Document | Reject] = []
    for d in docs:
        doc = d.document()
        if d.stage is None:
            outcomes.append(doc)
        else:
            outcomes.append(Reject(doc=doc, stage=d.stage, reason=d.reasons[0], reasons=d.reasons))
    root.mkdir(parents=True, exist_ok=True)
    rules_path = root / "quality.yaml"
    rules_path.write_text(RULES_YAML)
    return write_run(root, outcomes, STAGE_ORDER, {"quality": rules_path})


FIXTURE_DOCS = (
    Doc("a01", "web", 10, "quality", ("quality:gopher.min_words",)),
    Doc("a02", "web", 35, "quality", ("quality:gopher.min_words",)),
    Doc("a03", "web", 60),
    Doc("a04", "book", 80),
    Doc("a05", "web", 45, "quality", ("quality:gopher.min_words",)),
    Doc("a06", "web", 70, "dedup", ("duplicate_of:a03",)),
    Doc("a07", "web", None, "normalize", ("empty",), text=" "),
    Doc("a08", "code", 55),
    Doc(
        "a00",
        "web",
        5,
        "quality",
        ("quality:gopher.min_words", "quality:gopher.symbol_ratio"),
        symbol_ratio=0.5,
        text="call +1 415 555 0100 or mail john.doe@example.com now",
    ),
    Doc("a10", "web", 52, "quality", ("quality:gopher.symbol_ratio",), symbol_ratio=0.3),
    Doc("a11", "book", 120, lang="de"),
)
