"""Data-scaling analysis: published scaling laws (:mod:`.laws`), corpus/target/filter figures
(:mod:`.analysis`) and a power-law fit of a user's small-run results (:mod:`.fit`, ``curate scaling fit``)."""

from curation.scaling.analysis import (
    corpus_analysis,
    filter_costs,
    mix_change,
    mix_shares,
    target_analysis,
)

__all__ = ["corpus_analysis", "filter_costs", "mix_change", "mix_shares", "target_analysis"]
