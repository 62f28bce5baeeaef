"""The inputs and config of the end-to-end hostile run (test_e2e.py): one small run, every hostile kind."""

from __future__ import annotations

import os
from pathlib import Path

import yaml

from .gen import MARKER, corrupt_crc, gzip_member, jsonl, records, warc_record, wet_records

REPO = Path(__file__).resolve().parents[2]


def build(tmp: Path, skip_stages: tuple[str, ...] = ()) -> tuple[Path, int]:
    """Write the inputs and a default-stage config under ``tmp``; return (config path, records written).

    "Records written" counts what read must account for: every record, file and damaged span.
    """
    inputs = tmp / "inputs"
    web, code, book = inputs / "web", inputs / "code" / "repo", inputs / "book"
    for d in (web, code, book):
        d.mkdir(parents=True)
    secret = tmp / "outside" / "secret.txt"
    secret.parent.mkdir()
    secret.write_text(f"{MARKER} do not read me\n")
    n = 0
    recs = records(6)
    lines = [
        b'{"url": "https://s.example/\\ud800", "text": "lone \\udfff surrogate in a page about harbours", '
        b'"site": "m\\ud800"}',
        *[jsonl([r]).rstrip(b"\n") for r in recs[:3]],
        b'{"text": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        *[jsonl([r]).rstrip(b"\n") for r in recs[3:]],
    ]
    (web / "pages.jsonl").write_bytes(b"\xef\xbb\xbf" + b"\n".join(lines) + b"\n")
    n += len(lines)
    (web / "crc.jsonl.gz").write_bytes(corrupt_crc(gzip_member(jsonl(records(5, seed=2)))))
    n += 5 + 1  # five records and the CRC reject
    wet = wet_records(6)
    (web / "bad.warc").write_bytes(
        b"".join(warc_record(u, p, length=b"99999" if i == 2 else None) for i, (u, p) in enumerate(wet))
    )
    n += 6  # five records and one malformed_warc
    (web / "plain.jsonl.gz").write_bytes(b"this is not gzip at all\n")
    n += 1
    (code / "ok.py").write_text("def harbour():\n    return 'lamp'\n")
    os.symlink("/etc/passwd", code / "passwd")
    os.symlink("../../../outside/secret.txt", code / "escape.py")
    os.mkfifo(code / "pipe.py")
    with open(os.fsencode(code) + b"/caf\xe9.py", "wb") as fh:
        fh.write(b"x = 'name not utf-8'\n")
    (code / "a\\b.py").write_text("y = 'backslash'\n")
    n += 6
    (book / "tale.txt").write_text("The keeper lit the lamp and watched the boats come home. " * 200)
    n += 1
    cfg = tmp / "pipeline.yaml"
    cfg.write_text(yaml.safe_dump(default_config(skip_stages)))
    return cfg, n


def default_config(skip_stages: tuple[str, ...] = ()) -> dict:
    """rules/pipeline.yaml with this run's sources (stages, limits and output as shipped)."""
    data = yaml.safe_load((REPO / "rules" / "pipeline.yaml").read_text())
    data["name"] = "hostile"
    data["models_dir"] = str(REPO / "models")
    data["sources"] = [
        {"name": "web", "kind": "web", "paths": ["inputs/web/*"]},
        {"name": "code", "kind": "code", "paths": ["inputs/code/*"]},
        {"name": "book", "kind": "book", "paths": ["inputs/book/*"]},
    ]
    stages = []
    for st in data["stages"]:
        if st["name"] in skip_stages:
            continue
        for es in (st.get("options") or {}).get("eval_sets") or []:
            es["path"] = str((REPO / "rules" / es["path"]).resolve())
        stages.append(st)
    data["stages"] = stages
    return data
