"""PII stage: scrubbing of personal data (structured ids, names, street addresses) and code secrets
(docs/pii.md).

``build_stage(spec, cfg)`` parses ``rules/pii.yaml`` at build time (an entity no recognizer supports fails
with a :class:`~curation.rules.ConfigError` naming it and the allowed ones) and returns :class:`PiiStage`:
``MapStage(PiiProcessor)`` -> ``StripCost`` -> ``Stats`` (entity counts and the pattern/NER cost line).

Stage options (``stages: [{name: pii, options: {...}}]``): ``names: true|false`` (alias ``ner``) overrides
``names.enabled`` (PERSON); ``batch_size`` sets the documents per ``process_batch`` call.

Also exposed: :func:`scrub_snippet` for the curation report, and the what-if protocol
(:func:`load_stage_rules`, :func:`decide`).
"""

from __future__ import annotations

import dataclasses
import logging
from functools import lru_cache
from pathlib import Path
from typing import Any

import apache_beam as beam

from curation import beamfn as lean
from curation.config import PipelineConfig, StageSpec
from curation.document import Document, Reject
from curation.rules import RULES_DIR, ConfigError
from curation.stage import CombineGlobal, MapStage, StageOutput
from curation.stages.pii.entities import SUPPORTED_ENTITIES
from curation.stages.pii.processor import STAGE, TRANSIENT_PREFIX, PiiProcessor, decide
from curation.stages.pii.rules import PiiRules, load_pii_rules

__all__ = ["STAGE", "PiiProcessor", "PiiRules", "PiiStage", "build_stage", "decide", "load_stage_rules",
           "scrub_snippet"]

_OPTIONS = {"names": bool, "ner": bool, "batch_size": int}
log = logging.getLogger(__name__)


def load_stage_rules(path: str | Path) -> PiiRules:
    """What-if protocol: the parsed, validated rules."""
    return load_pii_rules(path, SUPPORTED_ENTITIES)


def _strip_cost(out: Document | Reject) -> tuple[Document | Reject, dict[str, float]]:
    """Remove the transient cost signals; return the cleaned outcome and its cost/entity tallies."""
    doc = out.doc if isinstance(out, Reject) else out
    tally: dict[str, float] = {"docs": 1.0, "chars": float(doc.signals.get(f"{STAGE}.chars") or 0)}
    signals = {}
    for k, v in doc.signals.items():
        if k.startswith(TRANSIENT_PREFIX):
            tally["cost." + k[len(TRANSIENT_PREFIX) :]] = float(v or 0)  # type: ignore[arg-type]
        else:
            signals[k] = v
            if k.startswith(f"{STAGE}.count.") and isinstance(v, int):
                tally["entities." + k[len(f"{STAGE}.count.") :]] = float(v)
    if doc.signals.get(f"{STAGE}.names"):
        tally["ner_docs"] = 1.0
        tally["ner_chars"] = tally["chars"]
    clean = doc.evolve(signals=signals)
    return (dataclasses.replace(out, doc=clean) if isinstance(out, Reject) else clean), tally


class _SumDicts(beam.CombineFn):
    def create_accumulator(self) -> dict[str, float]:
        return {}

    def add_input(self, acc: dict[str, float], x: dict[str, float]) -> dict[str, float]:
        for k, v in x.items():
            acc[k] = acc.get(k, 0.0) + v
        return acc

    def merge_accumulators(self, accs: Any) -> dict[str, float]:
        out: dict[str, float] = {}
        for a in accs:
            self.add_input(out, a)
        return out

    def extract_output(self, acc: dict[str, float]) -> dict[str, float]:
        return dict(sorted(acc.items()))


def summarize(total: dict[str, float]) -> list[tuple[str, dict]]:
    """Turn the summed tallies into the stage's stats: ``entities`` counts and the ``cost`` line."""
    entities = {k.split(".", 1)[1]: int(v) for k, v in total.items() if k.startswith("entities.")}
    pattern_s = total.get("cost.pattern_ms", 0.0) / 1000
    ner_s = total.get("cost.ner_ms", 0.0) / 1000
    chars, ner_chars = total.get("chars", 0.0), total.get("ner_chars", 0.0)
    cost = {
        "docs": int(total.get("docs", 0)),
        "chars": int(chars),
        "pattern_seconds": round(pattern_s, 3),
        "pattern_mchars_per_s": round(chars / 1e6 / pattern_s, 3) if pattern_s else None,
        "ner_docs": int(total.get("ner_docs", 0)),
        "ner_chars": int(ner_chars),
        "ner_seconds": round(ner_s, 3),
        "ner_mchars_per_s": round(ner_chars / 1e6 / ner_s, 3) if ner_s else None,
    }
    return [("entities", entities), ("cost", cost)]


class PiiStage(beam.PTransform):
    """``MapStage(PiiProcessor)``; transient cost signals are stripped into ``entities``/``cost`` stats."""

    def __init__(self, processor: PiiProcessor, batch_size: int = 64, tokenizer: str = "cl100k_base") -> None:
        super().__init__(label=STAGE)
        self.processor = processor
        self.batch_size = batch_size
        self.tokenizer = tokenizer

    def expand(self, docs: beam.PCollection) -> StageOutput:
        scrub = MapStage(self.processor, batch_size=self.batch_size, tokenizer=self.tokenizer)
        inner = docs | "Scrub" >> scrub
        kept = inner.kept | "StripCostKept" >> lean.Map(_strip_cost)
        rejected = inner.rejected | "StripCostRejected" >> lean.Map(_strip_cost)
        # Tallies are projected before the Flatten so that no runner copies the documents to count them.
        stats = (
            (
                kept | "Tally" >> lean.Map(lambda pair: pair[1]),
                rejected | "TallyRejected" >> lean.Map(lambda pair: pair[1]),
            )
            | "Sum" >> CombineGlobal(_SumDicts())
            | "Stats" >> lean.FlatMap(summarize)
        )
        return StageOutput(
            kept=kept | "Kept" >> lean.Map(lambda pair: pair[0]),
            rejected=rejected | "Rejected" >> lean.Map(lambda pair: pair[0]),
            counts=inner.counts,
            stats=stats,
        )


def build_stage(spec: StageSpec, cfg: PipelineConfig) -> PiiStage:
    """Parse and validate the rules now (build time); return the stage transform."""
    path = cfg.rules_path(spec)
    rules = load_stage_rules(path)
    options = dict(spec.options or {})
    for key, value in options.items():
        if key not in _OPTIONS:
            raise ConfigError(cfg.path, f"stages.{spec.name}.options.{key}",
                              f"unknown option; allowed: {', '.join(sorted(_OPTIONS))}")
        if type(value) is not _OPTIONS[key]:
            raise ConfigError(cfg.path, f"stages.{spec.name}.options.{key}",
                              f"expected {_OPTIONS[key].__name__}, got {value!r}")
    for key in ("ner", "names"):
        if key in options:
            rules = dataclasses.replace(rules, names=dataclasses.replace(rules.names, enabled=options[key]))
    if rules.names_on:
        import importlib.util

        if importlib.util.find_spec("gender_guesser") is None:
            msg = "PERSON needs the gender-guesser package (its first-name list); or set names.enabled: false"
            raise ConfigError(path, "names.enabled", msg)
    return PiiStage(PiiProcessor(rules, name_tables_dir(rules, cfg.models_path)),
                    batch_size=options.get("batch_size", 64), tokenizer=cfg.tokenizer)


def name_tables_dir(rules: PiiRules, models_dir: Path) -> str | None:
    """``models_dir`` when its prebuilt PERSON word tables fit ``rules`` and the installed packages (checked
    once here, and again on each worker); ``None`` (logged with the reason: the workers build the tables,
    the same ones, at ~0.15 CPU-s each) when PERSON is off or the file is absent or unusable."""
    if not rules.names_on:
        return None
    from curation.stages.pii.gazetteer import check_file

    reason = check_file(models_dir, rules.names)
    if reason is None:
        return str(models_dir)
    log.warning("pii: %s; each worker builds the PERSON name tables from the packages (~0.15 CPU-s); "
                "build the file with `curate models fetch`", reason)
    return None


@lru_cache(maxsize=1)
def _snippet_processor() -> PiiProcessor:
    rules = load_stage_rules(RULES_DIR / "pii.yaml")
    rules = dataclasses.replace(rules, names=dataclasses.replace(rules.names, enabled=False))
    proc = PiiProcessor(rules)
    proc.setup()
    return proc


def scrub_snippet(text: str) -> str:
    """Scrub a short snippet with the pattern recognizers and the default rules (never rejects; no names:
    snippets are shown for rejected documents, whose text is cut mid-sentence).

    Used by the curation report to show examples of rejected documents without PII. The engine is built
    once per process.
    """
    proc = _snippet_processor()
    assert proc._analyzer is not None and proc._anonymizer is not None
    (results,), _, _ = proc._analyzer.analyze_many([text], [False])
    return proc._anonymizer.apply(text, results)
