"""One small `curate run` (the real CLI, the shipped default stages) over every kind of hostile input.

It used to crash (surrogates at the Parquet writers, a non-UTF-8 file name), hang (a FIFO), read
/etc/passwd into the output (symlinks) or lose records silently (deep nesting, bad CRC, WARC lengths).
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq

from .e2e_inputs import REPO, build
from .gen import MARKER


def _curate() -> list[str]:
    script = Path(sys.executable).parent / "curate"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "import sys; from curation.cli import main; sys.exit(main(sys.argv[1:]))"]


def test_curate_run_on_hostile_inputs(tmp_path: Path) -> None:
    cfg, n_records = build(tmp_path)
    out = tmp_path / "out"
    env = {**os.environ, "HOME": str(tmp_path), "TMPDIR": str(tmp_path)}
    res = subprocess.run(
        [*_curate(), "run", "--config", str(cfg), "--output", str(out)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr[-3000:]
    stages = json.loads((out / "report" / "stages.json").read_text())["stages"]
    for st in stages:
        t = st["total"]
        assert t["docs_in"] == t["docs_kept"] + t["docs_rejected"], st["stage"]
    for prev, nxt in itertools.pairwise(stages):
        assert nxt["total"]["docs_in"] == prev["total"]["docs_kept"], nxt["stage"]
    read = stages[0]
    assert read["stage"] == "read" and read["total"]["docs_in"] == n_records  # nothing silently lost
    assert read["total"]["rejected_by_reason"] == {
        "corrupt_gzip": 2,  # the CRC mismatch and the plain-text .gz
        "malformed_json": 1,  # the deeply nested line
        "malformed_warc": 1,  # the record with a too-long Content-Length
        "not_regular_file": 1,  # the FIFO
        "symlink_outside_input": 2,  # /etc/passwd and the relative escape
    }
    texts: list[str] = []
    raws: list[bytes] = []
    for f in [*out.glob("data/*/*.parquet"), *out.glob("rejects/*.parquet")]:
        table = pq.read_table(f).to_pylist()
        texts += [r.get("text") or "" for r in table] + [r.get("path") or "" for r in table]
        raws += [r.get("raw") or b"" for r in table]
    assert texts and not any(MARKER in t or "root:x:0:0" in t for t in texts)
    assert not any(MARKER.encode() in r or b"root:x:0:0" in r for r in raws)


def test_curate_run_where_every_document_is_rejected(tmp_path: Path) -> None:
    """A plain-text `.gz`, a corrupt `.zst` and a WARC of garbage: exit 0, three accounted rejects."""
    inputs = tmp_path / "in"
    inputs.mkdir()
    (inputs / "a.jsonl.gz").write_bytes(b"not gzip at all\n")
    (inputs / "b.jsonl.zst").write_bytes(b"\x28\xb5\x2f\xfd" + b"\x07" * 64)
    (inputs / "c.warc").write_bytes(bytes(range(256)) * 12)
    cfg = tmp_path / "p.yaml"
    cfg.write_text(
        f"models_dir: {REPO / 'models'}\nsources: [{{kind: web, paths: ['in/*']}}]\n"
        "stages: [{name: normalize}, {name: langid}]\n"
    )
    out = tmp_path / "out"
    env = {**os.environ, "HOME": str(tmp_path), "TMPDIR": str(tmp_path)}
    res = subprocess.run(
        [*_curate(), "run", "--config", str(cfg), "--output", str(out)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr[-3000:]
    read = json.loads((out / "report" / "stages.json").read_text())["stages"][0]["total"]
    assert read["docs_in"] == 3 and read["docs_kept"] == 0
    assert read["rejected_by_reason"] == {"corrupt_gzip": 1, "corrupt_zstd": 1, "malformed_warc": 1}
    rows = [r for f in out.glob("rejects/*read*.parquet") for r in pq.read_table(f).to_pylist()]
    skipped = {r["reason"]: json.loads(r["signals"]).get("read.skipped_bytes") for r in rows}
    assert skipped["malformed_warc"] == 256 * 12 and skipped["corrupt_gzip"] > 0
