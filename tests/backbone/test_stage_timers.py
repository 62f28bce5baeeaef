"""Per-stage timers count the stage's CPU time (thread CPU clock), not wall-clock waiting, and the
pipeline build turns off Beam's type inference (nothing to check, ~half the build's CPU)."""

from __future__ import annotations

import time
from collections.abc import Sequence

import apache_beam as beam
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.options.pipeline_options import PipelineOptions, TypeOptions

from curation.document import Document
from curation.stage import STAGE_MICROS, DocProcessor, MapStage, Outcome, cpu_micros_since


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
