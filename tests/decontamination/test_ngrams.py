"""Whole-text normalisation gives exactly the chunk-wise words (the definition), for every Unicode form."""

from __future__ import annotations

import dataclasses
import random

import numpy as np
import pytest

from curation.stages.decontamination import ngrams
from curation.stages.decontamination.ngrams import (
    _WORD_RE,
    _unicode_words,
    normalized_text,
    text_word_hashes,
    texts_word_hashes,
    word_hashes,
    word_spans,
    words,
    words_by_chunk,
)
from curation.stages.decontamination.rules import DecontaminationRules, NgramRules
from tests.conftest import SHARED_DEV

# Every character str.split() cuts at, and characters that normalisation or lower-casing treats specially
# next to them: combining marks, compatibility forms that decompose to a space (U+00A8, U+00B4), Hangul
# jamo, the final sigma, dotted capital I, ligatures.
SPACES = [chr(c) for c in range(0x110000) if chr(c).isspace()]
SPECIAL = [
    "\u0301",
    "\u0308",
    "\u00a8",
    "\u00b4",
    "\u1100",
    "\u1161",
    "\u11a8",
    "Σ",
    "İ",
    "ﬁ",
    "Ａ",
    "_",
    "'",
]


def _forms() -> list[NgramRules]:
    base = DecontaminationRules().ngram
    return [
        dataclasses.replace(base, unicode_form=form, lowercase=low, strip_punctuation=strip)
        for form in ("NFKC", "NFC", "NFD", "NFKD", "none")
        for low in (True, False)
        for strip in (True, False)
    ]


@pytest.mark.parametrize(
    "rules", _forms(), ids=lambda r: f"{r.unicode_form}-{r.lowercase}-{r.strip_punctuation}"
)
def test_whole_text_words_equal_chunk_words_on_generated_text(rules: NgramRules) -> None:
    rng = random.Random(1)
    pool = [*SPACES, *SPECIAL, *"aZ9 .Σσ", "é", "ǅ", "\u0345"]
    for _ in range(3000):
        text = "".join(rng.choice(pool) for _ in range(rng.randint(0, 12)))
        assert words(text, rules) == words_by_chunk(text, rules), repr(text)
        assert np.array_equal(text_word_hashes(text, rules), word_hashes(words_by_chunk(text, rules)))


def test_whole_text_words_equal_chunk_words_for_every_code_point() -> None:
    """Each code point between and beside whitespace, combining marks and sigma (NFKC, the default)."""
    rules = DecontaminationRules().ngram
    chars = [chr(c) for c in range(0x110000) if not 0xD800 <= c < 0xE000]
    for i in range(0, len(chars), 64):  # 64 code points per text: lists compare position by position
        text = " ".join(f"Σ{ch} \u0301{ch}\u00a0{ch}Σ\u3000a{ch}\u0308 {ch}" for ch in chars[i : i + 64])
        assert words(text, rules) == words_by_chunk(text, rules), hex(ord(chars[i]))


def test_unicode_words_are_the_regex_words_for_every_code_point() -> None:
    """The code-point table (and the per-text look-up above the BMP) classifies every code point, lone
    surrogates included, as ``[^\\W_]`` does; byte offsets follow UTF-8 with surrogatepass."""
    chars = [chr(c) for c in range(0x110000)]
    for text in (" ".join(chars), "".join(chars), "é" + "".join(chars[::-7])):
        b, starts, ends = _unicode_words(text)
        found = [b[s:e].tobytes().decode("utf-8", "surrogatepass") for s, e in zip(starts, ends, strict=True)]
        assert found == _WORD_RE.findall(text)


def test_normalized_text_is_nfkc_then_lower_case() -> None:
    rules = DecontaminationRules().ngram
    assert normalized_text("ＣＡＦＥ\u0301 ﬁne", rules) == "café fine"
    assert normalized_text("ΟΔΟΣ ΟΔΟΣ.", rules) == "οδος οδος."
    assert normalized_text("ASCII Only", rules) == "ascii only"


def test_text_that_nfkc_makes_ascii_takes_the_ascii_path_with_the_same_hashes() -> None:
    rules = DecontaminationRules().ngram
    text = "no\u00a0break spaces\u2026 and the \ufb01ne ligature"
    assert normalized_text(text, rules).isascii()
    assert np.array_equal(text_word_hashes(text, rules), word_hashes(words_by_chunk(text, rules)))
    ws, _, _ = word_spans(text, rules)
    assert ws == words(text, rules)


@pytest.mark.skipif(not (SHARED_DEV / "corpus").is_dir(), reason="dev corpus not present")
def test_whole_text_words_equal_chunk_words_on_the_dev_corpus() -> None:
    import gzip
    import json

    rules = DecontaminationRules().ngram
    for path in sorted((SHARED_DEV / "corpus").glob("*.jsonl.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            for line in fh:
                text = json.loads(line).get("text") or ""
                assert words(text, rules) == words_by_chunk(text, rules)
                assert np.array_equal(text_word_hashes(text, rules), word_hashes(words_by_chunk(text, rules)))


@pytest.mark.parametrize("join_chars", [1 << 20, 30, 1])
@pytest.mark.parametrize(
    "rules", _forms(), ids=lambda r: f"{r.unicode_form}-{r.lowercase}-{r.strip_punctuation}"
)
def test_texts_word_hashes_equal_each_text_alone(
    rules: NgramRules, join_chars: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hashing many texts joined (ASCII and non-ASCII groups, split at ``_JOIN_CHARS``) gives every text
    the hashes it has alone: empty, punctuation-only, space-edged, lone-surrogate and astral texts too."""
    monkeypatch.setattr(ngrams, "_JOIN_CHARS", join_chars)
    rng = random.Random(2)
    pool = [*SPACES[:8], *SPECIAL, *"aZ9 .,-Σσ", "é", "\ud800", "\U0001f600", "\U00010400", "x_y"]
    texts = ["", " ", "...", "abc", "  edge words  ", "\ud800", "日本語 テキスト"]
    texts += ["".join(rng.choice(pool) for _ in range(rng.randint(0, 40))) for _ in range(300)]
    for batch in (texts, texts[::-1], texts[:1], []):
        got = texts_word_hashes(batch, rules)
        assert len(got) == len(batch)
        for text, h in zip(batch, got, strict=True):
            assert h.dtype == np.uint64
            assert np.array_equal(h, text_word_hashes(text, rules)), repr(text)


def test_join_groups_bound_characters_and_keep_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ngrams, "_JOIN_CHARS", 10)
    assert ngrams._join_groups([]) == []
    assert ngrams._join_groups([4, 4, 4, 30, 0, 9, 1]) == [(0, 2), (2, 3), (3, 4), (4, 6), (6, 7)]
