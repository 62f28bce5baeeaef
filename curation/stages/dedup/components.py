"""Connected components of the duplicate graph as Beam rounds: alternating large-star / small-star.

Algorithm: Kiveris, Lattanzi, Mirrokni, Rastogi, Vassilvitskii (2014), "Connected Components in MapReduce
and Beyond" (SoCC '14). Node labels are document ids (ordered as strings). Each round is two shuffles:

* **large-star**: every node ``u`` links each *larger* neighbour ``v`` to ``m(u)``, the smallest node of
  ``u``'s closed neighbourhood;
* **small-star**: every node ``v`` links its *smaller* neighbours (and itself) to their minimum.

Both keep the components and shrink them towards stars centred on their minimum node; at the fixed point
every component is a star whose centre (the root, i.e. the component's smallest id) is no other node's
child. The round count is unrolled into the pipeline graph (``max_rounds``; the paper proves
O(log^2 n) rounds and observes a few in practice), and a final check reports whether the fixed point was
reached. Edges are always ``(smaller, larger)`` pairs; the per-node neighbour set is the only state held
in memory, so a hub of degree d costs O(d) in one worker (the same order as its shuffle group).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import apache_beam as beam
from apache_beam import pvalue
from apache_beam.transforms.window import GlobalWindows

from curation import beamfn as lean
from curation.stage import cpu_timed

Edge = tuple[str, str]  # (smaller id, larger id)
UNSETTLED = "unsettled"


def large_star(node: str, neighbours: Iterable[str]) -> Iterator[Edge]:
    """Large-star step at ``node``: connect each larger neighbour to the minimum of the neighbourhood."""
    nbrs = set(neighbours)
    if not nbrs:
        return
    m = min(min(nbrs), node)
    for v in sorted(nbrs):
        if v > node:
            yield (m, v)


def small_star(node: str, smaller: Iterable[str]) -> Iterator[Edge]:
    """Small-star step at ``node``: connect ``node`` and its smaller neighbours to their minimum."""
    nbrs = set(smaller)
    if not nbrs:
        return
    m = min(nbrs)
    yield (m, node)
    for u in sorted(nbrs):
        if u != m:
            yield (m, u)


def star_edges(members: Iterable[str]) -> list[Edge]:
    """Edges of a star centred on the smallest member (``n - 1`` edges for ``n`` distinct members)."""
    uniq = sorted(set(members))
    if len(uniq) < 2:
        return []
    centre = uniq[0]
    return [(centre, v) for v in uniq[1:]]


def settle(node: str, roles: Iterable[tuple[str, str | None]]) -> tuple[str, str, bool]:
    """Label one node from its roles in the final edge set: ``(node, root, settled)``.

    Roles are ``("child", parent)`` for each edge where the node is the larger end and ``("parent",
    None)`` where it is the smaller end. At the fixed point a node is either a root (parent roles only) or
    the child of exactly one root. Otherwise the node is unsettled and labelled with its smallest parent.
    """
    parents = set()
    is_parent = False
    for role, other in roles:
        if role == "child" and other is not None:
            parents.add(other)
        else:
            is_parent = True
    if not parents:
        return node, node, True
    return node, min(parents), len(parents) == 1 and not is_parent


def _both_directions(edge: Edge) -> Iterator[tuple[str, str]]:
    yield edge
    yield edge[1], edge[0]


def _large_star_keyed(node: str, neighbours: Iterable[str]) -> Iterator[tuple[str, str]]:
    """Large-star, output keyed by the larger end (the input of small-star)."""
    for a, b in large_star(node, neighbours):
        yield b, a


def _small_star_both(node: str, smaller: Iterable[str]) -> Iterator[tuple[str, str]]:
    """Small-star, output in both directions (the input of the next large-star)."""
    for edge in small_star(node, smaller):
        yield from _both_directions(edge)


def _roles(edge: Edge) -> Iterator[tuple[str, tuple[str, str | None]]]:
    yield edge[1], ("child", edge[0])
    yield edge[0], ("parent", None)


class _SettleDoFn(lean.LeanDoFn):
    """Label each node (:func:`settle`) and count the unsettled ones per bundle (one count element per
    bundle that has any, ``("unsettled", n)`` on the ``UNSETTLED`` output) rather than per node."""

    def __init__(self, tag: str | None) -> None:
        self.tag = tag

    def start_bundle(self) -> None:
        self._unsettled = 0

    def process(self, item: tuple[str, Iterable[tuple[str, str | None]]]) -> Iterator[tuple[str, Any]]:
        node, root, settled = settle(*item)
        if not settled:
            self._unsettled += 1
        yield node, (root if self.tag is None else (self.tag, root))

    def finish_bundle(self) -> Iterator[Any]:
        if self._unsettled:
            yield pvalue.TaggedOutput(UNSETTLED, GlobalWindows.windowed_value((UNSETTLED, self._unsettled)))


class ConnectedComponents(beam.PTransform):
    """``PCollection[Edge]`` -> ``PCollection[(id, root id)]`` for every node on an edge, plus counts.

    ``expand`` returns ``(labels, unsettled)``: with ``tag``, labels are ``(id, (tag, root id))``, ready to
    be flattened into a join with other tagged values (no CoGroupByKey tagging steps); ``unsettled`` holds
    ``("unsettled", n)`` partial counts of the nodes not at the fixed point (none: converged).
    """

    def __init__(
        self, max_rounds: int, tag: str | None = None, label: str | None = None, timer: str | None = None
    ) -> None:
        super().__init__(label)
        self.max_rounds = max_rounds
        self.tag = tag
        self.timer = timer  # stage whose CPU counter the linking steps add to (None: untimed)

    def _timed(self, fn: Any) -> Any:
        return fn if self.timer is None else cpu_timed(self.timer, fn)

    def expand(self, edges: beam.PCollection) -> tuple[beam.PCollection, beam.PCollection]:
        directed = edges | "Directions" >> lean.FlatMap(_both_directions)
        for r in range(self.max_rounds):
            last = r == self.max_rounds - 1
            directed = (
                directed
                | f"LargeStar{r}/Group" >> beam.GroupByKey()
                | f"LargeStar{r}/Link" >> lean.FlatMapTuple(self._timed(_large_star_keyed))
                | f"SmallStar{r}/Group" >> beam.GroupByKey()
                | f"SmallStar{r}/Link"
                >> lean.FlatMapTuple(self._timed(small_star if last else _small_star_both))
            )
        settled = (
            directed
            | "Settle/Roles" >> lean.FlatMap(_roles)
            | "Settle/Group" >> beam.GroupByKey()
            | "Settle/Label" >> beam.ParDo(_SettleDoFn(self.tag)).with_outputs(UNSETTLED, main="labels")
        )
        return settled["labels"], settled[UNSETTLED]
