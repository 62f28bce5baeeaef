"""Toxicity scoring backends: score a batch of short windows, return every score the backend gives.

* :class:`EmbeddedBackend` (default): per window, alt-profanity-check's model shipped in its wheel
  (TF-IDF + linear SVM calibrated with Platt scaling, trained on ~200k English comments; Zhou 2019,
  alt-profanity-check by Dimitrios Mistriotis; English windows only) combined, by max, with the
  per-language lexicons (lexicon.py, noisy-or over hits); per document block, the trainable fastText
  classifier (classifier.py) for the languages it was trained on. No download; several MB/s per core.
* :class:`DetoxifyBackend`: detoxify's BERT / RoBERTa / XLM-R classifiers (Hanu & Unitary team 2020,
  trained on the Jigsaw Toxic Comment, Unintended Bias and Multilingual challenges), loaded from a local
  prepared checkpoint (see checkpoint.py), batched, on CPU or CUDA.

Backends are built in :meth:`DocProcessor.setup` (once per worker), never at import.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from curation.stages.toxicity.config import EMBEDDED_SCORES, DetoxifyRules, EmbeddedRules
from curation.stages.toxicity.lexicon import LexiconIndex, load_package_lists
from curation.stages.toxicity.profanity import (
    ProfanityModel,
    load_sklearn,
    model_tokens_many,
    package_version,
)
from curation.stages.toxicity.terms import tokenize

log = logging.getLogger(__name__)

Scores = dict[str, list[float]]
_DECIMALS = 4  # scores are rounded so batch composition (padding, BLAS blocking) cannot flip a decision


class Backend(Protocol):
    names: tuple[str, ...]

    def score(
        self,
        texts: Sequence[str],
        langs: Sequence[str | None] | None = None,
        tokens: Sequence[Any] | None = None,
    ) -> Scores: ...


class EmbeddedBackend:
    """alt-profanity-check's shipped model + the rules' word lists; scores toxicity/profanity/lexicon."""

    names = EMBEDDED_SCORES

    def __init__(
        self, rules: EmbeddedRules, classifier_path: Path | None = None, profanity_path: Path | None = None
    ) -> None:
        lex = rules.lexicon
        pkg = load_package_lists(lex.package, lex.package_files) if lex.package else {}
        self.lexicon = LexiconIndex(lex, pkg)
        self.classifier = None
        self.classifier_langs = frozenset(rules.classifier.langs)
        if classifier_path is not None:
            from curation.stages.toxicity.classifier import ToxicityClassifier

            self.classifier = ToxicityClassifier(classifier_path, rules.classifier.label)
        self.model_langs = frozenset(rules.model_langs)
        self.profanity: ProfanityModel | None = None
        self.vectorizer = self.model = None
        if rules.use_model:
            self.profanity = _load_profanity(profanity_path)
            if self.profanity is None:  # the wheel's pickles through scikit-learn (same scores, slower)
                self.vectorizer, self.model = load_sklearn()

    def score(
        self,
        texts: Sequence[str],
        langs: Sequence[str | None] | None = None,
        tokens: Sequence[Any] | None = None,
    ) -> Scores:
        """Scores per text (``tokens``: terms.tokenize of each text, shared with the bias matcher).

        The English model is skipped (profanity 0) for texts whose language is not English."""
        n = len(texts)
        probs = [0.0] * n
        use = [
            i for i in range(n) if langs is None or langs[i] in (None, "und") or langs[i] in self.model_langs
        ]
        toks = list(tokens) if tokens is not None else [tokenize(t) for t in texts]
        if use and self.profanity is not None:
            got = self.profanity.predict(model_tokens_many([texts[i] for i in use], [toks[i] for i in use]))
        elif use and self.model is not None:
            got = self.model.predict_proba(self.vectorizer.transform([texts[i] for i in use]))[:, 1].tolist()
        else:
            got = []
        for i, p in zip(use, got, strict=True):
            probs[i] = p
        lex = self.lexicon.score_many(texts, list(langs) if langs is not None else [None] * n, toks)
        prof = [round(float(p), _DECIMALS) if p else 0.0 for p in probs]  # most windows score 0
        lexr = [round(x, _DECIMALS) if x else 0.0 for x in lex]
        return {
            "toxicity": list(map(max, prof, lexr)),
            "profanity": prof,
            "lexicon": lexr,
        }

    def classifies(self, lang: str | None) -> bool:
        """Whether :meth:`classify` scores texts of ``lang`` (else it gives them 0 without reading them)."""
        return self.classifier is not None and (not self.classifier_langs or lang in self.classifier_langs)

    def classify(self, texts: Sequence[str], langs: Sequence[str | None]) -> list[float]:
        """P(toxic) of document blocks; 0 without a classifier or for languages it was not trained for."""
        out = [0.0] * len(texts)
        if self.classifier is None:
            return out
        use = [i for i, lang in enumerate(langs) if self.classifies(lang)]
        scores = self.classifier.score([texts[i] for i in use], [langs[i] for i in use])
        for i, p in zip(use, scores, strict=True):
            out[i] = p
        return out


def _load_profanity(path: Path | None) -> ProfanityModel | None:
    """The numpy export of alt-profanity-check (``curate models fetch``), or None (logged) when it is absent,
    unreadable or made from another version of the package: then scikit-learn scores with the pickles."""
    if path is None:  # absent at build time (warned there) or not configured
        log.info("toxicity: no profanity artefact: scoring alt-profanity-check through scikit-learn")
        return None
    if not path.is_file():
        log.warning("toxicity: profanity artefact %s absent: scoring alt-profanity-check through "
                    "scikit-learn (slower set-up and scoring; build it with `curate models fetch`)", path)
        return None
    try:
        model = ProfanityModel(path)
    except (OSError, ValueError, KeyError) as exc:
        log.warning("toxicity: profanity artefact %s unreadable (%s): scoring through scikit-learn",
                    path, exc)
        return None
    if model.source_version != package_version():
        log.warning("toxicity: profanity artefact %s is of alt-profanity-check %s, installed %s: scoring "
                    "through scikit-learn (rebuild with `curate models fetch`)", path, model.source_version,
                    package_version())
        return None
    return model


class DetoxifyBackend:
    """A detoxify classifier from a prepared local checkpoint; sigmoid score per class, batched."""

    def __init__(self, rules: DetoxifyRules, checkpoint: Path, hf_dir: Path) -> None:
        import torch

        from curation.stages.toxicity.checkpoint import load_detoxify

        self.torch = torch
        self.rules = rules
        self.model, self.tokenizer, class_names = load_detoxify(checkpoint, hf_dir, rules.device)
        self.names = tuple(class_names)

    def score(
        self,
        texts: Sequence[str],
        langs: Sequence[str | None] | None = None,
        tokens: Sequence[Any] | None = None,
    ) -> Scores:
        """Sigmoid score per class (multilingual checkpoints handle every language; ``langs`` unused)."""
        out: Scores = {n: [0.0] * len(texts) for n in self.names}
        order = sorted(range(len(texts)), key=lambda i: (len(texts[i]), i))  # similar lengths pad less
        bs = self.rules.batch_size
        with self.torch.inference_mode():
            for b in range(0, len(order), bs):
                idx = order[b : b + bs]
                enc = self.tokenizer(
                    [texts[i] for i in idx],
                    return_tensors="pt",
                    truncation=True,
                    max_length=self.rules.max_length,
                    padding=True,
                ).to(self.rules.device)
                probs = self.torch.sigmoid(self.model(**enc)[0]).cpu().tolist()
                for row, i in zip(probs, idx, strict=True):
                    for j, name in enumerate(self.names):
                        out[name][i] = round(float(row[j]), _DECIMALS)
        return out
