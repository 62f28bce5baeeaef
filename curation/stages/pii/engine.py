"""The PII analyzer: only the rules' recognizers, a cheap pre-check, chunks, context words, overlaps.

* the recognizers of the entities named in ``rules/pii.yaml`` are built once per worker (``setup``);
  nothing heavy is imported (no NLP framework: start-up is the gazetteer parse, ~0.1 CPU-s);
* :func:`precheck` (character classes, digit runs, ``@``, key prefixes) decides per chunk which entities
  can occur at all, and only those recognizers run;
* context words are looked up in a character window before each match (:func:`boost_with_context`, the
  boost rule of presidio's LemmaContextAwareEnhancer without tokenizing the text);
* texts are analysed in overlapping chunks (:func:`chunk_spans`), so a 20 MB document is linear in its
  length and an entity across a chunk border is still found whole;
* PERSON and STREET_ADDRESS take the document's language (their cues and street words are per language)
  and PERSON its source kind.
"""

from __future__ import annotations

import bisect
import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from curation.stages.pii.digits import digit_runs, iban_hint, max_digits
from curation.stages.pii.entities import LANGUAGE_ENTITIES, PRIORITY
from curation.stages.pii.hints import hints
from curation.stages.pii.ner import WindowNer
from curation.stages.pii.recognizers import build_recognizers
from curation.stages.pii.rules import ContextRules, PiiRules
from curation.stages.pii.spans import Recognizer, Span

# ----------------------------------------------------------------------------------------------------
# Pre-check: cheap tests that rule entities out before any recognizer runs.

_ANY_DIGIT = re.compile(r"\d")
_DIGIT_RUN = re.compile(r"\d(?:[ ().\-/]{0,2}\d){6,}")
_DIGIT_RUN_ASCII = re.compile(r"[0-9](?:[ ().\-/]{0,2}[0-9]){6,}")  # the same on ASCII text, faster
# The IPv4 hint `\d\.\d{1,3}\.\d{1,3}\.\d` and the IPv6 hint
# `[0-9A-Fa-f]:[0-9A-Fa-f]{0,4}:[0-9A-Fa-f]{0,4}:|::[0-9A-Fa-f]` are searched from their literal part (the
# regex engine skips to a literal fast, but tries a pattern that starts with a character class at every
# position) and the character before it is checked.
_IPV4_TAIL = re.compile(r"\.\d{1,3}\.\d{1,3}\.\d")
_IPV6_TAIL = re.compile(r":[0-9A-Fa-f]{0,4}:[0-9A-Fa-f]{0,4}:")
_IPV6_GAP = re.compile(r"::[0-9A-Fa-f]")
_HEX = frozenset("0123456789ABCDEFabcdef")
# the IBAN hint (``digits.iban_hint`` finds it from the digit runs; this is its reference)
_IBAN_HINT = re.compile(r"[A-Z][A-Z]\d\d ?[A-Z0-9]{4}")
# The key words _PASSWORD_KEY starts with (passw(or)d, passwd, pwd, passphrase): "pass" alone also
# matched "passage", "passed", "compass" and sent a third of the prose to the password patterns.
_PASSWORD_WORDS = ("passw", "pwd", "passphrase")
#: the key words of GENERIC_SECRET (``hints.KEY_WORDS`` holds these and the password words)
_SECRET_WORDS = frozenset({"secret", "token", "api_key", "apikey", "api-key", "access_key", "auth",
                           "credential", "private_key"})
#: the entities whose pre-check reads the literal and key-word hints (``hints.hints``: one scan)
_HINTED = frozenset({"EMAIL_ADDRESS", "AWS_ACCESS_KEY_ID", "GITHUB_TOKEN", "SLACK_TOKEN", "PRIVATE_KEY",
                     "AWS_SECRET_ACCESS_KEY", "PASSWORD", "GENERIC_SECRET"})


#: the entities whose pre-check reads the digit runs (STREET_ADDRESS's recognizer reads them next)
_RUN_ENTITIES = frozenset({"PHONE_NUMBER", "US_SSN", "CREDIT_CARD", "IBAN_CODE", "STREET_ADDRESS"})


def _max_digits(text: str) -> int:
    """Digits in the longest digit run (allowing single separators); 0 when there is none of 7+."""
    best = 0
    for m in (_DIGIT_RUN_ASCII if text.isascii() else _DIGIT_RUN).finditer(text):
        n = sum(ch.isdigit() for ch in m.group())
        if n > best:
            best = n
            if best >= 13:
                break
    return best


def _preceded(tail: re.Pattern[str], text: str, ok: Callable[[str], bool]) -> bool:
    """Whether ``tail`` matches at some position ``s > 0`` whose previous character passes ``ok``."""
    m = tail.search(text, 1)
    while m is not None:
        if ok(text[m.start() - 1]):
            return True
        m = tail.search(text, m.start() + 1)
    return False


def _ipv4_hint(text: str) -> bool:
    """The IPv4 hint occurs in ``text`` (``\\d`` is a Unicode decimal digit: ``str.isdecimal``)."""
    return _preceded(_IPV4_TAIL, text, str.isdecimal)


def _ipv6_hint(text: str) -> bool:
    """The IPv6 hint occurs in ``text``."""
    return _IPV6_GAP.search(text) is not None or _preceded(_IPV6_TAIL, text, _HEX.__contains__)


def precheck(text: str, entities: Sequence[str]) -> frozenset[str]:
    """The subset of ``entities`` that can possibly match in ``text`` (a superset of what will match)."""
    need: set[str] = set()
    wanted = set(entities)
    digits = -1
    # every digit test below needs a decimal digit (the IPv6 hint does not: it has its own test); the digit
    # runs are found once (one scan, shared with the house-number recognizer) when a run test is wanted
    runs = digit_runs(text) if not wanted.isdisjoint(_RUN_ENTITIES) else None
    has_digit = bool(runs.starts) if runs is not None else _ANY_DIGIT.search(text) is not None
    # the literal and key-word hints, all found in one scan (on the lower-cased text for the key words)
    found = hints(text) if not wanted.isdisjoint(_HINTED) else frozenset()
    for e in wanted:
        if e == "EMAIL_ADDRESS":
            hit = "@" in found
        elif e in ("PHONE_NUMBER", "US_SSN", "CREDIT_CARD"):
            if digits < 0:
                digits = max_digits(text, runs) if runs is not None and has_digit else 0
            hit = digits >= {"PHONE_NUMBER": 7, "US_SSN": 9, "CREDIT_CARD": 13}[e]
        elif e == "IBAN_CODE":
            hit = has_digit and runs is not None and iban_hint(text, runs)
        elif e == "IP_ADDRESS":
            hit = (has_digit and _ipv4_hint(text)) or _ipv6_hint(text)
        elif e == "AWS_ACCESS_KEY_ID":
            hit = "aws_id" in found
        elif e == "GITHUB_TOKEN":
            hit = "github" in found
        elif e == "SLACK_TOKEN":
            hit = "xox" in found or "hooks.slack.com" in found
        elif e == "PRIVATE_KEY":
            hit = "PRIVATE KEY" in found
        elif e == "STREET_ADDRESS":
            hit = has_digit
        elif e == "AWS_SECRET_ACCESS_KEY":
            hit = "secret" in found
        elif e == "PASSWORD":
            hit = any(w in found for w in _PASSWORD_WORDS) or ("://" in found and "@" in found)
        elif e == "GENERIC_SECRET":
            hit = not _SECRET_WORDS.isdisjoint(found)
        else:  # unknown to the pre-check: always run
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


def boost_with_context(text: str, spans: list[Span], context: tuple[str, ...], rules: ContextRules) -> None:
    """Raise a span's score when a context word occurs in the ``window_chars`` characters before it.

    Same rule as presidio's ``LemmaContextAwareEnhancer`` (score += boost, at least
    ``min_score_with_context``), as a substring search in a raw-text window instead of over lemmas.
    """
    if not context:
        return
    words = [w.lower() for w in context]
    for s in spans:
        if s.context_boosted:
            continue
        window = text[max(0, s.start - rules.window_chars) : s.start].lower()
        if any(w in window for w in words):
            s.score = min(1.0, max(s.score + rules.boost, rules.min_score_with_context))
            s.context_boosted = True


# ----------------------------------------------------------------------------------------------------
# The analyzer


@dataclass(frozen=True)
class TextJob:
    """One text to analyse: its detected language and source kind, and whether PERSON runs on it."""

    text: str
    lang: str | None = None
    source_kind: str = "web"
    names: bool = False
    #: jobs of one group (a conversation's messages) are first pre-checked together: every hint is a
    #: substring test (or a digit run) that holds in a text only if it holds in any text containing it, so
    #: an entity ruled out for the joined texts is ruled out for each, and the per-message pre-checks
    #: only test what is left
    group: int | None = None


class PiiAnalyzer:
    """Build once per worker; :meth:`analyze_many` returns non-overlapping spans per text."""

    def __init__(self, rules: PiiRules, name_tables: str | Path | None = None) -> None:
        self.rules = rules
        self.pattern_entities = rules.pattern_entities
        entities = rules.pattern_entities + (("PERSON",) if rules.names_on else ())
        # PERSON's word tables: the prebuilt file when given (checked), else built from the packages
        self.recognizers: dict[str, Recognizer] = build_recognizers(rules, entities, name_tables)
        model = rules.names.model
        # the second PERSON step; its spaCy models load lazily, once per worker (this analyzer is per worker)
        self.ner = WindowNer(model.packages, model.window) if rules.names_on and model.packages else None
        self.name_seconds = 0.0  # cumulative, for the cost line
        self.name_chars = 0
        self.model_windows = 0  # candidate windows sent to the model (cumulative)

    def _analyze_chunk(self, job: TextJob, text: str, entities: Sequence[str], keep_all: bool = False
                       ) -> list[Span]:
        out: list[Span] = []
        for e in entities:
            rec = self.recognizers[e]
            if e in LANGUAGE_ENTITIES:
                found = rec.find(text, job.lang, job.source_kind)  # type: ignore[call-arg]
            else:
                found = rec.find(text)
            boost_with_context(text, found, rec.context, self.rules.context)
            threshold = self.rules.threshold(e)
            out.extend(s for s in found if keep_all or s.score >= threshold)
        return out

    def analyze(self, jobs: Sequence[TextJob]) -> tuple[list[list[Span]], list[float], list[float]]:
        """Spans per job, and per job the CPU seconds of the pattern recognizers and of PERSON."""
        size, overlap = self.rules.chunk.size, self.rules.chunk.overlap
        out: list[list[Span]] = [[] for _ in jobs]
        persons: list[list[Span]] = [[] for _ in jobs]
        pattern_s = [0.0] * len(jobs)
        name_s = [0.0] * len(jobs)
        allowed = self._group_prechecks(jobs, pattern_s)
        for i, job in enumerate(jobs):
            with_model = self.ner is not None and self.ner.covers(job.lang)
            entities = allowed.get(job.group, self.pattern_entities)  # type: ignore[arg-type]
            for ch in chunk_spans(len(job.text), size, overlap):
                chunk_text = job.text[ch.start : ch.end]
                t0 = time.thread_time()
                wanted = sorted(precheck(chunk_text, entities))
                found = self._analyze_chunk(job, chunk_text, wanted)
                t1 = time.thread_time()
                names: list[Span] = []
                if job.names and "PERSON" in self.recognizers:
                    names = self._analyze_chunk(job, chunk_text, ("PERSON",), keep_all=with_model)
                    self.name_chars += ch.end - ch.start
                t2 = time.thread_time()
                pattern_s[i] += t1 - t0
                name_s[i] += t2 - t1
                for dest, spans in ((out[i], found), (persons[i], names)):
                    for s in spans:
                        start = s.start + ch.start
                        if ch.own_start <= start < ch.own_end:
                            dest.append(Span(s.entity_type, start, s.end + ch.start, s.score))
        if self.ner is not None:
            self._model_step(jobs, persons, name_s)
        threshold = self.rules.threshold("PERSON")
        for i in range(len(jobs)):
            out[i].extend(s for s in persons[i] if s.score >= threshold)
            self.name_seconds += name_s[i]
        return [resolve_overlaps(rs) for rs in out], pattern_s, name_s

    def _group_prechecks(self, jobs: Sequence[TextJob], pattern_s: list[float]) -> dict[int, tuple[str, ...]]:
        """Per group of two or more jobs, the pattern entities that pass the pre-check on the joined texts
        (its CPU time is shared among the group's jobs)."""
        groups: dict[int, list[int]] = {}
        for i, job in enumerate(jobs):
            if job.group is not None:
                groups.setdefault(job.group, []).append(i)
        allowed: dict[int, tuple[str, ...]] = {}
        for g, members in groups.items():
            if len(members) < 2:
                continue
            t0 = time.thread_time()
            joined = "\n".join(jobs[i].text for i in members)
            allowed[g] = tuple(sorted(precheck(joined, self.pattern_entities)))
            share = (time.thread_time() - t0) / len(members)
            for i in members:
                pattern_s[i] += share
        return allowed

    def _model_step(self, jobs: Sequence[TextJob], persons: list[list[Span]], name_s: list[float]) -> None:
        """Send the cheap pass's uncertain PERSON spans of covered languages to the window model, batched
        per language across the jobs; rescore (and optionally extend) them in place."""
        assert self.ner is not None
        m = self.rules.names.model
        pending: dict[str, list[tuple[int, int]]] = {}
        for i, job in enumerate(jobs):
            if job.lang is not None and self.ner.covers(job.lang):
                for k, s in enumerate(persons[i]):
                    if m.min_score <= s.score < m.max_score:
                        pending.setdefault(job.lang, []).append((i, k))
        for lang in sorted(pending):
            items = pending[lang]
            t0 = time.thread_time()
            hits = self.ner.persons(lang, [(jobs[i].text, persons[i][k].start, persons[i][k].end)
                                           for i, k in items], m.batch_size)
            cost = (time.thread_time() - t0) / len(items)
            self.model_windows += len(items)
            for (i, k), (hit, other) in zip(items, hits, strict=True):
                s = persons[i][k]
                name_s[i] += cost
                if hit is None and (m.reject == "no_person" or other):
                    persons[i][k] = Span(s.entity_type, s.start, s.end, m.rejected)
                elif hit is not None:
                    a, b = (min(s.start, hit[0]), max(s.end, hit[1])) if m.extend else (s.start, s.end)
                    persons[i][k] = Span(s.entity_type, a, b, max(s.score, m.confirmed))

    def analyze_many(self, texts: Sequence[str], name_flags: Sequence[bool] | None = None
                     ) -> tuple[list[list[Span]], list[float], list[float]]:
        """:meth:`analyze` for plain texts (language unknown, web source)."""
        flags = name_flags if name_flags is not None else [True] * len(texts)
        return self.analyze([TextJob(t, None, "web", f) for t, f in zip(texts, flags, strict=True)])


_RANK = {e: i for i, e in enumerate(PRIORITY)}


def resolve_overlaps(results: Sequence[Span]) -> list[Span]:
    """Keep a non-overlapping subset: by type priority, then higher score, longer span, earlier start.

    Greedy over results sorted by priority with an interval check against kept spans; deterministic and
    ``O(n log n)`` for the usual case of few overlaps (presidio's anonymizer resolution is quadratic).
    """
    if len(results) < 2:  # most texts: nothing to resolve
        return list(results)
    rank = _RANK
    ranked = sorted(results, key=lambda r: (rank.get(r.entity_type, len(rank)), -r.score, -(r.end - r.start),
                                            r.start, r.entity_type))
    kept: list[Span] = []
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


def iter_entity_counts(results: Sequence[Span]) -> Iterator[tuple[str, int]]:
    counts: dict[str, int] = {}
    for r in results:
        counts[r.entity_type] = counts.get(r.entity_type, 0) + 1
    yield from sorted(counts.items())
