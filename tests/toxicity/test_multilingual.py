"""Per-language lexicons (word boundaries, unspaced scripts, leet), the trainable classifier, build checks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from curation.document import Document, Reject
from curation.stage import run_processor
from curation.stages.toxicity import build_scorer
from curation.stages.toxicity.cli import main as cli_main
from curation.stages.toxicity.decide import ToxicityProcessor
from curation.stages.toxicity.lexicon import LexiconIndex, deobfuscate, load_package_lists
from tests.toxicity.conftest import make_cfg
from tests.toxicity.helpers import BASE, doc, rules

LEX = rules().embedded.lexicon


@pytest.fixture(scope="module")
def index() -> LexiconIndex:
    return LexiconIndex(LEX, load_package_lists(LEX.package, LEX.package_files))


@pytest.mark.parametrize(
    ("lang", "toxic", "innocent"),
    [
        ("es", "Eres un gilipollas, hijo de puta.", "La computadora calcula; el disputado partido acabó."),
        ("it", "Sei proprio uno stronzo, vaffanculo.", "Il cammello beve. Venire a Scandicci è duro."),
        ("en", "Shut up, you fucking asshole.", "Scunthorpe's class passed the grass; cocktail analysis."),
        ("de", "Du bist ein Arschloch und Wichser.", "Die Rosette am Dom; der Bonze; Schlampenhausen."),
        ("fr", "Ta gueule, connard, fils de pute.", "La veuve et sa chatte; le con-cours; une pédale."),
        ("pt", "Vai tomar no cu, seu filho da puta.", "Bebi cerveja e fui comer; o burro dorme."),
        ("ru", "Ты сука и мудак.", "Какая разница, в кабинете бардак."),
        ("pl", "Ty kurwa skurwysyn.", "Kupiłem jajko i debil... debiut."),
        ("zh", "你他妈的傻逼，操你妈", "今天天气很好，性格开朗的成人在公园散步。"),
        ("ja", "死ね、くたばれ", "ファンタジー小説と人種の歴史を学ぶ。"),
    ],
)
def test_lexicon_fires_per_language_and_not_on_innocent_words(
    index: LexiconIndex, lang: str, toxic: str, innocent: str
) -> None:
    assert index.score(toxic, lang) >= 0.8
    assert index.score(innocent, lang) == 0.0


def test_lists_apply_only_to_their_language(index: LexiconIndex) -> None:
    assert index.score("Sei uno stronzo.", "it") > 0.8
    assert index.score("Sei uno stronzo.", "de") == 0.0  # Italian list never runs on German
    assert index.score("fucking hell", "es") == 0.0  # English list never runs on Spanish
    assert index.score("fucking hell", None) > 0.8  # no language: every spaced list


def test_leet_and_stretched_spellings(index: LexiconIndex) -> None:
    assert deobfuscate("sh1t") == ("shit",)
    assert "fuck" in deobfuscate("fuuuuck")
    assert sum(index.hits("you f*ck", "en").values()) == 1  # listed as "f*ck" by LDNOOBW
    assert index.hits("you c*nt", "es")["strong"] == 0
    assert index.hits("you c*nt", "en")["strong"] == 1  # masked letter = wildcard
    assert index.hits("what a sh1thead", "en")["strong"] == 1
    assert index.hits("fuuuuck this", "en")["strong"] == 1
    assert index.hits("sei uno str0nz0", "it")["strong"] == 1
    assert index.score("room 101, version 3.11, a$$et 44 sss", "en") == 0.0  # digits alone are not leet


def test_symbol_terms_do_not_match_their_letters(index: LexiconIndex) -> None:
    # LDNOOBW lists "a$$": it must not turn into the word "a"
    assert index.score("a cat and a dog", "en") == 0.0
    assert index.hits("what an a$$", "en")["package"] == 1


def _write(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def test_train_cli_is_reproducible_and_the_stage_applies_the_model(tmp_path: Path) -> None:
    rows = []
    for i in range(40):
        bad = f"eres un cabrón asqueroso y cerdo número {i}"
        rows.append({"text": bad, "label": "offensive", "lang": "es"})
        rows.append({"text": f"el jardín tiene flores bonitas y árboles {i}", "label": "clean", "lang": "es"})
    data = _write(tmp_path / "train.jsonl", rows)
    a, b = tmp_path / "a.bin", tmp_path / "b.bin"
    assert cli_main(["train", "--input", str(data), "--out", str(a), "--seed", "3", "--epoch", "20"]) == 0
    assert cli_main(["train", "--input", str(data), "--out", str(b), "--seed", "3", "--epoch", "20"]) == 0
    assert a.read_bytes() == b.read_bytes()  # seeded and deterministic
    card = json.loads(a.with_suffix(".json").read_text())
    assert card["toxic"] == 40 and card["clean"] == 40 and card["langs"] == {"es": 80}
    data_yaml = {**BASE, "embedded": {**BASE["embedded"], "classifier": {"model": "a.bin", "langs": ["es"]}}}
    data_yaml["bias"] = {**BASE["bias"], "terms_dir": str(Path(__file__).parents[2] / "rules" / "bias")}
    import yaml

    cfg, spec = make_cfg(tmp_path, yaml.safe_dump(data_yaml, allow_unicode=True), models_dir=tmp_path)
    scorer = build_scorer(spec, cfg)
    proc = ToxicityProcessor(scorer, scorer.rules)
    outs = run_processor(
        proc,
        [
            doc("eres un cerdo asqueroso", i="t", lang="es"),
            doc("el jardín tiene árboles", i="c", lang="es"),
            doc("eres un cerdo asqueroso", i="x", lang="it"),  # not a language the model was trained for
        ],
    )
    docs = [o.doc if isinstance(o, Reject) else o for o in outs]
    sig = {d.id: d.signals for d in docs}
    assert sig["t"]["toxicity.classifier"] > 0.5 > sig["c"]["toxicity.classifier"]
    assert sig["x"]["toxicity.classifier"] == 0.0
    assert isinstance(outs[1], Document)


def test_train_needs_both_labels(tmp_path: Path) -> None:
    data = _write(tmp_path / "t.jsonl", [{"text": "hola", "label": "clean"}])
    assert cli_main(["train", "--input", str(data), "--out", str(tmp_path / "m.bin")]) == 2


def test_package_lists_are_read_without_importing_the_package() -> None:
    """glin-profanity's __init__ compiles many regexes the stage never uses: only its files are read."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from curation.stages.toxicity.lexicon import load_package_lists, package_folder\n"
        f"lists = load_package_lists({LEX.package!r}, {dict(LEX.package_files)!r})\n"
        "assert lists and all(lists.values()), lists.keys()\n"
        f"assert {LEX.package.replace('-', '_')!r} not in sys.modules\n"
        "print(package_folder('json').name)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "json"


def test_missing_lexicon_package_is_a_clear_error() -> None:
    from curation.stages.toxicity.lexicon import LexiconPackageError

    with pytest.raises(LexiconPackageError, match="not installed"):
        load_package_lists("no-such-lexicon-pkg", {"en": "english"})
