"""STREET_ADDRESS: the street line of a postal address (house number + street, optional unit), per language.

Street-type words are data (``rules/pii.yaml``, ``addresses.street_types``) and the house-number position
follows each country's convention (Universal Postal Union addressing standards, S42):

* number first, type after the name (en: ``61504 John Mountain Apt. 123``, ``12 Baker Street``);
* number first, type before the name (fr: ``12, rue de la Paix``, ``5 bis avenue Victor Hugo``);
* type before the name, number after (es, it: ``Calle de Alcalá 45``, ``Via Roma 12``, ``Piazza Duomo, 3``);
* the type fused into the street name, number after (de, nl: ``Lindenstraße 5a``, ``Kerkstraat 12-3``),
  or a separate type word (``Am Markt 3`` is not covered).

City, postcode and country are not part of the entity (they are not personal data on their own).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from curation.stages.pii.digits import digit_runs, house_numbers
from curation.stages.pii.rules import AddressRules
from curation.stages.pii.spans import Span

_UP = "A-ZÀ-ÖØ-Þ"
_NAME = rf"[{_UP}0-9][\w'’-]*"
_UNIT = (r"(?:,?\s(?:Apt\.?|Apartment|Suite|Ste\.?|Unit|Flat|Fl\.?|#|App\.?|Appt\.?|Wohnung|Whg\.?|Piso|"
         r"Puerta|Interno|Int\.?|Scala|bus)\s?[\w/-]{1,6})?")
_UNIT_WORDS = ("Flat", "Apartment", "Apt.", "Suite", "Unit", "Studio")
_UNIT_WORD = "(?:" + "|".join(re.escape(w) for w in _UNIT_WORDS) + ")"
#: A unit on its own line below a street line ("Apt. 060").
_UNIT_LINE = re.compile(rf"(?m)^[ \t]*({_UNIT_WORD} \d{{1,5}}[A-Za-z]?)[ \t]*$")
_NUMBER = r"\d{1,5}(?:\s?[a-zA-Z](?![\w]))?(?:\s?(?:bis|ter))?"
_LINKS = r"(?:(?:de(?:l| la| los| las)?|di|della|degli|dei|du|des|d'|da|do|dos|van|von|der|the|of)\s)?"


def _alt(words: tuple[str, ...], fold: bool = False) -> str:
    """An alternation of ``words``, longest first, grouped by their first character (``r(?:ue|oute)|...``);
    ``fold``: for use inside ``(?i:...)``.

    The regex engine tries the branches of an alternation one after the other; grouped, it tries only the
    words that start with the character at hand. Branches of different groups cannot match at the same
    position (case-sensitive: different first characters; ``fold``: groups by lower-cased first character,
    all ASCII, and each ASCII letter's case-folding class holds no other ASCII lower-case letter), and
    within a group the longest-first order is kept, so the grouped alternation matches exactly what the
    flat one did.
    """
    ordered = sorted(words, key=len, reverse=True)
    groups: dict[str, list[str]] = {}
    for w in ordered:
        groups.setdefault(w[:1].lower() if fold else w[:1], []).append(w)
    if fold and not all(k.isascii() for k in groups):
        return "|".join(re.escape(w) for w in ordered)
    out = []
    for ws in groups.values():
        if len(ws) > 1 and len({w[:1] for w in ws}) == 1:
            out.append(re.escape(ws[0][:1]) + "(?:" + "|".join(re.escape(w[1:]) for w in ws) + ")")
        else:
            out.append("|".join(re.escape(w) for w in ws))
    return "|".join(out)


@dataclass(frozen=True)
class _Plan:
    """How the layouts of one set of languages are tried at a house number."""

    ahead: list[re.Pattern[str]]  # number (or unit) first, street type after the name (en)
    after: list[re.Pattern[str]]  # number first, street type before the name (fr)
    #: street name then number (es, it) or fused type + number (de, nl): (number-first pattern, pattern,
    #: street types, type suffixes, fused)
    back: list[tuple[re.Pattern[str] | None, re.Pattern[str], frozenset[str], tuple[str, ...], bool]]
    guard: re.Pattern[str] | None  # the alternation of the number-first patterns' prefixes
    #: every street type of the non-fused and every type suffix of the fused ``back`` layouts: a number
    #: that is not ``forward`` reaches a ``back`` pattern only if one of the words before it is one of
    #: ``back_types`` or the last word ends in one of ``back_suffixes`` (one test instead of one per layout)
    back_types: frozenset[str] = frozenset()
    back_suffixes: tuple[str, ...] = ()


class AddressRecognizer:
    """Street lines for the languages with ``street_types`` in the rules.

    Anchored on house numbers: each number is checked with a cheap test per layout (is the next word
    capitalised or a street type; does the word before end in a street type, is a street type among the
    words before) and only then matched with the layout's full expression, so prose without house
    numbers costs one digit scan.
    """

    entity = "STREET_ADDRESS"
    context: tuple[str, ...] = ()

    def __init__(self, rules: AddressRules) -> None:
        self.rules = rules
        self.layouts: dict[str, tuple[str, re.Pattern[str], frozenset[str], tuple[str, ...]]] = {}
        # international-mail order (number first) for the layouts whose number follows the street:
        # "5/1 Schottinstraße", "9 Glorieta de Atilio Sosa"
        self.number_first: dict[str, re.Pattern[str]] = {}
        # per language, a prefix of each pattern that starts at the house number (see `_plan`)
        self.forward_prefix: dict[str, str] = {}
        self._plans: dict[tuple[str, ...], _Plan] = {}
        for lang, types in rules.street_types.items():
            layout = rules.layouts.get(lang, "number_name_type")
            both = tuple({*types, *(w.lower() for w in types)})
            t, ti = _alt(both), _alt(both, fold=True)  # ti inside (?i:...)
            if layout == "number_name_type":
                rx = (rf"(?<![\w.,-])(?:{_NUMBER}|{_UNIT_WORD} \d{{1,4}}[A-Za-z]?(?:,|\n) ?)"
                      rf" ?(?:{_NAME} ){{1,3}}(?:{t})\b\.?{_UNIT}")
                self.forward_prefix[lang] = rf"(?<![\w.,-]){_NUMBER} ?{_NAME} "
            elif layout == "number_type_name":
                rx = rf"(?<![\w.,-]){_NUMBER},? (?i:{ti}) {_LINKS}(?:{_NAME})(?: {_LINKS}{_NAME}){{0,3}}"
                self.forward_prefix[lang] = rf"(?<![\w.,-]){_NUMBER},? (?i:{ti}) "
            elif layout == "type_name_number":
                rx = (rf"(?<!\w)(?:{t}) {_LINKS}{_NAME}(?: {_LINKS}{_NAME}){{0,3}},? (?:n\.?º?\s?)?"
                      rf"{_NUMBER}{_UNIT}")
                self.number_first[lang] = re.compile(
                    rf"(?<![\w.,-]){_NUMBER},? (?:{t}) {_LINKS}{_NAME}(?: {_LINKS}{_NAME}){{0,3}}")
                self.forward_prefix[lang] = rf"(?<![\w.,-]){_NUMBER},? (?:{t}) "
            else:  # fused_type_number
                rx = (rf"(?<!\w)(?:{_NAME}[ -])?[{_UP}][\w'’-]*(?i:{ti})\.? {_NUMBER}(?:[-/]\d{{1,4}})?"
                      rf"{_UNIT}"
                      rf"(?!\d)")
                self.number_first[lang] = re.compile(
                    rf"(?<![\w.,-])\d{{1,5}}(?:[-/]\d{{1,4}})?[a-z]? [{_UP}][\w'’-]*(?i:{ti})\b\.?")
                self.forward_prefix[lang] = rf"(?<![\w.,-])\d{{1,5}}(?:[-/]\d{{1,4}})?[a-z]? [{_UP}]"
            lowered = tuple(w.lower().rstrip(".") for w in types)
            self.layouts[lang] = (layout, re.compile(rx), frozenset(lowered), lowered)

    def _languages(self, lang: str | None) -> list[str]:
        if self.rules.all_layouts or lang is None:
            return list(self.layouts)  # the country's convention, not the text's language
        return [lang] if lang in self.layouts else []

    def _plan(self, langs: list[str]) -> _Plan:
        """The layouts of ``langs`` grouped by how they are tried, and their forward guard (built once)."""
        key = tuple(langs)
        plan = self._plans.get(key)
        if plan is None:
            ahead = [self.layouts[lg][1] for lg in langs if self.layouts[lg][0] == "number_name_type"]
            after = [self.layouts[lg][1] for lg in langs if self.layouts[lg][0] == "number_type_name"]
            back = [(self.number_first.get(lg), *self.layouts[lg][1:], layout == "fused_type_number")
                    for lg in langs
                    if (layout := self.layouts[lg][0]) in ("type_name_number", "fused_type_number")]
            prefixes = [self.forward_prefix[lg] for lg in langs if lg in self.forward_prefix]
            guard = re.compile("|".join(f"(?:{p})" for p in prefixes)) if prefixes else None
            back_types = frozenset().union(*(types for _nf, _rx, types, _sf, fused in back if not fused))
            back_suffixes = tuple(sorted({x for _nf, _rx, _t, sf, fused in back if fused for x in sf}))
            plan = self._plans[key] = _Plan(ahead, after, back, guard, back_types, back_suffixes)
        return plan

    def find(self, text: str, lang: str | None = None, source_kind: str = "web") -> list[Span]:
        plan = self._plan(self._languages(lang))
        out: dict[tuple[int, int], Span] = {}
        entity, score = self.entity, self.rules.score
        for s, e in house_numbers(text, digit_runs(text)):  # the matches of _HOUSE
            # every pattern tried at the number starts with a prefix in the guard: none matches, none is tried
            # (and no prefix matches unless the character after the number passes guard_can_follow)
            forward = (plan.guard is not None and guard_can_follow(text, e)
                       and plan.guard.match(text, s) is not None and _FORWARD_HINT.match(text, e) is not None)
            lo = max(0, s - 90)
            before = text[lo:s]
            if plan.ahead:
                unit = unit_before(before)
                if unit is not None or forward:
                    start = lo + unit if unit is not None else s
                    for rx in plan.ahead:
                        found = rx.match(text, start)
                        if found:
                            out.setdefault(found.span(), Span(entity, *found.span(), score))
            if forward:
                for rx in plan.after:
                    found = rx.match(text, s)
                    if found:
                        out.setdefault(found.span(), Span(entity, *found.span(), score))
            if not plan.back:
                continue
            words_before: list[str] | None = None  # split only when a layout needs the words before
            if not forward:  # only the words-before tests below can pass: try them all at once first
                # rsplit(None, 7)[-7:] is split()[-7:] without splitting the words further left
                words = before.lower().replace(",", " ").rsplit(None, 7)[-7:]
                words_before = [w.rstrip(".") for w in words]
                if not words_before:
                    continue
                last = words_before[-1]
                if last in ("n", "nº", "n.º", "no"):
                    last = words_before[-2] if len(words_before) > 1 else ""
                if plan.back_types.isdisjoint(words_before) and not last.endswith(plan.back_suffixes):
                    continue
            for number_first, rx, types, suffixes, fused in plan.back:
                if number_first is not None and forward:
                    found = number_first.match(text, s)
                    if found:
                        out.setdefault(found.span(), Span(entity, *found.span(), score))
                        continue
                if words_before is None:  # the up to 7 words before the number, without trailing dots
                    # rsplit(None, 7)[-7:] is split()[-7:] without splitting the words further left
                    words = before.lower().replace(",", " ").rsplit(None, 7)[-7:]
                    words_before = [w.rstrip(".") for w in words]
                    last = words_before[-1] if words_before else ""
                    if last in ("n", "nº", "n.º", "no"):
                        last = words_before[-2] if len(words_before) > 1 else ""
                if not words_before:
                    continue
                if fused:
                    if not last.endswith(suffixes):
                        continue
                elif types.isdisjoint(words_before):
                    continue
                for found in rx.finditer(text, lo, min(len(text), e + 30)):
                    if found.start() < e and found.end() > s:
                        out.setdefault(found.span(), Span(entity, *found.span(), score))
        spans = sorted(out.values(), key=lambda sp: (sp.start, sp.end))
        if spans:  # a unit line is only an address next to a street line
            for m in _UNIT_LINE.finditer(text):
                if any(0 < m.start(1) - sp.end <= 3 for sp in spans):
                    spans.append(Span(self.entity, m.start(1), m.end(1), self.rules.score))
        return spans


# `(?<![\w.,/:-])\d{1,5}(?!\d)` with the look-behind after the first digit: a pattern starting with a
# look-behind is tried at every position of the text, one starting with a digit only at digits.
_HOUSE = re.compile(r"\d(?<![\w.,/:-]\d)\d{0,4}(?!\d)")
_HOUSE_ASCII = re.compile(r"[0-9](?<![\w.,/:-][0-9])[0-9]{0,4}(?![0-9])")  # the same on ASCII text, faster
_FORWARD_HINT = re.compile(r"(?:\s?[a-zA-Z](?!\w))?(?:\s?(?:bis|ter))?,? ?\S")
_UNIT_BEFORE = re.compile(rf"{_UNIT_WORD} $")  # the reference of unit_before
#: what ``_UNIT_BEFORE`` can match: a unit word and a space at the end, or before a final newline
_UNIT_ENDS = tuple(w + " " for w in _UNIT_WORDS) + tuple(w + " \n" for w in _UNIT_WORDS)


def unit_before(before: str) -> int | None:
    """The start of ``_UNIT_BEFORE.search(before)``, or ``None``: with ``str.endswith`` instead of a search
    tried at every position. ``$`` matches at the end or before a final newline, so a match is a unit word
    and a space ending there; no unit word ends another, so there is at most one."""
    if not before.endswith(_UNIT_ENDS):
        return None
    for end in _UNIT_ENDS:
        if before.endswith(end):
            return len(before) - len(end)
    return None  # not reached


def guard_can_follow(text: str, end: int) -> bool:
    """A necessary condition for a forward guard match at a house number ending at ``end``: the character
    there. Each prefix goes on after its ``\\d{1,5}`` with ``\\s``, a letter, ``,``, ``-``, ``/`` or a space,
    or (en: a name may start with a digit) consumes the rest of the run with ``[\\w'’-]*`` and then needs
    a space; so the character after the run is whitespace, a word character or one of ``'’-,/``."""
    if end >= len(text):
        return False
    ch = text[end]
    return ch.isalnum() or ch.isspace() or ch in "_'’-,/"
