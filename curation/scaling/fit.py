"""Fit a saturating power law L(x) = E + A * x**(-alpha) to small-run results and extrapolate it.

``x`` is training tokens, parameters or compute; ``L`` the loss. The form is the one-variable slice of
the Chinchilla parametric law (Hoffmann et al. 2022, Eq. 10), whose constant ``E`` is the irreducible
loss; fitting it to the early part of a loss curve or to a handful of small runs and extrapolating is the
practice of Kaplan et al. 2020 (Section 6) and Hoffmann et al. 2022 (Approach 3).

Numerics: ``x`` is divided by its geometric mean and ``A`` is fitted as ``log A`` so the least-squares
problem is well conditioned over many orders of magnitude (:func:`scipy.optimize.curve_fit`, bounded
trust-region). The uncertainty band is a seeded parametric bootstrap: refit on the fitted curve plus
Gaussian noise with the residual standard deviation, and take percentiles of the predictions.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy.optimize import curve_fit

X_COLUMNS = ("tokens", "params", "parameters", "compute", "flops", "step", "x")
Y_COLUMNS = ("loss", "val_loss", "eval_loss", "y")


@dataclass(frozen=True)
class PowerLawFit:
    """Fitted L(x) = E + A x^-alpha, with standard errors and bootstrap replicates of the parameters."""

    E: float
    A: float
    alpha: float
    x_scale: float  # geometric mean of x used for conditioning
    stderr: dict[str, float]
    residual_sd: float
    n_points: int
    boot: np.ndarray = field(repr=False)  # shape (n_boot, 3): E, log(A_scaled), alpha

    def predict(self, x: np.ndarray | Sequence[float] | float) -> np.ndarray:
        xs = np.asarray(x, dtype=float)
        return self.E + self.A * xs ** (-self.alpha)

    def band(self, x: np.ndarray | Sequence[float], level: float = 0.9) -> tuple[np.ndarray, np.ndarray]:
        """Lower and upper ``level`` bootstrap band of the prediction at ``x`` (curve uncertainty)."""
        xs = np.asarray(x, dtype=float) / self.x_scale
        if len(self.boot) == 0:
            p = self.predict(np.asarray(x, dtype=float))
            return p, p
        preds = self.boot[:, [0]] + np.exp(self.boot[:, [1]]) * xs[None, :] ** (-self.boot[:, [2]])
        lo = np.percentile(preds, 50 * (1 - level), axis=0)
        hi = np.percentile(preds, 100 - 50 * (1 - level), axis=0)
        return lo, hi

    def to_json(self) -> dict[str, float | int | dict[str, float]]:
        return {
            "E": self.E,
            "A": self.A,
            "alpha": self.alpha,
            "stderr": dict(self.stderr),
            "residual_sd": self.residual_sd,
            "n_points": self.n_points,
            "n_bootstrap": len(self.boot),
        }


def _model(xs: np.ndarray, e: float, log_a: float, alpha: float) -> np.ndarray:
    return e + np.exp(log_a) * xs ** (-alpha)


def _fit_scaled(xs: np.ndarray, y: np.ndarray, p0: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    lower = [0.0, -50.0, 1e-4]
    upper = [float(np.min(y)), 50.0, 5.0]
    p0 = np.clip(np.asarray(p0, dtype=float), np.asarray(lower) + 1e-9, np.asarray(upper) - 1e-9)
    return curve_fit(_model, xs, y, p0=p0, bounds=(lower, upper), method="trf", maxfev=20000)


def _initial_guess(xs: np.ndarray, y: np.ndarray) -> list[float]:
    """E0 just below the smallest loss; alpha and log A from a log-log line on L - E0."""
    e0 = 0.9 * float(np.min(y))
    slope, intercept = np.polyfit(np.log(xs), np.log(np.maximum(y - e0, 1e-12)), 1)
    return [e0, float(intercept), float(min(max(-slope, 1e-3), 4.0))]


def fit_power_law(x: Sequence[float], loss: Sequence[float], n_boot: int = 300, seed: int = 0) -> PowerLawFit:
    """Fit L(x) = E + A x^-alpha (E >= 0) to at least 4 points; bootstrap ``n_boot`` replicates."""
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
    popt, pcov = _fit_scaled(xs, ya, _initial_guess(xs, ya))
    resid = ya - _model(xs, *popt)
    dof = max(len(xa) - 3, 1)
    sd = float(math.sqrt(float(np.sum(resid**2)) / dof))
    rng = np.random.default_rng(seed)
    boot = []
    for _ in range(n_boot if sd > 0 else 0):
        yb = _model(xs, *popt) + rng.normal(0.0, sd, size=len(xs))
        try:
            pb, _ = _fit_scaled(xs, yb, popt)
        except (RuntimeError, ValueError):
            continue
        boot.append(pb)
    perr = np.sqrt(np.clip(np.diag(pcov), 0, None)) if np.all(np.isfinite(pcov)) else np.full(3, np.nan)
    e, log_a, alpha = (float(v) for v in popt)
    a = math.exp(log_a) * scale**alpha  # undo the x scaling: A' x'^-a = A' (x/s)^-a = (A' s^a) x^-a
    return PowerLawFit(
        E=e,
        A=a,
        alpha=alpha,
        x_scale=scale,
        stderr={"E": float(perr[0]), "log_A": float(perr[1]), "alpha": float(perr[2])},
        residual_sd=sd,
        n_points=len(xa),
        boot=np.asarray(boot, dtype=float).reshape(-1, 3),
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
    ax.fill_between(grid, lo_b, hi_b, alpha=0.25, color="tab:blue", label="90% band (bootstrap)")
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
