"""Token recounts of edited texts count only the changed segments and equal a full count."""

from __future__ import annotations

import random

import pytest

from curation.document import Document
from curation.stage import retokenize
from curation.tokens import _SEGMENT_RE, TiktokenCounter, get_counter

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
