"""Every data-scaling formula and constant the report uses, in one place, each with its source.

Nothing here is fitted to our data; the constants are the published ones.

* **Chinchilla** - J. Hoffmann et al., "Training Compute-Optimal Large Language Models", 2022,
  arXiv:2203.15556. Two readings of "compute-optimal", which differ and are both offered:

  - *Approach 3* (Section 3.3, Eq. 2 and Appendix D.2): the parametric loss
    ``L(N, D) = E + A / N**alpha + B / D**beta`` with E = 1.69, A = 406.4, B = 410.7, alpha = 0.34,
    beta = 0.28, minimised under ``C = 6 N D`` (Eq. 4): ``N_opt(C) = G (C/6)**a``,
    ``D_opt(C) = G**-1 (C/6)**b``, ``G = (alpha A / (beta B))**(1 / (alpha + beta))``,
    ``a = beta / (alpha + beta)``, ``b = alpha / (alpha + beta)``. Its optimum is *not* 20 tokens per
    parameter: about 50 at 1e21 FLOPs and 78 at 1e23.
  - *Table 3* (Approach 1 projections): optimal tokens for nine model sizes from 400M to 10T parameters
    (20-22 tokens per parameter, the source of the "20 tokens per parameter" rule). Between rows we
    interpolate log-linearly; outside the table we extend the end segments (flagged as extrapolation).

  Approach 3 was fitted on "over 400 models ranging from 70 million to over 16 billion parameters on 5 to
  500 billion tokens" (abstract): predictions outside that box are flagged.
* **Data-constrained scaling** - N. Muennighoff et al., "Scaling Data-Constrained Language Models",
  NeurIPS 2023, arXiv:2305.16264, Section 3 (the data-constrained scaling law), with the fitted
  constants of the authors' code (github.com/huggingface/datablations, README "Parametric Fit"):
  R*_D = 15.39 and R*_N = 5.31 (the paper's 15.4 and 5.3), E = 1.87, A = 521, B = 1488,
  alpha = beta = 0.353 (rounded here):
  ``L(N, D, U) = E + A / N'**alpha + B / D'**beta`` with effective data
  ``D' = U_D + U_D R*_D (1 - exp(-R_D / R*_D))``, ``R_D = D / U_D - 1`` repetitions of the ``U_D``
  unique tokens, and effective parameters ``N' = U_N + U_N R*_N (1 - exp(-R_N / R*_N))``, where
  ``U_N = min(N, N_opt(U_D))`` is the compute-optimal size for the unique data under the same fit and
  ``R_N = N / U_N - 1`` the excess parameters. Fitted on C4 / OSCAR with the GPT-2 tokenizer, models up to
  ~9B parameters (8.7B) and up to 900B training tokens, unique data from 100M tokens; the paper states no
  lower model size, so we flag below Chinchilla's 70M too.
* **Kaplan** - J. Kaplan et al., "Scaling Laws for Neural Language Models", 2020, arXiv:2001.08361,
  Eq. 1.2 / Table 5: ``L(D) = (D_c / D)**alpha_D``, D_c = 5.4e13, alpha_D = 0.095 (large model, early
  stopped), fitted on 22M to 23B tokens of WebText2 (GPT-2 BPE); Eq. 1.1: ``L(N) = (N_c / N)**alpha_N``,
  N_c = 8.8e13, alpha_N = 0.076, models of 768 to 1.5B non-embedding parameters.

Loss values from different laws are in different units (tokenizers, datasets): they are comparable only
*within* a law, as trends, never across laws or to a user's own runs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

SRC_A3 = "Hoffmann et al. 2022, Approach 3 (Eq. 2, 4; App. D.2)"
SRC_TABLE3 = "Hoffmann et al. 2022, Table 3 (Approach 1), log-log interpolation"
SRC_RULE20 = "rule of thumb D = 20 N (Hoffmann et al. 2022, Table 3 rounded)"
SRC_FLOPS = "C = 6 N D (Kaplan et al. 2020, Sec. 2.1; Hoffmann et al. 2022)"
SRC_MUENNIGHOFF = "Muennighoff et al. 2023, Sec. 3 data-constrained law (fit of huggingface/datablations)"
SRC_KAPLAN = "Kaplan et al. 2020, Eq. 1.2 / Table 5"


@dataclass(frozen=True)
class ParametricLaw:
    """``L(N, D) = E + A / N**alpha + B / D**beta`` (nats per token in the fitting paper's units)."""

    E: float
    A: float
    alpha: float
    B: float
    beta: float

    @property
    def G(self) -> float:
        """Hoffmann et al. Eq. 4: ``G = (alpha A / (beta B))**(1 / (alpha + beta))``."""
        return (self.alpha * self.A / (self.beta * self.B)) ** (1.0 / (self.alpha + self.beta))

    @property
    def a(self) -> float:
        return self.beta / (self.alpha + self.beta)

    @property
    def b(self) -> float:
        return self.alpha / (self.alpha + self.beta)


@dataclass(frozen=True)
class FitRange:
    """The box of (parameters, training tokens, unique tokens) a law was fitted on (None: unbounded)."""

    params: tuple[float, float]
    tokens: tuple[float, float]
    unique: tuple[float | None, float | None] = (None, None)


CHINCHILLA = ParametricLaw(E=1.69, A=406.4, alpha=0.34, B=410.7, beta=0.28)
CHINCHILLA_RANGE = FitRange(params=(7e7, 1.6e10), tokens=(5e9, 5e11))

# huggingface/datablations README, "Parametric Fit": a, b, e are logs of A, B, E.
MUENNIGHOFF = ParametricLaw(
    E=math.exp(0.6254804), A=math.exp(6.255414), alpha=0.3526596, B=math.exp(7.3049974), beta=0.3526596
)
R_STAR_D = 15.387756
R_STAR_N = 5.309743
MUENNIGHOFF_RANGE = FitRange(params=(7e7, 9e9), tokens=(1e8, 9e11), unique=(1e8, None))

KAPLAN_D_C, KAPLAN_ALPHA_D = 5.4e13, 0.095
KAPLAN_N_C, KAPLAN_ALPHA_N = 8.8e13, 0.076
KAPLAN_RANGE = FitRange(params=(768.0, 1.5e9), tokens=(2.2e7, 2.3e10))

TOKENS_PER_PARAM_RULE = 20.0
FLOPS_PER_PARAM_TOKEN = 6.0

# Hoffmann et al. 2022, Table 3: (parameters, FLOPs, tokens).
TABLE3: tuple[tuple[float, float, float], ...] = (
    (400e6, 1.92e19, 8.0e9),
    (1e9, 1.21e20, 20.2e9),
    (10e9, 1.23e22, 205.1e9),
    (67e9, 5.76e23, 1.5e12),
    (175e9, 3.85e24, 3.7e12),
    (280e9, 9.90e24, 5.9e12),
    (520e9, 3.43e25, 11.0e12),
    (1e12, 1.27e26, 21.2e12),
    (10e12, 1.30e28, 216.2e12),
)

# Muennighoff et al. 2023 verdict thresholds (epochs over the unique data).
NEAR_UNIQUE_EPOCHS = 4.0  # Sec. 5: "up to 4 epochs ... negligible changes to loss"
DIMINISHING_EPOCHS = 16.0  # ~ R*_D: beyond this, returns from repetition diminish strongly
WORTHLESS_EPOCHS = 40.0  # Fig. 3: the value of repeated data decays to ~0 after ~40 epochs


def _positive(name: str, value: float) -> float:
    if isinstance(value, bool) or not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    return float(value)


# --- Chinchilla ----------------------------------------------------------------------------------------


def chinchilla_loss(params: float, tokens: float, law: ParametricLaw = CHINCHILLA) -> float:
    """Approach 3 loss ``L(N, D) = E + A / N**alpha + B / D**beta`` (all tokens unique)."""
    n, d = _positive("params", params), _positive("tokens", tokens)
    return law.E + law.A / n**law.alpha + law.B / d**law.beta


def training_flops(params: float, tokens: float) -> float:
    """Training compute ``C = 6 N D`` FLOPs."""
    return FLOPS_PER_PARAM_TOKEN * _positive("params", params) * _positive("tokens", tokens)


def a3_optimal_allocation(flops: float, law: ParametricLaw = CHINCHILLA) -> tuple[float, float]:
    """Approach 3 compute-optimal ``(N_opt, D_opt)`` for ``flops`` (Hoffmann et al. Eq. 4)."""
    c6 = _positive("flops", flops) / FLOPS_PER_PARAM_TOKEN
    return law.G * c6**law.a, c6**law.b / law.G


def a3_params_for_tokens(tokens: float, law: ParametricLaw = CHINCHILLA) -> float:
    """The model size for which ``tokens`` is the Approach 3 compute-optimal data: D = D_opt(6 N D)."""
    d = _positive("tokens", tokens)
    c6 = (law.G * d) ** (1.0 / law.b)
    return c6 / d


def a3_tokens_for_params(params: float, law: ParametricLaw = CHINCHILLA) -> float:
    """The Approach 3 compute-optimal training tokens of a ``params`` model: N = N_opt(6 N D)."""
    n = _positive("params", params)
    c6 = (n / law.G) ** (1.0 / law.a)
    return c6 / n


def _interp_loglog(x: float, xs: list[float], ys: list[float]) -> float:
    lx = [math.log(v) for v in xs]
    ly = [math.log(v) for v in ys]
    t = math.log(x)
    i = 0 if t <= lx[1] else len(lx) - 2 if t >= lx[-2] else max(j for j in range(len(lx) - 1) if lx[j] <= t)
    slope = (ly[i + 1] - ly[i]) / (lx[i + 1] - lx[i])
    return math.exp(ly[i] + slope * (t - lx[i]))


def table3_tokens_for_params(params: float) -> float:
    """Optimal tokens for ``params`` from Hoffmann et al. Table 3 (log-log interpolation)."""
    n = _positive("params", params)
    return _interp_loglog(n, [r[0] for r in TABLE3], [r[2] for r in TABLE3])


def table3_params_for_tokens(tokens: float) -> float:
    """Inverse of :func:`table3_tokens_for_params` (Table 3 tokens are increasing in parameters)."""
    d = _positive("tokens", tokens)
    return _interp_loglog(d, [r[2] for r in TABLE3], [r[0] for r in TABLE3])


def table3_in_range(params: float) -> bool:
    return TABLE3[0][0] <= params <= TABLE3[-1][0]


def rule20_tokens_for_params(params: float) -> float:
    return TOKENS_PER_PARAM_RULE * _positive("params", params)


def rule20_params_for_tokens(tokens: float) -> float:
    return _positive("tokens", tokens) / TOKENS_PER_PARAM_RULE


READINGS = {
    "approach3": (a3_tokens_for_params, a3_params_for_tokens, SRC_A3),
    "table3": (table3_tokens_for_params, table3_params_for_tokens, SRC_TABLE3),
}


# --- Muennighoff et al. 2023 ---------------------------------------------------------------------------


def effective_data(unique_tokens: float, tokens: float, r_star_d: float = R_STAR_D) -> float:
    """``D' = U_D + U_D R*_D (1 - exp(-R_D / R*_D))``, ``R_D = D / U_D - 1`` (``D' = D`` when D <= U)."""
    u, d = _positive("unique_tokens", unique_tokens), _positive("tokens", tokens)
    if d <= u:
        return d
    return u + u * r_star_d * (1.0 - math.exp(-(d / u - 1.0) / r_star_d))


def max_effective_data(unique_tokens: float, r_star_d: float = R_STAR_D) -> float:
    """The limit of D' for infinitely many epochs: ``U (1 + R*_D)``."""
    return _positive("unique_tokens", unique_tokens) * (1.0 + r_star_d)


def muennighoff_unique_params(unique_tokens: float, law: ParametricLaw = MUENNIGHOFF) -> float:
    """``N_opt(U_D)``: the compute-optimal size for ``U_D`` tokens under the fit (datablations ``D_to_N``)."""
    u = _positive("unique_tokens", unique_tokens)
    return (u * law.G) ** (law.beta / law.alpha) * law.G


def effective_params(params: float, unique_tokens: float, r_star_n: float = R_STAR_N) -> float:
    """``N' = U_N + U_N R*_N (1 - exp(-R_N / R*_N))``, ``U_N = min(N, N_opt(U_D))``, ``R_N = N/U_N - 1``."""
    n = _positive("params", params)
    u_n = min(n, muennighoff_unique_params(unique_tokens))
    r_n = n / u_n - 1.0
    return u_n + u_n * r_star_n * (1.0 - math.exp(-r_n / r_star_n))


def data_constrained_loss(params: float, tokens: float, unique_tokens: float) -> float:
    """Muennighoff et al. (Sec. 3) loss of ``params`` trained on ``tokens`` drawn from ``unique_tokens``."""
    d = _positive("tokens", tokens)
    u = min(_positive("unique_tokens", unique_tokens), d)
    law = MUENNIGHOFF
    n_eff = effective_params(params, u)
    d_eff = effective_data(u, d)
    return law.E + law.A / n_eff**law.alpha + law.B / d_eff**law.beta


# --- Kaplan et al. 2020 --------------------------------------------------------------------------------


def kaplan_data_loss(tokens: float) -> float:
    """``L(D) = (D_c / D)**alpha_D`` (large model, early-stopped)."""
    return (KAPLAN_D_C / _positive("tokens", tokens)) ** KAPLAN_ALPHA_D


def kaplan_param_loss(params: float) -> float:
    """``L(N) = (N_c / N)**alpha_N`` (non-embedding parameters, enough data)."""
    return (KAPLAN_N_C / _positive("params", params)) ** KAPLAN_ALPHA_N


# --- ranges and verdicts -------------------------------------------------------------------------------


def range_warnings(
    law: str,
    fit: FitRange,
    params: float | None = None,
    tokens: float | None = None,
    unique: float | None = None,
) -> list[str]:
    """Plain sentences for every input outside the box ``fit`` that ``law`` was fitted on."""
    out = []
    for name, value, (lo, hi) in (
        ("parameters", params, fit.params),
        ("training tokens", tokens, fit.tokens),
        ("unique tokens", unique, fit.unique),
    ):
        if value is None:
            continue
        if lo is not None and value < lo:
            out.append(f"{law}: {name} {value:.3g} below the fitted range (>= {lo:.3g})")
        elif hi is not None and value > hi:
            out.append(f"{law}: {name} {value:.3g} above the fitted range (<= {hi:.3g})")
    return out


def repetition_verdict(epochs: float) -> tuple[str, str]:
    """A plain-language verdict for ``epochs`` passes over the corpus: ``(level, sentence)``.

    Levels: ``ok`` (<= 1 epoch), ``fine`` (<= 4), ``diminishing`` (<= 16), ``poor`` (<= 40), ``futile``.
    """
    e = _positive("epochs", epochs)
    if e <= 1.0:
        return (
            "ok",
            f"Enough unique data: the run needs {e:.2f} of one pass over the corpus, so no token repeats.",
        )
    if e <= NEAR_UNIQUE_EPOCHS:
        return "fine", (
            f"Needs {e:.1f} epochs. Muennighoff et al. (2023) find up to ~{NEAR_UNIQUE_EPOCHS:.0f} epochs "
            "of repeated data is almost as good as unique data: acceptable."
        )
    if e <= DIMINISHING_EPOCHS:
        return "diminishing", (
            f"Needs {e:.1f} epochs: repeated tokens are worth noticeably less than fresh ones (diminishing "
            "returns). Prefer more data, a smaller model or fewer training tokens."
        )
    if e <= WORTHLESS_EPOCHS:
        return "poor", (
            f"Needs {e:.1f} epochs: beyond ~{DIMINISHING_EPOCHS:.0f} epochs extra repetitions add very "
            "little. This corpus is too small for the target; collect more data or train a smaller model."
        )
    return "futile", (
        f"Needs {e:,.0f} epochs: past ~{WORTHLESS_EPOCHS:.0f} epochs repeated data is practically worthless "
        "(Muennighoff et al. 2023). The corpus cannot support this model size."
    )
