"""curation.beamfn: lean DoFns list fewer names to Beam's introspection and behave like Beam's own steps."""

from __future__ import annotations

import apache_beam as beam
import pytest
from apache_beam.coders import VarIntCoder
from apache_beam.pvalue import AsSingleton
from apache_beam.testing.util import assert_that, equal_to
from apache_beam.transforms import userstate
from apache_beam.transforms.userstate import ReadModifyWriteStateSpec

from curation import beamfn as lean
from tests.beam_helpers import fnapi_options

_COUNT = ReadModifyWriteStateSpec("count", VarIntCoder())


class _Plain(lean.LeanDoFn):
    def helper(self) -> int:
        return 1

    def process(self, x: int):
        yield x + self.helper()


class _Stateful(lean.LeanDoFn):
    """Declares state on its own process method: the lean listing must still expose it."""

    def process(self, kv, count=beam.DoFn.StateParam(_COUNT)):  # noqa: B008 (Beam's idiom)
        n = (count.read() or 0) + 1
        count.write(n)
        yield kv[0], n


class _StatefulBeam(beam.DoFn):
    def process(self, kv, count=beam.DoFn.StateParam(_COUNT)):  # noqa: B008
        yield kv


def test_listing_keeps_own_and_lifecycle_methods_and_drops_beam_plumbing() -> None:
    names = set(dir(_Plain()))
    assert {"helper", "process"} <= names
    beams = {"to_runner_api", "with_input_types", "default_type_hints", "display_data", "setup", "teardown"}
    assert not names & beams  # Beam's own methods, including its empty lifecycle defaults
    assert len(names) < len(set(dir(beam.DoFn())))
    # the attributes themselves are all still there
    assert callable(_Plain().to_runner_api)


def test_instance_attributes_and_own_lifecycle_methods_are_listed() -> None:
    fn = lean._MapFn(abs)
    assert "fn" in dir(fn)
    from curation.stage import _PrecombineDoFn

    own = {"setup", "start_bundle", "process", "finish_bundle", "teardown"}
    assert own <= set(dir(_PrecombineDoFn(None)))


def test_state_specs_found_as_on_a_plain_dofn() -> None:
    assert userstate.get_dofn_specs(_Stateful()) == userstate.get_dofn_specs(_StatefulBeam())
    assert userstate.is_stateful_dofn(_Stateful())
    assert not userstate.is_stateful_dofn(_Plain())


def test_stateful_lean_dofn_runs() -> None:
    with beam.Pipeline(options=fnapi_options()) as p:
        out = p | beam.Create([("a", 0), ("a", 0), ("b", 0)]) | beam.ParDo(_Stateful())
        assert_that(out, equal_to([("a", 1), ("a", 2), ("b", 1)]))


def _add(x: int, y: int) -> int:
    return x + y


def _pairs(x: int, k: int) -> list[tuple[int, int]]:
    return [(x, i) for i in range(k)]


@pytest.mark.parametrize("multi_processing", [False, True])
def test_element_wise_steps_match_beams(multi_processing: bool) -> None:
    with beam.Pipeline(options=fnapi_options(multi_processing=multi_processing)) as p:
        xs = p | beam.Create([1, 2, 3])
        side = p | "Side" >> beam.Create([10])
        for name, ours, theirs in [
            ("Map", lean.Map(_add, 5), beam.Map(_add, 5)),
            ("MapSide", lean.Map(_add, AsSingleton(side)), beam.Map(_add, AsSingleton(side))),
            ("FlatMap", lean.FlatMap(_pairs, k=2), beam.FlatMap(_pairs, k=2)),
        ]:
            a = xs | f"Ours{name}" >> ours
            b = xs | f"Beam{name}" >> theirs
            assert_that(a, equal_to([y for x in [1, 2, 3] for y in _expected(name, x)]), label=f"ours{name}")
            assert_that(b, equal_to([y for x in [1, 2, 3] for y in _expected(name, x)]), label=f"beam{name}")
        kv = p | "KV" >> beam.Create([(1, 2), (3, 4)])
        assert_that(kv | "OursMT" >> lean.MapTuple(_add), equal_to([3, 7]), label="mt")
        fmt = kv | "OursFMT" >> lean.FlatMapTuple(_pairs)
        assert_that(fmt, equal_to([(1, 0), (1, 1), (3, 0), (3, 1), (3, 2), (3, 3)]), label="fmt")
        tagged = kv | "Tagged" >> lean.FlatMapTuple(_tag).with_outputs("odd", main="even")
        assert_that(tagged.even, equal_to([]), label="even")
        assert_that(tagged.odd, equal_to([1, 3]), label="odd")


def _tag(a: int, b: int):
    yield beam.pvalue.TaggedOutput("odd", a) if a % 2 else a


def _expected(name: str, x: int) -> list:
    return {"Map": [x + 5], "MapSide": [x + 10], "FlatMap": [(x, 0), (x, 1)]}[name]
