"""Signals of the prose rule sets: Gopher quality, Gopher repetition, FineWeb and books.

* Gopher quality and repetition: Rae et al. 2021, "Scaling Language Models: Methods, Analysis & Insights
  from Training Gopher", Appendix A.1.1 and Table A1.
* FineWeb: Penedo et al. 2024, "The FineWeb Datasets", Sec. 3.5 (datatrove ``FineWebQualityFilter``).
* Books: the Gopher word statistics plus character-weighted repetition (see :class:`BookRules`).

Each ``*_signals`` function returns ``{signal name: value}`` (names without the ``quality.<set>.``
prefix); the decision is made elsewhere from these values only.
"""

from __future__ import annotations

import re
from itertools import repeat

from curation.document import SignalValue
from curation.stages.quality.rules import BookRules, FineWebRules, GopherRules
from curation.stages.quality.textstats import (
    TextStats,
    dup_ngram_char_ratio,
    dup_ngram_char_ratios,
    duplicate_stats,
    ratio,
    sentence_case_ratio,
    top_ngram_char_ratio,
    unigram_entropy,
    word_order_ratio,
)

Signals = dict[str, SignalValue]

# A UTF-8 lead byte read as Latin-1/cp1252 (U+00C2..U+00F4) followed by a continuation byte read the same
# way: "Ã©", "â€™", "ä¸­". Speer's ftfy (2019) detects mis-decoded text from such sequences. Continuation
# characters that real text puts after an accented letter are left out: letters (š ž œ Ÿ ƒ, Czech and
# French), quotes, dashes, ellipsis, NBSP, « » ° · (French spacing, Catalan l·l).
_CONTINUATION = "\u0080-\u009f\u00a1-\u00aa\u00ac-\u00af\u00b1-\u00b6\u00b8-\u00ba\u00bc-\u00bf€‚„†‡ˆ‰‹›˜™"
_MOJIBAKE_RE = re.compile(f"[\u00c2-\u00f4][{_CONTINUATION}]")


def mojibake_count(text: str) -> int:
    """Matches of ``_MOJIBAKE_RE`` in ``text``; ASCII text has none (both its characters are non-ASCII), and
    ``isascii`` is a flag check instead of a scan."""
    return 0 if text.isascii() else len(_MOJIBAKE_RE.findall(text))


def _word_signals(stats: TextStats, stop_words: frozenset[str] | None) -> Signals:
    """Word count, mean word length, alphabetic share and, given a stop-word list, stop-word counts.

    ``stop_words is None``: the document's language has no list, so no stop-word signal is written and
    the stop-word rules cannot fire (they are listed as skipped). Stop words are counted as occurrences
    (Gopher counts occurrences too; FineWeb-2's ratio is occurrences / words).
    """
    n = len(stats.words)
    out: Signals = {
        "word_count": n,
        "mean_word_length": ratio(stats.word_chars, n),
        "alpha_words_ratio": ratio(n - stats.non_alpha_words, n),
    }
    if stop_words is not None:
        hits = stats.count_words_in(stop_words)
        out["stop_words"] = hits
        out["stop_word_ratio"] = ratio(hits, n)
    return out


def gopher_signals(stats: TextStats, rules: GopherRules, stop_words: frozenset[str] | None) -> Signals:
    """Gopher quality statistics of one text.

    The symbol rule is per symbol, as published: '#' per word > 0.1 OR ellipses per word > 0.1 (not the
    sum of both); ``symbol_word_ratio`` is the larger of the two ratios, both are stored.
    """
    text = stats.text
    n_words = len(stats.words)
    hashes = text.count("#")
    ellipses = text.count("...") + text.count("…")
    lines = stats.lines
    bullets = tuple(rules.bullets)
    # C-level map chains over the lines (no Python-level generator per line): the same counts.
    n_bullet = sum(map(str.startswith, lines, repeat(bullets))) if bullets else 0
    n_ellipsis = sum(map(str.endswith, lines, repeat(("...", "…"))))
    return {
        **_word_signals(stats, stop_words),
        "hash_word_ratio": _per_word(hashes, n_words),
        "ellipsis_word_ratio": _per_word(ellipses, n_words),
        "symbol_word_ratio": max(_per_word(hashes, n_words), _per_word(ellipses, n_words)),
        "mojibake_ratio": _per_word(mojibake_count(text), n_words),
        "bullet_lines_ratio": ratio(n_bullet, len(lines)),
        "ellipsis_lines_ratio": ratio(n_ellipsis, len(lines)),
    }


def _per_word(count: int, n_words: int) -> float:
    return ratio(count, n_words) if n_words else (1.0 if count else 0.0)


def repetition_signals(stats: TextStats) -> Signals:
    """Gopher repetition statistics: duplicate lines/paragraphs and repeated n-grams."""
    lines, paras = stats.lines, stats.paragraphs
    total_chars = max(1, len(stats.text))
    dup_lines, dup_line_chars = duplicate_stats(lines)
    dup_paras, dup_para_chars = duplicate_stats(paras)
    out: Signals = {
        "dup_line_ratio": ratio(dup_lines, len(lines)),
        "dup_paragraph_ratio": ratio(dup_paras, len(paras)),
        "dup_line_char_ratio": ratio(dup_line_chars, total_chars),
        "dup_paragraph_char_ratio": ratio(dup_para_chars, total_chars),
    }
    for n in (2, 3, 4):
        out[f"top_{n}gram_char_ratio"] = round(top_ngram_char_ratio(stats, n), 6)
    for n, value in dup_ngram_char_ratios(stats, range(5, 11)).items():
        out[f"dup_{n}gram_char_ratio"] = round(value, 6)
    out["unigram_entropy"] = round(unigram_entropy(stats), 6)
    order = word_order_ratio(stats)
    if order is not None:
        out["word_order_ratio"] = round(order, 6)
    case = sentence_case_ratio(stats)
    if case is not None:
        out["sentence_case_ratio"] = round(case, 6)
    return out


def fineweb_signals(stats: TextStats, rules: FineWebRules) -> Signals:
    """FineWeb statistics: terminal punctuation, short lines, duplicated-line characters, list-likeness."""
    lines = stats.lines
    ends = tuple(rules.terminal_punctuation)
    n_punct = sum(map(str.endswith, lines, repeat(ends))) if ends else 0
    n_short = sum(map(rules.short_line_length.__ge__, map(len, lines)))
    _, dup_chars = duplicate_stats(lines)
    non_nl_chars = len(stats.text) - stats.text.count("\n")
    n_words = len(stats.words)
    newlines = stats.text.count("\n")
    return {
        "line_punct_ratio": ratio(n_punct, len(lines)),
        "short_line_ratio": ratio(n_short, len(lines)),
        "char_dup_ratio": ratio(dup_chars, non_nl_chars),
        "newline_word_ratio": ratio(newlines, n_words) if n_words else float(newlines > 0),
    }


def book_signals(stats: TextStats, rules: BookRules, stop_words: frozenset[str] | None) -> Signals:
    """Long-prose statistics: Gopher word statistics and character-weighted repetition."""
    _, dup_para_chars = duplicate_stats(stats.paragraphs)
    return {
        **_word_signals(stats, stop_words),
        "dup_paragraph_char_ratio": ratio(dup_para_chars, max(1, len(stats.text))),
        "dup_10gram_char_ratio": round(dup_ngram_char_ratio(stats, 10), 6),
    }
