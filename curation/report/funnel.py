"""The token funnel: documents and tokens entering and leaving every stage, per source kind and language.

All numbers come from ``report/stages.json`` unchanged (the accounting is exact; the report only lays it
out), so ``summary.json`` can be checked against it field by field.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from curation.accounting import COUNT_FIELDS
from curation.report import plots
from curation.report.load import RunData
from curation.report.model import Figure, Heading, Para, Section, pct, table
from curation.scaling.analysis import mix_shares


def _pick(counts: Mapping[str, Any]) -> dict[str, int]:
    return {f: int(counts.get(f, 0)) for f in COUNT_FIELDS}


def funnel_summary(run: RunData) -> dict[str, Any]:
    """The funnel part of ``summary.json``: per stage totals and per-kind figures, input and final mix."""
    stages = []
    for s in run.stages:
        stages.append(
            {
                "stage": s["stage"],
                **_pick(s.get("total", {})),
                "rejected_by_reason": dict(s.get("total", {}).get("rejected_by_reason", {})),
                "by_source_kind": {k: _pick(v) for k, v in sorted(s.get("by_source_kind", {}).items())},
                "invariant_ok": bool(s.get("invariant_ok", True)),
            }
        )
    first = run.stages[0] if run.stages else {"total": {}, "by_source_kind": {}}
    final = run.final
    final_by_kind = {
        k: int(v.get("tokens_out", 0)) for k, v in sorted(final.get("by_source_kind", {}).items())
    }
    input_by_kind = {
        k: int(v.get("tokens_in", 0)) for k, v in sorted(first.get("by_source_kind", {}).items())
    }
    ft = final.get("total", {})
    return {
        "stages": stages,
        "input": {
            "docs": int(first.get("total", {}).get("docs_in", 0)),
            "tokens": int(first.get("total", {}).get("tokens_in", 0)),
            "tokens_by_source_kind": input_by_kind,
        },
        "final": {
            "docs": int(ft.get("docs_kept", 0)),
            "tokens": int(ft.get("tokens_out", 0)),
            "bytes": int(ft.get("bytes_out", 0)),
            "tokens_by_source_kind": final_by_kind,
            "docs_by_source_kind": {
                k: int(v.get("docs_kept", 0)) for k, v in sorted(final.get("by_source_kind", {}).items())
            },
            "share_by_source_kind": mix_shares(final_by_kind),
            "by_source_kind_lang": [
                {
                    "source_kind": r["source_kind"],
                    "lang": r["lang"],
                    "docs": int(r.get("docs_kept", 0)),
                    "tokens": int(r.get("tokens_out", 0)),
                }
                for r in final.get("by_source_kind_lang", [])
            ],
        },
    }


def funnel_section(run: RunData, summary: Mapping[str, Any], top_langs: int = 30) -> Section:
    sec = Section("funnel", "Token funnel")
    if not run.stages:
        return sec.add(Para("stages.json lists no stages.", "warn"))
    fin, inp = summary["final"], summary["input"]
    sec.add(
        Para(
            f"{inp['docs']:,} records with {inp['tokens']:,} tokens were read; "
            f"{fin['docs']:,} documents with "
            f"{fin['tokens']:,} tokens ({pct(fin['tokens'], inp['tokens'])} of the tokens read) reached the "
            f"output. Tokens are counted with the run's tokenizer ({run.tokenizer or 'unknown'})."
        )
    )
    bad = [s["stage"] for s in summary["stages"] if not s["invariant_ok"]]
    if bad:
        sec.add(Para(f"Accounting invariant docs_in = kept + rejected broken for: {', '.join(bad)}", "warn"))
    rows = []
    for s in summary["stages"]:
        rows.append(
            [
                s["stage"],
                s["docs_in"],
                s["docs_kept"],
                s["docs_rejected"],
                s["tokens_in"],
                s["tokens_out"],
                s["tokens_rejected"],
                s["tokens_in"] - s["tokens_out"] - s["tokens_rejected"],
                pct(s["tokens_in"] - s["tokens_out"], s["tokens_in"]),
            ]
        )
    sec.add(
        table(
            [
                "stage",
                "docs in",
                "docs kept",
                "docs rejected",
                "tokens in",
                "tokens out",
                "tokens rejected",
                "tokens edited away",
                "token loss",
            ],
            rows,
            "Per stage. 'Tokens edited away' are removed from kept documents (e.g. spans, whitespace).",
        )
    )
    ch = plots.chart(plots.token_waterfall_figure(run.stages))
    if ch:
        sec.add(
            Figure(
                "token_waterfall",
                ch.png,
                "Tokens entering the pipeline, removed per stage, and left.",
                svg=ch.svg,
            )
        )
    sec.add(Heading("Per source kind"))
    kind_rows = []
    for s in summary["stages"]:
        for kind, c in s["by_source_kind"].items():
            kind_rows.append(
                [
                    s["stage"],
                    kind,
                    c["docs_in"],
                    c["docs_kept"],
                    c["tokens_in"],
                    c["tokens_out"],
                    pct(c["tokens_out"], c["tokens_in"]),
                ]
            )
    sec.add(
        table(["stage", "source kind", "docs in", "docs kept", "tokens in", "tokens out", "kept"], kind_rows)
    )
    ch = plots.chart(plots.kind_funnel_figure(run.stages))
    if ch:
        sec.add(
            Figure(
                "kind_funnel", ch.png, "Tokens leaving each stage, per source kind (log scale).", svg=ch.svg
            )
        )
    sec.add(Heading("Final mix"))
    shares_in = mix_shares(inp["tokens_by_source_kind"])
    mix_rows = [
        [
            k,
            fin["docs_by_source_kind"].get(k, 0),
            v,
            f"{100 * fin['share_by_source_kind'][k]:.1f}%",
            f"{100 * shares_in.get(k, 0.0):.1f}%",
            pct(v, inp["tokens_by_source_kind"].get(k, 0)),
        ]
        for k, v in fin["tokens_by_source_kind"].items()
    ]
    sec.add(
        table(["source kind", "docs", "tokens", "share of output", "share of input", "tokens kept"], mix_rows)
    )
    ch = plots.chart(
        plots.mix_bars_figure({"input": shares_in, "output": fin["share_by_source_kind"]}, "Source-kind mix")
    )
    if ch:
        sec.add(
            Figure(
                "mix", ch.png, "Share of each source kind in the tokens read and in the output.", svg=ch.svg
            )
        )
    langs = sorted(fin["by_source_kind_lang"], key=lambda r: (-r["tokens"], r["source_kind"], r["lang"]))
    if langs:
        sec.add(Heading("Output per source kind and language"))
        shown = langs[:top_langs]
        sec.add(
            table(
                ["source kind", "language", "docs", "tokens", "share"],
                [
                    [r["source_kind"], r["lang"], r["docs"], r["tokens"], pct(r["tokens"], fin["tokens"])]
                    for r in shown
                ],
                f"Top {len(shown)} of {len(langs)} (source kind, language) pairs by tokens."
                if len(langs) > len(shown)
                else "",
            )
        )
    return sec
