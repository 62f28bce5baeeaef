"""gzip / zstd damage: the records before it kept, reading resumes after it, skipped bytes counted."""

from __future__ import annotations

import random
from pathlib import Path

import zstandard

from curation.io.streams import Gap, iter_chunks

from .gen import (
    SEED,
    corrupt_crc,
    gzip_member,
    jsonl,
    raw_deflate_gzip,
    read,
    records,
    shard,
)


def _texts(docs) -> list[str]:
    return [d.text for d in docs]


def test_gzip_with_a_corrupt_crc_keeps_every_record(tmp_path: Path) -> None:
    recs = records(40)
    p = tmp_path / "crc.jsonl.gz"
    p.write_bytes(corrupt_crc(gzip_member(jsonl(recs))))
    docs, rejects = read(shard(p, "web", "jsonl"))
    assert _texts(docs) == [r["text"] for r in recs]  # all 40 (11 were lost before)
    assert [r.reason for r in rejects] == ["corrupt_gzip"]
    assert "incorrect data check" in (rejects[0].error or "")


def test_gzip_corrupt_block_keeps_the_records_before_it(tmp_path: Path) -> None:
    rng = random.Random(SEED)
    recs = [{"text": f"{i} " + "".join(rng.choice("abcdefghij ") for _ in range(300))} for i in range(400)]
    member = bytearray(raw_deflate_gzip(jsonl(recs)))
    at = len(member) * 3 // 4
    member[at : at + 64] = bytes(rng.randrange(256) for _ in range(64))
    p = tmp_path / "blk.jsonl.gz"
    p.write_bytes(bytes(member))
    docs, rejects = read(shard(p, "web", "jsonl"))
    good = _texts(docs)
    # a prefix of the records (maybe a few garbage-decoded lines just before the error become rejects)
    assert len(good) >= 250 and good == [r["text"] for r in recs[: len(good)]]
    gz = [r for r in rejects if r.reason == "corrupt_gzip"]
    assert len(gz) == 1 and gz[0].doc.signals["read.skipped_bytes"] > 0
    assert "skipped" in (gz[0].error or "")


def test_multi_member_gzip_resumes_after_a_corrupt_member(tmp_path: Path) -> None:
    recs = records(30)
    members = [gzip_member(jsonl(recs[i : i + 10])) for i in range(0, 30, 10)]
    bad = bytearray(members[1])
    bad[20:40] = b"\xff" * 20
    p = tmp_path / "mm.jsonl.gz"
    p.write_bytes(members[0] + bytes(bad) + members[2])
    docs, rejects = read(shard(p, "web", "jsonl"))
    texts = _texts(docs)
    assert texts[:10] == [r["text"] for r in recs[:10]]
    assert texts[-10:] == [r["text"] for r in recs[20:]]  # the member after the bad one is read
    assert "corrupt_gzip" in [r.reason for r in rejects]


def test_plain_text_named_gz_is_one_reject_with_its_size(tmp_path: Path) -> None:
    data = jsonl(records(5))
    p = tmp_path / "plain.jsonl.gz"
    p.write_bytes(data)
    docs, rejects = read(shard(p, "web", "jsonl"))
    assert not docs and [r.reason for r in rejects] == ["corrupt_gzip"]
    # counted from the byte where decoding failed (zlib reads one header byte before it fails)
    assert len(data) - 2 <= rejects[0].doc.signals["read.skipped_bytes"] <= len(data)


def test_truncated_gzip_is_reported_after_the_good_records(tmp_path: Path) -> None:
    recs = records(200)
    full = gzip_member(jsonl(recs))
    p = tmp_path / "t.jsonl.gz"
    p.write_bytes(full[: len(full) // 2])
    docs, rejects = read(shard(p, "web", "jsonl"))
    assert 0 < len(docs) < 200 and _texts(docs) == [r["text"] for r in recs[: len(docs)]]
    assert [r.reason for r in rejects] == ["truncated_gzip"]


def test_zstd_corrupt_frame_resumes_at_the_next_frame(tmp_path: Path) -> None:
    recs = records(30)
    cctx = zstandard.ZstdCompressor()
    frames = [cctx.compress(jsonl(recs[i : i + 10])) for i in range(0, 30, 10)]
    bad = bytearray(frames[1])
    bad[12:30] = b"\xee" * 18
    p = tmp_path / "f.jsonl.zst"
    p.write_bytes(frames[0] + bytes(bad) + frames[2])
    docs, rejects = read(shard(p, "web", "jsonl"))
    texts = _texts(docs)
    assert texts[:10] == [r["text"] for r in recs[:10]] and texts[-10:] == [r["text"] for r in recs[20:]]
    z = [r for r in rejects if r.reason == "corrupt_zstd"]
    assert len(z) == 1 and z[0].doc.signals["read.skipped_bytes"] > 0


def test_corrupt_zstd_file_is_accounted(tmp_path: Path) -> None:
    p = tmp_path / "c.jsonl.zst"
    p.write_bytes(b"\x28\xb5\x2f\xfd" + bytes(random.Random(SEED).randrange(256) for _ in range(500)))
    docs, rejects = read(shard(p, "web", "jsonl"))
    assert not docs and [r.reason for r in rejects] == ["corrupt_zstd"]


def test_iter_chunks_never_yields_more_than_a_bounded_step(tmp_path: Path) -> None:
    """One 64 MiB zstd frame of a single byte (a few KB on disk) comes out in bounded pieces."""
    p = tmp_path / "bomb.zst"
    p.write_bytes(zstandard.ZstdCompressor(level=19).compress(b"a" * (64 << 20)))
    assert p.stat().st_size < 10_000
    sizes = [len(c) for c in iter_chunks(str(p)) if not isinstance(c, Gap)]
    assert sum(sizes) == 64 << 20 and max(sizes) <= 33 << 20
