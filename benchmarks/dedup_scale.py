"""Dedup scale test: the dev dedup set at 1x, 4x and 16x size; wall time, CPU time and peak RSS of each.

The k-x input holds k copies of every document of ``<data>/dedup/docs.jsonl.gz`` (ids suffixed ``~r<j>``,
texts unchanged), so every band bucket holds at least k documents and every document has k - 1 exact
copies. Each size runs in a fresh subprocess (in-process FnApiRunner) so that ``ru_maxrss`` is that run's
peak. Expected: time grows linearly with the input, and peak RSS grows with the number of documents
(fingerprints of ~1.1 KB each), not with their text (joined back once, in the final CoGroupByKey).

``--hot N`` runs the hot-cluster case instead (issue 23): one dev web document, ``N`` byte-identical
copies of it and ``N`` near copies (each with a random word replaced and a unique word appended, so
every variant is *longer* than the shared text), written as JSONL and read with ``curation.io`` as users'
runs are. Prints time, CPU, peak RSS, kept / removed by match, and whether the kept copy is the text the
exact copies share.

Usage: ``.venv/bin/python benchmarks/dedup_scale.py [--data ../shared/data/eval-dev] [--factors 1 4 16]``
       ``.venv/bin/python benchmarks/dedup_scale.py --hot 10000``
"""

from __future__ import annotations

import argparse
import gzip
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def worker(data: Path, factor: int, rules_path: str) -> dict:
    sys.path.insert(0, str(REPO))
    import apache_beam as beam
    from apache_beam.options.pipeline_options import PipelineOptions

    from benchmarks.dedup import cpu_seconds, parse
    from curation.stages.dedup import DedupStage, describe
    from curation.stages.dedup.rules import load_dedup_rules

    rules = load_dedup_rules(rules_path)
    with gzip.open(data / "dedup" / "docs.jsonl.gz", "rt", encoding="utf-8") as fh:
        records = [json.loads(line) for line in fh]
    mb = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "docs.jsonl"
        with path.open("w", encoding="utf-8") as out:
            for j in range(factor):
                for r in records:
                    out.write(json.dumps({**r, "id": f"{r['id']}~r{j}"}) + "\n")
                    mb += len(r["text"].encode("utf-8")) / 1e6
        t, c = time.perf_counter(), cpu_seconds()
        with beam.Pipeline(options=PipelineOptions(["--runner=FnApiRunner"])) as p:
            out = p | beam.io.ReadFromText(str(path)) | beam.Map(parse) | DedupStage(rules, describe(rules))
            _ = (
                (
                    out.kept | "K" >> beam.Map(lambda _: "kept"),
                    out.rejected | "R" >> beam.Map(lambda _: "rej"),
                )
                | beam.Flatten()
                | beam.combiners.Count.PerElement()
                | beam.Map(json.dumps)
                | beam.io.WriteToText(str(Path(tmp) / "counts"))
            )
        wall, cpu = time.perf_counter() - t, cpu_seconds() - c
        files = Path(tmp).glob("counts-*")
        counts = dict(json.loads(line) for f in files for line in f.read_text().splitlines())
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "factor": factor, "docs": len(records) * factor, "mb_text": round(mb, 1), "wall_s": round(wall, 1),
        "cpu_s": round(cpu, 1), "mb_per_cpu_s": round(mb / cpu, 2), "peak_rss_mb": round(peak_mb),
        "kept": counts.get("kept", 0), "rejected": counts.get("rej", 0),
    }


def hot_worker(data: Path, n: int, rules_path: str) -> dict:
    """The hot cluster: 1 + n exact copies + n near copies of one document, read through the readers."""
    import random
    import sys as _sys

    _sys.path.insert(0, str(REPO))
    import apache_beam as beam
    from apache_beam.options.pipeline_options import PipelineOptions

    from benchmarks.dedup import cpu_seconds, source_id, write_shards
    from curation.config import Limits
    from curation.document import Reject
    from curation.io import read_shard
    from curation.stages.dedup import DedupStage, describe
    from curation.stages.dedup.rules import load_dedup_rules

    rules = load_dedup_rules(rules_path)
    with gzip.open(data / "dedup" / "docs.jsonl.gz", "rt", encoding="utf-8") as fh:
        base = next(r for r in map(json.loads, fh) if r["source_kind"] == "web" and len(r["text"]) > 2000)
    rng = random.Random(0)
    words = base["text"].split(" ")
    records = [{"id": "hot-orig", "text": base["text"], "source_kind": "web"}]
    records += [{"id": f"hot-exact-{i}", "text": base["text"], "source_kind": "web"} for i in range(n)]
    for i in range(n):
        w = list(words)
        w[rng.randrange(len(w))] = f"variant{i}"
        records.append({"id": f"hot-near-{i}", "text": " ".join(w) + f" tail{i}", "source_kind": "web"})
    mb = sum(len(r["text"].encode("utf-8")) for r in records) / 1e6

    def outcome(o: object) -> str:
        doc = o.doc if isinstance(o, Reject) else o  # type: ignore[attr-defined]
        return json.dumps([source_id(doc), doc.signals.get("dedup.match", "kept"), doc.text == base["text"]])

    with tempfile.TemporaryDirectory() as tmp:
        shards = write_shards(records, Path(tmp) / "in", shards_per_kind=8)
        t, c = time.perf_counter(), cpu_seconds()
        with beam.Pipeline(options=PipelineOptions(["--runner=FnApiRunner"])) as p:
            docs = (
                p | beam.Create(shards) | beam.FlatMap(read_shard, Limits())
                | beam.Filter(lambda o: not isinstance(o, Reject))
            )
            out = docs | DedupStage(rules, describe(rules))
            _ = (
                (out.kept | "K" >> beam.Map(outcome), out.rejected | "R" >> beam.Map(outcome))
                | beam.Flatten()
                | beam.io.WriteToText(str(Path(tmp) / "out"))
            )
        wall, cpu = time.perf_counter() - t, cpu_seconds() - c
        rows = [json.loads(line) for f in Path(tmp).glob("out-*") for line in f.read_text().splitlines()]
    kept = [r for r in rows if r[1] == "kept"]
    by_match: dict[str, int] = {}
    for r in rows:
        if r[1] != "kept":
            by_match[r[1]] = by_match.get(r[1], 0) + 1
    return {
        "case": f"hot cluster: 1 + {n} exact + {n} near copies",
        "docs": len(records), "mb_text": round(mb, 1),
        "wall_s": round(wall, 1), "cpu_s": round(cpu, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "kept": len(kept), "removed_by_match": by_match,
        "kept_is_shared_text": bool(kept) and all(r[2] for r in kept),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(REPO.parent / "shared" / "data" / "eval-dev"))
    ap.add_argument("--rules", default=str(REPO / "rules" / "dedup.yaml"))
    ap.add_argument("--factors", type=int, nargs="+", default=[1, 4, 16])
    ap.add_argument("--hot", type=int, help="run the hot-cluster case with this many copies of each kind")
    ap.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--hot-worker", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.hot_worker:
        print(json.dumps(hot_worker(Path(args.data), args.hot_worker, args.rules)))
        return
    if args.hot:
        cmd = [sys.executable, __file__, "--data", args.data, "--rules", args.rules]
        cmd += ["--hot-worker", str(args.hot)]
        res = subprocess.run(cmd, check=True, capture_output=True, text=True)
        print(res.stdout.strip().splitlines()[-1])
        return
    if args.worker:
        print(json.dumps(worker(Path(args.data), args.worker, args.rules)))
        return
    rows = []
    for k in args.factors:
        cmd = [sys.executable, __file__, "--data", args.data, "--rules", args.rules, "--worker", str(k)]
        res = subprocess.run(cmd, check=True, capture_output=True, text=True)
        rows.append(json.loads(res.stdout.strip().splitlines()[-1]))
        print(json.dumps(rows[-1]), flush=True)
    base = rows[0]
    for r in rows[1:]:
        cpu, wall = r["cpu_s"] / base["cpu_s"], r["wall_s"] / base["wall_s"]
        rss = r["peak_rss_mb"] / base["peak_rss_mb"]
        label = f"{r['factor']}x vs {base['factor']}x"
        print(f"{label}: time x{cpu:.2f} (cpu), x{wall:.2f} (wall), peak RSS x{rss:.2f}")


if __name__ == "__main__":
    main()
