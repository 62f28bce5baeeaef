"""The prebuilt license index: the matcher's arrays, built once at install into ``models_dir``.

Building the matcher reads the ~37,000 files of ``licensedcode-data`` and indexes 5 million shingles
(about 6 CPU-seconds per worker). That work does not depend on the data being curated, so it is done once,
by ``python -m curation.stages.license.kb build --dest models`` (or :func:`build_index`), into a folder
``<models_dir>/license_index/`` of ``.npy`` arrays plus ``meta.json``. Workers memory-map the arrays
(read-only pages, shared by every worker process on a machine) and rebuild only small Python lists.

The index is **versioned and checked**: ``meta.json`` records the format version, the installed
``licensedcode-data`` version and the indexing parameters of ``text_match`` (``min_tokens``,
``min_relevance``, ``kinds``). A missing or stale index fails the pipeline build with
:class:`LicenseIndexError`, which names the command that rebuilds it; ``rules/license.yaml``
``index.missing: build`` builds it in memory on each worker instead (explicit opt-in, ~6 CPU-s each).
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import tempfile
from dataclasses import asdict
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from curation.stages.license.kb import KnowledgeBase, LicenseInfo
from curation.stages.license.textmatch import MatchParams, TextMatcher

FORMAT_VERSION = 1
INDEX_DIR = "license_index"
META = "meta.json"
BUILD_COMMAND = "python -m curation.stages.license.kb build --dest {dest}"
_INDEX_PARAMS = ("min_tokens", "min_relevance", "kinds")


class LicenseIndexError(RuntimeError):
    """The prebuilt license index is missing, unreadable or built for other data / parameters."""


@functools.lru_cache(maxsize=1)
def data_version() -> str:
    """Installed ``licensedcode-data`` version (part of the index fingerprint; looked up once per process)."""
    try:
        return metadata.version("licensedcode-data")
    except metadata.PackageNotFoundError:
        return "unknown"


def fingerprint(params: MatchParams) -> dict[str, Any]:
    """What an index must have been built for: format, data version, indexing parameters."""
    p = asdict(params)
    return {
        "format": FORMAT_VERSION,
        "licensedcode_data": data_version(),
        "index_params": {k: list(p[k]) if isinstance(p[k], tuple) else p[k] for k in _INDEX_PARAMS},
    }


def index_dir(models_dir: str | Path) -> Path:
    return Path(models_dir) / INDEX_DIR


def build_index(models_dir: str | Path, params: MatchParams | None = None) -> Path:
    """Build the index into ``<models_dir>/license_index`` (atomically replaced) and return that folder."""
    params = params or MatchParams()
    kb = KnowledgeBase.load()
    matcher = TextMatcher(kb, params)
    arrays, meta = matcher.state()
    meta = {
        "fingerprint": fingerprint(params),
        "licenses": [
            [i.key, i.spdx, i.category, i.is_exception, i.is_deprecated] for i in kb.licenses.values()
        ],
        "matcher": meta,
    }
    dest = index_dir(models_dir)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".license_index-", dir=dest.parent))
    try:
        for name, arr in arrays.items():
            np.save(tmp / f"{name}.npy", np.ascontiguousarray(arr), allow_pickle=False)
        (tmp / META).write_text(json.dumps(meta), encoding="utf-8")
        old = dest.with_name(dest.name + ".old")
        if dest.exists():
            os.replace(dest, old)
        os.replace(tmp, dest)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return dest


def check_index(path: str | Path, params: MatchParams) -> None:
    """Raise :class:`LicenseIndexError` (naming the rebuild command) unless ``path`` holds an index built
    for the installed data and these parameters. Reads only ``meta.json``'s fingerprint."""
    _checked_meta(Path(path), params)


def _checked_meta(path: Path, params: MatchParams) -> dict[str, Any]:
    """``meta.json`` of the index at ``path`` (parsed once), after checking its fingerprint."""
    cmd = BUILD_COMMAND.format(dest=path.parent)
    meta_file = path / META
    if not meta_file.is_file():
        raise LicenseIndexError(f"license index missing: {path} (build it with `{cmd}`)")
    try:
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
        found = meta.get("fingerprint")
    except (OSError, ValueError, AttributeError) as exc:
        raise LicenseIndexError(f"license index unreadable: {meta_file}: {exc} (rebuild: `{cmd}`)") from exc
    want = fingerprint(params)
    if found != want:
        raise LicenseIndexError(
            f"license index stale: {path} was built for {found}, this install needs {want} (rebuild: `{cmd}`)"
        )
    return meta


def load_index(path: str | Path, params: MatchParams) -> tuple[KnowledgeBase, TextMatcher]:
    """Checked load of a prebuilt index (arrays memory-mapped, read-only)."""
    path = Path(path)
    meta = _checked_meta(path, params)
    licenses = {
        key: LicenseInfo(key=key, spdx=spdx, category=cat, is_exception=exc, is_deprecated=dep)
        for key, spdx, cat, exc, dep in meta["licenses"]
    }
    kb = KnowledgeBase(licenses, [])
    arrays = {f.stem: np.load(f, mmap_mode="r", allow_pickle=False) for f in sorted(path.glob("*.npy"))}
    return kb, TextMatcher.from_state(arrays, meta["matcher"], kb, params)
