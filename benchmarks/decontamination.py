"""Decontamination throughput and index memory.

Generates N synthetic evaluation items (default 100k; question ~15 words, context ~60 words, answer
~3 words, Zipf-distributed words from a seeded vocabulary), builds the n-gram index exactly as the
side-input path does, plants a few items verbatim into corpus documents, then scans the dev corpus
(``<data>/corpus/*.jsonl.gz``, written as JSONL shards and read with ``curation.io`` as users' runs are;
items are planted into a middle turn of conversations) in batches with the stage's scoring code in one
process (= one core), and checks that cut conversations changed only their contaminated turn.

Prints: index build time, index size (bytes per indexed item, measured on the numpy structure and as
the RSS growth while building), scan throughput in MB/s per core, and the outcomes.

    .venv/bin/python benchmarks/decontamination.py [--data ../shared/data/eval-dev] [--items 100000]
"""

from __future__ import annotations

import argparse
import ctypes
import difflib
import gzip
import json
import resource
import tempfile
import time
from pathlib import Path

import numpy as np

from curation.document import Document, Reject
from curation.rules import REPO_ROOT
from curation.stages.decontamination.match import DecontaminationProcessor
from curation.stages.decontamination.rules import EvalSetSpec, load_decontamination_rules
from curation.stages.decontamination.transforms import build_index


def rss_mb() -> float:
    """Current resident set size (Linux /proc), MB."""
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * resource.getpagesize() / 1e6


def release_free_memory() -> None:
    """Return freed heap pages to the OS (glibc malloc_trim) so RSS shows what the index retains."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except OSError:
        pass


def synthetic_items(n: int, seed: int = 0) -> list[dict[str, str]]:
    rng = np.random.default_rng(seed)
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
    vocab = ["".join(rng.choice(letters, size=rng.integers(3, 10))) for _ in range(30_000)]
    ranks = np.arange(1, len(vocab) + 1)
    p = 1.0 / ranks
    p /= p.sum()

    pool = iter(rng.choice(len(vocab), size=n * 110, p=p).tolist())

    def sentence(k: int) -> str:
        return " ".join(vocab[next(pool)] for _ in range(k))

    lens = rng.integers([10, 40, 1], [21, 81, 5], size=(n, 3)).tolist()
    return [
        {"id": f"syn-{i}", "question": sentence(q) + "?", "context": sentence(c) + ".", "answer": sentence(a)}
        for i, (q, c, a) in enumerate(lens)
    ]


_FIELDS = ("id", "text", "url", "title", "author", "path", "repo", "language", "lang", "messages")


def plant(r: dict, item: dict) -> dict:
    """Paste an eval item into the middle of a record (into a middle turn of a conversation)."""
    pasted = item["question"] + " " + item["context"]
    if r.get("messages"):
        msgs = [dict(m) for m in r["messages"]]
        m = msgs[len(msgs) // 2]
        m["content"] = m["content"] + " " + pasted
        return {**r, "messages": msgs}
    mid = len(r["text"]) // 2
    return {**r, "text": r["text"][:mid] + "\n" + pasted + "\n" + r["text"][mid:]}


def load_corpus(data: Path, dest: Path, items: list[dict], planted: int) -> tuple[list[Document], set[str]]:
    """The dev corpus records (some with an eval item planted) written as JSONL shards per kind and read
    with ``curation.io`` as users' runs are; returns the documents and the planted records' ids."""
    from curation.config import Limits
    from curation.io import Shard, read_shard

    records = []
    for f in sorted((data / "corpus").glob("*.jsonl.gz")):
        with gzip.open(f, "rt", encoding="utf-8") as fh:
            records += [json.loads(line) for line in fh]
    rng = np.random.default_rng(1)
    chosen = rng.choice(len(records), size=min(planted, len(records)), replace=False).tolist()
    ids = set()
    for j in chosen:
        records[j] = plant(records[j], items[int(rng.integers(len(items)))])
        ids.add(records[j]["id"])
    docs: list[Document] = []
    for kind in sorted({r["source_kind"] for r in records}):
        f = dest / f"{kind}.jsonl"
        rows = [{k: r[k] for k in _FIELDS if r.get(k) is not None}
                for r in records if r["source_kind"] == kind]
        f.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
        shard = Shard(source=kind, kind=kind, path=str(f), format="jsonl", license=None, rel=f.name)
        docs += [d for d in read_shard(shard, Limits()) if isinstance(d, Document)]
    return docs, ids


def source_id(doc: Document) -> str:
    meta = doc.meta or {}
    return str(meta.get("source_id") or meta.get("id") or doc.id)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(REPO_ROOT.parent / "shared" / "data" / "eval-dev"))
    ap.add_argument("--items", type=int, default=100_000)
    ap.add_argument("--planted", type=int, default=40, help="corpus docs that get an eval item pasted in")
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--repeat", type=int, default=3, help="scan passes (best is reported)")
    ap.add_argument("--rules", default=str(REPO_ROOT / "rules" / "decontamination.yaml"))
    args = ap.parse_args()

    rules = load_decontamination_rules(args.rules)
    items = synthetic_items(args.items)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "synthetic.jsonl"
        with path.open("w", encoding="utf-8") as fh:
            for it in items:
                fh.write(json.dumps(it) + "\n")
        spec = EvalSetSpec("synthetic", str(path))
        rss0 = rss_mb()
        t0 = time.perf_counter()
        index = build_index([spec], rules, ["synthetic"], rules.index.id_field)
        build_s = time.perf_counter() - t0
        peak_build = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3
        release_free_memory()
        rss1 = rss_mb()
    n_items = len(index.item_ids)
    print(
        f"index: {n_items} items, {len(index)} distinct n-grams, {len(index.postings)} postings, "
        f"lengths {index.lengths}, built in {build_s:.1f} s"
    )
    print(
        f"index memory: {index.nbytes / 1e6:.1f} MB structure = {index.nbytes / n_items:.0f} B/item; "
        f"RSS retained after building {rss1 - rss0:.1f} MB = {(rss1 - rss0) * 1e6 / n_items:.0f} B/item "
        f"(peak RSS during build {peak_build:.0f} MB)"
    )

    with tempfile.TemporaryDirectory() as tmp:
        docs, planted_ids = load_corpus(Path(args.data), Path(tmp), items, args.planted)
    mb = sum(d.num_bytes for d in docs) / 1e6
    proc = DecontaminationProcessor(rules, index)
    proc.setup()
    best = best_cpu = float("inf")
    outs: list = []
    for _ in range(args.repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        outs = []
        for i in range(0, len(docs), args.batch):
            outs.extend(proc.process_batch(docs[i : i + args.batch]))
        best = min(best, time.perf_counter() - t0)
        best_cpu = min(best_cpu, time.process_time() - c0)
    dropped = sum(isinstance(o, Reject) for o in outs)
    cut = sum(isinstance(o, Document) and o.text != d.text for o, d in zip(outs, docs, strict=True))
    # conversations: only the contaminated turn may change (or go, when nothing of it is left); every
    # other turn byte-identical: align old and new turns and count the old turns not found unchanged
    turns_changed = turns_other_changed = convs = 0
    for o, d in zip(outs, docs, strict=True):
        if d.messages is None or not isinstance(o, Document) or o.text == d.text or o.messages is None:
            continue
        convs += 1
        sm = difflib.SequenceMatcher(a=list(d.messages), b=list(o.messages), autojunk=False)
        kept_same = sum(block.size for block in sm.get_matching_blocks())
        changed = len(d.messages) - kept_same
        turns_changed += changed
        turns_other_changed += max(0, changed - 1)
    missed = sorted(planted_ids - {source_id(d) for o, d in zip(outs, docs, strict=True)
                                   if isinstance(o, Reject) or o.text != d.text})
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3
    print(
        f"scan: {len(docs)} docs, {mb:.2f} MB in {best:.2f} s wall / {best_cpu:.2f} s CPU = "
        f"{mb / best:.1f} MB/s wall, {mb / best_cpu:.1f} MB/s per core (CPU time; best of {args.repeat}); "
        f"planted {args.planted}: {cut} cut, {dropped} dropped, {len(missed)} not found"
    )
    print(
        f"conversations cut: {convs}, turns changed {turns_changed}, turns changed besides the contaminated "
        f"one: {turns_other_changed}"
    )
    print(f"peak RSS {peak:.0f} MB")


if __name__ == "__main__":
    main()
