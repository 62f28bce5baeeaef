"""CombineGlobal: Beam's CombineGlobally result, default on empty input, in every runner mode."""

from __future__ import annotations

import apache_beam as beam
import pytest
from apache_beam.testing.util import assert_that, equal_to

from curation.stage import CombineGlobal
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
