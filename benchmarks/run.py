"""Full default pipeline benchmark: every stage of rules/pipeline.yaml on the dev corpus at a chosen size.

Prints, overall and per stage: docs/s, MB/s of input text per core, peak RSS, and the share of time spent
in each stage's own logic (Beam Metrics timing counters; the remainder is reading, shuffles, dedup
clustering and writing), as a table and as JSON. The tokenizer alone over the same texts is timed in the
same run as the floor that token counting sets, and the pipeline/tokenizer ratio is reported.

    .venv/bin/python benchmarks/run.py --scale 1
    .venv/bin/python benchmarks/run.py --scale 4 --workers 2 --json out/bench-4x.json
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import tempfile
import time
from pathlib import Path

from _common import DEV_CORPUS, KINDS, REPO, make_corpus, peak_rss_mb, tokenizer_floor


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=DEV_CORPUS)
    ap.add_argument("--scale", type=int, default=1, help="repeat the dev corpus this many times")
    ap.add_argument("--workers", type=int, default=1, help=">1: multi_processing with this many workers")
    ap.add_argument("--config", type=Path, default=REPO / "rules" / "pipeline.yaml", help="stages from here")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args()

    from curation.config import SourceSpec, load_config
    from curation.run import run

    base = load_config(args.config)
    with tempfile.TemporaryDirectory() as tmp:
        tmpd = Path(tmp)
        data = tmpd / "in"
        n_docs, n_bytes = make_corpus(args.corpus, args.scale, 0.0, data, full_records=True)
        sources = tuple(
            SourceSpec(kind=k, paths=(str(data / k / "*.jsonl"),), name=f"bench-{k}")  # type: ignore[arg-type]
            for k in KINDS
        )
        cfg = dataclasses.replace(base, sources=sources)
        beam_args: list[str] = []
        if args.workers > 1:
            beam_args = ["--direct_running_mode=multi_processing", f"--direct_num_workers={args.workers}"]
        cpu0 = os.times()
        t0 = time.perf_counter()
        result = run(cfg, str(tmpd / "out"), beam_args, report=False)
        wall = time.perf_counter() - t0
        cpu1 = os.times()
        floor = tokenizer_floor(data, cfg.tokenizer)
        stages = json.loads((tmpd / "out" / "report" / "stages.json").read_text())

    mb = n_bytes / 1e6
    cores = max(1, args.workers)
    micros = result.stage_micros or {}
    total_stage_s = sum(micros.values()) / 1e6
    cpu_s = (cpu1.user + cpu1.system + cpu1.children_user + cpu1.children_system) - (
        cpu0.user + cpu0.system + cpu0.children_user + cpu0.children_system
    )
    per_stage = {}
    for st in stages["stages"]:
        name = st["stage"]
        secs = micros.get(name, 0) / 1e6
        per_stage[name] = {
            "docs_in": st["total"]["docs_in"],
            "docs_kept": st["total"]["docs_kept"],
            "tokens_in": st["total"]["tokens_in"],
            "tokens_out": st["total"]["tokens_out"],
            "stage_s": round(secs, 2),
            "share_of_wall": round(secs / (wall * cores), 3) if wall else None,
            "stage_mb_per_s": round(st["total"]["bytes_in"] / 1e6 / secs, 2) if secs else None,
        }
    figures = {
        "docs": n_docs,
        "input_text_mb": round(mb, 2),
        "workers": cores,
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu_s, 2),
        "docs_per_s": round(n_docs / wall, 1),
        "mb_per_s": round(mb / wall, 3),
        "mb_per_s_per_core": round(mb / wall / cores, 3),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "tokenizer_only_mb_per_s": round(mb / floor, 2),
        "pipeline_vs_tokenizer_ratio": round((wall * cores) / floor, 1),
        "time_in_stage_logic_s": round(total_stage_s, 2),
        "time_outside_stage_logic_s": round(wall * cores - total_stage_s, 2),
        "stages": per_stage,
    }
    print(
        f"{'stage':<16}{'docs in':>9}{'kept':>9}{'tokens in':>12}{'tokens out':>12}{'secs':>8}"
        f"{'share':>7}{'MB/s':>8}"
    )
    for name, s in per_stage.items():
        share = f"{s['share_of_wall']:.0%}" if s["share_of_wall"] is not None else "-"
        rate = s["stage_mb_per_s"] if s["stage_mb_per_s"] is not None else "-"
        print(
            f"{name:<16}{s['docs_in']:>9}{s['docs_kept']:>9}{s['tokens_in']:>12}{s['tokens_out']:>12}"
            f"{s['stage_s']:>8}{share:>7}{rate!s:>8}"
        )
    for k, v in figures.items():
        if k != "stages":
            print(f"{k:>30}: {v}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
