"""Connected components by large-star / small-star, simulated round by round with the transform's steps."""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from curation.stages.dedup.components import Edge, large_star, settle, small_star, star_edges
from curation.stages.dedup.stage import shard_edges


def _round(edges: set[Edge]) -> set[Edge]:
    nbrs: dict[str, set[str]] = defaultdict(set)
    for a, b in edges:
        nbrs[a].add(b)
        nbrs[b].add(a)
    large = {e for u, vs in nbrs.items() for e in large_star(u, vs)}
    smaller: dict[str, set[str]] = defaultdict(set)
    for a, b in large:
        smaller[b].add(a)
    return {e for v, us in smaller.items() for e in small_star(v, us)}


def _labels(edges: set[Edge], rounds: int) -> tuple[dict[str, str], bool]:
    for _ in range(rounds):
        edges = _round(edges)
    roles: dict[str, list] = defaultdict(list)
    for a, b in edges:
        roles[b].append(("child", a))
        roles[a].append(("parent", None))
    out = [settle(n, r) for n, r in roles.items()]
    return {n: root for n, root, _ in out}, all(ok for *_, ok in out)


def test_long_chain_needs_several_rounds_then_converges_to_min_root() -> None:
    ids = [f"{(i * 37) % 64:02d}" for i in range(64)]  # a path whose labels are not monotone
    edges = {tuple(sorted((ids[i], ids[i + 1]))) for i in range(63)}
    _, converged_after_one = _labels(set(edges), 1)
    labels, converged = _labels(set(edges), 8)
    assert not converged_after_one
    assert converged and set(labels.values()) == {"00"} and len(labels) == 64


def test_two_components_stay_apart() -> None:
    edges = {("a", "b"), ("b", "c"), ("x", "y")}
    labels, converged = _labels(edges, 3)
    assert converged and labels == {"a": "a", "b": "a", "c": "a", "x": "x", "y": "x"}


def test_hot_bucket_gives_linear_star_edges() -> None:
    ids = [f"d{i:05d}" for i in range(5000)]
    edges = star_edges(reversed(ids))
    assert len(edges) == 4999 and {a for a, _ in edges} == {"d00000"}
    chunk_a = (
        tuple(ids[:2500]),
        np.full(2500, 2, dtype=np.int8).tobytes(),
        np.full(2500, 7, dtype=np.int64).tobytes(),
        np.arange(1, 2501, dtype=np.int64).tobytes(),  # distinct texts
    )
    chunk_b = (
        (*ids[2500:], "solo"),
        np.array([2] * 2500 + [0], dtype=np.int8).tobytes(),
        np.array([7] * 2500 + [9], dtype=np.int64).tobytes(),
        np.arange(2501, 5002, dtype=np.int64).tobytes(),
    )
    out = list(shard_edges(0, [chunk_a, chunk_b]))
    assert len(out) == 4999 and not any(exact for _, exact in out)  # band bucket -> needs verification


def _chunk(ids: list[str], key_type: int, key_hash: int, groups: list[int]) -> tuple:
    n = len(ids)
    return (tuple(ids), np.full(n, key_type, dtype=np.int8).tobytes(),
            np.full(n, key_hash, dtype=np.int64).tobytes(), np.array(groups, dtype=np.int64).tobytes())


def test_band_bucket_collapses_exact_copies_but_exact_bucket_keeps_all() -> None:
    # a1..a3 are exact copies (group 11), b1/b2 copies of another text (group 22), c has no group (0)
    ids, groups = ["a3", "a1", "b2", "a2", "b1", "c"], [11, 11, 22, 11, 22, 0]
    band = sorted(e for e, _ in shard_edges(0, [_chunk(ids, 2, 5, groups)]))
    assert band == [("a1", "b1"), ("a1", "c")]  # one node per text: the smallest id of each group
    exact = sorted(e for e, ex in shard_edges(0, [_chunk(["a3", "a1", "a2"], 0, 11, [11, 11, 11])]) if ex)
    assert exact == [("a1", "a2"), ("a1", "a3")]  # the exact bucket links every copy


def test_settle_flags_unsettled_nodes() -> None:
    assert settle("c", [("child", "a"), ("child", "b")]) == ("c", "a", False)
    assert settle("b", [("child", "a"), ("parent", None)]) == ("b", "a", False)
    assert settle("a", [("parent", None)]) == ("a", "a", True)
