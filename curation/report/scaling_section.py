"""The data-scaling section: what model the final corpus supports (laws in :mod:`curation.scaling.laws`)."""

from __future__ import annotations

from typing import Any

import numpy as np

from curation.report import plots
from curation.report.model import Figure, Heading, Para, Section, human, table
from curation.scaling import laws
from curation.scaling.analysis import corpus_analysis, target_analysis

CITATIONS = (
    "Hoffmann et al. 2022, Training Compute-Optimal Large Language Models (arXiv:2203.15556); "
    "Kaplan et al. 2020, Scaling Laws for Neural Language Models (arXiv:2001.08361); "
    "Muennighoff et al. 2023, Scaling Data-Constrained Language Models (arXiv:2305.16264)."
)


def scaling_summary(final_tokens: int, target_params: float | None) -> dict[str, Any]:
    out: dict[str, Any] = {"corpus": corpus_analysis(final_tokens)}
    if target_params:
        out["target"] = target_analysis(final_tokens, target_params)
    return out


def _loss_curves(unique: float, target: float | None) -> bytes:
    n_opt = laws.chinchilla_optimal_params(unique)
    lo = min(n_opt / 100, target / 10 if target else n_opt / 100)
    hi = max(n_opt * 1e4, target * 10 if target else 0)
    ns = np.logspace(np.log10(max(lo, 1e3)), np.log10(hi), 80)
    unique_loss = [laws.chinchilla_loss(n, laws.chinchilla_optimal_tokens(n)) for n in ns]
    corpus_loss = [
        laws.chinchilla_loss(
            n, laws.effective_data(unique, laws.epochs_needed(laws.chinchilla_optimal_tokens(n), unique))
        )
        for n in ns
    ]
    marks = {"compute-optimal for 1 epoch": n_opt}
    if target:
        marks["target"] = target
    return plots.loss_vs_params(
        {
            "unlimited unique data (20 tokens/param)": (ns, unique_loss),
            "this corpus, repeated as needed (Muennighoff D')": (ns, corpus_loss),
        },
        marks,
    )


def scaling_section(summary: dict[str, Any], tokenizer: str) -> Section:
    sec = Section("scaling", "Data-scaling analysis")
    c = summary["corpus"]
    d = c.get("unique_tokens", 0)
    if not d:
        return sec.add(Para("The output is empty: no scaling analysis.", "warn"))
    ch = c["chinchilla"]
    sec.add(
        Para(
            f"The output holds D = {human(d)} unique tokens ({tokenizer or 'run tokenizer'}). "
            "Under Chinchilla's "
            f"~{ch['tokens_per_param']:.0f} tokens per parameter, that is compute-optimal for a model of "
            f"~{human(ch['optimal_params'])} parameters trained on it once, costing C = 6ND = "
            f"{ch['training_flops']:.3g} FLOPs."
        ),
        Para(
            "Loss values are in each paper's own units (tokenizer and dataset differ from this corpus): "
            "compare "
            "them as trends, not with your own runs.",
            "note",
        ),
    )
    sec.add(
        table(
            ["quantity", "value", "source"],
            [
                ["compute-optimal parameters N = D/20", human(ch["optimal_params"]), "Hoffmann et al. 2022"],
                ["training compute C = 6ND (FLOPs)", f"{ch['training_flops']:.3g}", "Hoffmann et al. 2022"],
                [
                    "predicted loss L(N, D) = E + A/N^α + B/D^β",
                    round(ch["predicted_loss"], 4),
                    "Hoffmann et al. 2022 (E=1.69, A=406.4, B=410.7, α=0.34, β=0.28)",
                ],
                [
                    "data-limited loss L(D) = (D_c/D)^α_D",
                    round(c["kaplan"]["data_limited_loss"], 4),
                    "Kaplan et al. 2020 (D_c=5.4e13, α_D=0.095)",
                ],
                [
                    "max. effective data U(1+R*_D)",
                    human(c["max_effective_tokens"]),
                    "Muennighoff et al. 2023 (R*_D=15.4)",
                ],
            ],
        )
    )
    sec.add(Heading("Largest compute-optimal model by epochs over this corpus"))
    sec.add(
        table(
            ["epochs", "tokens seen", "effective tokens D'", "compute-optimal params"],
            [
                [
                    s["epochs"],
                    human(s["tokens_seen"]),
                    human(s["effective_tokens"]),
                    human(s["optimal_params"]),
                ]
                for s in c["supports"].values()
            ],
            "Effective tokens D' = U + U·R*(1 − e^(−R/R*)), R = epochs − 1 (Muennighoff et al. 2023).",
        )
    )
    t = summary.get("target")
    if t:
        sec.add(Heading(f"Target model: {human(t['target_params'])} parameters"))
        kind = "note" if t.get("verdict_level") in ("ok", "fine") else "warn"
        sec.add(Para(t["verdict"], kind))
        if t.get("epochs") is not None:
            sec.add(
                table(
                    ["quantity", "value"],
                    [
                        ["tokens needed (20 N)", human(t["tokens_needed"])],
                        ["training compute (FLOPs)", f"{t['training_flops']:.3g}"],
                        ["epochs over this corpus", round(t["epochs"], 2)],
                        ["effective tokens D'", human(t["effective_tokens"])],
                        ["effective share of the tokens trained on", f"{100 * t['effective_fraction']:.1f}%"],
                        ["predicted loss with unlimited unique data", round(t["loss_with_unique_data"], 4)],
                        ["predicted loss with this corpus (D')", round(t["loss_with_this_corpus"], 4)],
                    ],
                )
            )
    else:
        sec.add(
            Para(
                "Pass --target-params (e.g. 7e9) for tokens needed, epochs and a verdict for a model size.",
                "note",
            )
        )
    wi = summary.get("what_if")
    if wi and wi["corpus"].get("unique_tokens"):
        wc = wi["corpus"]
        line = (
            f"Under the what-if thresholds the output would hold ~{human(wc['unique_tokens'])} tokens "
            "(estimate): "
            f"compute-optimal for ~{human(wc['chinchilla']['optimal_params'])} parameters."
        )
        if wi.get("target"):
            line += f" For the target: {wi['target']['verdict']}"
        sec.add(Para(line, "note"))
    png = _loss_curves(float(d), float(t["target_params"]) if t else None)
    sec.add(
        Figure(
            "scaling_loss",
            png,
            "Chinchilla-predicted loss by model size: unique data vs this corpus repeated.",
        )
    )
    sec.add(Para("Sources: " + CITATIONS, "note"))
    return sec
