"""Numeric options out of range fail at build time, naming the key and the allowed range."""

from __future__ import annotations

from pathlib import Path

import pytest

from curation.config import load_config
from curation.io.book_split import split_book
from curation.io.options import parse_options
from curation.rules import ConfigError

REPO = Path(__file__).resolve().parents[2]


def _config(tmp_path: Path, limits: str) -> Path:
    (tmp_path / "d.jsonl").write_text('{"text": "a"}\n')
    p = tmp_path / "pipeline.yaml"
    p.write_text(
        f"limits: {{{limits}}}\n"
        "sources:\n  - {kind: web, paths: [d.jsonl]}\n"
        "stages: [{name: normalize}]\n"
    )
    return p


@pytest.mark.parametrize(
    ("limits", "key", "allowed"),
    [
        ("max_doc_bytes: -1", "limits.max_doc_bytes", ">= 1"),
        ("min_doc_chars: -3", "limits.min_doc_chars", ">= 0"),
        ("book_max_chars: 0", "limits.book_max_chars", ">= 1"),
        ("max_line_bytes: 0", "limits.max_line_bytes", ">= 1"),
        ("raw_bytes_in_rejects: -1", "limits.raw_bytes_in_rejects", ">= 0"),
    ],
)
def test_out_of_range_limit_fails_naming_key_and_range(
    tmp_path: Path, limits: str, key: str, allowed: str
) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(_config(tmp_path, limits))
    msg = str(info.value)
    assert f"key '{key}'" in msg and f"allowed: {allowed}" in msg and "pipeline.yaml" in msg


def test_in_range_limits_load(tmp_path: Path) -> None:
    cfg = load_config(_config(tmp_path, "min_doc_chars: 0, book_max_chars: 1, max_doc_bytes: 1"))
    assert cfg.limits.book_max_chars == 1 and cfg.limits.min_doc_chars == 0


@pytest.mark.parametrize(
    ("options", "key"),
    [
        ({"minified_max_line": 0}, "minified_max_line"),
        ({"minified_mean_line": -1}, "minified_mean_line"),
        ({"generated_head_lines": -1}, "generated_head_lines"),
        ({"min_part_chars": -5}, "min_part_chars"),
    ],
)
def test_out_of_range_reader_option_fails(options: dict, key: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_options(options, file="p.yaml", key="sources[0].options")
    assert f"key 'sources[0].options.{key}'" in str(info.value) and "allowed: >=" in str(info.value)
    parse_options({key: 1}, file="p.yaml", key="sources[0].options")  # in range: fine


def test_split_book_refuses_a_zero_limit_instead_of_dividing_by_zero() -> None:
    with pytest.raises(ValueError, match="max_chars"):
        split_book("x" * 100, 0)
