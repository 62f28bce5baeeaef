"""Charts: laid out without cut or overlapping text and legends off the data; empty or all-zero data
draws no chart and never raises (an all-rejected run used to fail at 'Data cannot be log-scaled')."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib.pyplot as plt
import pytest

from curation.report import build_report, plots

KINDS = ("web", "book", "code", "conversation")
STAGE_NAMES = ("read", "normalize", "langid", "quality", "license", "dedup", "pii", "toxicity", "write")


def _stages(tokens: list[int]) -> list[dict]:
    out = []
    level = tokens[0]
    for name, t in zip(STAGE_NAMES, tokens, strict=False):
        kinds = {k: {"tokens_in": level // 4, "tokens_out": t // 4} for k in KINDS}
        out.append({"stage": name, "total": {"tokens_in": level, "tokens_out": t}, "by_source_kind": kinds})
        level = t
    return out


REAL = _stages([120000, 119990, 118000, 80000, 80000, 70000, 69990, 69000, 69000])
ZERO = _stages([0] * 9)


@pytest.mark.parametrize(
    "build",
    [
        lambda: plots.token_waterfall_figure(REAL),
        lambda: plots.kind_funnel_figure(REAL),
        lambda: plots.mix_bars_figure(
            {"input": {"web": 0.5, "book": 0.5}, "output": {"web": 0.9, "book": 0.1}}, "mix"
        ),
        lambda: plots.overlap_heatmap_figure(
            ["toxicity:toxic_fraction", "toxicity:toxicity"],
            [[2, 2], [2, 2]],
            "toxicity: rules co-firing on the same document",
        ),
        lambda: plots.overlap_heatmap_figure(
            [f"quality:rule_{i}" for i in range(12)],
            [[(i + j) % 7 for j in range(12)] for i in range(12)],
            "quality",
        ),
        lambda: plots.simple_bars_figure(
            {"1": 10, "2": 3, "3+": 1}, "dedup / size histogram", "size", "count"
        ),
        lambda: plots.loss_vs_params_figure(
            {"a": ([1e3, 1e6, 1e9], [9.0, 5.0, 3.0]), "b": ([1e3, 1e9], [9.5, 4.0])},
            {"compute-optimal for 1 epoch (Approach 3)": 1.5e3, "target": 7e8},
            fitted=(7e7, 9e9),
        ),
    ],
)
def test_chart_layout_has_no_problems(build) -> None:  # type: ignore[no-untyped-def]
    fig = build()
    try:
        assert plots.layout_problems(fig) == []
    finally:
        plt.close(fig)


def test_layout_check_fires_on_a_bad_chart() -> None:
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.plot([0, 1, 2], [0, 1, 2], label="a line")
    ax.legend(loc="center")  # covers the line
    ax.text(1.0, 1.0, "tiny", fontsize=3)
    ax.text(1.9, 2.0, "cut off at the right edge of the picture", fontsize=9)
    probs = plots.layout_problems(fig)
    plt.close(fig)
    assert any("legend covers" in p for p in probs)
    assert any("px" in p for p in probs)
    assert any("cut" in p for p in probs)


def test_waterfall_marks_tiny_removals_so_labels_sit_on_a_bar() -> None:
    fig = plots.token_waterfall_figure(REAL)
    ax = fig.axes[0]
    assert len(ax.collections) >= 1  # hlines for 'normalize' (10 tokens of 120k) and 'pii'
    plt.close(fig)


def test_empty_and_all_zero_data_draw_nothing_and_do_not_raise() -> None:
    assert plots.token_waterfall(ZERO) == b"" and plots.token_waterfall([]) == b""
    assert plots.kind_funnel(ZERO) == b""
    assert plots.mix_bars({"input": {"web": 0.0}}, "m") == b""
    assert plots.overlap_heatmap([], [], "t") == b""
    assert plots.overlap_heatmap(["a"], [[0]], "t")[:4] == b"\x89PNG"  # all-zero matrix still draws
    assert plots.simple_bars({}, "t") == b""
    assert plots.loss_vs_params({}, {}) == b""
    assert plots.kind_funnel(REAL)[:4] == b"\x89PNG"


def test_report_of_a_run_where_every_document_was_rejected(tmp_path: Path) -> None:
    counts = {
        "docs_in": 3,
        "docs_kept": 0,
        "docs_rejected": 3,
        "tokens_in": 0,
        "tokens_out": 0,
        "tokens_rejected": 0,
        "bytes_in": 90,
        "bytes_out": 0,
        "bytes_rejected": 90,
        "rejected_by_reason": {"malformed_json": 3},
    }
    empty = {k: (0 if k != "rejected_by_reason" else {}) for k in counts}
    stages = [
        {
            "stage": "read",
            "total": counts,
            "by_source_kind": {"web": counts},
            "by_source_kind_lang": [],
            "invariant_ok": True,
        },
        {
            "stage": "write",
            "total": empty,
            "by_source_kind": {"web": empty},
            "by_source_kind_lang": [],
            "invariant_ok": True,
        },
    ]
    (tmp_path / "report").mkdir()
    (tmp_path / "report" / "stages.json").write_text(
        json.dumps({"tokenizer": "whitespace", "stages": stages})
    )
    paths = build_report(tmp_path, target_params=1e9)
    summary = json.loads(paths["summary"].read_text())
    assert summary["final"]["tokens"] == 0
    assert "The output is empty" in paths["markdown"].read_text()
