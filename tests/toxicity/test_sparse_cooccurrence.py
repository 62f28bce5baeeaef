"""The stage's sparse co-occurrence (only windows where a term can start) equals the per-window scan."""

from __future__ import annotations

import gzip
import json
import random

import pytest

from curation.stages.toxicity.bias import (
    load_bias_lists,
    match_candidates,
    representation_signals,
    sparse_cooccurrence,
    sparse_representation_signals,
    window_cooccurrence,
)
from curation.stages.toxicity.terms import TermMatcher, tokenize_many, windows_matching
from tests.conftest import SHARED_DEV

MATCHER = load_bias_lists("bias").matcher()
MEMO: dict = {}
TEXTS = [
    "She is a nurse", "a cat", "", "the old man and the young women", "first nations and old people",
    "an African\nAmerican doctor", "gay, lesbian and trans people", "nothing at all here", "Muslims!",
    "he said his wife was a good teacher", "HE HIM HIS", "black-listed white-washed", "ß Straße Frau",
]


def _check(texts: list[str], toxic: list[bool], matcher: TermMatcher = MATCHER) -> None:
    toks = tokenize_many(texts)
    stem_hits = windows_matching(matcher.stem_re, [t[0] for t in toks])
    stems = [i in stem_hits for i in range(len(texts))]
    per_window: list = []
    expected = window_cooccurrence(zip(texts, toxic, strict=True), "web", matcher, per_window=per_window)
    cands = match_candidates(matcher, [t[1] for t in toks], stem_hits)
    stats, toxic_ids, subs_at = sparse_cooccurrence(texts, toxic, toks, stems, cands, "web", matcher)
    assert (stats, toxic_ids) == expected
    # the stage keeps one memo of window summaries per batch, across its documents
    again = sparse_cooccurrence(texts, toxic, toks, stems, cands, "web", matcher, MEMO)
    assert again == (stats, toxic_ids, subs_at)
    assert set(subs_at) == {i for i, (_, s) in enumerate(per_window) if s}
    n_words = [len(t[1]) for t in toks]
    for keep in ([True] * len(texts), [not t for t in toxic]):
        got = sparse_representation_signals(n_words, keep, subs_at)
        assert got == representation_signals(per_window, keep)


@pytest.mark.parametrize("every", [1, 2, 3])
def test_edge_windows(every: int) -> None:
    _check(TEXTS, [i % every == 0 for i in range(len(TEXTS))])


def test_no_windows_and_no_candidates() -> None:
    _check([], [])
    _check(["a cat", "two dogs"], [True, False])
    assert match_candidates(MATCHER, [("a", "cat"), ("she",)]) == [1]


def test_stems_make_candidates() -> None:
    stemmed = TermMatcher.build({"id:x/y": ["queer*", "old people"], "adj": ["good"]})
    texts = ["queerness here", "old people", "a good old cat", "nothing", "the queer"]
    _check(texts, [True, False, True, False, True], stemmed)
    assert match_candidates(stemmed, [("x",), ("y",)], {1}) == [1]


def test_random_windows() -> None:
    rng = random.Random(0)
    vocab = ["he", "she", "old", "people", "man", "good", "nurse", "gay", "the", "a", "x", "muslim",
             "african", "american", "first", "nations", "king"]
    for _ in range(200):
        texts = [" ".join(rng.choices(vocab, k=rng.randrange(8))) for _ in range(rng.randrange(12))]
        _check(texts, [rng.random() < 0.3 for _ in texts])


@pytest.mark.skipif(not (SHARED_DEV / "corpus").is_dir(), reason="dev corpus absent")
def test_dev_corpus_lines() -> None:
    for f in sorted((SHARED_DEV / "corpus").glob("*.jsonl.gz")):
        with gzip.open(f, "rt", encoding="utf-8") as fh:
            for k, line in enumerate(fh):
                if line.strip():
                    lines = json.loads(line)["text"].splitlines()
                    _check(lines, [(i + k) % 5 == 0 for i in range(len(lines))])
