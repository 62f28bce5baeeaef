"""The one-scan hints (``hints.py``, Hyperscan) answer the pre-check's substring questions as ``str.lower``
and ``in`` did, and the pre-check built on them keeps every decision of the former one (kept below)."""

from __future__ import annotations

import random
import re
import sys

import pytest

from curation.rules import RULES_DIR
from curation.stages.pii import engine, hints, load_stage_rules
from curation.stages.pii.digits import digit_runs, iban_hint, max_digits

RULES = load_stage_rules(RULES_DIR / "pii.yaml")

PIECES = ["secret", "SECRET_KEY", "Token", "tOkEn", "auth", "AUTH", "credential", "api_key", "apikey",
          "API-KEY", "api", "_key", "access_key", "private_key", "passw", "PassWord", "pwd", "PWD",
          "passphrase", "pass",
          "://", "https://", "@", "user@host", "xox", "xoxb-1", "hooks.slack.com", "HOOKS.SLACK.COM",
          "PRIVATE KEY", "private key", "AKIA", "AKIAJEKP5OOW3IO4DE72", "ASIA1", "A3TZ", "ghp_", "GHP_",
          "github_pat_", "İ", "ı", "ſ", "K", "Kelvin", "ſecret", "toKen", "sec", "ret", "tok", "en",
          "Σ", "é", "日本", "\ud800",
          "\U0001f600", " ", " ", "\n", "x", "=", '"', "0", "12", "4111 1111 1111 1111", "GB82 WEST 1234",
          "192.168.0.1", "fe80::1", "٣"]


def _texts(seed: int, count: int = 3000) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(PIECES) for _ in range(rng.randint(0, 30))) for _ in range(count)]


def test_ascii_lowering_lists_every_character_whose_lower_case_holds_ascii() -> None:
    found = "".join(chr(c) for c in range(128, sys.maxunicode + 1)
                    if any(ord(x) < 128 for x in chr(c).lower()))
    assert found == hints.ASCII_LOWERING


def test_hints_are_the_reference_hints() -> None:
    pytest.importorskip("hyperscan")  # a dependency (pyproject); without it hints() is python_hints()
    assert hints._matcher() is not None
    texts = _texts(5)
    for text in texts:
        assert hints.hints(text) == hints.python_hints(text), text
    assert sum(hints._matcher().hints(t) is None for t in texts) > 100  # the fallback was exercised
    assert len({h for t in texts for h in hints.hints(t)}) == len(hints.NAMES)  # every hint was seen


def test_without_hyperscan_the_reference_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hints, "_matcher", lambda: None)
    assert hints.hints("my Password: x@y") == hints.python_hints("my Password: x@y") == frozenset(
        {"passw", "@"})


# The pre-check before the one-scan hints (b14cbd2..1acc130), verbatim but for its name.
_AWS_ID_HINT = re.compile(r"A(?:KIA|SIA|3T|BIA|CCA)[A-Z0-9]")
_GITHUB_HINT = re.compile(r"gh[pousr]_|github_pat_")
_PASSWORD_WORDS = ("passw", "pwd", "passphrase")
_SECRET_WORDS = ("secret", "token", "api_key", "apikey", "api-key", "access_key", "auth", "credential",
                 "private_key")


def _secret_word(low: str) -> bool:
    return ("secret" in low or "token" in low or "auth" in low or "credential" in low
            or ("api" in low and ("api_key" in low or "apikey" in low or "api-key" in low))
            or ("_key" in low and ("access_key" in low or "private_key" in low)))


def _old_precheck(text: str, entities: tuple[str, ...]) -> frozenset[str]:
    need: set[str] = set()
    wanted = set(entities)
    low: str | None = None
    digits = -1
    runs = digit_runs(text) if not wanted.isdisjoint(engine._RUN_ENTITIES) else None
    has_digit = bool(runs.starts) if runs is not None else engine._ANY_DIGIT.search(text) is not None
    for e in wanted:
        if e == "EMAIL_ADDRESS":
            hit = "@" in text
        elif e in ("PHONE_NUMBER", "US_SSN", "CREDIT_CARD"):
            if digits < 0:
                digits = max_digits(text, runs) if runs is not None and has_digit else 0
            hit = digits >= {"PHONE_NUMBER": 7, "US_SSN": 9, "CREDIT_CARD": 13}[e]
        elif e == "IBAN_CODE":
            hit = has_digit and runs is not None and iban_hint(text, runs)
        elif e == "IP_ADDRESS":
            hit = (has_digit and engine._ipv4_hint(text)) or engine._ipv6_hint(text)
        elif e == "AWS_ACCESS_KEY_ID":
            hit = _AWS_ID_HINT.search(text) is not None
        elif e == "GITHUB_TOKEN":
            hit = _GITHUB_HINT.search(text) is not None
        elif e == "SLACK_TOKEN":
            hit = "xox" in text or "hooks.slack.com" in text
        elif e == "PRIVATE_KEY":
            hit = "PRIVATE KEY" in text
        elif e == "STREET_ADDRESS":
            hit = has_digit
        else:
            low = text.lower() if low is None else low
            if e == "AWS_SECRET_ACCESS_KEY":
                hit = "secret" in low
            elif e == "PASSWORD":
                hit = any(w in low for w in _PASSWORD_WORDS) or ("://" in low and "@" in low)
            elif e == "GENERIC_SECRET":
                hit = _secret_word(low)
            else:
                hit = True
        if hit:
            need.add(e)
    return frozenset(need)


@pytest.mark.parametrize("use_hyperscan", [True, False])
def test_precheck_decides_as_the_former_precheck(monkeypatch: pytest.MonkeyPatch,
                                                  use_hyperscan: bool) -> None:
    if not use_hyperscan:
        monkeypatch.setattr(hints, "_matcher", lambda: None)
    entities = (*RULES.pattern_entities, "SOMETHING_NEW")
    seen: set[str] = set()
    for text in _texts(7):
        got = engine.precheck(text, entities)
        assert got == _old_precheck(text, entities), text
        seen |= got
        assert engine.precheck(text, ("PASSWORD",)) == _old_precheck(text, ("PASSWORD",)), text
    assert seen == set(entities)  # every entity passed somewhere


def test_case_fold_ascii_lists_every_character_related_to_an_ascii_letter() -> None:
    """Every non-ASCII code point that lower-cases to more than one character or to ASCII, or that a
    case-insensitive pattern matches to an ASCII letter, is in CASE_FOLD_ASCII (so literal_starts refuses
    texts holding one)."""
    every = "".join(chr(c) for c in range(128, sys.maxunicode + 1) if not 0xD800 <= c < 0xE000)
    odd = set(re.findall(r"(?i)[a-z]", every))
    odd |= {c for c in every if len(c.lower()) != 1 or any(ord(x) < 128 for x in c.lower())}
    assert odd == set(hints.CASE_FOLD_ASCII)


def test_literal_starts_are_the_positions_in_the_lower_cased_text() -> None:
    from curation.stages.pii import secrets
    from curation.stages.pii.scan import literal_positions

    pytest.importorskip("hyperscan")
    fast = 0
    for words in (secrets._SECRET_ANCHOR, secrets._PASSWORD_ANCHOR, ("aws", "secret")):
        for text in _texts(11, 1500):
            starts = hints.literal_starts(words, text)
            if starts is not None:
                fast += 1
                assert starts == literal_positions(words, text.lower()), text
            else:
                assert any(ch in text for ch in hints.CASE_FOLD_ASCII)
    assert fast > 2000
    assert hints.literal_starts(("Secret",), "a secret") is None  # not a lower-case key word
