from __future__ import annotations

import pytest

from curation.document import Document, Reject
from curation.rules import ConfigError
from curation.stage import run_processor
from curation.stages.toxicity import decide, load_stage_rules
from curation.stages.toxicity.config import ToxicityRules
from curation.stages.toxicity.terms import TermMatcher
from tests.toxicity.helpers import RULES_FILE, doc, processor, rules

TOXIC = "Shut up, you fucking idiot, nobody wants you here."
CLEAN = "The committee will meet on Tuesday to discuss the new library budget."


def test_embedded_flags_a_toxic_line_and_passes_a_clean_one() -> None:
    toxic, clean = run_processor(processor(), [doc(TOXIC, i="t"), doc(CLEAN, i="c")])
    assert isinstance(toxic, Reject) and toxic.reason == "toxicity:combined"
    assert "toxicity:toxic_fraction" in toxic.reasons
    assert toxic.doc.signals["toxicity.toxicity.max"] >= 0.8
    assert isinstance(clean, Document) and clean.text == CLEAN
    assert clean.signals["toxicity.toxicity.max"] < 0.5
    for name in ("toxicity", "profanity", "lexicon"):  # every score is a signal, doc-level and max
        assert f"toxicity.{name}" in clean.signals and f"toxicity.{name}.max" in clean.signals


def test_lexicon_catches_non_english_and_respects_word_boundaries() -> None:
    m = TermMatcher.build({"strong": ["fuck*", "hijo de puta"], "mild": ["ass"]})
    found = [(x.label, x.term) for x in m.find("Fucking hell, eres un hijo de puta. Grass, class, passage.")]
    assert found == [("strong", "fuck*"), ("strong", "hijo de puta")]
    out = run_processor(processor(), [doc("Eres un gilipollas y un cabrón.", i="es")])[0]
    assert isinstance(out, Reject) and out.doc.signals["toxicity.lexicon.max"] >= 0.9


def test_span_removal_inside_a_long_book_keeps_the_book() -> None:
    clean = "The river ran quietly past the old mill, and the miller counted his sacks of flour. "
    text = (clean * 40) + "\n\nGo fuck yourself, you worthless cunt.\n\n" + (clean * 40)
    out = run_processor(processor(), [doc(text, kind="book")])[0]
    assert isinstance(out, Document)
    assert "fuck" not in out.text and out.text.count("miller") == 80
    assert out.signals["toxicity.spans_removed"] == 1
    assert out.signals["toxicity.toxicity"] < 0.1  # doc-level score stays low


def test_span_tag_only_for_code_and_identifiers_are_not_scored() -> None:
    code = "def kill_all_children(slave):\n    # fucking broken, fix this shit\n    return slave\n"
    out = run_processor(processor(), [doc(code, kind="code", code_language="python")])[0]
    assert isinstance(out, Document) and out.text == code  # tagged, not edited
    assert out.signals["toxicity.toxic_spans"] and out.signals["toxicity.spans_removed"] == 0
    ident = "def kill_all_children(slave):\n    return slave.abort()\n"
    out = run_processor(processor(), [doc(ident, kind="code", code_language="python")])[0]
    assert out.signals["toxicity.windows"] == 0 and out.signals["toxicity.toxicity.max"] == 0.0


SIG = {
    "toxicity.scored_chars": 100,
    "toxicity.toxicity": 0.5,
    "toxicity.toxicity.max": 0.95,
    "toxicity.toxic_fraction": 0.3,
    "toxicity.identity_toxic_mentions": 1,
    "toxicity.identity_toxic_fraction": 0.2,
}


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({}, ()),
        ({"document__drop_threshold": 0.5}, ("toxicity:toxicity",)),
        ({"document__drop_threshold": 0.51}, ()),
        ({"document__max_threshold": 0.95}, ("toxicity:toxicity.max",)),
        ({"document__toxic_fraction_threshold": 0.3}, ("toxicity:toxic_fraction",)),
        ({"document__toxic_fraction_threshold": 0.3, "document__min_scored_chars": 101}, ()),
        ({"bias__identity_toxic_fraction_threshold": 0.2}, ("toxicity:identity_toxic_cooccurrence",)),
        ({"bias__identity_toxic_fraction_threshold": 0.21}, ()),
        ({"bias__identity_toxic_fraction_threshold": 0.2, "bias__action": "flag"}, ()),
        (
            {"document__drop_threshold": 0.4, "document__toxic_fraction_threshold": 0.2},
            ("toxicity:toxicity", "toxicity:toxic_fraction"),
        ),
    ],
)
def test_threshold_rules_fire_and_do_not_fire(overrides: dict, expected: tuple) -> None:
    assert decide(SIG, rules(document__score="toxicity", **overrides), "web") == expected


def test_identity_attack_rule_and_flag_action() -> None:
    sig = {**SIG, "toxicity.identity_attack.max": 0.85}
    assert decide(sig, rules(), "web") == ("toxicity:identity_attack",)
    assert decide({**sig, "toxicity.identity_attack.max": 0.79}, rules(), "web") == ()
    flagged = processor(rules(bias__action="flag"))
    out = flagged.decider.process(doc("x").with_signals(sig))
    assert isinstance(out, Document) and out.signals["toxicity.bias_flags"] == ["toxicity:identity_attack"]


def test_what_if_protocol_loads_the_repo_rules() -> None:
    r = load_stage_rules(RULES_FILE)
    assert isinstance(r, ToxicityRules) and r.backend == "embedded"
    thr = r.document.drop_threshold
    assert decide({"toxicity.combined": thr, "toxicity.scored_chars": 10}, r, "web") == ("toxicity:combined",)
    assert decide({"toxicity.combined": thr - 0.01, "toxicity.scored_chars": 10}, r, "web") == ()
    # conversations: the drop rule reads the score of the text left once toxic turns are removed
    edited = {"toxicity.combined": 0.99, "toxicity.combined.kept": thr - 0.01, "toxicity.scored_chars": 10}
    assert decide(edited, r, "conversation") == ()
    assert decide(edited, r, "web") == ("toxicity:combined",)  # a web page is judged whole
    still = {"toxicity.combined": 0.99, "toxicity.combined.kept": thr, "toxicity.scored_chars": 10}
    assert decide(still, r, "conversation") == ("toxicity:combined",)


@pytest.mark.parametrize(
    ("overrides", "key"),
    [
        ({"backend": "perspective"}, "backend"),
        ({"spans__threshold": 1.5}, "spans.threshold"),
        ({"spans__action": {"blog": "remove"}}, "spans.action.blog"),
        ({"document__score": "identity_attack"}, "document.score"),
        ({"colour": 1}, "colour"),
    ],
)
def test_bad_rules_fail_with_config_error(overrides: dict, key: str) -> None:
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        rules(**overrides)


def test_english_model_is_not_applied_to_other_languages() -> None:
    de = "Die Einrichtung von Diensten ist schwierig, die Katze schläft."
    out = run_processor(processor(), [doc(de, i="de", lang="de"), doc(de, i="und")])
    assert out[0].signals["toxicity.profanity.max"] == 0.0  # German: lexicon only
    assert out[1].signals["toxicity.profanity.max"] > 0.0  # undetermined language: the model runs
