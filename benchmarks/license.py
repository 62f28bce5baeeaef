"""Score license tagging on the labelled dev set and measure throughput, through the readers.

    .venv/bin/python benchmarks/license.py [--data ../shared/data/eval-dev] [--rules rules/license.yaml]
        [--models models] [--show-errors N] [--via-curate]

``--via-curate`` runs each variant through ``curate run`` (license stage) and scores its Parquet outputs.

The dev examples are written as users would have them (a temp dir): JSONL shards per source kind with only
the input fields (no labels), and the code examples three ways, each read with ``curation.io.read_shard``:

* ``as_given``: code records as in the set (the full license texts have no ``path``);
* ``neutral_name``: every code record without a path gets ``path = "<id>.txt"``;
* ``tree``: the code examples as files of a directory tree (``<id>.txt`` where the record has no path),
  read as a code tree (``format: tree``).

A record the reader rejects counts as a miss (reasons listed). Prints, per variant and evidence form
(``spdx_identifier``, ``full_text``, ``header_notice``, ``cc_web_link``, ``gutenberg``, ``none``), the exact
SPDX match rate (up to expression equivalence; ``strict`` = same canonical string), the close-variant
confusions, the false-tag rate on ``none``, the setup cost (prebuilt index load, or the in-memory build
when ``--models`` has no index) and the tagger's CPU seconds (``time.process_time``) and MB per CPU-second
on the examples and on the mixed corpus (``corpus/*.jsonl.gz``, also read through the readers), plus peak
RSS. Exit status 1 when a floor is missed.
"""

from __future__ import annotations

import argparse
import gzip
import json
import resource
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from curation.config import Limits  # noqa: E402
from curation.document import Document, Reject  # noqa: E402
from curation.io import Shard, read_shard  # noqa: E402
from curation.stages.license.index import LicenseIndexError, check_index, index_dir  # noqa: E402
from curation.stages.license.policy import canonical, spdx_licensing  # noqa: E402
from curation.stages.license.rules import load_license_rules  # noqa: E402
from curation.stages.license.stage import LicenseProcessor  # noqa: E402

FLOORS = {"spdx_identifier": 0.95, "full_text": 0.95, "header_notice": 0.90}
FALSE_TAG_CEILING = 0.01
THROUGHPUT_FLOOR_MB_CPU_S = 5.0
VARIANTS = ("as_given", "neutral_name", "tree")
_INPUT_FIELDS = (
    "id", "text", "url", "html", "title", "author", "lang", "messages", "path", "repo", "language",
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


def tree_file(r: dict) -> str:
    """Where a code example goes in the tree variant (relative to the tree root)."""
    return f"{r.get('repo') or 'repo'}/{r['path']}" if r.get("path") else f"{r['id']}.txt"


def write_inputs(recs: list[dict], dest: Path, variant: str) -> list[Shard]:
    """The examples as shards under ``dest/variant`` (input fields only); returns the shards to read."""
    root = dest / variant
    by_kind: dict[str, list[dict]] = defaultdict(list)
    for r in recs:
        by_kind[r["source_kind"]].append({k: r[k] for k in _INPUT_FIELDS if r.get(k) is not None})
    shards = []
    for kind, rows in sorted(by_kind.items()):
        if kind == "code" and variant == "tree":
            tree = root / "tree"
            for r in rows:
                f = tree / tree_file(r)
                f.parent.mkdir(parents=True, exist_ok=True)
                f.write_text(r["text"], encoding="utf-8")
            shards.append(
                Shard(source="tree", kind="code", path=str(tree), format="tree", license=None, rel="tree")
            )
            continue
        if kind == "code" and variant == "neutral_name":
            rows = [r if r.get("path") else {**r, "path": f"{r['id']}.txt"} for r in rows]
        f = root / f"{kind}.jsonl"
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
        shards.append(Shard(source=kind, kind=kind, path=str(f), format="jsonl", license=None, rel=f.name))
    return shards


def read_all(shards: list[Shard]) -> tuple[list[Document], list[Reject]]:
    docs: list[Document] = []
    rejects: list[Reject] = []
    for shard in shards:
        for out in read_shard(shard, Limits()):
            if isinstance(out, Reject):
                rejects.append(out)
            else:
                docs.append(out)
    return docs, rejects


def record_id(doc: Document, tree_ids: dict[str, str]) -> str | None:
    """The example a read document came from (``meta.id`` for records, the file path in a tree)."""
    meta = doc.meta or {}
    rid = meta.get("source_id") or meta.get("id")  # the record's own id (readers keep it in meta)
    if rid:
        return str(rid)
    if doc.path:
        return tree_ids.get(f"{doc.repo}/{doc.path}") or tree_ids.get(doc.path)
    return None


def tag(proc: LicenseProcessor, docs: list[Document]) -> tuple[list[str], float]:
    """Licenses of ``docs`` and the tagger's process CPU seconds."""
    t0 = time.process_time()
    out = []
    for d in docs:
        o = proc.process(d)
        doc = o.doc if isinstance(o, Reject) else o
        out.append(doc.license or "NOASSERTION")
    return out, time.process_time() - t0


def score(recs: list[dict], preds: dict[str, str]) -> tuple[dict, Counter, dict]:
    by_form: dict[str, Counter] = defaultdict(Counter)
    confusion: Counter = Counter()
    errors: dict[str, list] = defaultdict(list)
    for rec in recs:
        gold, form = rec["spdx"], rec["form"]
        c = by_form[form]
        c["n"] += 1
        if rec["id"] not in preds:
            c["read_rejected"] += 1
            errors[form].append((gold, "<rejected by the reader>", rec.get("origin", "")))
            continue
        pred = preds[rec["id"]]
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
    return by_form, confusion, errors


def report(variant: str, scored: tuple[dict, Counter, dict], rejects: Counter, show: int) -> bool:
    """Print one variant's table; True if a floor is missed."""
    by_form, confusion, errors = scored
    print(f"\n== {variant} ==")
    print(f"{'form':<16}{'n':>6}{'exact':>9}{'strict':>9}{'missed':>8}{'wrong':>7}{'rd_rej':>8}  floor")
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
        wrong = n - c["exact"] - c["missed"] - c["read_rejected"]
        print(
            f"{form:<16}{n:>6}{exact:>9.3f}{c['strict'] / n:>9.3f}{c['missed']:>8}{wrong:>7}"
            f"{c['read_rejected']:>8}  {mark}"
        )
    none = by_form.get("none")
    if none:
        rate = none["false_tag"] / none["n"]
        ok = rate <= FALSE_TAG_CEILING
        failed |= not ok
        print(
            f"false-tag rate on `none` (NOASSERTION): {rate:.3%} ({none['false_tag']}/{none['n']})"
            f"  ceiling {FALSE_TAG_CEILING:.0%} {'OK' if ok else 'MISSED'}"
        )
    print("reader rejects: " + (", ".join(f"{k} {v}" for k, v in sorted(rejects.items())) or "none"))
    print("close-variant confusions (gold -> predicted, same family):" + (" none" if not confusion else ""))
    for (g, p), n in sorted(confusion.items(), key=lambda x: (-x[1], x[0])):
        print(f"  {g:<40} -> {p:<40} {n}")
    for form, errs in sorted(errors.items()) if show else ():
        print(f"errors in {form}:")
        for g, p, o in errs[:show]:
            print(f"  gold={g!r} pred={p!r} {o}")
    return failed


def via_curate(recs: list[dict], tmp: Path, models: str, show: int) -> bool:
    """Each variant through ``curate run`` (the license stage only) and scored from its Parquet outputs
    (kept documents and rejects both carry the license columns). True if a floor is missed."""
    import subprocess

    import pyarrow.parquet as pq
    import yaml

    failed = False
    tree_ids = {tree_file(r): r["id"] for r in recs if r["source_kind"] == "code"}
    for variant in VARIANTS:
        shards = write_inputs(recs, tmp, variant)
        cfg = {
            "name": f"dev-license-{variant}", "tokenizer": "whitespace", "models_dir": models,
            "sources": [{"name": s.source, "kind": s.kind, "paths": [s.path],
                         **({"format": "tree"} if s.format == "tree" else {})} for s in shards],
            "stages": [{"name": "license", "rules": str(REPO / "rules" / "license.yaml")}],
            "output": {"report": False},
        }
        cfg_file = tmp / f"{variant}.yaml"
        cfg_file.write_text(yaml.safe_dump(cfg), encoding="utf-8")
        out = tmp / f"out-{variant}"
        subprocess.run([str(REPO / ".venv" / "bin" / "curate"), "run", "--config", str(cfg_file), "--output",
                        str(out), "--progress", "none", "--quiet"], check=True)
        preds: dict[str, str] = {}
        rejects: Counter = Counter()
        for f in [*(out / "data").glob("*/*.parquet"), *(out / "rejects").glob("*.parquet")]:
            for r in pq.read_table(f).to_pylist():
                if r.get("stage") == "read":
                    rejects[r["reason"]] += 1
                    continue
                meta = json.loads(r["meta"] or "{}")
                rid = meta.get("source_id") or meta.get("id")
                if rid is None and r.get("path"):
                    rid = tree_ids.get(f"{r.get('repo')}/{r['path']}") or tree_ids.get(r["path"])
                if rid is not None:
                    preds[str(rid)] = r.get("license") or "NOASSERTION"
        failed |= report(f"{variant} via curate run", score(recs, preds), rejects, show)
    return failed


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(REPO.parent / "shared" / "data" / "eval-dev"))
    ap.add_argument("--rules", default=str(REPO / "rules" / "license.yaml"))
    ap.add_argument("--models", default=str(REPO / "models"), help="models_dir holding license_index/")
    ap.add_argument("--show-errors", type=int, default=0, help="print this many mismatches per form")
    ap.add_argument("--via-curate", action="store_true", help="score the outputs of `curate run` instead")
    args = ap.parse_args()
    data = Path(args.data)
    if args.via_curate:
        with tempfile.TemporaryDirectory() as tmp:
            recs = load_jsonl(data / "license" / "examples.jsonl.gz")
            return 1 if via_curate(recs, Path(tmp), args.models, args.show_errors) else 0
    rules = load_license_rules(args.rules)
    t0 = time.process_time()
    index: str | None = str(index_dir(args.models))
    try:
        check_index(index_dir(args.models), rules.text_match)
    except LicenseIndexError as exc:
        print(f"{exc}\n-> building the matcher in memory instead")
        index = None
    proc = LicenseProcessor(rules, index)
    proc.setup()
    setup_s = time.process_time() - t0

    recs = load_jsonl(data / "license" / "examples.jsonl.gz")
    src = data / "license" / "examples.jsonl.gz"
    print(f"license tagging on {src} ({len(recs)} examples), read with curation.io")
    failed = False
    cpu = mb = 0.0
    n_docs = 0
    tree_ids = {tree_file(r): r["id"] for r in recs if r["source_kind"] == "code"}
    with tempfile.TemporaryDirectory() as tmp:
        for variant in VARIANTS:
            docs, rejects = read_all(write_inputs(recs, Path(tmp), variant))
            preds_list, secs = tag(proc, docs)
            preds = {}
            for d, p in zip(docs, preds_list, strict=True):
                rid = record_id(d, tree_ids)
                if rid is not None:
                    preds[rid] = p
            if variant == "as_given":
                cpu, n_docs, mb = secs, len(docs), sum(d.num_bytes for d in docs) / 1e6
            reasons = Counter(r.reason for r in rejects)
            failed |= report(variant, score(recs, preds), reasons, args.show_errors)
        corpus_recs = []
        for f in sorted((data / "corpus").glob("*.jsonl.gz")):
            corpus_recs += load_jsonl(f)
        corpus_docs, _ = read_all(write_inputs(corpus_recs, Path(tmp) / "corpus", "as_given"))
    _, csecs = tag(proc, corpus_docs)
    cmb = sum(d.num_bytes for d in corpus_docs) / 1e6
    how = f"prebuilt index {index}, memory-mapped" if index else "in-memory build from licensedcode-data"
    print(f"\nsetup ({how}): {setup_s:.2f} CPU-s")
    print(
        f"tagger, license examples (as_given): {mb:.1f} MB in {cpu:.2f} CPU-s = {mb / cpu:.1f} MB/cpu-s "
        f"({n_docs / cpu:.0f} docs/cpu-s)"
    )
    if corpus_docs:
        rate = cmb / csecs
        ok = rate >= THROUGHPUT_FLOOR_MB_CPU_S
        print(
            f"tagger, mixed corpus: {cmb:.1f} MB in {csecs:.2f} CPU-s = {rate:.1f} MB/cpu-s "
            f"({len(corpus_docs) / csecs:.0f} docs/cpu-s)  floor {THROUGHPUT_FLOOR_MB_CPU_S} MB/cpu-s "
            f"{'OK' if ok else 'MISSED'}"
        )
        failed |= not ok
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS: {rss:.0f} MB")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
