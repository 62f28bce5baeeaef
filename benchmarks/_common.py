"""Shared helpers of the benchmark scripts: corpus building, peak RSS, the tokenizer-only floor."""

from __future__ import annotations

import gzip
import json
import random
import resource
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
KINDS = ("web", "book", "code", "conversation")
DEV_CORPUS = REPO.parent / "shared/data/eval-dev/corpus"


def compile_project() -> None:
    """Write the bytecode of ``curation/`` and ``pipelines/`` where it is missing or stale.

    A wheel install compiles its modules at install time; an editable checkout relies on Python writing
    ``__pycache__`` on first import, which ``PYTHONDONTWRITEBYTECODE`` (set on some shared machines,
    including this project's benchmark host) turns off: then every process -- the planner and each
    worker -- compiles the project's ~100 modules from source again (~0.12 CPU-s per process on the
    10-document run). The benchmarks measure the installed pipeline, so they compile it first, as
    ``make install`` does. Up-to-date modules are left alone."""
    import compileall

    for folder in ("curation", "pipelines"):
        if not compileall.compile_dir(str(REPO / folder), quiet=1):
            raise SystemExit(f"could not compile {REPO / folder}")


def peak_rss_mb() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, kids) / 1024.0


def make_corpus(
    corpus: Path | None,
    scale: int,
    synthetic_mb: float,
    dest: Path,
    full_records: bool = False,
    shards: int = 8,
    web_from_html: bool = False,
    limit_docs: int | None = None,
) -> tuple[int, int]:
    """Write JSONL shards per kind under ``dest`` (records dealt round-robin over ``shards`` files).

    ``full_records`` keeps every field of the dev records (raw HTML, messages, ...), as the full pipeline
    needs; otherwise only the text and light metadata are kept (the backbone measures the text path).
    ``web_from_html``: web records that have ``html`` lose their ``text``, so the reader extracts the text
    from the HTML as it does for a crawl (man pages, which have no HTML, keep their text). ``limit_docs``:
    only the first N records in total, taken round-robin over the kinds (a start-up run).
    Copies beyond the first get a ``[copy N]`` prefix (in the first ``<p>`` of an HTML page): they are
    near duplicates, which the dedup stage removes (so at scale N the later stages see roughly the 1x
    corpus). Returns (docs, text bytes); a page built from HTML counts its reference ``text``'s bytes.
    """
    n_docs = n_bytes = 0
    rng = random.Random(0)
    for kind in KINDS:
        (dest / kind).mkdir(parents=True, exist_ok=True)
    if corpus is not None:
        per_kind = {kind: _load(corpus / f"{kind}.jsonl.gz", full_records) for kind in KINDS}
        if limit_docs is not None:
            per_kind = _round_robin_head(per_kind, limit_docs)
        for kind, records in per_kind.items():
            outs = [open(dest / kind / f"part-{i}.jsonl", "w", encoding="utf-8") for i in range(shards)]
            for rep in range(scale):
                for r in records:
                    r2 = dict(r, id=f"{r['id']}-{rep}")
                    if rep and kind != "conversation":
                        r2["text"] = f"[copy {rep}] " + r["text"]
                        if r2.get("html"):
                            r2["html"] = r2["html"].replace("<p>", f"<p>[copy {rep}] ", 1)
                    n_bytes += len(r2["text"].encode("utf-8"))
                    if web_from_html and kind == "web" and r2.get("html"):
                        del r2["text"]
                    outs[n_docs % shards].write(json.dumps(r2, ensure_ascii=False) + "\n")
                    n_docs += 1
            for out in outs:
                out.close()
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


def _load(src: Path, full_records: bool) -> list[dict]:
    records = []
    with gzip.open(src, "rt", encoding="utf-8") as fh:
        for line in fh:
            r = json.loads(line)
            if full_records:
                records.append(r)
                continue
            keep = {"id": r["id"], "text": r["text"]}
            for k in ("url", "title", "author", "path", "repo", "messages"):
                if r.get(k) is not None:
                    keep[k] = r[k]
            records.append(keep)
    return records


def _round_robin_head(per_kind: dict[str, list[dict]], n: int) -> dict[str, list[dict]]:
    """The first ``n`` records taken one kind after the other (so a small run touches every kind)."""
    out: dict[str, list[dict]] = {k: [] for k in per_kind}
    i = 0
    while sum(map(len, out.values())) < n and i < max(map(len, per_kind.values()), default=0):
        for k, recs in per_kind.items():
            if i < len(recs) and sum(map(len, out.values())) < n:
                out[k].append(recs[i])
        i += 1
    return out


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
