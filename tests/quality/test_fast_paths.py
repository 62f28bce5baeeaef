"""Fast paths of the quality stage give the results of the plain implementations they replaced
(kept here verbatim as references), on fuzzed edge cases."""

from __future__ import annotations

import dataclasses
import random
import re

import pytest

from curation.stages.quality.c4 import _CITATION_RE, _ELLIPSIS, _words_below, clean_lines, has_long_word
from curation.stages.quality.rules import C4Rules, QualityRules


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


def _decide_reference(signals: dict, rules: QualityRules, source_kind: str) -> tuple[str, ...]:
    """decide() as it was: thresholds looked up per document, soft-family names rebuilt per call."""
    from curation.stages.quality.decide import _fails, reason_key, signal_key

    reasons: list[str] = []
    lr = rules.languages
    lang = signals.get("quality.lang")
    lang = lang if isinstance(lang, str) else None
    for set_name in rules.sets_for(source_kind):
        rs = rules.rule_set(set_name)
        per_language = getattr(rs, "PER_LANGUAGE", frozenset()) if lr.enabled else frozenset()
        for key, (sig, op) in rs.CHECKS.items():
            threshold = lr.threshold(lang, set_name, key) if key in per_language else getattr(rs, key)
            if threshold is None or threshold is False:
                continue
            value = signals.get(signal_key(set_name, sig))
            if value is not None and _fails(value, threshold, op):
                reasons.append(reason_key(set_name, key))
    soft = rules.soft
    if not soft.families:
        return tuple(reasons)
    names = {reason_key(*r.split(".", 1)): fam for fam, rs in soft.families.items() for r in rs}
    hard = [r for r in reasons if r not in names]
    weak = [r for r in reasons if r in names]
    if not weak:
        return tuple(hard)
    score = signals.get("quality.classifier.score")
    judged = soft.classifier_min_score is not None and lang in soft.classifier_languages
    if judged and isinstance(score, float) and soft.classifier_min_score is not None:
        return tuple(hard + weak) if score < soft.classifier_min_score else tuple(hard)
    if len({names[r] for r in weak}) >= soft.min_failures:
        return tuple(hard + weak)
    return tuple(hard)


def test_planned_decisions_equal_the_per_document_form() -> None:
    """decide() and the processor's per-(kind, language) plans give the old reasons, in the old order, on
    random signals around every threshold (default, published and hard-only rules; calibrated, uncalibrated
    and missing languages; scores on both sides of the tie-breaker)."""
    from pathlib import Path

    from curation.stages.quality import decide, load_stage_rules
    from curation.stages.quality.decide import decide_planned, decision_plan, signal_key

    root = Path(__file__).resolve().parents[2] / "rules" / "quality"
    default = load_stage_rules(root / "quality.yaml")
    variants = [default, dataclasses.replace(default, soft=dataclasses.replace(default.soft, families={}))]
    published = root / "published" / "quality.yaml"
    if published.is_file():
        variants.append(load_stage_rules(published))
    rng = random.Random(4)
    for rules in variants:
        for kind in ("web", "book", "code", "conversation"):
            sets = rules.sets_for(kind)
            keys = [(name, sig) for name in sets for sig, _ in rules.rule_set(name).CHECKS.values()]
            for _ in range(400):
                lang = rng.choice(["en", "de", "fa", "und", "xx", None, 3])
                signals: dict = {} if lang is None else {"quality.lang": lang}
                for name, sig in keys:
                    roll = rng.random()
                    if roll < 0.15:
                        continue
                    values = [True, False] if roll < 0.3 else [0, 1, 2, 5, 50, 1e6, 0.0, 0.1, 0.5]
                    signals[signal_key(name, sig)] = rng.choice(values)
                signals["quality.classifier.score"] = rng.choice([0.2, 0.5, 0.9, None, "x"])
                want = _decide_reference(signals, rules, kind)
                assert decide(signals, rules, kind) == want
                plan_lang = lang if isinstance(lang, str) else None
                plan = decision_plan(rules, kind, plan_lang)
                assert decide_planned(signals, plan, rules, plan_lang) == want


def test_mojibake_count_equals_the_regex() -> None:
    from curation.stages.quality.prose import _MOJIBAKE_RE, mojibake_count

    rng = random.Random(5)
    alphabet = [*"ab \n", "Ã", "©", "â", "€", "™", "é", "\u00c2", "\u0080"]
    for _ in range(5_000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
        assert mojibake_count(text) == len(_MOJIBAKE_RE.findall(text))


def test_lower_casing_neither_makes_nor_removes_whitespace() -> None:
    """What conversation_signals relies on to split each turn once: on every code point, ``lower()`` of a
    whitespace character is itself and of any other character holds no whitespace."""
    import sys

    for cp in range(sys.maxunicode + 1):
        c = chr(cp)
        low = c.lower()
        if c.isspace():
            assert low == c
        elif low != c:
            assert not any(ch.isspace() for ch in low), hex(cp)


def test_conversation_signals_equal_the_three_split_form() -> None:
    """conversation_signals as it was (normalise, tokenize, split again per turn) on fuzzed turns."""
    from curation.document import Document
    from curation.stages.quality.code import conversation_signals, conversation_turns
    from curation.stages.quality.segment import tokenize
    from curation.stages.quality.textstats import ratio

    def reference(doc: Document, min_repeat_words: int) -> dict:
        turns = conversation_turns(doc)
        contents = [" ".join(c.split()).lower() for _, c in turns]
        n = len(turns)
        empty = sum(1 for c in contents if not c)
        seen: set[str] = set()
        repeated = 0
        for c in contents:
            if not c or len(tokenize(c)) < min_repeat_words:
                continue
            if c in seen:
                repeated += 1
            seen.add(c)
        words = sum(len(c.split()) for c in contents)
        return {
            "turns": n, "speakers": len({r for r, _ in turns if r}), "empty_turn_ratio": ratio(empty, n),
            "repeated_turn_ratio": ratio(repeated, n - empty),
            "max_turn_chars": max((len(c) for _, c in turns), default=0), "mean_turn_words": ratio(words, n),
        }

    rng = random.Random(6)
    alphabet = [*"aB b. \n\t", "\u00a0", "\u3000", "中文", "İ", "ΣΑ", "ok", "hi there"]
    for _ in range(3_000):
        contents = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 10))) for _ in range(6)]
        msgs = tuple((rng.choice(["user", "bot", ""]), c) for c in contents[: rng.randint(1, 6)])
        doc = Document(id="c", source_kind="conversation", source="s", text="", messages=msgs)
        for k in (1, 2, 4):
            assert conversation_signals(doc, k) == reference(doc, k)


def _prose_view_reference(text: str, min_words: int = 5, code_symbol_ratio: float = 0.08) -> tuple:
    """prose_view as it was: line_kind (its own regex count and every test) per line."""
    from curation.stages.quality.view import _MULTI_BLANK_RE, line_kind

    counts = {"prose": 0, "code": 0, "table": 0, "link": 0, "label": 0}
    out: list[str] = []
    for raw in text.split("\n"):
        line = raw.strip()
        if not line:
            out.append("")
            continue
        kind = line_kind(line, min_words, code_symbol_ratio)
        counts[kind] += 1
        if kind == "prose":
            out.append(line)
        elif out and out[-1]:
            out.append("")
    return _MULTI_BLANK_RE.sub("\n\n", "\n".join(out)).strip("\n"), counts


_VIEW_FRAGS = ["word ", "Word: ", "a b c d e f", "\n", "\n\n", "\t", " | ", "http://x.y/z ", "www.a.b",
               "{x}", "f(a);", "$ ls", ">>> 1", "中文字", "ÉTÉ été", "\u3000", "\u00a0", "\x1c", "#", "_",
               "é", "\ud800", "...", "%", "`"]


def test_prose_view_whole_text_facts_equal_the_per_line_tests() -> None:
    """The whole-text pre-computations of prose_view (code characters from UTF-8 bytes, tab/URL/unspaced
    facts) give the per-line line_kind view; code_char_counts is the regex count of each line."""
    from curation.stages.quality.view import _CODE_CHARS, code_char_counts, prose_view

    rng = random.Random(7)
    for _ in range(5_000):
        text = "".join(rng.choice(_VIEW_FRAGS) for _ in range(rng.randint(0, 40)))
        assert code_char_counts(text) == [len(_CODE_CHARS.findall(ln)) for ln in text.split("\n")]
        for words, ratio_ in ((5, 0.08), (2, 0.3)):
            pv = prose_view(text, words, ratio_)
            want_text, want = _prose_view_reference(text, words, ratio_)
            assert pv.text == want_text
            got = {"prose": pv.prose_lines, "code": pv.code_lines, "table": pv.table_lines,
                   "link": pv.link_lines, "label": pv.label_lines}
            assert got == want and pv.lines == sum(want.values())
