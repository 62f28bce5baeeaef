"""Run a curation job: validate and plan, run the Beam pipeline, then write run.json and the report.

Any standard Beam pipeline option is passed through unchanged (``--runner``, ``--setup_file``,
``--flink_master``, ``--project``/``--region``/``--temp_location`` for Dataflow, ...). Without
``--runner`` the in-process ``FnApiRunner`` is used.
"""

from __future__ import annotations

import datetime as _dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions

from curation.config import PipelineConfig, load_config
from curation.pipeline import Plan, build, plan
from curation.resume import merge_run_reports, plan_resume, record_shards
from curation.sinks import join_path, write_json

log = logging.getLogger("curation")


@dataclass(frozen=True)
class RunResult:
    output: str
    plan: Plan
    state: str
    report_files: dict[str, Any]
    run_id: str = "r0"
    shards_total: int = 0
    shards_skipped: int = 0
    stage_micros: dict[str, int] | None = None  # monitoring: time in each stage's own logic


def beam_options(beam_args: Sequence[str]) -> PipelineOptions:
    """Pipeline options from the pass-through args, defaulting to the in-process FnApiRunner."""
    args = list(beam_args)
    if not any(a == "--runner" or a.startswith("--runner=") for a in args):
        args.append("--runner=FnApiRunner")
    return PipelineOptions(args)


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


def run_info(cfg: PipelineConfig, the_plan: Plan, started: str, finished: str | None, state: str) -> dict:
    return {
        "config": cfg.path,
        "name": cfg.name,
        "tokenizer": cfg.tokenizer,
        "stages": [
            {"name": s.name, "rules": str(cfg.rules_path(s)) if s.enabled else None, "enabled": s.enabled}
            for s in cfg.stages
        ],
        "shards": len(the_plan.shards),
        "started": started,
        "finished": finished,
        "state": state,
    }


def run(
    config: str | Path | PipelineConfig,
    output: str | Path,
    beam_args: Sequence[str] = (),
    *,
    report: bool | None = None,
    resume: bool = False,
    overwrite: bool = False,
) -> RunResult:
    """Run the pipeline described by ``config`` and write everything under ``output``.

    ``resume`` skips input shards recorded as complete in ``output``'s manifest; ``overwrite`` clears a
    used output folder first. Without either, a used output folder is an error.
    """
    cfg = config if isinstance(config, PipelineConfig) else load_config(config)
    out = str(output).rstrip("/")
    full_plan = plan(cfg)  # fails fast: globs, stages, rules
    layout, todo = plan_resume(out, full_plan.shards, resume=resume, overwrite=overwrite)
    the_plan = Plan(cfg=cfg, shards=tuple(todo), stages=full_plan.stages)
    skipped = len(full_plan.shards) - len(todo)
    started = _now()
    run_json = join_path(out, "report", "run.json")
    state = "NOTHING_TO_DO"
    micros: dict[str, int] = {}
    if todo:
        write_json(run_json, run_info(cfg, the_plan, started, None, "RUNNING"))
        p = beam.Pipeline(options=beam_options(beam_args))
        build(p, the_plan, layout)
        result = p.run()
        result.wait_until_finish()
        state = str(getattr(result, "state", "DONE"))
        micros = stage_micros(result)
        record_shards(layout, todo)
    merge_run_reports(out, full_plan.stage_order, cfg.tokenizer)
    write_json(run_json, run_info(cfg, the_plan, started, _now(), state))

    files: dict[str, Any] = {}
    if cfg.output.report if report is None else report:
        files = _build_report(out)
    return RunResult(
        output=out,
        plan=the_plan,
        state=state,
        report_files=files,
        run_id=layout.run_id,
        shards_total=len(full_plan.shards),
        shards_skipped=skipped,
        stage_micros=micros,
    )


def stage_micros(result: Any) -> dict[str, int]:
    """Microseconds spent in each stage's own logic, from the Beam Metrics counters (monitoring only)."""
    from apache_beam.metrics.metric import MetricsFilter

    from curation.stage import STAGE_MICROS

    try:
        counters = result.metrics().query(MetricsFilter().with_name(STAGE_MICROS))["counters"]
    except Exception:  # some runners do not report metrics; timing is optional
        return {}
    out: dict[str, int] = {}
    for c in counters:
        value = c.committed if c.committed is not None else c.attempted
        out[c.key.metric.namespace] = out.get(c.key.metric.namespace, 0) + int(value or 0)
    return out


def _build_report(out: str) -> dict[str, Any]:
    """Build the curation report if the report package is available (local outputs only)."""
    try:
        from curation.report import build_report
    except ImportError:  # pragma: no cover - report package not installed
        log.warning("curation.report is not available; skipping the report")
        return {}
    if "://" in out:
        log.warning("the report is built from local outputs only; run `curate report` on a copy of %s", out)
        return {}
    return dict(build_report(Path(out)))


def validate(config: str | Path) -> Plan:
    """Load the config and build every stage without running anything (``curate validate``)."""
    return plan(load_config(config))
