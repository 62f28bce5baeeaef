"""Report charts drawn with matplotlib's Agg backend and returned as PNG bytes (no files, no network)."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from curation.report.model import human

_KIND_COLORS = {"web": "#4C72B0", "book": "#DD8452", "code": "#55A868", "conversation": "#C44E52"}


def _png(fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png", dpi=100, metadata={"Software": None})
    plt.close(fig)
    return buf.getvalue()


def _color(kind: str, i: int) -> str:
    return _KIND_COLORS.get(kind, plt.get_cmap("tab10")(i % 10))


def token_waterfall(stages: Sequence[Mapping[str, Any]]) -> bytes:
    """Waterfall: tokens entering the first stage, the tokens each stage removes, tokens in the output."""
    if not stages:
        return b""
    start = stages[0]["total"].get("tokens_in", 0)
    labels, bottoms, heights, colors = ["input"], [0.0], [float(start)], ["#4C72B0"]
    level = float(start)
    for s in stages:
        t = s["total"]
        removed = float(t.get("tokens_in", 0) - t.get("tokens_out", 0))
        level -= removed
        labels.append(s["stage"])
        bottoms.append(level if removed >= 0 else level + removed)
        heights.append(abs(removed))
        colors.append("#C44E52" if removed >= 0 else "#55A868")
    final = float(stages[-1]["total"].get("tokens_out", 0))
    labels.append("output")
    bottoms.append(0.0)
    heights.append(final)
    colors.append("#4C72B0")
    fig, ax = plt.subplots(figsize=(max(6.0, 0.8 * len(labels)), 3.8))
    x = np.arange(len(labels))
    ax.bar(x, heights, bottom=bottoms, color=colors)
    for xi, b, h, c in zip(x, bottoms, heights, colors, strict=True):
        if h > 0:
            sign = "-" if c == "#C44E52" else ""
            ax.text(xi, b + h, f"{sign}{human(h)}", ha="center", va="bottom", fontsize=7)
    ax.set_xticks(x, labels, rotation=30, ha="right")
    ax.set_ylabel("tokens")
    ax.set_title("Token waterfall (red: tokens removed by the stage)")
    ax.grid(axis="y", alpha=0.3)
    return _png(fig)


def kind_funnel(stages: Sequence[Mapping[str, Any]]) -> bytes:
    """Tokens leaving each stage, one line per source kind (log scale)."""
    kinds = sorted({k for s in stages for k in s.get("by_source_kind", {})})
    if not kinds:
        return b""
    fig, ax = plt.subplots(figsize=(max(6.0, 0.8 * len(stages)), 3.8))
    x = np.arange(len(stages))
    for i, kind in enumerate(kinds):
        ys = [max(s.get("by_source_kind", {}).get(kind, {}).get("tokens_out", 0), 0) for s in stages]
        ax.plot(x, [y if y > 0 else np.nan for y in ys], marker="o", label=kind, color=_color(kind, i))
    ax.set_xticks(x, [s["stage"] for s in stages], rotation=30, ha="right")
    ax.set_yscale("log")
    ax.set_ylabel("tokens leaving the stage")
    ax.set_title("Token funnel per source kind")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    return _png(fig)


def mix_bars(mixes: Mapping[str, Mapping[str, float]], title: str) -> bytes:
    """Horizontal stacked bars of source-kind shares, one bar per named mix (e.g. input, output, what-if)."""
    names = list(mixes)
    kinds = sorted({k for m in mixes.values() for k in m})
    if not names or not kinds:
        return b""
    fig, ax = plt.subplots(figsize=(7, 0.6 * len(names) + 1.4))
    left = np.zeros(len(names))
    for i, kind in enumerate(kinds):
        vals = np.array([100.0 * mixes[n].get(kind, 0.0) for n in names])
        ax.barh(names, vals, left=left, label=kind, color=_color(kind, i))
        for y, (lv, v) in enumerate(zip(left, vals, strict=True)):
            if v >= 6:
                ax.text(lv + v / 2, y, f"{v:.0f}%", ha="center", va="center", fontsize=7, color="white")
        left += vals
    ax.set_xlim(0, 100)
    ax.set_xlabel("share of tokens (%)")
    ax.invert_yaxis()
    ax.set_title(title)
    ax.legend(fontsize=8, ncol=len(kinds), loc="upper center", bbox_to_anchor=(0.5, -0.35), frameon=False)
    return _png(fig)


def overlap_heatmap(labels: Sequence[str], matrix: Sequence[Sequence[int]], title: str) -> bytes:
    """Co-firing counts of rules (diagonal: documents the rule fired on)."""
    if not labels:
        return b""
    m = np.asarray(matrix, dtype=float)
    n = len(labels)
    fig, ax = plt.subplots(figsize=(min(2.0 + 0.45 * n, 12), min(1.6 + 0.4 * n, 11)))
    im = ax.imshow(m, cmap="Blues")
    ax.set_xticks(range(n), labels, rotation=60, ha="right", fontsize=7)
    ax.set_yticks(range(n), labels, fontsize=7)
    if n <= 16:
        top = m.max() if m.size else 0
        for i in range(n):
            for j in range(n):
                if m[i, j]:
                    color = "white" if m[i, j] > 0.6 * top else "black"
                    ax.text(j, i, human(int(m[i, j])), ha="center", va="center", fontsize=6, color=color)
    fig.colorbar(im, ax=ax, shrink=0.8, label="documents")
    ax.set_title(title, fontsize=9)
    return _png(fig)


def loss_vs_params(
    curves: Mapping[str, tuple[Sequence[float], Sequence[float]]], marks: Mapping[str, float]
) -> bytes:
    """Predicted loss against model size for several scenarios, with vertical marks (e.g. the target)."""
    fig, ax = plt.subplots(figsize=(7, 3.8))
    for name, (xs, ys) in curves.items():
        ax.plot(xs, ys, label=name)
    for name, x in marks.items():
        ax.axvline(x, ls=":", color="gray")
        ax.text(x, ax.get_ylim()[1], f" {name}", rotation=90, va="top", fontsize=7, color="gray")
    ax.set_xscale("log")
    ax.set_xlabel("parameters N (trained on 20 N tokens)")
    ax.set_ylabel("Chinchilla predicted loss")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    ax.set_title("Predicted loss vs model size when training on this corpus")
    return _png(fig)


def simple_bars(values: Mapping[str, float], title: str, xlabel: str = "", ylabel: str = "") -> bytes:
    """Vertical bars of a small mapping (e.g. a histogram from a stage's stats)."""
    if not values:
        return b""
    keys = list(values)
    fig, ax = plt.subplots(figsize=(max(5.0, 0.35 * len(keys) + 2), 3.2))
    ax.bar(range(len(keys)), [float(values[k]) for k in keys], color="#4C72B0")
    ax.set_xticks(range(len(keys)), keys, rotation=45 if len(keys) > 8 else 0, fontsize=7)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=9)
    ax.grid(axis="y", alpha=0.3)
    return _png(fig)
