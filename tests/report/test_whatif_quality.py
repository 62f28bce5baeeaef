"""What-if against the real quality stage: its stored signals reproduce its decisions, and an override of
``gopher.min_words`` (the issue's example) moves documents in the expected direction.

Robust to the quality rules' details: it only relies on the what-if protocol, on web documents getting
``quality:gopher.min_words`` when too short, and on the default rules keeping ordinary prose.
"""

from __future__ import annotations

import itertools
import random
from pathlib import Path

import pytest

from curation.config import PipelineConfig, SourceSpec, StageSpec
from curation.document import Document
from curation.report.load import iter_kept, iter_rejected, load_run
from curation.report.whatif import build_scenarios, evaluate, original_rules_path
from curation.report.whatif_report import whatif_summary
from curation.rules import REPO_ROOT
from curation.stage import run_processor
from curation.stages import quality
from tests.report.runfixture import write_run

_WORDS = (
    "the river valley town market people water bread season winter summer road bridge school garden "
    "history family teacher doctor village mountain forest library museum letter morning evening story"
).split()
_GLUE = ("the", "of", "and", "to", "with", "that", "have", "be")


def _prose(n_words: int, seed: int) -> str:
    """Ordinary-looking English prose of about ``n_words`` words, in sentences and paragraphs."""
    rng = random.Random(seed)
    sentences, words = [], 0
    while words < n_words:
        k = rng.randint(8, 14)
        ws = [rng.choice(_WORDS) if i % 2 else rng.choice(_GLUE) for i in range(k)]
        sentences.append(" ".join(ws).capitalize() + ".")
        words += k
    paras = [" ".join(sentences[i : i + 4]) for i in range(0, len(sentences), 4)]
    return "\n\n".join(paras)


@pytest.fixture(scope="module")
def quality_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rules_file = REPO_ROOT / "rules" / "quality" / "quality.yaml"
    cfg = PipelineConfig(
        sources=(SourceSpec(kind="web", paths=("unused",)),),
        tokenizer="whitespace",
        path=str(REPO_ROOT / "rules" / "pipeline.yaml"),
    )
    stage = quality.build_stage(StageSpec("quality", rules=str(rules_file)), cfg)
    docs = [
        Document(id=f"q{i:02d}", source_kind="web", source="t", text=_prose(n, i), lang="en", lang_score=0.99)
        for i, n in enumerate((12, 25, 40, 120, 200, 300, 400, 600))
    ]
    docs = [d.evolve(token_count=len(d.text.split())) for d in docs]
    outcomes = run_processor(stage.processor, docs)
    root = tmp_path_factory.mktemp("quality_run") / "run"
    root.mkdir()
    return write_run(root, outcomes, ["read", "quality", "write"], {"quality": rules_file})


def _whatif(run_dir: Path, overrides: list[str]) -> dict:
    run = load_run(run_dir)
    scenarios, problems = build_scenarios(run, overrides)
    assert problems == []
    res = evaluate(run, scenarios, itertools.chain(iter_kept(run), iter_rejected(run)))
    return whatif_summary(run, res, scenarios, problems)


def test_quality_implements_the_protocol(quality_run: Path) -> None:
    run = load_run(quality_run)
    assert original_rules_path(run, "quality").name == "quality.yaml"
    kept = list(iter_kept(run))
    rejected = list(iter_rejected(run))
    assert kept, "the default quality rules should keep ordinary prose of a few hundred words"
    assert any("quality:gopher.min_words" in r.reasons for r in rejected), "a 12-word page is too short"


def test_baseline_reproduces_the_run_and_thresholds_move_documents(quality_run: Path) -> None:
    run = load_run(quality_run)
    n_docs = run.stage("quality")["total"]["docs_in"]
    n_kept = run.stage("quality")["total"]["docs_kept"]
    rules = quality.load_stage_rules(run.rules_path("quality"))
    current = rules.gopher.min_words

    same = _whatif(quality_run, [f"quality.gopher.min_words={current}"])
    assert same["baseline_agreement"]["quality"] == {"checked": n_docs, "agree": n_docs, "undecidable": 0}
    assert same["newly_kept"]["docs"] == {} and same["newly_rejected"]["docs"] == {}

    stricter = _whatif(quality_run, ["quality.gopher.min_words=100000000"])
    assert sum(stricter["newly_rejected"]["docs"].values()) == n_kept  # every kept page is now too short
    assert stricter["final_tokens"]["what_if_estimate"]["web"] == 0
    assert stricter["reasons"]["quality"]["after"].get("quality:gopher.min_words", 0) >= n_kept

    looser = _whatif(quality_run, ["quality.gopher.min_words=0"])
    assert "quality:gopher.min_words" not in looser["reasons"]["quality"]["after"]
    only_short = [r for r in iter_rejected(run) if set(r.reasons) == {"quality:gopher.min_words"}]
    assert sum(looser["newly_kept"]["docs"].values()) == len(only_short)
