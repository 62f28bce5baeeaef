"""Scaling formulas against values hand-computed from the papers' published constants."""

from __future__ import annotations

import math

import pytest

from curation.scaling import analysis, laws


def test_published_constants() -> None:
    c = laws.CHINCHILLA
    assert (c.E, c.A, c.B, c.alpha, c.beta, c.tokens_per_param) == (1.69, 406.4, 410.7, 0.34, 0.28, 20.0)
    assert (laws.KAPLAN.D_c, laws.KAPLAN.alpha_D) == (5.4e13, 0.095)
    assert laws.REPETITION.R_star_D == 15.4


def test_chinchilla_70b_on_1_4t_tokens() -> None:
    # Chinchilla itself: 70e9 params, 1.4e12 tokens (20 tokens/param).
    assert laws.chinchilla_optimal_tokens(70e9) == pytest.approx(1.4e12)
    assert laws.chinchilla_optimal_params(1.4e12) == pytest.approx(70e9)
    assert laws.training_flops(70e9, 1.4e12) == pytest.approx(5.88e23)
    # 1.69 + 406.4 / 70e9**0.34 + 410.7 / 1.4e12**0.28, by hand:
    # 70e9**0.34 = exp(0.34 * 24.9717) = exp(8.49039) = 4863.6 -> 0.08356
    # 1.4e12**0.28 = exp(0.28 * 27.9672) = exp(7.83082) = 2517.1 -> 0.16316
    assert laws.chinchilla_loss(70e9, 1.4e12) == pytest.approx(1.69 + 0.08356 + 0.16316, abs=2e-4)


def test_kaplan_data_law() -> None:
    # (5.4e13 / 1e9) ** 0.095 = exp(0.095 * ln 54000) = exp(0.095 * 10.89674) = exp(1.035190) = 2.81564
    assert laws.kaplan_data_loss(1e9) == pytest.approx(2.81564, abs=1e-4)
    assert laws.kaplan_data_loss(5.4e13) == pytest.approx(1.0)
    # N_c = 8.8e13, alpha_N = 0.076: L(8.8e13) = 1
    assert laws.kaplan_param_loss(8.8e13) == pytest.approx(1.0)


def test_muennighoff_effective_data() -> None:
    u = 1e9
    assert laws.effective_data(u, 1.0) == pytest.approx(u)
    assert laws.effective_data(u, 0.5) == pytest.approx(0.5 * u)  # no repetition: tokens seen
    # 5 epochs = 4 repetitions: U + U * 15.4 * (1 - exp(-4 / 15.4)) = U (1 + 15.4 * 0.228748) = 4.52272 U
    assert laws.effective_data(u, 5.0) == pytest.approx(4.52272e9, rel=1e-5)
    # repeated tokens are worth less than fresh ones, and saturate at U (1 + R*)
    assert laws.effective_data(u, 5.0) < 5 * u
    assert laws.effective_data(u, 1e6) == pytest.approx(laws.max_effective_data(u)) == pytest.approx(16.4e9)


@pytest.mark.parametrize(
    ("epochs", "level"),
    [(0.3, "ok"), (1.0, "ok"), (3.9, "fine"), (10, "diminishing"), (30, "poor"), (100, "futile")],
)
def test_repetition_verdict(epochs: float, level: str) -> None:
    assert laws.repetition_verdict(epochs)[0] == level


def test_bad_inputs_raise() -> None:
    for bad in (0, -1, math.inf, math.nan):
        with pytest.raises(ValueError):
            laws.chinchilla_loss(bad, 1e9)


def test_target_analysis_7b_on_1b_corpus() -> None:
    t = analysis.target_analysis(1e9, 7e9)
    assert t["tokens_needed"] == pytest.approx(1.4e11)
    assert t["epochs"] == pytest.approx(140)
    assert t["verdict_level"] == "futile"
    assert t["effective_tokens"] == pytest.approx(1e9 * (1 + 15.4 * (1 - math.exp(-139 / 15.4))))
    assert t["loss_with_this_corpus"] > t["loss_with_unique_data"]
    small = analysis.target_analysis(1e12, 1e9)
    assert small["epochs"] == pytest.approx(0.02) and small["verdict_level"] == "ok"
    assert small["loss_with_this_corpus"] == pytest.approx(small["loss_with_unique_data"])


def test_corpus_analysis_and_mix() -> None:
    c = analysis.corpus_analysis(2e9)
    assert c["chinchilla"]["optimal_params"] == pytest.approx(1e8)
    assert c["chinchilla"]["training_flops"] == pytest.approx(6 * 1e8 * 2e9)
    assert c["supports"]["4"]["optimal_params"] == pytest.approx(4e8)
    assert analysis.corpus_analysis(0)["unique_tokens"] == 0
    rows = analysis.mix_change({"web": 75, "code": 25}, {"web": 50, "code": 25})
    by = {r["source_kind"]: r for r in rows}
    assert by["web"]["tokens_delta"] == -25
    assert by["code"]["share_after"] == pytest.approx(1 / 3)
    assert by["code"]["share_delta_points"] == pytest.approx(100 * (1 / 3 - 0.25))
