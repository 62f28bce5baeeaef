"""Helpers for tests that run small Beam pipelines on the in-process FnApiRunner.

Outputs are collected through files (base64 pickles written with WriteToText), so the same helper works
in-process and under ``--direct_running_mode=multi_processing``, where closures cannot share memory.
"""

from __future__ import annotations

import base64
import pickle
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions


def fnapi_options(multi_processing: bool = False, workers: int = 2) -> PipelineOptions:
    args = ["--runner=FnApiRunner"]
    if multi_processing:
        args += ["--direct_running_mode=multi_processing", f"--direct_num_workers={workers}"]
    return PipelineOptions(args)


def _encode(x: Any) -> str:
    return base64.b64encode(pickle.dumps(x)).decode("ascii")


def write_collection(pcoll: beam.PCollection, folder: Path, name: str) -> None:
    """Persist a PCollection for :func:`read_collection` (label-unique per ``name``)."""
    _ = (
        pcoll
        | f"Encode{name}" >> beam.Map(_encode)
        | f"Write{name}" >> beam.io.WriteToText(str(folder / name), file_name_suffix=".b64")
    )


def read_collection(folder: Path, name: str) -> list[Any]:
    out = []
    for f in sorted(folder.glob(f"{name}-*.b64")):
        for line in f.read_text().splitlines():
            if line:
                out.append(pickle.loads(base64.b64decode(line)))
    return out


def _merged(pcolls: Any, label: str) -> Any:
    """One PCollection of a StageOutput field that may be a tuple of parts."""
    return pcolls | f"Merge{label}" >> beam.Flatten() if isinstance(pcolls, tuple) else pcolls


def run_stage(
    stage: beam.PTransform, docs: Iterable[Any], multi_processing: bool = False
) -> tuple[list, list, dict]:
    """Run one stage transform on ``docs``; return (kept, rejected, {count_key: StageCounts}).

    Stages emit partial counts per bundle (several under multi_processing or on a large input): the
    partials of a key are summed, as the run's ``stages.json`` step does."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        with beam.Pipeline(options=fnapi_options(multi_processing=multi_processing)) as p:
            out = p | "Create" >> beam.Create(list(docs)) | "Stage" >> stage
            write_collection(out.kept, folder, "kept")
            write_collection(_merged(out.rejected, "Rejected"), folder, "rejected")
            write_collection(_merged(out.counts, "Counts"), folder, "counts")
        kept = read_collection(folder, "kept")
        rejected = read_collection(folder, "rejected")
        counts: dict[Any, Any] = {}
        for key, part in read_collection(folder, "counts"):
            counts[key] = counts[key].merge(part) if key in counts else part
    return kept, rejected, counts
