"""The offline presidio analyzer: explicit NLP engine, only the rules' recognizers, chunks and a pre-check.

Why not ``AnalyzerEngine()``: the default constructor loads every predefined recognizer and a spaCy model
it downloads when missing, and tokenizes the whole text for context words. Here

* the registry holds only the recognizers of the entities named in ``rules/pii.yaml``;
* with NER off the NLP engine is presidio's ``NoOpNlpEngine`` (no spaCy model at all); with NER on it is a
  spaCy pipeline loaded from an installed package with only the ``ner`` component, run with ``nlp.pipe``;
* context words are looked up in a character window before each match (:class:`WindowContextEnhancer`,
  the same boost rule as presidio's lemma enhancer without tokenizing the text);
* :func:`precheck` (character classes, digit runs, ``@``, key prefixes) decides per chunk which entities
  can occur at all, and only those recognizers run;
* texts are analysed in overlapping chunks (:func:`chunk_spans`), so a 20 MB document is linear in its
  length and an entity across a chunk border is still found whole.
"""

from __future__ import annotations

import bisect
import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from presidio_analyzer import AnalyzerEngine, EntityRecognizer, RecognizerRegistry, RecognizerResult
from presidio_analyzer.context_aware_enhancers import ContextAwareEnhancer
from presidio_analyzer.nlp_engine import (
    NerModelConfiguration,
    NlpArtifacts,
    NlpEngine,
    NoOpNlpEngine,
    SpacyNlpEngine,
)

from curation.stages.pii.entities import PRIORITY
from curation.stages.pii.recognizers import build_recognizers
from curation.stages.pii.rules import ContextRules, PiiRules

# ----------------------------------------------------------------------------------------------------
# Pre-check: cheap tests that rule entities out before any recognizer runs.

_DIGIT_RUN = re.compile(r"\d(?:[ ().\-/]{0,2}\d){6,}")
_IPV4_HINT = re.compile(r"\d\.\d{1,3}\.\d{1,3}\.\d")
_IPV6_HINT = re.compile(r"[0-9A-Fa-f]:[0-9A-Fa-f]{0,4}:[0-9A-Fa-f]{0,4}:|::[0-9A-Fa-f]")
_IBAN_HINT = re.compile(r"[A-Z]{2}\d{2} ?[A-Z0-9]{4}")
_GITHUB_HINT = re.compile(r"gh[pousr]_|github_pat_")
_AWS_ID_HINT = re.compile(r"A(?:KIA|SIA|3T|BIA|CCA)[A-Z0-9]")
_SECRET_WORDS = ("secret", "token", "api_key", "apikey", "api-key", "access_key", "auth", "credential",
                 "private_key")
_PASSWORD_WORDS = ("pass", "pwd")


def _max_digits(text: str) -> int:
    """Digits in the longest digit run (allowing single separators); 0 when there is none of 7+."""
    best = 0
    for m in _DIGIT_RUN.finditer(text):
        n = sum(ch.isdigit() for ch in m.group())
        if n > best:
            best = n
            if best >= 13:
                break
    return best


def precheck(text: str, entities: Sequence[str]) -> frozenset[str]:
    """The subset of ``entities`` that can possibly match in ``text`` (a superset of what will match)."""
    need: set[str] = set()
    wanted = set(entities)
    low: str | None = None
    digits = -1
    for e in wanted:
        if e == "EMAIL_ADDRESS":
            hit = "@" in text
        elif e in ("PHONE_NUMBER", "US_SSN", "CREDIT_CARD"):
            if digits < 0:
                digits = _max_digits(text)
            hit = digits >= {"PHONE_NUMBER": 7, "US_SSN": 9, "CREDIT_CARD": 13}[e]
        elif e == "IBAN_CODE":
            hit = _IBAN_HINT.search(text) is not None
        elif e == "IP_ADDRESS":
            hit = _IPV4_HINT.search(text) is not None or _IPV6_HINT.search(text) is not None
        elif e == "AWS_ACCESS_KEY_ID":
            hit = _AWS_ID_HINT.search(text) is not None
        elif e == "GITHUB_TOKEN":
            hit = _GITHUB_HINT.search(text) is not None
        elif e == "SLACK_TOKEN":
            hit = "xox" in text or "hooks.slack.com" in text
        elif e == "PRIVATE_KEY":
            hit = "PRIVATE KEY" in text
        else:
            low = text.lower() if low is None else low
            if e == "AWS_SECRET_ACCESS_KEY":
                hit = "secret" in low
            elif e == "PASSWORD":
                hit = any(w in low for w in _PASSWORD_WORDS) or ("://" in low and "@" in low)
            elif e == "GENERIC_SECRET":
                hit = any(w in low for w in _SECRET_WORDS)
            else:  # unknown to the pre-check (e.g. PERSON): always run
                hit = True
        if hit:
            need.add(e)
    return frozenset(need)


# ----------------------------------------------------------------------------------------------------
# Chunking


@dataclass(frozen=True)
class Chunk:
    """``text[start:end]`` is analysed; results starting in ``[own_start, own_end)`` belong to this chunk."""

    start: int
    end: int
    own_start: int
    own_end: int


def chunk_spans(length: int, size: int, overlap: int) -> list[Chunk]:
    """Cover ``[0, length)`` with owned regions of ``size`` chars, each read with ``overlap`` context.

    Every entity shorter than ``overlap`` that starts in an owned region is fully inside that chunk and
    has ``overlap`` characters of left context (word boundaries, look-behinds, context words), so it is
    found exactly once; a partial match at a chunk's left edge starts outside the owned region.
    """
    if length <= size + overlap:
        return [Chunk(0, length, 0, length)]
    out = []
    for own in range(0, length, size):
        own_end = min(length, own + size)
        out.append(Chunk(max(0, own - overlap), min(length, own_end + overlap), own, own_end))
    return out


# ----------------------------------------------------------------------------------------------------
# Context


class WindowContextEnhancer(ContextAwareEnhancer):
    """Boost a result when a context word occurs in the ``window_chars`` characters before it.

    Same scoring as presidio's ``LemmaContextAwareEnhancer`` (score += boost, at least
    ``min_score_with_context``) but a substring search in a raw-text window instead of lemmas, so no
    tokenization of the whole text is needed.
    """

    def __init__(self, rules: ContextRules) -> None:
        super().__init__(
            context_similarity_factor=rules.boost,
            min_score_with_context_similarity=rules.min_score_with_context,
            context_prefix_count=0,
            context_suffix_count=0,
        )
        self.window = rules.window_chars

    def enhance_using_context(self, text: str, raw_results: list[RecognizerResult],
                              nlp_artifacts: NlpArtifacts, recognizers: list[EntityRecognizer],
                              context: list[str] | None = None) -> list[RecognizerResult]:
        by_id = {r.id: r for r in recognizers}
        for res in raw_results:
            meta = res.recognition_metadata or {}
            rec = by_id.get(meta.get(RecognizerResult.RECOGNIZER_IDENTIFIER_KEY))
            if rec is None or not rec.context or meta.get(RecognizerResult.IS_SCORE_ENHANCED_BY_CONTEXT_KEY):
                continue
            window = text[max(0, res.start - self.window) : res.start].lower()
            if any(word.lower() in window for word in rec.context):
                res.score = min(1.0, max(res.score + self.context_similarity_factor,
                                         self.min_score_with_context_similarity))
        return raw_results


# ----------------------------------------------------------------------------------------------------
# NLP engines


class PackagedSpacyNlpEngine(SpacyNlpEngine):
    """A spaCy pipeline loaded from an installed package with only ``ner`` (never downloaded)."""

    _EXCLUDE = ("tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer", "senter")

    def load(self) -> None:
        import spacy

        self.nlp = {}
        for model in self.models:
            name = model["model_name"]
            if not spacy.util.is_package(name):
                raise RuntimeError(f"spaCy model package {name!r} is not installed (it is never downloaded)")
            nlp = spacy.load(name, exclude=list(self._EXCLUDE))
            nlp.max_length = 10_000_000
            self.nlp[model["lang_code"]] = nlp
            # Only PERSON is used: every other NER label is ignored (and not logged as unmapped).
            labels = set(nlp.get_pipe("ner").labels) - {"PERSON", "PER"}
            self.ner_model_configuration = NerModelConfiguration(
                labels_to_ignore=sorted(labels),
                model_to_presidio_entity_mapping={"PERSON": "PERSON", "PER": "PERSON"},
                low_score_entity_names=[],
            )


def build_nlp_engine(rules: PiiRules) -> NlpEngine:
    models = [{"lang_code": rules.language, "model_name": rules.ner.model}]
    engine: NlpEngine = (PackagedSpacyNlpEngine(models=models) if rules.ner_on
                         else NoOpNlpEngine(models=models))
    engine.load()
    return engine


# ----------------------------------------------------------------------------------------------------
# The analyzer


class PiiAnalyzer:
    """Build once per worker; :meth:`analyze_many` returns non-overlapping results per text."""

    def __init__(self, rules: PiiRules) -> None:
        self.rules = rules
        self.pattern_entities = rules.pattern_entities
        entities = rules.pattern_entities + (("PERSON",) if rules.ner_on else ())
        registry = RecognizerRegistry(recognizers=build_recognizers(rules, entities),
                                      supported_languages=[rules.language])
        self.nlp_engine = build_nlp_engine(rules)
        self.engine = AnalyzerEngine(
            registry=registry,
            nlp_engine=self.nlp_engine,
            supported_languages=[rules.language],
            default_score_threshold=0.0,
            context_aware_enhancer=WindowContextEnhancer(rules.context),
        )
        self._empty = NoOpNlpEngine(models=[{"lang_code": rules.language, "model_name": "none"}])
        self._empty.load()
        self.ner_seconds = 0.0  # cumulative, for the cost line
        self.ner_chars = 0

    def _analyze_chunk(self, text: str, entities: frozenset[str], artifacts: NlpArtifacts | None
                       ) -> list[RecognizerResult]:
        if not entities:
            return []
        if artifacts is None:
            artifacts = self._empty.process_text(text, self.rules.language)
        results = self.engine.analyze(text=text, language=self.rules.language, entities=sorted(entities),
                                      nlp_artifacts=artifacts, score_threshold=0.0)
        return [r for r in results if r.score >= self.rules.threshold(r.entity_type)]

    def analyze_many(self, texts: Sequence[str], ner_flags: Sequence[bool]
                     ) -> tuple[list[list[RecognizerResult]], list[float], list[float]]:
        """Analyse ``texts`` (NER only where ``ner_flags`` is true, batched with ``nlp.pipe``).

        Returns the non-overlapping results per text, and per text the seconds spent in the pattern
        recognizers and in NER (the batch's NER time shared out by characters).
        """
        size, overlap = self.rules.chunk.size, self.rules.chunk.overlap
        jobs: list[tuple[int, Chunk, str, bool]] = []
        for i, (text, ner) in enumerate(zip(texts, ner_flags, strict=True)):
            for ch in chunk_spans(len(text), size, overlap):
                jobs.append((i, ch, text[ch.start : ch.end], ner and self.rules.ner_on))
        pattern_s = [0.0] * len(texts)
        ner_s = [0.0] * len(texts)
        artifacts: dict[int, NlpArtifacts] = {}
        ner_jobs = [k for k, job in enumerate(jobs) if job[3] and _has_name_shape(job[2])]
        if ner_jobs:
            t0 = time.perf_counter()
            batch = self.nlp_engine.process_batch([jobs[k][2] for k in ner_jobs], self.rules.language,
                                                  batch_size=self.rules.ner.batch_size)
            for k, (_text, art) in zip(ner_jobs, batch, strict=True):
                artifacts[k] = art
            spent = time.perf_counter() - t0
            total = max(1, sum(len(jobs[k][2]) for k in ner_jobs))
            for k in ner_jobs:
                ner_s[jobs[k][0]] += spent * len(jobs[k][2]) / total
            self.ner_seconds += spent
            self.ner_chars += total
        out: list[list[RecognizerResult]] = [[] for _ in texts]
        for k, (i, ch, chunk_text, _ner) in enumerate(jobs):
            t0 = time.perf_counter()
            wanted = precheck(chunk_text, self.pattern_entities)
            if k in artifacts:
                wanted = wanted | {"PERSON"}
            for r in self._analyze_chunk(chunk_text, wanted, artifacts.get(k)):
                start = r.start + ch.start
                if ch.own_start <= start < ch.own_end:
                    out[i].append(RecognizerResult(r.entity_type, start, r.end + ch.start, r.score))
            pattern_s[i] += time.perf_counter() - t0
        return [resolve_overlaps(rs) for rs in out], pattern_s, ner_s


_NAME_SHAPE = re.compile(r"[A-Z][a-z]")


def _has_name_shape(text: str) -> bool:
    """NER pre-check: a person name needs a capitalised word."""
    return _NAME_SHAPE.search(text) is not None


def resolve_overlaps(results: Sequence[RecognizerResult]) -> list[RecognizerResult]:
    """Keep a non-overlapping subset: by type priority, then higher score, longer span, earlier start.

    Greedy over results sorted by priority with an interval check against kept spans; deterministic and
    ``O(n log n)`` for the usual case of few overlaps (presidio's anonymizer resolution is quadratic).
    """
    rank = {e: i for i, e in enumerate(PRIORITY)}
    ranked = sorted(results, key=lambda r: (rank.get(r.entity_type, len(rank)), -r.score, -(r.end - r.start),
                                            r.start, r.entity_type))
    kept: list[RecognizerResult] = []
    starts: list[int] = []
    ends: list[int] = []
    for r in ranked:
        j = bisect.bisect_left(starts, r.end)  # kept spans starting before r.end are at [0, j)
        if j > 0 and ends[j - 1] > r.start:
            continue
        # kept spans are disjoint and sorted, so the one before j is the only possible overlap
        starts.insert(j, r.start)
        ends.insert(j, r.end)
        kept.append(r)
    return sorted(kept, key=lambda r: r.start)


def iter_entity_counts(results: Sequence[RecognizerResult]) -> Iterator[tuple[str, int]]:
    counts: dict[str, int] = {}
    for r in results:
        counts[r.entity_type] = counts.get(r.entity_type, 0) + 1
    yield from sorted(counts.items())
