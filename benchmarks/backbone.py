"""Backbone throughput: read JSONL text -> normalize -> token count -> write Parquet, on Beam.

Builds a corpus of a chosen size from the dev corpus (``--corpus``, the four ``*.jsonl.gz`` files of
``../shared/data/eval-dev/corpus``) repeated ``--scale`` times, or generates synthetic text
(``--synthetic-mb``), writes it as JSONL shards (text fields only, so HTML extraction is not measured
here; see benchmarks/html_extraction.py), runs the pipeline with the normalize stage only and prints
docs/s, MB/s of input text per core and peak RSS. A tokenizer-only pass over the same texts is timed in
the same run as the floor that token counting sets.

    .venv/bin/python benchmarks/backbone.py --corpus ../shared/data/eval-dev/corpus --scale 4
    .venv/bin/python benchmarks/backbone.py --synthetic-mb 100
    .venv/bin/python benchmarks/backbone.py --scale 4 --multi-processing 2
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from _common import DEV_CORPUS, KINDS, REPO, make_corpus, peak_rss_mb, tokenizer_floor


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=DEV_CORPUS)
    ap.add_argument("--scale", type=int, default=1)
    ap.add_argument("--synthetic-mb", type=float, default=0.0, help="generate this much text instead")
    ap.add_argument("--multi-processing", type=int, default=0, help="direct_num_workers (0 = in-process)")
    ap.add_argument("--tokenizer", default="cl100k_base")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args()

    from curation.config import PipelineConfig, SourceSpec, StageSpec
    from curation.run import run

    with tempfile.TemporaryDirectory() as tmp:
        tmpd = Path(tmp)
        data = tmpd / "in"
        corpus = None if args.synthetic_mb else args.corpus
        n_docs, n_bytes = make_corpus(corpus, args.scale, args.synthetic_mb, data)
        sources = tuple(
            SourceSpec(kind=k, paths=(str(data / k / "*.jsonl"),), name=f"bench-{k}")  # type: ignore[arg-type]
            for k in KINDS
            if any((data / k).glob("*.jsonl"))
        )
        cfg = PipelineConfig(
            sources=sources,
            stages=(StageSpec(name="normalize", rules="normalize.yaml"),),
            tokenizer=args.tokenizer,
            path=str(REPO / "rules" / "pipeline.yaml"),
        )
        beam_args = []
        cores = 1
        if args.multi_processing:
            cores = args.multi_processing
            beam_args = ["--direct_running_mode=multi_processing", f"--direct_num_workers={cores}"]
        t0 = time.perf_counter()
        run(cfg, str(tmpd / "out"), beam_args, report=False)
        wall = time.perf_counter() - t0
        floor = tokenizer_floor(data, args.tokenizer)
        stages = json.loads((tmpd / "out" / "report" / "stages.json").read_text())

    mb = n_bytes / 1e6
    figures = {
        "docs": n_docs,
        "input_text_mb": round(mb, 2),
        "workers": cores,
        "wall_s": round(wall, 2),
        "docs_per_s": round(n_docs / wall, 1),
        "mb_per_s": round(mb / wall, 2),
        "mb_per_s_per_core": round(mb / wall / cores, 2),
        "tokenizer_only_mb_per_s": round(mb / floor, 2),
        "pipeline_vs_tokenizer_ratio": round(wall / cores / floor, 2),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "tokens_written": stages["stages"][-1]["total"]["tokens_out"],
    }
    for k, v in figures.items():
        print(f"{k:>28}: {v}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
