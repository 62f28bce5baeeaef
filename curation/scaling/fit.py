"""Fit a saturating power law L(x) = E + A * x**(-alpha) to small-run results and extrapolate it.

``x`` is training tokens, parameters or compute; ``L`` the loss. The form is the one-variable slice of
the Chinchilla parametric law (Hoffmann et al. 2022, Eq. 2), whose constant ``E`` is the irreducible
loss; fitting it to the early part of a loss curve or to a handful of small runs and extrapolating is the
practice of Kaplan et al. 2020 (Section 6) and Hoffmann et al. 2022 (Approach 3).

Numerics: ``x`` is divided by its geometric mean and ``A`` is fitted as ``log A`` so the least-squares
problem is well conditioned over many orders of magnitude. The solver is a projected Levenberg-Marquardt
written over a *batch* of data sets at once (NumPy, no Python loop per data set), with the bounds
``0 <= E <= min(loss)`` and ``1e-4 <= alpha <= 5``; one fit is a batch of one, and the coverage test fits
hundreds of synthetic data sets in one call.

Band: the 90% band is the delta-method (linearised) interval of the prediction,
``pred +- t_{0.95, n-3} * sqrt(g' S g)`` with ``S = s**2 (J'J)**-1`` the covariance of the parameters,
``s`` the residual standard deviation (``n - 3`` degrees of freedom) and ``g`` the gradient of the
prediction. It is the interval of the *curve* (not of a new noisy observation). Measured coverage of the
true curve (``python -m curation.scaling.calibration``: 36 settings of 5-15 points over 3 decades, noise
sd 0.003-0.05, targets 0.5x-100x the largest x, 1,000 seeds each): 88.1-92.6%, mean 90.0%, for 90%
nominal; tests/scaling/test_fit_coverage.py asserts 85-95%. When the data hardly constrain the curve
(the power-law term is smaller than the noise) the band is conservative (98% in one such setting).
The previous parametric-bootstrap percentile band covered 78-86% in a similar sweep (it ignores the
uncertainty of ``s``), which is why it was replaced.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import stats

X_COLUMNS = ("tokens", "params", "parameters", "compute", "flops", "step", "x")
Y_COLUMNS = ("loss", "val_loss", "eval_loss", "y")
LM_ITERATIONS = 200


def _model(xs: np.ndarray, p: np.ndarray) -> np.ndarray:
    """``E + exp(log A) * xs**-alpha`` for parameter rows ``p`` (..., 3) and scaled x (..., n)."""
    return p[..., 0:1] + np.exp(p[..., 1:2]) * xs ** (-p[..., 2:3])


def _jacobian(xs: np.ndarray, p: np.ndarray) -> np.ndarray:
    t = np.exp(p[..., 1:2]) * xs ** (-p[..., 2:3])
    lx = np.log(xs) * np.ones_like(t)
    return np.stack([np.ones_like(t), t, -t * lx], axis=-1)


def _initial_guess(xs: np.ndarray, y: np.ndarray) -> np.ndarray:
    """E0 just below the smallest loss; alpha and log A from a log-log line on L - E0 (per data set)."""
    e0 = 0.9 * y.min(axis=-1)
    ly = np.log(np.maximum(y - e0[:, None], 1e-12))
    lx = np.log(xs) * np.ones_like(y)
    mx, my = lx.mean(-1, keepdims=True), ly.mean(-1, keepdims=True)
    slope = ((lx - mx) * (ly - my)).sum(-1) / ((lx - mx) ** 2).sum(-1)
    intercept = my[:, 0] - slope * mx[:, 0]
    return np.stack([e0, intercept, np.clip(-slope, 1e-3, 4.0)], -1)


def fit_batch(
    xs: np.ndarray, y: np.ndarray, iterations: int = LM_ITERATIONS
) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares fits of ``y`` (B, n) on scaled ``xs`` (n,).

    Returns the parameters (B, 3) = E, log A, alpha and the sums of squared residuals (B,).
    """
    b = y.shape[0]
    lo = np.stack([np.zeros(b), np.full(b, -50.0), np.full(b, 1e-4)], -1)
    hi = np.stack([y.min(-1), np.full(b, 50.0), np.full(b, 5.0)], -1)
    p = np.clip(_initial_guess(xs, y), lo, hi)
    lam = np.full(b, 1e-3)
    sse = ((y - _model(xs, p)) ** 2).sum(-1)
    eye = np.eye(3)
    for _ in range(iterations):
        jac = _jacobian(xs, p)
        jtj = np.einsum("bni,bnj->bij", jac, jac)
        jtr = np.einsum("bni,bn->bi", jac, y - _model(xs, p))
        damp = lam[:, None, None] * (eye * np.diagonal(jtj, axis1=1, axis2=2)[:, None, :] + 1e-12 * eye)
        step = np.linalg.solve(jtj + damp, jtr[..., None])[..., 0]
        cand = np.clip(p + step, lo, hi)
        sse_c = ((y - _model(xs, cand)) ** 2).sum(-1)
        better = sse_c < sse
        p = np.where(better[:, None], cand, p)
        sse = np.where(better, sse_c, sse)
        lam = np.clip(np.where(better, lam / 3.0, lam * 3.0), 1e-12, 1e12)
        if np.all(lam >= 1e12) or np.all(np.abs(step) < 1e-13):
            break
    return p, sse


def band_batch(
    xs: np.ndarray, p: np.ndarray, sse: np.ndarray, xt: np.ndarray, level: float = 0.9
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Prediction, lower and upper delta-method ``level`` band at scaled targets ``xt`` for every fit."""
    n = xs.shape[-1]
    dof = max(n - 3, 1)
    s2 = sse / dof
    jac = _jacobian(xs, p)
    cov = np.linalg.pinv(np.einsum("bni,bnj->bij", jac, jac)) * s2[:, None, None]
    g = _jacobian(xt, p)  # (B, m, 3)
    var = np.maximum(np.einsum("bmi,bij,bmj->bm", g, cov, g), 0.0)
    half = stats.t.ppf(0.5 + level / 2.0, dof) * np.sqrt(var)
    pred = _model(xt, p)
    return pred, pred - half, pred + half


@dataclass(frozen=True)
class PowerLawFit:
    """Fitted L(x) = E + A x^-alpha with the scaled parameters kept for the delta-method band."""

    E: float
    A: float
    alpha: float
    x_scale: float  # geometric mean of x used for conditioning
    stderr: dict[str, float]
    residual_sd: float
    n_points: int
    xs: tuple[float, ...]  # scaled x of the fitted points
    params: tuple[float, float, float]  # E, log A (scaled), alpha
    sse: float

    def predict(self, x: np.ndarray | Sequence[float] | float) -> np.ndarray:
        xs = np.asarray(x, dtype=float)
        return self.E + self.A * xs ** (-self.alpha)

    def band(self, x: np.ndarray | Sequence[float], level: float = 0.9) -> tuple[np.ndarray, np.ndarray]:
        """Lower and upper ``level`` band of the fitted curve at ``x`` (delta method, Student t)."""
        xt = np.atleast_1d(np.asarray(x, dtype=float)) / self.x_scale
        _, lo, hi = band_batch(
            np.asarray(self.xs), np.asarray([self.params]), np.asarray([self.sse]), xt, level
        )
        return lo[0], hi[0]

    def to_json(self) -> dict[str, float | int | str | dict[str, float]]:
        return {
            "E": self.E,
            "A": self.A,
            "alpha": self.alpha,
            "stderr": dict(self.stderr),
            "residual_sd": self.residual_sd,
            "n_points": self.n_points,
            "band": "90% delta-method interval of the curve, Student t with n-3 dof",
        }


def fit_power_law(x: Sequence[float], loss: Sequence[float]) -> PowerLawFit:
    """Fit L(x) = E + A x^-alpha (0 <= E <= min loss) to at least 4 points with distinct positive x."""
    xa = np.asarray(x, dtype=float)
    ya = np.asarray(loss, dtype=float)
    ok = np.isfinite(xa) & np.isfinite(ya) & (xa > 0)
    xa, ya = xa[ok], ya[ok]
    if len(xa) < 4 or len(np.unique(xa)) < 4:
        raise ValueError(
            f"need at least 4 points with distinct positive x to fit 3 parameters, got {len(xa)}"
        )
    scale = float(np.exp(np.mean(np.log(xa))))
    xs = xa / scale
    p, sse = fit_batch(xs, ya[None, :])
    dof = max(len(xa) - 3, 1)
    jac = _jacobian(xs, p)[0]
    cov = np.linalg.pinv(jac.T @ jac) * float(sse[0]) / dof
    perr = np.sqrt(np.clip(np.diag(cov), 0, None))
    e, log_a, alpha = (float(v) for v in p[0])
    a = math.exp(log_a) * scale**alpha  # undo the x scaling: A' (x/s)^-a = (A' s^a) x^-a
    return PowerLawFit(
        E=e,
        A=a,
        alpha=alpha,
        x_scale=scale,
        stderr={"E": float(perr[0]), "log_A": float(perr[1]), "alpha": float(perr[2])},
        residual_sd=float(math.sqrt(float(sse[0]) / dof)),
        n_points=len(xa),
        xs=tuple(float(v) for v in xs),
        params=(e, log_a, alpha),
        sse=float(sse[0]),
    )


def read_xy_csv(
    path: Path, x_column: str | None = None, y_column: str | None = None
) -> tuple[str, list, list]:
    """Read ``(x, loss)`` columns from a CSV with a header; return ``(x_name, xs, ys)``.

    Without explicit names the x column is the first of :data:`X_COLUMNS` present and the loss column the
    first of :data:`Y_COLUMNS` (case-insensitive).
    """
    with Path(path).open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        header = {h.strip().lower(): h for h in reader.fieldnames or []}

        def pick(explicit: str | None, names: tuple[str, ...], what: str) -> str:
            if explicit is not None:
                if explicit.lower() not in header:
                    raise ValueError(f"{path}: no column {explicit!r}; columns: {', '.join(header.values())}")
                return header[explicit.lower()]
            for n in names:
                if n in header:
                    return header[n]
            raise ValueError(f"{path}: no {what} column (one of {', '.join(names)}); columns: {list(header)}")

        xc = pick(x_column, X_COLUMNS, "x")
        yc = pick(y_column, Y_COLUMNS, "loss")
        xs, ys = [], []
        for i, row in enumerate(reader, start=2):
            try:
                xs.append(float(row[xc]))
                ys.append(float(row[yc]))
            except (TypeError, ValueError) as exc:
                raise ValueError(f"{path}:{i}: not a number in {xc!r}/{yc!r}: {exc}") from exc
    return xc, xs, ys


def plot_fit(
    fit: PowerLawFit,
    x: Sequence[float],
    loss: Sequence[float],
    targets: Sequence[float],
    x_name: str,
    out: Path,
) -> Path:
    """Plot the points, the fitted curve and its 90% band up to the largest target (PNG or SVG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    xa = np.asarray(x, dtype=float)
    hi = max([float(xa.max()), *[float(t) for t in targets]])
    grid = np.logspace(math.log10(float(xa.min())), math.log10(hi), 200)
    lo_b, hi_b = fit.band(grid)
    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=110)
    ax.fill_between(
        grid, lo_b, hi_b, alpha=0.25, color="tab:blue", label="90% band of the curve (delta method)"
    )
    ax.plot(grid, fit.predict(grid), color="tab:blue", label=f"E + A·x^-α, α={fit.alpha:.3f}, E={fit.E:.3f}")
    ax.scatter(xa, loss, color="black", zorder=3, s=18, label="observed")
    for t in targets:
        ax.axvline(float(t), color="gray", ls=":", lw=1)
    ax.axhline(fit.E, color="tab:red", ls="--", lw=1, label="irreducible E")
    ax.set_xscale("log")
    ax.set_xlabel(x_name)
    ax.set_ylabel("loss")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, which="both")
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out)
    plt.close(fig)
    return out
