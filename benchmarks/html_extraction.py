"""Reader throughput on the dev corpus: HTML -> text pages/s per core, and the JSONL reader's MB/s per core.

Usage: ``python benchmarks/html_extraction.py [--data ../shared/data/eval-dev] [--repeat 3]``

* HTML extraction: every page of ``corpus/web.jsonl.gz`` that has ``html`` goes through
  :func:`curation.io.html.extract_main_text` with each extractor (``resiliparse``, the default, and
  ``trafilatura``; the settings the web reader uses), timed in CPU seconds. Also printed: word-level
  recall and precision of the extracted text against the corpus ``text`` field (its reference
  extraction), over all pages and over each half of them (split by a hash of the page id).
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
import zlib
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from curation.config import Limits, PipelineConfig, SourceSpec  # noqa: E402
from curation.document import Reject  # noqa: E402
from curation.io import expand_sources, read_shard  # noqa: E402
from curation.io.html import EXTRACTORS, extract_main_text  # noqa: E402

_WORD = re.compile(r"\w+")


def _overlap(outs: list[str | None], refs: list[str]) -> tuple[float, float, float, float]:
    """Mean per-page word recall and precision against the reference text: over distinct words (set)
    and over word occurrences (bag, which also sees repeated boilerplate)."""
    sr = sp = br = bp = 0.0
    for o, ref_text in zip(outs, refs, strict=True):
        got, ref = Counter(_WORD.findall((o or "").lower())), Counter(_WORD.findall(ref_text.lower()))
        inter = sum((got & ref).values())
        br += inter / max(1, sum(ref.values()))
        bp += inter / max(1, sum(got.values()))
        common = len(got.keys() & ref.keys())
        sr += common / max(1, len(ref))
        sp += common / max(1, len(got))
    n = max(1, len(refs))
    return sr / n, sp / n, br / n, bp / n


def bench_html(corpus: Path, repeat: int) -> None:
    """Both extractors on every dev page with HTML: CPU per page and word overlap, on all pages and on
    the two halves of the pages split by a hash of their id (the choice should not hinge on a few pages)."""
    with gzip.open(corpus / "web.jsonl.gz", "rt", encoding="utf-8") as fh:
        pages = [r for r in map(json.loads, fh) if r.get("html")]
    html_mb = sum(len(p["html"].encode()) for p in pages) / 1e6
    half = [zlib.crc32(p["id"].encode()) % 2 for p in pages]
    print(f"html extraction: {len(pages)} pages, {html_mb:.1f} MB html; CPU = best of {repeat} runs")
    print("| extractor | CPU s | pages/cpu-s | MB html/cpu-s | failed | set R / P | bag R / P "
          "| half A set R/P | half B set R/P |")
    print("|---|---:|---:|---:|---:|---|---|---|---|")
    for extractor in EXTRACTORS:
        best = float("inf")
        outs: list[str | None] = []
        for _ in range(repeat):
            t = time.process_time()
            outs = [extract_main_text(p["html"], p.get("url"), extractor=extractor) for p in pages]
            best = min(best, time.process_time() - t)
        refs = [p["text"] for p in pages]
        sr, sp, br, bp = _overlap(outs, refs)
        halves = []
        for h in (0, 1):
            idx = [i for i, x in enumerate(half) if x == h]
            hr, hp, _, _ = _overlap([outs[i] for i in idx], [refs[i] for i in idx])
            halves.append(f"{hr:.3f} / {hp:.3f}")
        failed = sum(1 for o in outs if not o)
        print(f"| {extractor} | {best:.2f} | {len(pages) / best:.0f} | {html_mb / best:.2f} | {failed} | "
              f"{sr:.3f} / {sp:.3f} | {br:.3f} / {bp:.3f} | {halves[0]} | {halves[1]} |")


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
