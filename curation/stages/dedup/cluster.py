"""Pure cluster logic: the small per-document record that goes through the shuffles, the keep rule, the
per-member decisions and the per-cluster statistics (summed into ``report/stats/dedup.json``).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

from curation.document import Document
from curation.stages.dedup.rules import KeepRules

# A member travels through the shuffles as a plain tuple (Beam encodes tuples of primitives compactly):
# (id, source_kind, license rank, quality, length in chars, token count, exact key, url key).
MemberTuple = tuple[str, str, int, float, int, int, int | None, int | None]

SIZE_BUCKETS: tuple[tuple[int, int, str], ...] = (
    (2, 2, "2"),
    (3, 3, "3"),
    (4, 4, "4"),
    (5, 5, "5"),
    (6, 10, "6-10"),
    (11, 100, "11-100"),
    (101, 1000, "101-1000"),
    (1001, 2**62, ">1000"),
)


class Member(NamedTuple):
    id: str
    kind: str
    license_rank: int
    quality: float
    length: int
    tokens: int
    exact: int | None
    url: int | None


class Decision(NamedTuple):
    """What happens to one member of a cluster of size >= 2."""

    keeper: str  # id of the kept copy
    cluster_id: str
    cluster_size: int
    match: str  # "kept" | "exact" | "url" | "near" (how this member relates to the kept copy)


def license_rank(category: Any, rules: KeepRules) -> int:
    """Position of a license category in ``rules.license_rank`` (0 = most permissive); missing ->
    ``rules.missing_license``'s rank; a category not listed ranks after every listed one."""
    if not isinstance(category, str) or not category:
        category = rules.missing_license
    try:
        return rules.license_rank.index(category)
    except ValueError:
        return len(rules.license_rank)


def quality_score(value: Any, rules: KeepRules) -> float:
    """The quality signal as a finite float (missing, non-numeric or NaN -> ``rules.missing_quality``)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return rules.missing_quality
    return float(value)


def member_of(doc: Document, rules: KeepRules, exact: int | None, url: int | None) -> MemberTuple:
    """The small record of ``doc`` used for clustering and for the keep rule."""
    return (
        doc.id,
        doc.source_kind,
        license_rank(doc.signals.get(rules.license_signal), rules),
        quality_score(doc.signals.get(rules.quality_signal), rules),
        len(doc.text),
        int(doc.token_count),
        exact,
        url,
    )


def keep_order(m: Member, copies: Mapping[int, int] | None = None) -> tuple[int, int, float, int, str]:
    """Sort key of the keep rule: most permissive license, most exact copies in the cluster (the text the
    copies share, not one of its variants), highest quality, longest, smallest id.

    ``copies`` counts the members per exact-text key; a member without a key counts as one copy."""
    n = copies.get(m.exact, 1) if copies is not None and m.exact is not None else 1
    return (m.license_rank, -n, -m.quality, -m.length, m.id)


def _match(m: Member, keeper: Member) -> str:
    if m.id == keeper.id:
        return "kept"
    if m.exact is not None and m.exact == keeper.exact:
        return "exact"
    if m.url is not None and m.url == keeper.url:
        return "url"
    return "near"


def decide_cluster(
    cluster_id: str, members: Iterable[MemberTuple]
) -> tuple[list[tuple[str, Decision]], Member]:
    """Apply the keep rule to one cluster: a decision per member, and the kept member."""
    unique = {m[0]: Member(*m) for m in members}.values()
    copies = Counter(m.exact for m in unique if m.exact is not None)
    ms = sorted(unique, key=lambda m: keep_order(m, copies))
    keeper = ms[0]
    n = len(ms)
    return [(m.id, Decision(keeper.id, cluster_id, n, _match(m, keeper))) for m in ms], keeper


def size_bucket(n: int) -> str:
    for lo, hi, name in SIZE_BUCKETS:
        if lo <= n <= hi:
            return name
    return "1"


def cluster_stats(members: Iterable[MemberTuple], decisions: Iterable[tuple[str, Decision]]) -> dict:
    """Summable statistics of one cluster (see :func:`merge_stats`): sizes, removals by kind and match."""
    by_id = {m[0]: Member(*m) for m in members}
    decisions = list(decisions)
    keeper = by_id[decisions[0][1].keeper]
    n = len(decisions)
    removed: dict[str, int] = {"docs": 0, "tokens": 0, "chars": 0}
    by_match: dict[str, dict[str, int]] = {}
    by_kind: dict[str, dict[str, int]] = {}
    cross: dict[str, dict[str, int]] = {}
    for doc_id, d in decisions:
        if d.match == "kept":
            continue
        m = by_id[doc_id]
        removed["docs"] += 1
        removed["tokens"] += m.tokens
        removed["chars"] += m.length
        _add(by_match.setdefault(d.match, {}), docs=1, tokens=m.tokens)
        same = m.kind == keeper.kind
        _add(
            by_kind.setdefault(m.kind, {}),
            docs=1,
            tokens=m.tokens,
            same_source_docs=int(same),
            same_source_tokens=m.tokens if same else 0,
            cross_source_docs=int(not same),
            cross_source_tokens=0 if same else m.tokens,
        )
        if not same:
            _add(cross.setdefault(f"{m.kind}<-{keeper.kind}", {}), docs=1, tokens=m.tokens)
    return {
        "clusters": 1,
        "docs_in_clusters": n,
        "max_cluster_size": n,
        "size_histogram": {size_bucket(n): 1},
        "kept_by_kind": {keeper.kind: 1},
        "removed": removed,
        "removed_by_match": by_match,
        "removed_by_kind": by_kind,
        "cross_source": {
            "docs": sum(v["docs"] for v in cross.values()),
            "tokens": sum(v["tokens"] for v in cross.values()),
            "by_pair": cross,
        },
    }


def _add(acc: dict[str, int], **values: int) -> None:
    for k, v in values.items():
        acc[k] = acc.get(k, 0) + v


def merge_stats(a: Mapping[str, Any], b: Mapping[str, Any]) -> dict[str, Any]:
    """Merge two summable stats dicts: numbers add (keys starting with ``max_`` take the maximum), nested
    dicts merge recursively, booleans AND (``converged``), anything else keeps the first value."""
    out: dict[str, Any] = dict(a)
    for k, v in b.items():
        if k not in out:
            out[k] = v
        elif isinstance(v, bool):
            out[k] = bool(out[k]) and v
        elif isinstance(v, Mapping):
            out[k] = merge_stats(out[k], v)
        elif isinstance(v, int | float):
            out[k] = max(out[k], v) if k.startswith("max_") else out[k] + v
    return out
