"""``curate quality train``: train a fastText quality classifier with the stage's preprocessing.

Usage: ``curate quality train --positive good.jsonl --negative bad.jsonl --out models/my_quality.bin``.
JSONL records need a ``text`` field (``--text-field`` to change). The model's positive label is
``__label__hq``; point ``rules/quality/classifier.yaml`` (``model:``) at the output to use it.
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
    return parser


def main(argv: list[str]) -> int:
    """Entry point of ``curate quality ...``; returns the process exit code."""
    args = _parser().parse_args(argv)
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
