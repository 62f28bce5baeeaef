"""Each quality rule firing and not firing, from the pure signal functions through decide()."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from curation.document import Document, Reject
from curation.rules import ConfigError
from curation.stages.quality import QualityProcessor, decide, load_stage_rules, score_document
from curation.stages.quality.rules import QualityRules, SoftRules
from tests.quality.helpers import doc, prose

REPO = Path(__file__).resolve().parents[2]
DEFAULT = load_stage_rules(REPO / "rules" / "quality" / "quality.yaml")
# Rule mechanics are tested with every rule hard (no soft combination); defaults in test_multilingual.py.
RULES = dataclasses.replace(DEFAULT, soft=SoftRules(families={}))
PUBLISHED = load_stage_rules(REPO / "rules" / "quality" / "published" / "quality.yaml")
# the published sets without C4's terminal-punctuation line filter (FineWeb's choice), to test other rules
PUB_LINES = dataclasses.replace(
    PUBLISHED, c4=dataclasses.replace(PUBLISHED.c4, remove_no_terminal_punct=False)
)
EN_STOP = RULES.languages.stop_word_lists["en"]


def reasons_of(d: Document, rules: QualityRules = RULES) -> tuple[str, ...]:
    _, signals = score_document(d, rules)
    return decide(signals, rules, d.source_kind)


def test_clean_prose_passes_every_web_rule() -> None:
    assert reasons_of(doc(prose(3))) == ()


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("the cat and the dog " * 5, "quality:gopher.min_words"),
        (
            " ".join(["the", "of", "and", *["supercalifragilistic"] * 60]) + ".",
            "quality:gopher.max_mean_word_length",
        ),
        (
            " ".join(w for w in prose(1).split() if w.lower().strip(",.") not in EN_STOP),
            "quality:gopher.min_stop_word_ratio",
        ),
        (prose(1) + " " + " ".join(["123", "456", "!!!"] * 40), "quality:gopher.min_alpha_words_ratio"),
    ],
)
def test_gopher_rules_fire(text: str, reason: str) -> None:
    assert reason in reasons_of(doc(text, lang="en"))


def test_gopher_symbol_ratio_is_per_symbol() -> None:
    text = prose(1) + " " + "# " * 40
    assert "quality:gopher.max_symbol_word_ratio" in reasons_of(doc(text), PUB_LINES)
    # 6 '#' and 6 ellipses in ~80 words: each ratio < 0.1, their sum > 0.1 -> kept (Gopher: per symbol)
    words = prose(2).split()[:80]
    mixed = " ".join(
        w + (" #" if i % 13 == 0 else "") + (" ..." if i % 13 == 6 else "") for i, w in enumerate(words)
    )
    _, sig = score_document(doc(mixed), PUB_LINES)
    assert sig["quality.gopher.hash_word_ratio"] < 0.1 and sig["quality.gopher.ellipsis_word_ratio"] < 0.1
    assert sig["quality.gopher.hash_word_ratio"] + sig["quality.gopher.ellipsis_word_ratio"] > 0.1
    assert "quality:gopher.max_symbol_word_ratio" not in reasons_of(doc(mixed), PUB_LINES)


def test_gopher_bullet_and_ellipsis_lines() -> None:
    lines = [f"- item number {i} of the list with some words and the rest" for i in range(20)]
    assert "quality:gopher.max_bullet_lines_ratio" in reasons_of(doc("\n".join(lines)))
    lines = [f"this line {i} of the text trails off and the rest..." for i in range(20)]
    assert "quality:gopher.max_ellipsis_lines_ratio" in reasons_of(doc("\n".join(lines)))


def test_repetition_rules_fire_on_repeated_paragraphs_not_on_distinct_ones() -> None:
    p = prose(1)
    repeated = "\n\n".join([p] * 4)
    r = reasons_of(doc(repeated))
    assert "quality:repetition.max_dup_paragraph_ratio" in r
    assert "quality:repetition.max_dup_10gram_char_ratio" in r
    assert not [x for x in reasons_of(doc(prose(4))) if x.startswith("quality:repetition")]


def test_top_ngram_rule() -> None:
    text = prose(1) + " " + " ".join(["big sale"] * 60)
    assert "quality:repetition.max_top_2gram_char_ratio" in reasons_of(doc(text))


def test_c4_line_cleaning_changes_text_and_records_signals() -> None:
    text = (
        "Please enable JavaScript to use this site.\nHome | About\n"
        + prose(2)
        + ("\nThis site uses cookies, see our privacy policy for the details of it.")
    )
    out = QualityProcessor(PUB_LINES, None).process(doc(text, lang="en"))
    assert isinstance(out, Document)
    assert "JavaScript" not in out.text and "Home | About" not in out.text and "cookies" not in out.text
    assert out.text.startswith("The committee")
    s = out.signals
    assert s["quality.c4.lines_removed_javascript"] == 1 and s["quality.c4.lines_removed_policy"] == 1
    assert s["quality.c4.lines_removed_short"] == 1 and s["quality.c4.chars_removed"] > 0


def test_c4_document_rules() -> None:
    lorem = prose(2) + "\n\nLorem ipsum dolor sit amet, consectetur."
    assert "quality:c4.lorem_ipsum" in reasons_of(doc(lorem))
    assert "quality:c4.lorem_ipsum" not in reasons_of(doc(prose(2)))
    curly = prose(2) + "\n\nThe value is {x} in the formula here."
    assert "quality:c4.curly_bracket" in reasons_of(doc(curly))
    assert "quality:c4.min_sentences" in reasons_of(doc(" ".join(["word and the of to"] * 12)))
    off = dataclasses.replace(RULES, c4=dataclasses.replace(RULES.c4, curly_bracket=False))
    assert "quality:c4.curly_bracket" not in reasons_of(doc(prose(2) + "\n\nThe {x} value is here."), off)


def test_fineweb_rules() -> None:
    listy = "\n".join(f"entry {i} of the index and the list" for i in range(60))
    r = reasons_of(doc(listy))
    assert "quality:fineweb.min_line_punct_ratio" in r
    dup = prose(2) + "\n\n" + "\n".join(["Subscribe to the newsletter of the week and the month."] * 3)
    assert "quality:fineweb.max_char_dup_ratio" in reasons_of(doc(dup))
    assert not [x for x in reasons_of(doc(prose(3))) if x.startswith("quality:fineweb")]


def test_multi_reason_lists_all_failing_rules_primary_first() -> None:
    text = "Lorem ipsum dolor sit amet, {consectetur} adipiscing elit."
    out = QualityProcessor(RULES, None).process(doc(text))
    assert isinstance(out, Reject) and out.stage == "quality"
    assert out.reason == out.reasons[0]
    expected = {"quality:c4.lorem_ipsum", "quality:c4.curly_bracket", "quality:gopher.min_words"}
    assert expected <= set(out.reasons)
    assert out.doc.text == text  # the reject keeps the original text


def test_book_rules_do_not_drop_dialogue_but_web_rules_would() -> None:
    words = prose(4).split()
    lines = []
    for i in range(0, len(words), 4):  # short dialogue lines under repeated speaker names
        lines += ["HAMLET." if i % 8 else "HORATIO.", " ".join(words[i : i + 4])]
    play = "\n".join(lines)
    assert reasons_of(doc(play, "book")) == ()
    assert reasons_of(doc(play, "web")) != ()
    assert "quality:book.min_words" in reasons_of(doc("A short note of the end.", "book"))
    text = "\n\n".join([prose(1)] * 3)
    assert "quality:book.max_dup_10gram_char_ratio" in reasons_of(doc(text, "book"))


def test_code_rules() -> None:
    good = 'def add(a, b):\n    """Add two numbers."""\n    return a + b\n'
    assert reasons_of(doc(good, "code", path="x.py")) == ()
    assert "quality:code.max_line_length" in reasons_of(doc("x = 1\n" + "y" * 1200 + "\n", "code"))
    assert "quality:code.max_mean_line_length" in reasons_of(doc(("a" * 150 + "\n") * 10, "code"))
    assert "quality:code.min_alnum_fraction" in reasons_of(doc("#" * 80 + "\n" + "----\n" * 20, "code"))
    gen = "# Code generated by protoc-gen-go. DO NOT EDIT.\n" + good
    assert "quality:code.autogenerated" in reasons_of(doc(gen, "code"))
    assert "quality:code.minified" in reasons_of(doc(good, "code", path="dist/app.min.js"))
    rows = "\n".join(", ".join(str(i * j) for j in range(12)) + "," for i in range(40))
    data = "TABLE = [\n" + rows + "\n]\n"
    assert "quality:code.max_data_token_fraction" in reasons_of(doc(data, "code"))
    assert "quality:code.min_chars" in reasons_of(doc("", "code"))


def test_conversation_rules() -> None:
    def conv(*turns: tuple[str, str]) -> Document:
        return doc("\n".join(f"{a}: {b}" for a, b in turns), "conversation", messages=tuple(turns))

    ok = conv(("user", "hi, how are you"), ("bot", "fine thanks"), ("user", "what is new"), ("bot", "no"))
    assert reasons_of(ok) == ()
    assert "quality:conversation.min_turns" in reasons_of(conv(("user", "hello there")))
    rep = conv(*[("user", "buy cheap pills now here"), ("bot", "buy cheap pills now here")] * 4)
    assert "quality:conversation.max_repeated_turn_ratio" in reasons_of(rep)
    phatic = conv(*[("user", "hi"), ("bot", "hello"), ("user", "ok thanks"), ("bot", "bye")] * 3)
    assert "quality:conversation.max_repeated_turn_ratio" not in reasons_of(phatic)  # < 4 words: phatic
    empty = conv(("user", ""), ("bot", ""), ("user", "hi"), ("bot", " "))
    assert "quality:conversation.max_empty_turn_ratio" in reasons_of(empty)
    long = conv(("user", "paste"), ("bot", "x " * 15000))
    assert "quality:conversation.max_turn_chars" in reasons_of(long)
    # no messages: turns are parsed from the text
    assert reasons_of(doc("user: hi there\nbot: hello you", "conversation")) == ()


def test_what_if_override_recomputes_from_stored_signals() -> None:
    text = " ".join(["the cat and the dog sat with me"] * 5) + "."  # 40 words
    _, signals = score_document(doc(text), RULES)
    assert "quality:gopher.min_words" in decide(signals, RULES, "web")
    relaxed = dataclasses.replace(RULES, gopher=dataclasses.replace(RULES.gopher, min_words=30))
    assert "quality:gopher.min_words" not in decide(signals, relaxed, "web")
    disabled = dataclasses.replace(RULES, gopher=dataclasses.replace(RULES.gopher, min_words=None))
    assert "quality:gopher.min_words" not in decide(signals, disabled, "web")


def test_bad_rules_fail_naming_the_key(tmp_path: Path) -> None:
    (tmp_path / "quality.yaml").write_text("gopher: g.yaml\n")
    (tmp_path / "g.yaml").write_text("min_wordz: 3\n")
    with pytest.raises(ConfigError, match="min_wordz"):
        load_stage_rules(tmp_path / "quality.yaml")
    (tmp_path / "g.yaml").write_text("min_words: lots\n")
    with pytest.raises(ConfigError, match="min_words"):
        load_stage_rules(tmp_path / "quality.yaml")
    (tmp_path / "quality.yaml").write_text("apply: {web: [gopherz]}\n")
    with pytest.raises(ConfigError, match=r"apply\.web"):
        load_stage_rules(tmp_path / "quality.yaml")


@pytest.mark.parametrize("kind", ["web", "book", "code", "conversation"])
@pytest.mark.parametrize("text", ["", "   \n\t  ", "#$%^&*()!@ ~~~ ### ... …", "\u200b\u200b"])
def test_bad_input_gives_signals_or_a_clear_reject(kind: str, text: str) -> None:
    out = QualityProcessor(RULES, None).process(doc(text, kind))
    d = out.doc if isinstance(out, Reject) else out
    assert isinstance(d.signals["quality.score"], float)
    if isinstance(out, Reject):
        assert out.reason.startswith("quality:")


def test_huge_single_line_is_linear_and_rejected() -> None:
    import time

    text = "word " * 4_000_000  # 20 MB, one line
    start = time.perf_counter()
    out = QualityProcessor(RULES, None).process(doc(text))
    assert isinstance(out, Reject)
    assert "quality:repetition.max_top_2gram_char_ratio" in out.reasons
    assert time.perf_counter() - start < 30  # generous: a quadratic step would take hours


def _every_rule() -> list[tuple[str, str, str, str]]:
    out = []
    for set_name in ("gopher", "repetition", "c4", "fineweb", "book", "code", "conversation", "classifier"):
        rs = RULES.rule_set(set_name)
        for key, (sig, op) in rs.CHECKS.items():
            out.append((set_name, key, sig, op))
    return out


@pytest.mark.parametrize(("set_name", "key", "sig", "op"), _every_rule())
def test_every_rule_fires_just_past_its_threshold_and_not_at_it(
    set_name: str, key: str, sig: str, op: str
) -> None:
    """Each rule fires just past its threshold and not at it (``max_ge``: at it, not just below it).

    Language-dependent rules take the threshold of the document's language (``quality.lang``) from the
    per-language table; a threshold that is null by default is set to 0.5 to exercise the rule.
    """
    rs = RULES.rule_set(set_name)
    per_language = key in getattr(rs, "PER_LANGUAGE", frozenset())
    threshold = getattr(rs, key)
    if threshold is None:
        threshold = 0.5 if key not in ("min_stop_words",) else 2
        rs = dataclasses.replace(rs, **{key: threshold})
    lr = RULES.languages
    if per_language:
        lr = dataclasses.replace(lr, params={"xx": {set_name: {key: float(threshold)}}})
    if set_name == "classifier":
        rs = dataclasses.replace(rs, min_score=0.5)
    rules = dataclasses.replace(
        RULES, apply=dataclasses.replace(RULES.apply, web=(set_name,)), languages=lr, **{set_name: rs}
    )
    threshold = lr.threshold("xx", set_name, key) if per_language else getattr(rules.rule_set(set_name), key)
    reason = f"quality:{set_name}.{key}"
    signal = f"quality.{set_name}.{sig}"
    base = {"quality.lang": "xx"}
    if op == "flag":
        assert threshold is True
        assert reason in decide({**base, signal: True}, rules, "web")
        assert reason not in decide({**base, signal: False}, rules, "web")
        return
    assert isinstance(threshold, int | float)
    step = 1 if isinstance(threshold, int) else 1e-6
    if op == "max_ge":
        assert reason in decide({**base, signal: threshold}, rules, "web")
        assert reason not in decide({**base, signal: threshold - step}, rules, "web")
        return
    bad = threshold - step if op == "min" else threshold + step
    assert reason in decide({**base, signal: bad}, rules, "web")
    assert reason not in decide({**base, signal: threshold}, rules, "web")
    other = "conversation" if set_name != "conversation" else "code"
    assert decide({**base, signal: bad}, rules, other) == ()  # sets not applied to a kind never fire
    if per_language:  # another language without a calibrated value: the rule does not run
        assert reason not in decide({"quality.lang": "yy", signal: bad}, rules, "web")
