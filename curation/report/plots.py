"""Report charts drawn with matplotlib's Agg backend and returned as PNG bytes (no files, no network).

Each chart has a ``*_figure`` builder (returns the matplotlib figure, or None when there is nothing to
draw) and a PNG wrapper. Layout rules, checked by :func:`layout_problems` in the tests: every text stays
inside the image, texts do not overlap each other, legends sit outside the plotted data, log axes are
used only for positive data, and empty or all-zero data draws no chart (it never raises).
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import Normalize

from curation.report.model import human

_KIND_COLORS = {"web": "#4C72B0", "book": "#DD8452", "code": "#55A868", "conversation": "#C44E52"}
_REMOVED, _ADDED, _LEVEL = "#C44E52", "#55A868", "#4C72B0"
DPI = 100


@dataclass(frozen=True)
class Chart:
    """One chart as PNG bytes (Markdown, fallback) and SVG text with real text elements (HTML page)."""

    png: bytes = b""
    svg: str = ""

    def __bool__(self) -> bool:
        return bool(self.png)


def _save(fig: Any, fmt: str) -> bytes:
    buf = io.BytesIO()
    meta = (
        {"Software": None} if fmt == "png" else {"Creator": None, "Date": None, "Format": None, "Type": None}
    )
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "report"}):
        fig.savefig(buf, format=fmt, dpi=DPI, metadata=meta, bbox_inches="tight", pad_inches=0.08)
    return buf.getvalue()


def chart(fig: Any) -> Chart:
    """Render a figure from a ``*_figure`` builder to PNG and SVG and close it (None: empty chart)."""
    if fig is None:
        return Chart()
    try:
        return Chart(_save(fig, "png"), _save(fig, "svg").decode("utf-8"))
    finally:
        plt.close(fig)


def _png(fig: Any) -> bytes:
    return chart(fig).png


def _color(kind: str, i: int) -> Any:
    return _KIND_COLORS.get(kind, plt.get_cmap("tab10")(i % 10))


def _finish(fig: Any) -> Any:
    fig.tight_layout()
    return fig


def _wrap(title: str, width: int) -> str:
    return "\n".join(textwrap.wrap(title, width, break_long_words=False, break_on_hyphens=False)) or title


def token_waterfall_figure(stages: Sequence[Mapping[str, Any]]) -> Any:
    """Waterfall: tokens entering the first stage, the tokens each stage removes, tokens in the output.

    A stage that removes too few tokens to draw a visible bar gets a short tick at its level, so its label
    always sits on a mark; stages that remove nothing get no label.
    """
    if not stages:
        return None
    start = float(stages[0]["total"].get("tokens_in", 0))
    if start <= 0:
        return None
    labels, bottoms, heights, colors = ["input"], [0.0], [start], [_LEVEL]
    level = start
    for s in stages:
        t = s["total"]
        removed = float(t.get("tokens_in", 0) - t.get("tokens_out", 0))
        level -= removed
        labels.append(s["stage"])
        bottoms.append(level if removed >= 0 else level + removed)
        heights.append(abs(removed))
        colors.append(_REMOVED if removed >= 0 else _ADDED)
    labels.append("output")
    bottoms.append(0.0)
    heights.append(max(float(stages[-1]["total"].get("tokens_out", 0)), 0.0))
    colors.append(_LEVEL)
    fig, ax = plt.subplots(figsize=(max(7.0, 0.85 * len(labels)), 4.0))
    x = np.arange(len(labels))
    ax.bar(x, heights, bottom=bottoms, color=colors, width=0.7)
    top = max(b + h for b, h in zip(bottoms, heights, strict=True)) or 1.0
    ax.set_ylim(0, top * 1.15)
    visible = top * 0.004
    for xi, b, h, c in zip(x, bottoms, heights, colors, strict=True):
        if h <= 0:
            continue
        if h < visible:  # too thin to see: mark the level so the label has a bar under it
            ax.hlines(b + h, xi - 0.35, xi + 0.35, colors=c, linewidth=2.5)
        sign = "−" if c == _REMOVED else ""
        ax.annotate(
            f"{sign}{human(h)}",
            (xi, b + h),
            xytext=(0, 2),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize=8,
        )
    ax.set_xticks(x, labels, rotation=30, ha="right")
    ax.set_ylabel("tokens")
    ax.set_title("Token waterfall (red: tokens removed by the stage)")
    ax.grid(axis="y", alpha=0.3)
    return _finish(fig)


def token_waterfall(stages: Sequence[Mapping[str, Any]]) -> bytes:
    return _png(token_waterfall_figure(stages))


def kind_funnel_figure(stages: Sequence[Mapping[str, Any]]) -> Any:
    """Tokens leaving each stage, one line per source kind (log scale when every value drawn is > 0)."""
    kinds = sorted({k for s in stages for k in s.get("by_source_kind", {})})
    if not kinds:
        return None
    series = {
        kind: [float(s.get("by_source_kind", {}).get(kind, {}).get("tokens_out", 0)) for s in stages]
        for kind in kinds
    }
    if not any(v > 0 for ys in series.values() for v in ys):
        return None
    fig, ax = plt.subplots(figsize=(max(7.5, 0.85 * len(stages) + 2.0), 4.0))
    x = np.arange(len(stages))
    for i, kind in enumerate(kinds):
        ys = [y if y > 0 else np.nan for y in series[kind]]
        ax.plot(x, ys, marker="o", label=kind, color=_color(kind, i))
    ax.set_xticks(x, [s["stage"] for s in stages], rotation=30, ha="right")
    ax.set_yscale("log")
    ax.set_ylabel("tokens leaving the stage (log scale)")
    ax.set_title("Token funnel per source kind")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0, frameon=False)
    return _finish(fig)


def kind_funnel(stages: Sequence[Mapping[str, Any]]) -> bytes:
    return _png(kind_funnel_figure(stages))


def mix_bars_figure(mixes: Mapping[str, Mapping[str, float]], title: str) -> Any:
    """Horizontal stacked bars of source-kind shares, one bar per named mix (e.g. input, output, what-if)."""
    names = list(mixes)
    kinds = sorted({k for m in mixes.values() for k in m})
    if not names or not kinds or not any(v > 0 for m in mixes.values() for v in m.values()):
        return None
    fig, ax = plt.subplots(figsize=(7.5, 0.6 * len(names) + 1.6))
    left = np.zeros(len(names))
    for i, kind in enumerate(kinds):
        vals = np.array([100.0 * mixes[n].get(kind, 0.0) for n in names])
        ax.barh(names, vals, left=left, label=kind, color=_color(kind, i))
        for y, (lv, v) in enumerate(zip(left, vals, strict=True)):
            if v >= 8:
                ax.text(lv + v / 2, y, f"{v:.0f}%", ha="center", va="center", fontsize=8, color="white")
        left += vals
    ax.set_xlim(0, 100)
    ax.set_xlabel("share of tokens (%)")
    ax.invert_yaxis()
    ax.set_title(title)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0, frameon=False)
    return _finish(fig)


def mix_bars(mixes: Mapping[str, Mapping[str, float]], title: str) -> bytes:
    return _png(mix_bars_figure(mixes, title))


def overlap_heatmap_figure(labels: Sequence[str], matrix: Sequence[Sequence[int]], title: str) -> Any:
    """Co-firing counts of rules (diagonal: documents the rule fired on); counts printed up to 16 rules."""
    if not labels:
        return None
    m = np.asarray(matrix, dtype=float).reshape(len(labels), len(labels))
    n = len(labels)
    cell = 0.55 if n <= 16 else 0.4
    label_in = 0.075 * min(max(len(lab) for lab in labels) + 4, 52)  # y tick labels, ~0.075 in per char
    fig, ax = plt.subplots(figsize=(min(label_in + cell * n + 1.6, 16), min(1.3 + cell * n, 13)))
    top = float(m.max()) if m.size else 0.0
    im = ax.imshow(m, cmap="Blues", norm=Normalize(vmin=0.0, vmax=max(top, 1.0)))
    ax.set_xticks(range(n), [f"r{i + 1}" for i in range(n)], fontsize=9)
    ax.set_yticks(range(n), [f"r{i + 1} {_wrap(lab, 48)}" for i, lab in enumerate(labels)], fontsize=8)
    if n <= 16:
        for i in range(n):
            for j in range(n):
                if m[i, j]:
                    color = "white" if m[i, j] > 0.6 * max(top, 1.0) else "black"
                    ax.text(j, i, human(int(m[i, j])), ha="center", va="center", fontsize=10, color=color)
    cb = fig.colorbar(im, ax=ax, shrink=0.7, label="documents")
    if top <= 5:
        cb.set_ticks(sorted({0, *range(int(max(top, 1.0)) + 1)}))
    fig.suptitle(_wrap(title, 60), fontsize=10)
    return _finish(fig)


def overlap_heatmap(labels: Sequence[str], matrix: Sequence[Sequence[int]], title: str) -> bytes:
    return _png(overlap_heatmap_figure(labels, matrix, title))


def loss_vs_params_figure(
    curves: Mapping[str, tuple[Sequence[float], Sequence[float]]],
    marks: Mapping[str, float],
    fitted: tuple[float, float] | None = None,
    ylabel: str = "predicted loss (nats/token, Muennighoff et al. 2023 fit: C4, GPT-2 tokenizer)",
) -> Any:
    """Predicted loss against model size for several scenarios, with labelled vertical marks.

    Mark labels are placed inside the axes (left of the line when it is in the right half) so they are
    never cut; ``fitted`` shades the model sizes outside the law's fitted range.
    """
    drawn = {k: (np.asarray(xs, float), np.asarray(ys, float)) for k, (xs, ys) in curves.items() if len(xs)}
    if not drawn:
        return None
    fig, ax = plt.subplots(figsize=(8.0, 4.4))
    for name, (xs, ys) in drawn.items():
        ax.plot(xs, ys, label=name)
    ax.set_xscale("log")
    x_lo = min(float(xs.min()) for xs, _ in drawn.values())
    x_hi = max(float(xs.max()) for xs, _ in drawn.values())
    ax.set_xlim(x_lo, x_hi)
    if fitted:
        if fitted[0] > x_lo:
            ax.axvspan(x_lo, min(fitted[0], x_hi), color="0.85", alpha=0.6, lw=0)
        if fitted[1] < x_hi:
            ax.axvspan(
                max(fitted[1], x_lo),
                x_hi,
                color="0.85",
                alpha=0.6,
                lw=0,
                label="outside the fitted model sizes",
            )
    y0, y1 = ax.get_ylim()
    lx0, lx1 = np.log10(x_lo), np.log10(x_hi)
    for i, (name, x) in enumerate(marks.items()):
        ax.axvline(x, ls=":", color="0.35")
        right_half = (np.log10(x) - lx0) > 0.5 * (lx1 - lx0)
        ax.annotate(
            name,
            (x, y1 - (0.06 + 0.09 * i) * (y1 - y0)),
            xytext=(-4 if right_half else 4, 0),
            textcoords="offset points",
            ha="right" if right_half else "left",
            va="center",
            fontsize=8,
            color="0.2",
            bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none", "alpha": 0.85},
        )
    ax.set_xlabel("parameters N (each trained on its compute-optimal tokens, Chinchilla Approach 3)")
    ax.set_ylabel(_wrap(ylabel, 44), fontsize=9)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0, frameon=False)
    ax.set_title("Predicted loss vs model size when training on this corpus")
    return _finish(fig)


def loss_vs_params(
    curves: Mapping[str, tuple[Sequence[float], Sequence[float]]],
    marks: Mapping[str, float],
    fitted: tuple[float, float] | None = None,
) -> bytes:
    return _png(loss_vs_params_figure(curves, marks, fitted))


def simple_bars_figure(values: Mapping[str, float], title: str, xlabel: str = "", ylabel: str = "") -> Any:
    """Vertical bars of a small mapping (e.g. a histogram from a stage's stats), axes labelled."""
    if not values:
        return None
    keys = list(values)
    fig, ax = plt.subplots(figsize=(max(5.5, 0.4 * len(keys) + 2.5), 3.4))
    ax.bar(range(len(keys)), [float(values[k]) for k in keys], color=_LEVEL)
    ax.set_xticks(range(len(keys)), keys, rotation=45 if len(keys) > 8 else 0, fontsize=8)
    ax.set_xlabel(xlabel or "bin")
    ax.set_ylabel(ylabel or "count")
    ax.set_title(_wrap(title, 70), fontsize=10)
    ax.grid(axis="y", alpha=0.3)
    return _finish(fig)


def simple_bars(values: Mapping[str, float], title: str, xlabel: str = "", ylabel: str = "") -> bytes:
    return _png(simple_bars_figure(values, title, xlabel, ylabel))


def layout_problems(fig: Any, min_font_px: float = 8.0) -> list[str]:
    """Texts outside the figure, overlapping texts, texts below ``min_font_px``, legends over data.

    Used by the tests on every chart builder; measured with the Agg renderer at the saved DPI.
    """
    fig.set_dpi(DPI)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    fb = fig.bbox
    problems = []
    boxes = []
    for t in _drawn_texts(fig):
        if not t.get_visible() or not t.get_text().strip():
            continue
        bb = t.get_window_extent(renderer)
        if bb.width == 0:
            continue
        size_px = t.get_fontsize() * DPI / 72.0
        if size_px < min_font_px:
            problems.append(f"text {t.get_text()!r} is {size_px:.1f} px")
        if bb.x0 < fb.x0 - 1 or bb.y0 < fb.y0 - 1 or bb.x1 > fb.x1 + 1 or bb.y1 > fb.y1 + 1:
            problems.append(f"text {t.get_text()!r} is cut by the image edge")
        boxes.append((t.get_text(), bb))
    for i, (ta, a) in enumerate(boxes):
        for tb, b in boxes[i + 1 :]:
            if a.overlaps(b) and _overlap_area(a, b) > 4.0:
                problems.append(f"texts {ta!r} and {tb!r} overlap")
    for ax in fig.axes:
        leg = ax.get_legend()
        if leg is None:
            continue
        lb = leg.get_window_extent(renderer)
        for line in ax.get_lines():
            xy = line.get_xydata()
            if len(xy) == 0:
                continue
            pts = ax.transData.transform(xy[np.all(np.isfinite(xy), axis=1)])
            inside = (pts[:, 0] > lb.x0) & (pts[:, 0] < lb.x1) & (pts[:, 1] > lb.y0) & (pts[:, 1] < lb.y1)
            if inside.any():
                problems.append(f"legend covers line {line.get_label()!r}")
    return problems


def _drawn_texts(fig: Any) -> list[Any]:
    """Texts the renderer draws: titles, labels, annotations, legend texts, tick labels inside the view."""
    out = [t for t in fig.texts]
    for ax in fig.axes:
        out += [ax.title, ax._left_title, ax._right_title, ax.xaxis.label, ax.yaxis.label, *ax.texts]
        leg = ax.get_legend()
        if leg is not None:
            out += list(leg.get_texts())
        for axis in (ax.xaxis, ax.yaxis):
            lo, hi = sorted(axis.get_view_interval())
            for ticks in (axis.get_major_ticks(), axis.get_minor_ticks()):
                for tick in ticks:
                    loc = tick.get_loc()
                    if loc is not None and lo - 1e-9 * abs(lo) <= loc <= hi + 1e-9 * abs(hi):
                        out += [lab for lab in (tick.label1, tick.label2) if lab.get_visible()]
    return out


def _overlap_area(a: Any, b: Any) -> float:
    w = min(a.x1, b.x1) - max(a.x0, b.x0)
    h = min(a.y1, b.y1) - max(a.y0, b.y0)
    return max(w, 0.0) * max(h, 0.0)
