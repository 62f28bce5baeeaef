"""Build the curation report of a run directory: ``report.html``, ``report.md`` and ``summary.json``.

Sections, in order: token funnel, why documents were removed, filter overlap, what-if thresholds (when
requested), one section per stage that wrote stats, and the data-scaling analysis. The figures in
``summary.json`` come from ``stages.json`` unchanged (funnel) or from one streaming pass over the
Parquet outputs (reasons' tokens, examples, overlap, what-if).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from curation.report.funnel import funnel_section, funnel_summary
from curation.report.langrules import langrules_section
from curation.report.load import RunData, iter_kept, iter_rejected, load_run
from curation.report.mask import load_masker
from curation.report.model import Section
from curation.report.rejects import collect, overlap_section, read_skipped, rejects_summary, removed_section
from curation.report.render import to_html, to_markdown, write_figures
from curation.report.scaling_section import scaling_section, scaling_summary
from curation.report.stats import stage_sections
from curation.report.whatif import build_scenarios, evaluate
from curation.report.whatif_report import whatif_section, whatif_summary
from curation.rules import RULES_DIR
from curation.scaling.analysis import corpus_analysis, target_analysis

SUMMARY_VERSION = 1


def _meta(run: RunData) -> list[str]:
    info = run.run_info
    lines = [f"Run directory: {run.run_dir}"]
    if info.get("config"):
        lines.append(f"Config: {info['config']}")
    lines.append(f"Tokenizer: {run.tokenizer or 'unknown'}")
    if info.get("started"):
        lines.append(
            f"Started {info['started']}, finished {info.get('finished') or '?'} ({info.get('state', '')})"
        )
    stages = [s["name"] + ("" if s.get("enabled", True) else " (disabled)") for s in info.get("stages", [])]
    if stages:
        lines.append("Stages: " + " → ".join(["read", *stages, "write"]))
    return lines


def build_summary(
    run: RunData,
    what_if: Sequence[str] = (),
    target_params: float | None = None,
    what_if_rules: Sequence[str] = (),
    mask_offensive: bool = True,
) -> dict[str, Any]:
    """Compute everything the report shows, as one JSON-serialisable dict (``summary.json``)."""
    funnel = funnel_summary(run)
    masking: dict[str, Any] = {"enabled": False, "words_masked": 0, "note": "off (--show-offensive)"}
    masker = None
    if mask_offensive:
        masker, why = load_masker(run.rules_path("toxicity") or RULES_DIR / "toxicity.yaml")
        masking["note"] = why or "on: words of the toxicity lexicon of the example's language"
        masking["enabled"] = masker is not None
    records = iter_rejected(run, with_text=True, with_signals=False)
    rej = rejects_summary(collect(records, mask=masker.mask if masker else None), run.stage_order)
    if masker is not None:
        masking["words_masked"] = masker.masked
    scenarios, problems = build_scenarios(run, what_if, what_if_rules)
    result = None
    if scenarios:
        result = evaluate(run, scenarios, itertools.chain(iter_kept(run), iter_rejected(run)))
    wi = whatif_summary(run, result, scenarios, problems)
    scaling = scaling_summary(
        funnel["final"]["tokens"], target_params, funnel["stages"], rej["removed"], rej["overlap"]
    )
    if "final_tokens" in wi:
        est = sum(wi["final_tokens"]["what_if_estimate"].values())
        scaling["what_if"] = {"corpus": corpus_analysis(est)}
        if target_params and est > 0:
            scaling["what_if"]["target"] = target_analysis(est, target_params)
    return {
        "version": SUMMARY_VERSION,
        "run_dir": str(run.run_dir),
        "tokenizer": run.tokenizer,
        "stage_order": run.stage_order,
        "funnel": funnel["stages"],
        "input": funnel["input"],
        "final": funnel["final"],
        "removed": rej["removed"],
        "read_skipped": read_skipped(r.signals() for r in iter_rejected(run) if r.stage == "read"),
        "examples_masking": masking,
        "overlap": rej["overlap"],
        "what_if": wi,
        "scaling": scaling,
        "stats_sections": sorted(set(run.stats) | set(run.probes)),
    }


def build_sections(run: RunData, summary: dict[str, Any]) -> list[Section]:
    reasons = {s["stage"]: dict(s["rejected_by_reason"]) for s in summary["funnel"]}
    sections = [
        funnel_section(
            run, {"stages": summary["funnel"], "input": summary["input"], "final": summary["final"]}
        ),
        removed_section(summary, reasons),
        overlap_section(summary),
    ]
    langs = langrules_section(r.signals() for r in itertools.chain(iter_kept(run), iter_rejected(run)))
    if langs is not None:
        sections.append(langs)
    wi = whatif_section(summary["what_if"])
    if wi is not None:
        sections.append(wi)
    sections += stage_sections(run.stats, run.probes, run.stage_order)
    sections.append(scaling_section(summary["scaling"], run.tokenizer))
    return sections


def build_report(
    run_dir: Path,
    what_if: Sequence[str] = (),
    target_params: float | None = None,
    out_dir: Path | None = None,
    what_if_rules: Sequence[str] = (),
    mask_offensive: bool = True,
) -> dict[str, Path]:
    """Write ``report.html``, ``report.md`` (+ ``figures/``) and ``summary.json`` to ``out_dir``.

    ``out_dir`` defaults to ``<run_dir>/report``. ``what_if`` holds overrides such as
    ``quality.gopher.min_words=30``; ``what_if_rules`` whole rules files (``STAGE=FILE`` or ``FILE``);
    ``target_params`` a model size for the scaling verdict; ``mask_offensive`` masks the toxicity
    lexicon's words in reject examples (default on). Requests that cannot be evaluated are
    explained in the report (and in ``summary.json['what_if']['problems']``) instead of failing it.
    """
    run = load_run(Path(run_dir))
    out = Path(out_dir) if out_dir is not None else run.run_dir / "report"
    out.mkdir(parents=True, exist_ok=True)
    summary = build_summary(run, what_if, target_params, what_if_rules, mask_offensive)
    sections = build_sections(run, summary)
    title = f"Curation report: {run.run_info.get('name') or run.run_dir.name}"
    meta = _meta(run)
    paths = {
        "html": out / "report.html",
        "markdown": out / "report.md",
        "summary": out / "summary.json",
    }
    paths["html"].write_text(to_html(title, meta, sections), encoding="utf-8")
    write_figures(sections, out / "figures")
    paths["markdown"].write_text(to_markdown(title, meta, sections, "figures"), encoding="utf-8")
    paths["summary"].write_text(
        json.dumps(summary, indent=2, sort_keys=False, ensure_ascii=False, default=str) + "\n",
        encoding="utf-8",
    )
    return paths
