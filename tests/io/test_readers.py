"""Each reader on real-format fixtures: WARC (warcio), JSONL/Parquet, gzip/zstd, text books, code trees."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from curation.config import Limits
from curation.document import render_messages

from .helpers import LONG_PARA, html_page, jsonl, read, shard, warc_bytes, write

BODY = "\n\n".join([LONG_PARA] * 3)


@pytest.mark.parametrize("gz", [True, False])
def test_warc_response_html_is_extracted_with_fetch_metadata(tmp_path: Path, gz: bool) -> None:
    page = html_page("Harbour", BODY, footer="Cookie settings | Imprint").encode()
    data = warc_bytes(
        [
            ("https://a.example/x", "metadata", "application/warc-fields", b"via: test\r\n"),
            ("https://a.example/x", "response", "text/html; charset=utf-8", page),
            ("https://a.example/404", "response", "text/html", b"<html>gone</html>"),
            ("https://a.example/img.png", "response", "image/png", b"\x89PNG\x00\x00"),
            ("https://a.example/x.wet", "conversion", "text/plain", b"Plain extracted text of a page."),
        ],
        gzip_=gz,
    )
    p = write(tmp_path / ("c.warc.gz" if gz else "c.warc"), data)
    docs, rejects = read(shard(p, "web", "warc"))
    assert [d.url for d in docs] == ["https://a.example/x", "https://a.example/x.wet"]
    html_doc, wet = docs
    assert "lighthouse keeper" in html_doc.text and "Cookie settings" not in html_doc.text
    assert html_doc.html and html_doc.html.startswith("<html>")
    assert html_doc.meta["http_status"] == "200" and html_doc.meta["warc_record_id"].startswith("<urn:uuid:")
    assert html_doc.meta["warc_date"] and "text/html" in html_doc.meta["content_type"]
    assert wet.text == "Plain extracted text of a page." and wet.meta["warc_type"] == "conversion"
    assert sorted(r.reason for r in rejects) == ["http_status:404", "unsupported_content_type:image/png"]
    assert all(d.token_count == 0 and d.source_kind == "web" for d in docs)


def test_web_jsonl_html_text_and_extraction_modes(tmp_path: Path) -> None:
    recs = [
        {"url": "https://a.example/1", "html": html_page("One", BODY), "site": "a"},
        {"url": "https://a.example/2", "text": "Given text.", "html": html_page("Two", BODY)},
        {"url": "https://a.example/3", "html": "<html><body></body></html>"},
        {"url": "https://a.example/4"},
    ]
    p = write(tmp_path / "w.jsonl.zst", jsonl(recs))
    docs, rejects = read(shard(p, "web", "jsonl"))
    assert "lighthouse keeper" in docs[0].text and docs[0].meta["site"] == "a"
    assert docs[1].text == "Given text." and docs[1].html  # auto: existing text wins, html kept
    assert [r.reason for r in rejects] == ["html_extraction_failed", "missing_field:text"]
    docs2, _ = read(shard(p, "web", "jsonl", extract_html="always"))
    assert "lighthouse keeper" in docs2[1].text


def test_manifest_license_is_set_on_every_document(tmp_path: Path) -> None:
    p = write(tmp_path / "c.jsonl.gz", jsonl([{"messages": [{"role": "user", "content": "hi"}]}]))
    docs, _ = read(shard(p, "conversation", "jsonl", license="CC-BY-4.0"))
    d = docs[0]
    assert (d.license, d.license_evidence, d.license_confidence) == ("CC-BY-4.0", "manifest", 1.0)
    docs, _ = read(shard(p, "conversation", "jsonl"))
    assert docs[0].license is None and docs[0].license_evidence is None


def test_web_parquet(tmp_path: Path) -> None:
    p = tmp_path / "w.parquet"
    pq.write_table(pa.table({"url": ["https://a.example/1", None], "text": ["hello web", "second"]}), p)
    docs, rejects = read(shard(p, "web", "parquet"))
    assert [d.text for d in docs] == ["hello web", "second"] and not rejects
    assert docs[0].url == "https://a.example/1" and docs[1].url is None


def test_conversation_messages_role_or_speaker(tmp_path: Path) -> None:
    recs = [
        {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": ""}], "lang": "en"},
        {"messages": [{"speaker": "ferret", "content": "ping", "time": "10:00"}]},
        {"conversations": [{"from": "human", "value": "sharegpt style"}]},
        {"messages": [{"role": "user", "content": "  "}]},
        {"messages": [{"role": "user", "content": 3}]},
        {"text": "no messages"},
    ]
    p = write(tmp_path / "c.jsonl", jsonl(recs))
    docs, rejects = read(shard(p, "conversation", "jsonl"))
    assert docs[0].messages == (("user", "Hi"), ("assistant", ""))  # empty turn kept
    assert docs[0].text == render_messages(docs[0].messages) and docs[0].meta["lang"] == "en"
    assert docs[1].messages == (("ferret", "ping"),)
    assert docs[2].text == "human: sharegpt style"
    assert [r.reason for r in rejects] == ["empty", "malformed_messages", "missing_field:messages"]


def test_book_text_file_with_gutenberg_header_is_split(tmp_path: Path) -> None:
    chapters = "".join(f"\n\nCHAPTER {n}\n\n" + "\n\n".join([LONG_PARA] * 12) for n in range(1, 7))
    text = (
        "Title: The Harbour Book\nAuthor: A. Keeper\n\n*** START OF THE PROJECT GUTENBERG EBOOK ***"
        + chapters
    )
    p = write(tmp_path / "harbour.txt.gz", text.encode())
    docs, rejects = read(shard(p, "book", "text"), Limits(book_max_chars=5000))
    assert not rejects and len(docs) == 6
    assert "".join(d.text for d in docs) == text
    assert {d.title for d in docs} == {"The Harbour Book"} and {d.author for d in docs} == {"A. Keeper"}
    assert [d.meta["part"] for d in docs] == [str(i) for i in range(6)]
    assert docs[2].meta["chapter"] == "CHAPTER 3" and docs[0].meta["parts"] == "6"
    assert "PROJECT GUTENBERG" in docs[0].text
    assert len({d.id for d in docs}) == 6


def test_book_jsonl_records(tmp_path: Path) -> None:
    p = write(
        tmp_path / "b.jsonl", jsonl([{"title": "T", "author": "A", "text": "Chapter text.", "part": 3}])
    )
    docs, _ = read(shard(p, "book", "jsonl"))
    assert (docs[0].title, docs[0].author, docs[0].meta["part"]) == ("T", "A", "3")


def _tree(root: Path) -> None:
    files = {
        "LICENSE": b"MIT License\n\nPermission is hereby granted, free of charge...\n",
        "src/pkg/core.py": b"# SPDX-License-Identifier: MIT\n\ndef f(x):\n    return x + 1\n",
        "src/pkg/gen_pb2.py": b"# Generated by the protocol buffer compiler.  DO NOT EDIT!\nX = 1\n",
        "web/app.js": b"function f(x) {\n  return x;\n}\n",
        "web/bundle.js": b"var a=1;" * 300,
        "web/app.min.js": b"var a=1;\n",
        "assets/logo.png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
        "assets/latin1.txt": "caf\u00e9".encode("latin-1"),
        "node_modules/dep/index.js": b"module.exports = 1;\n",
        "third_party/lib.c": b"int x;\n",
        "yarn.lock": b"# yarn lockfile v1\n",
        "empty.py": b"",
        ".git/HEAD": b"ref: refs/heads/main\n",
    }
    for rel, data in files.items():
        write(root / rel, data)


def test_code_tree(tmp_path: Path) -> None:
    root = tmp_path / "myrepo"
    _tree(root)
    docs, rejects = read(shard(root, "code", "tree", license="MIT"))
    by_path = {d.path: d for d in docs}
    assert set(by_path) == {"LICENSE", "src/pkg/core.py", "web/app.js"}
    assert by_path["LICENSE"].code_language == "license-text"
    assert (
        by_path["src/pkg/core.py"].code_language == "Python"
        and by_path["web/app.js"].code_language == "JavaScript"
    )
    assert {d.repo for d in docs} == {"myrepo"}
    reasons = {r.doc.path: r.reason for r in rejects}
    assert reasons == {
        "src/pkg/gen_pb2.py": "generated",
        "web/bundle.js": "minified",
        "web/app.min.js": "minified",
        "assets/logo.png": "binary_file",
        "assets/latin1.txt": "binary_file",
        "node_modules/dep/index.js": "vendored",
        "third_party/lib.c": "vendored",
        "yarn.lock": "generated",
        "empty.py": "empty",
    }
    png = next(r for r in rejects if r.doc.path == "assets/logo.png")
    assert png.raw and png.raw.startswith(b"\x89PNG") and png.stage == "read"


def test_code_records_jsonl_zst(tmp_path: Path) -> None:
    recs = [
        {"repo": "r", "path": "a/b.go", "content": "package b\n"},
        {"repo": "r", "path": "x.unknownext", "text": "data\n", "language": "Weird"},
        {
            "repo": "r",
            "path": "gen.go",
            "content": "// Code generated by stringer. DO NOT EDIT.\npackage x\n",
        },
        {"repo": "r", "content": "no path", "language": "Python"},
    ]
    p = write(tmp_path / "code.jsonl.zst", jsonl(recs))
    docs, rejects = read(shard(p, "code", "jsonl"))
    assert [(d.path, d.code_language) for d in docs] == [
        ("a/b.go", "Go"),
        ("x.unknownext", "Weird"),
        (None, "Python"),  # a record without path is kept, language from the record (issue 19)
    ]
    assert [r.reason for r in rejects] == ["generated"]
    assert rejects[0].doc.text.startswith("// Code generated")  # original text kept in the reject


def test_code_not_generated_or_minified_when_markers_are_not_in_head_comments(tmp_path: Path) -> None:
    body = (
        'def main():\n    print("// generated file; DO NOT EDIT")\n'
        + "x = 1\n" * 20
        + "s = '"
        + "y" * 2000
        + "'\n"
    )
    p = write(tmp_path / "c.jsonl", jsonl([{"repo": "r", "path": "maketables.py", "content": body}]))
    docs, rejects = read(shard(p, "code", "jsonl"))
    assert len(docs) == 1 and not rejects
