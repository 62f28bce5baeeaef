"""A trainable fastText toxicity classifier: labelled JSONL in any language -> model -> batched scores.

Training reuses the quality stage's deterministic fastText mechanism (one thread, fixed seed, seeded
shuffle, a child process with zeroed allocations: :func:`curation.stages.quality.classifier.train_rows`)
and its preprocessing (:func:`~curation.stages.quality.classifier.preprocess`, the same at training and
inference). Character n-grams (``minn``/``maxn``) let the model see inflections and spelling variants
in any language, following fastText's subword model (Bojanowski et al. 2017; Joulin et al. 2017).

Input records: ``{"text": ..., "label": ...}`` (optionally ``"lang"``); a label counts as toxic when it is
one of ``POSITIVE_VALUES`` (``offensive``, ``toxic``, ``1``, ``true``), anything else is clean.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from curation.stages.quality.classifier import FastTextScorer, Preprocess, preprocess, train_rows

TOXIC = "__label__toxic"
CLEAN = "__label__clean"
POSITIVE_VALUES = frozenset({"offensive", "toxic", "1", "true", "yes", "positive"})
#: fastText settings of the shipped default (small data: many epochs, subwords, small buckets).
DEFAULTS: dict[str, Any] = {
    "epoch": 50, "lr": 0.5, "dim": 16, "word_ngrams": 2, "minn": 3, "maxn": 5, "bucket": 50_000,
    "min_count": 1,
}


def in_train_split(record_id: str, seed: str = "toxicity-split-0", train_share: float = 0.5) -> bool:
    """Fixed, seeded split by record id (sha256): the same record is always on the same side."""
    h = int.from_bytes(hashlib.sha256(f"{seed}:{record_id}".encode()).digest()[:8], "big")
    return h / 2**64 < train_share


def is_toxic(label: Any) -> bool:
    """Whether a JSONL ``label`` value means toxic."""
    return str(label).strip().casefold() in POSITIVE_VALUES


def read_labelled(paths: Iterable[Path | str], langs: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """Records with a non-empty ``text`` and a ``label`` (only ``langs`` when given) of JSONL files."""
    out = []
    for p in paths:
        with Path(p).open("r", encoding="utf-8") as fh:
            for line in fh:
                if not line.strip():
                    continue
                rec = json.loads(line)
                if not isinstance(rec, dict) or not isinstance(rec.get("text"), str) or "label" not in rec:
                    continue
                if langs and rec.get("lang") not in langs:
                    continue
                if rec["text"].strip():
                    out.append(rec)
    return out


def train_records(
    records: Sequence[dict[str, Any]], out_path: Path | str, *, seed: int = 0, **params: Any
) -> dict[str, Any]:
    """Train a toxic/clean fastText model on ``records`` and save it; returns a model card (dict)."""
    kw = {**DEFAULTS, **params}
    opts = Preprocess()
    rows = []
    for r in records:
        t = preprocess(r["text"], opts)
        if t:
            rows.append(f"{TOXIC if is_toxic(r['label']) else CLEAN} {t}")
    n_pos = sum(1 for r in rows if r.startswith(TOXIC))
    if not n_pos or n_pos == len(rows):
        raise ValueError(f"need toxic and clean examples (got {n_pos} toxic of {len(rows)})")
    out = Path(out_path)
    n, precision, recall = train_rows(
        rows, out, seed, epoch=kw["epoch"], lr=kw["lr"], dim=kw["dim"], wordNgrams=kw["word_ngrams"],
        minn=kw["minn"], maxn=kw["maxn"], minCount=kw["min_count"], bucket=kw["bucket"],
    )
    langs = Counter(str(r.get("lang")) for r in records)
    return {
        "model": out.name, "label": TOXIC, "examples": n, "toxic": n_pos, "clean": len(rows) - n_pos,
        "langs": dict(sorted(langs.items())), "seed": seed, "params": kw,
        "train_precision": round(precision, 4), "train_recall": round(recall, 4),
    }


def train(
    inputs: Iterable[Path | str], out_path: Path | str, *, langs: Sequence[str] | None = None, seed: int = 0,
    **params: Any,
) -> dict[str, Any]:
    """``curate toxicity train``: train from labelled JSONL files; writes ``<out>.json`` (the card) too."""
    records = read_labelled(inputs, langs)
    card = train_records(records, out_path, seed=seed, **params)
    Path(out_path).with_suffix(".json").write_text(json.dumps(card, indent=2, sort_keys=True) + "\n")
    return card


class ToxicityClassifier:
    """A loaded toxicity model; :meth:`score` gives P(toxic) per text, batched. Build in ``setup()``."""

    def __init__(self, path: Path, label: str = TOXIC) -> None:
        self._scorer = FastTextScorer(path, label, Preprocess())

    def score(self, texts: Sequence[str]) -> list[float]:
        return [round(p, 4) for p in self._scorer.score(texts)]
