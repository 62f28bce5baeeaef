"""What model a corpus supports: the scaling laws in :mod:`curation.scaling.laws` applied to a token count.

:func:`corpus_analysis` answers, for the final (unique) token count D of a run: the Chinchilla
compute-optimal model size and its compute and predicted loss, Kaplan's data-limited loss for comparison,
and the largest model the corpus feeds at 1, 4 and 16 epochs. :func:`target_analysis` answers, for a target
model size N: tokens needed, epochs over this corpus, effective data under repetition and a verdict.
:func:`mix_change` compares per-source-kind token counts before and after a what-if change.
All results are plain JSON-serialisable dicts (they go into ``summary.json``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from curation.scaling import laws


def corpus_analysis(unique_tokens: float) -> dict[str, Any]:
    """Scaling figures for a corpus of ``unique_tokens`` tokens (see module docstring)."""
    d = float(unique_tokens)
    if d <= 0:
        return {"unique_tokens": 0, "note": "the corpus is empty: no scaling analysis"}
    n_opt = laws.chinchilla_optimal_params(d)
    supports = {}
    for epochs in (1.0, laws.REPETITION.near_unique_epochs, laws.REPETITION.diminishing_epochs):
        d_seen = d * epochs
        supports[f"{epochs:g}"] = {
            "epochs": epochs,
            "tokens_seen": d_seen,
            "effective_tokens": laws.effective_data(d, epochs),
            "optimal_params": laws.chinchilla_optimal_params(d_seen),
        }
    return {
        "unique_tokens": d,
        "chinchilla": {
            "tokens_per_param": laws.CHINCHILLA.tokens_per_param,
            "optimal_params": n_opt,
            "training_flops": laws.training_flops(n_opt, d),
            "predicted_loss": laws.chinchilla_loss(n_opt, d),
        },
        "kaplan": {"data_limited_loss": laws.kaplan_data_loss(d)},
        "supports": supports,
        "max_effective_tokens": laws.max_effective_data(d),
    }


def target_analysis(unique_tokens: float, target_params: float) -> dict[str, Any]:
    """Tokens, epochs, effective data, predicted losses and a verdict for a ``target_params`` model."""
    u = float(unique_tokens)
    n = float(target_params)
    needed = laws.chinchilla_optimal_tokens(n)
    out: dict[str, Any] = {
        "target_params": n,
        "tokens_needed": needed,
        "training_flops": laws.training_flops(n, needed),
        "loss_with_unique_data": laws.chinchilla_loss(n, needed),
    }
    if u <= 0:
        out.update(epochs=None, verdict_level="futile", verdict="The corpus is empty.")
        return out
    epochs = laws.epochs_needed(needed, u)
    eff = laws.effective_data(u, epochs)
    level, verdict = laws.repetition_verdict(epochs)
    out.update(
        unique_tokens=u,
        epochs=epochs,
        effective_tokens=eff,
        effective_fraction=eff / needed,
        loss_with_this_corpus=laws.chinchilla_loss(n, eff),
        verdict_level=level,
        verdict=verdict,
    )
    return out


def mix_shares(tokens_by_kind: Mapping[str, float]) -> dict[str, float]:
    """Share of each source kind in a token mix (0 for every kind when the mix is empty)."""
    total = float(sum(tokens_by_kind.values()))
    return {k: (float(v) / total if total > 0 else 0.0) for k, v in sorted(tokens_by_kind.items())}


def mix_change(before: Mapping[str, float], after: Mapping[str, float]) -> list[dict[str, Any]]:
    """Per source kind: tokens and share before and after, the token delta and share delta (points)."""
    kinds = sorted(set(before) | set(after))
    sb, sa = mix_shares({k: before.get(k, 0) for k in kinds}), mix_shares({k: after.get(k, 0) for k in kinds})
    rows = []
    for k in kinds:
        b, a = float(before.get(k, 0)), float(after.get(k, 0))
        rows.append(
            {
                "source_kind": k,
                "tokens_before": b,
                "tokens_after": a,
                "tokens_delta": a - b,
                "share_before": sb[k],
                "share_after": sa[k],
                "share_delta_points": 100.0 * (sa[k] - sb[k]),
            }
        )
    return rows
