"""Beam pipeline options for curation runs: Beam's own ``PipelineOptions``, with each view made once.

Why: ``Pipeline.apply`` calls ``options.view_as(TypeOptions)`` twice for every transform it applies, and each
call builds a fresh argparse parser over every registered option class (about 0.2 ms, most of it argparse
and ``shutil.get_terminal_size``). On the curation graph (~190 leaf transforms, more composites) that was
0.1-0.13 CPU-s of every run's start-up, measured with py-spy on a 10-document run.

A view holds no state of its own: every view of one options object reads and writes the same
``_all_options`` dict (that is how Beam keeps views consistent), and the flags never change after
construction, so handing out the same view object again returns exactly what a new one would. The cache
is dropped when the options are pickled (workers rebuild their own).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from apache_beam.options.pipeline_options import PipelineOptions

_V = TypeVar("_V", bound=PipelineOptions)
_VIEWS = "_curation_views"


class CachedViewOptions(PipelineOptions):
    """:class:`PipelineOptions` whose :meth:`view_as` returns one view object per options class."""

    def view_as(self, cls: type[_V]) -> _V:
        views: dict[type, Any] | None = self.__dict__.get(_VIEWS)
        if views is None:
            views = {}
            object.__setattr__(self, _VIEWS, views)  # PipelineOptions.__setattr__ admits only option names
        view = views.get(cls)
        if view is None:
            view = views[cls] = super().view_as(cls)
        return view

    def __getstate__(self) -> dict[str, Any]:
        state = dict(super().__getstate__())
        state.pop(_VIEWS, None)
        return state


def beam_options(beam_args: Sequence[str]) -> PipelineOptions:
    """Pipeline options from the pass-through args, defaulting to the in-process FnApiRunner."""
    args = list(beam_args)
    if not any(a == "--runner" or a.startswith("--runner=") for a in args):
        args.append("--runner=FnApiRunner")
    return CachedViewOptions(args)
