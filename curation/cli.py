"""The ``curate`` command line.

    curate run --config rules/pipeline.yaml --output out/run1 [any Beam pipeline option]
    curate validate --config rules/pipeline.yaml
    curate stages
    curate report <run dir> [--what-if 'quality.gopher.min_words=30'] [--target-params 7e9]
    curate scaling fit <results.csv>
    curate quality train --positive pos.jsonl --negative neg.jsonl --out model.bin
    curate toxicity prepare-detoxify ...
    curate init DIR                      (editable copy of rules, default config and sample data)
    curate models fetch [--dest DIR]     (language-ID and default quality models)

Subcommands owned by a stage or the report delegate to that module's ``main(argv)``; their modules are
imported only when used.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence
from typing import Any

from curation.rules import ConfigError

# subcommand -> (module with main(argv), help)
_DELEGATES: dict[str, tuple[str, str]] = {
    "report": ("curation.report.cli", "build the curation report of a run directory (HTML, Markdown, JSON)"),
    "scaling": ("curation.scaling.cli", "data-scaling tools: `curate scaling fit <csv>`"),
    "quality": ("curation.stages.quality.cli", "quality classifier tools: `curate quality train ...`"),
    "toxicity": ("curation.stages.toxicity.cli", "toxicity tools: `curate toxicity prepare-detoxify ...`"),
    "init": ("curation.project_init", "write an editable copy of the rules, default config and sample data"),
    "models": ("curation.models", "fetch/build the model files: `curate models fetch [--dest DIR]`"),
}


def _run(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="curate run",
        description="Run the curation pipeline. Unknown options are passed to Beam "
        "(e.g. --runner=FlinkRunner --flink_master=host:8081 --setup_file=./setup.py).",
    )
    parser.add_argument("--config", required=True, help="pipeline config YAML (e.g. rules/pipeline.yaml)")
    parser.add_argument("--output", required=True, help="output folder or URL (gs://, s3://, hdfs://)")
    parser.add_argument("--no-report", action="store_true", help="skip building report/ at the end")
    parser.add_argument(
        "--resume", action="store_true", help="skip input shards already complete in --output"
    )
    parser.add_argument("--overwrite", action="store_true", help="clear a used --output folder first")
    parser.add_argument(
        "--wave-size", type=int, default=None, metavar="N",
        help="run the shards in waves of at most N shards, each committed whole (resumable)",
    )
    parser.add_argument(
        "--wave-mb", type=float, default=None, metavar="MB",
        help="run the shards in waves of at most MB megabytes of input (memory is bounded by the wave)",
    )
    parser.add_argument(
        "--progress", choices=("auto", "bar", "log", "none"), default="auto",
        help="progress display: a bar on a terminal, log lines otherwise (auto)",
    )
    parser.add_argument("--quiet", action="store_true", help="print only errors and the output paths")
    parser.add_argument(
        "--log-level", default="WARNING", choices=("DEBUG", "INFO", "WARNING", "ERROR"),
        help="log level of curation and Beam (default WARNING: no Beam INFO flood)",
    )
    args, beam_args = parser.parse_known_args(argv)
    logging.getLogger().setLevel(args.log_level)
    from curation.progress import summary_lines
    from curation.run import RunCancelled, run

    _check_output(args.output)
    progress = _progress(args)
    try:
        result = run(
            args.config,
            args.output,
            beam_args,
            report=False if args.no_report else None,
            resume=args.resume,
            overwrite=args.overwrite,
            wave_size=args.wave_size,
            wave_mb=args.wave_mb,
            progress=progress,
        )
    except RunCancelled as exc:
        print(f"curate run: {exc}", file=sys.stderr)
        return 130
    out = result.output
    print(
        f"pipeline finished ({result.state}): {result.shards_total - result.shards_skipped} shards read "
        f"in {result.waves} wave(s), {result.shards_skipped} already complete"
    )
    outputs = [
        ("cleaned data", f"{out}/data/source_kind=<kind>/part-*.parquet"),
        ("rejects", f"{out}/rejects/part-*.parquet"),
        ("accounting", f"{out}/report/stages.json"),
        *((f"report {name}", str(path)) for name, path in sorted(result.report_files.items())),
    ]
    stages = None if args.quiet else _stages_json(out)
    for line in summary_lines(stages, result.wall_seconds, result.cpu_seconds, outputs):
        print(line)
    return 0


def _check_output(output: str) -> None:
    """An output URL Beam cannot write (``https://``, ``gs://`` without the extra) fails before planning."""
    from curation.io.shards import filesystem_problem

    problem = filesystem_problem(output)
    if problem:
        raise ConfigError("command line", "--output", problem)


def _progress(args: argparse.Namespace) -> Any:
    from curation.progress import Progress

    mode = "quiet" if args.quiet or args.progress == "none" else args.progress
    # Sizes are known only after planning: run() sets them through Progress.plan().
    return Progress(0, 0, 0, mode=mode)


def _stages_json(out: str) -> dict | None:
    import json

    from apache_beam.io.filesystems import FileSystems

    path = FileSystems.join(out, "report", "stages.json")
    if not FileSystems.exists(path):
        return None
    with FileSystems.open(path) as fh:
        return json.loads(fh.read().decode("utf-8"))


def _validate(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="curate validate", description="Validate a config, build all stages."
    )
    parser.add_argument("--config", required=True)
    args = parser.parse_args(argv)
    from curation.run import validate

    the_plan = validate(args.config)
    print(f"config OK: {len(the_plan.shards)} shards; stages: {' -> '.join(the_plan.stage_order)}")
    return 0


def _stages(argv: Sequence[str]) -> int:
    from curation.stages.registry import STAGES

    for name, entry in STAGES.items():
        print(f"{name:<16} {entry.description}")
    return 0


_LOCAL: dict[str, tuple[object, str]] = {
    "run": (_run, "run the pipeline on the shards listed in a config"),
    "validate": (_validate, "check a config and its rules files without running"),
    "stages": (_stages, "list the available stages"),
}


class _QuietBeamImports(logging.Filter):
    """Hide Beam's import-time note about optional GCP client libraries (no GCP is used unless asked)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("apitools not found")


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:
        handler.addFilter(_QuietBeamImports())
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__.strip())
        print("\ncommands:")
        for name, (_, help_) in {**_LOCAL, **_DELEGATES}.items():
            print(f"  {name:<10} {help_}")
        return 0 if argv else 2
    cmd, rest = argv[0], argv[1:]
    try:
        if cmd in _LOCAL:
            return _LOCAL[cmd][0](rest)  # type: ignore[operator]
        if cmd in _DELEGATES:
            module = importlib.import_module(_DELEGATES[cmd][0])
            return int(module.main(rest))
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    print(f"curate: unknown command {cmd!r}; allowed: {', '.join([*_LOCAL, *_DELEGATES])}", file=sys.stderr)
    return 2


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
