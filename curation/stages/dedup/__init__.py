"""Dedup stage: exact + MinHash-LSH near-duplicate removal with Beam-native clustering (docs/dedup.md).

``build_stage(spec, cfg)`` parses ``rules/dedup.yaml`` at build time and returns :class:`DedupStage`.
"""

from __future__ import annotations

from typing import Any

from curation.config import PipelineConfig, StageSpec
from curation.rules import ConfigError
from curation.stages.dedup.rules import DedupRules, load_dedup_rules
from curation.stages.dedup.stage import STAGE, DedupStage, apply_decision


def s_curve(similarity: float, bands: int, rows: int) -> float:
    """Probability that two documents of Jaccard ``similarity`` share at least one LSH band:
    ``1 - (1 - s**rows)**bands`` (Leskovec, Rajaraman, Ullman, "Mining of Massive Datasets", 3.4.2)."""
    return 1.0 - (1.0 - similarity**rows) ** bands


def describe(rules: DedupRules) -> dict[str, Any]:
    """The parameters and S-curve of ``rules``, written to the stage stats (``params``)."""
    mh = rules.minhash
    return {
        "exact": rules.exact,
        "exact_url": rules.exact_url,
        "near": rules.near,
        "ngram_words": rules.words.n,
        "ngram_code_tokens": rules.code_tokens.n,
        "code_tokenizer": rules.code_tokens.tokenizer,
        "num_perm": mh.num_perm,
        "bands": mh.bands,
        "rows": mh.rows,
        "seed": mh.seed,
        "threshold": mh.threshold,
        "verify": mh.verify,
        "verify_k": mh.verify_k,
        "max_rounds": rules.max_rounds,
        "s_curve": {f"{s:.1f}": round(s_curve(s, mh.bands, mh.rows), 4) for s in (0.5, 0.6, 0.7, 0.8, 0.9)},
    }


def build_stage(spec: StageSpec, cfg: PipelineConfig) -> DedupStage:
    """Build the dedup stage from ``spec`` (rules parsed and validated now; no options)."""
    rules = load_dedup_rules(cfg.rules_path(spec))
    if spec.options:
        raise ConfigError(cfg.path, f"stages.{spec.name}.options", "dedup takes no options")
    return DedupStage(rules, params=describe(rules))


__all__ = ["STAGE", "DedupRules", "DedupStage", "apply_decision", "build_stage", "describe", "s_curve"]
