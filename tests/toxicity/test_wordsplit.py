"""The numpy word split gives exactly the regex tokenizer's words (terms._regex_tokenize)."""

from __future__ import annotations

import gzip
import json
import random
import re

import numpy as np
import pytest

from curation.stages.toxicity.terms import _regex_tokenize, _regex_words, tokenize, tokenize_many
from curation.stages.toxicity.wordsplit import split_folded, word_mask, words_mask
from tests.conftest import SHARED_DEV

ALL = np.arange(0x110000, dtype=np.uint32)

EDGE = [
    "",
    " ",
    "a",
    "'",
    "’",
    "a'",
    "'a",
    "a'b",
    "a''b",
    "a'’b",
    "don't, rock'n'roll, l'uccello, dell’inculata, ‘quoted’ 'quoted'",
    "x'y'z' 'w",
    "Straße STRASSE İstanbul ǅ ﬁne ΣΊΣΥΦΟΣ",  # folding changes the length: the regex path
    "ÀNGRY WOMAN, Σίσυφος, Ελλάδα",
    "北京是首都。東京 ひらがな カタカナ 한국어 ไทย हिन्दी العربية עברית",
    "emoji 😀😀 a😀b 𝐀𝐁𝐂 bold 𝟏𝟐 digits 𐐀𐐨 deseret",
    "tabs\tand\nnewlines\r\nand\x0bvertical\x0cfeed\x1cseps\x85next\u2028line\u3000ideo",
    "nul\x00inside, under_score __init__ x86_64 3.14 ½ ² ٣",
    "lone \ud800 surrogate \udfff here",
    "african,\namerican -- african american. black-listed",
    "\u00a0nbsp\u00a0 and \u200bzero\u200bwidth and soft\u00adhyphen",
    "combining e\u0301 and a\u0308 marks",
]


def test_word_table_equals_the_regex_on_every_code_point() -> None:
    chars = "".join(map(chr, range(0x110000)))
    expected = np.zeros(0x110000, dtype=bool)
    expected[[m.start() for m in re.finditer(r"\w", chars)]] = True
    assert np.array_equal(word_mask(ALL), expected)


def test_no_word_character_or_apostrophe_is_whitespace() -> None:
    words = [*np.flatnonzero(word_mask(ALL)).tolist(), 0x27, 0x2019]
    assert not any(chr(c).isspace() for c in words)


@pytest.mark.parametrize("text", EDGE)
def test_split_equals_the_regex_on_edge_cases(text: str) -> None:
    assert split_folded([text], _regex_words) == [_regex_tokenize(text)]
    assert tokenize(text * 30) == _regex_tokenize(text * 30)  # the long-text path of tokenize


@pytest.mark.parametrize("texts", [[], [""], ["", ""], EDGE, EDGE[::-1], ["a", "", "b c"], ["ß", "a"]])
def test_batches_equal_the_regex(texts: list[str]) -> None:
    assert tokenize_many(texts) == [_regex_tokenize(t) for t in texts]


def test_random_texts_equal_the_regex() -> None:
    rng = random.Random(0)
    alphabet = "ab'’ \n.,-_0ßİéΣ😀北\x00\u00a0\u0301"
    for _ in range(2000):
        n = rng.randrange(5)
        texts = ["".join(rng.choice(alphabet) for _ in range(rng.randrange(12))) for _ in range(n)]
        assert tokenize_many(texts) == [_regex_tokenize(t) for t in texts], texts


def test_apostrophes_join_only_between_word_characters() -> None:
    cps = np.frombuffer("a'b ''c' d’’e".encode("utf-32-le"), dtype=np.uint32)
    assert "".join("x" if m else "." for m in words_mask(cps)) == "xxx...x..x..x"


@pytest.mark.skipif(not (SHARED_DEV / "corpus").is_dir(), reason="dev corpus absent")
def test_dev_corpus_documents_and_lines_equal_the_regex() -> None:
    texts = []
    for f in sorted((SHARED_DEV / "corpus").glob("*.jsonl.gz")):
        with gzip.open(f, "rt", encoding="utf-8") as fh:
            texts += [json.loads(line)["text"] for line in fh if line.strip()]
    for t in texts:
        assert tokenize(t) == _regex_tokenize(t)
        lines = t.splitlines()
        assert tokenize_many(lines) == [_regex_tokenize(x) for x in lines]
