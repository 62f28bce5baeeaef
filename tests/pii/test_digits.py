"""curation.stages.pii.digits: one digit-run pass equals the three regular expressions it replaces."""

from __future__ import annotations

import random

import pytest

from curation.stages.pii import address, digits, engine

#: Digits (ASCII, Arabic-Indic and fullwidth are ``\d``; superscript two is ``isdigit`` but not ``\d``),
#: the run separators, capitals (IBAN hint), glue characters of house numbers, non-ASCII letters and
#: whitespace, and some longer pieces.
PIECES = [*"0123456789", *"٣٧５²", *" ().-/,:_", *"ABDEGZ", *"xé", "Σ", "\n", "\t", "\u00a0", "12345",
          "123456", "DE89 3704", "GB82WEST1234", "1.2", "a1", "+1 415-555-2671", "0 1 2 3 4 5 6 7"]


def _texts(seed: int, count: int, longest: int) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(PIECES) for _ in range(rng.randint(0, longest))) for _ in range(count)]


def _check(text: str) -> None:
    runs = digits.digit_runs.__wrapped__(text)  # uncached: every text is scanned afresh
    assert digits.max_digits(text, runs) == engine._max_digits(text), text
    assert digits.iban_hint(text, runs) == (engine._IBAN_HINT.search(text) is not None), text
    assert digits.house_numbers(text, runs) == [m.span() for m in address._HOUSE.finditer(text)], text
    assert bool(runs.starts) == (engine._ANY_DIGIT.search(text) is not None)


@pytest.mark.parametrize("numpy_min", [digits.NUMPY_MIN_CHARS, 0])
def test_digit_runs_match_the_regular_expressions(monkeypatch: pytest.MonkeyPatch, numpy_min: int) -> None:
    """Both paths (regular expression for short texts, numpy for long ones), ASCII and not."""
    monkeypatch.setattr(digits, "NUMPY_MIN_CHARS", numpy_min)
    for text in _texts(41, 3000, 40):
        _check(text)


def test_long_texts_use_numpy_and_match() -> None:
    texts = _texts(43, 20, 3000)
    assert any(len(t) >= digits.NUMPY_MIN_CHARS for t in texts)
    for text in texts:
        _check(text)
    ascii_pieces = [p for p in PIECES if p.isascii()]
    rng = random.Random(47)
    for _ in range(10):
        text = "".join(rng.choice(ascii_pieces) for _ in range(3000))
        assert text.isascii() and len(text) >= digits.NUMPY_MIN_CHARS
        _check(text)


def test_max_digits_stops_at_enough_like_the_regex_loop() -> None:
    text = "id 12345678 and 1234567890123 and 12345678901234567890"
    runs = digits.digit_runs(text)
    assert digits.max_digits(text, runs) == 13 == engine._max_digits(text)
    assert digits.max_digits("x 123 4567 y", digits.digit_runs("x 123 4567 y")) == 7
    assert digits.max_digits("x 123   4567 y", digits.digit_runs("x 123   4567 y")) == 0


def test_edge_positions() -> None:
    for text in ("", "1", "12", "AB12CDEF", "1" * 6, "x" * 5000 + "12 Main", "1" + "x" * 5000,
                 "٣" + "x" * 5000, "a" * 4095 + "5", "Σ12 " * 2000):
        _check(text)
