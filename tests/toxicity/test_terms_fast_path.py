"""The counting fast path of TermMatcher must give exactly the matches of the positional scan."""

from __future__ import annotations

from collections import Counter

import pytest

from curation.stages.toxicity.terms import TermMatcher, folded_words, tokenize, tokenize_many, words

MATCHER = TermMatcher.build(
    {
        "id:gender/female": ["woman", "women", "she"],
        "id:ethnicity/african_american": ["african american", "black"],
        "id:nationality/american": ["american"],
        "desc:adj": ["angr*", "lazy"],
    }
)

TEXTS = [
    "",
    "Nothing to see here.",
    "She met an African American woman; the American women were angry and ANGRIER.",
    "Straße and İstanbul: she said the lazy Women's group was black-listed.",
    "african\namerican and african alone, then american",
    "ÀNGRY WOMAN, ﬁne ligature, Σίσυφος",
]


@pytest.mark.parametrize("text", TEXTS)
def test_labels_equal_find_as_multisets(text: str) -> None:
    found, n_words = MATCHER.labels(text)
    assert Counter(found) == Counter((m.label, m.term) for m in MATCHER.find(text))
    assert n_words == len(words(text))


@pytest.mark.parametrize("text", TEXTS)
def test_folded_words_equal_words(text: str) -> None:
    assert folded_words(text) == [w for w, _, _ in words(text)]


def test_multiword_terms_take_the_longest_match_on_both_paths() -> None:
    found, _ = MATCHER.labels("an African American writer")
    assert found == [("id:ethnicity/african_american", "african american")]
    found, _ = MATCHER.labels("an American writer")  # no multi-word first word: counting path
    assert found == [("id:nationality/american", "american")]


LONG = " ".join(["the", "lazy", "she", "women", "american", "woman", "she"] * 20)  # > 64 words


@pytest.mark.parametrize("text", [*TEXTS, LONG, "she she lazy", "women"])
def test_labels_keep_the_first_occurrence_order_of_the_counting_path(text: str) -> None:
    found, n_words = MATCHER.labels(text)
    ws = folded_words(text)
    expected = []
    for w, c in Counter(ws).items():
        lab = MATCHER.exact.get((w,)) or MATCHER._stem(w)
        expected.extend([lab] * c if lab else [])
    if not MATCHER._has_multi(ws):
        assert found == expected
    assert n_words == len(ws)


def test_counting_around_multi_word_matches_equals_the_scan_on_random_texts() -> None:
    import random

    m = TermMatcher.build(
        {"x": ["a b", "b c", "a b c", "c a b a", "c", "b"], "y": ["d*", "a", "e f"], "z": ["f e f"]}
    )
    rng = random.Random(0)
    for _ in range(3000):
        ws = [rng.choice("abcdefg") + ("x" if rng.random() < 0.1 else "") for _ in range(rng.randrange(12))]
        text = " ".join(ws)
        found, n = m.labels(text)
        assert Counter(found) == Counter((x.label, x.term) for x in m.find(text)), text
        assert n == len(ws)
        assert [(i, k, lab) for i, k, lab in m._scan(ws) if k > 1] == m._multi_matches(ws)


@pytest.mark.parametrize(
    "texts",
    [[], [""], ["", ""], TEXTS, [*TEXTS, "nul\x00inside a text", "don't x'"], ["Straße", "STRASSE", "'a'b'"]],
)
def test_tokenize_many_equals_tokenize(texts: list[str]) -> None:
    assert tokenize_many(texts) == [tokenize(t) for t in texts]


def test_folding_joined_words_equals_folding_each() -> None:
    from curation.stages.toxicity.terms import _fold_each

    for ws in ([], [""], ["Straße", "İstanbul", "ﬁne", "ΣΊΣΥΦΟΣ", "Ǆ", "ß"], ["a", "", "B"]):
        assert _fold_each(ws) == [w.casefold() for w in ws]


def test_word_positions_equal_a_scan_of_the_words() -> None:
    import random

    from curation.stages.toxicity.terms import word_positions

    rng = random.Random(1)
    for _ in range(2000):
        ws = [rng.choice(["a", "b", "ab", "ba", "a'b", "c"]) for _ in range(rng.randrange(15))]
        targets = rng.sample(["a", "b", "ab", "x"], rng.randrange(4))
        assert word_positions(ws, targets) == [i for i, w in enumerate(ws) if w in targets], (ws, targets)


def test_long_texts_count_once_and_give_the_scan_matches() -> None:
    text = " ".join(["old", "people", "and", "the", "african", "american", "she", "women", "old"] * 60)
    found, n = MATCHER.labels(text)  # > 256 words: the counted path
    assert Counter(found) == Counter((m.label, m.term) for m in MATCHER.find(text))
    assert n == len(words(text))
