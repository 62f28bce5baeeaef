"""Timeline of the FnApiRunner's fused stages (wall and CPU) on the `run.py` benchmark's input.

`run.py` reports time inside each curation stage's own logic; this script shows where the *wall* time
goes, including what no stage counter sees: set-up before the first bundle, runner-side shuffles, the
many small dedup clustering stages and per-worker model set-up inside the first bundle of a stage. It
wraps the FnApiRunner's private ``_execute_bundle`` (Beam 2.77) to time each bundle (wall and thread
CPU), so it is a diagnostic for this runner only, not part of the pipeline.

    cd benchmarks && ../.venv/bin/python timeline.py [--scale 16] [--workers 2] [--top 12] [--rss]

Builds the same input as ``run.py`` (the dev corpus at 1x, web text from HTML; ``--scale`` for the scale
test) and runs the pipeline once in this process. Prints the fused stages that took the most CPU of the
runner thread (with ``--workers 2``: the most wall time; start time, wall and CPU seconds, leading
transforms) and the time before the first bundle.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _short(stage_name: str, width: int = 110) -> str:
    """The first few transform names of a fused stage, without the runner's ``ref_AppliedPTransform_``."""
    names = re.findall(r"(?:ref_AppliedPTransform_)?([A-Za-z][\w\-\[\]/]*?)(?:_\d+)?\)", stage_name)
    return " + ".join(dict.fromkeys(names))[:width] or stage_name[:width]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--top", type=int, default=12)
    ap.add_argument("--rss", action="store_true",
                    help="also list every fused stage in order with this process's RSS after it (1 worker)")
    ap.add_argument("--scale", type=int, default=1, help="scale test: repeat the dev corpus N times")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--no-html", action="store_true", help="web pages use their reference text, not HTML")
    ap.add_argument("--corpus", type=Path, default=None)
    ap.add_argument("--config", type=Path, default=HERE.parent / "rules" / "pipeline.yaml")
    args = ap.parse_args()

    sys.path.insert(0, str(HERE))
    from _common import DEV_CORPUS, make_corpus
    from apache_beam.runners.portability.fn_api_runner import fn_runner
    from run import child

    import curation.run

    t0 = [time.perf_counter()]  # reset when curation.run.run starts (after the corpus is generated)
    rows: list[tuple[float, float, float, str]] = []
    rss_after: list[float] = []
    original, original_run = fn_runner.FnApiRunner._execute_bundle, curation.run.run

    def timed(self, ctx, bundle_context_manager, *a, **k):  # type: ignore[no-untyped-def]
        start, cpu = time.perf_counter(), time.thread_time()
        try:
            return original(self, ctx, bundle_context_manager, *a, **k)
        finally:
            rows.append((start - t0[0], time.perf_counter() - start, time.thread_time() - cpu,
                         bundle_context_manager.stage.name))
            if args.rss:
                rss_after.append(_rss_mb())

    def run(*a, **k):  # type: ignore[no-untyped-def]
        t0[0] = time.perf_counter()
        return original_run(*a, **k)

    fn_runner.FnApiRunner._execute_bundle = timed
    curation.run.run = run
    try:
        with tempfile.TemporaryDirectory() as tmp:
            data = Path(tmp) / "in"
            make_corpus(args.corpus or DEV_CORPUS, args.scale, 0.0, data, full_records=True,
                        web_from_html=not args.no_html)
            child(argparse.Namespace(data=str(data), out=str(Path(tmp) / "out"), workers=args.workers,
                                     config=args.config, result=str(Path(tmp) / "result.json")))
            print(Path(tmp, "result.json").read_text()[:2000])
    finally:
        fn_runner.FnApiRunner._execute_bundle, curation.run.run = original, original_run
    if not rows:
        return
    end = max(s + d for s, d, _, _ in rows)
    busy = sum(d for _, d, _, _ in rows)
    cpu_total = sum(c for _, _, c, _ in rows)
    print(f"\nfused stages: {len(rows)} bundles; the first starts {rows[0][0]:.1f} s after run() began,"
          f" the last ends at {end:.1f} s; sum of bundle times {busy:.1f} s wall, {cpu_total:.1f} s CPU of"
          " this thread (with 1 worker the bundles run in it; with more, in the workers)")
    print(f"{'start s':>8} {'secs':>7} {'CPU s':>7} {'share':>6}  fused stage (leading transforms)")
    by = 2 if args.workers == 1 else 1  # CPU of the runner thread with 1 worker; wall with more
    for start, dur, cpu, name in sorted(rows, key=lambda r: -r[by])[: args.top]:
        print(f"{start:8.1f} {dur:7.2f} {cpu:7.2f} {dur / end:6.0%}  {_short(name)}")
    if args.rss:
        print(f"\n{'start s':>8} {'secs':>7} {'RSS MB':>7}  every fused stage in order (RSS after it)")
        for (start, dur, _, name), rss in zip(rows, rss_after, strict=True):
            print(f"{start:8.1f} {dur:7.2f} {rss:7.0f}  {_short(name)}")


def _rss_mb() -> float:
    """This process's resident set size now (Linux /proc), in MB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


if __name__ == "__main__":
    main()
