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
import gzip
import json
import random
import resource
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
KINDS = ("web", "book", "code", "conversation")


def peak_rss_mb() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, kids) / 1024.0


def make_corpus(corpus: Path | None, scale: int, synthetic_mb: float, dest: Path) -> tuple[int, int]:
    """Write JSONL shards per kind under ``dest``; return (docs, text bytes)."""
    n_docs = n_bytes = 0
    rng = random.Random(0)
    for kind in KINDS:
        (dest / kind).mkdir(parents=True, exist_ok=True)
    if corpus is not None:
        for kind in KINDS:
            src = corpus / f"{kind}.jsonl.gz"
            records = []
            with gzip.open(src, "rt", encoding="utf-8") as fh:
                for line in fh:
                    r = json.loads(line)
                    keep = {"id": r["id"], "text": r["text"]}
                    for k in ("url", "title", "author", "path", "repo", "messages"):
                        if r.get(k) is not None:
                            keep[k] = r[k]
                    records.append(keep)
            with open(dest / kind / "part-0.jsonl", "w", encoding="utf-8") as out:
                for rep in range(scale):
                    for r in records:
                        r2 = dict(r, id=f"{r['id']}-{rep}")
                        if rep and kind != "conversation":
                            # distinct copies, so later stages (dedup) would not see exact duplicates
                            r2["text"] = f"[copy {rep}] " + r["text"]
                        out.write(json.dumps(r2, ensure_ascii=False) + "\n")
                        n_docs += 1
                        n_bytes += len(r2["text"].encode("utf-8"))
    else:
        words = [w for w in Path(__file__).read_text().split() if w.isalpha()] or ["lorem"]
        target = int(synthetic_mb * 1_000_000)
        with open(dest / "web" / "part-0.jsonl", "w", encoding="utf-8") as out:
            while n_bytes < target:
                text = "\n\n".join(
                    " ".join(rng.choice(words) for _ in range(rng.randint(40, 120))) for _ in range(8)
                )
                out.write(json.dumps({"id": f"s{n_docs}", "text": text, "url": f"https://x/{n_docs}"}) + "\n")
                n_docs += 1
                n_bytes += len(text.encode("utf-8"))
    return n_docs, n_bytes


def tokenizer_floor(dest: Path, tokenizer: str) -> float:
    """Seconds the tokenizer alone needs over the same texts (the floor that token counting sets)."""
    from curation.tokens import get_counter

    counter = get_counter(tokenizer)
    t0 = time.perf_counter()
    for f in sorted(dest.rglob("*.jsonl")):
        with open(f, encoding="utf-8") as fh:
            for line in fh:
                counter.count(json.loads(line)["text"])
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=REPO.parent / "shared/data/eval-dev/corpus")
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
