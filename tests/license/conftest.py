"""Shared fixtures: one processor per test session (building the matcher index takes a few seconds)."""

from __future__ import annotations

from pathlib import Path

import pytest

from curation.document import Document
from curation.stages.license.kb import data_dir, split_front_matter
from curation.stages.license.rules import LicenseRules, load_license_rules
from curation.stages.license.stage import LicenseProcessor

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def rules() -> LicenseRules:
    return load_license_rules(REPO / "rules" / "license.yaml")


@pytest.fixture(scope="session")
def license_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A models_dir holding a freshly built license index (built once per session, ~7 CPU-s)."""
    from curation.stages.license.kb import build_index_file

    models = tmp_path_factory.mktemp("models")
    build_index_file(models)
    return models


@pytest.fixture(scope="session")
def proc(rules: LicenseRules) -> LicenseProcessor:
    p = LicenseProcessor(rules)
    p.setup()
    return p


def reference_text(name: str) -> str:
    """A license text or rule text from licensedcode-data (tests never hand-type license texts)."""
    sub = "licenses" if name.endswith(".LICENSE") else "rules"
    _, body = split_front_matter((data_dir() / sub / name).read_text(encoding="utf-8"))
    return body.replace("{{", "").replace("}}", "")


def comment(text: str, prefix: str = "# ") -> str:
    return "\n".join(f"{prefix}{line}".rstrip() for line in text.strip().splitlines())


def code_doc(text: str, path: str | None = "pkg/mod.py", repo: str | None = "r", **kw: object) -> Document:
    return Document(
        id=f"c-{hash(text) & 0xFFFF}", source_kind="code", source="s", text=text, path=path, repo=repo, **kw
    )  # type: ignore[arg-type]
