"""Batched scoring (``match.batch_hits``): one prefix structure over many documents' words gives every
document exactly the hits, evidence and outcome it gets when scored alone, by the per-document loop the
stage used before (kept here verbatim as the reference)."""

from __future__ import annotations

import random
from collections.abc import Sequence

import numpy as np
import pytest

from curation.document import Document
from curation.stages.decontamination import match
from curation.stages.decontamination.index import NgramIndex
from curation.stages.decontamination.match import find_hits, score_batch_with_found, score_hits
from curation.stages.decontamination.ngrams import text_prefix_sums
from curation.stages.decontamination.rules import DecontaminationRules
from tests.decontamination.conftest import CONTEXT, FILLER, QUESTION, SHORT_Q, doc


def _reference(docs: Sequence[Document], index: NgramIndex, rules: DecontaminationRules) -> list:
    """The per-document scoring loop before batch_hits (one prefix structure per document)."""
    if not index.lengths or not docs:
        return [(d, []) for d in docs]
    min_n = rules.ngram.min_n
    pres = [text_prefix_sums(d.text, rules.ngram) for d in docs]
    probes = [p.ngrams(min_n) for p in pres]
    mask_all = index.candidates(np.concatenate(probes))
    out = []
    offset = 0
    for d, pre, pr in zip(docs, pres, probes, strict=True):
        cand = np.flatnonzero(mask_all[offset : offset + len(pr)])
        offset += len(pr)
        h, starts, ks, pos = find_hits(pre, cand, index) if len(cand) else (np.empty(0),) * 4
        if len(h) == 0:
            out.append((d, []))
        else:
            out.append(score_hits(d, h, starts, ks, pos, index, rules))
    return out


def _pieces(rng: random.Random) -> list[str]:
    """Words of items, filler and odd text; documents are cut from their concatenation anywhere."""
    filler = FILLER.split()
    out: list[str] = []
    for _ in range(rng.randint(0, 6)):
        pick = rng.random()
        if pick < 0.3:
            out.extend(QUESTION.split())
        elif pick < 0.45:
            out.extend(CONTEXT.split())
        elif pick < 0.55:
            out.extend(SHORT_Q.split())
        elif pick < 0.65:
            out.extend(["Café", "naïve", "ＦＵＬＬ", "İstanbul", "—", "...", "x_y"])
        else:
            start = rng.randrange(len(filler))
            out.extend(filler[start : start + rng.randint(0, 40)])
    return out


def _corpus(seed: int, n: int) -> list[Document]:
    """Documents whose item n-grams often straddle two neighbours (one text cut into documents)."""
    rng = random.Random(seed)
    stream = [w for _ in range(n) for w in _pieces(rng)]
    docs, i = [], 0
    for j in range(n):
        take = rng.choice([0, 1, 3, 7, 8, 12, 13, 20, 60, 300])
        words, i = stream[i : i + take], i + take
        kind = rng.choice(["web", "book", "code"])
        docs.append(doc(rng.choice([" ", "\n", "  "]).join(words), kind=kind, id=f"d{j}"))
    return docs


def _same(a: list, b: list) -> bool:
    return len(a) == len(b) and all(repr(x) == repr(y) for x, y in zip(a, b, strict=True))


@pytest.mark.parametrize("group_words", [1 << 20, 40, 1])
@pytest.mark.parametrize("seed", range(6))
def test_batch_equals_per_document_reference(
    index: NgramIndex,
    rules: DecontaminationRules,
    monkeypatch: pytest.MonkeyPatch,
    seed: int,
    group_words: int,
) -> None:
    docs = _corpus(seed, 60)
    ref = [_reference([d], index, rules)[0] for d in docs]
    assert any(found for _, found in ref)  # the corpus does hit the index
    monkeypatch.setattr(match, "_GROUP_WORDS", group_words)
    assert _same(score_batch_with_found(docs, index, rules), ref)
    assert _same(_reference(docs, index, rules), ref)


def test_item_split_over_two_documents_matches_in_neither(
    index: NgramIndex, rules: DecontaminationRules
) -> None:
    words = QUESTION.split()
    head, tail = " ".join(words[:10]), " ".join(words[10:])
    docs = [doc(FILLER + " " + head, id="a"), doc(tail + " " + FILLER, id="b")]
    whole = doc(FILLER + " " + QUESTION + " " + FILLER, id="c")
    out = score_batch_with_found([*docs, whole], index, rules)
    assert [bool(found) for _, found in out] == [False, False, True]
    assert out[0][0] is docs[0] and out[1][0] is docs[1]


def test_word_groups_bound_words_and_keep_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(match, "_GROUP_WORDS", 10)
    assert match._word_groups([]) == []
    assert match._word_groups([3, 3, 3, 3, 25, 0, 10, 1]) == [(0, 3), (3, 4), (4, 5), (5, 7), (7, 8)]
    assert match._word_groups([0, 0]) == [(0, 2)]
