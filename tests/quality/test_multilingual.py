"""Per-language rules, script-aware words and sentences, the prose view and soft rules.

Every language-dependent drop reason fires and does not fire in a non-Latin-script language too (zh, ru),
and a language without calibrated thresholds (ar) gets only the language-independent rules.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from curation.document import Document
from curation.stages.quality import decide, load_stage_rules, score_document
from curation.stages.quality.calibrate import calibrate, thresholds, windows
from curation.stages.quality.cli import main as quality_cli
from curation.stages.quality.segment import count_sentences, tokenize
from curation.stages.quality.view import line_kind, prose_view
from curation.stopwords import spacy_stop_words
from tests.quality.helpers import doc, prose

REPO = Path(__file__).resolve().parents[2]
RULES = load_stage_rules(REPO / "rules" / "quality" / "quality.yaml")
PUBLISHED = load_stage_rules(REPO / "rules" / "quality" / "published" / "quality.yaml")

ZH = (
    "北京是中国的首都，也是全国的政治和文化中心。这座城市有三千多年的历史，留下了许多古老的建筑和街道。"
    "每年都有很多游客来这里参观故宫、长城和颐和园。\n"
    "近年来，北京的交通和环境都有了很大的变化。政府修建了新的地铁线路，让人们出行更加方便。"
    "很多市民说，他们的生活比以前好了很多。\n"
    "在北京的大学里，有来自世界各地的学生。他们在这里学习中文，了解中国的文化和社会。"
)
RU = (
    "Москва является столицей России и одним из крупнейших городов Европы. В этом городе живёт более "
    "двенадцати миллионов человек, и каждый год сюда приезжают туристы со всего мира.\n"
    "Город известен своими музеями, театрами и парками. Многие жители говорят, что летом здесь особенно "
    "красиво, когда на улицах много цветов и люди гуляют по набережной до позднего вечера.\n"
    "В последние годы в городе построили новые станции метро, и теперь до центра можно доехать быстрее, "
    "чем раньше. Это очень удобно для тех, кто работает далеко от дома."
)
AR = (
    "القاهرة هي عاصمة مصر وأكبر مدنها، وتقع على ضفاف نهر النيل. يعيش في المدينة ملايين الناس، ويزورها "
    "السياح من كل أنحاء العالم لمشاهدة الأهرامات والمتاحف القديمة.\n"
    "تشتهر المدينة بأسواقها التاريخية ومساجدها الجميلة. ويقول كثير من السكان إن الحياة في القاهرة "
    "مزدحمة لكنها مليئة بالحركة والثقافة والفن.\n"
    "في السنوات الأخيرة افتتحت الحكومة خطوطا جديدة لمترو الأنفاق، مما جعل التنقل في المدينة أسهل من قبل."
)


def reasons(d: Document, rules=RULES) -> tuple[str, ...]:
    _, signals = score_document(d, rules)
    return decide(signals, rules, d.source_kind)


def test_words_of_unspaced_scripts_are_characters_with_punctuation_attached() -> None:
    assert tokenize("北京是首都。") == ["北", "京", "是", "首", "都。"]
    assert tokenize("Python 3.11 の新機能") == ["Python", "3.11", "の", "新", "機", "能"]
    assert tokenize("hello, world") == ["hello,", "world"]


@pytest.mark.parametrize(
    ("text", "n"),
    [("这是一句。这是第二句！第三句？", 3), ("यह पहला वाक्य है। यह दूसरा है।", 2), ("هل أنت بخير؟ نعم.", 2),
     ("One. Two! Three? 3.14 is pi", 3)],
)
def test_sentences_end_at_the_terminal_punctuation_of_each_script(text: str, n: int) -> None:
    assert count_sentences(text) == n


def test_stop_words_come_from_spacy_per_language() -> None:
    assert "и" in spacy_stop_words("ru") and "the" in spacy_stop_words("en")
    assert "the" not in spacy_stop_words("de")
    assert spacy_stop_words("xx-none") == frozenset()
    assert {"en", "de", "fr", "zh", "ru"} <= set(RULES.languages.params)
    assert RULES.languages.stop_word_lists["ru"] == spacy_stop_words("ru")


@pytest.mark.parametrize(("text", "lang"), [(ZH, "zh"), (RU, "ru"), (prose(3), "en")])
def test_real_prose_in_calibrated_languages_is_kept(text: str, lang: str) -> None:
    d = doc(text, lang=lang)
    assert reasons(d) == ()
    _, s = score_document(d, RULES)
    assert s["quality.lang_rules"] == "calibrated"
    if lang == "zh":  # word length is not defined for per-character words: not calibrated, reported
        assert "gopher.min_mean_word_length" in s["quality.skipped_rules"]
    else:
        assert "quality.skipped_rules" not in s


@pytest.mark.parametrize(("text", "lang"), [(ZH, "zh"), (RU, "ru")])
def test_stop_word_rule_fires_in_non_latin_languages(text: str, lang: str) -> None:
    stop = RULES.languages.stop_word_lists[lang]
    content = [w for w in tokenize(text) if w.lower().strip("，。、.,") not in stop]
    sep = "" if lang == "zh" else " "
    assert "quality:gopher.min_stop_word_ratio" in reasons(doc(sep.join(content), lang=lang))


def test_mean_word_length_rule_fires_per_language() -> None:
    long_words = " ".join(["Достопримечательностями"] * 20 + RU.split()[:40])
    assert "quality:gopher.max_mean_word_length" in reasons(doc(long_words, lang="ru"))
    assert "quality:gopher.max_mean_word_length" not in reasons(doc(RU, lang="ru"))


def test_uncovered_language_gets_only_language_independent_rules() -> None:
    d = doc(AR, lang="ar")
    _, s = score_document(d, RULES)
    assert s["quality.lang_rules"] == "independent_only"
    assert "gopher.min_stop_word_ratio" in s["quality.skipped_rules"]
    assert "quality.gopher.stop_word_ratio" not in s  # no list: no English one either
    assert reasons(d) == ()
    spam = doc("\n".join([AR.split("\n")[0]] * 12), lang="ar")
    assert "quality:repetition.max_dup_line_ratio" in reasons(spam)


def test_published_variant_applies_english_stop_words_to_every_language() -> None:
    assert "quality:gopher.min_stop_words" in reasons(doc(RU, lang="ru"), PUBLISHED)
    assert "quality:gopher.min_stop_words" not in reasons(doc(RU, lang="ru"))


def test_c4_sentences_in_chinese() -> None:
    assert "quality:c4.min_sentences" not in reasons(doc(ZH, lang="zh"))
    assert "quality:c4.min_sentences" in reasons(doc("北京是中国的首都" * 20, lang="zh"))


def test_c4_policy_lines_are_english_only() -> None:
    line = "Diese Seite nutzt Cookies und eine privacy policy für die Statistik der Besucher hier."
    text = prose(2) + "\n" + line
    _, s = score_document(doc(text, lang="de"), RULES)
    assert s["quality.c4.lines_removed_policy"] == 0
    _, s = score_document(doc(text, lang="en"), RULES)
    assert s["quality.c4.lines_removed_policy"] == 1


CODE = """def parse(path):
    with open(path) as fh:
        data = {k: v for k, v in json.load(fh).items()}
    return data[\"items\"]"""


def test_line_kinds() -> None:
    assert line_kind("$ apt install wine") == "code"
    assert line_kind('data = {k: v for k, v in json.load(fh).items()}') == "code"
    assert line_kind("Name\tType\tDefault") == "table"
    assert line_kind("Context: server config, virtual host") == "table"
    assert line_kind("https://example.org/a https://example.org/b") == "link"
    assert line_kind("Installation") == "label"
    assert line_kind(prose(1)) == "prose"


def test_documentation_page_is_judged_by_its_prose() -> None:
    page = "\n\n".join([
        "Reading configuration files", prose(1), CODE, prose(2).split("\n\n")[1],
        "Options", "Name\tType\tDefault", "path\tstr\tNone", CODE, prose(4).split("\n\n")[3],
    ])
    assert "{" in page
    assert reasons(doc(page, lang="en")) == ()
    pub = dataclasses.replace(PUBLISHED, c4=dataclasses.replace(PUBLISHED.c4, remove_no_terminal_punct=False))
    assert "quality:c4.curly_bracket" in reasons(doc(page, lang="en"), pub)
    pv = prose_view(page)
    assert "{" not in pv.text and pv.code_lines >= 8 and pv.table_lines == 2


def test_code_dumped_into_prose_is_dropped() -> None:
    flat = " ".join([CODE] * 40).replace("\n", " ")
    text = prose(1).split(". ")[0] + ".\n\n" + flat
    assert "quality:gopher.min_words" in reasons(doc(text, lang="en"))


def test_soft_rules_need_two_families_or_the_classifier() -> None:
    sig = {"quality.lang": "en", "quality.c4.has_curly_bracket": True, "quality.gopher.word_count": 300}
    assert decide(sig, RULES, "web") == ()  # one weak signal alone does not drop
    two = {**sig, "quality.fineweb.char_dup_ratio": 0.2}
    expected = {"quality:c4.curly_bracket", "quality:fineweb.max_char_dup_ratio"}
    assert set(decide(two, RULES, "web")) == expected
    low = {**sig, "quality.classifier.score": 0.2}
    assert decide(low, RULES, "web") == ("quality:c4.curly_bracket",)  # the classifier breaks the tie
    high = {**two, "quality.classifier.score": 0.9}
    assert decide(high, RULES, "web") == ()
    hard = dataclasses.replace(RULES, soft=dataclasses.replace(RULES.soft, families={}))
    assert decide(sig, hard, "web") == ("quality:c4.curly_bracket",)


def test_word_salad_and_keyword_spam_rules() -> None:
    import random

    words = (prose(4) + " " + prose(4)).split()
    rng = random.Random(0)
    salad = words[:]
    rng.shuffle(salad)
    lines = [" ".join(salad[i : i + 15]) + "." for i in range(0, len(salad), 15)]
    assert "quality:repetition.min_word_order_ratio" in reasons(doc("\n".join(lines), lang="en"))
    assert "quality:repetition.min_word_order_ratio" not in reasons(doc(prose(4), lang="en"))
    assert "quality:repetition.min_sentence_case_ratio" in reasons(doc("\n".join(lines), lang="en"))
    assert "quality:repetition.min_sentence_case_ratio" not in reasons(doc(RU, lang="ru"))
    ru = RU.split()
    rng.shuffle(ru)
    ru_salad = " ".join(w.lower() for w in ru)
    assert "quality:repetition.min_sentence_case_ratio" in reasons(doc(ru_salad, lang="ru"))
    spam = "\n".join(" ".join(rng.choice(["cheap", "watches", "replica"]) for _ in range(10)) + "."
                     for _ in range(12))
    assert "quality:repetition.min_unigram_entropy" in reasons(doc(spam, lang="en"))


def test_calibration_keeps_the_stated_share(tmp_path: Path) -> None:
    values = {"xx": {"gopher.stop_word_ratio": [0.1 * i for i in range(1, 101)],
                     "gopher.mean_word_length": [4.0] * 100}}
    params = thresholds(values, keep_share=0.9, margin=0.0, min_docs=20)
    t = params["xx"]["gopher"]["min_stop_word_ratio"]
    assert sum(v >= t for v in values["xx"]["gopher.stop_word_ratio"]) >= 90
    assert thresholds(values, 0.9, 0.0, min_docs=1000) == {}  # too few reference documents: no entry
    assert len(windows("a\n" * 3000, 1000)) == 6

    ref = tmp_path / "ref.jsonl"
    with ref.open("w") as fh:
        for i in range(30):
            fh.write(json.dumps({"lang": "ru", "text": "\n".join(RU.split("\n")[i % 3 :] * 2)}) + "\n")
    content = calibrate([ref], RULES, keep_share=0.95, min_docs=5, window_chars=0)
    assert content["provenance"]["keep_share"] == 0.95
    assert "min_stop_word_ratio" in content["params"]["ru"]["gopher"]
    out = tmp_path / "languages.yaml"
    assert quality_cli(["calibrate", "--reference", str(ref), "--out", str(out), "--min-docs", "5"]) == 0
    (tmp_path / "quality.yaml").write_text(
        (REPO / "rules" / "quality" / "quality.yaml").read_text().replace(
            "classifier: classifier.yaml", f"classifier: {REPO / 'rules' / 'quality' / 'classifier.yaml'}"
        ).replace("languages: languages.yaml", f"languages: {out}")
    )
    for name in ("gopher", "repetition", "c4", "fineweb", "book", "code", "conversation"):
        (tmp_path / f"{name}.yaml").write_text((REPO / "rules" / "quality" / f"{name}.yaml").read_text())
    rules = load_stage_rules(tmp_path / "quality.yaml")
    assert set(rules.languages.params) == {"ru"}
    assert quality_cli(["calibrate", "--reference", str(tmp_path / "missing.jsonl"), "--out", str(out)]) == 2


def test_mojibake_rule_fires_on_mis_decoded_utf8_not_on_accented_text() -> None:
    broken = RU.encode("utf-8").decode("latin-1")
    assert "quality:gopher.max_mojibake_ratio" in reasons(doc(broken, lang="ru"))
    en = prose(3).replace("the", "the “café”").encode("utf-8").decode("cp1252", errors="replace")
    assert "quality:gopher.max_mojibake_ratio" in reasons(doc(en, lang="en"))
    fr = "L’été « à la plage » coûte cher… mais c’est la vie ; Dvořák píše: „žluťoučký kůň“ a œuvre."
    _, s = score_document(doc(fr * 10, lang="fr"), RULES)
    assert s["quality.gopher.mojibake_ratio"] == 0.0
