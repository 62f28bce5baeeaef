"""``curate init DIR``: write an editable copy of the packaged rules, default config and sample data.

A pip user has no checkout: the rules and ``pipeline.yaml`` live inside the installed package
(``curation.rules_data``). ``curate init DIR`` copies them into ``DIR/rules/`` and the bundled sample
shards and evaluation set into ``DIR/data/``, the same layout as the repository, so the default config's
relative paths (``../data/sample/...``, ``models_dir: ../models``) work there unchanged::

    curate init myrun
    curate models fetch --dest myrun/models
    curate run --config myrun/rules/pipeline.yaml --output myrun/out/sample

Rules files are then edited in place; a config elsewhere still falls back to the packaged defaults for
rules files it does not have beside it.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

from curation.rules import RULES_DIR, SAMPLE_DATA_DIR

_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc")


def init_project(dest: Path, force: bool = False) -> list[Path]:
    """Copy rules to ``dest/rules`` and sample data to ``dest/data``; return the folders written.

    Refuses to overwrite existing folders unless ``force`` (then they are replaced whole).
    """
    pairs = [(RULES_DIR, dest / "rules"), (SAMPLE_DATA_DIR, dest / "data")]
    existing = [str(target) for _, target in pairs if target.exists()]
    if existing and not force:
        raise FileExistsError(f"{', '.join(existing)} already exists; use --force to replace")
    for src, target in pairs:
        if not src.is_dir():
            raise FileNotFoundError(f"packaged folder {src} is missing (broken install?)")
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(src, target, ignore=_IGNORE)
    (dest / "models").mkdir(parents=True, exist_ok=True)
    return [target for _, target in pairs]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="curate init", description="Write an editable copy of the rules, default config and sample data."
    )
    parser.add_argument("dir", type=Path, help="folder to create (rules/, data/, models/ inside)")
    parser.add_argument("--force", action="store_true", help="replace existing rules/ and data/ folders")
    args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    try:
        init_project(args.dir, args.force)
    except (FileExistsError, FileNotFoundError) as exc:
        print(f"curate init: {exc}", file=sys.stderr)
        return 1
    d = args.dir
    print(f"wrote {d / 'rules'} (rules and pipeline.yaml) and {d / 'data'} (sample shards); next:")
    print(f"  curate models fetch --dest {d / 'models'}")
    print(f"  curate run --config {d / 'rules' / 'pipeline.yaml'} --output {d / 'out' / 'sample'}")
    return 0
