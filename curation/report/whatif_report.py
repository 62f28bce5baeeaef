"""Lay out a what-if result: the recomputed funnel, reason counts, and how the source-kind mix changes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from curation.report import plots
from curation.report.load import RunData
from curation.report.model import Figure, Heading, Para, Section, pct, table
from curation.report.whatif import StageScenario, WhatIfResult
from curation.scaling.analysis import mix_change, mix_shares


def _retention(run: RunData, stage: str, kind: str) -> float:
    """Share of a kind's tokens leaving ``stage`` that reached the output (later stages' retention)."""
    s = run.stage(stage) or {}
    out = s.get("by_source_kind", {}).get(kind, {}).get("tokens_out", 0)
    fin = run.final.get("by_source_kind", {}).get(kind, {}).get("tokens_out", 0)
    return min(1.0, fin / out) if out else 1.0


def whatif_summary(
    run: RunData, res: WhatIfResult | None, scenarios: Sequence[StageScenario], problems: Sequence[str]
) -> dict[str, Any]:
    """The ``what_if`` part of ``summary.json``."""
    out: dict[str, Any] = {
        "requested": [c for sc in scenarios for c in sc.changes],
        "problems": list(problems),
    }
    if res is None or not scenarios:
        return out
    order = run.stage_order
    funnel = []
    for i, st in enumerate(run.stages):
        t = st.get("total", {})
        d = [sum(res.delta[k][i][j] for k in res.delta) for j in range(4)]
        docs_in, docs_rej = t.get("docs_in", 0) + d[0], t.get("docs_rejected", 0) + d[1]
        tok_in, tok_rej = t.get("tokens_in", 0) + d[2], t.get("tokens_rejected", 0) + d[3]
        edited = t.get("tokens_in", 0) - t.get("tokens_out", 0) - t.get("tokens_rejected", 0)
        funnel.append(
            {
                "stage": order[i],
                "docs_in": docs_in,
                "docs_kept": docs_in - docs_rej,
                "docs_rejected": docs_rej,
                "tokens_in": tok_in,
                "tokens_out": tok_in - tok_rej - edited,
                "tokens_rejected": tok_rej,
                "docs_rejected_delta": d[1],
                "tokens_rejected_delta": d[3],
            }
        )
    final_orig = {k: v.get("tokens_out", 0) for k, v in run.final.get("by_source_kind", {}).items()}
    kinds = sorted(set(final_orig) | set(res.newly_kept) | set(res.newly_rejected))
    upper, estimate = {}, {}
    last_stage = {}
    for k in kinds:
        base = final_orig.get(k, 0) - res.lost_from_output_tokens[k]
        upper[k] = base + res.newly_kept_tokens[k]
        # newly kept docs only passed the changed stages; apply the later stages' observed retention
        last = scenarios[-1].stage
        last_stage[k] = _retention(run, last, k)
        estimate[k] = base + res.newly_kept_tokens[k] * last_stage[k]
    out.update(
        stages_changed=res.stages,
        funnel=funnel,
        newly_rejected={"docs": dict(res.newly_rejected), "tokens": dict(res.newly_rejected_tokens)},
        newly_kept={"docs": dict(res.newly_kept), "tokens": dict(res.newly_kept_tokens)},
        reasons={
            s: {"before": dict(res.reasons_before[s]), "after": dict(res.reasons_after[s])}
            for s in res.stages
        },
        baseline_agreement={
            s: {
                "checked": res.baseline_checked[s],
                "agree": res.baseline_agree[s],
                "undecidable": res.undecidable[s],
            }
            for s in res.stages
        },
        final_tokens={
            "original": {k: final_orig.get(k, 0) for k in kinds},
            "what_if_upper_bound": upper,
            "what_if_estimate": estimate,
        },
        mix_change=mix_change({k: final_orig.get(k, 0) for k in kinds}, estimate),
    )
    return out


def whatif_section(summary: dict[str, Any]) -> Section | None:
    sec = Section("what-if", "What-if thresholds")
    if not summary["requested"] and not summary["problems"]:
        return None
    for p in summary["problems"]:
        sec.add(Para(p, "warn"))
    if "funnel" not in summary:
        return sec
    sec.add(
        Para(
            "Scenario: "
            + "; ".join(summary["requested"])
            + ". Decisions of the changed stages were recomputed "
            "from the signals stored with every kept and rejected document; nothing was re-run."
        )
    )
    for stage, b in summary["baseline_agreement"].items():
        kind = "note" if b["checked"] and b["agree"] == b["checked"] else "warn"
        sec.add(
            Para(
                f"{stage}: with the original rules, the stored signals reproduce {b['agree']:,} of "
                f"{b['checked']:,} "
                f"decisions ({pct(b['agree'], b['checked'])}); {b['undecidable']:,} could not be decided. "
                "Documents whose decision is not reproduced keep their original outcome.",
                kind,
            )
        )
    nr, nk = summary["newly_rejected"], summary["newly_kept"]
    sec.add(
        Para(
            f"Newly rejected: {sum(nr['docs'].values()):,} documents, {sum(nr['tokens'].values()):,} tokens. "
            f"Newly kept: {sum(nk['docs'].values()):,} documents, {sum(nk['tokens'].values()):,} tokens; "
            "they never ran through the later stages, so the funnel counts them as kept to the end "
            "(an upper bound) and the estimate applies the later stages' observed token retention "
            "per source kind."
        )
    )
    sec.add(Heading("Recomputed funnel"))
    sec.add(
        table(
            [
                "stage",
                "docs in",
                "docs kept",
                "docs rejected",
                "Δ rejected",
                "tokens in",
                "tokens out",
                "Δ tokens rejected",
            ],
            [
                [
                    f["stage"],
                    f["docs_in"],
                    f["docs_kept"],
                    f["docs_rejected"],
                    f["docs_rejected_delta"],
                    f["tokens_in"],
                    f["tokens_out"],
                    f["tokens_rejected_delta"],
                ]
                for f in summary["funnel"]
            ],
        )
    )
    for stage, r in summary["reasons"].items():
        reasons = sorted(set(r["before"]) | set(r["after"]), key=lambda x: (-r["before"].get(x, 0), x))
        sec.add(Heading(f"{stage}: rejects by primary reason"))
        sec.add(
            table(
                ["reason", "run", "what-if", "Δ"],
                [
                    [
                        x,
                        r["before"].get(x, 0),
                        r["after"].get(x, 0),
                        r["after"].get(x, 0) - r["before"].get(x, 0),
                    ]
                    for x in reasons
                ],
            )
        )
    sec.add(Heading("Final mix under the what-if"))
    ft = summary["final_tokens"]
    sec.add(
        table(
            [
                "source kind",
                "tokens (run)",
                "tokens (what-if, est.)",
                "upper bound",
                "share (run)",
                "share (what-if)",
                "Δ share (points)",
            ],
            [
                [
                    m["source_kind"],
                    ft["original"][m["source_kind"]],
                    round(m["tokens_after"]),
                    ft["what_if_upper_bound"][m["source_kind"]],
                    f"{100 * m['share_before']:.1f}%",
                    f"{100 * m['share_after']:.1f}%",
                    round(m["share_delta_points"], 2),
                ]
                for m in summary["mix_change"]
            ],
        )
    )
    ch = plots.chart(
        plots.mix_bars_figure(
            {"run": mix_shares(ft["original"]), "what-if": mix_shares(ft["what_if_estimate"])},
            "Output mix: run vs what-if",
        )
    )
    if ch:
        sec.add(
            Figure(
                "whatif_mix",
                ch.png,
                "Share of each source kind in the output, run and what-if (estimate).",
                svg=ch.svg,
            )
        )
    return sec
