"""fastText quality classifiers: one preprocessing function for training and inference, training, scoring.

Any supervised fastText model can be applied (e.g. a DCLM-style ``__label__hq``/``__label__cc`` model a
user brings); rules/quality/classifier.yaml names the file, the positive label and an optional threshold.
The score is the model's probability of the positive label. Training (``train``) is deterministic:
one thread, a fixed seed, a seeded shuffle of the examples, and a child process with zeroed allocations
(see ``_CHILD``).
"""

from __future__ import annotations

import json
import random
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from curation.rules import ConfigError

POSITIVE = "__label__hq"
NEGATIVE = "__label__lq"

# Punctuation split off as tokens: the same as re.sub(r"([.,!?...])", r" \1 ", t), 3x faster.
_PUNCT = ".,!?;:()[]{}\"“”«»"


@dataclass(frozen=True)
class Preprocess:
    """How a text becomes one fastText input line (same at training and inference)."""

    lowercase: bool = True
    split_punctuation: bool = True
    max_chars: int = 20_000


def preprocess(text: str, opts: Preprocess) -> str:
    """One line of space-separated tokens: truncated, optionally lowercased, punctuation split off."""
    return " ".join(_cased_split(text[: opts.max_chars], opts).split())


def _cased_split(t: str, opts: Preprocess) -> str:
    """``t`` lowercased and with punctuation split off, as ``opts`` say (whitespace left as it is)."""
    if opts.lowercase:
        t = t.lower()
    if opts.split_punctuation:
        for c in _PUNCT:
            if c in t:
                t = t.replace(c, f" {c} ")
    return t


# ASCII characters Python's str.split() treats as whitespace, other than the space: to spaces.
_ASCII_WS_TO_SPACE = str.maketrans({c: " " for c in "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f"})
# Characters Python's str.split() (regex \s) treats as whitespace that fastText does not split at, and the
# newline (a line end for fastText): turned into spaces (cheaper than split and join). The definition is
# _PY_ONLY_WS_RE; for speed the newline goes by str.replace and the others, listed (tested equal on every
# code point), by one regex with a plain character class (a per-character table look-up, not a negated
# category test: 0.018 -> 0.007 CPU-s on the dev web and book texts).
_PY_ONLY_WS_RE = re.compile(r"[^\S \t\r\x0b\x0c]")
_PY_ONLY_WS_BUT_NL_RE = re.compile("[\x1c-\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]")


def predict_line(text: str, opts: Preprocess) -> str:
    """A line fastText splits into exactly the tokens of :func:`preprocess` ``(text, opts)``, cheaper.

    fastText splits words at runs of ``' ' \\n \\r \\t \\v \\f \\0`` (leading and trailing ones ignored),
    so the whitespace normalisation of :func:`preprocess` (``" ".join(t.split())``, ~2/3 of its cost) is
    not needed for prediction, only that no newline remains and that the other characters Python splits
    at (``\\x1c``-``\\x1f``; in other text also Unicode spaces such as NBSP, U+2028, U+3000) become
    separators too. For ASCII text that is one C-level ``translate``, for other text one regex
    substitution. Tested to give identical predictions.
    """
    t = text[: opts.max_chars]
    if not t.isascii():
        return _PY_ONLY_WS_BUT_NL_RE.sub(" ", _cased_split(t, opts).replace("\n", " "))
    return _cased_split(t, opts).translate(_ASCII_WS_TO_SPACE)


def resolve_model_path(model: str, models_dir: Path) -> Path:
    """A model path from YAML: absolute, or relative to the models folder."""
    p = Path(model)
    return p if p.is_absolute() else models_dir / p


class FastTextScorer:
    """A loaded fastText model scoring batches of texts as P(label). Not picklable: build in setup()."""

    def __init__(self, path: Path, label: str, opts: Preprocess) -> None:
        import fasttext

        self.path = path
        self.label = label
        self.opts = opts
        self.model = fasttext.load_model(str(path))
        labels = set(self.model.get_labels())
        if label not in labels:
            msg = f"label {label!r} not in model labels {sorted(labels)}"
            raise ConfigError(path, "classifier.label", msg)
        self.k = len(labels)

    def score(self, texts: Sequence[str]) -> list[float]:
        if not texts:
            return []
        lines = [predict_line(t, self.opts) for t in texts]
        labels, probs = self.model.predict(lines, k=self.k)
        out = []
        for labs, ps in zip(labels, probs, strict=True):
            p = 0.0
            for lab, prob in zip(labs, ps, strict=True):
                if lab == self.label:
                    p = float(prob)
                    break
            out.append(round(min(1.0, max(0.0, p)), 6))
        return out


def read_texts(path: Path, field: str = "text") -> Iterator[str]:
    """Texts of a JSONL file (records without a non-empty string ``field`` are skipped)."""
    with Path(path).open("r", encoding="utf-8") as fh:
        for line in fh:
            line = line.strip()
            if not line:
                continue
            rec = json.loads(line)
            t = rec.get(field) if isinstance(rec, dict) else None
            if isinstance(t, str) and t.strip():
                yield t


# fasttext-numpy2's trainer reads some memory before writing it: results then depend on what the heap
# held before (sporadic "Encountered NaN", different models from the same input). Training therefore runs
# in a child process with glibc's M_PERTURB set, which makes every allocation start zeroed (deterministic).
_CHILD = r"""
import ctypes, json, sys
try:
    ctypes.CDLL("libc.so.6").mallopt(-6, 255)  # M_PERTURB: allocations start as ~255 & 0xff == 0
except OSError:
    pass
import fasttext
kwargs, out = json.loads(sys.argv[1]), sys.argv[2]
model = fasttext.train_supervised(**kwargs)
model.save_model(out)
n, p, r = model.test(kwargs["input"])
print(json.dumps([n, p, r]))
"""


def train_rows(rows: list[str], out: Path, seed: int, **fasttext_args: Any) -> tuple[int, float, float]:
    """Train fastText on ``__label__x text`` rows, reproducibly: seeded shuffle, one thread, a child process
    with zeroed allocations (:func:`_train_in_child`). Returns (examples, train precision, train recall)."""
    rows = list(rows)
    random.Random(seed).shuffle(rows)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        train_file = Path(tmp) / "train.txt"
        train_file.write_text("\n".join(rows) + "\n", encoding="utf-8")
        kwargs = dict(input=str(train_file), **fasttext_args, thread=1, seed=seed, verbose=0)
        return _train_in_child(kwargs, out)


def _train_in_child(kwargs: dict[str, Any], out: Path) -> tuple[int, float, float]:
    """Run ``fasttext.train_supervised(**kwargs)`` in a fresh process; save to ``out``; training metrics."""
    argv = [sys.executable, "-c", _CHILD, json.dumps(kwargs), str(out)]
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"fastText training failed: {proc.stderr.strip()[-2000:]}")
    n, precision, recall = json.loads(proc.stdout.strip().splitlines()[-1])
    return int(n), float(precision), float(recall)


def train(
    positive_jsonl: Path | str,
    negative_jsonl: Path | str,
    out_path: Path | str,
    *,
    opts: Preprocess | None = None,
    epoch: int = 10,
    lr: float = 0.1,
    dim: int = 32,
    word_ngrams: int = 2,
    min_count: int = 1,
    bucket: int = 200_000,
    seed: int = 0,
    text_field: str = "text",
) -> dict[str, Any]:
    """Train a binary fastText classifier (``__label__hq`` vs ``__label__lq``) and save it to ``out_path``.

    Returns a summary (example counts, training-set precision/recall). Deterministic for fixed inputs.
    """
    opts = opts or Preprocess()
    pos = [preprocess(t, opts) for t in read_texts(Path(positive_jsonl), text_field)]
    neg = [preprocess(t, opts) for t in read_texts(Path(negative_jsonl), text_field)]
    pos, neg = [t for t in pos if t], [t for t in neg if t]
    if not pos or not neg:
        raise ValueError(f"need positive and negative examples (got {len(pos)} and {len(neg)})")
    rows = [f"{POSITIVE} {t}" for t in pos] + [f"{NEGATIVE} {t}" for t in neg]
    out = Path(out_path)
    n, precision, recall = train_rows(
        rows, out, seed,
        epoch=epoch, lr=lr, dim=dim, wordNgrams=word_ngrams, minCount=min_count, bucket=bucket,
    )
    return {
        "positives": len(pos), "negatives": len(neg), "train_examples": n,
        "train_precision": round(precision, 4), "train_recall": round(recall, 4), "out": str(out),
    }
