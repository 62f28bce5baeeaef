"""Read a run directory: ``report/stages.json``, ``report/run.json``, stats files, data and rejects Parquet.

Layout (written by the pipeline; see :mod:`curation.sinks`)::

    <run>/data/source_kind=<kind>/*.parquet   kept documents (the kind is the folder, not a column)
    <run>/rejects/*.parquet                   every rejected document, with stage, reason and reasons
    <run>/report/stages.json                  per-stage accounting (curation.accounting.stages_report)
    <run>/report/run.json                     config, tokenizer, stages with their rules files, times
    <run>/report/stats/<stage>.json           optional per-stage stats {name: dict}
    <run>/report/stats/<stage>.probe.json     optional {"before": {...}, "after": {...}}

Parquet is streamed batch by batch with only the needed columns, so the report's memory does not grow
with the corpus (only bounded aggregates and a few examples are kept).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

_KIND_DIR_RE = re.compile(r"^source_kind=(?P<kind>.+)$")
BATCH_ROWS = 4096


@dataclass(frozen=True)
class Record:
    """The slice of one kept or rejected document the report needs."""

    id: str
    source_kind: str
    lang: str
    tokens: int
    stage: str | None  # None = kept (reached the output)
    reason: str | None
    reasons: tuple[str, ...]
    signals_json: str
    text: str | None = None
    error: str | None = None

    def signals(self) -> dict[str, Any]:
        try:
            data = json.loads(self.signals_json or "{}")
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}


@dataclass
class RunData:
    run_dir: Path
    stages: list[dict[str, Any]]
    tokenizer: str
    run_info: dict[str, Any] = field(default_factory=dict)
    stats: dict[str, dict[str, Any]] = field(default_factory=dict)
    probes: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def stage_order(self) -> list[str]:
        return [s["stage"] for s in self.stages]

    def stage(self, name: str) -> dict[str, Any] | None:
        return next((s for s in self.stages if s["stage"] == name), None)

    @property
    def final(self) -> dict[str, Any]:
        """The last stage's entry (``write``): its ``*_out`` figures are the final corpus."""
        return self.stages[-1] if self.stages else {"stage": "", "total": {}, "by_source_kind": {}}

    def rules_path(self, stage: str) -> Path | None:
        for s in self.run_info.get("stages", []):
            if s.get("name") == stage and s.get("rules"):
                return Path(s["rules"])
        return None

    def data_files(self) -> list[tuple[Path, str | None]]:
        """Kept-data Parquet files with the source kind named by their ``source_kind=`` folder."""
        out = []
        for p in sorted((self.run_dir / "data").rglob("*.parquet")):
            m = next(
                (_KIND_DIR_RE.match(part) for part in reversed(p.parts) if _KIND_DIR_RE.match(part)), None
            )
            out.append((p, m.group("kind") if m else None))
        return out

    def reject_files(self) -> list[Path]:
        return sorted((self.run_dir / "rejects").rglob("*.parquet"))


def _read_json(path: Path) -> Any:
    with path.open("r", encoding="utf-8") as fh:
        return json.load(fh)


def load_run(run_dir: Path) -> RunData:
    """Load the JSON parts of a run directory (``report/stages.json`` is required)."""
    run_dir = Path(run_dir)
    stages_path = run_dir / "report" / "stages.json"
    if not stages_path.is_file():
        raise FileNotFoundError(f"{stages_path} not found: is {run_dir} the output folder of `curate run`?")
    doc = _read_json(stages_path)
    run_info_path = run_dir / "report" / "run.json"
    run_info = _read_json(run_info_path) if run_info_path.is_file() else {}
    stats: dict[str, dict[str, Any]] = {}
    probes: dict[str, dict[str, Any]] = {}
    stats_dir = run_dir / "report" / "stats"
    if stats_dir.is_dir():
        for p in sorted(stats_dir.glob("*.json")):
            try:
                data = _read_json(p)
            except (OSError, ValueError):
                continue  # a broken stats file drops its section, never the report
            if p.name.endswith(".probe.json"):
                probes[p.name[: -len(".probe.json")]] = data
            else:
                stats[p.stem] = data
    return RunData(
        run_dir=run_dir,
        stages=list(doc.get("stages", [])),
        tokenizer=str(doc.get("tokenizer") or run_info.get("tokenizer") or ""),
        run_info=run_info,
        stats=stats,
        probes=probes,
    )


_BASE_COLUMNS = ("id", "source_kind", "lang", "token_count", "signals")
_REJECT_COLUMNS = ("stage", "reason", "reasons", "error")


def _iter_file(path: Path, kind: str | None, columns: Sequence[str], rejected: bool) -> Iterator[Record]:
    pf = pq.ParquetFile(path)
    present = [c for c in columns if c in pf.schema_arrow.names]
    for batch in pf.iter_batches(batch_size=BATCH_ROWS, columns=present):
        cols = batch.to_pydict()
        n = batch.num_rows
        for i in range(n):

            def get(name: str, i: int = i, cols: dict[str, list[Any]] = cols) -> Any:
                c = cols.get(name)
                return None if c is None else c[i]

            yield Record(
                id=get("id") or "",
                source_kind=get("source_kind") or kind or "unknown",
                lang=get("lang") or "und",
                tokens=int(get("token_count") or 0),
                stage=(get("stage") or "unknown") if rejected else None,
                reason=get("reason") if rejected else None,
                reasons=tuple(get("reasons") or ()) if rejected else (),
                signals_json=get("signals") or "{}",
                text=get("text"),
                error=get("error"),
            )


def iter_kept(run: RunData, with_text: bool = False) -> Iterator[Record]:
    cols = [*_BASE_COLUMNS, *(("text",) if with_text else ())]
    for path, kind in run.data_files():
        yield from _iter_file(path, kind, cols, rejected=False)


def iter_rejected(run: RunData, with_text: bool = False, with_signals: bool = True) -> Iterator[Record]:
    cols = [c for c in (*_BASE_COLUMNS, *_REJECT_COLUMNS) if with_signals or c != "signals"]
    if with_text:
        cols.append("text")
    for path in run.reject_files():
        yield from _iter_file(path, None, cols, rejected=True)
