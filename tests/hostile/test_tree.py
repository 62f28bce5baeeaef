"""Code trees and file shards: nothing outside the input root is read, special files never block."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

import curation.io.streams as streams
from curation.io.options import parse_options

from .gen import MARKER, assert_unique_ids, assert_writable, jsonl, read, records, shard


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every path the readers open (all reads go through streams.open_raw)."""
    seen: list[str] = []
    real = streams.open_raw

    def spy(path: str):
        seen.append(path)
        return real(path)

    monkeypatch.setattr(streams, "open_raw", spy)
    return seen


@pytest.fixture
def no_hang():
    """Fail instead of hanging forever if a reader opens a FIFO."""

    def boom(*_):
        raise TimeoutError("reader blocked")

    old = signal.signal(signal.SIGALRM, boom)
    signal.alarm(20)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, old)


def _outside(tmp_path: Path) -> Path:
    secret = tmp_path / "outside" / "secret.txt"
    secret.parent.mkdir()
    secret.write_text(f"{MARKER}\nroot:x:0:0:root:/root:/bin/bash\n")
    return secret


def _no_marker(docs, rejects) -> None:
    for d in [*docs, *(r.doc for r in rejects)]:
        assert MARKER not in d.text
    for r in rejects:
        assert MARKER.encode() not in (r.raw or b"")


def test_symlinks_out_of_the_tree_are_refused_and_never_opened(tmp_path: Path, opened) -> None:
    secret = _outside(tmp_path)
    repo = tmp_path / "inputs" / "repo"
    (repo / "src").mkdir(parents=True)
    (repo / "src" / "ok.py").write_text("print('ok')\n")
    os.symlink("/etc/passwd", repo / "passwd")  # absolute
    os.symlink("../../../outside/secret.txt", repo / "src" / "escape.py")  # relative, escaping the tree
    os.symlink("ok.py", repo / "src" / "alias.py")  # inside the tree: read
    os.symlink(str(tmp_path / "outside"), repo / "outdir")  # a folder outside
    os.symlink("src", repo / "srcdir")  # a folder inside: not followed (its files are read as src/...)
    os.symlink("missing.py", repo / "broken.py")
    docs, rejects = read(shard(repo, "code", "tree"))
    assert sorted(d.path for d in docs) == ["src/alias.py", "src/ok.py"]
    assert sorted((r.doc.path, r.reason) for r in rejects) == [
        ("broken.py", "unreadable_file"),
        ("outdir", "symlink_outside_input"),
        ("passwd", "symlink_outside_input"),
        ("src/escape.py", "symlink_outside_input"),
        ("srcdir", "symlinked_dir"),
    ]
    _no_marker(docs, rejects)
    assert all(os.path.realpath(p).startswith(str(repo.resolve())) for p in opened)
    assert str(secret) not in [os.path.realpath(p) for p in opened]


def test_outside_symlinks_are_followed_only_when_the_source_allows_it(tmp_path: Path) -> None:
    _outside(tmp_path)
    repo = tmp_path / "repo"
    repo.mkdir()
    os.symlink("../outside/secret.txt", repo / "notes.txt")
    assert parse_options({"allow_symlinks_outside": True}, file=None, key="o").allow_symlinks_outside
    docs, _ = read(shard(repo, "code", "tree", allow_symlinks_outside=True))
    assert MARKER in docs[0].text


def test_symlinked_shard_file_outside_its_glob_base_is_refused(tmp_path: Path, opened) -> None:
    _outside(tmp_path)
    base = tmp_path / "inputs"
    base.mkdir()
    link = base / "pages.jsonl"
    os.symlink("../outside/secret.txt", link)
    docs, rejects = read(shard(link, "web", "jsonl", rel="pages.jsonl"))
    assert not docs and [r.reason for r in rejects] == ["symlink_outside_input"]
    assert not opened
    inside = base / "real.jsonl"
    inside.write_bytes(jsonl(records(2)))
    os.symlink("real.jsonl", base / "alias.jsonl")
    docs, _ = read(shard(base / "alias.jsonl", "web", "jsonl", rel="alias.jsonl"))
    assert len(docs) == 2  # a symlink inside the input folder is fine


def test_fifo_in_a_tree_and_as_a_shard_does_not_hang(tmp_path: Path, no_hang) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "a.py").write_text("x = 1\n")
    os.mkfifo(repo / "pipe.py")
    docs, rejects = read(shard(repo, "code", "tree"))
    assert [d.path for d in docs] == ["a.py"]
    assert [(r.doc.path, r.reason) for r in rejects] == [("pipe.py", "not_regular_file")]
    os.mkfifo(tmp_path / "p.jsonl")
    for kind, fmt in [("web", "jsonl"), ("web", "warc"), ("book", "text"), ("web", "parquet")]:
        docs, rejects = read(shard(tmp_path / "p.jsonl", kind, fmt))
        assert not docs and [r.reason for r in rejects] == ["not_regular_file"], (kind, fmt)


def test_device_file_is_refused(tmp_path: Path, no_hang) -> None:
    docs, rejects = read(shard(Path("/dev/zero"), "book", "text", rel="zero"))
    assert not docs and [r.reason for r in rejects] == ["not_regular_file"]


def test_non_utf8_and_backslash_file_names(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    raw = os.fsencode(repo) + b"/caf\xe9.py"
    with open(raw, "wb") as fh:
        fh.write(b"print('latin-1 name')\n")
    (repo / "a\\b.py").write_text("print('backslash')\n")
    (repo / "a").mkdir()
    (repo / "a" / "b.py").write_text("print('real folder')\n")
    docs, rejects = read(shard(repo, "code", "tree"))
    by_path = {d.path: d for d in docs}
    assert set(by_path) == {"a/b.py", "a\\b.py", "caf\ufffd.py"}  # "\\" is a character, not a separator
    assert by_path["caf\ufffd.py"].signals["read.lone_surrogates"] == 1
    assert by_path["caf\ufffd.py"].text == "print('latin-1 name')\n"
    assert by_path["a\\b.py"].text == "print('backslash')\n"
    assert not rejects
    assert_writable(docs, rejects)
    assert_unique_ids(docs, rejects)


def test_deep_tree_archives_and_empty_folders(tmp_path: Path) -> None:
    import zipfile

    repo = tmp_path / "repo"
    deep = repo.joinpath(*[f"d{i}" for i in range(60)])
    deep.mkdir(parents=True)
    (deep / "leaf.py").write_text("x = 1\n")
    (repo / "empty_dir").mkdir()
    with zipfile.ZipFile(repo / "bundle.zip", "w") as z:
        z.writestr("a.txt", "inside a zip")
    docs, rejects = read(shard(repo, "code", "tree"))
    assert [d.path.count("/") for d in docs] == [60]
    assert [(r.doc.path, r.reason) for r in rejects] == [("bundle.zip", "binary_file")]
    empty = tmp_path / "nothing"
    empty.mkdir()
    docs, rejects = read(shard(empty, "code", "tree"))
    assert not docs and [r.reason for r in rejects] == ["empty"]
