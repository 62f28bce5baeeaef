"""A multi-wave ``curate run`` killed (SIGKILL) at random moments, then resumed, ends with the same data and
rejects as an uninterrupted run; Ctrl-C and SIGTERM cancel cleanly and leave committed waves for --resume."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tests.run.helpers import corpus, write_shards

pytestmark = pytest.mark.beam


def _curate(*args: str) -> list[str]:
    return [sys.executable, "-m", "curation.cli", "run", *args]


def _multiset(out: Path, sub: str) -> Counter:
    if not (out / sub).exists():
        return Counter()
    return Counter((r["id"], r["text"]) for r in pq.read_table(out / sub).to_pylist())


def _visible_files(out: Path) -> list[Path]:
    return [p for p in out.rglob("*") if p.is_file() and "_staging" not in p.parts]


def test_kill_at_random_points_then_resume_equals_a_clean_run(tmp_path: Path) -> None:
    cfg = write_shards(tmp_path, corpus(seed=5, shards=4, per_shard=2))
    clean = tmp_path / "clean"
    t0 = time.monotonic()
    subprocess.run(
        _curate("--config", str(cfg), "--output", str(clean), "--wave-size", "1"),
        check=True,
        capture_output=True,
    )
    duration = time.monotonic() - t0

    rng = random.Random(7)
    out = tmp_path / "killed"
    first = True
    for _ in range(3):
        args = ["--config", str(cfg), "--output", str(out), "--wave-size", "1"]
        proc = subprocess.Popen(
            _curate(*args, *([] if first else ["--resume"])),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        first = False
        time.sleep(rng.uniform(0.3, duration))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        # whatever is visible is complete: every Parquet file outside the staging folder reads
        for path in _visible_files(out):
            if path.suffix == ".parquet":
                pq.read_table(path)
    final = subprocess.run(
        _curate("--config", str(cfg), "--output", str(out), "--wave-size", "1", "--resume"),
        capture_output=True,
        text=True,
    )
    assert final.returncode == 0, final.stderr
    for sub in ("data", "rejects"):
        assert _multiset(out, sub) == _multiset(clean, sub), sub
    assert not (out / "_staging").exists()
    stages = json.loads((out / "report" / "stages.json").read_text())
    clean_stages = json.loads((clean / "report" / "stages.json").read_text())
    assert [s["total"] for s in stages["stages"]] == [s["total"] for s in clean_stages["stages"]]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupt_cancels_cleanly_and_keeps_committed_waves(tmp_path: Path, sig: int) -> None:
    cfg = write_shards(tmp_path, corpus(seed=6, shards=6, per_shard=2))
    out = tmp_path / "out"
    proc = subprocess.Popen(
        _curate("--config", str(cfg), "--output", str(out), "--wave-size", "1"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    manifest = out / "manifest" / "shards.jsonl"
    deadline = time.monotonic() + 120
    while not manifest.exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.1)
    assert manifest.exists(), "no wave was committed"
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    if proc.returncode == 0:
        pytest.skip("the run finished before the signal arrived")
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert "cancelled by" in err.strip().splitlines()[-1] and "--resume" in err
    info = json.loads((out / "report" / "run.json").read_text())
    assert info["state"] == "CANCELLED" and info["waves_done"] >= 1
    done = len(manifest.read_text().splitlines())
    resumed = subprocess.run(
        _curate("--config", str(cfg), "--output", str(out), "--wave-size", "1", "--resume"),
        capture_output=True,
        text=True,
    )
    assert resumed.returncode == 0, resumed.stderr
    assert f"{done} already complete" in resumed.stdout
