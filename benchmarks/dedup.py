"""Dedup benchmark: quality against the dev ground truth, signature and whole-stage throughput.

Runs the dedup stage (in-process FnApiRunner) on ``<data>/dedup/docs.jsonl.gz`` and scores it against
``<data>/dedup/clusters.jsonl`` (connected components of word-5-gram Jaccard >= 0.8):

* removed-document precision / recall / F1: the ground-truth removed set is every member of a
  ground-truth cluster except the copy the same keep rule keeps (the dev set has no license or quality
  signals, so: longest, then smallest id);
* pairwise cluster precision / recall / F1 over all same-cluster document pairs;
* throughput per core: signatures alone (fingerprinting, ``time.process_time``) and the whole stage
  (process CPU time of the dedup pipeline minus that of the same read-and-count pipeline without dedup;
  also the wall time). MB = UTF-8 bytes of document text.

Usage: ``.venv/bin/python benchmarks/dedup.py [--data ../shared/data/eval-dev] [--rules rules/dedup.yaml]``
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from curation.document import Document, Reject  # noqa: E402
from curation.stages.dedup import DedupStage, describe  # noqa: E402
from curation.stages.dedup.fingerprint import Fingerprinter  # noqa: E402
from curation.stages.dedup.rules import DedupRules, load_dedup_rules  # noqa: E402


def parse(line: str) -> Document:
    d = json.loads(line)
    return Document(
        id=d["id"], source_kind=d["source_kind"], source="eval-dev", text=d["text"], url=d.get("url"),
        token_count=len(d["text"].split()),
    )


def cpu_seconds() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _assignment(out: Document | Reject) -> str:
    doc = out.doc if isinstance(out, Reject) else out
    reason = out.reason if isinstance(out, Reject) else ""
    return json.dumps([doc.id, doc.signals.get("dedup.cluster_id"), reason])


def run_pipeline(path: Path, rules: DedupRules | None, out_dir: Path) -> tuple[float, float]:
    """Run read (+ dedup) and write assignments; return (wall seconds, process CPU seconds)."""
    t, c = time.perf_counter(), cpu_seconds()
    with beam.Pipeline(options=PipelineOptions(["--runner=FnApiRunner"])) as p:
        docs = p | "Read" >> beam.io.ReadFromText(str(path)) | "Parse" >> beam.Map(parse)
        if rules is None:
            _ = docs | "Count" >> beam.combiners.Count.Globally() | "WriteCount" >> beam.io.WriteToText(
                str(out_dir / "count")
            )
        else:
            out = docs | DedupStage(rules, describe(rules))
            _ = (
                (out.kept, out.rejected)
                | "Outcomes" >> beam.Flatten()
                | "Assign" >> beam.Map(_assignment)
                | "WriteAssign" >> beam.io.WriteToText(str(out_dir / "assign"))
            )
            _ = out.stats | "StatsJson" >> beam.Map(json.dumps) | "WriteStats" >> beam.io.WriteToText(
                str(out_dir / "stats")
            )
    return time.perf_counter() - t, cpu_seconds() - c


def read_lines(out_dir: Path, prefix: str) -> list:
    files = sorted(out_dir.glob(f"{prefix}-*"))
    return [json.loads(line) for f in files for line in f.read_text().splitlines()]


def prf(pred: set, truth: set) -> dict[str, float]:
    tp = len(pred & truth)
    p = tp / len(pred) if pred else 1.0
    r = tp / len(truth) if truth else 1.0
    return {"precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0}


def pairs(clusters: list[list[str]]) -> set[tuple[str, str]]:
    return {tuple(sorted(pr)) for c in clusters for pr in itertools.combinations(c, 2)}  # type: ignore[misc]


def score(docs: dict[str, Document], assign: list, truth_clusters: list[list[str]]) -> dict:
    removed_pred = {doc_id for doc_id, _, reason in assign if reason.startswith("duplicate_of:")}
    removed_truth = set()
    for c in truth_clusters:
        keeper = min(c, key=lambda i: (-len(docs[i].text), i))
        removed_truth |= {i for i in c if i != keeper}
    by_cluster: dict[str, list[str]] = {}
    for doc_id, cluster_id, _ in assign:
        by_cluster.setdefault(cluster_id, []).append(doc_id)
    return {
        "removed_docs": {"predicted": len(removed_pred), "truth": len(removed_truth),
                         **prf(removed_pred, removed_truth)},
        "pairwise": prf(pairs(list(by_cluster.values())), pairs(truth_clusters)),
    }


def signature_throughput(docs: list[Document], rules: DedupRules) -> dict[str, float]:
    fp = Fingerprinter(rules)
    fp.setup()
    mb = sum(d.num_bytes for d in docs) / 1e6
    t = time.process_time()
    for i in range(0, len(docs), rules.batch_size):
        fp.fingerprint_batch(docs[i : i + rules.batch_size])
    cpu = time.process_time() - t
    return {"mb": round(mb, 3), "cpu_s": round(cpu, 3), "mb_per_cpu_s": round(mb / cpu, 2)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(REPO.parent / "shared" / "data" / "eval-dev"))
    ap.add_argument("--rules", default=str(REPO / "rules" / "dedup.yaml"))
    ap.add_argument("--json", help="also write the figures to this file")
    args = ap.parse_args()
    rules = load_dedup_rules(args.rules)
    data = Path(args.data) / "dedup"
    with gzip.open(data / "docs.jsonl.gz", "rt", encoding="utf-8") as fh:
        docs = {d.id: d for d in map(parse, fh)}
    truth = [json.loads(line)["ids"] for line in (data / "clusters.jsonl").read_text().splitlines() if line]
    mb = sum(d.num_bytes for d in docs.values()) / 1e6
    with tempfile.TemporaryDirectory() as tmp:
        tmpd = Path(tmp)
        plain = tmpd / "docs.jsonl"
        with gzip.open(data / "docs.jsonl.gz", "rb") as src:
            plain.write_bytes(src.read())
        base_wall, base_cpu = run_pipeline(plain, None, tmpd)
        wall, cpu = run_pipeline(plain, rules, tmpd)
        assign = read_lines(tmpd, "assign")
        stats = dict(read_lines(tmpd, "stats"))
    result = {
        "docs": len(docs),
        "mb_text": round(mb, 3),
        "quality": score(docs, assign, truth),
        "signatures": signature_throughput(list(docs.values()), rules),
        "stage": {
            "wall_s": round(wall, 2), "cpu_s": round(cpu, 2),
            "baseline_read_wall_s": round(base_wall, 2), "baseline_read_cpu_s": round(base_cpu, 2),
            "mb_per_cpu_s": round(mb / max(cpu - base_cpu, 1e-9), 2),
            "mb_per_cpu_s_incl_read": round(mb / cpu, 2),
            "mb_per_wall_s": round(mb / wall, 2),
        },
        "stats": {k: stats.get(k) for k in ("edges", "components")},
        "params": describe(rules),
    }
    print(json.dumps(result, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
