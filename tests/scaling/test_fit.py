"""The power-law fit recovers known exponents from synthetic data; the CLI writes a plot and JSON."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from curation.scaling.cli import main
from curation.scaling.fit import fit_power_law


@pytest.mark.parametrize(("e", "a", "alpha"), [(1.69, 410.7, 0.28), (2.0, 50.0, 0.5), (0.5, 1e3, 0.15)])
def test_fit_recovers_known_parameters(e: float, a: float, alpha: float) -> None:
    x = np.logspace(7, 10, 15)
    rng = np.random.default_rng(42)
    y = e + a * x**-alpha + rng.normal(0, 0.003, len(x))
    fit = fit_power_law(x, y)
    assert fit.alpha == pytest.approx(alpha, abs=0.05)
    assert fit.E == pytest.approx(e, abs=0.08)
    # Extrapolation 10x beyond the data stays close to the truth and inside a sensible band.
    target = np.array([1e11])
    truth = e + a * target**-alpha
    lo, hi = fit.band(target)
    assert fit.predict(target)[0] == pytest.approx(truth[0], abs=0.05)
    assert lo[0] <= fit.predict(target)[0] <= hi[0]
    assert hi[0] - lo[0] < 0.2


def test_fit_is_exact_without_noise_and_band_widens_with_distance() -> None:
    x = np.logspace(6, 9, 8)
    y = 1.8 + 300 * x**-0.3
    fit = fit_power_law(x, y)
    assert (fit.E, fit.alpha) == (pytest.approx(1.8, abs=1e-4), pytest.approx(0.3, abs=1e-4))
    noisy = fit_power_law(x, y + np.random.default_rng(0).normal(0, 0.01, len(x)))
    lo, hi = noisy.band([1e9, 1e12])
    assert hi[1] - lo[1] > hi[0] - lo[0]


def test_fit_needs_four_points() -> None:
    with pytest.raises(ValueError, match="at least 4"):
        fit_power_law([1, 2, 3], [3.0, 2.5, 2.2])


def test_cli_fit_writes_plot_and_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    x = np.logspace(6, 8, 6)
    csv = tmp_path / "runs.csv"
    csv.write_text("tokens,loss\n" + "".join(f"{v},{2 + 100 * v**-0.3}\n" for v in x))
    out, js = tmp_path / "fit.png", tmp_path / "fit.json"
    assert main(["fit", str(csv), "--extrapolate", "1e10", "--out", str(out), "--json", str(js)]) == 0
    assert out.stat().st_size > 1000 and out.read_bytes()[:4] == b"\x89PNG"
    data = json.loads(js.read_text())
    assert data["x_column"] == "tokens" and data["fit"]["alpha"] == pytest.approx(0.3, abs=1e-3)
    assert data["extrapolation"][0]["loss"] == pytest.approx(2 + 100 * 1e10**-0.3, abs=1e-3)
    printed = capsys.readouterr().out
    assert "predicted" in printed and "extrapolated 100x beyond the largest tokens" in printed
    assert data["extrapolation"][0]["warning"].startswith("extrapolated")


def test_cli_fit_reports_bad_csv(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    csv = tmp_path / "bad.csv"
    csv.write_text("steps,perplexity\n1,2\n")
    assert main(["fit", str(csv)]) == 2
    assert "no x column" in capsys.readouterr().err


def test_cli_plan(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "--tokens", "1e9", "--target-params", "7e9"]) == 0
    assert "futile" in capsys.readouterr().out
