"""The vectorised text statistics equal plain-Python definitions (brute force over word tuples)."""

from __future__ import annotations

import random
import re
from collections import Counter

import numpy as np
import pytest

from curation.stages.quality.textstats import (
    _STRIP,
    TextStats,
    dup_ngram_char_ratio,
    dup_ngram_char_ratios,
    non_alpha_words_reference,
    top_ngram_char_ratio,
)

_VOCAB = ["a", "the", "of", "1", "--", "x.", "É", "Be", "...", "'s", "2nd", "_", "½"]


def _texts(seed: int, count: int) -> list[str]:
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        vocab = rng.sample(_VOCAB, rng.randint(1, 6))
        out.append(" ".join(rng.choice(vocab) for _ in range(rng.randint(0, 120))))
    return out


def _dup_ratio(words: list[str], n: int) -> float:
    chars = sum(map(len, words))
    seen: set[tuple[str, ...]] = set()
    covered = [False] * len(words)
    for i in range(len(words) - n + 1):
        gram = tuple(words[i : i + n])
        if gram in seen:
            covered[i : i + n] = [True] * n
        seen.add(gram)
    return sum(len(w) for w, c in zip(words, covered, strict=True) if c) / chars if chars else 0.0


def _top_ratio(words: list[str], n: int) -> float:
    chars = sum(map(len, words))
    grams = Counter(tuple(words[i : i + n]) for i in range(len(words) - n + 1))
    if len(words) - n + 1 < 2 or not chars:
        return 0.0
    top = max(grams.values())
    if top < 2:
        return 0.0
    longest = max(sum(map(len, g)) for g, c in grams.items() if c == top)
    return min(1.0, top * longest / chars)


@pytest.mark.parametrize("seed", range(4))
def test_word_and_ngram_statistics_equal_brute_force(seed: int) -> None:
    stop = frozenset({"the", "of", "a", "s"})
    for text in _texts(seed, 150):
        stats, words = TextStats(text), text.split()
        assert stats.non_alpha_words == sum(1 for w in words if not re.search(r"[^\W\d_]", w))
        assert stats.count_words_in(stop) == sum(1 for w in words if w.lower().strip(_STRIP) in stop)
        for n in (2, 3, 4):
            assert top_ngram_char_ratio(stats, n) == pytest.approx(_top_ratio(words, n), abs=1e-12)
        many = dup_ngram_char_ratios(stats, range(5, 11))
        for n in range(5, 11):
            ref = _dup_ratio(words, n)
            assert many[n] == pytest.approx(ref, abs=1e-12)
            assert dup_ngram_char_ratio(TextStats(text), n) == pytest.approx(ref, abs=1e-12)


@pytest.mark.parametrize(
    "text",
    ["", "one", "a b", "a a", "a " * 50, "ab " * 40 + "c", " ".join(map(str, range(300))),
     "x y " * 30 + "x y z " * 30, "long-word tiny " * 12 + "tiny long-word " * 12, "Σ ½ 1 _ . " * 20],
)
def test_ngram_statistics_edge_cases_equal_brute_force(text: str) -> None:
    """Empty text, one word, no repeats, all repeats, ties between equally frequent n-grams."""
    words = text.split()
    for n in (2, 3, 4):
        assert top_ngram_char_ratio(TextStats(text), n) == pytest.approx(_top_ratio(words, n), abs=1e-12)
    many = dup_ngram_char_ratios(TextStats(text), range(5, 11))
    for n in range(5, 11):
        assert many[n] == pytest.approx(_dup_ratio(words, n), abs=1e-12)
        assert dup_ngram_char_ratio(TextStats(text), n) == pytest.approx(_dup_ratio(words, n), abs=1e-12)


def test_non_alpha_words_line_regex_equals_a_search_per_word() -> None:
    """One regex over the distinct words (one per line) counts what a search per word counts, on fuzzed
    text with Unicode letters, digits, numerics, combining marks and every kind of whitespace."""
    rng = random.Random(1)
    alphabet = [*"ab1_-.,½٣中éÉ'\"!?#ßΣ \n\t\x00\x1c", "\u0301", "\u00a0", "\u2028", "\u3000"]
    for _ in range(20_000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        words = TextStats(text).words
        assert TextStats(text).non_alpha_words == sum(1 for w in words if not re.search(r"[^\W\d_]", w))
        assert TextStats(text).non_alpha_words == non_alpha_words_reference(TextStats(text))


def test_code_character_counts_ascii_path_equals_the_regexes() -> None:
    from curation.stages.quality.code import _NOT_ALNUM_RE, _NUMERIC_LINE_RE, _TOKEN_RE, _char_counts

    rng = random.Random(0)
    alphabet = [*"ab_09.xX-+eEuLf ,;()[]{}\t\n\r\x0b\x0c\x1c\x1f\x00", "é", "\u2028"]
    for _ in range(20_000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
        tokens = _TOKEN_RE.findall(text)
        numeric = len(_NUMERIC_LINE_RE.findall("\n".join(tokens)))
        assert _char_counts(text) == (len(tokens), numeric, len(_NOT_ALNUM_RE.sub("", text)))


def test_c4_line_prechecks_and_line_kind_tests_change_nothing() -> None:
    """clean_lines' whole-text pre-checks (javascript/policy, also across cut citations) and line_kind's
    first-character tests give the per-line rules' results on fuzzed pages."""
    from curation.stages.quality.c4 import _CITATION_RE, clean_lines
    from curation.stages.quality.rules import C4Rules
    from curation.stages.quality.view import _FIELD_RE, _PROMPT_RE, line_kind

    rules = C4Rules()
    frags = ["java[1]script", "JavaScript", "Terms of Use", "privacy[edit] policy", "[citation needed]", "[",
             "]", "\n", " ", "word", "$ ls", ">>> x", "Key: v", "a | b", "{}", "ΑΣ", "İ", "uses cookies"]
    rng = random.Random(0)
    for _ in range(5000):
        text = "".join(rng.choice(frags) for _ in range(rng.randint(0, 12)))
        removed = []
        for raw in text.split("\n"):
            line = raw.strip()
            if line and "[" in line:
                line = _CITATION_RE.sub("", line).strip()
            low = line.lower()
            if line and "javascript" in low:
                removed.append("javascript")
            elif line and any(p in low for p in rules.policy_substrings):
                removed.append("policy")
        got = clean_lines(text, rules, "en").removed_by
        assert (got["javascript"], got["policy"]) == (removed.count("javascript"), removed.count("policy"))
        line = text.strip()
        if line:
            assert (line_kind(line) == "code") >= bool(_PROMPT_RE.match(line))
            if _FIELD_RE.match(line) and not _PROMPT_RE.match(line):
                assert line_kind(line) == "table"


def test_sentence_end_regex_equals_the_two_branch_form() -> None:
    from curation.stages.quality.segment import _SENTENCE_END_RE, SPACED_TERMINALS, UNSPACED_TERMINALS

    plain = re.compile(
        f"(?:[{re.escape(SPACED_TERMINALS)}]+[\"'”’»)\\]]*(?=\\s|$))|(?:[{UNSPACED_TERMINALS}]+[\"'”’」』）»)\\]]*)"
    )
    rng = random.Random(0)
    alphabet = list(".!?…。！？।؟\"'”)」]» \nab")
    for _ in range(20_000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 20)))
        assert _SENTENCE_END_RE.findall(text) == plain.findall(text)


def test_code_comment_regex_equals_the_five_branch_form() -> None:
    from curation.stages.langid.detect import _COMMENT_RE

    plain = re.compile(
        r"""(?<![:'"\w])//[^\n]*|/\*(?:[^*]|\*(?!/))*(?:\*/|\Z)|(?<![\w'"$])\#[^\n]*"""
        r'''|"""(?:[^"]|"(?!""))*(?:"""|\Z)|\'\'\'(?:[^']|'(?!''))*(?:\'\'\'|\Z)'''
    )
    rng = random.Random(0)
    alphabet = list("/*#\"'\n a:$_")
    for _ in range(30_000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 24)))
        assert [m.span() for m in _COMMENT_RE.finditer(text)] == [m.span() for m in plain.finditer(text)]


@pytest.mark.parametrize("size", [1, 2, 300, 512, 513, 5000])
def test_members_and_runs_equal_numpy_set_operations(size: int) -> None:
    """_members (plain binary search, and the low-bits table above _FILTER_MIN) is np.isin; _runs is
    np.unique's counts; values sharing their low 16 bits with members but not members are ruled out."""
    from curation.stages.quality.textstats import _FILTER_MIN, _members, _runs

    rng = np.random.default_rng(size)
    h = rng.integers(0, 2**63, size, dtype=np.int64).view(np.uint64)
    h[::3] = h[0]
    values = np.unique(np.concatenate((h[: max(1, size // 7)], rng.integers(0, 2**63, 5).view(np.uint64))))
    # decoys: the low 16 bits of a member, other high bits (pass the table, fail the search)
    decoys = (values[:3] ^ np.uint64(1 << 40)) if size > _FILTER_MIN else values[:0]
    h = np.concatenate((h, decoys))
    assert (_members(h, values) == np.isin(h, values)).all()
    s = np.sort(h)
    starts, counts = _runs(s)
    uniq, first, ucounts = np.unique(s, return_index=True, return_counts=True)
    assert (starts == first).all() and (counts == ucounts).all() and (s[starts] == uniq).all()


@pytest.mark.parametrize("seed", range(3))
def test_long_texts_ngram_statistics_equal_brute_force(seed: int) -> None:
    """Texts of 600-3000 words (the table-filtered membership path of _members) against brute force."""
    rng = random.Random(seed)
    vocab = [f"w{i}" for i in range(rng.choice([5, 40, 400]))]
    words = [rng.choice(vocab) for _ in range(rng.randint(600, 3000))]
    block = words[100:160]
    words[700:760] = block  # a long repeated passage
    text = " ".join(words)
    for n in (2, 3, 4):
        assert top_ngram_char_ratio(TextStats(text), n) == pytest.approx(_top_ratio(words, n), abs=1e-12)
    many = dup_ngram_char_ratios(TextStats(text), range(5, 11))
    for n in range(5, 11):
        assert many[n] == pytest.approx(_dup_ratio(words, n), abs=1e-12)
        assert dup_ngram_char_ratio(TextStats(text), n) == pytest.approx(_dup_ratio(words, n), abs=1e-12)


def test_ngram_hashes_in_any_order_equal_the_recursive_definition() -> None:
    """h_1 = (id + 1) * MIX, h_n = h_{n-1}[:-1] * MUL + h_1[n-1:], whatever lengths were asked for first."""
    from curation.stages.quality.textstats import _MIX, _MUL

    text = " ".join(random.Random(9).choice(["a", "b", "c", "d"]) for _ in range(40))
    ids = TextStats(text).word_ids
    want = {1: (ids + np.uint64(1)) * _MIX}
    for n in range(2, 45):
        want[n] = want[n - 1][:-1] * _MUL + want[1][n - 1 :] if n <= 40 else np.zeros(0, dtype=np.uint64)
    for order in ([1, 2, 10], [10, 1, 3], [7, 5, 44, 41, 40], [3]):
        stats = TextStats(text)
        for n in order:
            assert stats.ngram_hashes(n).tolist() == want[n].tolist()
        for n in range(1, 45):
            assert stats.ngram_hashes(n).tolist() == want[n].tolist()
