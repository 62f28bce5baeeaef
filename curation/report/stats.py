"""Stage sections from ``report/stats/<stage>.json`` and ``<stage>.probe.json``, rendered generically.

The stats are whatever each stage chose to combine (dedup clusters and histograms, license tokens per
category and SPDX id, PII entity counts, toxicity/bias co-occurrence...), so the layout adapts to the shape:

nested mappings and lists are split into *records* (the scalar entries of one mapping, with the key path
that leads to it); records sharing the same keys form one table (one row per path, e.g. kind / category
-> docs, tokens), a lone record is a key/value table, and a record whose keys look like histogram bins
(``1``, ``2``, ``3+``, ``10-20``) also gets a bar chart.

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


def records(value: Any, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], dict[str, Any]]]:
    """Split nested stats into records: (path to a mapping, that mapping's scalar entries), in order.

    ``{"web": {"by_category": {"permissive": {"docs": 3, "tokens": 9}}}}`` gives one record
    ``(("web", "by_category", "permissive"), {"docs": 3, "tokens": 9})``. Lists of mappings are indexed.
    """
    if isinstance(value, Mapping):
        own = {str(k): _cell(v) for k, v in value.items() if _scalar(v) or _scalar_list(v)}
        out = [(path, own)] if own else []
        for k, v in value.items():
            if not (_scalar(v) or _scalar_list(v)):
                out += records(v, (*path, str(k)))
        return out
    if isinstance(value, list):
        return [r for i, v in enumerate(value) for r in records(v, (*path, f"[{i}]"))]
    return [(path, {"value": _cell(value)})]


def _scalar_list(v: Any) -> bool:
    return isinstance(v, list) and all(_scalar(x) for x in v)


def render_value(name: str, value: Any, fig_prefix: str) -> list[Block]:
    """Blocks for one named stats value: one table per group of records sharing the same keys."""
    blocks: list[Block] = [Heading(name.replace("_", " "))]
    groups: dict[tuple[str, ...], list[tuple[tuple[str, ...], dict[str, Any]]]] = {}
    for path, rec in records(value):
        groups.setdefault(tuple(rec), []).append((path, rec))
    for cols, recs in groups.items():
        if len(recs) == 1 or len(cols) > 12:
            for path, rec in recs[:MAX_ROWS]:
                items = list(rec.items())
                caption = " / ".join(path)
                if len(items) > MAX_ROWS:
                    caption = f"{caption} ({_truncated(len(items))})".strip()
                blocks.append(table(["key", "value"], [[k, v] for k, v in items[:MAX_ROWS]], caption))
                if _is_histogram(rec):
                    title = " / ".join((name, *path))
                    bars = {k: float(v) for k, v in items[:MAX_ROWS]}
                    lab = (path[-1] if path else name).replace("_", " ")
                    xlabel = lab.replace("histogram", "").strip() or "bin"
                    ylabel = "count" if all(float(v).is_integer() for v in bars.values()) else "value"
                    ch = plots.chart(
                        plots.simple_bars_figure(bars, title.replace("_", " "), xlabel=xlabel, ylabel=ylabel)
                    )
                    slug = _slug("_".join((fig_prefix, name, *path)))
                    blocks.append(Figure(slug, ch.png, f"{title} (from the stage's stats).", svg=ch.svg))
            continue
        rows = [[" / ".join(path) or name, *(rec.get(c) for c in cols)] for path, rec in recs[:MAX_ROWS]]
        blocks.append(table(["", *cols], rows, _truncated(len(recs))))
    return blocks


def _is_histogram(rec: Mapping[str, Any]) -> bool:
    return (
        len(rec) >= 3
        and all(isinstance(v, int | float) and not isinstance(v, bool) for v in rec.values())
        and all(_BIN_RE.match(k.strip()) for k in rec)
    )


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
