"""``curate toxicity ...``: prepare detoxify checkpoints for offline use and list the files they need.

    curate toxicity train --input labelled.jsonl [...] --out models/my_toxicity.bin [--langs es,it] [--seed 0]
    curate toxicity files [--variant original|unbiased|multilingual]
    curate toxicity prepare-detoxify --checkpoint X.ckpt --hf-dir DIR --out OUT

``prepare-detoxify`` writes ``OUT/model.ckpt`` (``model_type`` rewritten to ``OUT/hf``) and ``OUT/hf/``
(config with the checkpoint's labels + tokenizer files), then prints the rules to point at them.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from curation.stages.toxicity.checkpoint import (
    VARIANTS,
    DetoxifyFilesError,
    hf_files_needed,
    how_to_get,
    prepare,
)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="curate toxicity", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    f = sub.add_parser("files", help="list the files a detoxify variant needs and where to get them")
    f.add_argument("--variant", choices=sorted(VARIANTS), default=None)
    t = sub.add_parser("train", help="train a fastText toxicity classifier from labelled JSONL")
    t.add_argument("--input", required=True, type=Path, action="append", help="JSONL: text, label[, lang]")
    t.add_argument("--out", required=True, type=Path, help="model file (a .json card is written beside)")
    t.add_argument("--langs", default="", help="comma-separated languages to keep (default: all)")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--epoch", type=int, default=None)
    t.add_argument(
        "--calibrate-folds", type=int, default=5,
        help="folds of the out-of-fold per-language calibration (0 = none; default 5)",
    )
    pr = sub.add_parser("prepare-detoxify", help="make a downloaded detoxify checkpoint loadable offline")
    pr.add_argument("--checkpoint", required=True, type=Path, help="downloaded detoxify .ckpt")
    pr.add_argument("--hf-dir", required=True, type=Path, help="folder with the base model's HF files")
    pr.add_argument("--out", required=True, type=Path, help="output folder (model.ckpt + hf/)")
    return p


def main(argv: list[str]) -> int:
    """Entry point (the ``curate`` CLI passes the arguments after ``toxicity``). Returns an exit code."""
    args = _parser().parse_args(argv)
    if args.command == "train":
        from curation.stages.toxicity.classifier import train

        langs = [x for x in args.langs.split(",") if x] or None
        params = {"epoch": args.epoch} if args.epoch else {}
        try:
            card = train(
                args.input, args.out, langs=langs, seed=args.seed, calibrate_folds=args.calibrate_folds,
                **params,
            )
        except (ValueError, FileNotFoundError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        print(f"wrote {args.out} ({card['toxic']} toxic, {card['clean']} clean; langs {card['langs']})")
        for lang, c in sorted(card.get("calibration", {}).items()):
            print(f"  {lang}: out-of-fold AUC {c['oof_auc']}, calibration a={c['a']} b={c['b']}")
        print("set in rules/toxicity.yaml (relative paths are under models_dir):")
        print(f"  embedded: {{classifier: {{model: {args.out}, langs: {sorted(card['langs'])}}}}}")
        return 0
    if args.command == "files":
        for name in [args.variant] if args.variant else sorted(VARIANTS):
            v = VARIANTS[name]
            print(f"{name}: checkpoint {v.url}")
            print(f"  hf files of '{v.hub_model}': {', '.join(hf_files_needed(v.tokenizer_name))}")
            print(f"  {how_to_get(name)}")
        return 0
    try:
        out = prepare(args.checkpoint, args.hf_dir, args.out)
    except (DetoxifyFilesError, FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {out['checkpoint']}")
    print(f"wrote {out['hf_dir']} (copied: {out['copied']})")
    print("set in rules/toxicity.yaml (relative paths are under models_dir):")
    print("  backend: detoxify")
    print(f"  detoxify: {{checkpoint: {out['checkpoint']}, hf_dir: {out['hf_dir']}}}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
