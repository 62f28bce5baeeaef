"""Run a curation job: validate and plan, run the Beam pipeline, then write run.json and the report.

Any standard Beam pipeline option is passed through unchanged (``--runner``, ``--setup_file``,
``--flink_master``, ``--project``/``--region``/``--temp_location`` for Dataflow, ...). Without
``--runner`` the in-process ``FnApiRunner`` is used.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import functools
import json
import logging
import signal
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems

from curation.collector import collector_tuned
from curation.config import PipelineConfig, load_config
from curation.incremental import check_state, state_files
from curation.options import beam_options
from curation.pipeline import Plan, build, plan
from curation.progress import Progress, cpu_seconds
from curation.resume import merge_run_reports, plan_resume, read_manifest
from curation.sinks import join_path, write_json
from curation.waves import commit_wave, plan_waves, recover_staging, staging_layout

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
    stage_micros: dict[str, int] | None = None  # monitoring: CPU time (thread) in each stage's own logic
    waves: int = 0  # waves run by this invocation
    wall_seconds: float = 0.0
    cpu_seconds: float = 0.0  # user+sys of the driver and its finished worker processes


class RunCancelled(Exception):
    """The run was stopped by Ctrl-C or SIGTERM; committed waves are kept for ``--resume``."""

    def __init__(self, output: str, waves_done: int, waves_total: int, signal_name: str) -> None:
        self.output = output
        self.waves_done = waves_done
        self.waves_total = waves_total
        super().__init__(
            f"cancelled by {signal_name}: {waves_done} of {waves_total} waves committed in {output}; "
            f"rerun with --resume to continue"
        )


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


def run_info(
    cfg: PipelineConfig,
    the_plan: Plan,
    started: str,
    finished: str | None,
    state: str,
    waves: tuple[int, int] | None = None,
) -> dict:
    info = {
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
    if waves is not None:
        info["waves_done"], info["waves_total"] = waves
    # what a stage runs without (e.g. an absent optional model): said once at build, kept here
    notes = [f"{ps.spec.name}: {n}" for ps in the_plan.stages for n in getattr(ps.transform, "notes", ())]
    if notes:
        info["notes"] = notes
    return info


def _dedup_rules(the_plan: Plan) -> Any:
    """The dedup stage's rules when it is enabled (incremental dedup across waves uses them), else None."""
    for ps in the_plan.stages:
        if ps.spec.name == "dedup":
            return getattr(ps.transform, "rules", None)
    return None


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """Treat SIGTERM like Ctrl-C while the run is going (main thread only), so both cancel cleanly."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt("SIGTERM")

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _read_json(path: str) -> dict[str, Any] | None:
    if not FileSystems.exists(path):
        return None
    with FileSystems.open(path) as fh:
        return json.loads(fh.read().decode("utf-8"))


def _collector_tuned(fn: Any) -> Any:
    """Run ``fn`` under :func:`curation.collector.collector_tuned` (fewer young GC passes while planning and
    running in this process; the caller's settings restored after)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with collector_tuned():
            return fn(*args, **kwargs)

    return wrapper


@_collector_tuned
def run(
    config: str | Path | PipelineConfig,
    output: str | Path,
    beam_args: Sequence[str] = (),
    *,
    report: bool | None = None,
    resume: bool = False,
    overwrite: bool = False,
    wave_size: int | None = None,
    wave_mb: float | None = None,
    progress: Progress | None = None,
) -> RunResult:
    """Run the pipeline described by ``config`` and write everything under ``output``.

    ``resume`` skips input shards recorded as complete in ``output``'s manifest; ``overwrite`` clears a
    used output folder first. Without either, a used output folder is an error. ``wave_size`` (shards)
    and ``wave_mb`` (input MB) cut the shards into waves, each its own pipeline run committed whole
    (:mod:`curation.waves`); without them the whole input is one wave. Ctrl-C or SIGTERM raises
    :class:`RunCancelled` after marking ``run.json`` CANCELLED; committed waves stay for ``--resume``.
    """
    t0, cpu0 = time.monotonic(), cpu_seconds()
    cfg = config if isinstance(config, PipelineConfig) else load_config(config)
    out = str(output).rstrip("/")
    FileSystems.set_options(beam_options(beam_args))  # object-store options before planning lists inputs
    full_plan = plan(cfg)  # fails fast: globs, stages, rules
    if resume:
        for what in recover_staging(out):
            log.info("%s: %s", out, what)
    layout, todo = plan_resume(out, full_plan.shards, resume=resume, overwrite=overwrite)
    waves = plan_waves(todo, layout.index, wave_size=wave_size, wave_mb=wave_mb)
    the_plan = Plan(cfg=cfg, shards=tuple(todo), stages=full_plan.stages)
    skipped = len(full_plan.shards) - len(todo)
    started = _now()
    run_json = join_path(out, "report", "run.json")
    state = "NOTHING_TO_DO"
    micros: dict[str, int] = {}
    rules = _dedup_rules(the_plan)
    monitor = progress or Progress(0, 0, 0, mode="quiet")
    monitor.plan(sum(w.size_bytes for w in waves), len(waves), len(todo), skipped)
    done = 0
    try:
        with _sigterm_as_interrupt():
            for wave in waves:
                write_json(run_json, run_info(cfg, the_plan, started, None, "RUNNING", (done, len(waves))))
                monitor.wave_started(done, len(wave.shards), wave.size_bytes)
                staging = staging_layout(out, wave)
                wave_plan = Plan(cfg=cfg, shards=wave.shards, stages=full_plan.stages, sizes=wave.sizes)
                prior = check_state(state_files(out)) if rules is not None else []
                p = beam.Pipeline(options=beam_options(beam_args))
                build(p, wave_plan, staging, dedup_prior=prior, dedup_state=rules is not None)
                result = p.run()
                result.wait_until_finish()
                state = str(getattr(result, "state", "DONE"))
                for name, value in stage_micros(result).items():
                    micros[name] = micros.get(name, 0) + value
                commit_wave(out, wave)
                done += 1
                wave_stages = _read_json(join_path(out, "report", "runs", wave.run_id, "stages.json"))
                monitor.wave_done(done - 1, wave.size_bytes, wave_stages)
            monitor.close()
            merge_run_reports(out, full_plan.stage_order, cfg.tokenizer)
            write_json(run_json, run_info(cfg, the_plan, started, _now(), state, (done, len(waves))))
            files: dict[str, Any] = {}
            if cfg.output.report if report is None else report:
                files = _build_report(out)
    except KeyboardInterrupt as exc:
        monitor.close()
        # the signal may land between a wave's commit and the counter: the manifest is the truth
        committed = {e.get("run") for e in read_manifest(out)}
        done = sum(w.run_id in committed for w in waves)
        write_json(run_json, run_info(cfg, the_plan, started, _now(), "CANCELLED", (done, len(waves))))
        if done:
            merge_run_reports(out, full_plan.stage_order, cfg.tokenizer)
        raise RunCancelled(out, done, len(waves), str(exc) or "Ctrl-C") from None
    except BaseException:
        monitor.close()
        write_json(run_json, run_info(cfg, the_plan, started, _now(), "FAILED", (done, len(waves))))
        raise
    return RunResult(
        output=out,
        plan=the_plan,
        state=state,
        report_files=files,
        run_id=waves[0].run_id if waves else layout.run_id,
        shards_total=len(full_plan.shards),
        shards_skipped=skipped,
        stage_micros=micros,
        waves=len(waves),
        wall_seconds=time.monotonic() - t0,
        cpu_seconds=cpu_seconds() - cpu0,
    )


def stage_micros(result: Any) -> dict[str, int]:
    """CPU microseconds (thread CPU time, not wall clock) spent in each stage's own logic, summed over
    workers, from the Beam Metrics counters (monitoring only)."""
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
