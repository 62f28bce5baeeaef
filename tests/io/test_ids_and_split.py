"""Stable ids (same across checkouts and re-runs) and deterministic book splitting."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

from curation.document import stable_id
from curation.io import Shard
from curation.io.book_split import split_book

from .helpers import LONG_PARA, jsonl, read, shard, write


def test_ids_do_not_depend_on_the_checkout_location(tmp_path: Path) -> None:
    recs = [
        {"url": "https://a.example/1", "text": "one"},
        {"text": "no url"},
        {"url": "https://a.example/1", "text": "again"},
    ]
    a = write(tmp_path / "checkout1" / "w.jsonl", jsonl(recs))
    b = tmp_path / "elsewhere" / "deep" / "w.jsonl"
    b.parent.mkdir(parents=True)
    shutil.copy(a, b)
    ids_a = [d.id for d in read(shard(a, "web", "jsonl"))[0]]
    ids_b = [d.id for d in read(shard(b, "web", "jsonl"))[0]]
    assert ids_a == ids_b and len(set(ids_a)) == 3
    assert ids_a[0] == stable_id("test", "w.jsonl", "https://a.example/1")  # natural key: the url
    assert ids_a[1] == stable_id("test", "w.jsonl", "#1")  # else the line index
    assert ids_a[2] == stable_id("test", "w.jsonl", "https://a.example/1#1")  # repeated url


def test_ids_survive_a_bad_line_before_them(tmp_path: Path) -> None:
    good = write(tmp_path / "a" / "c.jsonl", jsonl([{"messages": [{"role": "u", "content": "x"}]}] * 3))
    ids = [d.id for d in read(shard(good, "conversation", "jsonl"))[0]]
    lines = [{"messages": [{"role": "u", "content": "x"}]}] * 3
    lines[1] = b"{broken"
    bad = write(tmp_path / "b" / "c.jsonl", jsonl(lines))
    docs, rejects = read(shard(bad, "conversation", "jsonl"))
    assert [d.id for d in docs] == [ids[0], ids[2]] and rejects[0].doc.id == ids[1]


def test_code_ids_use_repo_and_path(tmp_path: Path) -> None:
    write(tmp_path / "r" / "a.py", b"x = 1\n")
    s = Shard("src", "code", str(tmp_path / "r"), "tree", None, "r", {})
    (doc,), _ = read(s)
    assert doc.id == stable_id("src", "r", "r/a.py")


def _book(seed: int) -> str:
    rng = random.Random(seed)
    parts = ["Front matter.\n"]
    for n in range(1, 9):
        parts.append(f"\n\nChapter {n}. A title\n\n" + "\n\n".join([LONG_PARA] * rng.randint(1, 30)))
    return "".join(parts)


def test_split_book_is_lossless_deterministic_and_bounded() -> None:
    for seed in range(5):
        text = _book(seed)
        a = split_book(text, 8000, 1000)
        assert a == split_book(text, 8000, 1000)
        assert "".join(p.text for p in a) == text
        assert all(len(p.text) <= 8000 for p in a)
        assert a[0].heading == "Chapter 1. A title"  # front matter merged into the first chapter


def test_split_book_without_headings_packs_paragraphs() -> None:
    text = "\n\n".join(f"Paragraph {i}. " + LONG_PARA for i in range(400))
    parts = split_book(text, 20_000)
    assert "".join(p.text for p in parts) == text and len(parts) == len(text) // 20_000 + 1
    assert all(p.text.endswith("\n\n") for p in parts[:-1])  # cut at paragraph boundaries
    assert all(p.heading is None for p in parts)


def test_split_book_handles_a_20mb_book_without_newlines_quickly() -> None:
    text = "x" * 20_000_000
    parts = split_book(text, 60_000)
    assert sum(len(p.text) for p in parts) == len(text) and max(len(p.text) for p in parts) <= 60_000


def test_short_book_is_one_part() -> None:
    assert [p.text for p in split_book("CHAPTER I\n\nshort", 1000)] == ["CHAPTER I\n\nshort"]
