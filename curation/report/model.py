"""The report as data: sections of paragraphs, tables and figures, rendered to HTML and Markdown alike.

Analyses build :class:`Section` values; :mod:`curation.report.render` turns the same sections into the
self-contained HTML page and the Markdown file, so both always say the same thing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Para:
    """A paragraph of plain text (escaped on output). ``kind`` = ``text`` | ``note`` | ``warn``."""

    text: str
    kind: str = "text"


@dataclass(frozen=True)
class Table:
    """A table of already formatted cells. ``numeric`` marks right-aligned columns."""

    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    caption: str = ""
    numeric: tuple[bool, ...] = ()


@dataclass(frozen=True)
class Figure:
    """A chart: inline SVG in the HTML page (PNG when no SVG), PNG file beside the Markdown file."""

    name: str  # file-name stem, unique within the report
    png: bytes
    caption: str
    alt: str = ""
    svg: str = ""  # self-contained <svg> element (ids prefixed with the name), or ""


@dataclass(frozen=True)
class Heading:
    text: str


Block = Para | Table | Figure | Heading


@dataclass
class Section:
    id: str
    title: str
    blocks: list[Block] = field(default_factory=list)

    def add(self, *blocks: Block) -> Section:
        self.blocks.extend(blocks)
        return self


def fmt(value: Any) -> str:
    """Format a cell: thousands separators for ints, 4 significant digits for floats, '' for None."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return str(value)
        if value == int(value) and abs(value) < 1e15:
            return f"{int(value):,}"
        if abs(value) >= 1e6 or abs(value) < 1e-3:
            return f"{value:.3g}"
        return f"{value:,.4g}" if abs(value) >= 1 else f"{value:.4g}"
    return str(value)


def pct(part: float, whole: float) -> str:
    """``part`` as a percentage of ``whole`` ('' when ``whole`` is 0)."""
    return f"{100.0 * part / whole:.1f}%" if whole else ""


def human(n: float) -> str:
    """Short human form of a large count: 1.23M, 4.5B, 7T."""
    a = abs(n)
    for div, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if a >= div:
            return f"{n / div:.3g}{suffix}"
    return fmt(n) if isinstance(n, int) else f"{n:.3g}"


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def table(columns: list[str], rows: list[list[Any]], caption: str = "") -> Table:
    """Build a :class:`Table`, formatting cells with :func:`fmt` and right-aligning numeric columns."""
    numeric = tuple(
        bool(rows) and all(_is_number(r[i]) or r[i] is None for r in rows) for i in range(len(columns))
    )
    return Table(
        columns=tuple(columns),
        rows=tuple(tuple(fmt(c) for c in r) for r in rows),
        caption=caption,
        numeric=numeric,
    )
