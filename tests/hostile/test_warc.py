"""WARC damage: wrong, non-numeric or missing Content-Length, garbage, corrupt members; charset lies."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from .gen import http_response, read, shard, warc_of, warc_record, wet_records

N = 12


def _write(tmp_path: Path, data: bytes, gz: bool = False) -> Path:
    p = tmp_path / ("x.warc.gz" if gz else "x.warc")
    p.write_bytes(gzip.compress(data, mtime=0) if gz else data)
    return p


def _urls(docs) -> list[str]:
    return [d.url for d in docs]


@pytest.mark.parametrize("length", [b"999999", b"40", b"abc", b"-5", b""])
def test_a_bad_content_length_loses_one_record_and_is_accounted(tmp_path: Path, length: bytes) -> None:
    recs = wet_records(N)
    bad = 5
    data = b"".join(warc_record(u, p, length=length if i == bad else None) for i, (u, p) in enumerate(recs))
    docs, rejects = read(shard(_write(tmp_path, data), "web", "warc"))
    expected = [u for i, (u, _) in enumerate(recs) if i != bad]
    assert _urls(docs) == expected  # the intact records after the bad one are read (6 were lost before)
    assert [r.reason for r in rejects] == ["malformed_warc"]  # one reject, no phantom records
    skipped = rejects[0].doc.signals["read.skipped_bytes"]
    assert skipped == len(warc_record(*recs[bad], length=length))  # the bad record, up to the next one
    assert "skipped" in (rejects[0].error or "")


def test_garbage_between_records_is_skipped_and_counted(tmp_path: Path) -> None:
    recs = wet_records(6)
    junk = b"\x00garbage that is not a record\r\n" * 10
    data = warc_of(recs[:3]) + junk + warc_of(recs[3:])
    docs, rejects = read(shard(_write(tmp_path, data), "web", "warc"))
    assert _urls(docs) == [u for u, _ in recs]
    assert [r.reason for r in rejects] == ["malformed_warc"]
    assert rejects[0].doc.signals["read.skipped_bytes"] == len(junk)


def test_a_file_of_garbage_is_one_reject(tmp_path: Path) -> None:
    data = bytes(range(256)) * 40
    docs, rejects = read(shard(_write(tmp_path, data), "web", "warc"))
    assert not docs and [r.reason for r in rejects] == ["malformed_warc"]
    assert rejects[0].doc.signals["read.skipped_bytes"] == len(data)


def test_truncated_last_record(tmp_path: Path) -> None:
    recs = wet_records(5)
    data = warc_of(recs)
    docs, rejects = read(shard(_write(tmp_path, data[:-60]), "web", "warc"))
    assert _urls(docs) == [u for u, _ in recs[:4]]
    assert [r.reason for r in rejects] == ["malformed_warc"]


def test_per_record_gzip_with_a_corrupt_member_loses_only_that_record(tmp_path: Path) -> None:
    recs = wet_records(8)
    members = [gzip.compress(warc_record(u, p), mtime=0) for u, p in recs]
    bad = bytearray(members[3])
    bad[15:35] = b"\xff" * 20
    members[3] = bytes(bad)
    p = tmp_path / "m.warc.gz"
    p.write_bytes(b"".join(members))
    docs, rejects = read(shard(p, "web", "warc"))
    assert _urls(docs) == [u for i, (u, _) in enumerate(recs) if i != 3]
    assert [r.reason for r in rejects] == ["corrupt_gzip"]
    assert rejects[0].doc.signals["read.skipped_bytes"] > 0


def test_latin1_charset_header_on_a_utf8_body_is_decoded_as_utf8(tmp_path: Path) -> None:
    para = "Größe und Übermaß: café, naïve, São Paulo, Kraków, Dvořák. " * 12
    body = f"<html><body><article><h1>Überschrift</h1><p>{para}</p><p>{para}</p></article></body></html>"
    payload = http_response(body.encode("utf-8"), "text/html; charset=iso-8859-1")
    data = warc_record("https://c.example/", payload, rtype="response", ctype="application/http")
    docs, rejects = read(shard(_write(tmp_path, data), "web", "warc"))
    assert not rejects and "Größe und Übermaß" in docs[0].text and "Ã" not in docs[0].text


def test_real_latin1_body_is_still_decoded_by_its_header(tmp_path: Path) -> None:
    para = "Größe und Übermaß: café, naïve. " * 20
    body = f"<html><body><article><p>{para}</p><p>{para}</p></article></body></html>"
    payload = http_response(body.encode("latin-1"), "text/html; charset=iso-8859-1")
    data = warc_record("https://c.example/", payload, rtype="response", ctype="application/http")
    docs, _ = read(shard(_write(tmp_path, data), "web", "warc"))
    assert "Größe und Übermaß" in docs[0].text


def test_gzipped_warc_read_through_the_splitter(tmp_path: Path) -> None:
    recs = wet_records(N)
    docs, rejects = read(shard(_write(tmp_path, warc_of(recs), gz=True), "web", "warc"))
    assert _urls(docs) == [u for u, _ in recs] and not rejects


def test_lf_only_warc_and_empty_records(tmp_path: Path) -> None:
    recs = wet_records(3)
    data = b"".join(warc_record(u, p).replace(b"\r\n", b"\n") for u, p in recs)
    docs, rejects = read(shard(_write(tmp_path, data), "web", "warc"))
    assert _urls(docs) == [u for u, _ in recs] and not rejects
    data = warc_record("https://e.example/", b"") + warc_of(recs)
    docs, rejects = read(shard(_write(tmp_path, data), "web", "warc"))
    assert [r.reason for r in rejects] == ["empty"] and len(docs) == 3


def test_response_with_broken_http_headers_is_one_reject(tmp_path: Path) -> None:
    recs = wet_records(3)
    broken = warc_record(
        "https://b.example/", b"\x00\x01 not http at all", rtype="response", ctype="application/http"
    )
    data = warc_of(recs[:1]) + broken + warc_of(recs[1:])
    docs, rejects = read(shard(_write(tmp_path, data), "web", "warc"))
    assert _urls(docs) == [u for u, _ in recs]
    assert len(rejects) == 1 and rejects[0].stage == "read"
