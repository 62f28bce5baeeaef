"""Stage sections from ``report/stats/<stage>.json`` and ``<stage>.probe.json``, rendered generically.

The stats are whatever each stage chose to combine (dedup clusters and histograms, license tokens per
category and SPDX id, PII entity counts, toxicity/bias co-occurrence...), so the layout adapts to the shape:

* a mapping of scalars -> a key/value table (and a bar chart when the keys look like histogram bins);
* a mapping of mappings of scalars (e.g. kind -> category -> tokens) -> a matrix table;
* a list of flat mappings -> a table with their keys as columns;
* anything deeper -> flattened to dotted key paths.

A probe file ``{"before": ..., "after": ...}`` becomes one table comparing the flattened values.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from curation.report import plots
from curation.report.model import Block, Figure, Heading, Para, Section, table

MAX_ROWS = 60
TITLES = {
    "dedup": "Deduplication",
    "pii": "PII",
    "toxicity": "Toxicity and bias",
    "license": "Licenses",
    "langid": "Language identification",
    "quality": "Quality signals",
    "decontamination": "Decontamination",
    "normalize": "Normalization",
}
_BIN_RE = re.compile(r"^[<>=≤≥]*\s*\d+(\.\d+)?([-–+]|\s*-\s*\d+(\.\d+)?)?\+?$")


def _scalar(v: Any) -> bool:
    return v is None or isinstance(v, str | int | float | bool)


def _cell(v: Any) -> Any:
    if _scalar(v):
        return v
    if isinstance(v, list) and all(_scalar(x) for x in v):
        return ", ".join(str(x) for x in v[:20]) + (f" … (+{len(v) - 20})" if len(v) > 20 else "")
    return json.dumps(v, sort_keys=True, ensure_ascii=False, default=str)[:200]


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Flatten nested mappings to ``{"a.b.c": scalar}`` (lists of scalars stay one cell)."""
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for k, v in value.items():
            out.update(flatten(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    if isinstance(value, list) and not all(_scalar(x) for x in value):
        out = {}
        for i, v in enumerate(value):
            out.update(flatten(v, f"{prefix}[{i}]"))
        return out
    return {prefix or "value": _cell(value)}


def _truncated(n: int) -> str:
    return f"First {MAX_ROWS} of {n} rows." if n > MAX_ROWS else ""


def render_value(name: str, value: Any, fig_prefix: str) -> list[Block]:
    """Blocks for one named stats value (see module docstring)."""
    blocks: list[Block] = [Heading(name.replace("_", " "))]
    if isinstance(value, Mapping) and value and all(_scalar(v) for v in value.values()):
        items = list(value.items())
        blocks.append(
            table(["key", "value"], [[str(k), _cell(v)] for k, v in items[:MAX_ROWS]], _truncated(len(items)))
        )
        numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in value.values())
        if numeric and len(items) >= 3 and all(_BIN_RE.match(str(k).strip()) for k, _ in items):
            png = plots.simple_bars({str(k): float(v) for k, v in items[:MAX_ROWS]}, name.replace("_", " "))
            blocks.append(Figure(f"{fig_prefix}_{_slug(name)}", png, f"{name} (from the stage's stats)."))
        return blocks
    if (
        isinstance(value, Mapping)
        and value
        and all(isinstance(v, Mapping) and all(_scalar(x) for x in v.values()) for v in value.values())
    ):
        cols = list(dict.fromkeys(k for v in value.values() for k in v))
        if len(cols) <= 16:
            rows = [[str(k), *(_cell(v.get(c)) for c in cols)] for k, v in list(value.items())[:MAX_ROWS]]
            blocks.append(table(["", *map(str, cols)], rows, _truncated(len(value))))
            return blocks
    if isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
        flat = [flatten(v) for v in value]
        cols = list(dict.fromkeys(k for f in flat for k in f))
        if len(cols) <= 16:
            rows = [[_cell(f.get(c)) for c in cols] for f in flat[:MAX_ROWS]]
            blocks.append(table(cols, rows, _truncated(len(flat))))
            return blocks
    flat = flatten(value)
    items = list(flat.items())
    blocks.append(table(["key", "value"], [[k, v] for k, v in items[:MAX_ROWS]], _truncated(len(items))))
    return blocks


def _slug(s: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]+", "_", s).strip("_") or "x"


def stage_sections(
    stats: Mapping[str, Any], probes: Mapping[str, Any], stage_order: list[str]
) -> list[Section]:
    """One section per stage that has a stats or probe file, in run order (unknown stages last)."""
    names = sorted(
        set(stats) | set(probes), key=lambda s: (stage_order.index(s) if s in stage_order else 99, s)
    )
    sections = []
    for stage in names:
        sec = Section(f"stage-{_slug(stage)}", TITLES.get(stage, stage.replace("_", " ").title()))
        data = stats.get(stage)
        if data is not None:
            if not isinstance(data, Mapping):
                data = {"stats": data}
            for name, value in data.items():
                sec.add(*render_value(str(name), value, f"stats_{_slug(stage)}"))
        probe = probes.get(stage)
        if isinstance(probe, Mapping):
            sec.add(*probe_blocks(stage, probe))
        sections.append(sec)
    return sections


def probe_blocks(stage: str, probe: Mapping[str, Any]) -> list[Block]:
    """Before/after comparison of a probe (documents right after read vs documents reaching write)."""
    before, after = flatten(probe.get("before", {})), flatten(probe.get("after", {}))
    keys = list(dict.fromkeys([*before, *after]))
    rows = []
    for k in keys[:MAX_ROWS]:
        b, a = before.get(k), after.get(k)
        change = a - b if isinstance(a, int | float) and isinstance(b, int | float) else None
        rows.append([k, b, a, change if not isinstance(change, float) else round(change, 6)])
    return [
        Heading("Before and after curation"),
        Para(
            f"The {stage} probe measured the documents right after reading (before) and those "
            "written (after)."
        ),
        table(["measure", "before", "after", "change"], rows, _truncated(len(keys))),
    ]
