"""The contamination report: per eval set, items found in the corpus and tokens removed per source kind.

Input records (small tuples, combined associatively so any runner gives one answer):

* ``("items", set, n)``: n items read from the eval set;
* ``("found", set, n)``: n distinct items of the set found in at least one document;
* ``("doc", source_kind, sets, action, tokens_removed)``: one contaminated document (``action`` is
  ``cut`` or ``drop``; ``sets`` the eval sets whose items were found in it).

A document matching two sets counts under both sets; ``total`` counts it once.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

import apache_beam as beam

Acc = dict[str, Any]
_KINDS = ("docs_cut", "docs_dropped", "tokens_removed")


def _new_entry() -> dict[str, Any]:
    return {"items": 0, "items_found": 0, **{k: Counter() for k in _KINDS}}


class ContaminationStats(beam.CombineFn):
    def create_accumulator(self) -> Acc:
        return {"sets": {}, "total": _new_entry()}

    def add_input(self, acc: Acc, rec: tuple) -> Acc:
        tag = rec[0]
        if tag in ("items", "found"):
            _, name, n = rec
            acc["sets"].setdefault(name, _new_entry())["items" if tag == "items" else "items_found"] += n
            acc["total"]["items" if tag == "items" else "items_found"] += n
            return acc
        _, kind, sets, action, tokens = rec
        entries = [acc["sets"].setdefault(s, _new_entry()) for s in sets] + [acc["total"]]
        for e in entries:
            e["docs_dropped" if action == "drop" else "docs_cut"][kind] += 1
            e["tokens_removed"][kind] += tokens
        return acc

    def merge_accumulators(self, accs: Iterable[Acc]) -> Acc:
        out = self.create_accumulator()
        for a in accs:
            for name, e in [*a["sets"].items(), (None, a["total"])]:
                tgt = out["total"] if name is None else out["sets"].setdefault(name, _new_entry())
                tgt["items"] += e["items"]
                tgt["items_found"] += e["items_found"]
                for k in _KINDS:
                    tgt[k].update(e[k])
        return out

    def extract_output(self, acc: Acc) -> dict[str, Any]:
        def entry(e: dict[str, Any]) -> dict[str, Any]:
            return {
                "items": e["items"],
                "items_found": e["items_found"],
                **{k: dict(sorted(e[k].items())) for k in _KINDS},
            }

        return {
            "eval_sets": {name: entry(e) for name, e in sorted(acc["sets"].items())},
            "total": entry(acc["total"]),
        }
