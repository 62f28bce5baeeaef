"""Test helpers: the repo's toxicity rules with overrides, scorers and documents."""

from __future__ import annotations

import copy
from typing import Any

import yaml

from curation.document import Document
from curation.rules import REPO_ROOT, from_mapping
from curation.stages.toxicity.bias import load_bias_lists
from curation.stages.toxicity.config import ToxicityRules, validate
from curation.stages.toxicity.decide import ToxicityProcessor
from curation.stages.toxicity.scoring import ToxicityScorer

RULES_FILE = REPO_ROOT / "rules" / "toxicity.yaml"
BASE = yaml.safe_load(RULES_FILE.read_text(encoding="utf-8"))


def rules_dict(**overrides: Any) -> dict[str, Any]:
    """The repo's rules with dotted-key overrides (``document__drop_threshold=0.5``)."""
    data = copy.deepcopy(BASE)
    for key, value in overrides.items():
        *parents, leaf = key.split("__")
        node = data
        for p in parents:
            node = node.setdefault(p, {})
        node[leaf] = value
    return data


def rules(**overrides: Any) -> ToxicityRules:
    return validate(from_mapping(ToxicityRules, rules_dict(**overrides), file="test"), "test")


def processor(r: ToxicityRules | None = None) -> ToxicityProcessor:
    r = r or rules()
    return ToxicityProcessor(ToxicityScorer(rules=r, bias=load_bias_lists("bias")), r)


def doc(text: str, kind: str = "web", i: str = "d", **kw: Any) -> Document:
    return Document(id=i, source_kind=kind, source="test", text=text, **kw)
