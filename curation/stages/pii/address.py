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

from curation.stages.pii.rules import AddressRules
from curation.stages.pii.spans import Span

_UP = "A-ZÀ-ÖØ-Þ"
_NAME = rf"[{_UP}0-9][\w'’-]*"
_UNIT = (r"(?:,?\s(?:Apt\.?|Apartment|Suite|Ste\.?|Unit|Flat|Fl\.?|#|App\.?|Appt\.?|Wohnung|Whg\.?|Piso|"
         r"Puerta|Interno|Int\.?|Scala|bus)\s?[\w/-]{1,6})?")
_UNIT_WORD = r"(?:Flat|Apartment|Apt\.|Suite|Unit|Studio)"
#: A unit on its own line below a street line ("Apt. 060").
_UNIT_LINE = re.compile(rf"(?m)^[ \t]*({_UNIT_WORD} \d{{1,5}}[A-Za-z]?)[ \t]*$")
_NUMBER = r"\d{1,5}(?:\s?[a-zA-Z](?![\w]))?(?:\s?(?:bis|ter))?"
_LINKS = r"(?:(?:de(?:l| la| los| las)?|di|della|degli|dei|du|des|d'|da|do|dos|van|von|der|the|of)\s)?"


def _alt(words: tuple[str, ...]) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


class AddressRecognizer:
    """Street lines for the languages with ``street_types`` in the rules."""

    entity = "STREET_ADDRESS"
    context: tuple[str, ...] = ()

    def __init__(self, rules: AddressRules) -> None:
        self.rules = rules
        self.patterns: dict[str, list[re.Pattern[str]]] = {}
        for lang, types in rules.street_types.items():
            layout = rules.layouts.get(lang, "number_name_type")
            t = _alt(tuple({*types, *(w.lower() for w in types)}))
            if layout == "number_name_type":
                rx = (rf"(?<![\w.,-])(?:{_NUMBER}|{_UNIT_WORD} \d{{1,4}}[A-Za-z]?(?:,|\n) ?)"
                      rf" ?(?:{_NAME} ){{1,3}}(?:{t})\b\.?{_UNIT}")
            elif layout == "number_type_name":
                rx = rf"(?<![\w.,-]){_NUMBER},? (?i:{t}) {_LINKS}(?:{_NAME})(?: {_LINKS}{_NAME}){{0,3}}"
            elif layout == "type_name_number":
                rx = (rf"(?<!\w)(?:{t}) {_LINKS}{_NAME}(?: {_LINKS}{_NAME}){{0,3}},? (?:n\.?º?\s?)?"
                      rf"{_NUMBER}{_UNIT}")
            else:  # fused_type_number
                rx = (rf"(?<!\w)(?:{_NAME}[ -])?[{_UP}][\w'’-]*(?i:{t})\.? {_NUMBER}(?:[-/]\d{{1,4}})?{_UNIT}"
                      rf"(?!\d)")
            self.patterns[lang] = [re.compile(rx)]

    def find(self, text: str, lang: str | None = None, source_kind: str = "web") -> list[Span]:
        if not any(ch.isdigit() for ch in text):
            return []
        langs = [lang] if lang in self.patterns else list(self.patterns) if lang is None else []
        out: list[Span] = []
        for lg in langs:
            for rx in self.patterns[lg]:
                for m in rx.finditer(text):
                    out.append(Span(self.entity, m.start(), m.end(), self.rules.score))
        if out:  # a unit line is only an address next to a street line
            for m in _UNIT_LINE.finditer(text):
                if any(0 < m.start(1) - s.end <= 3 for s in out):
                    out.append(Span(self.entity, m.start(1), m.end(1), self.rules.score))
        return out
