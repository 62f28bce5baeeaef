"""``read_counted``: the records of ``read_shard`` in the same order, documents with their token counts,
whatever the read-ahead; a reader failure still ends the shard with its ``read_error`` reject."""

from __future__ import annotations

from pathlib import Path

import pytest

from curation.config import Limits
from curation.document import Document, Reject
from curation.io import read as read_module
from curation.io import read_counted, read_shard
from curation.tokens import get_counter
from tests.io.helpers import LONG_PARA, html_page, jsonl, shard, write


def _records() -> list:
    out: list = []
    for i in range(23):
        if i % 5 == 0:
            out.append({"url": f"https://e.org/{i}", "html": html_page(f"Page {i}", LONG_PARA * (i % 3 + 1))})
        elif i % 7 == 0:
            out.append(b"{not json")
        elif i % 11 == 0:
            out.append({"url": f"https://e.org/{i}", "text": "   "})  # empty: rejected
        else:
            out.append({"url": f"https://e.org/{i}", "text": f"Record {i}. " + LONG_PARA[: 40 * i]})
    return out


def _id(out: Document | Reject) -> str:
    return out.doc.id if isinstance(out, Reject) else out.id


@pytest.mark.parametrize("read_ahead", [0, 1, 2, 7, 64])
def test_same_records_in_order_with_token_counts(tmp_path: Path, read_ahead: int) -> None:
    s = shard(write(tmp_path / "web.jsonl", jsonl(_records())), "web", "jsonl")
    counter = get_counter()
    plain = list(read_shard(s, Limits()))
    counted = list(read_counted(s, Limits(), counter.count_batch, read_ahead))
    assert any(isinstance(o, Reject) for o in plain) and sum(isinstance(o, Document) for o in plain) > 10
    expected = [o.evolve(token_count=counter.count(o.text)) if isinstance(o, Document) else o for o in plain]
    assert counted == expected
    assert all(o.token_count > 0 for o in counted if isinstance(o, Document))


def test_reader_failure_keeps_earlier_records_and_its_reject(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = shard(write(tmp_path / "web.jsonl", jsonl(_records())), "web", "jsonl")
    good = list(read_shard(s, Limits()))[:9]

    def failing(ctx):  # the first 9 records, then a reader bug
        yield from good
        raise RuntimeError("boom")

    monkeypatch.setitem(read_module._READERS, "web", failing)
    out = list(read_counted(s, Limits(), get_counter("whitespace").count_batch, 4))
    assert len(out) == 10
    assert [_id(o) for o in out[:9]] == [_id(o) for o in good]
    assert isinstance(out[-1], Reject) and out[-1].reason == "read_error"


def test_read_ahead_stops_at_the_character_budget(tmp_path: Path) -> None:
    s = shard(write(tmp_path / "web.jsonl", jsonl(_records())), "web", "jsonl")
    counter = get_counter()
    batches: list[int] = []

    def count_batch(texts: list[str]) -> list[int]:
        batches.append(len(texts))
        return counter.count_batch(texts)

    plain = list(read_counted(s, Limits(), counter.count_batch))
    assert list(read_counted(s, Limits(), count_batch, 64, read_ahead_chars=1)) == plain
    assert set(batches) == {1}  # every document is over a 1-character budget: counted one at a time
    batches.clear()
    assert list(read_counted(s, Limits(), count_batch, 64, read_ahead_chars=10**9)) == plain
    assert batches == [sum(isinstance(o, Document) for o in plain)]  # 23 records: one chunk
