"""Measure how often the 90% band of :mod:`curation.scaling.fit` covers the true curve.

Draw ``seeds`` synthetic data sets from a known ``E + A x^-alpha`` plus Gaussian noise, fit them all in one
batch with the solver ``curate scaling fit`` uses, and count how often the band at a target x contains
the true value. ``python -m curation.scaling.calibration`` prints the sweep quoted in docs/scaling.md.
"""

from __future__ import annotations

import itertools
import time

import numpy as np

from curation.scaling.fit import band_batch, fit_batch


def coverage(
    true: tuple[float, float, float],
    n: int,
    sigma: float,
    extrap: float,
    seeds: int = 400,
    seed: int = 0,
    level: float = 0.9,
    decades: tuple[float, float] = (6.0, 9.0),
) -> float:
    """Share of ``seeds`` fits whose ``level`` band at ``extrap`` x the largest point covers the truth."""
    e, a, alpha = true
    x = np.logspace(decades[0], decades[1], n)
    scale = float(np.exp(np.mean(np.log(x))))
    rng = np.random.default_rng(seed)
    y = e + a * x**-alpha + rng.normal(0.0, sigma, (seeds, n))
    params, sse = fit_batch(x / scale, y)
    target = np.array([x.max() * extrap])
    _, lo, hi = band_batch(x / scale, params, sse, target / scale, level=level)
    truth = float(e + a * target[0] ** -alpha)
    return float(np.mean((lo[:, 0] <= truth) & (truth <= hi[:, 0])))


def main() -> None:  # pragma: no cover - prints figures
    curves = [(1.69, 410.7, 0.28), (2.0, 5e3, 0.5), (0.5, 1e3, 0.15)]
    designs = [(5, 0.02), (8, 0.01), (10, 0.05), (15, 0.003)]
    t0, w0 = time.process_time(), time.perf_counter()
    covs = []
    for true, (n, sigma), extrap in itertools.product(curves, designs, (0.5, 10.0, 100.0)):
        c = coverage(true, n, sigma, extrap, seeds=1000, seed=n)
        covs.append(c)
        print(
            f"E={true[0]:<5} A={true[1]:<6g} alpha={true[2]:<5} n={n:<3} sd={sigma:<6} x{extrap:<6g} {c:.3f}"
        )
    cpu, wall = time.process_time() - t0, time.perf_counter() - w0
    lo, hi, mean = min(covs), max(covs), float(np.mean(covs))
    print(f"{len(covs)} settings x 1000 seeds: coverage {lo:.3f}-{hi:.3f}, mean {mean:.3f}")
    print(f"CPU {cpu:.1f} s, wall {wall:.1f} s")


if __name__ == "__main__":  # pragma: no cover
    main()
