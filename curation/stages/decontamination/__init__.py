"""Decontamination stage: remove evaluation-benchmark text from the corpus before a model memorises it.

Evaluation sets named in the stage options are read once and turned into an index of 13-word n-gram
hashes (GPT-3 overlap analysis, Brown et al. 2020, Appendix C). Every document is checked against it;
an evaluation item counts as *found* when enough of its n-grams occur (``rules.match``). A document with
found items is cut (the matched n-grams plus a 200-character margin are removed) or dropped
(``contaminated:<eval set>``) according to ``rules.action``. Evidence (eval set, item id, matched /
total n-grams) is written to the ``decontamination.*`` signals, so rejects carry it.

Small eval sets are broadcast as a Beam side input; above ``join_threshold_items`` items (or with
``force_path: join``) the index becomes a GroupByKey join on n-gram hashes so it never has to fit in one
worker. Both paths run the same scoring code and give identical decisions. The stage also emits
``("contamination", {...})`` stats: per eval set, items found and tokens removed per source kind.

Modules: ``rules`` (rules + options), ``ngrams`` (normalisation, hashing), ``evalsets`` (reading),
``index`` (the n-gram index), ``decide`` (decisions, span cutting), ``match`` (scoring),
``transforms`` (Beam wiring), ``stats`` (the report).
"""

from __future__ import annotations

from pathlib import Path

from curation.config import PipelineConfig, StageSpec
from curation.stages.decontamination.decide import STAGE, decide
from curation.stages.decontamination.evalsets import count_items
from curation.stages.decontamination.rules import (
    DecontaminationOptions,
    DecontaminationRules,
    load_decontamination_rules,
    parse_options,
)
from curation.stages.decontamination.transforms import DecontaminationStage


def load_stage_rules(path: str | Path) -> DecontaminationRules:
    """What-if protocol: parse rules/decontamination.yaml."""
    return load_decontamination_rules(path)


def choose_join(options: DecontaminationOptions) -> bool:
    """Join path when forced, or when the eval sets together exceed ``join_threshold_items`` items."""
    if options.force_path != "auto":
        return options.force_path == "join"
    return sum(count_items(es) for es in options.eval_sets) > options.join_threshold_items


def build_stage(spec: StageSpec, cfg: PipelineConfig) -> DecontaminationStage:
    """Parse rules and options now (bad values fail at pipeline build time) and build the transform."""
    rules = load_decontamination_rules(cfg.rules_path(spec))
    options = parse_options(
        dict(spec.options), file=cfg.path or None, key=f"stages.{spec.name}.options", base_dir=cfg.base_dir
    )
    return DecontaminationStage(rules, options, cfg.tokenizer, use_join=choose_join(options))


__all__ = ["STAGE", "DecontaminationStage", "build_stage", "choose_join", "decide", "load_stage_rules"]
