"""Score license tagging on the labelled dev set and measure throughput.

    .venv/bin/python benchmarks/license.py [--data ../shared/data/eval-dev] [--rules rules/license.yaml]

Prints, per evidence form of ``license/examples.jsonl.gz`` (``spdx_identifier``, ``full_text``,
``header_notice``, ``cc_web_link``, ``gutenberg``, ``none``): exact SPDX match rate (strict string match
of the canonical expression, and match up to expression equivalence, e.g. ``A OR B`` == ``B OR A``), the
confusions between close variants (BSD-2/3, -only/-or-later, MIT/ISC, LGPL versions, CC variants and
versions), the false-tag rate on ``none`` (documents stating no license, label ``NOASSERTION``), and
throughput in MB/s on one core (the tagger runs in this process: setup excluded and reported apart) on
the examples and on the mixed corpus (``corpus/*.jsonl.gz``), plus peak RSS.
"""

from __future__ import annotations

import argparse
import gzip
import json
import resource
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from curation.document import Document, Reject  # noqa: E402
from curation.stages.license.policy import canonical, spdx_licensing  # noqa: E402
from curation.stages.license.rules import load_license_rules  # noqa: E402
from curation.stages.license.stage import LicenseProcessor  # noqa: E402

FLOORS = {"spdx_identifier": 0.95, "full_text": 0.95, "header_notice": 0.85}
FALSE_TAG_CEILING = 0.02
THROUGHPUT_FLOOR_MB_S = 5.0


def to_document(rec: dict) -> Document:
    """A pipeline Document from an eval record (no manifest license: only the text's own evidence)."""
    kind = rec["source_kind"]
    messages = None
    if kind == "conversation" and rec.get("messages"):
        messages = tuple((m.get("speaker", ""), m.get("content", "")) for m in rec["messages"])
    return Document(
        id=rec["id"],
        source_kind=kind,
        source="eval-dev",
        text=rec["text"],
        url=rec.get("url"),
        path=rec.get("path"),
        repo=rec.get("repo"),
        title=rec.get("title"),
        author=rec.get("author"),
        code_language=rec.get("language"),
        messages=messages,
        html=rec.get("html"),
        lang=rec.get("lang"),
    )


def family(spdx: str) -> str:
    """Close-variant family of an id, for the confusion table."""
    s = spdx.upper()
    for fam in ("BSD-", "LGPL-", "AGPL-", "GPL-", "GFDL-", "MPL-", "APACHE-", "CC-BY", "CC0"):
        if s.startswith(fam):
            return fam.rstrip("-")
    if s in ("MIT", "ISC", "X11", "MIT-0", "0BSD"):
        return "MIT/ISC"
    return s


def equivalent(a: str, b: str) -> bool:
    if a == b:
        return True
    if "NOASSERTION" in (a, b):
        return False
    try:
        return bool(spdx_licensing().is_equivalent(a, b))
    except Exception:
        return False


def load_jsonl(path: Path) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def tag(proc: LicenseProcessor, docs: list[Document]) -> tuple[list[str], float]:
    t0 = time.perf_counter()
    out = []
    for d in docs:
        o = proc.process(d)
        doc = o.doc if isinstance(o, Reject) else o
        out.append(doc.license or "NOASSERTION")
    return out, time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(REPO.parent / "shared" / "data" / "eval-dev"))
    ap.add_argument("--rules", default=str(REPO / "rules" / "license.yaml"))
    ap.add_argument("--show-errors", type=int, default=0, help="print this many mismatches per form")
    args = ap.parse_args()
    data = Path(args.data)
    rules = load_license_rules(args.rules)
    proc = LicenseProcessor(rules)
    t0 = time.perf_counter()
    proc.setup()
    setup_s = time.perf_counter() - t0

    recs = load_jsonl(data / "license" / "examples.jsonl.gz")
    docs = [to_document(r) for r in recs]
    preds, secs = tag(proc, docs)
    mb = sum(d.num_bytes for d in docs) / 1e6

    by_form: dict[str, Counter] = defaultdict(Counter)
    confusion: Counter = Counter()
    errors: dict[str, list] = defaultdict(list)
    for rec, pred in zip(recs, preds, strict=True):
        gold = rec["spdx"]
        form = rec["form"]
        c = by_form[form]
        c["n"] += 1
        gold_c = canonical(gold) or gold
        c["strict"] += pred == gold_c
        ok = equivalent(pred, gold_c)
        c["exact"] += ok
        if form == "none":
            c["false_tag"] += pred != "NOASSERTION"
        elif pred == "NOASSERTION":
            c["missed"] += 1
        if not ok:
            errors[form].append((gold, pred, rec.get("origin", "")))
            if pred != "NOASSERTION" and gold != "NOASSERTION" and family(gold) == family(pred):
                confusion[(gold, pred)] += 1

    print(f"license tagging on {data / 'license' / 'examples.jsonl.gz'} ({len(recs)} examples)\n")
    print(f"{'form':<16}{'n':>6}{'exact':>9}{'strict':>9}{'missed':>8}{'wrong':>7}  floor")
    failed = False
    for form in sorted(by_form):
        c = by_form[form]
        n = c["n"]
        exact = c["exact"] / n
        floor = FLOORS.get(form)
        mark = ""
        if floor is not None:
            mark = f">= {floor:.2f} {'OK' if exact >= floor else 'MISSED'}"
            failed |= exact < floor
        wrong = n - c["exact"] - c["missed"]
        print(f"{form:<16}{n:>6}{exact:>9.3f}{c['strict'] / n:>9.3f}{c['missed']:>8}{wrong:>7}  {mark}")
    none = by_form.get("none")
    if none:
        rate = none["false_tag"] / none["n"]
        ok = rate <= FALSE_TAG_CEILING
        failed |= not ok
        print(
            f"\nfalse-tag rate on `none` (NOASSERTION): {rate:.3%} ({none['false_tag']}/{none['n']})"
            f"  ceiling {FALSE_TAG_CEILING:.0%} {'OK' if ok else 'MISSED'}"
        )
    print("\nclose-variant confusions (gold -> predicted, same family):")
    if not confusion:
        print("  none")
    for (g, p), n in sorted(confusion.items(), key=lambda x: (-x[1], x[0])):
        print(f"  {g:<40} -> {p:<40} {n}")
    if args.show_errors:
        for form, errs in sorted(errors.items()):
            print(f"\nerrors in {form}:")
            for g, p, o in errs[: args.show_errors]:
                print(f"  gold={g!r} pred={p!r} {o}")

    corpus_docs = []
    for f in sorted((data / "corpus").glob("*.jsonl.gz")):
        corpus_docs += [to_document(r) for r in load_jsonl(f)]
    _, csecs = tag(proc, corpus_docs)
    cmb = sum(d.num_bytes for d in corpus_docs) / 1e6
    print(f"\nsetup (load licensedcode-data, build index): {setup_s:.1f} s")
    print(
        f"throughput, license examples: {mb:.1f} MB in {secs:.2f} s = {mb / secs:.1f} MB/s/core "
        f"({len(docs) / secs:.0f} docs/s)"
    )
    if corpus_docs:
        rate = cmb / csecs
        print(
            f"throughput, mixed corpus:     {cmb:.1f} MB in {csecs:.2f} s = {rate:.1f} MB/s/core "
            f"({len(corpus_docs) / csecs:.0f} docs/s)  floor {THROUGHPUT_FLOOR_MB_S} MB/s "
            f"{'OK' if rate >= THROUGHPUT_FLOOR_MB_S else 'MISSED'}"
        )
        failed |= rate < THROUGHPUT_FLOOR_MB_S
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS: {rss:.0f} MB")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
