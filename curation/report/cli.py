"""``curate report <run dir>``: build report.html, report.md and summary.json of a finished run.

curate report out/run1
curate report out/run1 --what-if 'quality.gopher.min_words=30' --what-if 'quality.gopher.max_words=50000'
curate report out/run1 --what-if-rules quality=my_quality.yaml --target-params 7e9 --out /tmp/report
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from curation.report.build import build_report


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="curate report",
        description="Build the curation report of a run directory.",
        epilog=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("run_dir", help="output folder of `curate run`")
    parser.add_argument(
        "--what-if",
        action="append",
        default=[],
        metavar="STAGE.KEY=VALUE",
        help="override a rules key and recompute the funnel from stored signals (repeatable)",
    )
    parser.add_argument(
        "--what-if-rules",
        action="append",
        default=[],
        metavar="[STAGE=]FILE",
        help="replace a stage's whole rules file for the what-if (repeatable)",
    )
    parser.add_argument("--target-params", type=float, default=None, help="target model size, e.g. 7e9")
    parser.add_argument(
        "--show-offensive",
        action="store_true",
        help="show reject examples verbatim (default: mask the toxicity lexicon's words, e.g. f***)",
    )
    parser.add_argument("--out", default=None, help="output folder (default: <run dir>/report)")
    args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    if args.target_params is not None and not args.target_params > 0:
        parser.error("--target-params must be positive")
    try:
        paths = build_report(
            Path(args.run_dir),
            what_if=args.what_if,
            target_params=args.target_params,
            out_dir=Path(args.out) if args.out else None,
            what_if_rules=args.what_if_rules,
            mask_offensive=not args.show_offensive,
        )
    except FileNotFoundError as exc:
        print(f"curate report: {exc}", file=sys.stderr)
        return 2
    for name, path in paths.items():
        print(f"{name:<8} {path}")
    import json

    problems = json.loads(paths["summary"].read_text(encoding="utf-8"))["what_if"]["problems"]
    for p in problems:
        print(f"what-if not evaluated: {p}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
