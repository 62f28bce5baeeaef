"""PERSON names without a neural model on every character: capitalised runs, a first-name gazetteer, cues.

The detector runs in one pass over a text:

1. **Candidates**: runs of 1-4 capitalised words on one line (name particles such as ``van der``, ``de la``,
   ``von`` may join them; ``McDonald``, ``O'Brien``, ``Jean-Luc`` are words).
2. **Gazetteer**: a run holds a name when one of its words is a first name of the configured countries in
   Jörg Michael's ``nam_dict.txt`` (~48,000 first names with per-country frequencies, shipped by the
   ``gender-guesser`` package, GNU FDL): the name starts at that word and extends over the capitalised
   words after it (middle names, surnames). Independent of the fake-data library that generated the dev
   set, so the benchmark is not circular.
3. **Cues** (per language, ``rules/pii.yaml``): a title (``Mr``, ``Frau``, ``Mme``, ``Sr.``, ``Sig.ra``,
   ``Dhr.``) before a capitalised run makes it a name even without a known first name (``Dr. Pitts``);
   phrase cues (``my name is``, ``ich heiße``, ``je m'appelle``, ``Author:``, ``Hi``) raise a lone first
   name's score.
4. **Case evidence** (document level, language-independent): a lone first name that also occurs in lower
   case in the same text is a common word there (``Will``, ``May``, ``Mark``) and is not a name without a
   cue (the "document-level capitalisation" heuristic of classic NER, e.g. Mikheev 1999, "A knowledge-free
   method for capitalized word disambiguation").

Scores: first name + another capitalised word ``full``; title + capitalised run or phrase cue + first name
``cue``; a lone first name inside a sentence ``lone``, at a sentence start ``lone_start``; code documents
take lone first names only with a cue (identifiers are capitalised). Departure from the issue's sketch: no
per-window spaCy model is run by default; ``en_core_web_sm`` scored PERSON P 0.60 / R 0.75 on the dev set
at ~0.06 MB/cpu-s, below this detector on both (see docs/pii.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from curation.stages.pii.gazetteer import name_tables, strip_accents
from curation.stages.pii.rules import NameRules
from curation.stages.pii.spans import Span
from curation.stopwords import spacy_stop_words

_UP = "A-ZÀ-ÖØ-Þ"
_LO = "a-zß-öø-ÿ"
_WORD_TAIL = rf"[{_LO}]+(?:[{_UP}][{_LO}]+)?(?:[-'’](?!s\b)[{_UP}]?[{_LO}]+)*"
_WORD = rf"[{_UP}]{_WORD_TAIL}"
_PARTICLE = (r"(?:van der|van den|van de|von der|de la|de los|de las|van|von|zu|de|der|den|du|des|da|di|del|"
             r"della|dos|das|le|la|ten|ter|y)")
# A run's first word is not glued to a word, apostrophe, dot or hyphen before it. That look-behind follows the
# first capital (``(?<![\w'’.-][UP])`` = ``(?<![\w'’.-])`` before it): a pattern that starts with a character
# class is only tried at the positions of that class, one that starts with a look-behind at every position.
_NOT_GLUED = rf"(?<![\w'’.-][{_UP}])"
_FIRST_WORD = rf"[{_UP}]{_NOT_GLUED}{_WORD_TAIL}"
_RUN = re.compile(rf"{_FIRST_WORD}(?:(?: {_PARTICLE})? (?:{_WORD})){{0,3}}(?![\w-])")
_TOKEN = re.compile(_WORD)
def _common_in(text: str, word: str) -> bool:
    """``word`` (lower case) occurs in lower case as a whole word somewhere in ``text``."""
    i = text.find(word)
    n = len(word)
    while i >= 0:
        if (i == 0 or not text[i - 1].isalnum()) and (i + n == len(text) or not text[i + n].isalnum()):
            return True
        i = text.find(word, i + 1)
    return False


_NEXT_WORD = re.compile(r" (\w+)")
_NUMBER_BEFORE = re.compile(r"\d[\w/-]*,? $")
_AFTER_WORDS = re.compile(r" (\w+)(?:( [A-ZÀ-ÖØ-Þ][\w'-]+)+ (\w+))?")
_PREV_WORD = re.compile(r"([\w.]+)(?: (?:de|di|del|de la|du|des|da))? $")
_DAY_AFTER = re.compile(r"\.? \d{1,2}\b")
_WORD_BEFORE = re.compile(r"(\w+)[.,]? $")
_SENTENCE_END = re.compile(r"(?:^|[.!?:;\"“”»«()\[\]*#>-]|\n)\s*$")



@dataclass(frozen=True)
class _Cues:
    """Lower-cased cue phrases (as word tuples) of one language, or of all of them."""

    titles: frozenset[str]
    phrases: frozenset[tuple[str, ...]]
    strong: frozenset[tuple[str, ...]]
    longest: int
    ends: frozenset[str]  # the last words of the phrases: no phrase ends before any other word
    #: the last characters a word can end in and be a title (with or without dots) or a strong cue's last
    #: word: a run after a space after an ASCII character outside them has neither
    title_or_strong_last: frozenset[str] = frozenset()


def _cues(titles: set[str], phrases: set[str], strong: set[str]) -> _Cues:
    ph = frozenset(tuple(p.lower().split()) for p in phrases)
    st = frozenset(tuple(p.lower().split()) for p in strong)
    longest = max((len(p) for p in (*ph, *st)), default=1)
    ends = frozenset(p[-1] for p in (*ph, *st) if p)
    lowered = frozenset(t.lower().rstrip(".") for t in titles)
    last = frozenset({".", *(t[-1] for t in lowered if t), *(p[-1][-1] for p in st if p and p[-1])})
    return _Cues(lowered, ph, st, longest, ends, last)


def _title_or_strong(text: str, start: int, c: _Cues) -> bool:
    """The ``title or strong`` of :meth:`PersonRecognizer._cue` (the phrase cue is not computed): all a
    run without a first name needs to know."""
    if start >= 2 and text[start - 1] == " ":  # the last word ends at start - 2 (unless that is a space)
        ch = text[start - 2]
        if ch.isascii() and not ch.isspace() and ch.lower() not in c.title_or_strong_last:
            return False  # its lower-cased last character is neither a dot nor a title's or cue's last
    last = text[max(0, start - 48) : start].rsplit(None, 1)
    if not last:
        return False
    last_word = last[-1].lower()
    if last_word.rstrip(".") in c.titles:
        return True
    if last_word not in c.ends:
        return False
    words = text[max(0, start - 48) : start].lower().split()[-c.longest :]
    return any(tuple(words[-k:]) in c.strong for k in range(1, len(words) + 1))


def _list_pattern(conjunctions: tuple[str, ...]) -> re.Pattern[str]:
    """``A, B and C`` / ``A & B``: two or more single capitalised words joined by commas and a conjunction."""
    conj = "|".join(re.escape(c) for c in sorted(conjunctions, key=len, reverse=True))
    one = rf"(?:{_WORD})(?! [{_UP}])"
    first = rf"(?:{_FIRST_WORD})(?! [{_UP}])"
    return re.compile(rf"{first}(?:, {one})*,? (?:{conj}) {one}(?![\w-])")


def _list_hint(conjunctions: tuple[str, ...]) -> re.Pattern[str]:
    """What every match of :func:`_list_pattern` contains: a conjunction between a space and a capital."""
    conj = "|".join(re.escape(c) for c in sorted(conjunctions, key=len, reverse=True))
    return re.compile(rf" (?:{conj}) [{_UP}]")


class PersonRecognizer:
    """PERSON spans in one text; ``find(text, lang, source_kind)`` (see the module docstring)."""

    entity = "PERSON"
    context: tuple[str, ...] = ()

    def __init__(self, rules: NameRules, street_types: tuple[str, ...] = (),
                 tables_file: str | Path | None = None) -> None:
        self.rules = rules
        # stop words are not first-name evidence in their own language ("Non" in Italian, "May" in English)
        self.stop_by_lang = {lg: spacy_stop_words(lg) for lg in rules.languages}
        self.stop = frozenset().union(*self.stop_by_lang.values())
        # the gazetteer and CLDR words: prebuilt by `curate models fetch` (checked), else built here
        t = name_tables(rules, self.stop, tables_file)
        self.first_names, self.first_plain, self.full_only = t.first_names, t.first_plain, t.full_only
        self.soft, self.months, self.days = t.soft, t.months, t.days
        self.objects_by_lang = {lg: frozenset(w.lower() for w in ws) for lg, ws in rules.verb_objects.items()}
        self.objects: frozenset[str] = frozenset().union(*self.objects_by_lang.values())
        self.not_in_name = frozenset(w.lower().rstrip(".") for w in rules.org_suffixes)
        self.street_types = frozenset(w.lower().rstrip(".") for w in street_types)
        self.place_before = frozenset(w.lower().rstrip(".") for w in (*street_types, *rules.place_prefixes))
        self.determiners = {lg: frozenset(ws) for lg, ws in rules.determiners.items()}
        self.all_determiners = frozenset().union(*self.determiners.values())
        self.prepositions = {lg: frozenset(ws) for lg, ws in rules.place_prepositions.items()}
        self.all_prepositions = frozenset().union(*self.prepositions.values())
        self.lists = {lg: (_list_pattern(ws), _list_hint(ws)) for lg, ws in rules.conjunctions.items() if ws}
        every = tuple(sorted({w for ws in rules.conjunctions.values() for w in ws}))
        self.all_lists = (_list_pattern(every), _list_hint(every)) if every else (None, None)
        self.cues: dict[str, _Cues] = {}
        for lang in rules.languages:
            self.cues[lang] = _cues(set(rules.titles.get(lang, ())), set(rules.cues.get(lang, ())),
                                    set(rules.strong_cues.get(lang, ())))
        self.all_cues = _cues({t for ts in rules.titles.values() for t in ts},
                              {c for cs in rules.cues.values() for c in cs},
                              {c for cs in rules.strong_cues.values() for c in cs})

    def _cue(self, text: str, start: int, lang: str | None) -> tuple[bool, bool, bool]:
        """(title, phrase, strong) cues in the words just before ``start``, for ``lang`` (all if unknown)."""
        c = self.cues.get(lang, self.all_cues) if lang is not None else self.all_cues
        before = text[max(0, start - 48) : start]
        # the last word first (lower-casing never makes or removes whitespace, so this is the last of the
        # lower-cased words): most runs follow a word that is no cue's last word
        last = before.rsplit(None, 1)
        if not last:
            return False, False, False
        last_word = last[-1].lower()
        title = last_word.rstrip(".") in c.titles
        if last_word not in c.ends:
            return title, False, False
        words = before.lower().split()[-c.longest :]
        tails = [tuple(words[-k:]) for k in range(1, len(words) + 1)]
        phrase = any(t in c.phrases for t in tails)
        strong = any(t in c.strong for t in tails)
        return title, phrase, strong

    def _place_or_org(self, text: str, tokens: list[tuple[int, int]], start_i: int) -> bool:
        """A street, place or organisation built from names: ``Susan Via``, ``rue Normand``,
        ``Saint Martin``, ``Craig Group``."""
        if any(text[a:b].lower() in self.not_in_name for a, b in tokens[start_i:]):
            return True
        a, b = tokens[-1]
        if text[a:b].lower() in self.street_types and self._street_context(text, tokens[start_i][0], b):
            return True
        a = tokens[start_i][0]
        prev = _PREV_WORD.search(text[max(0, a - 32) : a])
        return prev is not None and prev.group(1).lower() in self.place_before

    def _firm_lists(self, text: str, lang: str | None) -> set[int]:
        """Start offsets of the words of lists that are firm names made of surnames: a list of single
        capitalised words (``Lee, Martinez and Johnson``, ``Franco and Sons``) with one word that is
        neither a known first name nor a stop word."""
        pattern, hint = self.lists.get(lang, (None, None)) if lang is not None else self.all_lists
        if pattern is None or hint is None or hint.search(text) is None:
            return set()  # every list holds " <conjunction> <capital>"
        stop = self.stop_by_lang.get(lang, self.stop) if lang is not None else self.stop
        out: set[int] = set()
        for m in pattern.finditer(text):
            words = [(w.start() + m.start(), w.group()) for w in _TOKEN.finditer(m.group())]
            if len(words) < 2:
                continue
            if any(w.lower() not in stop and not self._frequency(w) for _a, w in words):
                out.update(a for a, _w in words)
        return out

    def _not_person_context(self, text: str, tokens: list[tuple[int, int]], first: int | None,
                            lang: str | None) -> bool:
        """A date (``Tue Mar 31``), a determiner before the run (``the Franco``), or a place after a
        locative preposition whose first name is not its first word (``in Nogaredo Di Prato``)."""
        a0 = tokens[0][0]
        before = _WORD_BEFORE.search(text[max(0, a0 - 24) : a0])
        prev = before.group(1).lower() if before is not None else ""
        if first is not None:
            fa, fb = tokens[first]
            if text[fa:fb].lower() in self.months and first == len(tokens) - 1 and (
                    _DAY_AFTER.match(text, fb) is not None or prev in self.days or prev.isdigit()):
                return True
        if lang is not None:
            dets, preps = self.determiners.get(lang, frozenset()), self.prepositions.get(lang, frozenset())
        else:
            dets, preps = self.all_determiners, self.all_prepositions
        if prev in dets and text[a0 - 1 : a0] == " ":
            return True
        return bool(first) and prev in preps

    def _street_context(self, text: str, start: int, end: int) -> bool:
        """A run ending in a street type is a street when a house number precedes it, a street word
        follows it (``Reed Fields street``) or another street is joined to it (``X Flat and Y Ridges``)."""
        if _NUMBER_BEFORE.search(text[max(0, start - 12) : start]):
            return True
        after = _AFTER_WORDS.match(text, end)
        if after is None:
            return False
        if after.group(1).lower() in self.street_types:
            return True
        return after.group(2) is not None and after.group(3).lower() in self.street_types

    def find(self, text: str, lang: str | None = None, source_kind: str = "web") -> list[Span]:
        if lang is not None and lang not in self.rules.languages:
            return []
        sc = self.rules.scores
        first_names = self.first_names
        out: list[Span] = []
        # the firm lists' words are looked up only for runs that could be names: found on the first one
        firms: set[int] | None = None
        stop = self.stop_by_lang.get(lang, self.stop) if lang is not None else self.stop
        soft, first_plain, full_only = self.soft, self.first_plain, self.full_only
        cues = self.cues.get(lang, self.all_cues) if lang is not None else self.all_cues
        for m in _RUN.finditer(text):
            ms = m.start()
            word = m.group()
            if " " not in word and not sc.candidate:
                # one word (most runs): decided here when it is no first name and no title or strong cue
                # precedes it, exactly as below (the word starts with a capital, so it is the only token)
                # (the gazetteer first: most runs are no first name, and then the stop and CLDR words
                # need not be asked)
                plain = word if word.isascii() else strip_accents(word)
                if (not (word in first_names or plain in first_plain)
                        or (low := word.lower()) in stop or low in soft):
                    if not _title_or_strong(text, ms, cues):
                        continue
            # words of the run with their offsets (particles are lower case, never first names)
            tokens: list[tuple[int, int]] = []
            pos = ms
            for w in word.split(" "):
                if w[:1].isupper():
                    tokens.append((pos, pos + len(w)))
                pos += len(w) + 1
            first = None
            for i, (a, b) in enumerate(tokens):
                word = text[a:b]
                low = word.lower()
                if low in stop or (low in soft and i == len(tokens) - 1):
                    continue
                if (word in first_names or strip_accents(word) in first_plain
                        or (i < len(tokens) - 1 and (word in full_only or self._compound(word)))):
                    first = i
                    break
            start_i = 0 if first is None else first
            a0 = tokens[start_i][0]
            # the cues matter only for a run without a first name (of up to 3 words) or a lone first name
            last = len(tokens) - 1
            if (first is None and last <= 2) or first == last:
                title, phrase, strong = self._cue(text, a0, lang)
            else:
                title = phrase = strong = False
            weak = first is None and not ((title or strong) and len(tokens) <= 3)
            if weak and not sc.candidate:
                continue
            if firms is None:
                firms = self._firm_lists(text, lang)
            if ms in firms:
                continue
            if (self._place_or_org(text, tokens, start_i)
                    or self._not_person_context(text, tokens, first, lang)):
                continue
            if weak:  # no name evidence: below the threshold, only the window model can promote it
                if a0 > 0 and _SENTENCE_END.search(text[max(0, a0 - 3) : a0]) is None:
                    out.append(Span(self.entity, a0, tokens[-1][1], sc.candidate))
                continue
            if first is None:
                score = sc.cue
            elif first < len(tokens) - 1:
                score = sc.full
            elif title or phrase:
                score = sc.cue
            elif (source_kind == "code" or self._frequency(text[tokens[first][0] : tokens[first][1]])
                  < self.rules.lone_min_frequency
                  or _common_in(text, text[tokens[first][0] : tokens[first][1]].lower())):
                continue
            elif any(text[a:b].lower() not in self.stop for a, b in tokens[:first]):
                continue  # the last word of a longer proper noun: "The Princess Royal", "Lake Louise"
            else:
                at_start = a0 == 0 or _SENTENCE_END.search(text[max(0, a0 - 3) : a0]) is not None
                if at_start:
                    nxt = _NEXT_WORD.match(text, tokens[first][1])
                    objects = self.objects_by_lang.get(lang, self.objects) if lang else self.objects
                    if nxt is not None and nxt.group(1).lower() in objects:
                        continue  # "Tell me a joke": an imperative, not a name
                score = sc.lone_start if at_start else sc.lone
            out.append(Span(self.entity, a0, tokens[-1][1], score))
        return out

    def _compound(self, word: str) -> bool:
        """``Claus-Dieter``, ``Jean-Baptiste``: every hyphen-joined part is a known first name."""
        parts = word.split("-")
        return len(parts) > 1 and all(p in self.first_names or p in self.full_only for p in parts)

    def _frequency(self, word: str) -> int:
        return self.first_names.get(word) or self.first_plain.get(strip_accents(word), 0)

    def is_name(self, value: str) -> bool:
        """A speaker label that is a known first name (or starts with one): ``Anna``, ``Jean-Luc D.``."""
        tok = _TOKEN.match(value.strip())
        return tok is not None and tok.group() in self.first_names
