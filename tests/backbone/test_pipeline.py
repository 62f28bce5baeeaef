"""End-to-end backbone tests: read -> normalize -> write on small JSONL shards, through the real CLI paths."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml

from curation.config import load_config
from curation.rules import ConfigError
from curation.run import run

DOCS = {
    "web": [
        {"id": "w1", "url": "https://example.org/a", "text": "A  page about gardens.\r\nIt has two lines."},
        {"id": "w2", "url": "https://example.org/b", "text": "\u200b\x01\u200b"},  # empty once normalized
        {"id": "w3", "url": "https://example.org/c", "text": "Caf\u0065\u0301 culture in Paris."},
    ],
    "book": [{"id": "b1", "title": "A Tale", "author": "Someone", "text": "Chapter 1\n\nIt was a day."}],
    "conversation": [
        {"id": "c1", "messages": [{"role": "user", "content": "hi"}, {"role": "bot", "content": "hello"}]}
    ],
}


def write_fixture(root: Path, stages: list[dict] | None = None, extra: dict | None = None) -> Path:
    """Write JSONL shards (one gzip'd, one with a malformed line) and a pipeline config; return its path."""
    data = root / "data"
    for kind, docs in DOCS.items():
        (data / kind).mkdir(parents=True)
        lines = [json.dumps(d) for d in docs]
        if kind == "web":
            lines.insert(1, '{"id": "broken", "text": ')  # malformed JSON line
            with gzip.open(data / kind / "part-0.jsonl.gz", "wt", encoding="utf-8") as fh:
                fh.write("\n".join(lines) + "\n")
        else:
            (data / kind / "part-0.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    cfg = {
        "name": "test",
        "tokenizer": "cl100k_base",
        "sources": [{"name": f"t-{k}", "kind": k, "paths": [f"data/{k}/*"]} for k in DOCS],
        "stages": stages if stages is not None else [{"name": "normalize", "rules": "normalize.yaml"}],
        "output": {"report": False},
        **(extra or {}),
    }
    path = root / "pipeline.yaml"
    path.write_text(yaml.safe_dump(cfg), encoding="utf-8")
    return path


def read_rows(out: Path, sub: str) -> list[dict]:
    table = pq.read_table(out / sub)
    return sorted(table.to_pylist(), key=lambda r: (str(r.get("source_kind")), r["id"]))


def test_accounting_invariant_and_outputs_agree(tmp_path: Path) -> None:
    out = tmp_path / "out"
    run(write_fixture(tmp_path), out)
    report = json.loads((out / "report" / "stages.json").read_text())
    names = [s["stage"] for s in report["stages"]]
    assert names == ["read", "normalize", "write"]
    assert report["tokenizer"] == "cl100k_base"
    for stage in report["stages"]:
        t = stage["total"]
        assert t["docs_in"] == t["docs_kept"] + t["docs_rejected"], stage["stage"]
        assert sum(t["rejected_by_reason"].values()) == t["docs_rejected"]
        assert stage["invariant_ok"]
        for row in stage["by_source_kind_lang"]:
            assert row["docs_in"] == row["docs_kept"] + row["docs_rejected"]
    # each stage's input is the previous stage's kept output
    for prev, nxt in zip(report["stages"], report["stages"][1:], strict=False):
        assert nxt["total"]["docs_in"] == prev["total"]["docs_kept"]
        assert nxt["total"]["tokens_in"] == prev["total"]["tokens_out"]
    read, norm, write = report["stages"]
    assert read["total"]["docs_in"] == 6 and read["total"]["rejected_by_reason"] == {"malformed_json": 1}
    assert norm["total"]["rejected_by_reason"] == {"empty": 1}
    # what the report says was written is what the files hold
    data = read_rows(out, "data")
    rejects = read_rows(out, "rejects")
    assert len(data) == write["total"]["docs_kept"] == 4
    assert sum(r["token_count"] for r in data) == write["total"]["tokens_out"]
    assert len(rejects) == sum(s["total"]["docs_rejected"] for s in report["stages"]) == 2
    expected = {("read", "malformed_json"), ("normalize", "empty")}
    assert {(r["stage"], r["reason"]) for r in rejects} == expected
    by_kind = {str(r["source_kind"]) for r in data}
    assert by_kind == {"web", "book", "conversation"}
    web_text = {r["text"] for r in data if str(r["source_kind"]) == "web"}
    assert "Caf\u00e9 culture in Paris." in web_text  # NFC applied
    conv = next(r for r in data if str(r["source_kind"]) == "conversation")
    assert conv["messages"] == [{"role": "user", "content": "hi"}, {"role": "bot", "content": "hello"}]


@pytest.mark.beam
def test_same_output_in_process_and_multi_processing(tmp_path: Path) -> None:
    cfg = write_fixture(tmp_path)
    run(cfg, tmp_path / "a")
    run(cfg, tmp_path / "b", ["--direct_running_mode=multi_processing", "--direct_num_workers=2"])
    for sub in ("data", "rejects"):
        assert read_rows(tmp_path / "a", sub) == read_rows(tmp_path / "b", sub)
    a = json.loads((tmp_path / "a" / "report" / "stages.json").read_text())
    b = json.loads((tmp_path / "b" / "report" / "stages.json").read_text())
    assert a == b


def test_ids_are_stable_across_runs_and_checkouts(tmp_path: Path) -> None:
    first = tmp_path / "one"
    second = tmp_path / "two"
    first.mkdir()
    second.mkdir()
    run(write_fixture(first), first / "out")
    run(write_fixture(second), second / "out")  # same shards in another folder
    ids_a = [r["id"] for r in read_rows(first / "out", "data")]
    ids_b = [r["id"] for r in read_rows(second / "out", "data")]
    assert ids_a == ids_b and len(set(ids_a)) == len(ids_a)


@pytest.mark.parametrize(
    ("mutate", "key", "needle"),
    [
        (lambda c: c.update(tokenizr="x"), "tokenizr", "allowed keys"),
        (lambda c: c.update(tokenizer="gpt9"), "tokenizer", "allowed"),
        (lambda c: c["stages"].append({"name": "qualty"}), "stages[1].name", "allowed: decontamination"),
        (lambda c: c["stages"][0].update(rules="nope.yaml"), "stages[0].rules", "rules file not found"),
        (lambda c: c["sources"][0].update(kind="video"), "sources[0].kind", "allowed values"),
        (lambda c: c["limits"].update(max_doc_bytes="big"), "limits.max_doc_bytes", "expected an integer"),
        (lambda c: c["stages"][0].update(enabled="yes"), "stages[0].enabled", "true/false"),
    ],
)
def test_bad_config_fails_naming_file_key_and_allowed_values(tmp_path: Path, mutate, key, needle) -> None:
    path = write_fixture(tmp_path, extra={"limits": {"max_doc_bytes": 1000}})
    cfg = yaml.safe_load(path.read_text())
    mutate(cfg)
    path.write_text(yaml.safe_dump(cfg))
    with pytest.raises(ConfigError) as err:
        load_config(path)
    msg = str(err.value)
    assert str(path) in msg and f"key '{key}'" in msg and needle in msg


def test_bad_rules_file_fails_at_build_time(tmp_path: Path) -> None:
    rules = tmp_path / "norm.yaml"
    rules.write_text("unicode_form: NFX\n")
    path = write_fixture(tmp_path, stages=[{"name": "normalize", "rules": str(rules)}])
    with pytest.raises(ConfigError) as err:
        run(path, tmp_path / "out")
    assert "norm.yaml" in str(err.value) and "unicode_form" in str(err.value) and "'NFC'" in str(err.value)
    assert not (tmp_path / "out").exists()  # nothing ran


def test_glob_matching_nothing_fails_before_running(tmp_path: Path) -> None:
    path = write_fixture(tmp_path)
    cfg = yaml.safe_load(path.read_text())
    cfg["sources"][0]["paths"] = ["data/nothing/*.jsonl"]
    path.write_text(yaml.safe_dump(cfg))
    with pytest.raises(ConfigError, match=r"sources\[0\]\.paths"):
        run(path, tmp_path / "out")


def test_cli_run_prints_outputs_and_returns_config_errors(tmp_path: Path, capsys) -> None:
    from curation.cli import main

    path = write_fixture(tmp_path)
    assert main(["run", "--config", str(path), "--output", str(tmp_path / "out")]) == 0
    printed = capsys.readouterr().out
    assert "stages.json" in printed and (tmp_path / "out" / "report" / "stages.json").is_file()
    assert main(["validate", "--config", str(path)]) == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text("sources: []\n")
    assert main(["validate", "--config", str(bad)]) == 2
    assert "sources" in capsys.readouterr().err


def test_shards_are_dealt_largest_first_with_distinct_keys() -> None:
    from curation.pipeline import deal_shards

    dealt = deal_shards(["a", "b", "c", "d"], [10, 40, 10, 30])
    assert dealt == [(0, "b"), (1, "d"), (2, "a"), (3, "c")]  # ties keep plan order
    # dealt round-robin to 2 workers (as the in-process runner does), each gets one of each pair
    assert [s for k, s in dealt if k % 2 == 0] == ["b", "a"]
    # sizes unknown (or not one per shard): plan order
    assert deal_shards(["a", "b", "c"]) == [(0, "a"), (1, "b"), (2, "c")]
    assert deal_shards(["a", "b"], [1]) == [(0, "a"), (1, "b")]
