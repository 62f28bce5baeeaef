"""Data-scaling analysis: published scaling laws (:mod:`.laws`), corpus/target figures (:mod:`.analysis`)
and a power-law fit of a user's small-run results (:mod:`.fit`, ``curate scaling fit``)."""

from curation.scaling.analysis import corpus_analysis, mix_change, mix_shares, target_analysis
from curation.scaling.laws import (
    CHINCHILLA,
    KAPLAN,
    REPETITION,
    chinchilla_loss,
    chinchilla_optimal_params,
    chinchilla_optimal_tokens,
    effective_data,
    epochs_needed,
    kaplan_data_loss,
    kaplan_param_loss,
    repetition_verdict,
    training_flops,
)

__all__ = [
    "CHINCHILLA",
    "KAPLAN",
    "REPETITION",
    "chinchilla_loss",
    "chinchilla_optimal_params",
    "chinchilla_optimal_tokens",
    "corpus_analysis",
    "effective_data",
    "epochs_needed",
    "kaplan_data_loss",
    "kaplan_param_loss",
    "mix_change",
    "mix_shares",
    "repetition_verdict",
    "target_analysis",
    "training_flops",
]
