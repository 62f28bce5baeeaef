"""Per-stage timers count the stage's CPU time (thread CPU clock), not wall-clock waiting, and the
pipeline build turns off Beam's type inference (nothing to check, ~half the build's CPU)."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence

import apache_beam as beam
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.options.pipeline_options import PipelineOptions, TypeOptions

from curation.document import Document
from curation.stage import (
    STAGE_MICROS,
    DocProcessor,
    MapStage,
    Outcome,
    cpu_micros_since,
    cpu_timed,
)


class _Sleeper(DocProcessor):
    """Waits without using the CPU (what a busy machine looks like to a wall-clock timer)."""

    stage = "sleeper"

    def process_batch(self, docs: Sequence[Document]) -> list[Outcome]:
        time.sleep(0.4)
        return list(docs)


class _Spinner(DocProcessor):
    """Uses the CPU for about 0.3 s per batch."""

    stage = "spinner"

    def process_batch(self, docs: Sequence[Document]) -> list[Outcome]:
        t0 = time.thread_time()
        x = 0
        while time.thread_time() - t0 < 0.3:
            x += 1
        return list(docs)


def _docs() -> list[Document]:
    return [Document(id=f"d{i}", source_kind="web", source="s", text=f"text {i}") for i in range(3)]


def _micros(processor: DocProcessor) -> int:
    p = beam.Pipeline(options=PipelineOptions(["--runner=FnApiRunner"]))
    out = p | beam.Create(_docs()) | MapStage(processor, batch_size=8, tokenizer="whitespace")
    _ = out.kept | beam.Map(lambda d: d)
    result = p.run()
    result.wait_until_finish()
    counters = result.metrics().query(MetricsFilter().with_name(STAGE_MICROS))["counters"]
    mine = [c for c in counters if c.key.metric.namespace == processor.stage]
    return sum(int(c.committed or c.attempted or 0) for c in mine)


def test_stage_timer_ignores_waiting() -> None:
    assert _micros(_Sleeper()) < 100_000  # slept >= 0.4 s per batch, used almost no CPU


def test_stage_timer_counts_cpu() -> None:
    assert _micros(_Spinner()) >= 250_000


def test_cpu_micros_since() -> None:
    t0 = time.thread_time()
    time.sleep(0.2)
    assert cpu_micros_since(t0) < 100_000
    while time.thread_time() - t0 < 0.05:
        pass
    assert cpu_micros_since(t0) >= 50_000


def test_build_turns_off_type_inference(tmp_path, repo_root) -> None:
    from curation.config import PipelineConfig, SourceSpec, StageSpec
    from curation.pipeline import build, plan
    from curation.resume import RunLayout

    (tmp_path / "web").mkdir()
    (tmp_path / "web" / "a.jsonl").write_text('{"id": "a", "text": "hello"}\n')
    cfg = PipelineConfig(
        sources=(SourceSpec(kind="web", paths=(str(tmp_path / "web" / "*.jsonl"),), name="w"),),
        stages=(StageSpec(name="normalize", rules="normalize.yaml"),),
        tokenizer="whitespace",
        path=str(repo_root / "rules" / "pipeline.yaml"),
    )
    p = beam.Pipeline(options=PipelineOptions(["--runner=FnApiRunner"]))
    assert p.options.view_as(TypeOptions).pipeline_type_check
    build(p, plan(cfg), RunLayout(str(tmp_path / "out"), 0))
    assert not p.options.view_as(TypeOptions).pipeline_type_check


def _spin(seconds: float) -> None:
    t0 = time.thread_time()
    while time.thread_time() - t0 < seconds:
        pass


def _spin_then_yield(x: int) -> Iterator[int]:
    _spin(0.1)  # this step's own work: counted
    yield x


def _downstream(x: int) -> int:
    _spin(0.3)  # the next fused step's work, run between the timed iterator's items: not counted
    return x


def _step_micros(stage: str) -> int:
    p = beam.Pipeline(options=PipelineOptions(["--runner=FnApiRunner"]))
    _ = (
        p
        | beam.Create([1, 2])
        | "Timed" >> beam.FlatMap(cpu_timed(stage, _spin_then_yield))
        | "Downstream" >> beam.Map(_downstream)
    )
    result = p.run()
    result.wait_until_finish()
    counters = result.metrics().query(MetricsFilter().with_name(STAGE_MICROS))["counters"]
    return sum(int(c.committed or c.attempted or 0) for c in counters if c.key.metric.namespace == stage)


def test_cpu_timed_counts_own_work_not_downstream() -> None:
    micros = _step_micros("timed_step")
    assert 180_000 <= micros < 450_000  # 2 x 0.1 s own; the 2 x 0.3 s downstream would make >= 0.8 s


def test_every_stage_of_a_run_has_a_cpu_counter(tmp_path, repo_root) -> None:
    """stages.json's stages and the timers agree: dedup, decontamination and write are timed too."""
    import dataclasses
    import json

    from curation.config import SourceSpec, load_config
    from curation.run import run

    (tmp_path / "web").mkdir()
    words = "the curation pipeline keeps good documents and removes duplicates of them".split()
    with open(tmp_path / "web" / "a.jsonl", "w") as fh:
        for i in range(30):
            text = " ".join(words[(i + j) % len(words)] for j in range(120)) + f" page {i}."
            fh.write(json.dumps({"id": f"p{i}", "text": text, "url": f"https://e.org/{i}"}) + "\n")
    base = load_config(repo_root / "rules" / "pipeline.yaml")
    keep = {"normalize", "dedup", "decontamination"}
    cfg = dataclasses.replace(
        base,
        sources=(SourceSpec(kind="web", paths=(str(tmp_path / "web" / "*.jsonl"),), name="w"),),
        stages=tuple(s for s in base.stages if s.name in keep),
        tokenizer="whitespace",
    )
    result = run(cfg, tmp_path / "out", report=False)
    assert {"read", "normalize", "dedup", "decontamination", "write"} <= set(result.stage_micros)
    assert all(v > 0 for v in result.stage_micros.values())


class _Loader(DocProcessor):
    """A set-up that loads many small Python objects (like a gazetteer)."""

    stage = "loader"

    def setup(self) -> None:
        self.table = [{"name": f"n{i}"} for i in range(20_000)]


def test_set_up_objects_leave_the_cyclic_collector() -> None:
    """After a stage's set-up its models are frozen: full collections no longer re-traverse them."""
    import gc

    from curation.stage import _ProcessorDoFn

    gc.unfreeze()
    fn = _ProcessorDoFn(_Loader(), tokenizer="whitespace")
    try:
        fn.setup()
        assert gc.get_freeze_count() >= 20_000
    finally:
        gc.unfreeze()
