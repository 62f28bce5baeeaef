"""freeze_heap: set-up objects leave the collector; the young threshold is raised, never lowered."""

from __future__ import annotations

import gc

import pytest

from curation.collector import GC_GEN0_THRESHOLD, freeze_heap


@pytest.fixture(autouse=True)
def _restore_gc():
    before = gc.get_threshold()
    yield
    gc.set_threshold(*before)
    gc.unfreeze()


@pytest.mark.parametrize(
    ("start", "expected"),
    [(700, GC_GEN0_THRESHOLD), (GC_GEN0_THRESHOLD * 3, GC_GEN0_THRESHOLD * 3), (0, 0)],
)
def test_young_threshold(start: int, expected: int) -> None:
    gc.set_threshold(start, 7, 9)
    freeze_heap()
    assert gc.get_threshold() == (expected, 7, 9)


def test_objects_alive_at_set_up_are_frozen() -> None:
    tables = [{"k": i} for i in range(1000)]
    freeze_heap()
    assert gc.get_freeze_count() >= len(tables)


def test_collector_tuned_restores_the_callers_settings() -> None:
    from curation.collector import collector_tuned

    gc.unfreeze()
    gc.set_threshold(700, 10, 10)
    with collector_tuned():
        assert gc.get_threshold() == (GC_GEN0_THRESHOLD, 10, 10)
        assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == (700, 10, 10)
    assert gc.get_freeze_count() == 0


def test_run_is_wrapped_in_it() -> None:
    import inspect

    from curation.run import run

    assert "config" in inspect.signature(run).parameters  # the wrapper keeps run's signature
    assert run.__wrapped__.__name__ == "run"
