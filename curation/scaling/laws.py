"""Every data-scaling formula and constant the report uses, in one place, with its source.

References (constants are the published ones; nothing here is fitted to our data):

* **Chinchilla** — J. Hoffmann et al., "Training Compute-Optimal Large Language Models", 2022,
  arXiv:2203.15556. Compute-optimal training uses about 20 tokens per parameter (Table 3 / Approach 1-2;
  the widely quoted rule of thumb), training compute ``C ~= 6 N D`` FLOPs (Section 2 / Kaplan et al.), and
  the parametric loss fit (Approach 3, Eq. 10 and Section D.2)
  ``L(N, D) = E + A / N**alpha + B / D**beta`` with E = 1.69, A = 406.4, B = 410.7, alpha = 0.34,
  beta = 0.28 (nats per token on MassiveText with the Chinchilla tokenizer).
* **Kaplan** — J. Kaplan et al., "Scaling Laws for Neural Language Models", 2020, arXiv:2001.08361.
  Data-limited law (Eq. 1.2, Table 5) ``L(D) = (D_c / D)**alpha_D`` with D_c = 5.4e13 tokens and
  alpha_D = 0.095; parameter-limited law (Eq. 1.1) ``L(N) = (N_c / N)**alpha_N`` with N_c = 8.8e13
  non-embedding parameters and alpha_N = 0.076 (nats per token on WebText2, GPT-2 BPE).
* **Data-constrained scaling** — N. Muennighoff et al., "Scaling Data-Constrained Language Models",
  NeurIPS 2023, arXiv:2305.16264. With U unique tokens seen for R repetitions *beyond the first epoch*
  (``R = epochs - 1``), the effective data is (Eq. 5)
  ``D' = U + U * R*_D * (1 - exp(-R / R*_D))`` with the fitted R*_D = 15.4: repeated tokens are worth
  less each epoch and their value saturates at ``U * (1 + R*_D)``. Their findings used in the verdict:
  up to about 4 epochs is almost as good as unique data; returns become negligible after about 16 epochs
  (the value of R*_D) and vanish after about 40.

Loss values from different papers are in different units (different tokenizers and datasets): they are
comparable only *within* a law, as relative trends, never across laws or to a user's own runs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class ChinchillaConstants:
    """Hoffmann et al. 2022 (arXiv:2203.15556), Approach 3 parametric fit and the 20 tokens/param rule."""

    E: float = 1.69
    A: float = 406.4
    B: float = 410.7
    alpha: float = 0.34
    beta: float = 0.28
    tokens_per_param: float = 20.0
    flops_per_param_token: float = 6.0  # C = 6 N D (forward + backward pass)


@dataclass(frozen=True)
class KaplanConstants:
    """Kaplan et al. 2020 (arXiv:2001.08361), Table 5."""

    D_c: float = 5.4e13
    alpha_D: float = 0.095
    N_c: float = 8.8e13
    alpha_N: float = 0.076


@dataclass(frozen=True)
class RepetitionConstants:
    """Muennighoff et al. 2023 (arXiv:2305.16264): fitted decay constant and the epoch thresholds."""

    R_star_D: float = 15.4
    near_unique_epochs: float = 4.0  # "up to 4 epochs ... negligible changes to loss" (Section 5)
    diminishing_epochs: float = 16.0  # ~ R*_D: beyond this extra repetitions add little
    worthless_epochs: float = 40.0  # "value of repeated data ... decays to zero" (Figure 3, ~40 epochs)


CHINCHILLA = ChinchillaConstants()
KAPLAN = KaplanConstants()
REPETITION = RepetitionConstants()


def _positive(name: str, value: float) -> float:
    if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    return float(value)


def chinchilla_optimal_params(tokens: float, c: ChinchillaConstants = CHINCHILLA) -> float:
    """Compute-optimal parameter count for ``tokens`` training tokens: N = D / 20."""
    return _positive("tokens", tokens) / c.tokens_per_param


def chinchilla_optimal_tokens(params: float, c: ChinchillaConstants = CHINCHILLA) -> float:
    """Tokens a compute-optimal run of ``params`` parameters trains on: D = 20 N."""
    return _positive("params", params) * c.tokens_per_param


def training_flops(params: float, tokens: float, c: ChinchillaConstants = CHINCHILLA) -> float:
    """Training compute C = 6 N D (FLOPs)."""
    return c.flops_per_param_token * _positive("params", params) * _positive("tokens", tokens)


def chinchilla_loss(params: float, tokens: float, c: ChinchillaConstants = CHINCHILLA) -> float:
    """Predicted loss L(N, D) = E + A / N**alpha + B / D**beta (nats/token, Chinchilla units)."""
    n = _positive("params", params)
    d = _positive("tokens", tokens)
    return c.E + c.A / n**c.alpha + c.B / d**c.beta


def kaplan_data_loss(tokens: float, k: KaplanConstants = KAPLAN) -> float:
    """Kaplan's data-limited loss L(D) = (D_c / D)**alpha_D (large model, early-stopped)."""
    return (k.D_c / _positive("tokens", tokens)) ** k.alpha_D


def kaplan_param_loss(params: float, k: KaplanConstants = KAPLAN) -> float:
    """Kaplan's parameter-limited loss L(N) = (N_c / N)**alpha_N (non-embedding parameters)."""
    return (k.N_c / _positive("params", params)) ** k.alpha_N


def epochs_needed(tokens_needed: float, unique_tokens: float) -> float:
    """How many passes over ``unique_tokens`` a run of ``tokens_needed`` tokens makes."""
    return _positive("tokens_needed", tokens_needed) / _positive("unique_tokens", unique_tokens)


def effective_data(unique_tokens: float, epochs: float, r: RepetitionConstants = REPETITION) -> float:
    """Muennighoff et al. effective data D' = U + U R* (1 - exp(-R / R*)), R = epochs - 1 repetitions.

    For ``epochs <= 1`` no token is repeated and the effective data is simply the tokens seen
    (``U * epochs``).
    """
    u = _positive("unique_tokens", unique_tokens)
    e = _positive("epochs", epochs)
    if e <= 1.0:
        return u * e
    reps = e - 1.0
    return u + u * r.R_star_D * (1.0 - math.exp(-reps / r.R_star_D))


def max_effective_data(unique_tokens: float, r: RepetitionConstants = REPETITION) -> float:
    """The limit of D' for infinitely many epochs: U (1 + R*_D)."""
    return _positive("unique_tokens", unique_tokens) * (1.0 + r.R_star_D)


def repetition_verdict(epochs: float, r: RepetitionConstants = REPETITION) -> tuple[str, str]:
    """A plain-language verdict for training ``epochs`` passes over the corpus: ``(level, sentence)``.

    Levels: ``ok`` (<= 1 epoch), ``fine`` (<= 4), ``diminishing`` (<= 16), ``poor`` (<= 40), ``futile``.
    """
    e = _positive("epochs", epochs)
    if e <= 1.0:
        return "ok", (
            f"Enough unique data: the run needs {e:.2f} of one pass over the corpus, so no token repeats."
        )
    if e <= r.near_unique_epochs:
        return "fine", (
            f"Needs {e:.1f} epochs. Muennighoff et al. (2023) find up to ~{r.near_unique_epochs:.0f} epochs "
            "of repeated data is almost as good as unique data: acceptable."
        )
    if e <= r.diminishing_epochs:
        return "diminishing", (
            f"Needs {e:.1f} epochs: repeated tokens are worth noticeably less than fresh ones (diminishing "
            "returns). Prefer more data, a smaller model or fewer training tokens."
        )
    if e <= r.worthless_epochs:
        return "poor", (
            f"Needs {e:.1f} epochs: beyond ~{r.diminishing_epochs:.0f} epochs extra repetitions add very "
            "little. This corpus is too small for the target; collect more data or train a smaller model."
        )
    return "futile", (
        f"Needs {e:.0f} epochs: past ~{r.worthless_epochs:.0f} epochs repeated data is practically worthless "
        "(Muennighoff et al. 2023). The corpus cannot support this model size."
    )
