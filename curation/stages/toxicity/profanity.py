"""alt-profanity-check's English model without scikit-learn at run time: a numpy artefact and its scorer.

The wheel ships a ``TfidfVectorizer`` (word tokens ``(?u)\\b\\w\\w+\\b`` of the lower-cased text, English
stop words removed, unigrams, smooth idf, l2 norm) and a ``CalibratedClassifierCV`` of linear SVMs with
sigmoid (Platt) calibrators, as joblib pickles. Loading them imports scikit-learn (~0.3 CPU-s per worker)
and scoring goes through its per-text Python analyzer. :func:`export` (run once by ``curate models fetch``,
step ``profanity``) writes the same model as plain arrays; :class:`ProfanityModel` scores with them:

    x = counts * idf;  x /= ||x||_2;  f_k = x . coef_k + intercept_k;
    P(profane) = mean_k expit(-(a_k * f_k + b_k))            (sklearn 1.9 _SigmoidCalibration, binary)

which is what ``predict_proba(vectorizer.transform(texts))[:, 1]`` computes (tested equal to 1e-6; the
sums run in the same order, feature index within a text). Tokens come from the stage's own words where
they coincide with the vectorizer's (:func:`model_tokens`), so a window is split into words once.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from importlib import metadata
from itertools import chain, repeat
from pathlib import Path
from typing import Any

ARTEFACT = "profanity_model.npz"  # under models_dir; the vocabulary and provenance in profanity_model.json
FORMAT = 1
TOKEN_PATTERN = r"(?u)\b\w\w+\b"
_TOKEN_RE = re.compile(TOKEN_PATTERN)


def package_version() -> str:
    """Installed alt-profanity-check version (``?`` when absent): the artefact must match it."""
    try:
        return metadata.version("alt-profanity-check")
    except metadata.PackageNotFoundError:
        return "?"


def meta_path(npz: Path) -> Path:
    return npz.with_suffix(".json")


def export(dest: Path) -> Path:
    """Write ``dest/profanity_model.npz`` + ``.json`` from the installed alt-profanity-check wheel.

    Imports scikit-learn and joblib (install time only). Checks that the pickles are the shape this
    scorer reproduces and fails loudly otherwise."""
    from importlib import resources

    import joblib
    import numpy as np
    import sklearn
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer

    data = resources.files("profanity_check") / "data"
    with (
        resources.as_file(data / "vectorizer.joblib") as vec_file,
        resources.as_file(data / "model.joblib") as mod_file,
    ):
        vec = joblib.load(vec_file)
        model = joblib.load(mod_file)
    p = vec.get_params()
    expected = {
        "analyzer": "word", "lowercase": True, "ngram_range": (1, 1), "token_pattern": TOKEN_PATTERN,
        "stop_words": "english", "strip_accents": None, "preprocessor": None, "tokenizer": None,
        "binary": False, "sublinear_tf": False, "use_idf": True, "norm": "l2",
    }
    wrong = {k: p.get(k) for k, v in expected.items() if p.get(k) != v}
    if not isinstance(vec, TfidfVectorizer) or wrong:
        raise RuntimeError(f"profanity_check vectorizer is not the expected TfidfVectorizer: {wrong}")
    if list(model.classes_) != [0, 1] or any(c.method != "sigmoid" for c in model.calibrated_classifiers_):
        raise RuntimeError("profanity_check model is not a binary sigmoid-calibrated classifier")
    # stop words are removed before counting, so a stop word in the vocabulary would never be counted
    vocab = {t: i for t, i in vec.vocabulary_.items() if t not in ENGLISH_STOP_WORDS}
    tokens = sorted(vocab, key=vocab.__getitem__)
    cols = np.array([vocab[t] for t in tokens], dtype=np.int64)
    coef, intercept, a, b = [], [], [], []
    for cc in model.calibrated_classifiers_:
        est = cc.estimator
        (cal,) = cc.calibrators
        coef.append(np.asarray(est.coef_, dtype=np.float64).reshape(-1)[cols])
        intercept.append(float(np.asarray(est.intercept_).reshape(-1)[0]))
        a.append(float(cal.a_))
        b.append(float(cal.b_))
    dest.mkdir(parents=True, exist_ok=True)
    target = dest / ARTEFACT
    part = dest / (ARTEFACT + ".part")
    with part.open("wb") as fh:
        np.savez(
            fh,
            idf=np.asarray(vec.idf_, dtype=np.float64)[cols],
            coef=np.stack(coef),
            intercept=np.array(intercept),
            a=np.array(a),
            b=np.array(b),
        )
    meta = {
        "format": FORMAT,
        "source": "alt-profanity-check",
        "source_version": package_version(),
        "sklearn_version": sklearn.__version__,
        "token_pattern": TOKEN_PATTERN,
        "lowercase": True,
        "norm": "l2",
        "calibrators": len(a),
        "vocabulary": tokens,
    }
    meta_path(target).write_text(json.dumps(meta, ensure_ascii=False) + "\n", encoding="utf-8")
    part.replace(target)
    return target


def model_tokens(text: str, tokens: tuple[str, Sequence[str]] | None = None) -> Sequence[str]:
    """The vectorizer's tokens of ``text``, or a list it counts the same (extra one-letter words, which are
    never in the vocabulary). ``tokens``: :func:`curation.stages.toxicity.terms.tokenize` of ``text``.

    The stage's words (``\\w+`` runs joined by apostrophes, case-folded) are the vectorizer's tokens when
    the text has no apostrophe and case folding equals lower-casing (always so for ASCII); otherwise the
    vectorizer's own pattern runs on the lower-cased text."""
    if tokens is not None:
        folded, ws = tokens
        if (
            "'" not in folded
            and "’" not in folded
            and len(folded) == len(text)  # else the words were folded one by one (terms.tokenize)
            and (text.isascii() or folded == text.lower())
        ):
            return ws
    return _TOKEN_RE.findall(text.lower())


def model_tokens_many(
    texts: Sequence[str], tokens: Sequence[tuple[str, Sequence[str]]]
) -> list[Sequence[str]]:
    r""":func:`model_tokens` of each text, inline for ASCII texts: their words as they are, or, with an
    apostrophe, the words' ``\w`` runs (split at apostrophes in one join/replace/split; a one-letter
    piece is never in the vocabulary, so it counts as the vectorizer's pattern does)."""
    return [
        (ws if "'" not in f else " ".join(ws).replace("'", " ").split())
        if t.isascii()
        else model_tokens(t, (f, ws))
        for t, (f, ws) in zip(texts, tokens, strict=True)
    ]


class ProfanityModel:
    """The exported model, loaded once per worker (numpy only); :meth:`predict` = P(profane) per text."""

    def __init__(self, path: Path) -> None:
        import numpy as np

        self._np = np
        meta = json.loads(meta_path(path).read_text(encoding="utf-8"))
        if meta.get("format") != FORMAT or meta.get("token_pattern") != TOKEN_PATTERN:
            raise ValueError(f"{path}: unsupported profanity artefact (format {meta.get('format')})")
        self.source_version = str(meta.get("source_version"))
        self.index = {t: i for i, t in enumerate(meta["vocabulary"])}
        with np.load(path, allow_pickle=False) as z:
            self.idf = z["idf"]
            self.coef = z["coef"]
            self.intercept = z["intercept"]
            self.a = z["a"]
            self.b = z["b"]
        if self.coef.shape != (len(self.a), len(self.index)) or self.idf.shape != (len(self.index),):
            raise ValueError(f"{path}: array shapes do not match the vocabulary")

    def predict(self, token_lists: Sequence[Sequence[str]]) -> list[float]:
        """P(profane) of each text given as its tokens (:func:`model_tokens`), in one vectorised pass."""
        np = self._np
        n = len(token_lists)
        if not n:
            return []
        lengths = np.fromiter(map(len, token_lists), dtype=np.int64, count=n)
        total = int(lengths.sum())
        get = self.index.get
        ids = np.fromiter(
            map(get, chain.from_iterable(token_lists), repeat(-1)), dtype=np.int64, count=total
        )
        win = np.repeat(np.arange(n, dtype=np.int64), lengths)
        keep = ids >= 0
        size = len(self.index)
        # (text, feature) pairs in text order, then feature order within a text: sklearn's CSR order
        keys, counts = np.unique(win[keep] * size + ids[keep], return_counts=True)
        row = keys // size
        col = keys - row * size
        x = counts.astype(np.float64) * self.idf[col]
        norm = np.sqrt(np.bincount(row, weights=x * x, minlength=n))
        x = x / norm[row]
        acc = np.zeros(n)
        for k in range(len(self.a)):
            f = np.bincount(row, weights=x * self.coef[k, col], minlength=n) + self.intercept[k]
            acc += 1.0 / (1.0 + np.exp(self.a[k] * f + self.b[k]))
        acc /= len(self.a)
        return acc.tolist()


def load_sklearn() -> Any:
    """The wheel's pickles as ``(vectorizer, model)`` (imports scikit-learn): used without the artefact."""
    from importlib import resources

    import joblib

    data = resources.files("profanity_check") / "data"
    with (
        resources.as_file(data / "vectorizer.joblib") as vec,
        resources.as_file(data / "model.joblib") as mod,
    ):
        return joblib.load(vec), joblib.load(mod)
