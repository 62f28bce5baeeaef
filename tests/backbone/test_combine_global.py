"""CombineGlobal: Beam's CombineGlobally result, default on empty input, in every runner mode."""

from __future__ import annotations

import apache_beam as beam
import pytest
from apache_beam.pvalue import AsSingleton
from apache_beam.testing.util import assert_that, equal_to

from curation.stage import CombineGlobal, once, share_once
from tests.beam_helpers import fnapi_options


class _MeanFn(beam.CombineFn):
    """A combine whose accumulator differs from its output (so merge and extract both matter)."""

    def create_accumulator(self) -> tuple[int, int]:
        return 0, 0

    def add_input(self, acc: tuple[int, int], x: int) -> tuple[int, int]:
        return acc[0] + x, acc[1] + 1

    def merge_accumulators(self, accs):
        return sum(a[0] for a in accs), sum(a[1] for a in accs)

    def extract_output(self, acc: tuple[int, int]):
        return (acc[0], acc[1]) if acc[1] else "empty"


@pytest.mark.parametrize("mode", ["in_memory", "multi_processing"])
def test_same_result_as_combine_globally(mode: str) -> None:
    with beam.Pipeline(options=fnapi_options(multi_processing=mode == "multi_processing")) as p:
        xs = p | beam.Create(list(range(1, 501)))
        ours = xs | "Ours" >> CombineGlobal(_MeanFn())
        theirs = xs | "Beam" >> beam.CombineGlobally(_MeanFn())
        assert_that(ours, equal_to([(125250, 500)]), label="ours")
        assert_that(theirs, equal_to([(125250, 500)]), label="theirs")


def test_empty_input_gives_the_default_once() -> None:
    with beam.Pipeline(options=fnapi_options()) as p:
        out = p | beam.Create([]) | CombineGlobal(_MeanFn())
        assert_that(out, equal_to(["empty"]))


def test_several_inputs_combine_as_one() -> None:
    with beam.Pipeline(options=fnapi_options()) as p:
        a = p | "A" >> beam.Create([1, 2, 3])
        b = p | "B" >> beam.Create([10])
        empty = p | "E" >> beam.Create([])
        out = (a, b, empty) | CombineGlobal(_MeanFn())
        assert_that(out, equal_to([(16, 4)]))


@pytest.mark.parametrize("mode", ["in_memory", "multi_processing"])
def test_shared_once_gives_the_same_results(mode: str) -> None:
    """Combines (one reading another's result as a side input) hanging off the pipeline's shared Impulse."""
    with beam.Pipeline(options=fnapi_options(multi_processing=mode == "multi_processing")) as p:
        shared = share_once(p)
        assert once(p) is shared
        xs = p | "Xs" >> beam.Create(list(range(1, 101)))
        empty = p | "Empty" >> beam.Create([])
        first = xs | "First" >> CombineGlobal(_MeanFn())
        second = empty | "Second" >> CombineGlobal(_MeanFn())
        # a step on the shared Impulse that reads a combine's output: the runner must order it after
        both = once(p) | "Both" >> beam.Map(lambda _, a, b: (a, b), AsSingleton(first), AsSingleton(second))
        assert_that(first, equal_to([(5050, 100)]), label="first")
        assert_that(second, equal_to(["empty"]), label="second")
        assert_that(both, equal_to([((5050, 100), "empty")]), label="both")


def test_without_a_shared_once_each_combine_has_its_own() -> None:
    with beam.Pipeline(options=fnapi_options()) as p:
        assert once(p, "A") is not once(p, "B")
