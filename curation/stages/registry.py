"""The stage registry: stage name -> the module that builds it. Adding a stage is one line here.

Every stage module exposes ``build_stage(spec: StageSpec, cfg: PipelineConfig) -> beam.PTransform``. The
builder parses and validates the stage's rules file *immediately* (so a bad rules file fails at pipeline
build time) and returns a transform whose ``expand`` returns a :class:`~curation.stage.StageOutput`.
Modules are imported lazily, so a stage's heavy dependencies load only when the stage is used.

Optional module-level hooks a stage module may also expose:

* ``build_probe(spec, cfg) -> beam.PTransform | None``: a transform ``PCollection[Document] ->
  PCollection[tuple[str, dict]]`` (combined, JSON-serialisable stats). The pipeline applies it twice, to
  the documents right after ``read`` ("before") and to the documents reaching ``write`` ("after"), and
  writes ``report/stats/<stage>.probe.json`` as ``{"before": {...}, "after": {...}}`` (e.g. the bias
  representation report compares identity-term shares before and after curation).
* What-if protocol (for ``curate report --what-if``): ``load_stage_rules(path) -> rules`` (a frozen
  dataclass, nested) and ``decide(signals, rules, source_kind) -> tuple[str, ...]`` returning the reasons
  that would reject a document given its *stored* signals (empty tuple = keep). The report overrides a
  rules key (``quality.gopher.min_words=30`` = stage ``quality``, key path ``gopher.min_words``) and
  recomputes the funnel without re-running the pipeline.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import apache_beam as beam

    from curation.config import PipelineConfig, StageSpec


@dataclass(frozen=True)
class StageEntry:
    module: str
    needs_rules: bool = True
    description: str = ""
    uses_html: bool = False  # reads Document.html; the pipeline drops html after the last such stage

    def builder(self) -> Callable[[StageSpec, PipelineConfig], beam.PTransform]:
        return importlib.import_module(self.module).build_stage


STAGES: dict[str, StageEntry] = {
    "normalize": StageEntry("curation.stages.normalize", description="Unicode NFC, whitespace, controls"),
    "langid": StageEntry("curation.stages.langid", description="fastText lid.176 language ID"),
    "quality": StageEntry("curation.stages.quality", description="Gopher/C4/FineWeb + code/chat rules"),
    "license": StageEntry(
        "curation.stages.license", description="SPDX / CC tagging and license policy", uses_html=True
    ),
    "dedup": StageEntry("curation.stages.dedup", description="exact + MinHash-LSH near-dup removal"),
    "pii": StageEntry("curation.stages.pii", description="presidio PII and secrets scrubbing"),
    "toxicity": StageEntry("curation.stages.toxicity", description="toxicity scoring, span removal, bias"),
    "decontamination": StageEntry(
        "curation.stages.decontamination", description="benchmark n-gram overlap removal"
    ),
}


def html_needed_after(cfg: PipelineConfig, stage: str) -> bool:
    """Whether ``Document.html`` must survive stage ``stage``: the output keeps it, or a later enabled
    stage reads it. Stages that split and re-merge their documents use this to drop it on each branch."""
    names = [s.name for s in cfg.enabled_stages]
    later = names[names.index(stage) + 1 :] if stage in names else []
    return cfg.output.keep_html or any(STAGES[name].uses_html for name in later)


def build(spec: StageSpec, cfg: PipelineConfig) -> beam.PTransform:
    """Build the transform of a configured stage."""
    return STAGES[spec.name].builder()(spec, cfg)
