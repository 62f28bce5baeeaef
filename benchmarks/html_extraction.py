"""Reader throughput on the dev corpus: HTML -> text pages/s per core, and the JSONL reader's MB/s per core.

Usage: ``python benchmarks/html_extraction.py [--data ../shared/data/eval-dev] [--repeat 3]``

* HTML extraction: every page of ``corpus/web.jsonl.gz`` that has ``html`` goes through
  :func:`curation.io.html.extract_main_text` (the settings the web reader uses). Also printed: a
  word-level overlap of the extracted text with the corpus ``text`` field (its reference extraction).
* JSONL reader: ``read_shard`` over all four ``corpus/*.jsonl.gz`` shards (gzip decode, JSON parse,
  document building, limits; HTML *not* re-extracted because records carry text). MB/s counts the UTF-8
  bytes of the documents' text, the figure the backbone floor (>= 3 MB/s per core) is stated in.
Single process = one core. Peak RSS via resource.getrusage.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import resource
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from curation.config import Limits, PipelineConfig, SourceSpec  # noqa: E402
from curation.document import Reject  # noqa: E402
from curation.io import expand_sources, read_shard  # noqa: E402
from curation.io.html import extract_main_text  # noqa: E402

_WORD = re.compile(r"\w+")


def _words(s: str) -> set[str]:
    return set(_WORD.findall(s.lower()))


def bench_html(corpus: Path, repeat: int) -> None:
    with gzip.open(corpus / "web.jsonl.gz", "rt", encoding="utf-8") as fh:
        pages = [r for r in map(json.loads, fh) if r.get("html")]
    html_mb = sum(len(p["html"].encode()) for p in pages) / 1e6
    best = float("inf")
    outs: list[str | None] = []
    for _ in range(repeat):
        t = time.perf_counter()
        outs = [extract_main_text(p["html"], p.get("url")) for p in pages]
        best = min(best, time.perf_counter() - t)
    failed = sum(1 for o in outs if not o)
    rec = prec = 0.0
    for o, p in zip(outs, pages, strict=True):
        got, ref = _words(o or ""), _words(p["text"])
        rec += len(got & ref) / max(1, len(ref))
        prec += len(got & ref) / max(1, len(got))
    n = len(pages)
    print(f"html extraction: {n} pages, {html_mb:.1f} MB html, best of {repeat}: {best:.2f} s")
    print(f"  {n / best:.1f} pages/s per core, {html_mb / best:.2f} MB html/s per core, {failed} failed")
    print(f"  word overlap with the reference text: recall {rec / n:.3f}, precision {prec / n:.3f}")


def bench_jsonl(corpus: Path, repeat: int) -> None:
    srcs = tuple(
        SourceSpec(kind=k, paths=(str(corpus / f"{k}.jsonl.gz"),), name=f"dev-{k}")  # type: ignore[arg-type]
        for k in ("web", "book", "code", "conversation")
    )
    shards = expand_sources(PipelineConfig(sources=srcs))
    limits = Limits()
    best = float("inf")
    docs = rejects = nbytes = 0
    for _ in range(repeat):
        docs = rejects = nbytes = 0
        t = time.perf_counter()
        for s in shards:
            for out in read_shard(s, limits):
                if isinstance(out, Reject):
                    rejects += 1
                else:
                    docs += 1
                    nbytes += len(out.text.encode("utf-8"))
        best = min(best, time.perf_counter() - t)
    mb = nbytes / 1e6
    print(f"jsonl reader: {docs} docs + {rejects} rejects, {mb:.2f} MB text, best of {repeat}: {best:.3f} s")
    print(f"  {mb / best:.1f} MB/s per core, {docs / best:.0f} docs/s per core")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "eval-dev")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    corpus = args.data / "corpus"
    bench_jsonl(corpus, args.repeat)
    bench_html(corpus, args.repeat)
    print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
