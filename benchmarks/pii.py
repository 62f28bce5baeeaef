"""PII stage benchmark: span-level precision/recall on the labelled dev set, and throughput per core.

Usage (from the repository root)::

    .venv/bin/python benchmarks/pii.py                     # quality (patterns) + throughput (patterns, NER)
    .venv/bin/python benchmarks/pii.py --ner               # quality with PERSON (spaCy NER) on as well
    .venv/bin/python benchmarks/pii.py --skip-throughput --show-errors 5

Quality: ``<data>/pii/examples.jsonl.gz`` (see its README). A predicted span matches a gold span of the
same type when their character IoU is >= 0.5 (one-to-one, greedy); exact-boundary matches are reported
too. Code secrets are also scored as one group (any secret type matching any secret span), since a
secret found under a sibling type (e.g. GENERIC_SECRET for an AWS key) is still removed. Negative records
(``spans: []``: version numbers, dates, ISBNs, hashes, UUIDs, ...) contribute false positives only and
are counted separately. Types the stage does not detect by design (STREET_ADDRESS, plain URL) are listed
as such.

Throughput: ``<data>/corpus/*.jsonl.gz`` (7.7 MB of mixed web/book/code/conversation text) through
``PiiProcessor.process_batch`` in one process; MB/s per core = UTF-8 MB / CPU seconds of this process.
NER is measured on the prose part (a bounded sample, ``--ner-mb``). A 20 MB document with entities
planted at every chunk border checks that long documents are linear and lose nothing.
"""

from __future__ import annotations

import argparse
import dataclasses
import gzip
import json
import resource
import sys
import time
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from curation.document import Document, Reject  # noqa: E402
from curation.stages.pii import load_stage_rules  # noqa: E402
from curation.stages.pii.entities import SECRET_ENTITIES  # noqa: E402
from curation.stages.pii.processor import PiiProcessor  # noqa: E402

STRUCTURED = ("EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "US_SSN", "IP_ADDRESS", "IBAN_CODE")
RECALL_FLOORS = {"EMAIL_ADDRESS": 0.97, "CREDIT_CARD": 0.97, "US_SSN": 0.97, "IP_ADDRESS": 0.97,
                 "CODE_SECRETS": 0.97, "PHONE_NUMBER": 0.90}
PRECISION_FLOOR = 0.90
NOT_DETECTED = {"STREET_ADDRESS": "out of scope (no recognizer)",
                "URL": "by design only credentials inside URLs are removed (as PASSWORD)"}


def read_jsonl(path: Path) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def iou(a: tuple[int, int], b: tuple[int, int]) -> float:
    inter = max(0, min(a[1], b[1]) - max(a[0], b[0]))
    union = max(a[1], b[1]) - min(a[0], b[0])
    return inter / union if union else 0.0


def match(gold: list[tuple[int, int]], pred: list[tuple[int, int]]) -> tuple[int, int, list, list]:
    """Greedy one-to-one matching at IoU >= 0.5: (matched, exact, unmatched gold, unmatched pred)."""
    pairs = sorted(((iou(g, p), gi, pi) for gi, g in enumerate(gold) for pi, p in enumerate(pred)
                    if iou(g, p) >= 0.5), reverse=True)
    used_g, used_p, exact = set(), set(), 0
    for _s, gi, pi in pairs:
        if gi in used_g or pi in used_p:
            continue
        used_g.add(gi)
        used_p.add(pi)
        exact += gold[gi] == pred[pi]
    return (len(used_g), exact, [g for i, g in enumerate(gold) if i not in used_g],
            [p for i, p in enumerate(pred) if i not in used_p])


def group_of(entity: str) -> str:
    return "CODE_SECRETS" if entity in SECRET_ENTITIES else entity


def evaluate(proc: PiiProcessor, records: list[dict], show_errors: int) -> dict[str, dict[str, int]]:
    assert proc._analyzer is not None
    texts = [r["text"] for r in records]
    ner_flags = [r["source_kind"] in proc.rules.ner.source_kinds for r in records]
    preds: list[list] = []
    for i in range(0, len(texts), 64):
        res, _, _ = proc._analyzer.analyze_many(texts[i : i + 64], ner_flags[i : i + 64])
        preds.extend(res)
    stats: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    errors: dict[str, list[str]] = defaultdict(list)
    for rec, pred in zip(records, preds, strict=True):
        text = rec["text"]
        negative = not rec["spans"]
        for level in ("type", "group"):
            key = (lambda e: e) if level == "type" else group_of
            gold_by: dict[str, list] = defaultdict(list)
            pred_by: dict[str, list] = defaultdict(list)
            for s in rec["spans"]:
                gold_by[key(s["entity_type"])].append((s["start"], s["end"]))
            for p in pred:
                pred_by[key(p.entity_type)].append((p.start, p.end))
            for t in set(gold_by) | set(pred_by):
                if level == "group" and t != "CODE_SECRETS":
                    continue
                m, exact, fn, fp = match(gold_by[t], pred_by[t])
                st = stats[t]
                st["gold"] += len(gold_by[t])
                st["pred"] += len(pred_by[t])
                st["tp"] += m
                st["exact"] += exact
                if negative:
                    st["fp_on_negatives"] += len(fp)
                for kind, spans in (("FN", fn), ("FP", fp)):
                    for a, b in spans:
                        if len(errors[f"{t} {kind}"]) < show_errors:
                            left, value, right = text[max(0, a - 40) : a], text[a:b], text[b : b + 20]
                            errors[f"{t} {kind}"].append(f"{rec['id']}: ...{left!r} [[{value!r}]] {right!r}")
    if show_errors:
        for k in sorted(errors):
            print(f"--- {k}")
            for line in errors[k]:
                print("   ", line)
    return stats


def print_quality(stats: dict[str, dict[str, int]], ner: bool) -> bool:
    cols = ("gold", "pred", "P", "R", "F1", "exact", "FP@neg")
    print(f"\n{'entity':24} {cols[0]:>5} {cols[1]:>5} " + " ".join(f"{c:>6}" for c in cols[2:]) + "  floor")
    ok = True
    for t in sorted(stats, key=lambda t: (t == "CODE_SECRETS", t == "PERSON", t)):
        st = stats[t]
        p = st["tp"] / st["pred"] if st["pred"] else float("nan")
        r = st["tp"] / st["gold"] if st["gold"] else float("nan")
        f = 2 * p * r / (p + r) if st["pred"] and st["gold"] and p + r else float("nan")
        note = ""
        if t in NOT_DETECTED and not st["pred"]:
            note = NOT_DETECTED[t]
        elif t == "PERSON" and not ner:
            note = "NER off (run with --ner)"
        else:
            checks = []
            if t in RECALL_FLOORS:
                good = r >= RECALL_FLOORS[t]
                ok &= good
                checks.append(f"R>={RECALL_FLOORS[t]} {'ok' if good else 'MISSED'}")
            if t in STRUCTURED or t == "CODE_SECRETS":
                good = st["pred"] == 0 or p >= PRECISION_FLOOR
                ok &= good
                checks.append(f"P>={PRECISION_FLOOR} {'ok' if good else 'MISSED'}")
            note = ", ".join(checks)
        print(f"{t:24} {st['gold']:5d} {st['pred']:5d} {p:6.3f} {r:6.3f} {f:6.3f} {st['exact']:6d} "
              f"{st['fp_on_negatives']:6d}  {note}")
    return ok


def corpus_docs(data: Path) -> list[Document]:
    docs = []
    for kind in ("web", "book", "code", "conversation"):
        for i, rec in enumerate(read_jsonl(data / "corpus" / f"{kind}.jsonl.gz")):
            msgs = rec.get("messages")
            messages = tuple((m.get("speaker", ""), m.get("content", "")) for m in msgs) if msgs else None
            docs.append(Document(id=f"{kind}{i}", source_kind=kind, source="bench", text=rec["text"],
                                 messages=messages))
    return docs


def throughput(proc: PiiProcessor, docs: list[Document], label: str, batch: int = 64) -> float:
    mb = sum(len(d.text.encode("utf-8")) for d in docs) / 1e6
    c0, w0 = time.process_time(), time.perf_counter()
    for i in range(0, len(docs), batch):
        proc.process_batch(docs[i : i + batch])
    cpu, wall = time.process_time() - c0, time.perf_counter() - w0
    print(f"{label:40} {mb:7.2f} MB  cpu {cpu:7.2f} s  wall {wall:7.2f} s  -> {mb / cpu:6.3f} MB/s per core")
    return mb / cpu


def big_document_check(proc: PiiProcessor, docs: list[Document]) -> None:
    """A ~20 MB document with an e-mail planted across every chunk border: every one must be found."""
    filler = "\n\n".join(d.text for d in docs if d.source_kind == "book")[: proc.rules.chunk.size - 10]
    planted = " ab.cd@example.org "  # with `size - 10` filler chars it straddles each multiple of `size`
    per_piece = proc.process_batch([Document(id="f", source_kind="book", source="bench", text=filler)])[0]
    in_filler = int(per_piece.signals.get("pii.count.EMAIL_ADDRESS") or 0)  # type: ignore[union-attr]
    pieces = 20_000_000 // (len(filler) + len(planted)) + 1
    text = (filler + planted) * pieces
    doc = Document(id="big", source_kind="book", source="bench", text=text)
    c0 = time.process_time()
    out = proc.process_batch([doc])[0]
    cpu = time.process_time() - c0
    signals = out.doc.signals if isinstance(out, Reject) else out.signals
    found = int(signals.get("pii.count.EMAIL_ADDRESS") or 0)
    expected = pieces * (1 + in_filler)
    mb = len(text.encode()) / 1e6
    verdict = "ok" if found == expected else "MISSED"
    print(f"20 MB document: {mb:.1f} MB in {cpu:.2f} s cpu ({mb / cpu:.2f} MB/s per core); e-mails expected "
          f"{expected} ({pieces} planted across chunk borders), found {found}: {verdict}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "eval-dev")
    ap.add_argument("--rules", type=Path, default=REPO / "rules" / "pii.yaml")
    ap.add_argument("--ner", action="store_true", help="score PERSON too (spaCy NER on)")
    ap.add_argument("--show-errors", type=int, default=0, metavar="N", help="print N errors per type")
    ap.add_argument("--skip-quality", action="store_true")
    ap.add_argument("--skip-throughput", action="store_true")
    ap.add_argument("--ner-mb", type=float, default=1.0, help="MB of prose for the NER throughput figure")
    args = ap.parse_args()

    rules = load_stage_rules(args.rules)
    patterns_rules = dataclasses.replace(rules, ner=dataclasses.replace(rules.ner, enabled=False))
    ner_rules = dataclasses.replace(rules, ner=dataclasses.replace(rules.ner, enabled=True))
    ok = True
    if not args.skip_quality:
        proc = PiiProcessor(ner_rules if args.ner else patterns_rules)
        proc.setup()
        records = read_jsonl(args.data / "pii" / "examples.jsonl.gz")
        t0 = time.perf_counter()
        stats = evaluate(proc, records, args.show_errors)
        ner = "on" if args.ner else "off"
        print(f"quality: {len(records)} records in {time.perf_counter() - t0:.1f} s (NER {ner})")
        ok = print_quality(stats, args.ner)
    if not args.skip_throughput:
        docs = corpus_docs(args.data)
        print("\nthroughput (single process):")
        proc = PiiProcessor(patterns_rules)
        proc.setup()
        throughput(proc, docs, "patterns only, corpus")
        big_document_check(proc, docs)
        prose, total = [], 0
        for d in docs:
            if d.source_kind in ner_rules.ner.source_kinds and total < args.ner_mb * 1e6:
                prose.append(d)
                total += len(d.text.encode())
        nproc = PiiProcessor(ner_rules)
        nproc.setup()
        throughput(nproc, prose, f"patterns + NER, {total / 1e6:.1f} MB prose", batch=32)
        throughput(proc, prose, "patterns only, same prose")
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    if not args.skip_quality:
        print("floors:", "all met" if ok else "SOME MISSED")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
