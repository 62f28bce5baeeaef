"""The 90% band of `curate scaling fit` covers the true curve 85-95% of the time (many seeds, vectorised).

Each setting draws a few hundred synthetic data sets from a known curve plus Gaussian noise, fits them all
at once with the same batch solver `fit_power_law` uses, and counts how often the band at an
extrapolation target contains the true value. Binomial sd at 400 seeds and p = 0.9 is 1.5 points.
"""

from __future__ import annotations

import numpy as np
import pytest

from curation.scaling.fit import band_batch, fit_batch, fit_power_law

SEEDS = 400


def _coverage(true: tuple[float, float, float], n: int, sigma: float, extrap: float, seed: int) -> float:
    e, a, alpha = true
    x = np.logspace(6, 9, n)
    scale = float(np.exp(np.mean(np.log(x))))
    rng = np.random.default_rng(seed)
    y = e + a * x**-alpha + rng.normal(0.0, sigma, (SEEDS, n))
    params, sse = fit_batch(x / scale, y)
    target = np.array([x.max() * extrap])
    _, lo, hi = band_batch(x / scale, params, sse, target / scale, level=0.9)
    truth = e + a * target**-alpha
    return float(np.mean((lo[:, 0] <= truth[0]) & (truth[0] <= hi[:, 0])))


@pytest.mark.parametrize(
    ("true", "n", "sigma", "extrap"),
    [
        ((1.69, 410.7, 0.28), 8, 0.01, 10.0),
        ((1.69, 410.7, 0.28), 15, 0.003, 100.0),
        ((2.0, 5e3, 0.5), 6, 0.02, 10.0),
        ((0.5, 1e3, 0.15), 10, 0.05, 100.0),
        ((0.5, 1e3, 0.15), 5, 0.01, 0.5),  # inside the data
    ],
)
def test_band_coverage_is_calibrated(
    true: tuple[float, float, float], n: int, sigma: float, extrap: float
) -> None:
    cov = _coverage(true, n, sigma, extrap, seed=n)
    assert 0.85 <= cov <= 0.95, cov


def test_single_fit_band_equals_batch_band() -> None:
    x = np.logspace(6, 9, 8)
    y = 2.0 + 50.0 * x**-0.5 + np.random.default_rng(3).normal(0, 0.01, len(x))
    fit = fit_power_law(x, y)
    lo, hi = fit.band([1e10])
    scale = fit.x_scale
    p, sse = fit_batch(x / scale, y[None, :])
    _, blo, bhi = band_batch(x / scale, p, sse, np.array([1e10]) / scale)
    assert (lo[0], hi[0]) == (pytest.approx(blo[0, 0]), pytest.approx(bhi[0, 0]))
    assert lo[0] < fit.predict([1e10])[0] < hi[0]


def test_band_would_fail_if_too_narrow() -> None:
    """The coverage check can fail: a band at 50% nominal covers far less than 85%."""
    e, a, alpha = 1.69, 410.7, 0.28
    x = np.logspace(6, 9, 8)
    scale = float(np.exp(np.mean(np.log(x))))
    y = e + a * x**-alpha + np.random.default_rng(0).normal(0.0, 0.01, (SEEDS, 8))
    params, sse = fit_batch(x / scale, y)
    _, lo, hi = band_batch(x / scale, params, sse, np.array([1e10]) / scale, level=0.5)
    truth = e + a * 1e10**-alpha
    assert np.mean((lo[:, 0] <= truth) & (truth <= hi[:, 0])) < 0.6
