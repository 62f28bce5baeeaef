"""Bad input never crashes a read: each case becomes a reject with a clear reason and reading continues."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
import zstandard

from curation.config import Limits
from curation.io.streams import LongLine, StreamError, iter_chunks, iter_lines

from .helpers import jsonl, read, shard, warc_bytes, write

GOOD = {"text": "a good record"}


def test_malformed_json_invalid_utf8_and_non_object_lines(tmp_path: Path) -> None:
    lines = [GOOD, b'{"text": "unterminated', GOOD, b'{"text": "caf\xe9 \xff"}', GOOD, b"[1, 2]", b"", GOOD]
    p = write(tmp_path / "w.jsonl", jsonl(lines))
    docs, rejects = read(shard(p, "web", "jsonl"))
    assert len(docs) == 4
    assert [r.reason for r in rejects] == ["malformed_json", "invalid_utf8", "malformed_json"]
    bad_json, bad_utf8, _ = rejects
    assert bad_json.raw == b'{"text": "unterminated' and "line 2" in (bad_json.error or "")
    assert bad_utf8.raw == b'{"text": "caf\xe9 \xff"}' and "invalid UTF-8" in (bad_utf8.error or "")
    assert all(
        r.stage == "read" and r.doc.id and r.doc.source_kind == "web" and r.doc.text == "" for r in rejects
    )


def test_truncated_gzip_keeps_every_good_record_then_one_reject(tmp_path: Path) -> None:
    recs = [{"text": f"record number {i} " + "x" * 50} for i in range(2000)]
    full = gzip.compress(jsonl(recs), mtime=0)
    p = tmp_path / "t.jsonl.gz"
    p.write_bytes(full[: len(full) * 2 // 3])
    docs, rejects = read(shard(p, "book", "jsonl"))
    assert len(rejects) == 1 and rejects[0].reason == "truncated_gzip"
    assert 0 < len(docs) < 2000
    assert [d.text for d in docs] == [r["text"] for r in recs[: len(docs)]]  # a prefix, nothing skipped
    assert rejects[0].raw  # the incomplete last line


def test_corrupt_and_truncated_zstd(tmp_path: Path) -> None:
    data = jsonl([{"text": f"record {i} " + "y" * (i % 97)} for i in range(20000)])
    comp = zstandard.ZstdCompressor().compress(data)
    trunc = tmp_path / "t.jsonl.zst"
    trunc.write_bytes(comp[: len(comp) // 2])
    docs, rejects = read(shard(trunc, "web", "jsonl"))
    assert [r.reason for r in rejects] == ["truncated_zstd"] and docs
    bad = tmp_path / "b.jsonl.zst"
    bad.write_bytes(b"\x28\xb5\x2f\xfd" + b"\xff" * 64)
    docs, rejects = read(shard(bad, "web", "jsonl"))
    assert [r.reason for r in rejects] == ["corrupt_zstd"] and not docs


def test_corrupt_gzip(tmp_path: Path) -> None:
    p = tmp_path / "c.jsonl.gz"
    p.write_bytes(b"\x1f\x8b\x08\x00" + b"\x00" * 6 + b"\xff" * 40)
    _, rejects = read(shard(p, "web", "jsonl"))
    assert [r.reason for r in rejects] == ["corrupt_gzip"]


def test_empty_documents_are_rejected(tmp_path: Path) -> None:
    p = write(tmp_path / "e.jsonl", jsonl([{"text": ""}, {"text": " \n\t "}, GOOD, {"text": "ab"}]))
    docs, rejects = read(shard(p, "web", "jsonl"))
    assert [d.text for d in docs] == ["a good record", "ab"]
    assert [r.reason for r in rejects] == ["empty", "empty"]
    docs, rejects = read(shard(p, "web", "jsonl"), Limits(min_doc_chars=3))
    assert [d.text for d in docs] == ["a good record"] and len(rejects) == 3


def test_20mb_document_is_rejected_and_reading_continues(tmp_path: Path) -> None:
    big = "word " * 4_000_000  # 20 MB
    p = write(tmp_path / "big.jsonl", jsonl([GOOD, {"text": big}, GOOD]))
    docs, rejects = read(shard(p, "web", "jsonl"))
    assert len(docs) == 2 and [r.reason for r in rejects] == ["too_large"]
    assert "20000000 bytes" in (rejects[0].error or "") and len(rejects[0].raw or b"") == 4096
    # with a line cap below the line size the line is skipped without parsing
    docs, rejects = read(shard(p, "web", "jsonl"), Limits(max_line_bytes=1_000_000))
    assert len(docs) == 2 and [r.reason for r in rejects] == ["too_large"]
    assert "max_line_bytes" in (rejects[0].error or "")


def test_20mb_book_and_code_files_are_rejected(tmp_path: Path) -> None:
    big = write(tmp_path / "big.txt", b"word " * 4_000_000)
    _, rejects = read(shard(big, "book", "text"))
    assert [r.reason for r in rejects] == ["too_large"]
    root = tmp_path / "repo"
    write(root / "huge.py", b"x = 1\n" * 3_500_000)
    write(root / "ok.py", b"x = 1\n")
    docs, rejects = read(shard(root, "code", "tree"))
    assert [d.path for d in docs] == ["ok.py"] and [r.reason for r in rejects] == ["too_large"]


def test_binary_file_in_code_shard(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    write(root / "a.py", b"print(1)\n")
    write(root / "blob.bin", b"\x00\x01\x02\x03" * 100)
    write(root / "z.py", b"print(2)\n")
    docs, rejects = read(shard(root, "code", "tree"))
    assert [d.path for d in docs] == ["a.py", "z.py"]
    assert [(r.reason, r.doc.path) for r in rejects] == [("binary_file", "blob.bin")]
    assert rejects[0].raw == b"\x00\x01\x02\x03" * 100


def test_missing_file_and_garbage_parquet_and_warc(tmp_path: Path) -> None:
    _, rejects = read(shard(tmp_path / "nope.jsonl", "web", "jsonl"))
    assert [r.reason for r in rejects] == ["unreadable_file"]
    pq = write(tmp_path / "x.parquet", b"not parquet at all")
    _, rejects = read(shard(pq, "web", "parquet"))
    assert [r.reason for r in rejects] == ["corrupt_parquet"]
    warc = write(tmp_path / "x.warc", b"this is not a warc file\r\n\r\n")
    docs, rejects = read(shard(warc, "web", "warc"))
    assert not docs and len(rejects) == 1 and rejects[0].stage == "read"
    recs = [(f"https://a.example/{i}", "conversion", "text/plain", b"text %d " % i * 200) for i in range(50)]
    full = gzip.compress(warc_bytes(recs, gzip_=False), mtime=0)
    cut = tmp_path / "cut.warc.gz"
    cut.write_bytes(full[: len(full) // 2])
    docs, rejects = read(shard(cut, "web", "warc"))
    assert 0 < len(docs) < 50 and [r.reason for r in rejects] == ["truncated_gzip"]


def test_iter_lines_caps_long_lines_without_holding_them() -> None:
    chunks = iter([b"short\n" + b"x" * 50, b"y" * 100, b"z\nend"])
    out = list(iter_lines(chunks, max_line=64, head_bytes=8))
    assert out[0] == (0, b"short")
    assert out[1] == (1, LongLine(151, b"x" * 8))
    assert out[2] == (2, b"end")


def test_iter_chunks_multi_member_gzip(tmp_path: Path) -> None:
    p = tmp_path / "m.gz"
    p.write_bytes(gzip.compress(b"one\n") + gzip.compress(b"two\n"))
    assert b"".join(iter_chunks(str(p))) == b"one\ntwo\n"


def test_stream_error_carries_partial_line() -> None:
    def chunks():
        yield b'{"a": 1}\n{"b"'
        raise StreamError("truncated_gzip", "cut")

    it = iter_lines(chunks(), 1000)
    assert next(it) == (0, b'{"a": 1}')
    with pytest.raises(StreamError) as info:
        next(it)
    assert info.value.partial == b'{"b"' and info.value.reason == "truncated_gzip"
