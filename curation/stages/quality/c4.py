"""C4 line-level cleaning and document signals (Raffel et al. 2020, "Exploring the Limits of Transfer
Learning with a Unified Text-to-Text Transformer", Sec. 2.2; TFDS ``c4_utils``).

Line rules (each switchable in rules/quality/c4.yaml) remove lines that mention JavaScript, cookie/policy
boilerplate, lines with too few words (navigation, buttons) or an absurdly long word, and optionally lines
without terminal punctuation; Wikipedia-style citation markers are removed inside lines. Blank lines
between kept lines are preserved so paragraphs survive. The document rules (fewer than N sentences,
"lorem ipsum", a curly bracket) are decided from the signals of the cleaned text.

Threshold variant: we use the paper's (lines need >= 5 words, pages >= 3 sentences); datatrove's
``C4QualityFilter`` swaps them (3 words per line, 5 sentences). Following FineWeb (Penedo et al. 2024) the
terminal-punctuation line rule is off by default (it removes a large share of good text).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from curation.document import SignalValue
from curation.stages.quality.rules import C4Rules
from curation.stages.quality.segment import count_sentences, tokenize

_CITATION_RE = re.compile(r"\[\d*\]|\[edit\]|\[citation needed\]", re.IGNORECASE)
_ELLIPSIS = ("...", "…")
_MULTI_BLANK_RE = re.compile(r"\n{3,}")


@lru_cache(maxsize=8)
def _long_word_re(max_len: int) -> re.Pattern[str]:
    return re.compile(rf"\S{{{max_len + 1}}}")


@dataclass(frozen=True)
class CleanResult:
    text: str
    lines_removed: int
    removed_by: dict[str, int]


def clean_lines(text: str, rules: C4Rules, lang: str | None = None) -> CleanResult:
    """Apply the C4 line rules to ``text`` (linear: one pass over the lines).

    Fidelity to TFDS ``c4_utils.clean_page``: with ``remove_no_terminal_punct`` a line must end in
    ``. ? ! "`` and a line ending in an ellipsis is removed (``not line.endswith(_END_MARKS) or
    line.endswith(_ELLIPSIS)``); citations ``[1]``, ``[]``, ``[edit]`` are cut. Words per line are
    counted with the script-aware tokenizer. The policy substrings are English, so policy lines are
    removed only for ``policy_languages``.
    """
    removed = {"javascript": 0, "policy": 0, "short": 0, "long_word": 0, "no_terminal_punct": 0}
    if not rules.clean_lines:
        return CleanResult(text, 0, removed)
    ends = tuple(rules.terminal_punctuation)
    policies = tuple(rules.policy_substrings) if lang in rules.policy_languages else ()
    if not _may_remove(text, rules, policies):  # no line rule can fire: only normalise blank lines
        kept = "\n".join(ln.rstrip() if ln.strip() else "" for ln in text.split("\n"))
        return CleanResult(_MULTI_BLANK_RE.sub("\n\n", kept).strip("\n"), 0, removed)
    # Whole-text pre-checks: a line can mention "javascript" or a policy only if the (citation-cut)
    # text does (citations never span lines), so the per-line lower-casing runs only when one can.
    cut = _CITATION_RE.sub("", text) if rules.remove_citations and "[" in text else text
    low_all = cut.lower() if rules.remove_javascript_lines or (rules.remove_policy_lines and policies) else ""
    js = rules.remove_javascript_lines and "javascript" in low_all
    pol = rules.remove_policy_lines and any(p in low_all for p in policies)
    out: list[str] = []
    for raw in text.split("\n"):
        line = raw.strip()
        if not line:
            out.append("")
            continue
        if rules.remove_citations and "[" in line:
            line = _CITATION_RE.sub("", line).strip()
            raw = line
        low = line.lower() if js or pol else ""
        reason = None
        if js and "javascript" in low:
            reason = "javascript"
        elif pol and any(p in low for p in policies):
            reason = "policy"
        elif rules.min_words_per_line and _words_below(line, rules.min_words_per_line):
            reason = "short"
        elif len(line) > rules.max_word_length and _long_word_re(rules.max_word_length).search(line):
            reason = "long_word"
        elif rules.remove_no_terminal_punct and (not line.endswith(ends) or line.endswith(_ELLIPSIS)):
            reason = "no_terminal_punct"
        if reason is None:
            out.append(raw.rstrip())
        else:
            removed[reason] += 1
    cleaned = _MULTI_BLANK_RE.sub("\n\n", "\n".join(out)).strip("\n")
    return CleanResult(cleaned, sum(removed.values()), removed)


def _may_remove(text: str, rules: C4Rules, policies: tuple[str, ...]) -> bool:
    """Whether any line rule could fire on ``text`` (whole-text checks, C-level)."""
    if rules.min_words_per_line or rules.remove_no_terminal_punct:
        return True
    if rules.remove_citations and "[" in text:
        return True
    if rules.remove_javascript_lines or (rules.remove_policy_lines and policies):
        low = text.lower()
        if rules.remove_javascript_lines and "javascript" in low:
            return True
        if rules.remove_policy_lines and any(p in low for p in policies):
            return True
    return len(text) > rules.max_word_length and _long_word_re(rules.max_word_length).search(text) is not None


def _words_below(line: str, n: int) -> bool:
    if line.isascii():
        return len(line.split(None, n)) < n
    return len(tokenize(line)) < n


def c4_signals(
    text: str, clean: CleanResult, original_chars: int, judged: str | None = None
) -> dict[str, SignalValue]:
    """Document signals plus what the line cleaning removed.

    ``judged`` is the text the document rules look at (the prose view with ``scope: prose``; default the
    cleaned ``text``); "lorem ipsum" is searched in the whole cleaned text either way. Sentences end at
    terminal punctuation of any script (:func:`~curation.stages.quality.segment.count_sentences`).
    """
    judged = text if judged is None else judged
    sig: dict[str, SignalValue] = {
        "sentence_count": count_sentences(judged),
        "has_lorem_ipsum": "lorem ipsum" in text.lower(),
        "has_curly_bracket": "{" in judged,
        "lines_removed": clean.lines_removed,
        "chars_removed": max(0, original_chars - len(text)),
    }
    for k, v in clean.removed_by.items():
        sig[f"lines_removed_{k}"] = v
    return sig
