"""The lexicon's batch path (batch pre-checks, memoised obfuscation) gives the per-text hits."""

from __future__ import annotations

import random
import re
from bisect import bisect_right
from itertools import accumulate

import pytest

from curation.stages.toxicity import lexicon
from curation.stages.toxicity.backends import EmbeddedBackend
from curation.stages.toxicity.lexicon import _REPEAT_RE, obfuscation_candidates
from curation.stages.toxicity.terms import TermMatcher, tokenize, windows_containing, windows_matching
from tests.toxicity.helpers import rules

TEXTS = [
    "",
    "a",
    "Nothing to see here.",
    "You are a fucking idiot",
    "what a motherfucker, fuuuck this",
    "sh1t happens, f*ck it, you @ss, a$$hole",
    "utf8 x86_64 mp3 h2o 10am 0xFF",
    "___ --- === 000 aaa ééé 😀😀😀",
    "²$ and ¹! superscripts next to symbols",
    "shithead and dickhead, wanker!",
    "Scunthorpe and cockburn are places",
    "l'uccello, dell'inculata, vaffanculo stronzo",
    "hijo de puta, gilipollas, cabrón",
    "Du bist ein Arschloch, fick dich",
    "ты мудак, блядь",
    "你是傻逼，他妈的",
    "idiot! idiot!! IDIOT",
    "s.h.i.t and f u c k and b1tch and n1gger",
]
LANGS = [None, "en", "it", "es", "de", "ru", "zh", "und"]


def _old_candidates(texts: list[str]) -> set[int]:
    """The previous implementation (symbol regex + isalpha neighbours, backreference repeat regex)."""
    if not texts:
        return set()
    starts = list(accumulate((len(t) + 1 for t in texts), initial=0))
    joined = "\x00".join(texts)
    hits = set()
    for m in re.finditer(r"[0-9@$*!|]", joined):
        i = m.start()
        if joined[i - 1 : i].isalpha() or joined[i + 1 : i + 2].isalpha():
            hits.add(bisect_right(starts, i) - 1)
    for m in _REPEAT_RE.finditer(joined):
        hits.add(bisect_right(starts, m.start()) - 1)
    return hits


@pytest.mark.parametrize("texts", [TEXTS, TEXTS[::-1], ["aaa"], ["", ""], ["a1"], ["\ud800\ud800\ud800"]])
def test_obfuscation_candidates_equal_the_regex_version(
    texts: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert obfuscation_candidates(texts) == _old_candidates(texts)
    monkeypatch.setattr(lexicon, "symbol_letter_texts", lambda _texts: None)  # without hyperscan
    assert obfuscation_candidates(texts) == _old_candidates(texts)


def test_obfuscation_candidates_equal_the_regex_version_on_random_texts() -> None:
    rng = random.Random(3)
    alphabet = ["a", "é", "1", "@", "$", "*", "|", "!", "²", "—", " ", "_", "\x00", "日", "\ud800", "Z"]
    for _ in range(3000):
        texts = ["".join(rng.choices(alphabet, k=rng.randrange(8))) for _ in range(rng.randrange(1, 6))]
        assert obfuscation_candidates(texts) == _old_candidates(texts), texts


def test_windows_containing_is_a_superset_of_stem_matches() -> None:
    m = TermMatcher.build({"strong": ["fuck*", "wank*", "shit"]})
    folded = [tokenize(t)[0] for t in TEXTS]
    got = windows_containing(m.stems, folded)
    assert windows_matching(m.stem_re, folded) <= got
    assert got == {i for i, t in enumerate(folded) if "fuck" in t or "wank" in t}
    assert windows_containing([], folded) == set() and windows_containing(["x"], []) == set()


@pytest.mark.parametrize("lang", LANGS)
def test_score_many_equals_score_per_text(lang: str | None) -> None:
    lex = EmbeddedBackend(rules(embedded__use_model=False).embedded).lexicon
    texts = TEXTS * 2  # repeats exercise the obfuscation memo
    got = lex.score_many(texts, [lang] * len(texts), [tokenize(t) for t in texts])
    assert got == [lex.score(t, lang) for t in texts]
    assert any(got)


def test_score_many_mixed_languages_in_one_batch() -> None:
    lex = EmbeddedBackend(rules(embedded__use_model=False).embedded).lexicon
    langs = [LANGS[i % len(LANGS)] for i in range(len(TEXTS))]
    got = lex.score_many(TEXTS, langs, [tokenize(t) for t in TEXTS])
    assert got == [lex.score(t, lg) for t, lg in zip(TEXTS, langs, strict=True)]


def test_a_full_obfuscation_memo_is_replaced_with_the_same_results(monkeypatch: pytest.MonkeyPatch) -> None:
    import curation.stages.toxicity.lexicon as lexicon_module

    lex = EmbeddedBackend(rules(embedded__use_model=False).embedded).lexicon
    expected = [lex.score(t, "en") for t in TEXTS]
    monkeypatch.setattr(lexicon_module, "_MEMO_MAX", 2)
    for _ in range(3):
        assert lex.score_many(TEXTS, ["en"] * len(TEXTS), [tokenize(t) for t in TEXTS]) == expected
    batch = len(set(lexicon_module._TOKEN_RE.findall("\n".join(TEXTS))))  # one batch's new tokens
    assert all(len(m) <= 2 + batch for m in lex._obf_memo.values())


def test_obfuscated_windows_keep_every_window_with_an_obfuscated_hit() -> None:
    lex = EmbeddedBackend(rules(embedded__use_model=False).embedded).lexicon
    texts = [*TEXTS, "mp3 3rd www h2o", "v2 of the x86 build", "a sh1t day"]
    lists = lex._lists("en")
    cands = obfuscation_candidates(texts)
    got = lex._obfuscated_windows(texts, cands, lists)
    hit = {i for i, t in enumerate(texts) if any(lex._obfuscated(t, ll) for ll in lists)}
    assert hit <= got <= cands
    assert len(texts) - 3 not in got and len(texts) - 2 not in got and len(texts) - 1 in got
    assert lex._obfuscated_windows(["mp3 3rd"], {0}, lists) == set()
    assert lex._obfuscated_windows(texts, set(), lists) == set()
