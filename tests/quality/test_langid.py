"""Language ID: detection, per-paragraph shares, source-aware policy, what-if, bad input, build errors."""

from __future__ import annotations

import dataclasses
import pickle
import time
from pathlib import Path

import pytest

from curation.config import StageSpec
from curation.document import Document, Reject
from curation.rules import ConfigError
from curation.stages.langid import LangIdProcessor, build_stage, decide, load_stage_rules
from curation.stages.langid.detect import code_comments, sample_paragraphs
from curation.stages.langid.rules import LangIdRules, ParagraphRules, SourceLangRules
from tests.quality.helpers import config_in, doc, prose

REPO = Path(__file__).resolve().parents[2]
MODEL = REPO / "models" / "lid.176.ftz"
RULES = load_stage_rules(REPO / "rules" / "langid.yaml")
FRENCH = (
    "Le conseil municipal s'est réuni mardi pour discuter du budget de la bibliothèque et des travaux de "
    "la salle de lecture. Plusieurs membres ont rappelé que le vieux bâtiment a besoin de réparations "
    "avant l'hiver, et la présidente a promis de demander l'aide de la ville pour le toit."
)
pytestmark = pytest.mark.skipif(not MODEL.is_file(), reason="models/lid.176.ftz missing (run make install)")


@pytest.fixture(scope="module")
def proc() -> LangIdProcessor:
    p = LangIdProcessor(RULES, MODEL)
    p.setup()
    return p


def with_kind(rules: LangIdRules, kind: str, **changes: object) -> LangIdRules:
    return dataclasses.replace(rules, **{kind: dataclasses.replace(rules.for_kind(kind), **changes)})


def test_detects_language_and_sets_document_fields(proc: LangIdProcessor) -> None:
    en, fr = proc.process_batch([doc(prose(1)), doc(FRENCH)])
    assert isinstance(en, Document) and en.lang == "en" and en.lang_score is not None and en.lang_score > 0.9
    assert isinstance(fr, Document) and fr.lang == "fr"
    assert en.signals["langid.basis"] == "body" and en.signals["langid.chars"] == len(prose(1))


def test_allowed_languages_and_min_score() -> None:
    p = LangIdProcessor(with_kind(RULES, "web", allowed=("en",)), MODEL)
    en, fr = p.process_batch([doc(prose(1)), doc(FRENCH)])
    assert isinstance(en, Document)
    assert isinstance(fr, Reject) and fr.reason == "lang:fr" and fr.stage == "langid"
    low = LangIdProcessor(with_kind(RULES, "web", min_score=0.99), MODEL).process(doc("ok 42 xyz"))
    assert isinstance(low, Reject) and "lang_score_low" in low.reasons


def test_long_mixed_document_gets_paragraph_shares_and_lang_mixed(proc: LangIdProcessor) -> None:
    french = [FRENCH, FRENCH.replace("mardi", "jeudi"), FRENCH.replace("toit", "mur"), FRENCH.upper()]
    text = "\n\n".join([prose(4), prose(4), *french])
    assert len(text) > RULES.paragraphs.min_doc_chars
    out = proc.process(doc(text))
    assert isinstance(out, Document)
    shares = dict(s.split(":") for s in out.signals["langid.shares"])  # type: ignore[union-attr]
    assert set(shares) == {"en", "fr"} and out.signals["langid.mixed"] is True
    strict = LangIdProcessor(with_kind(RULES, "web", allowed=("en",), min_allowed_share=0.9), MODEL)
    rej = strict.process(doc(text))
    assert isinstance(rej, Reject) and "lang_mixed" in rej.reasons
    pure = proc.process(doc("\n\n".join([prose(4)] * 4)))
    assert isinstance(pure, Document) and pure.signals["langid.mixed"] is False


def test_code_body_is_never_filtered_comments_may_be() -> None:
    body = "def f(x):\n    return x + 1\n" * 20
    french_comments = "".join(f"# {FRENCH[i : i + 60]}\n" for i in range(0, len(FRENCH), 60))
    p = LangIdProcessor(with_kind(RULES, "code", allowed=("en",)), MODEL)
    out = p.process(doc(body, "code"))
    assert isinstance(out, Document) and out.signals["langid.basis"] == "comments"
    assert out.lang is None  # no comments: nothing identified, nothing filtered
    short = p.process(doc("# petit commentaire\n" + body, "code"))
    assert isinstance(short, Document) and short.lang is None  # below min_chars: not recorded
    rej = p.process(doc(french_comments + body, "code"))
    assert isinstance(rej, Reject) and rej.reason == "lang:fr"
    off = LangIdProcessor(with_kind(RULES, "code", allowed=("en",), text="none"), MODEL)
    assert isinstance(off.process(doc(french_comments + body, "code")), Document)


def test_comment_extraction_handles_styles_and_unterminated_comments() -> None:
    src = 'x = 1  # hash comment\n/* block\n comment */ int y; // line comment\n"""doc string"""\n/* open'
    got = code_comments(src, 1000)
    for part in ("hash comment", "block", "line comment", "doc string", "open"):
        assert part in got
    assert "int y" not in got
    start = time.perf_counter()
    code_comments("/*" * 2_000_000, 1000)  # many unterminated openers: linear, not quadratic
    assert time.perf_counter() - start < 5


def test_paragraph_sampling_is_bounded_and_deterministic() -> None:
    rules = ParagraphRules(min_paragraph_chars=10, max_paragraphs=5, max_paragraph_chars=20)
    text = "\n\n".join(f"paragraph number {i} with words" for i in range(100))
    a = sample_paragraphs(text, rules)
    assert a == sample_paragraphs(text, rules) and len(a) == 5 and all(len(t) <= 20 for t, _ in a)


@pytest.mark.parametrize("text", ["", "   \n  ", "#$%^&*() ~~ ---"])
def test_bad_input_is_a_clear_reject_or_kept(proc: LangIdProcessor, text: str) -> None:
    out = proc.process(doc(text))
    d = out.doc if isinstance(out, Reject) else out
    assert "langid.lang" in d.signals
    if isinstance(out, Reject):
        assert out.reason in ("lang_score_low",) or out.reason.startswith("lang:")


def test_huge_single_line_is_cheap(proc: LangIdProcessor) -> None:
    start = time.perf_counter()
    out = proc.process(doc("word " * 4_000_000))
    assert time.perf_counter() - start < 10
    assert (out.doc if isinstance(out, Reject) else out).signals["langid.paragraphs"] == 1


def test_what_if_decide_from_signals_only() -> None:
    signals = {"langid.lang": "de", "langid.score": 0.7, "langid.basis": "body", "langid.chars": 500}
    assert decide(signals, RULES, "web") == ()
    assert decide(signals, with_kind(RULES, "web", allowed=("en", "fr")), "web") == ("lang:de",)
    assert decide(signals, with_kind(RULES, "web", min_score=0.8), "web") == ("lang_score_low",)
    assert decide(signals, with_kind(RULES, "web", min_score=0.8, text="none"), "web") == ()


def test_processor_pickles_without_the_model(proc: LangIdProcessor) -> None:
    clone = pickle.loads(pickle.dumps(proc))
    assert clone._model is None and clone.rules == proc.rules


def test_build_errors_name_the_file_and_the_key(tmp_path: Path) -> None:
    cfg = config_in(tmp_path)
    (tmp_path / "langid.yaml").write_text("model: lid.176.ftz\n")
    with pytest.raises(ConfigError, match=r"lid\.176\.ftz.*make install.*fetch_models\.py --dest models"):
        build_stage(StageSpec(name="langid", rules="langid.yaml"), cfg)
    (tmp_path / "langid.yaml").write_text("web: {min_scor: 0.5}\n")
    with pytest.raises(ConfigError, match=r"web\.min_scor"):
        build_stage(StageSpec(name="langid", rules="langid.yaml"), cfg)
    (tmp_path / "langid.yaml").write_text("web: {min_score: high}\n")
    with pytest.raises(ConfigError, match=r"web\.min_score"):
        build_stage(StageSpec(name="langid", rules="langid.yaml"), cfg)
    assert SourceLangRules().allowed == ()


def test_beam_stage_sets_lang_accounting_keys(tmp_path: Path) -> None:
    from tests.beam_helpers import run_stage

    (tmp_path / "langid.yaml").write_text(f"model: {MODEL}\nweb: {{allowed: [en]}}\n")
    stage = build_stage(StageSpec(name="langid", rules="langid.yaml"), config_in(tmp_path))
    kept, rejected, counts = run_stage(stage, [doc(prose(2)), doc(FRENCH).evolve(id="fr")])
    assert [d.lang for d in kept] == ["en"]
    assert [r.reason for r in rejected] == ["lang:fr"]
    assert counts[("langid", "web", "en")].docs_kept == 1
    assert counts[("langid", "web", "fr")].docs_rejected == 1
