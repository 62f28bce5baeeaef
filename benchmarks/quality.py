"""Benchmark the language-ID and quality stages on the dev corpus, and language-ID accuracy.

Prints, per source kind and in total: docs/s and MB/s per core (input UTF-8 bytes / CPU seconds of this
single-threaded process, so other load on the machine does not distort it; wall-clock MB/s alongside)
for language ID, the heuristic rule sets (no classifier) and the fastText quality classifier; then
language-ID accuracy on ``<data>/langid/examples.jsonl.gz`` per language and by length type; then peak
RSS. Usage::

    .venv/bin/python benchmarks/quality.py [--data ../shared/data/eval-dev] [--models models]
"""

from __future__ import annotations

import argparse
import gzip
import json
import resource
import sys
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from curation.document import Document  # noqa: E402
from curation.stage import DocProcessor  # noqa: E402
from curation.stages.langid import LangIdProcessor  # noqa: E402
from curation.stages.langid import load_stage_rules as load_langid_rules  # noqa: E402
from curation.stages.quality import QualityProcessor, load_stage_rules  # noqa: E402
from curation.stages.quality.rules import QualityRules  # noqa: E402

KINDS = ("web", "book", "code", "conversation")


def read_jsonl_gz(path: Path) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def corpus_docs(data: Path) -> dict[str, list[Document]]:
    out: dict[str, list[Document]] = {}
    for kind in KINDS:
        docs = []
        for r in read_jsonl_gz(data / "corpus" / f"{kind}.jsonl.gz"):
            msgs = r.get("messages")
            docs.append(
                Document(
                    id=r["id"], source_kind=kind, source=f"eval-dev/{kind}", text=r["text"], url=r.get("url"),
                    path=r.get("path"), repo=r.get("repo"), code_language=r.get("language"),
                    messages=None if msgs is None else tuple((m["speaker"], m["content"]) for m in msgs),
                )
            )
        out[kind] = docs
    return out


def timed(proc: DocProcessor, docs: Sequence[Document], batch: int) -> tuple[float, float, list]:
    """(cpu seconds, wall seconds, outcomes) of processing ``docs`` in batches."""
    outs: list = []
    c0, w0 = time.process_time(), time.perf_counter()
    for i in range(0, len(docs), batch):
        outs.extend(proc.process_batch(docs[i : i + batch]))
    return time.process_time() - c0, time.perf_counter() - w0, outs


def throughput(name: str, proc: DocProcessor, corpus: dict[str, list[Document]], batch: int) -> None:
    print(f"\n## {name}\n")
    print("| kind | docs | MB | docs/s per core | MB/s per core | MB/s wall | rejected |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    tot_docs = tot_mb = tot_cpu = tot_wall = 0.0
    tot_rej = 0
    for kind in KINDS:
        docs = corpus[kind]
        mb = sum(d.num_bytes for d in docs) / 1e6
        cpu, wall, outs = timed(proc, docs, batch)
        rej = sum(1 for o in outs if not isinstance(o, Document))
        rate = f"{len(docs) / cpu:.0f} | {mb / cpu:.1f} | {mb / wall:.1f}"
        print(f"| {kind} | {len(docs)} | {mb:.2f} | {rate} | {rej} |")
        tot_docs += len(docs)
        tot_mb += mb
        tot_cpu += cpu
        tot_wall += wall
        tot_rej += rej
    print(
        f"| **all** | {tot_docs:.0f} | {tot_mb:.2f} | {tot_docs / tot_cpu:.0f} | **{tot_mb / tot_cpu:.1f}** "
        f"| {tot_mb / tot_wall:.1f} | {tot_rej} |"
    )


def langid_accuracy(proc: LangIdProcessor, data: Path) -> None:
    rows = read_jsonl_gz(data / "langid" / "examples.jsonl.gz")
    docs = [Document(id=r["id"], source_kind="web", source="langid", text=r["text"]) for r in rows]
    outs = proc.process_batch(docs)
    hits: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for r, o in zip(rows, outs, strict=True):
        d = o if isinstance(o, Document) else o.doc
        ok = int(d.signals.get("langid.lang") == r["lang"])
        for key in ((r["lang"], r["length"]), (r["lang"], "all"), ("all", r["length"]), ("all", "all")):
            hits[key][0] += ok
            hits[key][1] += 1

    def cell(lang: str, length: str) -> str:
        h, n = hits.get((lang, length), (0, 0))
        return f"{100 * h / n:.1f} ({n})" if n else "-"

    print("\n## Language-ID accuracy (top-1, % (examples))\n")
    print("| lang | sentence | paragraph | all |")
    print("|---|---:|---:|---:|")
    for lang in [*sorted({r["lang"] for r in rows}), "all"]:
        print(f"| {lang} | {cell(lang, 'sentence')} | {cell(lang, 'paragraph')} | {cell(lang, 'all')} |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "eval-dev")
    parser.add_argument("--models", type=Path, default=REPO / "models")
    parser.add_argument("--batch", type=int, default=64)
    args = parser.parse_args(argv)
    corpus = corpus_docs(args.data)
    lid = LangIdProcessor(load_langid_rules(REPO / "rules" / "langid.yaml"), args.models / "lid.176.ftz")
    lid.setup()
    throughput("Language ID (lid.176, rules/langid.yaml)", lid, corpus, args.batch)

    rules: QualityRules = load_stage_rules(REPO / "rules" / "quality" / "quality.yaml")
    heur = QualityProcessor(rules, None)
    throughput("Quality heuristics (all rule sets, no classifier)", heur, corpus, args.batch)

    model = args.models / (rules.classifier.model or "quality_default.bin")
    if model.is_file():
        clf = QualityProcessor(rules, model)
        clf.setup()
        title = f"Quality heuristics + classifier ({model.name}; classifier on web and book)"
        throughput(title, clf, corpus, args.batch)
        score_summary(clf, corpus)
    else:
        print(f"\n(no classifier model at {model}; run scripts/train_quality_model.py)")

    langid_accuracy(lid, args.data)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak RSS: {rss_mb:.0f} MB")
    return 0


def score_summary(proc: QualityProcessor, corpus: dict[str, list[Document]]) -> None:
    """Median classifier score per source kind (what the default model thinks of each corpus part)."""
    print("\n| kind | median quality.classifier.score |\n|---|---:|")
    for kind in ("web", "book"):
        outs = proc.process_batch(corpus[kind])
        docs = [o if isinstance(o, Document) else o.doc for o in outs]
        values = (d.signals.get("quality.classifier.score") for d in docs)
        scores = sorted(s for s in values if isinstance(s, float))
        if scores:
            print(f"| {kind} | {scores[len(scores) // 2]:.3f} |")


if __name__ == "__main__":
    raise SystemExit(main())
