"""Toxicity benchmark: embedded backend quality and speed, detoxify loading overhead and throughput.

    .venv/bin/python benchmarks/toxicity.py [--data ../shared/data/eval-dev] [--detoxify-docs 300]

1. Quality of the embedded backend on the HELD-OUT part of ``toxicity/examples.jsonl.gz`` (fortunes;
   WEAK file-level labels: offensive collection vs regular collection): the half of the es/it records
   that scripts/train_toxicity_model.py never trains on (same seeded split) plus all de/en/ru records.
   Per language: ROC AUC of the document-level scores and precision / recall / false-positive rate of
   the stage's decision (the document is rejected).
2. Throughput of the embedded backend (score + decide, one process = one core) on ``corpus/*.jsonl.gz``
   in MB/s of text, plus the share of corpus documents dropped / edited (all corpus text is benign:
   docs, books, code, chat, so every flag there is a false positive or a crude-but-legitimate line).
   Also: the bias probe's scan of every document (what the pipeline's before-curation probe costs).
3. detoxify throughput (docs/s, windows/s, batch size) on CPU with the TINY RANDOM test checkpoint
   (curation/stages/toxicity/tiny.py): this measures tokenisation + batching overhead only, not a real
   model. Estimates for BERT-base are printed and labelled as estimates.
"""

from __future__ import annotations

import argparse
import gzip
import json
import resource
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from curation.config import PipelineConfig, SourceSpec, StageSpec  # noqa: E402
from curation.document import Document, Reject  # noqa: E402
from curation.stages.toxicity import build_scorer  # noqa: E402
from curation.stages.toxicity.decide import ToxicityProcessor  # noqa: E402


def _jsonl(path: Path) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _processor(rules_file: Path, models_dir: Path) -> ToxicityProcessor:
    cfg = PipelineConfig(
        sources=(SourceSpec(kind="web", paths=("x",)),), models_dir=str(models_dir), path=str(REPO / "x.yaml")
    )
    scorer = build_scorer(StageSpec(name="toxicity", rules=str(rules_file)), cfg)
    proc = ToxicityProcessor(scorer, scorer.rules)
    proc.setup()
    return proc


def _run(proc: ToxicityProcessor, docs: list[Document], batch: int) -> list:
    out = []
    for i in range(0, len(docs), batch):
        out.extend(proc.process_batch(docs[i : i + batch]))
    return out


def quality(proc: ToxicityProcessor, data: Path) -> None:
    """Per-language quality on the HELD-OUT part of the dev toxicity set (never trained on)."""
    from sklearn.metrics import roc_auc_score

    from curation.stages.toxicity.classifier import in_train_split

    rows = _jsonl(data / "toxicity" / "examples.jsonl.gz")
    trained = set(getattr(proc.scorer.rules.embedded.classifier, "langs", ()) or ())
    # held out = the other half of scripts/train_toxicity_model.py's split, plus every record of a
    # language the default model was not trained on (de/en/ru: clean only)
    rows = [r for r in rows if not (r["lang"] in trained and in_train_split(r["id"]))]
    # lang = the dataset's label, standing in for the langid stage that runs before toxicity
    docs = [
        Document(id=r["id"], source_kind="web", source="fortunes", text=r["text"], lang=r["lang"])
        for r in rows
    ]
    outs = _run(proc, docs, 256)
    by_lang: dict[str, list[tuple[int, dict, bool]]] = defaultdict(list)
    for r, o in zip(rows, outs, strict=True):
        d = o.doc if isinstance(o, Reject) else o
        by_lang[r["lang"]].append((int(r["label"] == "offensive"), dict(d.signals), isinstance(o, Reject)))
    by_lang["all"] = [x for lang in sorted(by_lang) for x in by_lang[lang]]
    from curation.stages.toxicity.config import primary_score

    primary = primary_score(proc.scorer.rules)
    names = [n for n in (primary, f"{primary}.kept", "classifier", "lexicon.max", "toxicity.max") if n]
    print(f"## Held-out part of toxicity/examples (weak file-level labels; decision score: {primary})")
    cols = " | ".join("AUC " + n for n in names)
    print(f"| lang | offensive | clean | {cols} | precision | recall | FPR |")
    print("|---|---:|---:|" + "---:|" * len(names) + "---:|---:|---:|")
    for lang in sorted(by_lang):
        xs = by_lang[lang]
        y = [x[0] for x in xs]
        pos, neg = sum(y), len(y) - sum(y)
        aucs = []
        for name in names:
            s = [float(x[1].get(f"toxicity.{name}", 0.0)) for x in xs]
            aucs.append(f"{roc_auc_score(y, s):.3f}" if pos and neg else "-")
        tp = sum(1 for x in xs if x[0] and x[2])
        fp = sum(1 for x in xs if not x[0] and x[2])
        prec = f"{tp / (tp + fp):.3f}" if tp + fp else "-"
        rec = f"{tp / pos:.3f}" if pos else "-"
        fpr = f"{fp / neg:.3f}" if neg else "-"
        print(f"| {lang} | {pos} | {neg} | {' | '.join(aucs)} | {prec} | {rec} | {fpr} |")
    print("(decision = the document is rejected by the stage; AUC of the document-level signals)")


def corpus_docs(data: Path) -> list[Document]:
    docs = []
    for kind in ("web", "book", "code", "conversation"):
        for r in _jsonl(data / "corpus" / f"{kind}.jsonl.gz"):
            msgs = r.get("messages")
            docs.append(
                Document(
                    id=r["id"],
                    source_kind=kind,
                    source="corpus",
                    text=r["text"],
                    code_language=r.get("language"),
                    lang=r.get("lang") or ("en" if kind in ("book", "code") else None),
                    messages=tuple((m["speaker"], m["content"]) for m in msgs) if msgs else None,
                )
            )
    return docs


def throughput(
    proc: ToxicityProcessor, docs: list[Document], label: str, batch: int, benign: bool = True
) -> None:
    """Speed of score + decide; ``benign`` (the dev corpus): every rejected document is a false reject."""
    mb = sum(d.num_bytes for d in docs) / 1e6
    t0 = time.process_time()
    w0 = time.perf_counter()
    outs = _run(proc, docs, batch)
    cpu = time.process_time() - t0
    wall = time.perf_counter() - w0
    dropped = defaultdict(int)
    edited = defaultdict(int)
    total = defaultdict(int)
    for d, o in zip(docs, outs, strict=True):
        total[d.source_kind] += 1
        if isinstance(o, Reject):
            dropped[d.source_kind] += 1
        elif o.text != d.text:
            edited[d.source_kind] += 1
    windows = sum((o.doc if isinstance(o, Reject) else o).signals["toxicity.windows"] for o in outs)
    print(f"## {label}")
    print(f"docs {len(docs)}, {mb:.2f} MB, windows {windows}, batch {batch}")
    print(
        f"wall {wall:.2f} s, CPU {cpu:.2f} s -> {mb / wall:.2f} MB/s wall, "
        f"{mb / cpu:.2f} MB/s per CPU-second, "
        f"{len(docs) / wall:.1f} docs/s, {windows / wall:.0f} windows/s"
    )
    for k in sorted(total):
        print(f"  {k}: {total[k]} docs, dropped {dropped[k]}, spans removed/tagged in {edited[k]}")
    n_drop = sum(dropped.values())
    what = "false rejects (benign corpus)" if benign else "rejected"
    print(f"  all: {len(docs)} docs, {what} {n_drop} = {100 * n_drop / max(1, len(docs)):.2f}%")
    by_lang: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for d, o in zip(docs, outs, strict=True):
        by_lang[d.lang or "-"][0] += 1
        by_lang[d.lang or "-"][1] += isinstance(o, Reject)
    print("  by lang (docs/dropped): " + ", ".join(f"{k} {v[0]}/{v[1]}" for k, v in sorted(by_lang.items())))


def probe(proc: ToxicityProcessor, docs: list[Document]) -> None:
    """CPU of the bias probe's scan of every document (the pipeline's before-curation representation)."""
    from curation.stages.toxicity.bias import doc_representation, identity_scanner

    matcher = identity_scanner(proc.scorer.bias.matcher())  # what the pipeline's probe scans with
    t0 = time.process_time()
    for d in docs:
        doc_representation(d.text, d.source_kind, matcher)
    cpu = time.process_time() - t0
    mb = sum(d.num_bytes for d in docs) / 1e6
    print(f"bias probe scan of {len(docs)} docs: {cpu:.2f} CPU-s ({mb / cpu:.1f} MB per CPU-second)")


def detoxify_bench(data: Path, n_docs: int, batch: int) -> None:
    import torch
    import yaml

    from curation.stages.toxicity.checkpoint import prepare
    from curation.stages.toxicity.tiny import build_tiny_detoxify

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        ckpt, hf = build_tiny_detoxify(root, hidden=64, layers=2)
        prepare(ckpt, hf, root / "prepared")
        rules = yaml.safe_load((REPO / "rules" / "toxicity.yaml").read_text(encoding="utf-8"))
        rules["backend"] = "detoxify"
        rules["detoxify"].update(checkpoint="prepared/model.ckpt", hf_dir="prepared/hf", batch_size=batch)
        rules["bias"]["terms_dir"] = str(REPO / "rules" / "bias")
        (root / "toxicity.yaml").write_text(yaml.safe_dump(rules, allow_unicode=True), encoding="utf-8")
        t = time.perf_counter()
        proc = _processor(root / "toxicity.yaml", root)
        print(
            f"## detoxify backend, TINY RANDOM BERT (hidden 64, 2 layers; not a real model), "
            f"torch threads {torch.get_num_threads()}"
        )
        print(f"load (prepared checkpoint, offline): {time.perf_counter() - t:.2f} s")
        docs = [d for d in corpus_docs(data) if d.source_kind in ("conversation", "web")][:n_docs]
        throughput(proc, docs, f"detoxify tiny model, {len(docs)} web+conversation docs", 64, benign=False)
    print(
        "Estimate (not measured here): detoxify 'original' (BERT-base, 110M parameters) on CPU "
        "scores roughly "
        "20-40 windows/s per core at <=128 tokens, i.e. ~2-3 short documents/s/core; on one GPU "
        "(T4/A10-class) roughly 500-2000 windows/s at batch 64. Both are estimates, not measurements."
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "eval-dev")
    ap.add_argument("--rules", type=Path, default=REPO / "rules" / "toxicity.yaml")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--detoxify-docs", type=int, default=300)
    ap.add_argument("--skip-detoxify", action="store_true")
    ap.add_argument("--speed-only", action="store_true", help="skip the held-out quality table")
    args = ap.parse_args()
    t0, w0 = time.process_time(), time.perf_counter()
    proc = _processor(args.rules, REPO / "models")
    print(
        f"set-up (rules, lexicons, models; once per worker): {time.process_time() - t0:.2f} CPU-s, "
        f"{time.perf_counter() - w0:.2f} s wall"
    )
    backend = proc.scorer._backend
    if getattr(backend, "profanity", None) is not None:
        print("English model: numpy export (models/profanity_model.npz), no scikit-learn in the scorer")
    elif getattr(backend, "model", None) is not None:
        print("English model: scikit-learn pickles (no models/profanity_model.npz: `curate models fetch`)")
    if not args.speed_only:
        quality(proc, args.data)
    docs = corpus_docs(args.data)
    throughput(proc, docs, "Embedded backend throughput on corpus/ (one process = one core)", args.batch)
    probe(proc, docs)
    if not args.skip_detoxify:
        detoxify_bench(args.data, args.detoxify_docs, 32)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {rss:.0f} MB")


if __name__ == "__main__":
    main()
