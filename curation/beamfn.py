"""DoFns that Beam introspects cheaply: the base class of every DoFn and element-wise step in the pipeline.

Beam looks for user state and timers (``apache_beam.transforms.userstate.get_dofn_specs``) by walking
``dir(dofn)`` and building a signature (``inspect.signature``) for every bound method it finds. A plain
``beam.DoFn`` has ~28 methods, almost all of them Beam's own plumbing (``to_runner_api``,
``with_input_types``, ``default_type_hints``, ...), and the walk runs about eight times per ParDo: at
construction, in the runner API translation, in the runner's checks and in each worker's bundle
processor. At ~0.4 ms a walk, the default pipeline's 127 ParDos spent ~0.46 CPU-s of a 10-document
run's ~2.9 CPU-s there (benchmarks/run.py start-up run, counted with a wrapper around the function).

:class:`LeanDoFn` lists, in ``dir()``, only the names its subclasses define (``process``, their own
``setup`` ..., helpers, attributes), leaving out every method that resolves to Beam's base classes --
their plumbing and the default, empty lifecycle methods. None of those takes ``DoFn.StateParam`` or
``DoFn.TimerParam`` (they take no DoFn parameters at all), so the walk finds exactly the same state and
timer specs -- none in this pipeline today, and any a subclass declares on its own methods -- in a
fraction of the time. Nothing else in Beam or in pickling reads ``dir()``; the attributes themselves are
untouched (``getattr`` still finds every one), only interactive listing is shorter.

:func:`Map`, :func:`FlatMap` and :func:`FlatMapTuple` are the element-wise steps of ``beam.Map`` etc. on a
:class:`LeanDoFn` (Beam's ``CallableWrapperDoFn`` is a plain DoFn: 568 of those 1010 walks).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any

import apache_beam as beam


def _defined_by_beam(cls: type, name: str) -> bool:
    """Whether the attribute ``name`` of ``cls`` resolves to a class of the ``apache_beam`` package."""
    for klass in cls.__mro__:
        if name in vars(klass):
            return klass.__module__.split(".", 1)[0] == "apache_beam"
    return False


@functools.cache
def introspected_names(cls: type) -> tuple[str, ...]:
    """``dir(cls)`` without the names that resolve to Beam's classes, and without ``__dir__`` itself.

    Cached per class: a read-only table of names, the same in every process."""
    return tuple(n for n in dir(cls) if n != "__dir__" and not _defined_by_beam(cls, n))


class LeanDoFn(beam.DoFn):
    """A ``beam.DoFn`` whose ``dir()`` leaves out Beam's own plumbing (see the module docstring)."""

    def __dir__(self) -> Iterable[str]:
        return [*introspected_names(type(self)), *vars(self)]


class _MapFn(LeanDoFn):
    """``fn(element, *args)`` as the one output (``beam.Map``).

    The ``process`` methods of these wrappers carry no annotations: Beam would read them as the step's
    type hints (``**kwargs: Any`` becomes a ``Dict[str, Any]`` constraint) where ``beam.Map`` has none."""

    def __init__(self, fn: Callable[..., Any]) -> None:
        super().__init__()
        self.fn = fn

    def process(self, element, *args, **kwargs):
        yield self.fn(element, *args, **kwargs)


class _FlatMapFn(_MapFn):
    """Every item of ``fn(element, *args)`` (``beam.FlatMap``)."""

    def process(self, element, *args, **kwargs):
        return self.fn(element, *args, **kwargs)


class _FlatMapTupleFn(_MapFn):
    """Every item of ``fn(*element, *args)`` (``beam.FlatMapTuple``)."""

    def process(self, element, *args, **kwargs):
        return self.fn(*element, *args, **kwargs)


class _MapTupleFn(_MapFn):
    """``fn(*element, *args)`` as the one output (``beam.MapTuple``)."""

    def process(self, element, *args, **kwargs):
        yield self.fn(*element, *args, **kwargs)


def Map(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> beam.ParDo:
    """``beam.Map(fn, *args, **kwargs)`` on a :class:`LeanDoFn` (side inputs pass through as with Beam)."""
    return beam.ParDo(_MapFn(fn), *args, **kwargs)


def MapTuple(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> beam.ParDo:
    """``beam.MapTuple(fn, *args, **kwargs)`` on a :class:`LeanDoFn`."""
    return beam.ParDo(_MapTupleFn(fn), *args, **kwargs)


def FlatMap(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> beam.ParDo:
    """``beam.FlatMap(fn, *args, **kwargs)`` on a :class:`LeanDoFn`."""
    return beam.ParDo(_FlatMapFn(fn), *args, **kwargs)


def FlatMapTuple(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> beam.ParDo:
    """``beam.FlatMapTuple(fn, *args, **kwargs)`` on a :class:`LeanDoFn`."""
    return beam.ParDo(_FlatMapTupleFn(fn), *args, **kwargs)
