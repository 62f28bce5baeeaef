from __future__ import annotations

from curation.document import Document, Reject
from curation.stage import MapStage
from curation.stages.normalize import NormalizeProcessor, NormalizeRules, normalize_text
from tests.beam_helpers import run_stage

RULES = NormalizeRules()


def test_normalize_text_nfc_whitespace_controls() -> None:
    decomposed = "cafe\u0301"  # e + combining acute
    out = normalize_text(f"{decomposed}  bar\r\n\x00baz\u200b  ", RULES)
    assert out == "caf\u00e9 bar\nbaz"


def test_code_keeps_indentation() -> None:
    assert normalize_text("def f():\r\n    return  1  \n", RULES, is_code=True) == "def f():\n    return  1\n"


def test_blank_line_runs_are_shortened_but_not_removed() -> None:
    assert normalize_text("a\n\n\n\n\n\nb", RULES) == "a\n\n\nb"
    assert normalize_text("a\n\nb", RULES) == "a\n\nb"


def test_empty_after_normalization_is_rejected_and_nonempty_kept() -> None:
    proc = NormalizeProcessor(RULES)
    rej = proc.process(Document(id="e", source_kind="web", source="s", text=" \x00\u200b\n "))
    assert isinstance(rej, Reject) and rej.reason == "empty" and rej.stage == "normalize"
    kept = proc.process(Document(id="k", source_kind="web", source="s", text=" x "))
    assert isinstance(kept, Document) and kept.text == " x"  # leading space inside the line is kept


def test_conversation_messages_normalized_and_text_rebuilt() -> None:
    doc = Document(
        id="c", source_kind="conversation", source="s", text="",
        messages=(("user", "hi\r\nthere  "), ("bot", "  "), ("bot", "ok")),
    )
    out = NormalizeProcessor(RULES).process(doc)
    assert isinstance(out, Document)
    assert out.messages == (("user", "hi\nthere"), ("bot", "ok"))
    assert out.text == "user: hi\nthere\nbot: ok"


def test_map_stage_accounting_invariant_and_token_recount() -> None:
    docs = [
        Document(id=str(i), source_kind="web", source="s", text=f"hello   world {i}", token_count=99)
        for i in range(5)
    ] + [Document(id="empty", source_kind="book", source="s", text="   ", token_count=1)]
    kept, rejected, counts = run_stage(MapStage(NormalizeProcessor(RULES), tokenizer="whitespace"), docs)
    assert len(kept) == 5 and len(rejected) == 1
    assert all(d.token_count == 3 for d in kept)  # text changed -> recounted
    web = counts[("normalize", "web", "und")]
    assert (web.docs_in, web.docs_kept, web.docs_rejected) == (5, 5, 0)
    assert web.tokens_in == 5 * 99 and web.tokens_out == 15
    book = counts[("normalize", "book", "und")]
    assert (book.docs_in, book.docs_rejected, dict(book.rejected_by_reason)) == (1, 1, {"empty": 1})


def _reference_normalize(text: str, rules: NormalizeRules, is_code: bool) -> str:
    """The plain regex passes (no pre-checks, no fast paths) that normalize_text must equal."""
    import re
    import unicodedata

    text = re.sub(r"\r\n?|[\u2028\u2029\x85]", "\n", text)
    text = re.sub(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", "", text)
    text = re.sub(r"[\u200b\u200c\u200d\u2060\ufeff]", "", text)
    text = unicodedata.normalize(rules.unicode_form, text)
    text = re.sub(r"[ \t\u00a0]+$", "", text, flags=re.MULTILINE)
    if not is_code:
        text = re.sub(r"(?<=\S)[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]{2,}", " ", text)
    n = rules.max_consecutive_blank_lines
    text = re.sub(rf"\n{{{n + 2},}}", "\n" * (n + 1), text).strip("\n")
    return text + "\n" if is_code and text else text


def test_fast_paths_equal_the_plain_regex_passes() -> None:
    import random

    from curation.stages.normalize import _non_space_at_least

    alphabet = list("ab. \t\n\r\x00\x0b\x7f\x85\x9f\u00a0\u2000\u200a\u202f\u205f\u3000")
    alphabet += list("\u2028\u2029\u200b\ufeffe\u0301é")
    rng = random.Random(0)
    for _ in range(20_000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 24)))
        for is_code in (False, True):
            assert normalize_text(text, RULES, is_code=is_code) == _reference_normalize(text, RULES, is_code)
        for n in (0, 1, 3):
            assert _non_space_at_least(text, n) == (len("".join(text.split())) >= n)


def test_ascii_fast_paths_and_control_precheck_equal_the_regexes() -> None:
    """ASCII-only texts (their own pre-checks) and the UTF-8 control-character pre-check."""
    import random

    from curation.stages.normalize import _CONTROL_RE, _has_control

    rng = random.Random(1)
    ascii_alphabet = list("ab. \t\n\r\x00\x01\x08\x0b\x0c\x1f\x7f")
    for _ in range(20_000):
        text = "".join(rng.choice(ascii_alphabet) for _ in range(rng.randint(0, 24)))
        for is_code in (False, True):
            assert normalize_text(text, RULES, is_code=is_code) == _reference_normalize(text, RULES, is_code)
    alphabet = [*ascii_alphabet, "\x80", "\x9f", "\xa0", "\xc2", "é", "\u0100", "\u2028", "\ud800"]
    alphabet.append("\U0001f600")
    for _ in range(20_000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
        want = _CONTROL_RE.search(text) is not None
        assert _has_control(text, False) == want
        if text.isascii():
            assert _has_control(text, True) == want


def test_collapse_inner_spaces_equals_the_regex() -> None:
    """The literal-prefix form (text without tabs or Unicode spaces) and the general one both equal
    ``_INNER_SPACES_RE.sub``; alphabets with and without the other space characters reach both."""
    import random

    from curation.stages.normalize import _INNER_SPACES_RE, collapse_inner_spaces

    rng = random.Random(2)
    plain = [*"ab.  \n\x0b\x1c", "\u1680", "é", "\u2028"]
    mixed = [*plain, "\t", "\u00a0", "\u2000", "\u3000"]
    for alphabet in (plain, plain[:6], mixed):
        for _ in range(20_000):
            text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
            assert collapse_inner_spaces(text) == _INNER_SPACES_RE.sub(" ", text)


def test_turns_unchanged_only_when_every_turn_is_unchanged() -> None:
    """The joined-turns pre-check never says "unchanged" for a list with a turn normalize_text changes
    (fuzzed turns: newline kinds, controls, spaces, zero-width, combining marks at turn edges), and says it
    for most lists of clean turns."""
    import random

    from curation.stages.normalize import turns_unchanged

    rng = random.Random(3)
    alphabet = [*"ab. \t\n\n\r\x00\x85\u00a0\u2028\u200b\u0301é", "e\u0301", "\u3000"]
    clean = [*"abc., \nxyzé", "\u4e2d"]
    said_unchanged = 0
    for alpha in (alphabet, clean):
        for _ in range(20_000):
            sizes = [rng.randint(0, 8) for _ in range(rng.randint(1, 4))]
            turns = ["".join(rng.choice(alpha) for _ in range(k)) for k in sizes]
            if turns_unchanged(turns, RULES):
                said_unchanged += 1
                assert all(normalize_text(t, RULES) == t for t in turns), turns
    assert said_unchanged > 5_000
