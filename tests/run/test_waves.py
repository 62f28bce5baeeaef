"""Waves: packing, atomic commit and recovery, incremental dedup across waves and runs."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pyarrow.parquet as pq
import pytest

from curation.incremental import PriorIndex, fingerprint_rows, state_files
from curation.resume import merge_stats_values, read_manifest
from curation.rules import ConfigError
from curation.run import run
from curation.waves import STAGING, Wave, commit_wave, plan_waves, recover_staging
from tests.run.helpers import corpus, write_shards


def _shards(n: int) -> list[SimpleNamespace]:
    return [SimpleNamespace(source="s", kind="web", path=f"/nowhere/{i}", rel=str(i)) for i in range(n)]


def test_plan_waves_packs_greedily_by_count_and_size() -> None:
    shards = _shards(5)
    assert [len(w.shards) for w in plan_waves(shards, 0, sizes=[1] * 5)] == [5]
    assert [len(w.shards) for w in plan_waves(shards, 0, wave_size=2, sizes=[1] * 5)] == [2, 2, 1]
    sizes = [400_000, 400_000, 1_200_000, 100_000, 100_000]
    waves = plan_waves(shards, 3, wave_mb=1.0, sizes=sizes)
    # a shard bigger than the limit is a wave of its own; indices continue from the first one
    assert [(w.index, len(w.shards), w.size_bytes) for w in waves] == [
        (3, 2, 800_000),
        (4, 1, 1_200_000),
        (5, 2, 200_000),
    ]
    # after a resume the rest packs into the same waves as in the uninterrupted run
    full = plan_waves(shards, 0, wave_size=2, sizes=[1] * 5)
    rest = plan_waves(shards[2:], 1, wave_size=2, sizes=[1] * 3)
    assert [w.shards for w in full[1:]] == [w.shards for w in rest]
    assert plan_waves([], 0, wave_size=2) == []


@pytest.mark.parametrize(
    ("kwargs", "key"), [({"wave_size": 0}, "--wave-size"), ({"wave_mb": -1}, "--wave-mb")]
)
def test_plan_waves_rejects_bad_limits(kwargs: dict, key: str) -> None:
    with pytest.raises(ConfigError, match=key):
        plan_waves(_shards(2), 0, sizes=[1, 1], **kwargs)


def test_merge_stats_values_adds_counts_and_keeps_the_latest_derived_values() -> None:
    a = {"clusters": {"docs": 2, "share": 0.5, "hist": {"2": 1}, "flag": True}}
    b = {"clusters": {"docs": 3, "share": 0.25, "hist": {"2": 1, "3": 1}, "flag": False}, "new": {"x": 1}}
    assert merge_stats_values(a, b) == {
        "clusters": {"docs": 5, "share": 0.25, "hist": {"2": 2, "3": 1}, "flag": False},
        "new": {"x": 1},
    }


def _dedup_rules():
    from curation.rules import resolve_rules_path
    from curation.stages.dedup.rules import load_dedup_rules

    return load_dedup_rules(resolve_rules_path("dedup.yaml"))


def test_prior_index_matches_exact_and_near_copies_but_not_other_documents() -> None:
    import pyarrow as pa

    from curation.document import Document
    from curation.incremental import STATE_SCHEMA
    from curation.stages.dedup.fingerprint import Fingerprinter

    docs = corpus(seed=3, shards=2, per_shard=3)
    first, second = docs
    fp = Fingerprinter(_dedup_rules())
    as_doc = [Document(id=d["id"], text=d["text"], source_kind="web", source="t") for d in first]
    index = PriorIndex.from_table(pa.Table.from_pylist(fingerprint_rows(fp, as_doc), schema=STATE_SCHEMA))
    assert len(index) == 3
    mh = _dedup_rules().minhash
    probe = [Document(id=d["id"], text=d["text"], source_kind="web", source="t") for d in second]
    got = [
        index.match(r["exact"], r["bands"], r["sig"], mh.threshold, mh.verify)
        for r in fingerprint_rows(fp, probe)
    ]
    # second shard: three new documents, then an exact copy and a near copy of first-shard documents
    assert got[:3] == [None, None, None]
    assert got[3][1] == "exact" and got[3][0] in {d["id"] for d in first}
    assert got[4][1] == "near" and got[4][0] in {d["id"] for d in first}


def _rows(out: Path, sub: str) -> list[dict]:
    if not (out / sub).exists():
        return []
    return pq.read_table(out / sub).to_pylist()


def _invariants(out: Path) -> dict:
    report = json.loads((out / "report" / "stages.json").read_text())
    for stage in report["stages"]:
        t = stage["total"]
        assert t["docs_in"] == t["docs_kept"] + t["docs_rejected"], stage["stage"]
    return {s["stage"]: s["total"] for s in report["stages"]}


def test_waves_drop_duplicates_of_documents_kept_by_earlier_waves(tmp_path: Path) -> None:
    shards = corpus(seed=1, shards=3, per_shard=2)
    cfg = write_shards(tmp_path, shards)
    out = tmp_path / "out"
    result = run(cfg, out, wave_size=1)
    assert result.waves == 3
    totals = _invariants(out)
    assert totals["read"]["docs_in"] == sum(len(s) for s in shards)
    rejects = [r for r in _rows(out, "rejects") if r["stage"] == "dedup"]
    # each later shard holds one exact and one near copy of an earlier shard's document
    assert len(rejects) == 4 == totals["dedup"]["docs_rejected"]
    signals = [json.loads(r["signals"]) for r in rejects]
    assert sorted(s["dedup.match"] for s in signals) == ["exact", "exact", "near", "near"]
    assert all(s["dedup.prior"] for s in signals)
    kept = {r["id"] for r in _rows(out, "data")}
    assert all(s["dedup.kept_id"] in kept for s in signals)
    assert len(read_manifest(str(out))) == 3 and not (out / STAGING).exists()
    assert len(state_files(str(out))) == 3

    # a later run with a new shard (--resume) is deduplicated against everything kept before
    extra = tmp_path / "data" / "s99.jsonl"
    extra.write_text(json.dumps({"id": "late", "text": shards[0][1]["text"]}) + "\n", encoding="utf-8")
    again = run(cfg, out, resume=True)
    assert again.waves == 1 and again.shards_skipped == 3
    text = shards[0][1]["text"]
    (original,) = [r["id"] for r in _rows(out, "data") if r["text"] == text]
    late = [r for r in pq.read_table(out / "rejects").to_pylist() if r["text"] == text]
    assert [(r["stage"], r["reason"]) for r in late] == [("dedup", f"duplicate_of:{original}")]
    assert _invariants(out)["read"]["docs_in"] == totals["read"]["docs_in"] + 1


def test_one_wave_and_many_waves_keep_the_same_documents_without_cross_shard_copies(tmp_path: Path) -> None:
    shards = [s[:3] for s in corpus(seed=2, shards=3, per_shard=3)]  # no copies across shards
    cfg = write_shards(tmp_path, shards)
    run(cfg, tmp_path / "one")
    run(cfg, tmp_path / "many", wave_size=1)
    for sub in ("data", "rejects"):
        one = sorted((r["id"], r["text"]) for r in _rows(tmp_path / "one", sub))
        many = sorted((r["id"], r["text"]) for r in _rows(tmp_path / "many", sub))
        assert one == many, sub


def _fake_wave(out: Path, index: int) -> Wave:
    staging = out / STAGING / f"r{index}"
    (staging / "data" / "source_kind=web").mkdir(parents=True)
    (staging / "data" / "source_kind=web" / f"part-r{index}-00000-of-00001.parquet").write_text("x")
    (staging / "report" / "runs" / f"r{index}").mkdir(parents=True)
    (staging / "report" / "runs" / f"r{index}" / "stages.json").write_text("{}")
    return Wave(index, tuple(_shards(1)), (1,))


def test_commit_moves_files_and_records_shards_and_recovery_rolls_forward_or_back(tmp_path: Path) -> None:
    out = tmp_path / "out"
    commit_wave(str(out), _fake_wave(out, 0))
    assert (out / "data" / "source_kind=web" / "part-r0-00000-of-00001.parquet").is_file()
    assert [e["run"] for e in read_manifest(str(out))] == ["r0"]
    assert not (out / STAGING).exists()

    # killed after the journal was written, part-way through the moves: the next start rolls forward
    wave = _fake_wave(out, 1)
    staging = out / STAGING / "r1"
    journal = {
        "run": "r1",
        "files": ["data/source_kind=web/part-r1-00000-of-00001.parquet", "report/runs/r1/stages.json"],
        "shards": [
            {"source": "s", "kind": "web", "path": "/nowhere/0", "rel": "0", "size": None, "run": "r1"}
        ],
    }
    (staging / "COMMIT.json").write_text(json.dumps(journal))
    (out / "report" / "runs" / "r1").mkdir(parents=True)
    (staging / "report" / "runs" / "r1" / "stages.json").rename(
        out / "report" / "runs" / "r1" / "stages.json"
    )
    # killed before its journal: the next start discards it
    _fake_wave(out, 2)
    assert recover_staging(str(out)) == ["committed r1", "discarded unfinished waves"]
    assert (out / "data" / "source_kind=web" / "part-r1-00000-of-00001.parquet").is_file()
    assert not (out / "data" / "source_kind=web" / "part-r2-00000-of-00001.parquet").exists()
    assert [e["run"] for e in read_manifest(str(out))] == ["r0", "r1"]
    assert not (out / STAGING).exists() and wave.run_id == "r1"
    assert recover_staging(str(out)) == []


def test_state_of_another_fingerprint_version_is_refused_before_the_run(tmp_path: Path) -> None:
    from curation.incremental import STATE_SCHEMA, check_state

    good, old = tmp_path / "good.parquet", tmp_path / "old.parquet"
    pq.write_table(STATE_SCHEMA.empty_table(), good)
    pq.write_table(STATE_SCHEMA.empty_table().replace_schema_metadata({"curation.dedup_state": "1"}), old)
    assert check_state([str(good)]) == [str(good)]
    with pytest.raises(ConfigError, match=r"dedup state version 1.*--overwrite"):
        check_state([str(good), str(old)])


def test_waves_carry_each_shard_size() -> None:
    waves = plan_waves(["a", "b", "c"], 0, wave_size=2, sizes=[5, 7, 11])
    assert [w.sizes for w in waves] == [(5, 7), (11,)]
    assert [w.size_bytes for w in waves] == [12, 11]
