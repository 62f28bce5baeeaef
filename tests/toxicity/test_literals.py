"""texts_containing (one Hyperscan pass) gives windows_containing's answer (one str.find pass per literal)."""

from __future__ import annotations

import gzip
import json
import random

import pytest

from curation.stages.toxicity import literals as L
from curation.stages.toxicity.terms import windows_containing
from tests.conftest import SHARED_DEV

STEMS = ("fuck", "motherfuck", "nigger", "faggot", "wetback", "cocksuck", "dickhead", "asshole", "wanker")


def _check(literals: tuple[str, ...], texts: list[str]) -> set[int]:
    got = L.texts_containing(literals, texts)
    assert got == windows_containing(literals, texts), (literals, texts)
    return got


def test_hyperscan_is_used() -> None:
    assert L._scanner(STEMS) is not None  # else every test below only checks the fallback


def test_edge_cases() -> None:
    assert _check(STEMS, ["a fuck", "", "motherfucker", "clean", "fuckfuck"]) == {0, 2, 4}
    assert _check(STEMS, []) == set() and _check((), ["fuck"]) == set() and _check(("",), ["x"]) == set()
    assert _check(("ab",), ["a", "b", "ab"]) == {2}  # never across the NUL joining two texts
    assert _check(("ab",), ["a\x00b", "ab\x00"]) == {1}  # a text holding NUL: the fallback
    assert _check(("a\x00b",), ["a\x00b", "x"]) == {0}  # a literal holding NUL: the fallback
    multi = ["façé", "日本語", "é", "\U0001f600", "\U0001f600x", "ç"]
    assert _check(("çé", "日本", "\U0001f600x"), multi) == {0, 1, 4}
    assert _check(("\ud800",), ["a\ud800", "b"]) == {0}  # lone surrogates (surrogatepass)
    assert _check(("fuck",), ["fuck"] * 500) == set(range(500))  # many matches


def test_random_texts() -> None:
    rng = random.Random(7)
    alphabet = ["a", "b", "é", "日", "\U0001f600", " ", "\n", "\x00"]
    for _ in range(500):
        k = rng.randrange(1, 5)
        lits = tuple({"".join(rng.choices(alphabet[:5], k=rng.randrange(1, 4))) for _ in range(k)})
        texts = ["".join(rng.choices(alphabet, k=rng.randrange(12))) for _ in range(rng.randrange(10))]
        _check(lits, texts)


@pytest.mark.skipif(not (SHARED_DEV / "corpus").is_dir(), reason="dev corpus absent")
def test_dev_corpus_lines() -> None:
    found = 0
    for f in sorted((SHARED_DEV / "corpus").glob("*.jsonl.gz")):
        with gzip.open(f, "rt", encoding="utf-8") as fh:
            docs = [json.loads(line)["text"] for line in fh if line.strip()]
        lines = [ln.casefold() for text in docs for ln in text.splitlines()]
        for lits in (STEMS, ("the", "ing", "日本", "é")):
            found += len(_check(lits, lines))
    assert found > 1000
