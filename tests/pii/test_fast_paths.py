"""Fast paths of PERSON, STREET_ADDRESS and PHONE_NUMBER (issue 21) give the spans of the full per-run /
per-number / per-window tests: each is checked by switching it off (every run / number / window then takes the
full path) on generated texts."""

from __future__ import annotations

import dataclasses
import random
import re

import pytest

from curation.rules import RULES_DIR
from curation.stages.pii import load_stage_rules, names, structured
from curation.stages.pii.address import AddressRecognizer
from curation.stages.pii.names import PersonRecognizer

RULES = load_stage_rules(RULES_DIR / "pii.yaml")

NAME_PIECES = ["Anna", "Schmidt", "Mr.", "Mr", "Dr.", "dear", "Dear", "says", "said", "my name is", "Author:",
               "The", "Will", "will", "May", "Lee,", "Martinez", "and", "&", "Sons", "Group", "Via", "Tell",
               "me", "Thanks to", "Hi", "June", "4", "Tue", "Mar", "31", "in", "Rome", "Frau", "Müller",
               "Édith", "Jean-Luc", "Claus-Dieter", "Georgia", "(", ")", '"', ".", ",", ":", "\n",
               " ", " ", " ", "x" * 50, "Zehra", "Zahn", "Princess", "Royal", "van der", "Berg", "Smith", "Σ"]
ADDRESS_PIECES = ["12", "5a", "61504", "Apt.", "Apt. 123", "John", "Mountain", "Baker", "Street", "rue", "de",
                  "la", "Paix", "Calle", "Alcalá", "45", "Via", "Roma", "Lindenstraße", "Kerkstraat", "5/1",
                  "Schottinstraße", "n", "nº", "no", "Glorieta", "Atilio", "Sosa", "bis", ",", ".", "\n", " ",
                  " ", " ", "x" * 60, "via.", "str", "Weg", "weg", "1:1", "(", "Flat 3", "Sig.", "Piazza"]


def _texts(pieces: list[str], seed: int, count: int = 1500) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(pieces) + rng.choice(["", " ", " "]) for _ in range(rng.randint(1, 40)))
            for _ in range(count)]


def _key(spans: list) -> list[tuple[str, int, int, float]]:
    return [(s.entity_type, s.start, s.end, s.score) for s in spans]


@pytest.mark.parametrize("lang", [None, "en", "de", "fr"])
def test_one_word_fast_path_drops_only_runs_the_full_path_drops(monkeypatch: pytest.MonkeyPatch,
                                                                  lang: str | None) -> None:
    rec = PersonRecognizer(RULES.names, tuple(t for ts in RULES.addresses.street_types.values() for t in ts))
    texts = _texts(NAME_PIECES, 53)
    fast = [_key(rec.find(t, lang, kind)) for t in texts for kind in ("web", "code")]
    # every one-word run without a first name now goes on to the full path (which computes its cues)
    monkeypatch.setattr(names, "_title_or_strong", lambda _text, _start, _cues: True)
    full = [_key(rec.find(t, lang, kind)) for t in texts for kind in ("web", "code")]
    assert fast == full
    assert any(fast)


def test_title_or_strong_is_the_cue_test() -> None:
    rec = PersonRecognizer(RULES.names)
    rng = random.Random(59)
    for text in _texts(NAME_PIECES, 61, 400):
        for start in {rng.randint(0, len(text)) for _ in range(8)}:
            for lang in (None, "en", "de"):
                title, _phrase, strong = rec._cue(text, start, lang)
                cues = rec.cues.get(lang, rec.all_cues) if lang is not None else rec.all_cues
                assert names._title_or_strong(text, start, cues) == (title or strong)


def test_address_words_before_gate_skips_only_numbers_no_layout_takes() -> None:
    rec = AddressRecognizer(RULES.addresses)
    texts = _texts(ADDRESS_PIECES, 67)
    fast = [_key(rec.find(t, lang)) for t in texts for lang in (None, "de")]
    for key, plan in list(rec._plans.items()):  # every last word ends with "": the gate never skips
        rec._plans[key] = dataclasses.replace(plan, back_suffixes=("",))
    full = [_key(rec.find(t, lang)) for t in texts for lang in (None, "de")]
    assert fast == full
    assert sum(map(len, fast)) > 100


PHONE_PIECES = [*"0123456789", "0", "1", "00", "+", "+1", "+44 ", "+49-", "(", ")", "(0)", "-", ".", "/", " ",
                " ", ":", "x", "ext.", "#", "a", "_", "\n", "ISBN ", "978", "tel ", "phone: ", "2023-09-12",
                "12/09/2023", "10:30", "1.2.3", "192.168.0.1", "٣", "415-555-2671", "(415) 555-2671",
                "030 1234567", "06-12345678", "01 23 45 67 89", "0044 20", "555 0100", "9780306406157"]


def test_phone_windows_skipped_give_no_span(monkeypatch: pytest.MonkeyPatch) -> None:
    rec = structured.PhoneRecognizer(tuple(RULES.phone_regions), ())
    texts = _texts(PHONE_PIECES, 71, 1200)
    skipped = sum(not structured.window_can_score(t, max(0, m.start() - 2), m.end())
                  for t in texts for m in structured._PHONE_WINDOW.finditer(t))
    fast = [_key(rec.find(t)) for t in texts]
    monkeypatch.setattr(structured, "window_can_score", lambda _text, _lo, _hi: True)
    full = [_key(structured.PhoneRecognizer(tuple(RULES.phone_regions), ()).find(t)) for t in texts]
    assert fast == full
    assert sum(map(len, fast)) > 300 and skipped > 300  # both paths were exercised


def test_glued_is_the_before_test_or_the_after_test() -> None:
    rng = random.Random(73)
    for text in _texts(PHONE_PIECES, 79, 300):
        for _ in range(10):
            s = rng.randint(0, len(text))
            e = rng.randint(s, len(text))
            before, after = text[max(0, s - 2) : s], text[e : e + 2]
            old = ((bool(before) and (before[-1].isalnum() or before[-1] == "_"))
                   or (bool(after) and (after[0].isalnum() or after[0] == "_"))
                   or (len(before) == 2 and before[-1] in "-." and before[0].isalnum())
                   or (len(after) == 2 and after[0] in "-." and after[1].isalnum())
                   or bool(re.search(r"\d[ ]$", before) or re.match(r"[ ]\d", after)))
            assert structured.glued(text, s, e) == old


FOLLOW_PIECES = [*ADDRESS_PIECES, ")", ";", "]", ":", '"', "'", "’", "-", "/", "_", "\t", "\u00a0", "é", "Ö",
                 "٣", "12345", "1", "x", "B", "bis", "ter", "Main", "rue", "Calle", "str.", "#", "."]


def test_guard_needs_a_character_guard_can_follow_allows(monkeypatch: pytest.MonkeyPatch) -> None:
    from curation.stages.pii import address
    from curation.stages.pii.digits import digit_runs, house_numbers

    rec = AddressRecognizer(RULES.addresses)
    plan = rec._plan(rec._languages(None))
    assert plan.guard is not None
    texts = _texts(FOLLOW_PIECES, 83, 2000)
    skipped = 0
    for text in texts:
        for s, e in house_numbers(text, digit_runs(text)):
            if not address.guard_can_follow(text, e):
                skipped += 1
                assert plan.guard.match(text, s) is None, (text, s)
    assert skipped > 500
    fast = [_key(rec.find(t, lang)) for t in texts for lang in (None, "fr")]
    monkeypatch.setattr(address, "guard_can_follow", lambda _text, _end: True)
    full = [_key(AddressRecognizer(RULES.addresses).find(t, lang)) for t in texts for lang in (None, "fr")]
    assert fast == full
    assert sum(map(len, fast)) > 100


def test_unit_before_is_the_unit_search() -> None:
    from curation.stages.pii import address

    pieces = [*address._UNIT_WORDS, "apt.", "Apt", "Flat", " ", " ", "\n", "x", "Unit\n", "12", "Studios"]
    rng = random.Random(89)
    found = 0
    for _ in range(20000):
        before = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 6)))
        m = address._UNIT_BEFORE.search(before)
        assert address.unit_before(before) == (m.start() if m else None), before
        found += m is not None
    assert found > 500
