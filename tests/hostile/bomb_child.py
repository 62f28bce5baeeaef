"""Child process of test_bombs.py: build one decompression bomb, read it, print JSON with peak RSS.

Run as ``python -m tests.hostile.bomb_child <dir> <kind> <format> <name> <gzip|zstd> <MiB> <layout>``;
``layout`` is ``line`` (one endless line), ``warc`` (one WARC record with a huge body) or ``text``.
"""

from __future__ import annotations

import gzip
import json
import resource
import sys
import time
from pathlib import Path

import zstandard

from curation.config import Limits
from curation.io import Shard, read_shard


def _writer(path: Path, codec: str):
    fh = open(path, "wb")
    if codec == "zstd":
        return zstandard.ZstdCompressor(level=3).stream_writer(fh)
    return gzip.GzipFile(fileobj=fh, mode="wb", compresslevel=6, mtime=0)


def main() -> None:
    folder, kind, fmt, name, codec, mib, layout = sys.argv[1:8]
    path = Path(folder) / name
    block = b"a" * (1 << 20)
    total = int(mib) << 20
    w = _writer(path, codec)
    if layout == "warc":
        w.write(b"WARC/1.0\r\nWARC-Type: conversion\r\nWARC-Target-URI: https://bomb.example/\r\n"
                b"Content-Type: text/plain\r\nContent-Length: %d\r\n\r\n" % total)  # fmt: skip
    for _ in range(int(mib)):
        w.write(block)
    if layout == "warc":
        w.write(b"\r\n\r\n" + b"WARC/1.0\r\nWARC-Type: conversion\r\nWARC-Target-URI: https://ok.example/\r\n"
                b"Content-Type: text/plain\r\nContent-Length: 8\r\n\r\nfine doc\r\n\r\n")  # fmt: skip
    w.close()
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.process_time()
    shard = Shard("bomb", kind, str(path), fmt, None, name, {})
    outs = [(type(o).__name__, getattr(o, "reason", None)) for o in read_shard(shard, Limits())]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"size": path.stat().st_size, "outs": outs, "base_kib": base, "peak_kib": peak,
                      "cpu_s": time.process_time() - t0}))  # fmt: skip


if __name__ == "__main__":
    main()
