"""Side by side with datatrove: the Gopher/C4/FineWeb filter chain and MinHash dedup on the same dev text.

datatrove (HuggingFace, the library behind FineWeb) runs from its own scratch venv, created on demand
from PyPI under ``~/.cache/curation-peers/`` (``--venv``); nothing is installed into this project. Both
sides get the same texts: the reference ``text`` of every dev-corpus document (no HTML, so extraction is
not part of the comparison), one JSONL file.

* datatrove: ``GopherRepetitionFilter -> GopherQualityFilter -> C4QualityFilter -> FineWebQualityFilter``
  (default settings, each filter sees the previous one's survivors, as in a datatrove pipeline), then the
  four MinHash steps (``MinhashDedupSignature -> Buckets -> Cluster -> Filter``, default config: 5-grams,
  14 bands x 8 hashes) with ``LocalPipelineExecutor(tasks=1)`` on the survivors. Word tokenizer: spaCy's
  blank English tokenizer (``SpaCyTokenizer("en")``); datatrove's default English tokenizer (NLTK punkt)
  needs a data download that this machine cannot make.
* this project: ``curation.run`` with ``langid -> quality -> dedup`` (langid added because the quality
  rules are per language; quality holds the Gopher repetition + quality, C4 and FineWeb rules; dedup is
  exact + MinHash-LSH), plus its reading, accounting and Parquet outputs (kept, rejects, stages.json,
  dedup state). Run twice: with the config's tokenizer (cl100k counts every document's tokens, work
  datatrove's chain does not do) and like for like (whitespace word counts; everything else identical).

Each side runs in a fresh process; CPU = user+sys of that process and its children (``wait4``), so
start-up (imports, models) is included, and each side also reports its processing-only CPU (datatrove:
the filter calls and executor run; ours: the stage counters, thread CPU time). Printed: CPU-seconds,
MB per CPU-second and the ratio datatrove / ours.

    .venv/bin/python benchmarks/peers.py [--corpus ../shared/data/eval-dev/corpus] [--json out.json]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import DEV_CORPUS, KINDS, REPO, compile_project

HERE = Path(__file__).resolve().parent
DATATROVE = "datatrove==0.10.1"
PEER_DEPS = (DATATROVE, "spacy>=3.7,<4", "xxhash<4", "regex", "tokenizers", "orjson")  # optional deps used
DEFAULT_VENV = Path.home() / ".cache" / "curation-peers" / "datatrove-0.10.1"

# Runs inside the scratch venv: argv = [input.jsonl, work dir, result.json].
DATATROVE_SCRIPT = r'''
import json, os, sys, time
T = time.process_time
inp, work, result = sys.argv[1:4]
t0 = T()
from datatrove.data import Document
from datatrove.executor import LocalPipelineExecutor
from datatrove.pipeline.dedup.minhash import (MinhashConfig, MinhashDedupBuckets, MinhashDedupCluster,
                                              MinhashDedupFilter, MinhashDedupSignature)
from datatrove.pipeline.filters import (C4QualityFilter, FineWebQualityFilter, GopherQualityFilter,
                                        GopherRepetitionFilter)
from datatrove.pipeline.readers import JsonlReader
from datatrove.pipeline.writers import JsonlWriter
from datatrove.utils.word_tokenizers import SpaCyTokenizer
imports = T() - t0
tok = SpaCyTokenizer("en")
records = [json.loads(line) for line in open(inp, encoding="utf-8")]
docs = [Document(text=r["text"], id=r["id"], metadata={}) for r in records]
filters = [GopherRepetitionFilter(language=tok), GopherQualityFilter(language=tok),
           C4QualityFilter(language=tok), FineWebQualityFilter(language=tok)]
per_filter = {}
for f in filters:
    t = T()
    kept = []
    for d in docs:
        out = f.filter(d)
        if (out[0] if isinstance(out, tuple) else out):
            kept.append(d)
    per_filter[type(f).__name__] = {"cpu_s": T() - t, "docs_in": len(docs), "kept": len(kept)}
    docs = kept
os.makedirs(f"{work}/kept", exist_ok=True)
with open(f"{work}/kept/kept.jsonl", "w", encoding="utf-8") as fh:
    for d in docs:
        fh.write(json.dumps({"id": d.id, "text": d.text}) + "\n")
cfg = MinhashConfig()
steps = [
    [JsonlReader(f"{work}/kept"), MinhashDedupSignature(f"{work}/sigs", config=cfg, language=tok)],
    [MinhashDedupBuckets(f"{work}/sigs", f"{work}/buckets", config=cfg)],
    [MinhashDedupCluster(f"{work}/buckets", f"{work}/remove_ids", config=cfg)],
    [JsonlReader(f"{work}/kept"), MinhashDedupFilter(f"{work}/remove_ids"), JsonlWriter(f"{work}/deduped")],
]
t = T()
for i, pipeline in enumerate(steps):
    tasks = cfg.num_buckets if i == 1 else 1
    LocalPipelineExecutor(pipeline=pipeline, tasks=tasks, workers=1, logging_dir=f"{work}/logs{i}").run()
minhash = T() - t
kept_after = 0
for root, _, files in os.walk(f"{work}/deduped"):
    for name in files:
        import gzip
        with gzip.open(os.path.join(root, name), "rt") as fh:
            kept_after += sum(1 for _ in fh)
summary = {"imports_s": imports, "filters": per_filter, "minhash_cpu_s": minhash,
           "kept_after_filters": len(docs), "kept_after_dedup": kept_after, "cpu_own_s": T()}
json.dump(summary, open(result, "w"))
'''

# Runs in this project's venv: argv = [data dir, out dir, result.json, config, tokenizer ("config": the
# config's)].
OURS_SCRIPT = r'''
import dataclasses, json, sys, time
T = time.process_time
data, out, result, config, tokenizer = sys.argv[1:6]
from curation.config import SourceSpec, load_config
from curation.run import run
base = load_config(config)
keep = ("langid", "quality", "dedup")
stages = tuple(s for s in base.stages if s.name in keep)
sources = tuple(SourceSpec(kind=k, paths=(f"{data}/{k}/*.jsonl",), name=f"peer-{k}") for k in KINDS)
cfg = dataclasses.replace(base, sources=sources, stages=stages)
if tokenizer != "config":
    cfg = dataclasses.replace(cfg, tokenizer=tokenizer)
r = run(cfg, out, [], report=False)
st = json.load(open(f"{out}/report/stages.json"))
kept = {s["stage"]: s["total"]["docs_kept"] for s in st["stages"]}
json.dump({"stage_micros": r.stage_micros, "kept": kept, "cpu_own_s": T()}, open(result, "w"))
'''.replace("KINDS", repr(KINDS))


def ensure_venv(venv: Path) -> Path:
    """The scratch venv's python, creating the venv and installing datatrove from PyPI if needed."""
    py = venv / "bin" / "python"
    probe = "import datatrove.pipeline.dedup.minhash, datatrove.pipeline.filters, spacy, orjson"
    if py.exists() and subprocess.run([str(py), "-c", probe], capture_output=True).returncode == 0:
        return py
    venv.parent.mkdir(parents=True, exist_ok=True)
    print(f"creating {venv} with {', '.join(PEER_DEPS)} (once)", flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(py), "-m", "pip", "install", "-q", *PEER_DEPS], check=True)
    return py


def timed_process(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """Run ``cmd``; (CPU-seconds user+sys incl. children, wall seconds)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert proc.stderr is not None
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        sys.stderr.write(err.decode("utf-8", "replace")[-4000:])
        raise SystemExit(f"failed: {' '.join(cmd[:3])} ...")
    return usage.ru_utime + usage.ru_stime, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=DEV_CORPUS)
    ap.add_argument("--venv", type=Path, default=DEFAULT_VENV, help="datatrove's scratch venv")
    ap.add_argument("--config", type=Path, default=REPO / "rules" / "pipeline.yaml")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    peer_py = ensure_venv(args.venv)
    compile_project()  # as installed: no per-process compilation of the project (see _common)

    with tempfile.TemporaryDirectory() as tmp:
        tmpd = Path(tmp)
        flat = tmpd / "texts.jsonl"
        n_docs = n_bytes = 0
        with open(flat, "w", encoding="utf-8") as all_fh:
            for kind in KINDS:
                (tmpd / "in" / kind).mkdir(parents=True)
                with gzip.open(args.corpus / f"{kind}.jsonl.gz", "rt", encoding="utf-8") as src, open(
                    tmpd / "in" / kind / "part-0.jsonl", "w", encoding="utf-8"
                ) as fh:
                    for line in src:
                        r = json.loads(line)
                        rec = {k: r[k] for k in ("id", "text", "url", "title", "path", "repo") if r.get(k)}
                        if r.get("language"):
                            rec["language"] = r["language"]
                        if r.get("messages"):
                            rec["messages"] = r["messages"]
                        fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
                        flat_rec = {"id": r["id"], "text": r["text"]}
                        all_fh.write(json.dumps(flat_rec, ensure_ascii=False) + "\n")
                        n_docs += 1
                        n_bytes += len(r["text"].encode("utf-8"))
        mb = n_bytes / 1e6
        print(f"same text for both: {n_docs} dev-corpus documents, {mb:.2f} MB")

        (tmpd / "dt").mkdir()
        script = tmpd / "dt.py"
        script.write_text(DATATROVE_SCRIPT)
        dt_cpu, dt_wall = timed_process(
            [str(peer_py), str(script), str(flat), str(tmpd / "dt"), str(tmpd / "dt.json")],
            env=dict(os.environ, PYTHONWARNINGS="ignore", DATATROVE_COLORIZE_LOGS="0"),
        )
        dt = json.loads((tmpd / "dt.json").read_text())
        ours_script = tmpd / "ours.py"
        ours_script.write_text(OURS_SCRIPT)
        ours = {}
        for variant, tokenizer in (("tokens", "config"), ("like-for-like", "whitespace")):
            cpu, wall = timed_process(
                [sys.executable, str(ours_script), str(tmpd / "in"), str(tmpd / f"ours-{variant}"),
                 str(tmpd / f"ours-{variant}.json"), str(args.config), tokenizer],
                env=dict(os.environ, PYTHONWARNINGS="ignore"),
            )
            result = json.loads((tmpd / f"ours-{variant}.json").read_text())
            ours[variant] = dict(result, cpu_s=cpu, wall_s=wall)

    dt_proc = sum(f["cpu_s"] for f in dt["filters"].values()) + dt["minhash_cpu_s"]
    print("\ndatatrove 0.10.1 (scratch venv)")
    for name, f in dt["filters"].items():
        print(f"  {name:<24} {f['cpu_s']:7.2f} CPU-s  {f['docs_in']:>5} in  {f['kept']:>5} kept")
    print(f"  {'MinHash (4 steps)':<24} {dt['minhash_cpu_s']:7.2f} CPU-s  {dt['kept_after_dedup']:>5} kept")
    print(f"  whole process: {dt_cpu:.2f} CPU-s ({dt_wall:.1f} s wall), imports {dt['imports_s']:.2f} CPU-s")
    labels = {
        "tokens": "with the run's token accounting (cl100k count of every document; datatrove counts none)",
        "like-for-like": "like for like: token accounting by whitespace words, the rest identical",
    }
    for variant, o in ours.items():
        print(f"this project, langid -> quality -> dedup, {labels[variant]}")
        for s in ("read", "langid", "quality", "dedup", "write"):
            us = o["stage_micros"].get(s, 0)
            print(f"  {s:<24} {us / 1e6:7.2f} CPU-s  {o['kept'].get(s, 0):>5} kept")
        print(f"  whole process: {o['cpu_s']:.2f} CPU-s ({o['wall_s']:.1f} s wall)")
    print()
    for variant, o in ours.items():
        print(f"whole process incl. start-up ({variant}): datatrove {mb / dt_cpu:.3f} MB/cpu-s, ours "
              f"{mb / o['cpu_s']:.3f} MB/cpu-s -> ours {dt_cpu / o['cpu_s']:.2f}x datatrove per CPU-second")
    o = ours["like-for-like"]
    dt_filters = sum(f["cpu_s"] for f in dt["filters"].values())
    our_quality = o["stage_micros"].get("quality", 0) / 1e6
    our_proc = sum(o["stage_micros"].get(s, 0) for s in ("langid", "quality", "dedup")) / 1e6
    print(f"filters alone: datatrove {dt_filters:.2f} CPU-s vs our quality stage {our_quality:.2f} CPU-s "
          f"({dt_filters / max(our_quality, 1e-9):.1f}x); filters + MinHash: datatrove {dt_proc:.2f} vs ours "
          f"{our_proc:.2f} CPU-s (langid+quality+dedup stage counters, {dt_proc / max(our_proc, 1e-9):.1f}x)")
    ratio_total = dt_cpu / ours["tokens"]["cpu_s"]
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"mb": mb, "datatrove": dict(dt, cpu_s=dt_cpu, wall_s=dt_wall),
                                         "ours": ours, "ratio_whole_process": ratio_total,
                                         "ratio_like_for_like": dt_cpu / ours["like-for-like"]["cpu_s"]},
                                        indent=2))


if __name__ == "__main__":
    main()
