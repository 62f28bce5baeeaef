"""``curate quality train`` and ``curate quality calibrate``.

* ``curate quality train --positive good.jsonl --negative bad.jsonl --out models/my_quality.bin``: train
  a fastText quality classifier with the stage's preprocessing. JSONL records need a ``text`` field
  (``--text-field`` to change). The model's positive label is ``__label__hq``; point
  ``rules/quality/classifier.yaml`` (``model:``) at the output to use it.
* ``curate quality calibrate --reference good.jsonl [...] --out rules/quality/languages.yaml``: derive
  per-language thresholds from a reference corpus of good text (JSONL with ``text`` and ``lang``) that
  keep ``--keep-share`` of it (:mod:`curation.stages.quality.calibrate`), and write them with provenance.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from curation.stages.quality.classifier import Preprocess, train


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="curate quality", description="fastText quality classifier tools")
    sub = parser.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train", help="train a supervised fastText quality classifier (hq vs lq)")
    t.add_argument("--positive", type=Path, required=True, help="JSONL of good examples")
    t.add_argument("--negative", type=Path, required=True, help="JSONL of bad examples")
    t.add_argument("--out", type=Path, required=True, help="output model file (.bin)")
    t.add_argument("--text-field", default="text")
    t.add_argument("--epoch", type=int, default=10)
    t.add_argument("--lr", type=float, default=0.1)
    t.add_argument("--dim", type=int, default=32)
    t.add_argument("--word-ngrams", type=int, default=2)
    t.add_argument("--min-count", type=int, default=1)
    t.add_argument("--bucket", type=int, default=200_000)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--max-chars", type=int, default=Preprocess.max_chars)
    t.add_argument("--no-lowercase", action="store_true", help="keep case (must match classifier.yaml)")
    t.add_argument("--no-split-punctuation", action="store_true")
    c = sub.add_parser("calibrate", help="per-language thresholds from a reference corpus of good text")
    c.add_argument("--reference", type=Path, nargs="+", required=True, help="JSONL(.gz) with text and lang")
    c.add_argument("--out", type=Path, required=True, help="rules file to write (e.g. languages.yaml)")
    c.add_argument("--rules", type=Path, default=None, help="quality.yaml whose signals to use")
    c.add_argument("--keep-share", type=float, default=0.99, help="share of reference docs each rule keeps")
    c.add_argument("--margin", type=float, default=0.1, help="relative widening of each threshold")
    c.add_argument("--min-docs", type=int, default=20, help="fewer reference docs: language not calibrated")
    c.add_argument("--text-field", default="text")
    c.add_argument("--lang-field", default="lang")
    c.add_argument("--source", default="", help="provenance: what the reference corpus is")
    return parser


def _calibrate(args: argparse.Namespace) -> int:
    from curation.rules import RULES_DIR, ConfigError
    from curation.stages.quality.calibrate import calibrate, write_languages_yaml
    from curation.stages.quality.rules import load_stage_rules

    for p in args.reference:
        if not p.is_file():
            print(f"curate quality calibrate: file not found: {p}", file=sys.stderr)
            return 2
    try:
        rules = load_stage_rules(args.rules or RULES_DIR / "quality" / "quality.yaml")
        content = calibrate(
            list(args.reference), rules, keep_share=args.keep_share, margin=args.margin,
            min_docs=args.min_docs, source=args.source, text_field=args.text_field,
            lang_field=args.lang_field,
        )
    except (ValueError, ConfigError, json.JSONDecodeError) as exc:
        print(f"curate quality calibrate: {exc}", file=sys.stderr)
        return 2
    write_languages_yaml(content, args.out)
    langs = ", ".join(sorted(content["params"]))
    print(f"wrote {args.out}: {len(content['params'])} languages calibrated ({langs})")
    return 0


def main(argv: list[str]) -> int:
    """Entry point of ``curate quality ...``; returns the process exit code."""
    args = _parser().parse_args(argv)
    if args.command == "calibrate":
        return _calibrate(args)
    if args.command != "train":  # pragma: no cover - argparse enforces the choice
        return 2
    for p in (args.positive, args.negative):
        if not p.is_file():
            print(f"curate quality train: file not found: {p}", file=sys.stderr)
            return 2
    opts = Preprocess(not args.no_lowercase, not args.no_split_punctuation, args.max_chars)
    try:
        summary = train(
            args.positive, args.negative, args.out, opts=opts, epoch=args.epoch, lr=args.lr, dim=args.dim,
            word_ngrams=args.word_ngrams, min_count=args.min_count, bucket=args.bucket, seed=args.seed,
            text_field=args.text_field,
        )
    except (ValueError, json.JSONDecodeError) as exc:
        print(f"curate quality train: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(summary, sort_keys=True))
    return 0
