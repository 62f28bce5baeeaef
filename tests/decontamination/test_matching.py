"""Pure-function tests: normalisation, hashing, index, matching thresholds, span cutting, decisions."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import numpy as np

from curation.document import Document, Reject, render_messages
from curation.stages.decontamination.decide import Evidence, decide, plan_cut
from curation.stages.decontamination.index import NgramIndex
from curation.stages.decontamination.match import score_batch
from curation.stages.decontamination.ngrams import text_word_hashes, word_hashes, word_spans, words
from curation.stages.decontamination.rules import ActionRules, DecontaminationRules, MatchRules
from tests.decontamination.conftest import CONTEXT, FILLER, ITEMS, QUESTION, SHORT_Q, doc


def score(d: Document, index: NgramIndex, rules: DecontaminationRules) -> Document | Reject:
    (out,) = score_batch([d], index, rules)
    return out


def test_words_normalise_case_punctuation_whitespace_and_unicode(rules: DecontaminationRules) -> None:
    r = rules.ngram
    assert words("Who  wrote *Hamlet*?\n(It's) x_y", r) == ["who", "wrote", "hamlet", "it", "s", "x", "y"]
    assert words("ＣＡＦＥ\u0301 ﬁne", r) == words("café fine", r) == ["café", "fine"]  # NFKC
    assert words("ΟΔΟΣ", r) == ["οδος"]  # final sigma handled by lower() as a whole


def test_fast_and_reference_word_hashing_agree(rules: DecontaminationRules) -> None:
    for text in [
        "Plain ASCII, text -- with 42 numbers_and punctuation!",
        "Ünïcödé mixed 文字 text",
        FILLER,
        "",
    ]:
        assert np.array_equal(text_word_hashes(text, rules.ngram), word_hashes(words(text, rules.ngram)))
        ws, starts, ends = word_spans(text, rules.ngram)
        assert ws == words(text, rules.ngram) and len(starts) == len(ends) == len(ws)


def test_hashes_are_stable_across_processes(rules: DecontaminationRules) -> None:
    """No dependence on Python's per-process hash seed: a fresh interpreter gives the same hashes."""
    code = (
        "from curation.stages.decontamination.ngrams import word_hashes;"
        "print(word_hashes(['hamlet', 'café']).tolist())"
    )
    env_out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONHASHSEED": "123", "PATH": ""},
        cwd=str(__import__("curation").__path__[0] + "/.."),
    ).stdout
    assert env_out.strip() == str(word_hashes(["hamlet", "café"]).tolist())


def test_verbatim_item_is_found_and_cut_with_margin(index: NgramIndex, rules: DecontaminationRules) -> None:
    text = FILLER + "\n" + QUESTION + "?\n" + FILLER
    out = score(doc(text), index, rules)
    assert isinstance(out, Document)
    assert "lighthouse" not in out.text and out.text != text
    assert out.signals["decontamination.evidence"] == ["qa:q1:8/8"]
    assert out.signals["decontamination.eval_sets"] == ["qa"]
    assert out.signals["decontamination.action"] == "cut" and out.signals["decontamination.pieces"] == 2
    q0 = text.index(QUESTION)
    removed = len(text) - len(out.text)
    # the question plus about 200 characters on each side (margin) is removed, the rest is kept
    assert len(QUESTION) + 2 * 200 - 5 <= removed <= len(QUESTION) + 2 * 200 + 5
    assert out.text.startswith(text[: q0 - 200].strip()) and out.text.endswith(text[-1000:])


def test_changed_whitespace_case_and_punctuation_still_match(
    index: NgramIndex, rules: DecontaminationRules
) -> None:
    mangled = QUESTION.upper().replace(" ", "  \n ").replace("storm winter", "storm-winter,")
    out = score(doc(FILLER + " " + mangled + " " + FILLER), index, rules)
    assert isinstance(out, Document) and out.signals["decontamination.evidence"] == ["qa:q1:8/8"]
    assert "LIGHTHOUSE" not in out.text


def test_partial_overlap_below_and_above_the_ngram_threshold(
    index: NgramIndex, rules: DecontaminationRules
) -> None:
    q = QUESTION.split()
    below = doc(FILLER + " " + " ".join(q[:12]) + " " + FILLER)  # 12 consecutive words < 13
    assert score(below, index, rules) is below  # untouched, no signals
    above = score(doc(FILLER + " " + " ".join(q[:13]) + " " + FILLER), index, rules)
    assert isinstance(above, Document) and above.signals["decontamination.evidence"] == ["qa:q1:1/8"]
    assert above.signals["decontamination.action"] == "cut"


def test_item_coverage_threshold(index: NgramIndex, rules: DecontaminationRules) -> None:
    strict = dataclasses.replace(rules, match=MatchRules(min_item_coverage=0.5))
    q = QUESTION.split()
    partial = doc(FILLER + " " + " ".join(q[:14]) + " " + FILLER)  # 2 of 8 n-grams
    out = score(partial, index, strict)
    assert isinstance(out, Document) and out.text == partial.text
    assert out.signals["decontamination.action"] == "none" and out.signals["decontamination.items_found"] == 0
    full = score(doc(FILLER + " " + QUESTION + " " + FILLER), index, strict)
    assert full.signals["decontamination.action"] == "cut"  # type: ignore[union-attr]


def test_short_item_matches_only_as_a_whole(index: NgramIndex, rules: DecontaminationRules) -> None:
    hit = score(doc(FILLER + " " + SHORT_Q + "? " + FILLER), index, rules)
    assert isinstance(hit, Document) and hit.signals["decontamination.evidence"] == ["qa:q2:1/1"]
    shorter = doc(FILLER + " " + SHORT_Q.rsplit(" ", 1)[0] + " " + FILLER)
    assert score(shorter, index, rules) is shorter


def test_document_that_is_mostly_the_item_is_dropped_with_evidence(
    index: NgramIndex, rules: DecontaminationRules
) -> None:
    out = score(doc("Q: " + QUESTION + "? A: the fog horn."), index, rules)
    assert isinstance(out, Reject) and out.stage == "decontamination"
    assert out.reason == "contaminated:qa" and out.reasons == ("contaminated:qa",)
    assert out.doc.signals["decontamination.evidence"] == ["qa:q1:8/8"]
    assert out.doc.signals["decontamination.action"] == "drop"


def test_drop_by_source_kind_and_by_too_many_pieces(index: NgramIndex, rules: DecontaminationRules) -> None:
    text = FILLER + " " + QUESTION + " " + FILLER
    by_kind = dataclasses.replace(rules, action=ActionRules(by_source_kind={"code": "drop"}))
    assert isinstance(score(doc(text, kind="code"), index, by_kind), Reject)
    assert isinstance(score(doc(text, kind="web"), index, by_kind), Document)
    one_piece = dataclasses.replace(rules, action=ActionRules(max_pieces=1))
    out = score(doc(text), index, one_piece)
    assert isinstance(out, Reject) and out.doc.signals["decontamination.pieces"] == 2


def test_several_eval_sets_list_all_reasons_primary_first(
    index: NgramIndex, rules: DecontaminationRules
) -> None:
    out = score(doc(QUESTION + " " + CONTEXT), index, rules)
    assert isinstance(out, Reject)
    assert out.reasons == ("contaminated:reading", "contaminated:qa")  # reading item overlaps more
    assert out.doc.signals["decontamination.evidence"][0].startswith("reading:r1:")


def test_conversation_cut_keeps_messages_and_text_consistent(
    index: NgramIndex, rules: DecontaminationRules
) -> None:
    msgs = (("user", FILLER), ("bot", QUESTION + "?"), ("user", FILLER))
    out = score(doc(render_messages(msgs), kind="conversation", messages=msgs), index, rules)
    assert isinstance(out, Document) and out.messages is not None
    assert out.text == render_messages(out.messages) and "lighthouse" not in out.text
    assert [r for r, _ in out.messages] == ["user", "user"]


def test_boilerplate_ngrams_shared_by_many_items_are_not_indexed(rules: DecontaminationRules) -> None:
    from curation.stages.decontamination.evalsets import EvalItem

    shared = "which of the following statements about the history of the city is true"
    items = [EvalItem("mc", str(i), (f"{shared} option {i} {i} {i} {i}",)) for i in range(3)]
    loose = NgramIndex.build(items, rules, ["mc"])
    strict = NgramIndex.build(
        items,
        dataclasses.replace(rules, index=dataclasses.replace(rules.index, max_items_per_ngram=2)),
        ["mc"],
    )
    text = FILLER + " " + shared + " " + FILLER
    assert isinstance(score(doc(text), loose, rules), Document) and len(strict) < len(loose)
    assert (
        score(doc(text), strict, rules) is not None
        and "decontamination.evidence" not in score(doc(text), strict, rules).signals
    )  # type: ignore[union-attr]


def test_plan_cut_merges_margins_and_discards_short_pieces() -> None:
    rules = ActionRules(margin_chars=10, min_piece_chars=20)
    kept, pieces = plan_cut(200, [(50, 60), (75, 80), (150, 160)], rules)
    assert kept == [(0, 40), (90, 140), (170, 200)] and pieces == 3  # 50-60 and 75-80 merge with margins
    kept2, _ = plan_cut(
        200, [(50, 60), (75, 80), (150, 160)], ActionRules(margin_chars=10, min_piece_chars=60)
    )
    assert kept2 == []


def test_what_if_decide_recomputes_from_stored_signals(
    index: NgramIndex, rules: DecontaminationRules
) -> None:
    rej = score(doc("Q: " + QUESTION + "?"), index, rules)
    assert isinstance(rej, Reject)
    assert decide(rej.doc.signals, rules, "web") == rej.reasons
    never = dataclasses.replace(rules, match=MatchRules(min_matched_ngrams=10))
    assert decide(rej.doc.signals, never, "web") == ()
    assert decide({}, rules, "web") == ()


def test_evidence_round_trip_with_colons_in_ids() -> None:
    e = Evidence("set", "item:with:colons", 3, 7)
    assert Evidence.decode(e.encode()) == e


def test_index_build_merges_duplicate_ids_and_counts_items(rules: DecontaminationRules) -> None:
    idx = NgramIndex.build([*ITEMS, ITEMS[0]], rules, ["qa", "reading"])
    assert idx.items_per_set == (2, 1) and len(idx.item_ids) == 3
    assert idx.lengths == (8, 13) and int(idx.item_ngrams[0]) == 8


def test_unnormalised_unicode_document_is_cut_on_chunk_boundaries(
    index: NgramIndex, rules: DecontaminationRules
) -> None:
    fullwidth = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in QUESTION)  # NFKC -> ASCII
    text = "İstanbul café " + FILLER + " " + fullwidth + " " + FILLER
    out = score(doc(text), index, rules)
    assert isinstance(out, Document) and out.signals["decontamination.evidence"] == ["qa:q1:8/8"]
    assert "ｌｉｇｈｔｈｏｕｓｅ" not in out.text and out.text.startswith("İstanbul café")


def test_conversation_cut_touches_only_the_contaminated_turn(
    index: NgramIndex, rules: DecontaminationRules
) -> None:
    """The margin stays inside the contaminated turn; short neighbours, blank turns and padded turns
    outside it are byte-identical (under the old rendered-text cut, the 200-character margin deleted
    the short neighbours, and the rest were re-stripped / dropped)."""
    long_turn = "  Before the question, some context of my own. " + FILLER[:600] + " " + QUESTION + "?  "
    msgs = (
        ("user", "  hi there, padded  "),
        ("bot", ""),
        ("user", "ok"),
        ("bot", long_turn),
        ("user", "thanks!\n"),
        ("bot", FILLER[:400] + "  \n"),
    )
    out = score(doc(render_messages(msgs), kind="conversation", messages=msgs), index, rules)
    assert isinstance(out, Document) and out.messages is not None
    assert out.signals["decontamination.action"] == "cut"
    assert out.signals["decontamination.turns_cut"] == 1
    assert out.text == render_messages(out.messages)
    assert len(out.messages) == len(msgs)
    for i in (0, 1, 2, 4, 5):
        assert out.messages[i] == msgs[i]  # same role, same bytes
    cut = out.messages[3][1]
    assert "lighthouse" not in cut and cut.startswith("Before the question")  # margin inside the turn only
    assert len(cut) < len(long_turn) - len(QUESTION)


def test_conversation_turn_cut_to_nothing_is_removed_and_whole_loss_drops(
    index: NgramIndex, rules: DecontaminationRules
) -> None:
    msgs = (("user", FILLER), ("bot", QUESTION + "?"), ("user", FILLER))
    out = score(doc(render_messages(msgs), kind="conversation", messages=msgs), index, rules)
    assert isinstance(out, Document) and out.messages == (msgs[0], msgs[2])
    only = (("bot", QUESTION + "?"),)
    dropped = score(doc(render_messages(only), kind="conversation", messages=only), index, rules)
    assert isinstance(dropped, Reject) and dropped.reason == "contaminated:qa"
    clean = (("user", FILLER), ("bot", "  " + FILLER[:50]))
    kept = score(doc(render_messages(clean), kind="conversation", messages=clean), index, rules)
    assert isinstance(kept, Document) and kept.messages == clean


def test_shared_power_tables_equal_per_text_tables() -> None:
    """The process-wide B**i / B**-i tables (grown on demand) equal the per-text cumprods they replace."""
    import numpy as np

    from curation import polyhash

    def per_text(base: int, n: int) -> np.ndarray:
        with np.errstate(over="ignore"):
            pw = np.full(n, base, dtype=np.uint64)
            pw[0] = 1
            return np.cumprod(pw)

    for n in (1, 5, 4097, 10, 20_000, 3):  # growing and shrinking requests
        pow_b, pow_inv = polyhash.powers(n)
        assert (pow_b[:n] == per_text(polyhash.BASE, n)).all()
        assert (pow_inv[:n] == per_text(polyhash.BASE_INV, n)).all()
        assert ((pow_b[:n] * pow_inv[:n]) == 1).all()  # inverse of each other modulo 2**64
