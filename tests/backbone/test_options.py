"""CachedViewOptions: one view per class, consistent with Beam's own views, picklable without the cache."""

from __future__ import annotations

import pickle

from apache_beam.options.pipeline_options import DirectOptions, PipelineOptions, StandardOptions, TypeOptions

from curation.options import CachedViewOptions, beam_options


def test_view_is_made_once_per_class() -> None:
    opts = beam_options([])
    assert opts.view_as(TypeOptions) is opts.view_as(TypeOptions)
    assert opts.view_as(StandardOptions) is not opts.view_as(TypeOptions)


def test_writes_through_a_view_are_seen_everywhere() -> None:
    opts = beam_options(["--direct_num_workers=3"])
    assert opts.view_as(DirectOptions).direct_num_workers == 3
    opts.view_as(TypeOptions).pipeline_type_check = False
    assert opts.view_as(TypeOptions).pipeline_type_check is False
    assert opts.get_all_options()["pipeline_type_check"] is False
    # the same steps on Beam's own class give the same options
    plain = PipelineOptions(["--direct_num_workers=3", "--runner=FnApiRunner"])
    plain.view_as(TypeOptions).pipeline_type_check = False
    assert plain.get_all_options() == opts.get_all_options()


def test_default_runner_and_explicit_runner() -> None:
    assert beam_options([]).view_as(StandardOptions).runner == "FnApiRunner"
    assert beam_options(["--runner=DirectRunner"]).view_as(StandardOptions).runner == "DirectRunner"


def test_pickles_without_the_cache() -> None:
    opts = beam_options(["--direct_num_workers=2"])
    opts.view_as(TypeOptions)
    back = pickle.loads(pickle.dumps(opts))
    assert isinstance(back, CachedViewOptions)
    assert "_curation_views" not in back.__dict__
    assert back.view_as(DirectOptions).direct_num_workers == 2
    assert back.view_as(TypeOptions) is back.view_as(TypeOptions)
