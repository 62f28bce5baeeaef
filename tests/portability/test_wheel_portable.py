"""The built wheel, installed into a fresh venv outside the checkout, and Beam's portable runner.

One venv is built per module (the two tests share it; ``--dist loadfile`` keeps them on one xdist
worker): ``pip wheel`` of a copy of the checkout's sources, then ``pip install <wheel>`` with its
declared dependencies only (no extras, no dev tools, no torch), so a dependency the default config needs
but pyproject does not declare fails here. Every command runs with the venv's ``bin`` first on PATH, the
working directory outside the checkout and ``PYTHONPATH`` unset, so the checkout cannot be imported.

* wheel test: ``curate init`` writes the packaged rules, default config and sample data; the sample job
  runs in-process from there and every stage's accounting holds.
* portable-runner test: the same job through ``--runner=PortableRunner`` against Beam's own Python job
  service (``local_job_service_main``) with an EXTERNAL SDK worker pool (``worker_pool_main``), both
  processes from the wheel venv: the same Fn API protocol Flink and Spark use for Python workers. Data,
  rejects, stages.json and stage stats equal the in-process run's.

The models are copied from the checkout's ``models/`` (``make install`` ran ``curate models fetch``):
training them again here would take minutes. The toxicity classifier is copied when it was built (its
training data is the dev set, not packaged); both runs of the job use the same models either way.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq
import pytest

REPO = Path(__file__).resolve().parents[2]
MODELS = REPO / "models"
# pip's cache of the real user (read at import, before tests move HOME): the venv install reuses what
# `make install` downloaded instead of fetching every dependency again.
PIP_CACHE = os.environ.get("PIP_CACHE_DIR") or str(Path("~").expanduser() / ".cache" / "pip")
# What the wheel is built from: a copy, so a stale build/ folder of the checkout never leaks into it and
# concurrent builds do not share one.
SOURCE = ("curation", "pipelines", "rules", "data", "scripts", "pyproject.toml", "setup.py", "README.md")
# toxicity_default.bin is not among them: it is trained from the labelled dev set, which a clone or a pip
# user may not have; without it the default rules run the toxicity lexicons only (if_missing: lexicon).
MODEL_FILES = ("lid.176.ftz", "quality_default.bin", "license_index/meta.json")

pytestmark = pytest.mark.beam


class Venv:
    """A fresh venv with only the wheel (and its core dependencies) installed."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.bin = root / "venv" / "bin"
        self.work = root / "work"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
        env.update(
            PATH=f"{self.bin}{os.pathsep}{env.get('PATH', '')}",
            VIRTUAL_ENV=str(self.root / "venv"),
            HOME=str(self.root / "home"),
            TMPDIR=str(self.root / "tmp"),
            PYTHONNOUSERSITE="1",
        )
        return env

    def run(self, *cmd: str, timeout: float = 900, pip_cache: bool = False) -> subprocess.CompletedProcess:
        env = {**self.env(), "PIP_CACHE_DIR": PIP_CACHE} if pip_cache else self.env()
        proc = subprocess.run(
            list(cmd), cwd=self.work, env=env, capture_output=True, text=True, timeout=timeout
        )
        what = " ".join(cmd)
        assert proc.returncode == 0, f"{what} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
        return proc

    def popen(self, *cmd: str, log: Path) -> subprocess.Popen[bytes]:
        fh = log.open("wb")
        return subprocess.Popen(list(cmd), cwd=self.work, env=self.env(), stdout=fh, stderr=subprocess.STDOUT)


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Venv:
    root = tmp_path_factory.mktemp("wheelvenv")
    for d in ("home", "tmp", "work", "dist", "src"):
        (root / d).mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for name in SOURCE:
        src = REPO / name
        if src.is_dir():
            shutil.copytree(src, root / "src" / name, ignore=ignore)
        else:
            shutil.copy2(src, root / "src" / name)
    env = {**os.environ, "HOME": str(root / "home"), "TMPDIR": str(root / "tmp"), "PIP_CACHE_DIR": PIP_CACHE}
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
         "-w", str(root / "dist"), str(root / "src")],
        check=True, env=env, cwd=root / "work", capture_output=True,
    )
    wheels = sorted((root / "dist").glob("curation-*.whl"))
    assert len(wheels) == 1, wheels
    # The base interpreter, not this venv's: the new venv must not see the project venv's packages.
    base = Path(sys.base_prefix) / "bin" / f"python{sys.version_info.major}.{sys.version_info.minor}"
    subprocess.run([str(base), "-m", "venv", str(root / "venv")], check=True, env=env)
    v = Venv(root)
    # --no-compile: byte-compiling every dependency costs minutes of CPU; imports compile what they use
    pip = str(v.bin / "pip")
    v.run(pip, "install", "--quiet", "--no-compile", str(wheels[0]), timeout=1800, pip_cache=True)
    return v


@pytest.fixture(scope="module")
def project(venv: Venv) -> Path:
    """``curate init`` in the work folder, models copied in; returns the config path."""
    venv.run(str(venv.bin / "curate"), "init", "proj")
    proj = venv.work / "proj"
    for name in MODEL_FILES:
        assert (MODELS / name).is_file(), f"{MODELS / name} missing: run `make install` first"
    shutil.copytree(MODELS, proj / "models", dirs_exist_ok=True)
    return proj / "rules" / "pipeline.yaml"


@pytest.fixture(scope="module")
def in_process(venv: Venv, project: Path) -> Path:
    out = venv.work / "out_in_process"
    venv.run(str(venv.bin / "curate"), "run", "--config", str(project), "--output", str(out), "--no-report")
    return out


def test_wheel_installs_outside_the_checkout_and_runs_the_sample_job(venv: Venv, in_process: Path) -> None:
    probe = (
        "import curation, curation.rules as r, importlib.util as u; "
        "print(curation.__file__); print(r.RULES_DIR); print(u.find_spec('torch') is None)"
    )
    where, rules_dir, no_torch = venv.run(str(venv.bin / "python"), "-c", probe).stdout.split()
    assert where.startswith(str(venv.root / "venv")), where
    assert rules_dir.startswith(str(venv.root / "venv")) and rules_dir.endswith("curation/rules_data")
    assert no_torch == "True"  # torch is the [detoxify] extra, not a core dependency
    assert "lid" in venv.run(str(venv.bin / "curate"), "models", "list").stdout

    stages = json.loads((in_process / "report" / "stages.json").read_text())
    names = [s["stage"] for s in stages["stages"]]
    assert names[0] == "read" and names[-1] == "write" and len(names) == 10
    assert all(s["invariant_ok"] for s in stages["stages"])
    rows = pq.read_table(in_process / "data").to_pylist()
    assert rows and len(rows) == stages["stages"][-1]["total"]["docs_kept"]
    assert {r["source_kind"] for r in rows} == {"web", "book", "code", "conversation"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return int(s.getsockname()[1])


def _wait_port(port: int, proc: subprocess.Popen[bytes], log: Path, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"service exited ({proc.returncode}):\n{log.read_text(errors='replace')[-3000:]}")
        with socket.socket() as s:
            if s.connect_ex(("localhost", port)) == 0:
                return
        time.sleep(0.5)
    pytest.fail(f"port {port} not open after {timeout}s:\n{log.read_text(errors='replace')[-3000:]}")


@pytest.fixture
def portable_services(venv: Venv) -> Iterator[tuple[int, int]]:
    """Beam's Python job service and an external SDK worker pool, both from the wheel venv."""
    job_port, pool_port = _free_port(), _free_port()
    py = str(venv.bin / "python")
    logs = venv.root / "job_service.log", venv.root / "worker_pool.log"
    procs = [
        venv.popen(py, "-m", "apache_beam.runners.portability.local_job_service_main",
                   f"--port={job_port}", log=logs[0]),
        venv.popen(py, "-m", "apache_beam.runners.worker.worker_pool_main",
                   f"--service_port={pool_port}", log=logs[1]),
    ]
    try:
        _wait_port(job_port, procs[0], logs[0])
        _wait_port(pool_port, procs[1], logs[1])
        yield job_port, pool_port
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()


def _rows(out: Path, sub: str) -> list[dict]:
    rows = pq.read_table(out / sub).to_pylist()
    for r in rows:
        r["source_kind"] = str(r["source_kind"])
    return sorted(rows, key=lambda r: (r["source_kind"], r["id"], r.get("stage") or ""))


def _stats(out: Path) -> dict[str, dict]:
    stats = {p.name: json.loads(p.read_text()) for p in (out / "report" / "stats").glob("*.json")}
    stats.get("pii.json", {}).pop("cost", None)  # measured seconds: the one output that is a timing
    return stats


def test_portable_runner_with_external_worker_pool_equals_in_process(
    venv: Venv, project: Path, in_process: Path, portable_services: tuple[int, int]
) -> None:
    job_port, pool_port = portable_services
    out = venv.work / "out_portable"
    venv.run(
        str(venv.bin / "curate"), "run", "--config", str(project), "--output", str(out), "--no-report",
        "--runner=PortableRunner", f"--job_endpoint=localhost:{job_port}",
        "--environment_type=EXTERNAL", f"--environment_config=localhost:{pool_port}",
    )
    data = _rows(out, "data")
    assert data and data == _rows(in_process, "data")
    assert _rows(out, "rejects") == _rows(in_process, "rejects")
    a = json.loads((in_process / "report" / "stages.json").read_text())
    b = json.loads((out / "report" / "stages.json").read_text())
    assert a == b
    assert _stats(out) == _stats(in_process)
    # the job really ran in the job service, on SDK workers the external pool started (`python` on PATH
    # is the wheel venv's)
    assert "Completed job" in (venv.root / "job_service.log").read_text(errors="replace")
    assert "Starting worker with command" in (venv.root / "worker_pool.log").read_text(errors="replace")
