"""Fast paths of PERSON and STREET_ADDRESS (issue 21) give the spans of the full per-run / per-number tests:
each is checked by switching it off (every run / number then takes the full path) on generated texts."""

from __future__ import annotations

import dataclasses
import random

import pytest

from curation.rules import RULES_DIR
from curation.stages.pii import load_stage_rules, names
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
