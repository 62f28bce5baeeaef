"""fastText quality classifier: training on a tiny fixture, the CLI, applying it through the Beam stage."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest

from curation.config import StageSpec
from curation.document import Document, Reject
from curation.rules import ConfigError
from curation.stages.quality import QualityProcessor, build_stage, load_stage_rules
from curation.stages.quality.classifier import Preprocess, predict_line, preprocess, train
from curation.stages.quality.cli import main as quality_cli
from tests.beam_helpers import run_stage
from tests.quality.helpers import PARAGRAPHS, config_in, doc

REPO = Path(__file__).resolve().parents[2]
SPAM = (
    "buy cheap watches online best price free shipping",
    "casino bonus win prize now click here free spins",
    "home about contact login sign up cart faq",
    "cheap loans fast approval no credit check apply now",
    "download crack keygen free full version serial",
    "best deal sale discount replica shoes jerseys wholesale",
)


def _write(path: Path, texts: list[str]) -> Path:
    path.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def fixture_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    d = tmp_path_factory.mktemp("fixture")
    sentences = [s for p in PARAGRAPHS for s in p.split(". ")]
    return _write(d / "pos.jsonl", sentences * 3), _write(d / "neg.jsonl", list(SPAM) * 6)


def test_preprocess_is_shared_and_normalises() -> None:
    assert preprocess("Hello,  World!\nNew line.", Preprocess()) == "hello , world ! new line ."
    assert preprocess("AbC", Preprocess(lowercase=False, max_chars=2)) == "Ab"


_FASTTEXT_SEPARATORS = re.compile("[ \n\r\t\v\f\0]+")  # where fastText splits words


def _fuzzed_texts(seed: int, count: int) -> list[str]:
    rng = random.Random(seed)
    alphabet = ["word", "Mixed", "x", "42", " ", "  ", "\n", "\t", "\r", "\x0b", "\x0c", "\x1c", "\x1f",
                "\x00", *".,!?;:()[]{}\"-'", "é", "\xa0", "“", "中"]
    out = ["", " ", "\n\n", "one", " lead and trail\t\n"]
    for _ in range(count):
        pool = alphabet if rng.random() < 0.5 else alphabet[:-3]  # half ASCII-only
        if rng.random() < 0.3:  # Python-only separators (fastText does not split at them), a zero-width space
            pool = [*pool, "\x85", "\u2028", "\u3000", "\u200b"]
        out.append("".join(rng.choice(pool) for _ in range(rng.randint(1, 60))))
    return out


_OPTS = [Preprocess(), Preprocess(lowercase=False), Preprocess(split_punctuation=False),
         Preprocess(max_chars=7)]


@pytest.mark.parametrize("opts", _OPTS)
def test_predict_line_gives_fasttext_the_tokens_of_preprocess(opts: Preprocess) -> None:
    for text in _fuzzed_texts(3, 400):
        line = predict_line(text, opts)
        assert "\n" not in line
        tokens = [t for t in _FASTTEXT_SEPARATORS.split(line) if t]
        assert tokens == [t for t in _FASTTEXT_SEPARATORS.split(preprocess(text, opts)) if t]


def test_predict_line_predictions_equal_preprocess_predictions() -> None:
    model_path = REPO / "models" / "quality_default.bin"
    if not model_path.is_file():
        pytest.skip("no default quality model (make install)")
    import fasttext

    model = fasttext.load_model(str(model_path))
    texts = [*_fuzzed_texts(5, 300), *(p * 3 for p in PARAGRAPHS)]
    k = len(model.get_labels())
    a_labels, a_probs = model.predict([preprocess(t, Preprocess()) for t in texts], k=k)
    b_labels, b_probs = model.predict([predict_line(t, Preprocess()) for t in texts], k=k)
    assert a_labels == b_labels
    assert all((x == y).all() for x, y in zip(a_probs, b_probs, strict=True))


def test_train_is_deterministic_and_separates_the_fixture(
    fixture_files: tuple[Path, Path], tmp_path: Path
) -> None:
    pos, neg = fixture_files
    a, b = tmp_path / "a.bin", tmp_path / "b.bin"
    summary = train(pos, neg, a, epoch=25, dim=8, bucket=10_000)
    train(pos, neg, b, epoch=25, dim=8, bucket=10_000)
    assert a.read_bytes() == b.read_bytes()
    assert summary["positives"] > 0 and summary["train_precision"] >= 0.9


def test_cli_trains_and_reports_bad_input(fixture_files: tuple[Path, Path], tmp_path: Path) -> None:
    pos, neg = fixture_files
    out = tmp_path / "cli.bin"
    argv = ["train", "--positive", str(pos), "--negative", str(neg), "--out", str(out), "--epoch", "5"]
    assert quality_cli(argv) == 0 and out.is_file()
    assert quality_cli(["train", "--positive", "/nope.jsonl", "--negative", str(neg), "--out", str(out)]) == 2


def test_trained_model_applied_through_the_beam_stage(
    fixture_files: tuple[Path, Path], tmp_path: Path
) -> None:
    pos, neg = fixture_files
    train(pos, neg, tmp_path / "tiny.bin", epoch=25, dim=8, bucket=10_000)
    (tmp_path / "quality.yaml").write_text(
        "apply: {web: [classifier], book: [book]}\n"
        "classifier: {model: tiny.bin, required: true, min_score: 0.5, batch_size: 2}\n"
    )
    stage = build_stage(StageSpec(name="quality", rules="quality.yaml"), config_in(tmp_path))
    docs = [
        Document(id="good", source_kind="web", source="t", text=PARAGRAPHS[1]),
        Document(id="spam", source_kind="web", source="t", text="cheap casino bonus free shipping buy now"),
        Document(id="book", source_kind="book", source="t", text="\n\n".join(PARAGRAPHS)),
    ]
    kept, rejected, counts = run_stage(stage, docs)
    by_id = {d.id: d for d in kept}
    assert set(by_id) == {"good", "book"}
    assert by_id["good"].signals["quality.score_source"] == "classifier"
    assert by_id["good"].signals["quality.score"] > 0.5
    assert by_id["book"].signals["quality.score_source"] == "heuristic"  # classifier not applied to books
    (rej,) = rejected
    assert isinstance(rej, Reject) and rej.reasons == ("quality:classifier.min_score",)
    web = counts[("quality", "web", "und")]
    assert (web.docs_in, web.docs_kept, web.docs_rejected) == (2, 1, 1)


def test_missing_model_required_fails_at_build_otherwise_heuristics_only(tmp_path: Path) -> None:
    (tmp_path / "quality.yaml").write_text("classifier: {model: absent.bin, required: true}\n")
    with pytest.raises(ConfigError, match=r"absent\.bin.*train_quality_model\.py"):
        build_stage(StageSpec(name="quality", rules="quality.yaml"), config_in(tmp_path))
    rules = load_stage_rules(REPO / "rules" / "quality" / "quality.yaml")
    proc = QualityProcessor(rules, tmp_path / "absent.bin")
    proc.setup()
    out = proc.process(doc("\n\n".join(PARAGRAPHS)))
    assert isinstance(out, Document)
    assert out.signals["quality.classifier.status"] == "missing_model"
    assert out.signals["quality.score_source"] == "heuristic" and 0 < out.signals["quality.score"] <= 1


def test_unknown_stage_option_fails(tmp_path: Path) -> None:
    (tmp_path / "quality.yaml").write_text("{}\n")
    spec = StageSpec(name="quality", rules="quality.yaml", options={"batchsize": 3})
    with pytest.raises(ConfigError, match=r"options\.batchsize"):
        build_stage(spec, config_in(tmp_path))


def test_listed_python_only_whitespace_is_the_regex_definition() -> None:
    """predict_line's listed class plus the newline is exactly _PY_ONLY_WS_RE, on every code point."""
    import sys

    from curation.stages.quality.classifier import _PY_ONLY_WS_BUT_NL_RE, _PY_ONLY_WS_RE

    for cp in range(sys.maxunicode + 1):
        c = chr(cp)
        want = _PY_ONLY_WS_RE.match(c) is not None
        assert (c == "\n" or _PY_ONLY_WS_BUT_NL_RE.match(c) is not None) == want, hex(cp)
