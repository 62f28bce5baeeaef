"""The one-pass line windows and the group lookup of code windows give the spans of the plain versions."""

from __future__ import annotations

import gzip
import json
import random
import re

import pytest

from curation.rules import REPO_ROOT
from curation.stages.toxicity import windows as W
from tests.conftest import SHARED_DEV

_LINE_RE = re.compile(r"[^\n]+")
_GROUPS = ("tqb", "tsb", "dq", "sq", "lc", "bc", "hc")
# the previous code regex: triple quotes inside an enclosing group (no first-character set for the engine)
_OLD_STRINGS = (
    r"(?P<tq>\"\"\"(?P<tqb>.*?)\"\"\"|'''(?P<tsb>.*?)''')"
    r"|\"(?P<dq>(?:[^\"\\\n]|\\.)*)\"|'(?P<sq>(?:[^'\\\n]|\\.){2,})'"
)
_OLD_CODE_RE = {
    "hash": re.compile(_OLD_STRINGS + W._HASH, re.DOTALL),
    "slash": re.compile(_OLD_STRINGS + W._SLASH, re.DOTALL),
    "both": re.compile(_OLD_STRINGS + W._SLASH + W._HASH, re.DOTALL),
}


def _old_lines(
    text: str, max_chars: int, start: int = 0, end: int | None = None, merge: int = 80
) -> list[W.Span]:
    """The previous line mode: every line, long ones cut into sentences, then each span stripped."""
    end = len(text) if end is None else end
    out: list[W.Span] = []
    for line in _LINE_RE.finditer(text, start, end):
        if line.end() - line.start() <= max_chars:
            out.append((line.start(), line.end()))
        else:
            out.extend(W._sentences(text, line.start(), line.end(), max_chars, merge))
    stripped = (W._strip(text, s) for s in out)
    return [s for s in stripped if s[1] > s[0]]


def _old_code(text: str, language: str | None, max_chars: int) -> list[W.Span]:
    lang = (language or "").lower()
    style = "hash" if lang in W._HASH_LANGS else "slash" if lang in W._SLASH_LANGS else "both"
    out: list[W.Span] = []
    for m in _OLD_CODE_RE[style].finditer(text):
        for g in _GROUPS:
            s = m.start(g) if g in m.re.groupindex else -1
            if s >= 0:
                out.extend(_old_lines(text, max_chars, s, m.end(g), merge=0))
                break
    return out


SAMPLES = [
    "",
    "\n\n\n",
    "   \t  ",
    "one line",
    "  first line \n\nsecond line\n",
    "crlf line\r\nnext\r\n\r\n last \u00a0\u2003",
    "\u2028separator inside\u2028 a line\n\u3000wide space\u3000",
    "x" * 1000 + "\n" + "word " * 300 + "\n" + "Sentence one. Sentence two! " * 40,
    'print("hello")  # a comment\n/* block\n comment */ x = \'ab\' // tail\n'
    '"""doc\nstring""" \'\'\'single\'\'\'',
    "s = ''\nt = \"\"\n# \n//\n/**/",
]


def _repo_texts() -> list[tuple[str, str | None]]:
    files = sorted((REPO_ROOT / "curation").rglob("*.py"))[:60] + sorted((REPO_ROOT / "docs").glob("*.md"))
    return [(p.read_text(encoding="utf-8"), "python" if p.suffix == ".py" else None) for p in files]


@pytest.mark.parametrize("max_chars", [40, 400])
def test_line_windows_equal_the_plain_version(max_chars: int) -> None:
    for text in SAMPLES + [t for t, _ in _repo_texts()]:
        assert W.prose_windows(text, max_chars, unit="line", merge_chars=80) == _old_lines(text, max_chars)
        mid = len(text) // 3
        got = W.prose_windows(text, max_chars, unit="line", start=mid, end=2 * mid, merge_chars=80)
        assert got == _old_lines(text, max_chars, mid, 2 * mid)


@pytest.mark.parametrize("language", ["python", "go", None])
def test_code_windows_equal_the_plain_version(language: str | None) -> None:
    for text in SAMPLES + [t for t, _ in _repo_texts()]:
        assert W.code_windows(text, language, 400) == _old_code(text, language, 400)


def test_repo_texts_are_read() -> None:
    assert len(_repo_texts()) > 20


@pytest.mark.parametrize(
    "text", ["", " ", "a b\tc\n\x0b\x0c\r\x1c\x1d\x1e\x1f d", "é \u00a0x\u3000y\u2028", "plain", "\x85a"]
)
def test_nonspace_chars_equal_the_split_count(text: str) -> None:
    from curation.stages.toxicity.scoring import nonspace_chars

    assert nonspace_chars(text) == sum(map(len, text.split()))
    assert nonspace_chars(text * 50) == sum(map(len, (text * 50).split()))


def test_code_regex_matches_equal_the_previous_regex() -> None:
    """Random texts over the characters the alternatives start and end with: same match spans and bodies."""
    rng = random.Random(21)
    alphabet = ['"', "'", "/", "*", "#", "\\", "\n", " ", "a", "b", '"""', "'''", "//", "/*", "*/"]
    for _ in range(3000):
        text = "".join(rng.choices(alphabet, k=rng.randrange(30)))
        for style, new in W._CODE_RE.items():
            old = [(m.span(), m.span(g)) for m in _OLD_CODE_RE[style].finditer(text)
                   for g in _GROUPS if g in m.re.groupindex and m.start(g) >= 0]
            got = [(m.span(), m.span(m.lastgroup)) for m in new.finditer(text)]
            assert got == old, (style, text)


@pytest.mark.skipif(not (SHARED_DEV / "corpus").is_dir(), reason="dev corpus absent")
def test_dev_corpus_code_windows_equal_the_plain_version() -> None:
    with gzip.open(SHARED_DEV / "corpus" / "code.jsonl.gz", "rt", encoding="utf-8") as fh:
        docs = [json.loads(line) for line in fh if line.strip()]
    assert len(docs) > 100
    for d in docs:
        for language in {(d.get("language") or "").lower() or None, "python", "go", None}:
            assert W.code_windows(d["text"], language, 400) == _old_code(d["text"], language, 400)


def test_short_bodies_are_stripped_as_strip_does() -> None:
    """The inline one-line case of code_windows: str.strip's whitespace is str.isspace's."""
    spaces = [chr(c) for c in range(0x110000) if chr(c).isspace()]
    for c in [*spaces, "\u200b", "\ufeff", "a"]:
        text = f'x = "{c}{c}ab{c}c{c}" # {c}hi{c}'
        assert W.code_windows(text, "python", 400) == _old_code(text, "python", 400), repr(c)
    assert "".join(spaces).strip() == ""  # every isspace character is stripped
    assert all(chr(c).strip() for c in range(0x110000) if not chr(c).isspace())  # and no other


_OLD_SENTENCE_END_RE = re.compile(r"[.!?…。！？]+[\"'”’)\]]*\s+")


def test_sentence_ends_equal_the_previous_regex() -> None:
    rng = random.Random(11)
    alphabet = [*".!?…。！？", '"', "'", "”", "’", ")", "]", " ", "\n", "\u3000", "a", "é"]
    for _ in range(5000):
        text = "".join(rng.choices(alphabet, k=rng.randrange(16)))
        got = [m.span() for m in W._SENTENCE_END_RE.finditer(text)]
        assert got == [m.span() for m in _OLD_SENTENCE_END_RE.finditer(text)], text
    if (SHARED_DEV / "corpus").is_dir():
        with gzip.open(SHARED_DEV / "corpus" / "book.jsonl.gz", "rt", encoding="utf-8") as fh:
            for line in fh:
                text = json.loads(line)["text"]
                got = [m.span() for m in W._SENTENCE_END_RE.finditer(text)]
                assert got == [m.span() for m in _OLD_SENTENCE_END_RE.finditer(text)]
