"""Italian and Spanish forms, elision, per-language calibration and the conversation drop rule."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from curation.document import Document, Reject
from curation.rules import ConfigError
from curation.stage import run_processor
from curation.stages.toxicity.classifier import ToxicityClassifier, fit_platt, platt, train_records
from curation.stages.toxicity.lexicon import LexiconIndex, load_package_lists, split_elision
from curation.stages.toxicity.terms import expand_forms, forms_balanced
from tests.toxicity.helpers import doc, processor, rules

LEX = rules().embedded.lexicon


@pytest.fixture(scope="module")
def index() -> LexiconIndex:
    return LexiconIndex(LEX, load_package_lists(LEX.package, LEX.package_files))


def test_expand_forms_spells_every_alternative() -> None:
    assert expand_forms("cul(o|i)") == ("culo", "culi")
    assert expand_forms("x(|e)") == ("x", "xe")
    assert expand_forms("a(b|c)d(e|f)") == ("abde", "abdf", "acde", "acdf")
    assert expand_forms("plain words") == ("plain words",)
    assert forms_balanced("cul(o|i)") and not forms_balanced("cul(o|i") and not forms_balanced("a)b")


def test_unbalanced_forms_fail_at_load_naming_the_key() -> None:
    with pytest.raises(ConfigError, match=r"embedded\.lexicon\.mild\.it"):
        rules(embedded__lexicon__mild={"it": ["merd(a|e"]})


def test_split_elision() -> None:
    assert split_elision(["dell'inculata", "l'arte", "casa"]) == ["dell", "inculata", "l", "arte", "casa"]


@pytest.mark.parametrize(
    ("lang", "toxic"),
    [
        ("it", "Quelle due scopano tutta la notte."),  # verb form, not the infinitive
        ("it", "Che fregatura, un'inculata colossale."),  # elided article
        ("it", "Si sono incazzati di brutto."),
        ("it", "Quel rincoglionito del vicino."),
        ("es", "Se la follaron anoche, joder."),
        ("es", "Esos cabrones me jodieron."),
    ],
)
def test_inflected_and_elided_forms_fire(index: LexiconIndex, lang: str, toxic: str) -> None:
    assert index.score(toxic, lang) > 0.0


@pytest.mark.parametrize(
    ("lang", "innocent"),
    [
        # scopo (purpose), scopa (broom), scoperta (discovery), cazzuola (trowel), tetto (roof),
        # tromba (trumpet), chiave (key), uccelliera (aviary)
        ("it", "Lo scopo della scopa: la scoperta della cazzuola sul tetto."),
        ("it", "La tromba suona; la chiave è nell'uccelliera, il pesce nel lago."),
        ("it", "Dell'arte, l'amico e quell'albero: nessuna parolaccia."),
        # polvo (dust), pollo (chicken), huevo (egg), tetera (teapot), pichón (pigeon); puta inside words
        ("es", "El polvo del camino, un pollo y un huevo para la cena."),
        ("es", "Las teteras del teatro y el pichón de la plaza; la computadora disputada."),
    ],
)
def test_forms_do_not_fire_on_innocent_words(index: LexiconIndex, lang: str, innocent: str) -> None:
    assert index.score(innocent, lang) == 0.0


def test_english_words_are_not_split_at_apostrophes(index: LexiconIndex) -> None:
    assert index.score("Don't shit me", "en") > 0.0  # the English list still matches
    assert index.score("l'shit", "it") == 0.0  # and never runs on Italian


def test_platt_calibration_is_fitted_and_applied(tmp_path: Path) -> None:
    a, b = fit_platt([0.9, 0.8, 0.7, 0.2, 0.3, 0.6], [True, True, False, False, False, True])
    assert a > 0 and 0.0 < platt(0.5, a, b) < 1.0
    rows = []
    for i in range(30):
        bad = f"eres un cabrón asqueroso y cerdo número {i}"
        rows.append({"text": bad, "label": "offensive", "lang": "es"})
        rows.append({"text": f"el jardín tiene flores bonitas {i}", "label": "clean", "lang": "es"})
        label = "offensive" if i % 2 else "clean"
        rows.append({"text": f"parola qualunque {i} e un'altra", "label": label, "lang": "it"})
    model = tmp_path / "m.bin"
    card = train_records(rows, model, seed=1, epoch=10)
    assert set(card["calibration"]) == {"es"}  # it has 15 records of each label: fewer than 20
    assert json.loads(model.with_suffix(".json").read_text())["calibration"] == card["calibration"]
    clf = ToxicityClassifier(model)
    texts = ["eres un cabrón asqueroso", "el jardín tiene flores"]
    raw = clf.score(texts)
    cal = clf.score(texts, ["es", "es"])
    es = card["calibration"]["es"]
    assert cal == [round(platt(p, es["a"], es["b"]), 4) for p in raw]
    assert clf.score(texts, ["it", "it"]) == raw  # no calibration for it: raw scores


TURN = "This is a perfectly ordinary message about the weather and the trains today, nothing more."


def test_conversation_with_one_toxic_turn_is_edited_but_a_short_web_page_is_dropped() -> None:
    bad = "You are a fucking asshole and a cunt."
    msgs = (("user", TURN), ("assistant", bad), ("user", TURN), ("assistant", TURN))
    chat = Document(id="c", source_kind="conversation", source="t", text="\n".join(m for _, m in msgs),
                    messages=msgs, lang="en")
    page = doc("\n".join([TURN, bad, TURN, TURN]), i="w", lang="en")
    out = run_processor(processor(), [chat, page])
    assert isinstance(out[0], Document) and bad not in out[0].text and TURN in out[0].text
    assert out[0].signals["toxicity.combined"] >= rules().document.drop_threshold
    assert out[0].signals["toxicity.combined.kept"] < rules().document.drop_threshold
    assert isinstance(out[1], Reject) and out[1].reason == "toxicity:combined"


def test_after_span_removal_kinds_are_validated() -> None:
    with pytest.raises(ConfigError, match=r"document\.after_span_removal"):
        rules(document__after_span_removal=["blog"])
