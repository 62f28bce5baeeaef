"""KeyedTerms (the probe's whole-document scan) counts exactly what TermMatcher.labels counts."""

from __future__ import annotations

import gzip
import json
import random
from collections import Counter
from dataclasses import replace

import numpy as np
import pytest

from curation.rules import REPO_ROOT
from curation.stages.toxicity.bias import doc_representation, identity_scanner, is_identity, load_bias_lists
from curation.stages.toxicity.terms import TermMatcher, _regex_words
from curation.stages.toxicity.termscan import KeyedTerms, run_slots, slot_table
from curation.stages.toxicity.wordsplit import ascii_words_mask, split_folded, word_runs, words_mask
from tests.conftest import SHARED_DEV
from tests.toxicity.test_wordsplit import EDGE

MATCHER = load_bias_lists("bias", REPO_ROOT / "rules").matcher()
SCANNER = identity_scanner(MATCHER)
FILLER = ["the", "a", "man's", "old", "young", "people", "of", "don't", "Ünï", "x", "北京", "ß", "İ", "_"]
SEPS = [" ", "  ", "\n", ", ", "-", "'", "’", ". ", "\t", "(", "😀", "\u00a0"]


def _expected(text: str, matcher: TermMatcher = MATCHER) -> tuple[Counter, int]:
    found, n = matcher.labels(text)
    return Counter(lt for lt in found if is_identity(lt[0])), n


def _got(text: str, scanner: KeyedTerms = SCANNER) -> tuple[Counter, int]:
    found, n = scanner.labels(text)
    return Counter(found), n


def _terms_text(rng: random.Random, vocab: list[str], n: int) -> str:
    parts = []
    for _ in range(n):
        w = rng.choice(vocab) if rng.random() < 0.5 else rng.choice(FILLER)
        if rng.random() < 0.2:
            w = w.upper() if rng.random() < 0.5 else w.title()
        parts += [w, rng.choice(SEPS)]
    return "".join(parts)


def _vocab() -> list[str]:
    return sorted({" ".join(k) for k in MATCHER.exact} | {w for k in MATCHER.exact for w in k})


@pytest.mark.parametrize("text", EDGE)
def test_word_runs_are_the_split_words(text: str) -> None:
    folded = text.casefold()
    if len(folded) != len(text):
        return  # such texts never reach word_runs
    cps, starts, ends = word_runs(folded)
    assert [folded[a:b] for a, b in zip(starts.tolist(), ends.tolist(), strict=True)] == list(
        split_folded([text], _regex_words)[0][1]
    )
    assert cps.dtype == (np.uint8 if folded.isascii() else np.uint32)


def test_ascii_mask_equals_the_code_point_mask() -> None:
    rng = random.Random(1)
    for _ in range(500):
        b = np.array([rng.randrange(128) for _ in range(rng.randrange(1, 20))], dtype=np.uint8)
        assert np.array_equal(ascii_words_mask(b), words_mask(b.astype(np.uint32)))


def test_equal_runs_get_equal_slots() -> None:
    text = "abc x abc abd ab a b".casefold()
    cps, starts, ends = word_runs(text)
    slots = run_slots(cps, starts, ends).tolist()
    assert slots[0] == slots[2] and slots[0] != slots[3]
    uni, s2, e2 = word_runs("abc ab")  # ASCII bytes and UTF-32 code points agree
    wide, s3, e3 = word_runs("abc ab é")
    assert run_slots(uni, s2, e2).tolist() == run_slots(wide, s3, e3).tolist()[:2]
    assert slot_table([]).sum() == 0 and slot_table(["abc"])[slots[0]]


@pytest.mark.parametrize(
    "text",
    [
        *EDGE,
        "African American people and an african-american man; Muslim's muslim MUSLIMS",
        "middle aged people, middle aged, middle-aged people; old man man old men old",
        "young young people people gen x gen z Gen-Z baby boomers",
        "black people, white people, black, white, BLACK PEOPLE",
        "down syndrome down down syndrome",
        "",
        "jew jewish jews christian christians atheist hindu gay lesbian trans",
    ],
)
def test_labels_equal_the_matcher_on_edge_cases(text: str) -> None:
    assert _got(text) == _expected(text)
    assert _got(text * 40) == _expected(text * 40)


def test_random_term_texts_equal_the_matcher() -> None:
    rng = random.Random(0)
    vocab = _vocab()
    for _ in range(400):
        text = _terms_text(rng, vocab, rng.randrange(60))
        assert _got(text) == _expected(text), text


def test_every_run_a_candidate_still_equals_the_matcher() -> None:
    # a table with every slot set: each run is sliced and looked up exactly, so collisions cannot count
    full = replace(SCANNER, table=np.ones_like(SCANNER.table))
    rng = random.Random(2)
    vocab = _vocab()
    for _ in range(100):
        text = _terms_text(rng, vocab, rng.randrange(80))
        assert _got(text, full) == _expected(text), text


def test_stems_and_length_changing_folds_use_the_matcher() -> None:
    stemmed = TermMatcher.build({"id:x/y": ["queer*", "old people"], "adj": ["old"]})
    scanner = KeyedTerms.build(stemmed, is_identity)
    text = "queerness old people old queer"
    assert _got(text, scanner) == _expected(text, stemmed) == (Counter({("id:x/y", "queer*"): 2,
                                                                        ("id:x/y", "old people"): 1}), 5)
    assert _got("Straße gay GAY") == _expected("Straße gay GAY")


def test_doc_representation_accepts_both() -> None:
    text = "A gay man and a Muslim woman met an old man."
    assert doc_representation(text, "web", SCANNER) == doc_representation(text, "web", MATCHER)


@pytest.mark.skipif(not (SHARED_DEV / "corpus").is_dir(), reason="dev corpus absent")
def test_dev_corpus_documents_equal_the_matcher() -> None:
    for f in sorted((SHARED_DEV / "corpus").glob("*.jsonl.gz")):
        with gzip.open(f, "rt", encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    text = json.loads(line)["text"]
                    assert _got(text) == _expected(text)
