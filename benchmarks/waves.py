"""Waves benchmark: one big run vs the same input in waves (peak RSS, wall, CPU), and kill -9 + --resume.

SCALE TEST: the input is the real dev corpus (`../shared/data/eval-dev/corpus`) repeated ``--scale`` times
(copies get a ``[copy N]`` prefix, so dedup removes them); it measures memory and overhead at size, not
real-text speed (benchmarks/run.py does that at 1x). Every run is its own ``curate run`` process, timed
by ``/usr/bin/time`` (peak RSS of the process tree's largest process, user+sys CPU seconds, wall).

    .venv/bin/python benchmarks/waves.py --scale 8 --wave-mb 16
    .venv/bin/python benchmarks/waves.py --scale 8 --wave-mb 16 --kills 3    # + kill -9 at random points

With ``--kills K`` a wave run is killed with SIGKILL at K random moments (seeded), resumed each time, and
the final data and rejects (multisets of id and text) are compared with the uninterrupted wave run.
"""

from __future__ import annotations

import argparse
import json
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import yaml
from _common import DEV_CORPUS, KINDS, REPO, make_corpus


def write_config(base: Path, data: Path, dest: Path) -> Path:
    """The default pipeline config with its sources pointed at ``data`` and every path made absolute."""
    cfg = yaml.safe_load(base.read_text(encoding="utf-8"))
    root = base.parent
    cfg["models_dir"] = str((root / cfg.get("models_dir", "../models")).resolve())
    cfg["sources"] = [{"name": f"bench-{k}", "kind": k, "paths": [str(data / k / "*.jsonl")]} for k in KINDS]
    for stage in cfg["stages"]:
        stage["rules"] = str((root / stage["rules"]).resolve())
        for ev in (stage.get("options") or {}).get("eval_sets", []):
            ev["path"] = str((root / ev["path"]).resolve())
    cfg["output"] = {**cfg.get("output", {}), "report": False}
    path = dest / "pipeline.yaml"
    path.write_text(yaml.safe_dump(cfg), encoding="utf-8")
    return path


def curate(cfg: Path, out: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "curation.cli",
        "run",
        "--config",
        str(cfg),
        "--output",
        str(out),
        "--progress",
        "none",
        *extra,
    ]


def timed(cmd: list[str]) -> dict[str, float]:
    """Run ``cmd`` under /usr/bin/time: peak RSS (MiB), CPU user+sys (s), wall (s)."""
    proc = subprocess.run(["/usr/bin/time", "-f", "TIME %M %U %S %e", *cmd], capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{proc.stderr[-3000:]}")
    line = [x for x in proc.stderr.splitlines() if x.startswith("TIME ")][-1].split()
    return {
        "peak_rss_mib": int(line[1]) / 1024,
        "cpu_s": float(line[2]) + float(line[3]),
        "wall_s": float(line[4]),
    }


def multiset(out: Path, sub: str) -> Counter:
    import pyarrow.parquet as pq

    if not (out / sub).exists():
        return Counter()
    return Counter((r["id"], r["text"]) for r in pq.read_table(out / sub, columns=["id", "text"]).to_pylist())


def kill_and_resume(cfg: Path, out: Path, wave_args: list[str], kills: int, span: float, seed: int) -> None:
    rng = random.Random(seed)
    for k in range(kills):
        proc = subprocess.Popen(
            curate(cfg, out, *wave_args, *(["--resume"] if k else [])),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        at = rng.uniform(0.05, 0.95) * span
        time.sleep(at)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        print(f"  kill {k + 1}/{kills} at {at:.1f} s")
    final = subprocess.run(curate(cfg, out, *wave_args, "--resume"), capture_output=True, text=True)
    if final.returncode != 0:
        raise SystemExit(f"the final --resume failed:\n{final.stderr[-4000:]}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=DEV_CORPUS)
    ap.add_argument("--scale", type=int, default=8, help="repeat the dev corpus this many times (scale test)")
    ap.add_argument("--wave-mb", type=float, default=16.0)
    ap.add_argument("--kills", type=int, default=0, help="kill -9 + --resume this many times")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--config", type=Path, default=REPO / "rules" / "pipeline.yaml")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmpd = Path(tmp)
        n_docs, n_bytes = make_corpus(args.corpus, args.scale, 0.0, tmpd / "in", full_records=True, shards=16)
        input_mb = sum(p.stat().st_size for p in (tmpd / "in").rglob("*.jsonl")) / 1e6
        cfg = write_config(args.config, tmpd / "in", tmpd)
        print(
            f"SCALE TEST: dev corpus x{args.scale}: {n_docs} docs, {n_bytes / 1e6:.1f} MB text, "
            f"{input_mb:.1f} MB input files"
        )
        one = timed(curate(cfg, tmpd / "one"))
        wave_args = ["--wave-mb", str(args.wave_mb)]
        waves = timed(curate(cfg, tmpd / "waves", *wave_args))
        n_waves = json.loads((tmpd / "waves" / "report" / "run.json").read_text())["waves_total"]
        figures = {
            "scale": args.scale,
            "docs": n_docs,
            "text_mb": round(n_bytes / 1e6, 1),
            "input_mb": round(input_mb, 1),
            "wave_mb": args.wave_mb,
            "waves": n_waves,
            "one_run": one,
            "waves_run": waves,
            "wave_cpu_overhead": round(waves["cpu_s"] / one["cpu_s"] - 1, 3),
            "wave_wall_overhead": round(waves["wall_s"] / one["wall_s"] - 1, 3),
            "one_run_mb_per_cpu_s": round(n_bytes / 1e6 / one["cpu_s"], 3),
            "waves_mb_per_cpu_s": round(n_bytes / 1e6 / waves["cpu_s"], 3),
        }
        if args.kills:
            killed = tmpd / "killed"
            kill_and_resume(cfg, killed, wave_args, args.kills, waves["wall_s"], args.seed)
            figures["kill_resume_identical"] = all(
                multiset(killed, sub) == multiset(tmpd / "waves", sub) for sub in ("data", "rejects")
            )
    for key, value in figures.items():
        print(f"{key:>24}: {value}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
