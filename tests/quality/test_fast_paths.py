"""Fast paths of the quality stage give the results of the plain implementations they replaced
(kept here verbatim as references), on fuzzed edge cases."""

from __future__ import annotations

import dataclasses
import random
import re

import pytest

from curation.stages.quality.c4 import _CITATION_RE, _ELLIPSIS, _words_below, clean_lines, has_long_word
from curation.stages.quality.rules import C4Rules


def _clean_lines_reference(
    text: str, rules: C4Rules, lang: str | None = None
) -> tuple[str, int, dict[str, int]]:
    """clean_lines as it was: every rule per line, the long-word rule as a regex."""
    long_word = re.compile(rf"\S{{{rules.max_word_length + 1}}}")
    removed = {"javascript": 0, "policy": 0, "short": 0, "long_word": 0, "no_terminal_punct": 0}
    if not rules.clean_lines:
        return text, 0, removed
    ends = tuple(rules.terminal_punctuation)
    policies = tuple(rules.policy_substrings) if lang in rules.policy_languages else ()
    out: list[str] = []
    for raw in text.split("\n"):
        line = raw.strip()
        if not line:
            out.append("")
            continue
        if rules.remove_citations and "[" in line:
            line = _CITATION_RE.sub("", line).strip()
            raw = line
        low = line.lower()
        reason = None
        if rules.remove_javascript_lines and "javascript" in low:
            reason = "javascript"
        elif rules.remove_policy_lines and any(p in low for p in policies):
            reason = "policy"
        elif rules.min_words_per_line and _words_below(line, rules.min_words_per_line):
            reason = "short"
        elif len(line) > rules.max_word_length and long_word.search(line):
            reason = "long_word"
        elif rules.remove_no_terminal_punct and (not line.endswith(ends) or line.endswith(_ELLIPSIS)):
            reason = "no_terminal_punct"
        if reason is None:
            out.append(raw.rstrip())
        else:
            removed[reason] += 1
    cleaned = re.sub(r"\n{3,}", "\n\n", "\n".join(out)).strip("\n")
    return cleaned, sum(removed.values()), removed


_FRAGS = ["java[1]script", "JavaScript", "Terms of Use", "privacy[edit] policy", "[citation needed]", "[",
          "]", "\n", "\n\n\n", " ", "  ", "\t", "\u00a0", "\u3000", "word", "a.", "...", "…", '"', "ΑΣ", "İ",
          "uses cookies", "x" * 7, "y" * 12, "中文", "\x1c", "\r"]


@pytest.mark.parametrize(
    "variant",
    [
        {},
        {"max_word_length": 8},
        {"max_word_length": 8, "remove_citations": False},
        {"min_words_per_line": 3},
        {"remove_no_terminal_punct": True},
        {"remove_javascript_lines": False, "remove_policy_lines": False, "max_word_length": 10},
    ],
)
def test_clean_lines_equals_the_per_line_reference(variant: dict) -> None:
    rules = dataclasses.replace(C4Rules(), **variant)
    rng = random.Random(len(variant) * 7 + rules.max_word_length)
    for _ in range(4000):
        text = "".join(rng.choice(_FRAGS) for _ in range(rng.randint(0, 16)))
        lang = rng.choice(["en", "de", None])
        got = clean_lines(text, rules, lang)
        assert (got.text, got.lines_removed, got.removed_by) == _clean_lines_reference(text, rules, lang)


def test_has_long_word_equals_the_regex() -> None:
    rng = random.Random(0)
    alphabet = ["a", "é", "中", " ", "\n", "\t", "\u00a0", "\u2028", "\x1c", "\x85", "\u3000", "\u200b", "."]
    for _ in range(20_000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
        for m in (0, 1, 3, 6):
            assert has_long_word(text, m) == (re.search(rf"\S{{{m + 1}}}", text) is not None), (text, m)


def test_multi_blank_regex_equals_the_counted_form() -> None:
    from curation.stages.quality import c4, view

    rng = random.Random(0)
    for _ in range(5000):
        text = "".join(rng.choice(["\n", "a", " ", "\n\n"]) for _ in range(rng.randint(0, 20)))
        want = re.sub(r"\n{3,}", "\n\n", text)
        assert c4._MULTI_BLANK_RE.sub("\n\n", text) == want
        assert view._MULTI_BLANK_RE.sub("\n\n", text) == want
