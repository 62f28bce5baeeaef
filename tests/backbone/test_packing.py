"""Documents serialise as their packed fields and come back equal, through pickle (plain: cheap for the
runner's many pickles) and explicitly (zstd-compressed: the dedup join holds the corpus)."""

from __future__ import annotations

import pickle

import pytest

from curation.document import Document, Reject, pack_document, unpack_document


def _big() -> Document:
    return Document(
        id="d1",
        source_kind="web",
        source="shard-0",
        text="The quick brown fox jumps over the lazy dog. " * 200 + "ünïcode \U0001f600 \ud800",
        html="<html><body>" + "<p>The quick brown fox</p>" * 300 + "</body></html>",
        messages=(("user", "hi"), ("assistant", "hello")),
        meta={"k": "v"},
        lang="en",
        lang_score=0.93,
        token_count=2001,
        signals={"quality.gopher.word_count": 1800, "license.candidates": ["a=MIT"], "x.flag": True},
    )


def test_pack_round_trip_and_compresses_large_documents() -> None:
    doc = _big()
    packed = pack_document(doc)
    assert unpack_document(packed) == doc
    plain = pickle.dumps(tuple(getattr(doc, f) for f in Document.__dataclass_fields__), protocol=5)
    assert packed[:1] == b"z"
    assert len(packed) < len(plain) / 4  # repetitive text: far smaller than the pickled fields


def test_tiny_documents_are_stored_plain() -> None:
    doc = Document(id="t", source_kind="code", source="s", text="x = 1\n")
    packed = pack_document(doc)
    assert packed[:1] == b"p"
    assert unpack_document(packed) == doc


def test_pickle_uses_the_plain_packed_form_for_documents_and_rejects() -> None:
    doc = _big()
    blob = pickle.dumps(doc)
    assert b"unpack_document" in blob and b"token_count" not in blob  # fields as one tuple, no names
    assert pickle.loads(blob) == doc
    assert pack_document(doc, compress=False)[:1] == b"p"
    rej = Reject(doc=doc, stage="quality", reason="quality:gopher.min_words", reasons=("a", "b"))
    assert pickle.loads(pickle.dumps(rej)) == rej


def test_unpack_refuses_foreign_bytes() -> None:
    with pytest.raises(ValueError, match="not a packed document"):
        unpack_document(b"xgarbage")
