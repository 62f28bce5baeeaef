"""Whole default pipeline on the real dev corpus at 1x: start-up and marginal cost, CPU per stage, RSS.

Every stage of rules/pipeline.yaml runs on the dev corpus (``../shared/data/eval-dev/corpus``) written as
JSONL shards in a temporary folder; web pages that have HTML carry only their ``html``, so the reader
extracts their text as it would from a crawl (``--no-html``: use the reference ``text`` instead). Each
measured run is its own fresh Python process (``curation.run.run`` on that input, report off), so start-up
-- interpreter, imports, planning, per-worker model loading -- is paid as a user pays it. Printed:

* start-up: a run on the first ``--startup-docs`` documents (default 10, round-robin over the kinds), in
  CPU-seconds (user+sys of the process and its workers, from ``wait4``) and wall seconds, with where its
  CPU went (imports, planning, the pipeline run);
* the whole corpus: CPU-seconds, wall seconds, MB of text per CPU-second including start-up, and the
  marginal rate ``(MB_full - MB_small) / (CPU_full - CPU_small)``; peak RSS (largest process);
* per stage: CPU-seconds inside each stage's own logic (Beam Metrics counters from thread CPU time,
  summed over workers; every stage has one, write includes the rejects and dedup its state files) and
  their share of the run's CPU, then timers outside the stages (``toxicity.probe``: the bias probe run
  before and after curation); the remainder is interpreter, imports, planning, model set-up and the
  runner itself;
* each worker count of ``--workers`` (default ``1,2``), and the speed-up in wall time.

MB = UTF-8 bytes of the documents' reference text (7.69 MB for the dev corpus, the unit the floors are
stated in; the HTML the reader parses is larger). ``--scale N`` repeats the corpus N times (copies get a
``[copy N]`` prefix, so dedup removes them): a scale test, labelled so, not the headline figure.
``--profile FILE`` samples the full 1-worker run with py-spy (if installed) and prints CPU shares by stage
module and the hottest functions.

    .venv/bin/python benchmarks/run.py                         # 1x, 1 and 2 workers, start-up on 10 docs
    .venv/bin/python benchmarks/run.py --workers 1             # 1x, 1 worker only (half the time)
    .venv/bin/python benchmarks/run.py --scale 4 --workers 1,2 --startup-docs 0   # scale test
    .venv/bin/python benchmarks/run.py --profile /tmp/run1x.txt --json out/bench-1x.json
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import DEV_CORPUS, KINDS, REPO, compile_project, make_corpus

HERE = Path(__file__).resolve().parent


# ----------------------------------------------------------------------------------------------------------
# child: one pipeline run in a fresh process
# ----------------------------------------------------------------------------------------------------------


def child(args: argparse.Namespace) -> None:
    """Run the pipeline once on ``--data`` and write timings (CPU at each phase) to ``--result``."""
    cpu_start = time.process_time()  # interpreter start-up and this module's imports
    t_wall = time.perf_counter()
    import apache_beam  # noqa: F401

    from curation.config import SourceSpec, load_config
    from curation.progress import cpu_seconds
    from curation.run import run

    cpu_imports = time.process_time()
    data = Path(args.data)
    base = load_config(args.config)
    sources = tuple(
        SourceSpec(kind=k, paths=(str(data / k / "*.jsonl"),), name=f"bench-{k}")  # type: ignore[arg-type]
        for k in KINDS
        if any((data / k).glob("*.jsonl"))
    )
    cfg = dataclasses.replace(base, sources=sources)
    beam_args: list[str] = []
    if args.workers > 1:
        beam_args = ["--direct_running_mode=multi_processing", f"--direct_num_workers={args.workers}"]
    t0 = time.perf_counter()
    result = run(cfg, args.out, beam_args, report=False)
    wall_run = time.perf_counter() - t0
    stages = json.loads((Path(args.out) / "report" / "stages.json").read_text())
    Path(args.result).write_text(
        json.dumps(
            {
                "cpu_before_imports_s": cpu_start,
                "cpu_imports_s": cpu_imports - cpu_start,
                "cpu_total_own_s": cpu_seconds(),
                "wall_run_s": wall_run,
                "wall_in_process_s": time.perf_counter() - t_wall,
                "stage_micros": result.stage_micros or {},
                "stages": [
                    {"stage": s["stage"], **{k: s["total"][k] for k in ("docs_in", "docs_kept", "bytes_in")}}
                    for s in stages["stages"]
                ],
            }
        )
    )


def run_child(data: Path, out: Path, workers: int, config: Path, profile: Path | None = None) -> dict:
    """Start :func:`child` in a fresh interpreter; add its CPU (user+sys incl. workers) and peak RSS."""
    result = out.parent / f"{out.name}.json"
    cmd = [sys.executable, str(HERE / "run.py"), "--child", "--data", str(data), "--out", str(out),
           "--workers", str(workers), "--config", str(config), "--result", str(result)]
    if profile is not None:
        spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
        cmd = [spy, "record", "--format", "raw", "--rate", "100", "--subprocesses", "--nonblocking",
               "--output", str(profile), "--", *cmd]
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert proc.stderr is not None
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        sys.stderr.write(err.decode("utf-8", "replace")[-4000:])
        raise SystemExit(f"benchmark run failed ({proc.returncode}): {' '.join(cmd)}")
    r = json.loads(result.read_text())
    r["cpu_s"] = usage.ru_utime + usage.ru_stime
    r["wall_s"] = wall
    r["peak_rss_mib"] = usage.ru_maxrss / 1024
    return r


# ----------------------------------------------------------------------------------------------------------
# parent: build the inputs, run, print
# ----------------------------------------------------------------------------------------------------------


def _stage_rows(r: dict) -> list[tuple[str, int, int, float, float | None]]:
    micros = r["stage_micros"]
    return [
        (s["stage"], s["docs_in"], s["docs_kept"], micros.get(s["stage"], 0) / 1e6, s["bytes_in"] / 1e6)
        for s in r["stages"]
    ]


def print_run(label: str, r: dict, mb: float) -> None:
    print(f"\n== {label}")
    print(f"{'stage':<16}{'docs in':>9}{'kept':>9}{'CPU s':>9}{'share':>8}{'MB/cpu-s':>10}")
    timed = 0.0
    for name, din, kept, cpu, mb_in in _stage_rows(r):
        timed += cpu
        rate = f"{mb_in / cpu:.1f}" if cpu > 0.005 else "-"
        share = f"{cpu / r['cpu_s']:.0%}" if cpu else "-"
        print(f"{name:<16}{din:>9}{kept:>9}{cpu:>9.2f}{share:>8}{rate:>10}")
    stage_names = {s["stage"] for s in r["stages"]}
    for name, us in sorted(r["stage_micros"].items()):
        if name not in stage_names:  # steps outside the stages with a timer of their own (bias probe)
            cpu = us / 1e6
            timed += cpu
            print(f"{name:<16}{'':>18}{cpu:>9.2f}{cpu / r['cpu_s']:>8.0%}")
    rest = r["cpu_s"] - timed
    print(f"{'(untimed)':<16}{'':>18}{rest:>9.2f}{rest / r['cpu_s']:>8.0%}   "
          "interpreter, imports, planning, model set-up, runner")
    print(f"CPU {r['cpu_s']:.2f} s (user+sys incl. workers), wall {r['wall_s']:.2f} s, "
          f"{mb / r['cpu_s']:.3f} MB/cpu-s, peak RSS {r['peak_rss_mib']:.0f} MiB; "
          f"interpreter {r['cpu_before_imports_s']:.2f} + imports {r['cpu_imports_s']:.2f} CPU-s")


def summarise_profile(path: Path, top: int = 25) -> dict:
    """CPU shares of a py-spy raw profile by stage module, and the hottest leaf functions."""
    by_area: collections.Counter[str] = collections.Counter()
    leaves: collections.Counter[str] = collections.Counter()
    total = 0
    area_re = re.compile(r"curation/stages/(\w+)|curation/(io)/|curation/(pipeline|sinks|accounting)\.py")
    for line in path.read_text(errors="replace").splitlines():
        stack, _, n = line.rpartition(" ")
        if not n.isdigit():
            continue
        count = int(n)
        total += count
        frames = stack.split(";")
        area = "other (runner, Beam, pickling)"
        if any("_find_and_load" in f for f in frames):
            by_area["imports (any caller)"] += count
        for f in reversed(frames):
            m = area_re.search(f)
            if m:
                name = m.group(1) or m.group(3)
                area = {"io": "read", "pipeline": "read", "sinks": "write", None: "read"}.get(name, name)
                if m.group(2):
                    area = "read"
                break
        by_area[area] += count
        leaves[frames[-1].strip()] += count
    print(f"\n== py-spy profile ({total} samples at 100 Hz; waiting threads on a busy machine count too, so"
          " read shares, not seconds): share by area (imports also counted in their caller's area)")
    for area, c in by_area.most_common():
        print(f"  {c / total:6.1%}  {c / 100:7.2f} s  {area}")
    print(f"hottest leaf functions (top {top})")
    for f, c in leaves.most_common(top):
        print(f"  {c / total:6.1%}  {f[:150]}")
    return {"samples": total, "by_area": dict(by_area), "leaves": dict(leaves.most_common(top))}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=DEV_CORPUS)
    ap.add_argument("--scale", type=int, default=1, help="scale test: repeat the dev corpus N times")
    ap.add_argument("--workers", default="1,2", help="comma list (>1: multi_processing); default 1 and 2")
    ap.add_argument("--startup-docs", type=int, default=10, help="documents of the start-up run (0: skip)")
    ap.add_argument("--no-html", action="store_true", help="web pages use their reference text, not HTML")
    ap.add_argument("--config", type=Path, default=REPO / "rules" / "pipeline.yaml", help="stages from here")
    ap.add_argument("--profile", type=Path, help="py-spy raw profile of the full 1-worker run")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--data", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    ap.add_argument("--result", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        args.workers = int(args.workers)
        child(args)
        return

    compile_project()  # as installed: no per-process compilation of the project (see _common)
    workers = [int(w) for w in str(args.workers).split(",")]
    figures: dict = {"scale": args.scale, "web_from_html": not args.no_html, "runs": {}}
    with tempfile.TemporaryDirectory() as tmp:
        tmpd = Path(tmp)
        data = tmpd / "in"
        n_docs, n_bytes = make_corpus(args.corpus, args.scale, 0.0, data, full_records=True,
                                      web_from_html=not args.no_html)
        mb = n_bytes / 1e6
        label = "dev corpus at 1x" if args.scale == 1 else f"SCALE TEST: dev corpus repeated x{args.scale}"
        print(f"input: {label}, {n_docs} documents, {mb:.2f} MB of text"
              f"{', web pages from HTML' if not args.no_html else ''}")
        figures.update(docs=n_docs, input_text_mb=round(mb, 3))
        small_mb = 0.0
        if args.startup_docs:
            small = tmpd / "small"
            s_docs, s_bytes = make_corpus(args.corpus, 1, 0.0, small, full_records=True,
                                          web_from_html=not args.no_html, limit_docs=args.startup_docs,
                                          shards=1)
            small_mb = s_bytes / 1e6
        for w in workers:
            key = f"workers_{w}"
            entry: dict = {}
            if args.startup_docs:
                s = run_child(small, tmpd / f"out-small-{w}", w, args.config)
                what = f"start-up: {s_docs} documents ({small_mb * 1e3:.0f} KB), {w} worker(s)"
                print_run(what, s, small_mb)
                entry["startup"] = s
            prof = args.profile if (args.profile and w == 1) else None
            f = run_child(data, tmpd / f"out-full-{w}", w, args.config, profile=prof)
            print_run(f"{label}, {w} worker(s)", f, mb)
            entry["full"] = f
            entry["mb_per_cpu_s"] = mb / f["cpu_s"]
            if args.startup_docs:
                entry["marginal_mb_per_cpu_s"] = (mb - small_mb) / max(1e-9, f["cpu_s"] - s["cpu_s"])
                print(f"start-up {s['cpu_s']:.2f} CPU-s ({s['wall_s']:.1f} s wall); whole run "
                      f"{mb / f['cpu_s']:.3f} MB/cpu-s incl. start-up; marginal "
                      f"{entry['marginal_mb_per_cpu_s']:.3f} MB/cpu-s")
            figures["runs"][key] = entry
            if prof is not None and prof.exists():
                figures["profile"] = summarise_profile(prof)
    if len(workers) > 1:
        one = figures["runs"][f"workers_{workers[0]}"]["full"]
        for w in workers[1:]:
            other = figures["runs"][f"workers_{w}"]["full"]
            print(f"{w} workers vs {workers[0]}: wall {one['wall_s']:.1f} s -> {other['wall_s']:.1f} s = "
                  f"{one['wall_s'] / other['wall_s']:.2f}x; CPU {one['cpu_s']:.1f} -> {other['cpu_s']:.1f} s")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
