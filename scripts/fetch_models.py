"""Fetch/build the models the pipeline loads from local paths: the same as ``curate models fetch``.

Kept for the checkout workflow (``.venv/bin/python scripts/fetch_models.py --dest models``); the logic
and the list of steps live in :mod:`curation.models`.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from curation.models import main

if __name__ == "__main__":
    raise SystemExit(main(["fetch", *sys.argv[1:]]))
