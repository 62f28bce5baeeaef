"""Python's cyclic garbage collector, tuned for a batch job that allocates many short-lived objects.

The stages allocate millions of small objects (words, n-grams, spans) that reference counting frees; the
collector's passes find little cyclic garbage among them but re-scan what set-up loaded. Three tools:
:func:`freeze_heap` at the end of a worker's set-up and :func:`collector_tuned` around a run in the
caller's process (restored after), both through :func:`raise_young_threshold`. (Raising the threshold
before Beam is imported did not pay: the imports' long-lived objects then cost more per young pass,
0.137 -> 0.15-0.17 CPU-s of GC on the 1x dev run.)
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

#: Youngest-generation threshold of Python's cyclic collector in workers (see :func:`freeze_heap`).
GC_GEN0_THRESHOLD = 10_000


def raise_young_threshold() -> None:
    """Raise the youngest generation's threshold to :data:`GC_GEN0_THRESHOLD` (never lower it; a
    collector disabled with threshold 0 stays disabled)."""
    gen0, *older = gc.get_threshold()
    if gen0 and gen0 < GC_GEN0_THRESHOLD:
        gc.set_threshold(GC_GEN0_THRESHOLD, *older)


def freeze_heap() -> None:
    """Exempt every object alive now -- the models, gazetteers and rules a DoFn's ``setup`` just loaded, and
    the runner's own structures -- from Python's cyclic garbage collector (``gc.freeze``).

    They live as long as the worker; without this, every full collection re-traverses them (on the 1x dev
    corpus run, 7 full collections cost 0.49 CPU-s) and the interpreter's exit collects them once more.
    Reference counting still frees them; only cycles among them wait for the process to end. Called at
    the end of set-up, so per-bundle objects (documents) stay collectable as before.

    It also raises the youngest generation's threshold to :data:`GC_GEN0_THRESHOLD` (never lowers it):
    the stages allocate millions of short-lived objects (words, n-grams, spans) that reference counting
    frees, and at CPython's default of 700 the collector ran ~780 young collections (and ~65 of the middle
    generation) on the 1x dev corpus run, 0.16 CPU-s, to find little cyclic garbage; at 10,000 it runs
    ~40 (benchmarks measured with a ``gc.callbacks`` timer). Cycles are still collected, a little later.
    """
    gc.freeze()
    raise_young_threshold()


@contextlib.contextmanager
def collector_tuned() -> Iterator[None]:
    """For the duration of a run in this process (the planner, and the in-process runner's worker): the
    objects alive now frozen (``gc.freeze``: the imported modules, Beam's and our tables) and the young
    threshold raised as :func:`freeze_heap` does; the previous threshold restored and the objects unfrozen
    afterwards, so a program that calls :func:`curation.run.run` gets its collector back as it was.

    Planning and translating the graph allocate heavily: at the default threshold the planner ran ~110
    young collections (0.08 CPU-s) between ``run()`` and the first worker set-up on the 1x dev corpus."""
    before = gc.get_threshold()
    gc.freeze()
    raise_young_threshold()
    try:
        yield
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()
