"""Decompression bombs stay bounded in memory for every codec and layout (RSS measured in a subprocess).

Before: a 25 KB zstd file holding one 768 MiB frame peaked at ~2 GiB (the whole frame was decoded in one
step). Now one step yields at most 32 MiB and a line is never held beyond ``max_line_bytes`` (64 MB), a
whole-file document beyond ``max_doc_bytes`` (10 MB), a WARC body beyond ``max_doc_bytes`` + 64 KiB.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
MIB = 256  # decompressed size of each bomb (a few hundred KB on disk at most)
GROWTH_LIMIT_MIB = 200  # peak RSS growth allowed while reading (line buffer 2 x 64 MB + one step)


def _run(tmp_path: Path, kind: str, fmt: str, name: str, codec: str, layout: str) -> dict:
    cmd = [sys.executable, "-m", "tests.hostile.bomb_child", str(tmp_path), kind, fmt, name, codec,
           str(MIB), layout]  # fmt: skip
    res = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=120, check=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(
    ("codec", "kind", "fmt", "name", "layout", "expected"),
    [
        ("zstd", "web", "jsonl", "bomb.jsonl", "line", [("Reject", "too_large")]),  # one huge frame
        ("gzip", "web", "jsonl", "bomb.jsonl", "line", [("Reject", "too_large")]),
        ("gzip", "book", "text", "bomb.txt", "text", [("Reject", "too_large")]),
        ("zstd", "web", "warc", "bomb.warc", "warc", [("Reject", "too_large"), ("Document", None)]),
    ],
)
def test_bomb_is_rejected_with_bounded_memory(
    tmp_path: Path, codec: str, kind: str, fmt: str, name: str, layout: str, expected: list
) -> None:
    name += ".zst" if codec == "zstd" else ".gz"
    out = _run(tmp_path, kind, fmt, name, codec, layout)
    assert out["size"] < 1_000_000  # a bomb: tiny on disk
    assert [tuple(o) for o in out["outs"]] == expected  # the record after a WARC bomb is still read
    growth_mib = (out["peak_kib"] - out["base_kib"]) / 1024
    assert growth_mib < GROWTH_LIMIT_MIB, f"peak RSS grew by {growth_mib:.0f} MiB"
