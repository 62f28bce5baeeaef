"""Building the pipeline must not import presidio (it pulls transformers and torch: seconds per process)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from curation.stages.pii.entities import PRIORITY, SUPPORTED_ENTITIES
from curation.stages.pii.recognizers import BUILDERS

REPO = Path(__file__).resolve().parents[2]


def test_entity_names_match_the_recognizer_builders() -> None:
    assert frozenset(BUILDERS) == SUPPORTED_ENTITIES == frozenset(PRIORITY)


def test_plan_validates_pii_rules_without_importing_presidio() -> None:
    code = (
        "import sys\n"
        "from curation.config import load_config\n"
        "from curation.pipeline import plan\n"
        "p = plan(load_config('rules/pipeline.yaml'))\n"
        "assert 'pii' in [s.spec.name for s in p.stages]\n"
        "print(sorted(m for m in ('presidio_analyzer', 'transformers', 'torch') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"
