"""Dedup benchmark: quality against the dev ground truth, signature and whole-stage throughput.

The dev documents (``<data>/dedup/docs.jsonl.gz``) are written as JSONL shards per source kind (only the
input fields ``id``, ``text``, ``url``; code records have no ``path``), read with ``curation.io.read_shard``
inside the Beam pipeline as users' runs do, then the dedup stage runs (in-process FnApiRunner). Scored
against ``<data>/dedup/clusters.jsonl`` (connected components of word-5-gram Jaccard >= 0.8):

* removed-document precision / recall / F1: the ground-truth removed set is every member of a ground-truth
  cluster except the copy the same keep rule keeps (no license or quality signals on the dev set: most
  exact copies in the cluster, then longest, then smallest id);
* false removals and misses **per source kind**, each with the true Jaccard to its kept copy where the
  pairs file has it (``--show N`` lists N per kind);
* pairwise cluster precision / recall / F1 over all same-cluster document pairs;
* throughput: signatures alone (fingerprinting, ``time.process_time``) and the whole stage (process CPU
  time of the read + dedup pipeline minus that of the same read-and-count pipeline; also the wall time).
  MB = UTF-8 bytes of document text.

``--via-curate`` instead runs ``curate run`` (stages license + dedup, the default order, so the keep rule
sees license categories) on the same shards and scores its Parquet outputs (data + rejects).

Usage: ``.venv/bin/python benchmarks/dedup.py [--data ../shared/data/eval-dev] [--rules rules/dedup.yaml]
[--show 5] [--json out.json] [--via-curate [--models models]]``
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import json
import re
import resource
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from curation.config import Limits  # noqa: E402
from curation.document import Document, Reject  # noqa: E402
from curation.io import Shard, read_shard  # noqa: E402
from curation.stages.dedup import DedupStage, describe  # noqa: E402
from curation.stages.dedup.fingerprint import Fingerprinter  # noqa: E402
from curation.stages.dedup.rules import DedupRules, load_dedup_rules  # noqa: E402
from curation.stages.dedup.signature import exact_key  # noqa: E402

_INPUT_FIELDS = ("id", "text", "url", "messages")
_TURN_RE = re.compile(r"^([^:\n]{1,60}): (.*)$")


def to_messages(text: str) -> list[dict[str, str]]:
    """A conversation passage (``speaker: content`` lines) as the ``messages`` the conversation reader
    takes; lines without a speaker continue the previous turn, a leading fragment gets speaker ``-``
    (punctuation: it adds no word to the shingles)."""
    turns: list[dict[str, str]] = []
    for line in text.split("\n"):
        m = _TURN_RE.match(line)
        if m:
            turns.append({"speaker": m.group(1), "content": m.group(2)})
        elif turns:
            turns[-1]["content"] += "\n" + line
        else:
            turns.append({"speaker": "-", "content": line})
    return turns


def cpu_seconds() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def write_shards(records: list[dict], dest: Path, shards_per_kind: int = 4) -> list[Shard]:
    """The records as JSONL shards per source kind under ``dest`` (input fields only)."""
    by_kind: dict[str, list[dict]] = defaultdict(list)
    for r in records:
        if r["source_kind"] == "conversation" and "messages" not in r:
            r = {**r, "messages": to_messages(r["text"])}
        by_kind[r["source_kind"]].append({k: r[k] for k in _INPUT_FIELDS if r.get(k) is not None})
    out = []
    for kind, rows in sorted(by_kind.items()):
        for i in range(shards_per_kind):
            f = dest / kind / f"part-{i}.jsonl"
            f.parent.mkdir(parents=True, exist_ok=True)
            f.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows[i::shards_per_kind]),
                         encoding="utf-8")
            out.append(Shard(source=kind, kind=kind, path=str(f), format="jsonl", license=None,
                             rel=f"{kind}/{f.name}"))
    return out


def source_id(doc: Document) -> str:
    """The record's own id, which the readers keep in ``meta`` (documents get stable ids of their own)."""
    meta = doc.meta or {}
    return str(meta.get("source_id") or meta.get("id") or doc.id)


def read_documents(shards: list[Shard]) -> tuple[list[Document], Counter]:
    """Read in-process, as the pipeline's read step does (for signature timing and the truth keeper)."""
    docs, rejects = [], Counter()
    for shard in shards:
        for out in read_shard(shard, Limits()):
            if isinstance(out, Reject):
                rejects[out.reason] += 1
            else:
                docs.append(out)
    return docs, rejects


def _only_docs(out: Document | Reject) -> list[Document]:
    return [] if isinstance(out, Reject) else [out]


def _assignment(out: Document | Reject) -> str:
    doc = out.doc if isinstance(out, Reject) else out
    reason = out.reason if isinstance(out, Reject) else ""
    return json.dumps([source_id(doc), doc.signals.get("dedup.cluster_id"), reason,
                       doc.signals.get("dedup.match", "")])


def run_pipeline(shards: list[Shard], rules: DedupRules | None, out_dir: Path) -> tuple[float, float]:
    """Read the shards (+ dedup) and write assignments; return (wall seconds, process CPU seconds)."""
    t, c = time.perf_counter(), cpu_seconds()
    with beam.Pipeline(options=PipelineOptions(["--runner=FnApiRunner"])) as p:
        docs = (
            p
            | "Shards" >> beam.Create(shards)
            | "Read" >> beam.FlatMap(read_shard, Limits())
            | "Docs" >> beam.FlatMap(_only_docs)
        )
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


def truth_keeper(cluster: list[str], texts: dict[str, str], doc_ids: dict[str, str],
                 ranks: dict[str, int] | None = None) -> str:
    """The keep rule: license rank (when the license stage ran: ``ranks``), most exact copies, then
    longest, then smallest document id (the stable id the reader gave it, as the stage sees it)."""
    keys = {i: exact_key(texts[i]) for i in cluster}
    copies = Counter(k for k in keys.values() if k is not None)
    return min(cluster, key=lambda i: ((ranks or {}).get(i, 0),
                                       -copies.get(keys[i], 1) if keys[i] is not None else -1,
                                       -len(texts[i]), doc_ids[i]))


def score(texts: dict[str, str], kinds: dict[str, str], doc_ids: dict[str, str], assign: list,
          truth_clusters: list[list[str]], jaccard: dict[tuple[str, str], float], show: int,
          ranks: dict[str, int] | None = None) -> dict:
    removed_pred = {doc_id for doc_id, _, reason, _ in assign if reason.startswith("duplicate_of:")}
    kept_of = {doc_id: c for doc_id, c, _, _ in assign}
    truth_clusters = [[i for i in c if i in texts] for c in truth_clusters]
    removed_truth: set[str] = set()
    truth_of: dict[str, int] = {}
    for n, c in enumerate(truth_clusters):
        for i in c:
            truth_of[i] = n
        if len(c) > 1:
            keeper = truth_keeper(c, texts, doc_ids, ranks)
            removed_truth |= {i for i in c if i != keeper}
    by_cluster: dict[str, list[str]] = {}
    for doc_id, cluster_id, _, _ in assign:
        by_cluster.setdefault(cluster_id, []).append(doc_id)

    def best_j(i: str) -> float | None:
        others = [o for o in by_cluster.get(kept_of.get(i), []) if o != i]
        js = [jaccard.get(tuple(sorted((i, o)))) for o in others]  # type: ignore[misc]
        js = [j for j in js if j is not None]
        return max(js) if js else None

    per_kind: dict[str, dict] = {}
    for kind in sorted(set(kinds.values())):
        fr = sorted(i for i in removed_pred - removed_truth if kinds[i] == kind)
        miss = sorted(i for i in removed_truth - removed_pred if kinds[i] == kind)
        per_kind[kind] = {
            "false_removals": len(fr), "misses": len(miss),
            "false_removal_examples": [[i, best_j(i)] for i in fr[:show]],
            "miss_examples": miss[:show],
        }
    match_counts = Counter(m for _, _, reason, m in assign if reason.startswith("duplicate_of:"))
    return {
        "removed_docs": {"predicted": len(removed_pred), "truth": len(removed_truth),
                         **prf(removed_pred, removed_truth)},
        "removed_by_match": dict(match_counts),
        "per_kind": per_kind,
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


def via_curate(records: list[dict], tmp: Path, models: str) -> tuple[dict, list, dict, float, float]:
    """Run ``curate run`` (stages license + dedup, as in the default pipeline order) on the shards and
    read its outputs back: (rows by source id, assignments, license ranks, wall s, CPU s of the run)."""
    import subprocess

    import pyarrow.parquet as pq
    import yaml

    from curation.stages.dedup.cluster import license_rank
    from curation.stages.dedup.rules import KeepRules

    write_shards(records, tmp / "in")
    cfg = {
        "name": "dev-dedup", "tokenizer": "whitespace", "models_dir": models,
        "sources": [{"name": k, "kind": k, "paths": [str(tmp / "in" / k / "*.jsonl")]}
                    for k in sorted({r["source_kind"] for r in records})],
        "stages": [{"name": "license", "rules": str(REPO / "rules" / "license.yaml")},
                   {"name": "dedup", "rules": str(REPO / "rules" / "dedup.yaml")}],
        "output": {"report": False, "rejects_text": True},
    }
    (tmp / "pipeline.yaml").write_text(yaml.safe_dump(cfg), encoding="utf-8")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    subprocess.run([str(REPO / ".venv" / "bin" / "curate"), "run", "--config", str(tmp / "pipeline.yaml"),
                    "--output", str(tmp / "out"), "--progress", "none", "--quiet"], check=True)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    rows: dict[str, dict] = {}
    assign, ranks = [], {}
    keep = KeepRules()
    for f in [*(tmp / "out" / "data").glob("*/*.parquet"), *(tmp / "out" / "rejects").glob("*.parquet")]:
        for r in pq.read_table(f).to_pylist():
            sid = json.loads(r["meta"] or "{}").get("source_id", r["id"])
            sig = json.loads(r["signals"] or "{}")
            rows[sid] = r
            ranks[sid] = license_rank(sig.get("license.category"), keep)
            if r.get("stage") in (None, "dedup"):
                reason = r.get("reason") or ""
                assign.append([sid, sig.get("dedup.cluster_id"), reason, sig.get("dedup.match", "")])
    return rows, assign, ranks, wall, cpu


def main_via_curate(args: argparse.Namespace, records: list[dict], truth: list, jaccard: dict) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        rows, assign, ranks, wall, cpu = via_curate(records, Path(tmp), args.models)
    dedup_ids = {a[0] for a in assign}
    texts = {i: rows[i]["text"] for i in dedup_ids}
    kinds = {i: rows[i]["source_kind"] for i in dedup_ids}
    doc_ids = {i: rows[i]["id"] for i in dedup_ids}
    other = Counter(f"{r['stage']}:{r['reason']}" for i, r in rows.items() if i not in dedup_ids)
    mb = sum(len(t.encode("utf-8")) for t in texts.values()) / 1e6
    result = {
        "via": "curate run (stages: license, dedup)", "docs": len(records),
        "reached_dedup": len(dedup_ids), "rejected_before_dedup": dict(other),
        "quality": score(texts, kinds, doc_ids, assign, truth, jaccard, args.show, ranks),
        "run": {"wall_s": round(wall, 1), "cpu_s": round(cpu, 1), "mb_text": round(mb, 2)},
    }
    print(json.dumps(result, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(REPO.parent / "shared" / "data" / "eval-dev"))
    ap.add_argument("--rules", default=str(REPO / "rules" / "dedup.yaml"))
    ap.add_argument("--show", type=int, default=5, help="examples of false removals / misses per kind")
    ap.add_argument("--json", help="also write the figures to this file")
    ap.add_argument("--via-curate", action="store_true",
                    help="score the outputs of `curate run` (license + dedup stages) instead")
    ap.add_argument("--models", default=str(REPO / "models"), help="models_dir for --via-curate")
    args = ap.parse_args()
    rules = load_dedup_rules(args.rules)
    data = Path(args.data) / "dedup"
    with gzip.open(data / "docs.jsonl.gz", "rt", encoding="utf-8") as fh:
        records = [json.loads(line) for line in fh]
    with gzip.open(data / "pairs.jsonl.gz", "rt", encoding="utf-8") as fh:
        jaccard = {tuple(sorted((p["id_a"], p["id_b"]))): p["jaccard"] for p in map(json.loads, fh)}
    truth = [json.loads(line)["ids"] for line in (data / "clusters.jsonl").read_text().splitlines() if line]
    if args.via_curate:
        main_via_curate(args, records, truth, jaccard)
        return
    with tempfile.TemporaryDirectory() as tmp:
        tmpd = Path(tmp)
        shards = write_shards(records, tmpd / "in")
        docs, read_rejects = read_documents(shards)
        base_wall, base_cpu = run_pipeline(shards, None, tmpd)
        wall, cpu = run_pipeline(shards, rules, tmpd)
        assign = read_lines(tmpd, "assign")
        stats = dict(read_lines(tmpd, "stats"))
    texts = {source_id(d): d.text for d in docs}
    kinds = {source_id(d): d.source_kind for d in docs}
    mb = sum(d.num_bytes for d in docs) / 1e6
    result = {
        "docs": len(records),
        "read": {"documents": len(docs), "rejects": dict(read_rejects)},
        "mb_text": round(mb, 3),
        "quality": score(texts, kinds, {source_id(d): d.id for d in docs}, assign, truth, jaccard, args.show),
        "signatures": signature_throughput(docs, rules),
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
