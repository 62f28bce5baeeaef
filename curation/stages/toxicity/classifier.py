"""A trainable fastText toxicity classifier: labelled JSONL in any language -> model -> batched scores.

Training reuses the quality stage's deterministic fastText mechanism (one thread, fixed seed, seeded
shuffle, a child process with zeroed allocations: :func:`curation.stages.quality.classifier.train_rows`)
and its preprocessing (:func:`~curation.stages.quality.classifier.preprocess`, the same at training and
inference). Character n-grams (``minn``/``maxn``) let the model see inflections and spelling variants
in any language, following fastText's subword model (Bojanowski et al. 2017; Joulin et al. 2017).

Calibration per language (Platt 1999 scaling, as in stacking: Wolpert 1992): a model trained on a few
hundred texts per language is not equally reliable in each language (on the dev fortunes its
out-of-fold AUC is ~0.86 for Spanish, ~0.67 for Italian), yet its raw probabilities look alike. Training
therefore also scores every training record out of fold (k models on k-1 folds) and fits, per language
with enough records of both labels, ``P(toxic) = sigmoid(a * logit(p) + b)`` to those scores; the card
stores ``a`` and ``b`` and the scorer applies them. A weak language's scores are pulled towards its base
rate, so the stage's decision there rests on the lexicon unless the classifier is confident.

Input records: ``{"text": ..., "label": ...}`` (optionally ``"lang"``); a label counts as toxic when it is
one of ``POSITIVE_VALUES`` (``offensive``, ``toxic``, ``1``, ``true``), anything else is clean.
"""

from __future__ import annotations

import hashlib
import json
import math
import tempfile
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
    "epoch": 50, "lr": 0.5, "dim": 16, "word_ngrams": 2, "minn": 4, "maxn": 6, "bucket": 50_000,
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


#: Fewest records of each label a language needs for its own calibration (else it is left raw).
MIN_CALIBRATION = 20


def logit(p: float) -> float:
    q = min(max(p, 1e-4), 1 - 1e-4)
    return math.log(q / (1 - q))


def fit_platt(scores: Sequence[float], labels: Sequence[bool]) -> tuple[float, float]:
    """``(a, b)`` of ``sigmoid(a * logit(p) + b)`` fitted to out-of-fold ``scores`` (logistic regression)."""
    from sklearn.linear_model import LogisticRegression

    x = [[logit(p)] for p in scores]
    lr = LogisticRegression(C=100.0).fit(x, [int(y) for y in labels])
    return float(lr.coef_[0][0]), float(lr.intercept_[0])


def platt(p: float, a: float, b: float) -> float:
    return 1.0 / (1.0 + math.exp(-(a * logit(p) + b)))


def oof_scores(
    records: Sequence[dict[str, Any]], folds: int, seed: int, **params: Any
) -> list[float]:
    """Out-of-fold P(toxic) of every record: ``folds`` models, each trained on the other folds (record
    ``i`` is in fold ``i % folds`` of a seeded shuffle)."""
    import random

    order = list(range(len(records)))
    random.Random(seed).shuffle(order)
    fold_of = {i: k % folds for k, i in enumerate(order)}
    out = [0.0] * len(records)
    with tempfile.TemporaryDirectory() as tmp:
        for f in range(folds):
            fit = [r for i, r in enumerate(records) if fold_of[i] != f]
            val = [i for i in range(len(records)) if fold_of[i] == f]
            m = Path(tmp) / f"fold{f}.bin"
            train_records(fit, m, seed=seed, calibrate_folds=0, **params)
            scorer = FastTextScorer(m, TOXIC, Preprocess())
            for i, p in zip(val, scorer.score([records[i]["text"] for i in val]), strict=True):
                out[i] = p
    return out


def calibration(
    records: Sequence[dict[str, Any]], folds: int, seed: int, **params: Any
) -> dict[str, dict[str, float]]:
    """Per-language Platt parameters from out-of-fold scores (languages with >= MIN_CALIBRATION records
    of each label); also the out-of-fold AUC, so the card says how good the model is per language."""
    from sklearn.metrics import roc_auc_score

    scores = oof_scores(records, folds, seed, **params)
    out: dict[str, dict[str, float]] = {}
    for lang in sorted({str(r.get("lang")) for r in records}):
        idx = [i for i, r in enumerate(records) if str(r.get("lang")) == lang]
        ys = [is_toxic(records[i]["label"]) for i in idx]
        if min(sum(ys), len(ys) - sum(ys)) < MIN_CALIBRATION:
            continue
        a, b = fit_platt([scores[i] for i in idx], ys)
        auc = roc_auc_score(ys, [scores[i] for i in idx])
        out[lang] = {"a": round(a, 6), "b": round(b, 6), "oof_auc": round(float(auc), 4), "records": len(idx)}
    return out


def train_records(
    records: Sequence[dict[str, Any]],
    out_path: Path | str,
    *,
    seed: int = 0,
    calibrate_folds: int = 5,
    **params: Any,
) -> dict[str, Any]:
    """Train a toxic/clean fastText model on ``records`` and save it with its model card (``<out>.json``,
    also returned) holding the per-language calibration (``calibrate_folds`` > 1: fitted out of fold;
    0: none)."""
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
    card = {
        "model": out.name, "label": TOXIC, "examples": n, "toxic": n_pos, "clean": len(rows) - n_pos,
        "langs": dict(sorted(langs.items())), "seed": seed, "params": kw,
        "train_precision": round(precision, 4), "train_recall": round(recall, 4),
    }
    if calibrate_folds > 1:
        card["calibration"] = calibration(records, calibrate_folds, seed, **params)
        card["calibration_folds"] = calibrate_folds
    # the card goes next to the model: the scorer reads its calibration from there
    out.with_suffix(".json").write_text(json.dumps(card, indent=2, sort_keys=True) + "\n")
    return card


def train(
    inputs: Iterable[Path | str], out_path: Path | str, *, langs: Sequence[str] | None = None, seed: int = 0,
    **params: Any,
) -> dict[str, Any]:
    """``curate toxicity train``: train from labelled JSONL files; writes ``<out>.json`` (the card) too."""
    records = read_labelled(inputs, langs)
    return train_records(records, out_path, seed=seed, **params)


def read_card(path: Path) -> dict[str, Any]:
    """The model card written next to a model (``<model>.json``), or ``{}`` when there is none."""
    card = Path(path).with_suffix(".json")
    if not card.is_file():
        return {}
    data = json.loads(card.read_text(encoding="utf-8"))
    return data if isinstance(data, dict) else {}


class ToxicityClassifier:
    """A loaded toxicity model; :meth:`score` gives P(toxic) per text, batched, calibrated per language
    when the model card has a calibration for it. Build in ``setup()``."""

    def __init__(self, path: Path, label: str = TOXIC) -> None:
        self._scorer = FastTextScorer(path, label, Preprocess())
        cal = read_card(path).get("calibration", {})
        self.calibration = {lang: (float(v["a"]), float(v["b"])) for lang, v in cal.items()}

    def score(self, texts: Sequence[str], langs: Sequence[str | None] | None = None) -> list[float]:
        raw = self._scorer.score(texts)
        if not self.calibration or langs is None:
            return [round(p, 4) for p in raw]
        out = []
        for p, lang in zip(raw, langs, strict=True):
            ab = self.calibration.get(str(lang))
            out.append(round(platt(p, *ab) if ab is not None else p, 4))
        return out
