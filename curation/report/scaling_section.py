"""The data-scaling section: what model the final corpus supports and what each filter cost in model terms.

Every number comes from :mod:`curation.scaling.analysis` as a quantity with its source (paper, equation
or table, approach) and out-of-range warnings; the tables print the source beside the value.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from curation.report import plots
from curation.report.model import Figure, Heading, Para, Section, human, table
from curation.scaling import laws
from curation.scaling.analysis import corpus_analysis, filter_costs, target_analysis

CITATIONS = (
    "Hoffmann et al. 2022, Training Compute-Optimal Large Language Models (arXiv:2203.15556); "
    "Kaplan et al. 2020, Scaling Laws for Neural Language Models (arXiv:2001.08361); "
    "Muennighoff et al. 2023, Scaling Data-Constrained Language Models (arXiv:2305.16264; constants of "
    "github.com/huggingface/datablations)."
)
READING_NAMES = {"approach3": "Chinchilla Approach 3", "table3": "Chinchilla Table 3"}
MAX_FILTERS = 25


def _retention_after(stages: Sequence[Mapping[str, Any]]) -> dict[str, float]:
    """Per stage: the share of its output tokens that later stages keep (tokens_out / tokens_in chained)."""
    out: dict[str, float] = {}
    keep = 1.0
    for s in reversed(stages):
        out[s["stage"]] = keep
        tin = float(s.get("tokens_in", 0))
        keep *= float(s.get("tokens_out", 0)) / tin if tin > 0 else 1.0
    return out


def removed_items(
    stages: Sequence[Mapping[str, Any]],
    removed: Sequence[Mapping[str, Any]],
    overlap: Mapping[str, Any],
) -> list[dict[str, Any]]:
    """Per filter, the tokens undoing only that filter would add to the output (stored counts).

    One row per stage for all its rejects together (when it has several reasons), then per filter: for a
    stage with an overlap analysis (rules recording every reason that fired) a rule's tokens are the tokens
    it removed *alone* (rules that always fire together have none alone; their stage row still counts
    them); otherwise the tokens of the stage's rejects with that reason. Tokens at
    rejection are scaled by the token share the later stages keep. Duplicates add no unique tokens.
    """
    keep = _retention_after(stages)
    items = []
    totals: dict[str, float] = {}
    reasons: dict[str, int] = {}
    for row in removed:
        totals[row["stage"]] = totals.get(row["stage"], 0.0) + float(row.get("tokens") or 0)
        reasons[row["stage"]] = reasons.get(row["stage"], 0) + 1
    for stage, t in totals.items():
        if reasons[stage] < 2 and stage not in overlap:
            continue  # the stage's one reason row says the same
        dup = stage == "dedup"
        items.append(
            {
                "stage": stage,
                "reason": "(whole stage)",
                "tokens": t * keep.get(stage, 1.0),
                "unique": not dup,
                "note": "duplicates: no unique tokens" if dup else "all its rejects",
            }
        )
    for stage, ov in overlap.items():
        for rule in ov.get("rules", []):
            t = float(ov["alone"][rule]["tokens"]) * keep.get(stage, 1.0)
            items.append({"stage": stage, "reason": rule, "tokens": t, "unique": True, "note": "alone"})
    for row in removed:
        if row["stage"] in overlap:
            continue
        t = float(row.get("tokens") or 0) * keep.get(row["stage"], 1.0)
        dup = row["stage"] == "dedup" or row["reason"].startswith("duplicate")
        items.append(
            {
                "stage": row["stage"],
                "reason": row["reason"],
                "tokens": t,
                "unique": not dup,
                "note": "duplicates: no unique tokens" if dup else "",
            }
        )
    return [i for i in items if i["tokens"] > 0]


def scaling_summary(
    final_tokens: int,
    target_params: float | None,
    stages: Sequence[Mapping[str, Any]] = (),
    removed: Sequence[Mapping[str, Any]] = (),
    overlap: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The ``scaling`` part of ``summary.json``: corpus, target (if given) and per-filter costs."""
    corpus = corpus_analysis(final_tokens)
    out: dict[str, Any] = {"corpus": corpus}
    if target_params:
        out["target"] = target_analysis(final_tokens, target_params)
    if final_tokens > 0:
        if target_params:
            n, basis = float(target_params), "the target model size (--target-params)"
        else:
            n = corpus["compute_optimal"]["approach3"]["params"]["value"]
            basis = "the Approach 3 compute-optimal size for one pass over this corpus (no --target-params)"
        items = removed_items(stages, removed, overlap or {})
        costs = filter_costs(final_tokens, n, items)
        costs.sort(key=lambda r: (-(r["loss_delta"]["value"] or 0.0), r["stage"], r["reason"]))
        out["filter_costs"] = {"params": n, "basis": basis, "filters": costs}
    return out


def _q(q: Mapping[str, Any], digits: int = 4) -> str:
    v = q.get("value")
    if v is None:
        return ""
    return (human(v) if abs(v) >= 1e3 else f"{v:.{digits}g}") + (" ⚠" if q.get("warnings") else "")


def _fit_text(r: laws.FitRange, params: bool = True) -> str:
    parts = [f"{human(r.params[0])}-{human(r.params[1])} parameters"] if params else []
    parts.append(f"{human(r.tokens[0])}-{human(r.tokens[1])} tokens")
    if r.unique[0]:
        parts.append(f">= {human(r.unique[0])} unique tokens")
    return ", ".join(parts)


FITTED = {
    "Chinchilla Approach 3": _fit_text(laws.CHINCHILLA_RANGE),
    "Chinchilla Table 3": f"rows for {human(laws.TABLE3[0][0])}-{human(laws.TABLE3[-1][0])} parameters",
    "Muennighoff et al.": _fit_text(laws.MUENNIGHOFF_RANGE),
    "Kaplan et al.": _fit_text(laws.KAPLAN_RANGE, params=False),
}


def _warn_para(warnings: Sequence[str]) -> Para | None:
    """One sentence per law: how many inputs lie outside its fitted range (full list in summary.json)."""
    if not warnings:
        return None
    by_law: dict[str, int] = {}
    for w in warnings:
        law = w.split(":", 1)[0]
        by_law[law] = by_law.get(law, 0) + 1
    parts = [
        f"{law} ({FITTED.get(law, 'see docs/scaling.md')}): {n} input{'s' if n > 1 else ''} outside"
        for law, n in by_law.items()
    ]
    return Para(
        "Extrapolation: values marked ⚠ use inputs outside the range their law was fitted on; read them as "
        f"trends only. {'; '.join(parts)}. Every case is listed in summary.json (scaling.*.warnings).",
        "warn",
    )


def _loss_curves(unique: float, target: float | None) -> plots.Chart:
    n_opt = laws.a3_params_for_tokens(unique)
    lo = min(n_opt / 100, target / 10 if target else n_opt / 100)
    hi = max(n_opt * 1e4, target * 10 if target else 0)
    ns = np.logspace(np.log10(max(lo, 1e3)), np.log10(hi), 80)
    need = [laws.a3_tokens_for_params(n) for n in ns]
    unique_loss = [laws.data_constrained_loss(n, d, d) for n, d in zip(ns, need, strict=True)]
    corpus_loss = [laws.data_constrained_loss(n, d, unique) for n, d in zip(ns, need, strict=True)]
    marks = {"compute-optimal for 1 epoch (Approach 3)": n_opt}
    if target:
        marks["target"] = target
    return plots.chart(
        plots.loss_vs_params_figure(
            {
                "unlimited unique data": (ns, unique_loss),
                "this corpus, repeated as needed": (ns, corpus_loss),
            },
            marks,
            fitted=laws.MUENNIGHOFF_RANGE.params,
        )
    )


def _compute_optimal_table(c: Mapping[str, Any]) -> Any:
    co = c["compute_optimal"]
    r20 = co["rule20"]
    rows = []
    for key, name in (("approach3", READING_NAMES["approach3"]), ("table3", READING_NAMES["table3"])):
        r = co[key]
        rows.append(
            [
                name,
                _q(r["params"]),
                f"{r['tokens_per_param']:.1f}",
                f"{r['training_flops']['value']:.3g}",
                r["params"]["source"],
            ]
        )
    rows.append(
        [
            "20 tokens per parameter",
            _q(r20["params"]),
            "20.0",
            f"{r20['training_flops']['value']:.3g}",
            f"{r20['params']['source']}: {r20['params_vs_approach3_pct']:+.1f}% vs Approach 3, "
            f"{r20['params_vs_table3_pct']:+.1f}% vs Table 3",
        ]
    )
    return table(
        ["reading", "parameters", "tokens / parameter", "training FLOPs (6ND)", "source"],
        rows,
        "The model size for which one pass over this corpus is compute-optimal.",
    )


def _target_blocks(t: Mapping[str, Any]) -> list[Any]:
    blocks: list[Any] = [Heading(f"Target model: {human(t['target_params'])} parameters")]
    kind = "note" if t.get("verdict_level") in ("ok", "fine") else "warn"
    blocks.append(Para(f"{t['verdict']} (epochs by {READING_NAMES[t['primary_reading']]}.)", kind))
    if t.get("epochs") is None:
        return blocks
    a3, t3 = t["readings"]["approach3"], t["readings"]["table3"]

    def row(name: str, key: str, fmt: Any = _q, source: str | None = None) -> list[str]:
        src = source if source is not None else a3[key]["source"]
        return [name, fmt(a3[key]), fmt(t3[key]), src]

    num = lambda v: f"{v:.3g}"  # noqa: E731
    share = lambda v: f"{100 * v:.1f}%"  # noqa: E731
    blocks.append(
        table(
            ["quantity", READING_NAMES["approach3"], READING_NAMES["table3"], "source"],
            [
                [
                    "tokens needed",
                    _q(a3["tokens_needed"]),
                    _q(t3["tokens_needed"]),
                    "Approach 3: D_opt(N), Eq. 4 / Table 3: interpolated",
                ],
                row("training FLOPs (6ND)", "training_flops", lambda q: f"{q['value']:.3g}"),
                row("epochs over this corpus", "epochs", num, "tokens needed / unique tokens"),
                row("effective tokens D'", "effective_tokens"),
                row("D' / tokens trained on", "effective_fraction", share, "Muennighoff et al. 2023, Sec. 3"),
                row("effective parameters N'", "effective_params"),
                row("N' / parameters", "effective_params_fraction", share, "Muennighoff et al. 2023, Sec. 3"),
                row("loss, unlimited unique data", "loss_unique_data"),
                row("loss, this corpus (D' and N')", "loss_this_corpus"),
                row("loss penalty of repeating", "loss_penalty", lambda v: f"{v:+.4f}", laws.SRC_MUENNIGHOFF),
                row("Chinchilla loss, unique data", "loss_unique_chinchilla"),
            ],
            "Losses of one law are comparable with each other, not across laws or with your own runs.",
        )
    )
    return blocks


def _filter_blocks(fc: Mapping[str, Any]) -> list[Any]:
    rows = []
    for r in fc["filters"][:MAX_FILTERS]:
        d = r["loss_delta"]["value"]
        rows.append(
            [
                r["stage"],
                r["reason"] + (f" ({r['note']})" if r["note"] else ""),
                human(round(r["tokens"])),
                f"{r['epochs_with_filter']:.3g} → {r['epochs_without_filter']:.3g}",
                "" if d is None else f"{d:+.2e}",
            ]
        )
    if not rows:
        return []
    return [
        Heading("What each filter cost in model terms"),
        Para(
            f"Per filter: the tokens undoing only that filter would add to the output (stored counts, "
            f"scaled by what later stages keep), and the predicted loss change at N = "
            f"{human(fc['params'])} parameters ({fc['basis']}) trained on its Approach 3 compute-optimal "
            "tokens drawn from this corpus with vs without them (Muennighoff et al. 2023, Sec. 3). Positive "
            "= the filter raises predicted loss by removing data. The laws see quantity only: what a filter "
            "gains in quality is not in these numbers.",
            "note",
        ),
        table(
            ["stage", "filter", "tokens back", "epochs with → without", "loss change"],
            rows,
            f"Largest {len(rows)} of {len(fc['filters'])} filters by loss change.",
        ),
    ]


def scaling_section(summary: dict[str, Any], tokenizer: str) -> Section:
    sec = Section("scaling", "Data-scaling analysis")
    c = summary["corpus"]
    d = c.get("unique_tokens", 0)
    if not d:
        return sec.add(Para("The output is empty: no scaling analysis.", "warn"))
    a3 = c["compute_optimal"]["approach3"]
    sec.add(
        Para(
            f"The output holds U = {human(d)} unique tokens ({tokenizer or 'run tokenizer'}). "
            "One pass over it "
            f"is compute-optimal for ~{human(a3['params']['value'])} parameters under Chinchilla Approach 3 "
            f"and ~{human(c['compute_optimal']['table3']['params']['value'])} under Chinchilla Table 3; each "
            "number below names the paper, equation or table and approach it follows."
        ),
        Para(
            "Loss values are in each paper's own units (tokenizer and dataset differ from this corpus): "
            "compare them as trends within one law, not with your own runs.",
            "note",
        ),
    )
    warn = _warn_para(c.get("warnings", []) + summary.get("target", {}).get("warnings", []))
    if warn:
        sec.add(warn)
    sec.add(_compute_optimal_table(c))
    sec.add(
        table(
            ["quantity", "value", "source"],
            [
                ["Chinchilla loss L(N_opt, U)", _q(c["chinchilla_loss"]), c["chinchilla_loss"]["source"]],
                [
                    "Kaplan data-limited loss L(U)",
                    _q(c["kaplan_data_limited_loss"]),
                    c["kaplan_data_limited_loss"]["source"],
                ],
                [
                    "max. effective data U(1 + R*_D)",
                    _q(c["max_effective_tokens"]),
                    c["max_effective_tokens"]["source"],
                ],
            ],
        )
    )
    sec.add(Heading("Model size by epochs over this corpus"))
    sec.add(
        table(
            [
                "epochs",
                "tokens seen",
                "effective tokens D'",
                "D' share",
                "params (Approach 3)",
                "params (Table 3)",
                "loss, this corpus",
                "loss, unique data",
            ],
            [
                [
                    f"{r['epochs']:g}",
                    human(r["tokens_seen"]),
                    _q(r["effective_tokens"]),
                    f"{100 * r['effective_fraction']:.0f}%",
                    _q(r["approach3_params"]),
                    _q(r["table3_params"]),
                    _q(r["loss_this_corpus"]),
                    _q(r["loss_unique_data"]),
                ]
                for r in c["epochs"]
            ],
            "D' = U + U·R*_D(1 − e^(−R_D/R*_D)), R_D = epochs − 1 (Muennighoff et al. 2023, Sec. 3). Params: "
            "the model whose compute-optimal data equals D' (Hoffmann et al. 2022, Approach 3 Eq. 4 / "
            "Table 3). Losses at the Approach 3 size, Muennighoff et al. (Sec. 3) with D' and N' "
            "(this corpus) vs the same law with as many unique tokens as seen.",
        )
    )
    t = summary.get("target")
    if t:
        sec.add(*_target_blocks(t))
    else:
        sec.add(
            Para(
                "Pass --target-params (e.g. 7e9) for tokens needed, epochs and a verdict for a model size.",
                "note",
            )
        )
    if summary.get("filter_costs"):
        sec.add(*_filter_blocks(summary["filter_costs"]))
    wi = summary.get("what_if")
    if wi and wi["corpus"].get("unique_tokens"):
        wc = wi["corpus"]
        line = (
            f"Under the what-if thresholds the output would hold ~{human(wc['unique_tokens'])} tokens "
            "(estimate): compute-optimal for "
            f"~{human(wc['compute_optimal']['approach3']['params']['value'])} parameters (Approach 3)."
        )
        if wi.get("target"):
            line += f" For the target: {wi['target']['verdict']}"
        sec.add(Para(line, "note"))
    ch = _loss_curves(float(d), float(t["target_params"]) if t else None)
    sec.add(
        Figure(
            "scaling_loss",
            ch.png,
            "Predicted loss by model size (Muennighoff et al. 2023 law; each size trained on its Approach 3 "
            "compute-optimal tokens): unlimited unique data vs this corpus repeated. Shaded: outside the "
            "fitted model sizes.",
            svg=ch.svg,
        )
    )
    sec.add(Para("Sources: " + CITATIONS, "note"))
    return sec
