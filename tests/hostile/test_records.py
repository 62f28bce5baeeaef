"""JSONL records: BOM, deep nesting, lone surrogates in every string field; nothing lost, all writable."""

from __future__ import annotations

from pathlib import Path

from curation.document import SURROGATES_SIGNAL

from .gen import assert_unique_ids, assert_writable, jsonl, read, records, shard


def test_utf8_bom_does_not_break_the_first_record(tmp_path: Path) -> None:
    recs = records(5)
    p = tmp_path / "bom.jsonl"
    p.write_bytes(b"\xef\xbb\xbf" + jsonl(recs))
    docs, rejects = read(shard(p, "web", "jsonl"))
    assert not rejects and [d.text for d in docs] == [r["text"] for r in recs]


def test_a_byte_order_mark_inside_a_line_is_still_malformed(tmp_path: Path) -> None:
    p = tmp_path / "mid.jsonl"
    p.write_bytes(b'{"text": "a"}' + b"\xef\xbb\xbf" + b"\n")
    _, rejects = read(shard(p, "web", "jsonl"))
    assert [r.reason for r in rejects] == ["malformed_json"]


def test_deeply_nested_line_is_one_reject_and_the_following_lines_read(tmp_path: Path) -> None:
    recs = records(6)
    deep = b'{"text": "x", "meta": ' + b"[" * 200_000 + b"]" * 200_000 + b"}"
    p = tmp_path / "deep.jsonl"
    p.write_bytes(jsonl([*recs[:3], deep, *recs[3:]]))
    docs, rejects = read(shard(p, "web", "jsonl"))
    assert [d.text for d in docs] == [r["text"] for r in recs]  # the lines after it are read
    assert [r.reason for r in rejects] == ["malformed_json"]
    assert "nested too deeply" in (rejects[0].error or "")
    assert len(docs) + len(rejects) == 7  # read's docs_in == records in the file


def test_lone_surrogates_in_text_url_meta_become_replacement_characters(tmp_path: Path) -> None:
    lines = [
        b'{"url": "https://s.example/\\ud800", "text": "bad \\udfff text", "site": "m\\ud800eta"}',
        b'{"url": "https://s.example/ok", "text": "good text", "title": "t\\udc80"}',
        b'{"text": "pair \\ud83d\\ude00 is fine"}',
    ]
    p = tmp_path / "sur.jsonl"
    p.write_bytes(b"\n".join(lines) + b"\n")
    docs, rejects = read(shard(p, "web", "jsonl"))
    assert not rejects and len(docs) == 3
    a, b, c = docs
    assert (
        a.text == "bad \ufffd text" and a.url == "https://s.example/\ufffd" and a.meta["site"] == "m\ufffdeta"
    )
    assert a.signals[SURROGATES_SIGNAL] == 3
    assert b.title == "t\ufffd" and b.signals[SURROGATES_SIGNAL] == 1
    assert c.text == "pair \U0001f600 is fine" and SURROGATES_SIGNAL not in c.signals  # a valid pair
    assert_writable(docs, rejects)


def test_surrogates_in_conversations_and_code_records(tmp_path: Path) -> None:
    conv = tmp_path / "c.jsonl"
    conv.write_bytes(b'{"messages": [{"role": "u\\ud800", "content": "hi \\udfff"}]}\n')
    docs, _ = read(shard(conv, "conversation", "jsonl"))
    assert docs[0].messages == (("u\ufffd", "hi \ufffd"),) and "\ufffd" in docs[0].text
    code = tmp_path / "k.jsonl"
    code.write_bytes(b'{"repo": "r\\ud800", "path": "a\\udc00.py", "content": "x = 1\\n"}\n')
    docs, rejects = read(shard(code, "code", "jsonl"))
    assert docs[0].path == "a\ufffd.py" and docs[0].repo == "r\ufffd"
    assert_writable(docs, rejects)


def test_surrogates_in_rejected_records_are_writable(tmp_path: Path) -> None:
    p = tmp_path / "r.jsonl"
    p.write_bytes(b'{"url": "https://s.example/\\ud800", "text": "   ", "k": "\\udfff"}\n')
    docs, rejects = read(shard(p, "web", "jsonl"))
    assert not docs and [r.reason for r in rejects] == ["empty"]
    assert rejects[0].doc.url == "https://s.example/\ufffd"
    assert_writable(docs, rejects)


def test_mixed_garbage_lines_are_each_accounted(tmp_path: Path) -> None:
    recs = records(4)
    lines = [recs[0], b"\x00\x01\x02", recs[1], b"[]", b"null", b'{"text": 5}', recs[2], b"\xff\xfe", recs[3]]
    p = tmp_path / "g.jsonl"
    p.write_bytes(jsonl(lines))
    docs, rejects = read(shard(p, "web", "jsonl"))
    assert len(docs) == 4
    assert [r.reason for r in rejects] == [
        "malformed_json", "malformed_json", "malformed_json", "missing_field:text", "invalid_utf8",
    ]  # fmt: skip
    assert len(docs) + len(rejects) == len(lines)
    assert_unique_ids(docs, rejects)


def test_truncated_and_garbage_parquet_are_accounted(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    recs = records(50)
    good = tmp_path / "good.parquet"
    pq.write_table(pa.Table.from_pylist(recs), good, row_group_size=10)
    data = good.read_bytes()
    cut = tmp_path / "cut.parquet"
    cut.write_bytes(data[: len(data) // 2])
    docs, rejects = read(shard(cut, "web", "parquet"))
    assert not docs and [r.reason for r in rejects] == ["corrupt_parquet"]
    docs, rejects = read(shard(good, "web", "parquet"))
    assert [d.text for d in docs] == [r["text"] for r in recs] and not rejects


def test_empty_files_yield_nothing_and_do_not_fail(tmp_path: Path) -> None:
    for name in ("e.jsonl", "e.jsonl.gz", "e.jsonl.zst"):
        (tmp_path / name).write_bytes(b"")
        assert read(shard(tmp_path / name, "web", "jsonl")) == ([], [])


def test_sanitize_document_covers_every_string_field() -> None:
    from curation.document import Document, sanitize_document

    doc = Document(
        id="i",
        source_kind="web",
        source="s\ud800",
        text="ok",
        path="p\udcff",
        author="a\ud800",
        messages=(("r\ud800", "c\udfff"),),
        html="<p>\ud800</p>",
        meta={"k\ud800": "v\udfff"},
        signals={"x": ["a\ud800", "b"]},
    )
    out = sanitize_document(doc)
    assert out.signals[SURROGATES_SIGNAL] == 9
    assert out.source == "s\ufffd" and out.path == "p\ufffd" and out.author == "a\ufffd"
    assert out.messages == (("r\ufffd", "c\ufffd"),) and out.html == "<p>\ufffd</p>"
    assert out.meta == {"k\ufffd": "v\ufffd"} and out.signals["x"] == ["a\ufffd", "b"]
    clean = Document(id="i", source_kind="web", source="s", text="caf\u00e9 \U0001f600", meta={"k": "v"})
    assert sanitize_document(clean) is clean


def test_parquet_row_group_bomb_is_not_decoded(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from curation.config import Limits

    p = tmp_path / "bomb.parquet"
    big = "a" * (70 << 20)
    pq.write_table(pa.table({"text": [big, "small"]}), p, compression="zstd", row_group_size=2)
    del big
    assert p.stat().st_size < 1_000_000
    docs, rejects = read(shard(p, "web", "parquet"), Limits(max_doc_bytes=1_000_000))
    assert not docs and [r.reason for r in rejects] == ["too_large", "too_large"]  # both rows accounted
    assert "row group 0" in (rejects[0].error or "")


def test_other_classic_json_failures(tmp_path: Path) -> None:
    lines = [
        b'{"text": "big number", "n": ' + b"9" * 5000 + b"}",  # over Python's int digit limit
        b'{"text": "nan is accepted", "score": NaN}',
        b'{"text": "dup key", "text": "last wins"}',
        b'{"url": "https://d.example/", "text": "first copy"}',
        b'{"url": "https://d.example/", "text": "second copy"}',
        b'{"text": "\\u0000 nul escape"}',
    ]
    p = tmp_path / "c.jsonl"
    p.write_bytes(b"\r\n".join(lines) + b"\r\n")  # CRLF line ends
    docs, rejects = read(shard(p, "web", "jsonl"))
    assert [r.reason for r in rejects] == ["malformed_json"]
    assert [d.text for d in docs][:2] == ["nan is accepted", "last wins"]
    assert len(docs) + len(rejects) == len(lines)
    assert_unique_ids(docs, rejects)  # the repeated URL gets its own id
    assert_writable(docs, rejects)


def test_bom_only_book_is_empty(tmp_path: Path) -> None:
    p = tmp_path / "b.txt"
    p.write_bytes(b"\xef\xbb\xbf\n\n")
    docs, rejects = read(shard(p, "book", "text"))
    assert not docs and [r.reason for r in rejects] == ["empty"]
