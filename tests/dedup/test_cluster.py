"""Keep rule, decisions, statistics and rules validation (pure functions)."""

from __future__ import annotations

from pathlib import Path

import pytest

from curation.config import PipelineConfig, SourceSpec, StageSpec
from curation.document import Document
from curation.rules import ConfigError
from curation.stages.dedup import build_stage, s_curve
from curation.stages.dedup.cluster import (
    cluster_stats,
    decide_cluster,
    license_rank,
    member_of,
    merge_stats,
    quality_score,
)
from curation.stages.dedup.rules import DedupRules, KeepRules, load_dedup_rules

KEEP = KeepRules()


def _m(doc_id: str, rank: int = 4, quality: float = 0.0, length: int = 10, kind: str = "web", exact=None):
    return (doc_id, kind, rank, quality, length, 5, exact, None)


def _keeper(*members) -> str:
    return decide_cluster("c", members)[1].id


def test_keep_rule_license_then_quality_then_length_then_id() -> None:
    assert _keeper(_m("a", rank=3, quality=9, length=99), _m("z", rank=1)) == "z"  # license first
    assert _keeper(_m("a", quality=0.1, length=99), _m("z", quality=0.9)) == "z"  # then quality
    assert _keeper(_m("a", length=10), _m("z", length=11)) == "z"  # then length
    assert _keeper(_m("b"), _m("a"), _m("c")) == "a"  # then smallest id


def test_hot_cluster_keeps_the_text_the_exact_copies_share_and_labels_them_exact() -> None:
    # 5 byte-identical copies (exact key 7) and 3 longer near variants of them (the hot-cluster case).
    copies = [_m(f"c{i}", length=100, exact=7) for i in range(5)]
    variants = [_m(f"a{i}", length=120 + i, exact=100 + i) for i in range(3)]
    decisions, keeper = decide_cluster("a0", [*variants, *copies])
    assert keeper.id == "c0"  # the shared text, although the variants are longer
    match = {d: dec.match for d, dec in decisions}
    assert [match[f"c{i}"] for i in range(1, 5)] == ["exact"] * 4
    assert [match[f"a{i}"] for i in range(3)] == ["near"] * 3
    # without exact copies, longest still wins; license still comes first
    assert _keeper(_m("x", length=5, exact=1), _m("y", length=9, exact=2)) == "y"
    assert _keeper(_m("x", rank=3, exact=1), _m("y", rank=3, exact=1), _m("z", rank=1, exact=2)) == "z"


def test_license_rank_and_quality_from_signals() -> None:
    assert license_rank("permissive", KEEP) < license_rank("strong_copyleft", KEEP)
    assert license_rank(None, KEEP) == license_rank("unknown", KEEP)
    assert license_rank("martian", KEEP) == len(KEEP.license_rank)
    assert quality_score(None, KEEP) == 0.0 and quality_score("high", KEEP) == 0.0
    assert quality_score(float("nan"), KEEP) == 0.0 and quality_score(0.7, KEEP) == 0.7
    doc = Document(
        id="d", source_kind="book", source="s", text="abc", token_count=3,
        signals={"license.category": "permissive", "quality.score": 0.5},
    )
    assert member_of(doc, KEEP, 1, None) == ("d", "book", 1, 0.5, 3, 3, 1, None)


def test_decisions_and_stats_count_exact_near_and_cross_source() -> None:
    members = [
        _m("a", rank=1, kind="web", exact=7),
        _m("b", kind="web", exact=7),
        _m("c", kind="book", exact=8),
    ]
    decisions, keeper = decide_cluster("a", members)
    assert keeper.id == "a"
    assert {d: dec.match for d, dec in decisions} == {"a": "kept", "b": "exact", "c": "near"}
    assert all(dec.cluster_size == 3 and dec.keeper == "a" for _, dec in decisions)
    st = cluster_stats(members, decisions)
    assert st["removed"]["docs"] == 2 and st["size_histogram"] == {"3": 1}
    assert st["removed_by_kind"]["book"]["cross_source_docs"] == 1
    assert st["removed_by_kind"]["web"]["same_source_docs"] == 1
    assert st["cross_source"]["by_pair"] == {"book<-web": {"docs": 1, "tokens": 5}}
    merged = merge_stats(st, st)
    assert merged["clusters"] == 2 and merged["max_cluster_size"] == 3 and merged["removed"]["docs"] == 4


def test_s_curve_of_defaults() -> None:
    mh = DedupRules().minhash
    assert s_curve(0.8, mh.bands, mh.rows) > 0.99 and s_curve(0.5, mh.bands, mh.rows) < 0.2


def test_shipped_rules_load_and_bad_rules_fail_at_build_time(repo_root: Path, tmp_path: Path) -> None:
    rules = load_dedup_rules(repo_root / "rules" / "dedup.yaml")
    assert rules == DedupRules()  # the YAML states the defaults
    cfg = PipelineConfig(sources=(SourceSpec(kind="web", paths=("x",)),), path=str(tmp_path / "p.yaml"))
    bad = tmp_path / "bad.yaml"
    bad.write_text("minhash: {num_perm: 64, bands: 32, rows: 8}\n")
    with pytest.raises(ConfigError, match="exceeds num_perm"):
        build_stage(StageSpec(name="dedup", rules=str(bad)), cfg)
    bad.write_text("minhash: {treshold: 0.8}\n")
    with pytest.raises(ConfigError, match="treshold"):
        build_stage(StageSpec(name="dedup", rules=str(bad)), cfg)
    stage = build_stage(StageSpec(name="dedup", rules=str(repo_root / "rules" / "dedup.yaml")), cfg)
    assert stage.rules == rules
