"""Benchmark the quality stage on real dev text plus seeded junk (and, with --langid, language ID).

Good documents: the dev corpus (``<data>/corpus``), web pages read from their raw HTML through the
project's reader, all through ``normalize`` and ``langid`` as in the pipeline. Junk: ten generic
corruptions of other dev texts (``benchmarks/quality_corpus.py``), seeded, in the texts' own languages.
Prints, for the default rules without and with the classifier (and ``--published``: the published
variants): kept rate of good documents per source kind and detected language (floor 0.95 overall, 0.90
per language with >= 20 documents), kept rate per web site, dropped rate per junk kind (floor 0.75 each,
0.90 overall) and per junk language, and MB per CPU-second of the quality stage (input UTF-8 bytes /
``time.process_time()`` of this single-threaded process; robust to other load, not immune to it). Usage::

    .venv/bin/python benchmarks/quality.py [--data ../shared/data/eval-dev] [--models models] [--published]
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.quality_corpus import (  # noqa: E402
    KINDS,
    good_documents,
    junk_documents,
    read_jsonl_gz,
    record_document,
)
from curation.document import Document  # noqa: E402
from curation.rules import load_rules  # noqa: E402
from curation.stage import DocProcessor  # noqa: E402
from curation.stages.langid import LangIdProcessor  # noqa: E402
from curation.stages.langid import load_stage_rules as load_langid_rules  # noqa: E402
from curation.stages.normalize import NormalizeProcessor, NormalizeRules  # noqa: E402
from curation.stages.quality import QualityProcessor, load_stage_rules  # noqa: E402
from curation.stages.quality.rules import QualityRules  # noqa: E402


def corpus_docs(data: Path) -> dict[str, list[Document]]:
    """Every kind's dev records as given (web ``text`` too: language ID is measured on reference text)."""
    return {kind: [record_document(kind, r) for r in read_jsonl_gz(data / "corpus" / f"{kind}.jsonl.gz")]
            for kind in KINDS}


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


def prepare(docs: Sequence[Document], lid: LangIdProcessor, batch: int) -> list[Document]:
    """normalize -> langid as in the pipeline (a langid reject keeps its language signals: used anyway)."""
    norm = NormalizeProcessor(load_rules(REPO / "rules" / "normalize.yaml", NormalizeRules))
    out: list[Document] = []
    for d in docs:
        o = norm.process(d)
        out.append(o if isinstance(o, Document) else o.doc)
    res: list[Document] = []
    for i in range(0, len(out), batch):
        for o in lid.process_batch(out[i : i + batch]):
            res.append(o if isinstance(o, Document) else o.doc)
    return res


def _rate(k: int, n: int) -> str:
    return f"{k / n:.3f}" if n else "-"


REPEAT = 1  # set from --repeat: the CPU time is the minimum over repeats (the machine is shared)


def decisions(proc: QualityProcessor, docs: Sequence[Document], batch: int) -> tuple[float, list]:
    best = float("inf")
    outs: list = []
    for _ in range(REPEAT):
        c0 = time.process_time()
        outs = []
        for i in range(0, len(docs), batch):
            outs.extend(proc.process_batch(docs[i : i + batch]))
        best = min(best, time.process_time() - c0)
    return best, outs


def quality_tables(proc: QualityProcessor, good: dict[str, list[Document]], junk: list[Document],
                   batch: int, title: str) -> dict[str, float]:
    """Kept rate of good documents per kind and language, dropped rate of junk per kind, MB/cpu-s."""
    print(f"\n## {title}\n")
    cpu_total = 0.0
    mb_total = 0.0
    kept_all = n_all = 0
    print("| kind | lang | docs | kept | kept rate | top reasons of the rejected |")
    print("|---|---|---:|---:|---:|---|")
    floors_ok = True
    for kind in KINDS:
        docs = good[kind]
        cpu, outs = decisions(proc, docs, batch)
        cpu_total += cpu
        mb_total += sum(d.num_bytes for d in docs) / 1e6
        by_lang: dict[str, list] = defaultdict(list)
        for o in outs:
            d = o if isinstance(o, Document) else o.doc
            by_lang[d.lang or "und"].append(o)
        rows = sorted(by_lang.items(), key=lambda kv: -len(kv[1]))
        k_kind = sum(1 for o in outs if isinstance(o, Document))
        kept_all += k_kind
        n_all += len(outs)
        for lang, os_ in [("all", outs), *rows]:
            k = sum(1 for o in os_ if isinstance(o, Document))
            reasons = Counter(o.reason for o in os_ if not isinstance(o, Document)).most_common(3)
            flag = ""
            if lang != "all" and len(os_) >= 20 and k / len(os_) < 0.90:
                flag, floors_ok = " **below 0.90**", False
            top = ", ".join(f"{r.removeprefix('quality:')} {c}" for r, c in reasons)
            print(f"| {kind} | {lang} | {len(os_)} | {k} | {_rate(k, len(os_))}{flag} | {top} |")
    good_rate = kept_all / n_all
    print(f"\ngood documents kept: **{good_rate:.3f}** ({kept_all}/{n_all}); floor 0.95 overall, 0.90 per "
          f"language with >= 20 docs per kind: {'met' if floors_ok and good_rate >= 0.95 else 'NOT met'}")
    web = good["web"]
    _, outs = decisions(proc, web, batch)
    print("\n| web site | docs | kept rate |\n|---|---:|---:|")
    sites: dict[str, list] = defaultdict(list)
    for d, o in zip(web, outs, strict=True):
        site = (d.url or "").split("/")[2] if d.url and d.url.count("/") >= 2 else "?"
        sites[site].append(o)
    for site, os_ in sorted(sites.items(), key=lambda kv: -len(kv[1])):
        k = sum(1 for o in os_ if isinstance(o, Document))
        print(f"| {site} | {len(os_)} | {_rate(k, len(os_))} |")
    mb_good, cpu_good = mb_total, cpu_total
    cpu, outs = decisions(proc, junk, batch)
    cpu_total += cpu
    mb_total += sum(d.num_bytes for d in junk) / 1e6
    per: dict[str, list] = defaultdict(list)
    for d, o in zip(junk, outs, strict=True):
        per[(d.meta or {})["junk"]].append(o)
    print("\n| junk kind | docs | dropped | dropped rate | top reasons |\n|---|---:|---:|---:|---|")
    dropped_all = 0
    for kind, os_ in per.items():
        dr = sum(1 for o in os_ if not isinstance(o, Document))
        dropped_all += dr
        reasons = Counter(o.reason for o in os_ if not isinstance(o, Document)).most_common(3)
        top = ", ".join(f"{r.removeprefix('quality:')} {c}" for r, c in reasons)
        flag = " **below 0.75**" if dr / len(os_) < 0.75 else ""
        print(f"| {kind} | {len(os_)} | {dr} | {_rate(dr, len(os_))}{flag} | {top} |")
    junk_rate = dropped_all / len(junk)
    print(f"| **all** | {len(junk)} | {dropped_all} | **{junk_rate:.3f}** | |")
    by_lang_j: dict[str, list] = defaultdict(list)
    for o in outs:
        d = o if isinstance(o, Document) else o.doc
        by_lang_j[d.lang or "und"].append(o)
    print("\n| junk lang | docs | dropped rate |\n|---|---:|---:|")
    for lang, os_ in sorted(by_lang_j.items(), key=lambda kv: -len(kv[1]))[:15]:
        dr = sum(1 for o in os_ if not isinstance(o, Document))
        print(f"| {lang} | {len(os_)} | {_rate(dr, len(os_))} |")
    rate = mb_total / cpu_total
    print(f"\nquality stage: {mb_total:.2f} MB in {cpu_total:.2f} CPU-s = **{rate:.1f} MB/cpu-s** "
          f"(good + junk; real dev text alone: {mb_good:.2f} MB in {cpu_good:.2f} CPU-s = "
          f"{mb_good / cpu_good:.1f} MB/cpu-s; min CPU time of {REPEAT} runs)")
    return {"good": good_rate, "junk": junk_rate, "mb_per_cpu_s": mb_total / cpu_total}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "eval-dev")
    parser.add_argument("--models", type=Path, default=REPO / "models")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--rules", type=Path, default=REPO / "rules" / "quality" / "quality.yaml")
    parser.add_argument("--published", action="store_true", help="also run rules/quality/published/")
    parser.add_argument("--langid", action="store_true", help="also langid throughput and accuracy")
    parser.add_argument("--junk-per-kind", type=int, default=60)
    parser.add_argument("--repeat", type=int, default=3, help="CPU time = min over this many runs")
    args = parser.parse_args(argv)
    global REPEAT
    REPEAT = max(1, args.repeat)
    lid = LangIdProcessor(load_langid_rules(REPO / "rules" / "langid.yaml"), args.models / "lid.176.ftz")
    lid.setup()
    raw = good_documents(args.data)
    good = {k: prepare(v, lid, args.batch) for k, v in raw.items()}
    junk = prepare(junk_documents(raw, per_kind=args.junk_per_kind), lid, args.batch)
    if args.langid:
        throughput("Language ID (lid.176, rules/langid.yaml)", lid, corpus_docs(args.data), args.batch)
        langid_accuracy(lid, args.data)

    rules: QualityRules = load_stage_rules(args.rules)
    quality_tables(QualityProcessor(rules, None), good, junk, args.batch,
                   f"Quality heuristics, {args.rules}")
    model = args.models / (rules.classifier.model or "quality_default.bin")
    if model.is_file():
        clf = QualityProcessor(rules, model)
        clf.setup()
        quality_tables(clf, good, junk, args.batch, f"Quality heuristics + classifier ({model.name})")
    if args.published:
        pub = load_stage_rules(REPO / "rules" / "quality" / "published" / "quality.yaml")
        quality_tables(QualityProcessor(pub, None), good, junk, args.batch,
                       "Published variants (rules/quality/published/quality.yaml)")
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
