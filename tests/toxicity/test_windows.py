from __future__ import annotations

from curation.stages.toxicity.windows import (
    code_windows,
    decode_spans,
    document_windows,
    encode_spans,
    prose_windows,
    remove_spans,
)
from tests.toxicity.helpers import doc


def test_line_windows_strip_and_skip_blank_lines() -> None:
    text = "  first line \n\nsecond line"
    spans = prose_windows(text, 100)
    assert [text[s:e] for s, e in spans] == ["first line", "second line"]


def test_long_lines_are_cut_at_sentences_then_words() -> None:
    text = "One sentence here. " * 10 + "x" * 50 + " " + "word " * 40
    spans = prose_windows(text, 60)
    assert all(e - s <= 60 for s, e in spans)
    assert text[spans[0][0] : spans[0][1]] == "One sentence here."
    assert "".join(text[s:e] for s, e in spans).replace(" ", "") == text.replace(" ", "")


def test_sentence_unit_joins_wrapped_lines() -> None:
    text = "It was a dark\nand stormy night. Then\nit rained.\n\nNew paragraph."
    spans = prose_windows(text, 100, unit="sentence")
    assert [text[s:e] for s, e in spans] == [
        "It was a dark\nand stormy night.",
        "Then\nit rained.",
        "New paragraph.",
    ]


def test_code_scores_comments_and_strings_not_identifiers() -> None:
    code = 'def kill_child(master):\n    # this is a comment\n    return "a string value"\n'
    got = [code[s:e] for s, e in code_windows(code, "python", 100)]
    assert got == ["this is a comment", "a string value"]
    assert all("kill" not in g for g in got)
    js = "const slave = 1; // c-style note\n/* block\n comment */ let s = 'it''s';"
    got = [js[s:e] for s, e in code_windows(js, "javascript", 100)]
    assert got[:3] == ["c-style note", "block", "comment"]


def test_remove_span_inside_long_document_keeps_the_rest() -> None:
    clean = "A perfectly clean sentence about gardening and weather.\n"
    text = clean * 500 + "this line is the bad one\n" + clean * 500
    d = doc(text, kind="book")
    spans = [(len(clean) * 500, len(clean) * 500 + len("this line is the bad one"))]
    new, messages = remove_spans(d, spans)
    assert messages is None
    assert new == clean * 1000
    assert decode_spans(encode_spans(spans)) == spans


def test_remove_span_in_conversation_rebuilds_messages() -> None:
    msgs = (("user", "hello there"), ("bot", "bad words"), ("user", "ok. nasty bit"))
    text = "user: hello there\nbot: bad words\nuser: ok. nasty bit"
    d = doc(text, kind="conversation", messages=msgs)
    spans = document_windows(d, 100, 3, "line")
    assert [text[s:e] for s, e in spans] == ["hello there", "bad words", "ok. nasty bit"]
    s2 = text.index("nasty bit")
    new, messages = remove_spans(d, [spans[1], (s2, s2 + len("nasty bit"))])
    assert messages == (("user", "hello there"), ("user", "ok."))
    assert new == "user: hello there\nuser: ok."


def test_windows_are_linear_on_a_huge_document() -> None:
    text = ("word " * 200 + "\n") * 20_000  # ~20 MB
    spans = prose_windows(text, 400)
    assert len(spans) == 60_000


def test_short_sentences_are_merged_within_a_paragraph_only() -> None:
    text = "Fool! Ho, ho! He laughed and went on his way.\nOk."
    spans = prose_windows(text, 400, unit="line", merge_chars=20)
    assert [text[s:e] for s, e in spans] == ["Fool! Ho, ho! He laughed and went on his way.", "Ok."]
    unmerged = [text[s:e] for s, e in prose_windows(text, 400, unit="line")]
    assert unmerged == ["Fool! Ho, ho! He laughed and went on his way.", "Ok."]  # line fits: one window
    long_line = "Fool! Ho, ho! " + "word " * 100  # longer than max_chars: cut into sentences
    assert next(long_line[s:e] for s, e in prose_windows(long_line, 400)) == "Fool!"  # no merging by default
    merged = [long_line[s:e] for s, e in prose_windows(long_line, 400, merge_chars=20)]
    assert merged[0] == "Fool! Ho, ho!" and all(len(m) <= 400 for m in merged)
