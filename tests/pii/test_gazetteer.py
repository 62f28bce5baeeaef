"""The PERSON word tables: prebuilt by ``curate models fetch`` (step ``pii_names``) or built from the
packages, the same either way; a stale, corrupt or foreign file is refused with its reason and never used."""

from __future__ import annotations

import dataclasses
import logging
import pickle
from pathlib import Path

import pytest

from curation import models
from curation.rules import RULES_DIR
from curation.stages.pii import PiiProcessor, load_stage_rules, name_tables_dir
from curation.stages.pii import gazetteer as gz
from curation.stages.pii.names import PersonRecognizer

RULES = load_stage_rules(RULES_DIR / "pii.yaml")
NAMES = RULES.names
STOP = gz.stop_words(tuple(NAMES.languages))
KEY = gz.tables_key(NAMES, STOP)


@pytest.fixture(scope="module")
def built() -> gz.NameTables:
    return gz.build_name_tables(NAMES, STOP)


@pytest.fixture(scope="module")
def artefact(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return gz.export(tmp_path_factory.mktemp("models"))


def _same(a: gz.NameTables, b: gz.NameTables) -> None:
    assert a == b
    assert list(a.first_names.items()) == list(b.first_names.items())  # order too
    assert list(a.first_plain.items()) == list(b.first_plain.items())


def test_prebuilt_tables_equal_the_tables_built_from_the_packages(artefact: Path,
                                                                  built: gz.NameTables) -> None:
    assert artefact.name == gz.ARTEFACT
    loaded = gz.read_tables(artefact, KEY)
    _same(loaded, built)
    assert len(built.first_names) > 10_000 and built.full_only and built.soft and built.months and built.days
    assert "Anna" in built.first_names and "may" in built.months and "princess" not in {
        n.lower() for n in built.first_names}


def test_recognizer_from_the_file_has_the_same_tables(artefact: Path) -> None:
    from_file = PersonRecognizer(NAMES, tables_file=artefact)
    from_packages = PersonRecognizer(NAMES)
    for attr in ("first_names", "first_plain", "full_only", "soft", "months", "days", "stop"):
        assert getattr(from_file, attr) == getattr(from_packages, attr), attr
    text = "Dear Mr. Pitts, Anna Schmidt and Jean-Luc met May Chen on Tue Mar 31."
    assert from_file.find(text, "en") == from_packages.find(text, "en")


def test_processor_with_models_dir_scrubs_like_without(artefact: Path) -> None:
    from curation.document import Document

    docs = [Document(id=str(i), source_kind="web", source="t", text=t, lang="en") for i, t in enumerate(
        ["Contact Anna Schmidt at anna@example.org.", "Hi, I am Will. Will you come?", "Nothing here."])]
    a, b = PiiProcessor(RULES, str(artefact.parent)), PiiProcessor(RULES)
    def stable(outs: list) -> list:
        return [(o.text, {k: v for k, v in o.signals.items() if not k.startswith("pii._")}) for o in outs]

    got = stable(a.process_batch(docs))
    assert got == stable(b.process_batch(docs)) and got[0][0] == "Contact <PERSON> at <EMAIL_ADDRESS>."
    clone = pickle.loads(pickle.dumps(a))
    assert clone.models_dir == str(artefact.parent) and clone._analyzer is None


def test_stale_key_is_refused_with_the_fields(artefact: Path, built: gz.NameTables,
                                              caplog: pytest.LogCaptureFixture) -> None:
    other = dataclasses.replace(NAMES, min_frequency=2, not_first_names=())
    with pytest.raises(gz.NameTablesError, match=r"stale.*min_frequency, not_first_names"):
        gz.read_tables(artefact, gz.tables_key(other, STOP))
    with pytest.raises(gz.NameTablesError, match=r"stale.*stop_words"):
        gz.read_tables(artefact, gz.tables_key(NAMES, STOP | {"anna"}))
    with pytest.raises(gz.NameTablesError, match=r"stale.*code"):
        gz.read_tables(artefact, {**KEY, "code": "0" * 64})
    with caplog.at_level(logging.WARNING):
        fallback = gz.name_tables(other, STOP, artefact)
    assert "is stale" in caplog.text and "building the name tables from the packages" in caplog.text
    _same(fallback, gz.build_name_tables(other, STOP))
    assert fallback != built


def test_absent_truncated_corrupt_and_foreign_files_are_refused(artefact: Path, tmp_path: Path) -> None:
    with pytest.raises(gz.NameTablesError, match="absent"):
        gz.read_tables(tmp_path / gz.ARTEFACT, KEY)
    data = artefact.read_bytes()
    bad = tmp_path / "bad.pickle"
    bad.write_bytes(data[: len(data) // 2])
    with pytest.raises(gz.NameTablesError, match="unreadable"):
        gz.read_tables(bad, KEY)
    flipped = bytearray(data)
    i = len(data) // 2  # inside the payload bytes: the outer pickle still loads, the checksum fails
    flipped[i] ^= 0x01
    bad.write_bytes(bytes(flipped))
    with pytest.raises(gz.NameTablesError, match="checksum"):
        gz.read_tables(bad, KEY)
    bad.write_bytes(pickle.dumps(Path("x")))  # a class inside: refused, never instantiated
    with pytest.raises(gz.NameTablesError, match=r"unreadable.*not allowed"):
        gz.read_tables(bad, KEY)
    bad.write_bytes(pickle.dumps(("something", "else")))
    with pytest.raises(gz.NameTablesError, match="not a PII name-tables file"):
        gz.read_tables(bad, KEY)


def test_a_payload_of_the_wrong_shape_is_refused(tmp_path: Path, built: gz.NameTables) -> None:
    path = gz.write_tables(tmp_path / gz.ARTEFACT, built, KEY)
    assert gz.read_tables(path, KEY) == built and not path.with_name(path.name + ".part").exists()
    wrong = dataclasses.replace(built, full_only=set(built.full_only))  # type: ignore[arg-type]
    gz.write_tables(path, wrong, KEY)
    with pytest.raises(gz.NameTablesError, match="not the 6 tables"):
        gz.read_tables(path, KEY)


def test_build_stage_passes_models_dir_only_for_a_usable_file(artefact: Path, tmp_path: Path,
                                                              caplog: pytest.LogCaptureFixture) -> None:
    assert gz.check_file(artefact.parent, NAMES) is None
    assert name_tables_dir(RULES, artefact.parent) == str(artefact.parent)
    with caplog.at_level(logging.WARNING):
        assert name_tables_dir(RULES, tmp_path) is None
    assert "pii_names.pickle is absent" in caplog.text and "curate models fetch" in caplog.text
    off = dataclasses.replace(RULES, names=dataclasses.replace(NAMES, enabled=False))
    assert name_tables_dir(off, artefact.parent) is None


def test_models_fetch_has_a_versioned_pii_names_step() -> None:
    step = next(s for s in models.STEPS if s.name == "pii_names")
    assert step.target == gz.ARTEFACT
    assert all(f"{d}=" in step.version for d in ("gender-guesser", "babel", "spacy"))
    assert "code=?" not in step.version and "rules=?" not in step.version
