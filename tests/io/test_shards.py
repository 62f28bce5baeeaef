"""expand_sources: globs relative to the config, format detection, tree shards, errors naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from curation.config import PipelineConfig, SourceSpec, load_config
from curation.io import detect_format, expand_sources
from curation.rules import ConfigError

from .helpers import write


def _cfg(tmp_path: Path, *sources: SourceSpec) -> PipelineConfig:
    return PipelineConfig(sources=sources, path=str(tmp_path / "conf" / "pipeline.yaml"))


def _data(tmp_path: Path) -> None:
    write(tmp_path / "data/web/a.jsonl.gz", b"{}\n")
    write(tmp_path / "data/web/b.warc.gz", b"")
    write(tmp_path / "data/web/c.parquet", b"")
    write(tmp_path / "data/web/.hidden.jsonl", b"")
    write(tmp_path / "data/code/repo1/src/x.py", b"x=1\n")
    write(tmp_path / "data/code/repo1/LICENSE", b"MIT\n")
    write(tmp_path / "data/code/repo2/main.go", b"package main\n")
    write(tmp_path / "data/code/files.jsonl.zst", b"")


def test_globs_are_relative_to_the_config_and_sorted(tmp_path: Path) -> None:
    _data(tmp_path)
    cfg = _cfg(
        tmp_path,
        SourceSpec(kind="web", paths=("../data/web/*",), name="w", license="CC-BY-4.0"),
        SourceSpec(kind="code", paths=("../data/code/*",)),
    )
    shards = expand_sources(cfg)
    got = [(s.source, s.rel, s.format, s.kind) for s in shards]
    assert got == [
        ("code-1", "files.jsonl.zst", "jsonl", "code"),
        ("code-1", "repo1", "tree", "code"),
        ("code-1", "repo2", "tree", "code"),
        ("w", "a.jsonl.gz", "jsonl", "web"),
        ("w", "b.warc.gz", "warc", "web"),
        ("w", "c.parquet", "parquet", "web"),
    ]
    assert all(Path(s.path).is_absolute() for s in shards)
    assert {s.license for s in shards if s.source == "w"} == {"CC-BY-4.0"}
    assert expand_sources(cfg) == shards


def test_tree_layout_repos_splits_a_folder_per_repository(tmp_path: Path) -> None:
    _data(tmp_path)
    cfg = _cfg(tmp_path, SourceSpec(kind="code", paths=("../data/code",), options={"tree_layout": "repos"}))
    assert [(s.rel, s.format) for s in expand_sources(cfg)] == [
        ("code/repo1", "tree"),
        ("code/repo2", "tree"),
    ]


def test_pattern_matching_nothing_names_the_key(tmp_path: Path) -> None:
    _data(tmp_path)
    cfg = _cfg(tmp_path, SourceSpec(kind="web", paths=("../data/web/*", "../data/none/*.jsonl")))
    with pytest.raises(ConfigError, match=r"sources\[0\]\.paths.*matches nothing"):
        expand_sources(cfg)


def test_undetectable_or_disallowed_format_names_the_key(tmp_path: Path) -> None:
    write(tmp_path / "data/x.bin", b"")
    with pytest.raises(ConfigError, match=r"sources\[0\]\.format.*allowed formats for web"):
        expand_sources(_cfg(tmp_path, SourceSpec(kind="web", paths=("../data/*.bin",))))
    _data(tmp_path)
    with pytest.raises(ConfigError, match=r"sources\[0\]\.format"):
        expand_sources(_cfg(tmp_path, SourceSpec(kind="web", paths=("../data/code/*",))))
    with pytest.raises(ConfigError, match=r"sources\[0\]\.format"):
        expand_sources(
            _cfg(tmp_path, SourceSpec(kind="conversation", paths=("../data/x.bin",), format="text"))
        )


def test_bad_reader_options_name_the_key(tmp_path: Path) -> None:
    _data(tmp_path)
    bad = SourceSpec(kind="web", paths=("../data/web/*",), options={"extract_html": "sometimes"})
    with pytest.raises(ConfigError, match=r"sources\[0\]\.options\.extract_html.*allowed values"):
        expand_sources(_cfg(tmp_path, bad))
    bad = SourceSpec(kind="web", paths=("../data/web/*",), options={"no_such_option": 1})
    with pytest.raises(ConfigError, match=r"sources\[0\]\.options\.no_such_option"):
        expand_sources(_cfg(tmp_path, bad))


@pytest.mark.parametrize(
    ("name", "kind", "fmt"),
    [
        ("a.warc.gz", "web", "warc"),
        ("CC-MAIN-1.warc.wet.gz", "web", "warc"),
        ("a.ndjson.zst", "conversation", "jsonl"),
        ("a.json", "book", "jsonl"),
        ("a.txt.gz", "book", "text"),
        ("a.parquet", "code", "parquet"),
        ("main.rs", "code", "text"),
        ("a.html", "web", None),
    ],
)
def test_detect_format(name: str, kind: str, fmt: str | None) -> None:
    assert detect_format(name, False, kind) == fmt


def test_bundled_pipeline_config_expands(repo_root: Path) -> None:
    cfg = load_config(repo_root / "rules" / "pipeline.yaml", check_stages=False)
    shards = expand_sources(cfg)
    kinds = {s.kind for s in shards}
    assert kinds == {"web", "book", "code", "conversation"}
    assert any(s.format == "tree" for s in shards) and any(s.format == "warc" for s in shards)
