"""The numpy export of alt-profanity-check scores as scikit-learn does; workers need no scikit-learn."""

from __future__ import annotations

import gzip
import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest

from curation import models
from curation.rules import REPO_ROOT
from curation.stages.toxicity.backends import EmbeddedBackend
from curation.stages.toxicity.profanity import ARTEFACT, ProfanityModel, export, load_sklearn, model_tokens
from curation.stages.toxicity.terms import tokenize
from tests.conftest import SHARED_DEV
from tests.toxicity.helpers import rules

EDGE = [
    "",
    "!!!",
    "a b c d",
    "You are a fucking idiot, shut up.",
    "Don't you dare call me that, you stupid bitch.",
    "I can’t believe this shit isn’t fixed",
    "İlk saniye içinde İstanbul'a",  # Turkish dotted capital I: lower() adds a combining dot
    "Straße STRASSE straße",  # casefold ß -> ss, lower keeps ß
    "ΣΟΦΟΣ σοφος σοφός",  # final sigma: casefold and lower differ
    "x86_64 utf8 mp3 sh1t f*ck @ss",
    "the the the the damn damn",
    "ＦＵＣＫ full-width letters",
    "Iİiı\u0345",
]


def _windows() -> list[str]:
    """Real lines: this repository's docs (markdown prose, tables, code) and the edge cases above."""
    out = list(EDGE)
    for f in sorted((REPO_ROOT / "docs").glob("*.md")):
        out.extend(line.strip() for line in f.read_text(encoding="utf-8").splitlines() if line.strip())
    return out[:600]


@pytest.fixture(scope="module")
def artefact(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return export(tmp_path_factory.mktemp("profanity"))


def _assert_same(model: ProfanityModel, texts: list[str]) -> None:
    vec, clf = load_sklearn()
    ref = clf.predict_proba(vec.transform(texts))[:, 1].tolist()
    shared = model.predict([model_tokens(t, tokenize(t)) for t in texts])
    own = model.predict([model_tokens(t) for t in texts])
    for t, r, a, b in zip(texts, ref, shared, own, strict=True):
        assert abs(a - r) < 1e-6 and abs(b - r) < 1e-6, (t, r, a, b)


def test_export_scores_like_sklearn_on_real_windows(artefact: Path) -> None:
    texts = _windows()
    assert len(texts) >= 300
    _assert_same(ProfanityModel(artefact), texts)


@pytest.mark.skipif(not (SHARED_DEV / "toxicity").is_dir(), reason="labelled dev set absent")
def test_export_scores_like_sklearn_on_dev_texts(artefact: Path) -> None:
    with gzip.open(SHARED_DEV / "toxicity" / "examples.jsonl.gz", "rt", encoding="utf-8") as fh:
        texts = [json.loads(line)["text"] for line in fh if line.strip()]
    _assert_same(ProfanityModel(artefact), texts[:400])


def test_profane_text_scores_high(artefact: Path) -> None:
    got = ProfanityModel(artefact).predict([model_tokens(t) for t in [*EDGE[3:5], "the cat sat on the mat"]])
    assert got[0] > 0.9 and got[1] > 0.9 and got[2] < 0.2


def test_backend_uses_the_artefact_or_falls_back_to_sklearn(
    artefact: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    r = rules().embedded
    texts = ["You are a fucking idiot.", "A clean sentence about cats."]
    fast = EmbeddedBackend(r, None, artefact)
    assert fast.profanity is not None and fast.model is None
    with caplog.at_level(logging.WARNING):
        slow = EmbeddedBackend(r, None, tmp_path / ARTEFACT)  # absent
    assert slow.profanity is None and slow.model is not None
    assert "scikit-learn" in caplog.text
    a = fast.score(texts, ["en", "en"])
    b = slow.score(texts, ["en", "en"])
    assert a == b


def test_worker_with_the_artefact_does_not_import_sklearn(artefact: Path) -> None:
    code = (
        "import sys; from pathlib import Path\n"
        "from curation.stages.toxicity.backends import EmbeddedBackend\n"
        "from tests.toxicity.helpers import rules\n"
        f"b = EmbeddedBackend(rules().embedded, None, Path({str(artefact)!r}))\n"
        "s = b.score(['you idiot', 'hello'], ['en', 'en'])\n"
        "print(sorted(m for m in ('sklearn', 'scipy', 'joblib') if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    ).stdout
    assert out.strip().splitlines()[-1] == "[]"


def test_models_fetch_has_a_versioned_profanity_step() -> None:
    step = next(s for s in models.STEPS if s.name == "profanity")
    assert step.target == ARTEFACT and "alt-profanity-check=" in step.version


def test_batch_tokens_score_like_the_vectorizer_pattern(artefact: Path) -> None:
    from curation.stages.toxicity.profanity import model_tokens_many
    from curation.stages.toxicity.terms import tokenize_many

    texts = [*_windows(), "don't you'd've it's o'clock 'quoted' a'b", "x' 'y ''", "can’t won't"]
    model = ProfanityModel(artefact)
    got = model.predict(model_tokens_many(texts, tokenize_many(texts)))
    assert got == model.predict([model_tokens(t) for t in texts])
    vec, clf = load_sklearn()
    ref = clf.predict_proba(vec.transform(texts))[:, 1].tolist()
    assert all(abs(a - b) < 1e-6 for a, b in zip(got, ref, strict=True))


def test_build_uses_the_artefact_under_models_dir_or_warns(
    artefact: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from curation.stages.toxicity import build_scorer
    from tests.toxicity.conftest import make_cfg

    cfg, spec = make_cfg(tmp_path, models_dir=artefact.parent)
    assert build_scorer(spec, cfg).profanity_path == artefact
    empty = tmp_path / "empty"
    empty.mkdir()
    cfg, spec = make_cfg(tmp_path, models_dir=empty)
    with caplog.at_level(logging.WARNING):
        assert build_scorer(spec, cfg).profanity_path is None
    assert "profanity_model.npz not found" in caplog.text
