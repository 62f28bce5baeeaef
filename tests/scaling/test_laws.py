"""Every number the scaling analysis states, recomputed from the papers' equations with independent code.

The independent code below does not import :mod:`curation.scaling.laws`: the Chinchilla optimum comes
from the first-order condition of minimising L(N, D) along C = 6ND (alpha A N^-alpha = beta B D^-beta)
rather than the closed form with G; Table 3 is interpolated with ``numpy.interp`` on logs; the data-
constrained law is written from the README of github.com/huggingface/datablations, and checked against
the two losses that README prints for the models of Figure 1.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pytest

from curation.scaling import analysis, laws

# Hoffmann et al. 2022, Approach 3.
E, A, B, ALPHA, BETA = 1.69, 406.4, 410.7, 0.34, 0.28
# Hoffmann et al. 2022, Table 3 (parameters, tokens).
T3_N = [400e6, 1e9, 10e9, 67e9, 175e9, 280e9, 520e9, 1e12, 10e12]
T3_D = [8.0e9, 20.2e9, 205.1e9, 1.5e12, 3.7e12, 5.9e12, 11.0e12, 21.2e12, 216.2e12]
# datablations README: a, b, e, alpha, beta, rd_star, rn_star
DB = [6.255414, 7.3049974, 0.6254804, 0.3526596, 0.3526596, 15.387756, 5.309743]


def ind_chinchilla(n: float, d: float) -> float:
    return E + A * n**-ALPHA + B * d**-BETA


def ind_a3_params_for_tokens(d: float) -> float:
    # optimality along C = 6ND: alpha A N^-alpha = beta B D^-beta
    return (ALPHA * A / (BETA * B * d**-BETA)) ** (1 / ALPHA)


def ind_a3_tokens_for_params(n: float) -> float:
    return (BETA * B / (ALPHA * A * n**-ALPHA)) ** (1 / BETA)


def _interp(x: float, xs: list[float], ys: list[float]) -> float:
    lx, ly = np.log(xs), np.log(ys)
    t = math.log(x)
    if t < lx[0]:
        return math.exp(ly[0] + (ly[1] - ly[0]) / (lx[1] - lx[0]) * (t - lx[0]))
    if t > lx[-1]:
        return math.exp(ly[-1] + (ly[-1] - ly[-2]) / (lx[-1] - lx[-2]) * (t - lx[-1]))
    return math.exp(float(np.interp(t, lx, ly)))


def ind_table3_tokens(n: float) -> float:
    return _interp(n, T3_N, T3_D)


def ind_table3_params(d: float) -> float:
    return _interp(d, T3_D, T3_N)


def ind_dc_loss(n: float, d: float, u: float) -> float:
    a, b, e, alpha, beta, rd_star, rn_star = DB
    big_a, big_b, big_e = math.exp(a), math.exp(b), math.exp(e)
    g = ((alpha * big_a) / (beta * big_b)) ** (1 / (alpha + beta))
    u = min(u, d)
    rd = max(d / u - 1, 0)
    un = min(n, (u * g) ** (beta / alpha) * g)
    rn = max(n / un - 1, 0)
    n_eff = un + un * rn_star * (1 - math.exp(-rn / rn_star))
    d_eff = u + u * rd_star * (1 - math.exp(-rd / rd_star))
    return big_e + big_a / n_eff**alpha + big_b / d_eff**beta


def ind_d_eff(u: float, d: float) -> float:
    return d if d <= u else u + u * DB[5] * (1 - math.exp(-(d / u - 1) / DB[5]))


def ind_n_eff(n: float, u: float) -> float:
    a, b, _, alpha, beta, _, rn_star = DB
    g = ((alpha * math.exp(a)) / (beta * math.exp(b))) ** (1 / (alpha + beta))
    un = min(n, (u * g) ** (beta / alpha) * g)
    return un + un * rn_star * (1 - math.exp(-(n / un - 1) / rn_star))


def test_independent_code_matches_published_anchors() -> None:
    # datablations README, Figure 1 (right) models
    assert ind_dc_loss(6.34e9, 242e9, 25e9) == pytest.approx(2.2256440889984477, rel=1e-12)
    assert ind_dc_loss(8.67e9, 178e9, 25e9) == pytest.approx(2.2269634075087867, rel=1e-12)
    # Chinchilla: 70B on 1.4T tokens, by hand 1.69 + 0.08356 + 0.16316
    assert ind_chinchilla(70e9, 1.4e12) == pytest.approx(1.69 + 0.08356 + 0.16316, abs=2e-4)
    # Approach 3 optimum at 1e21 / 1e23 FLOPs: about 50 and 78 tokens per parameter
    for flops, ratio in ((1e21, 50.1), (1e23, 78.2)):
        n, lo, hi = 0.0, 1e6, 1e14
        for _ in range(200):  # bisection on the optimality condition at fixed compute
            n = math.sqrt(lo * hi)
            d = flops / (6 * n)
            if ALPHA * A * n**-ALPHA > BETA * B * d**-BETA:
                lo = n
            else:
                hi = n
        assert (flops / (6 * n)) / n == pytest.approx(ratio, abs=0.1)
        n_lib, d_lib = laws.a3_optimal_allocation(flops)
        assert n_lib == pytest.approx(n, rel=1e-6) and d_lib == pytest.approx(flops / (6 * n), rel=1e-6)


def _value(q: Mapping[str, Any]) -> float:
    assert q["source"], q
    return q["value"]


def _check_sources(tree: Any) -> int:
    """Every quantity names a source; returns how many quantities were seen."""
    count = 0
    if isinstance(tree, Mapping):
        if "value" in tree and "source" in tree:
            assert isinstance(tree["source"], str) and len(tree["source"]) > 10, tree
            count += 1
        for v in tree.values():
            count += _check_sources(v)
    elif isinstance(tree, list):
        count += sum(_check_sources(v) for v in tree)
    return count


@pytest.mark.parametrize("u", [62291.0, 1e9, 2.5e11, 5e12])
def test_corpus_numbers_recomputed(u: float) -> None:
    c = analysis.corpus_analysis(u)
    co = c["compute_optimal"]
    n_a3 = ind_a3_params_for_tokens(u)
    assert _value(co["approach3"]["params"]) == pytest.approx(n_a3, rel=1e-9)
    assert co["approach3"]["tokens_per_param"] == pytest.approx(u / n_a3, rel=1e-9)
    assert _value(co["approach3"]["training_flops"]) == pytest.approx(6 * n_a3 * u, rel=1e-9)
    n_t3 = ind_table3_params(u)
    assert _value(co["table3"]["params"]) == pytest.approx(n_t3, rel=1e-9)
    assert _value(co["table3"]["training_flops"]) == pytest.approx(6 * n_t3 * u, rel=1e-9)
    assert _value(co["rule20"]["params"]) == pytest.approx(u / 20)
    assert co["rule20"]["params_vs_approach3_pct"] == pytest.approx(100 * (u / 20 - n_a3) / n_a3, rel=1e-9)
    assert co["rule20"]["params_vs_table3_pct"] == pytest.approx(100 * (u / 20 - n_t3) / n_t3, rel=1e-9)
    assert _value(c["chinchilla_loss"]) == pytest.approx(ind_chinchilla(n_a3, u), rel=1e-9)
    assert _value(c["kaplan_data_limited_loss"]) == pytest.approx((5.4e13 / u) ** 0.095, rel=1e-12)
    assert _value(c["max_effective_tokens"]) == pytest.approx(u * (1 + DB[5]), rel=1e-12)
    for row in c["epochs"]:
        seen = u * row["epochs"]
        d_eff = ind_d_eff(u, seen)
        assert row["tokens_seen"] == pytest.approx(seen)
        assert _value(row["effective_tokens"]) == pytest.approx(d_eff, rel=1e-12)
        assert row["effective_fraction"] == pytest.approx(d_eff / seen, rel=1e-12)
        n = ind_a3_params_for_tokens(d_eff)
        assert _value(row["approach3_params"]) == pytest.approx(n, rel=1e-9)
        assert _value(row["table3_params"]) == pytest.approx(ind_table3_params(d_eff), rel=1e-9)
        assert _value(row["loss_this_corpus"]) == pytest.approx(ind_dc_loss(n, seen, u), rel=1e-9)
        assert _value(row["loss_unique_data"]) == pytest.approx(ind_dc_loss(n, seen, seen), rel=1e-9)
    assert _check_sources(c) == 9 + 5 * len(c["epochs"])
    if u < 1e8:  # far below every fitted range
        assert len(c["warnings"]) >= 3


@pytest.mark.parametrize(("u", "n"), [(62291.0, 7e9), (1e9, 1e9), (1e12, 7e9), (3e11, 3e10)])
def test_target_numbers_recomputed(u: float, n: float) -> None:
    t = analysis.target_analysis(u, n)
    for reading, tokens_for in (("approach3", ind_a3_tokens_for_params), ("table3", ind_table3_tokens)):
        r = t["readings"][reading]
        need = tokens_for(n)
        assert _value(r["tokens_needed"]) == pytest.approx(need, rel=1e-9)
        assert _value(r["training_flops"]) == pytest.approx(6 * n * need, rel=1e-9)
        assert r["epochs"] == pytest.approx(need / u, rel=1e-9)
        assert _value(r["effective_tokens"]) == pytest.approx(ind_d_eff(u, need), rel=1e-9)
        assert r["effective_fraction"] == pytest.approx(ind_d_eff(u, need) / need, rel=1e-9)
        assert _value(r["effective_params"]) == pytest.approx(ind_n_eff(n, min(u, need)), rel=1e-9)
        assert _value(r["loss_unique_chinchilla"]) == pytest.approx(ind_chinchilla(n, need), rel=1e-9)
        assert _value(r["loss_unique_data"]) == pytest.approx(ind_dc_loss(n, need, need), rel=1e-9)
        assert _value(r["loss_this_corpus"]) == pytest.approx(ind_dc_loss(n, need, u), rel=1e-9)
        assert r["loss_penalty"] == pytest.approx(
            ind_dc_loss(n, need, u) - ind_dc_loss(n, need, need), abs=1e-12
        )
    assert t["tokens_needed"] == t["readings"]["approach3"]["tokens_needed"]
    assert _check_sources(t) >= 2 * 8


def test_full_law_includes_excess_parameters() -> None:
    """A model much larger than its unique data supports gains less than the D'-only law says (R*_N)."""
    u, n = 1e9, 7e9
    need = ind_a3_tokens_for_params(n)
    d_only = math.exp(DB[2]) + math.exp(DB[0]) / n ** DB[3] + math.exp(DB[1]) / ind_d_eff(u, need) ** DB[4]
    full = laws.data_constrained_loss(n, need, u)
    assert full > d_only + 0.01
    assert laws.effective_params(n, u) < n
    assert laws.effective_params(1e6, u) == pytest.approx(1e6)  # below U_N: no excess, N' = N


def test_filter_costs_recomputed() -> None:
    u, n = 1e9, 1e9
    items = [
        {"stage": "quality", "reason": "gopher", "tokens": 2e8, "unique": True},
        {"stage": "dedup", "reason": "duplicate", "tokens": 5e8, "unique": False},
    ]
    rows = analysis.filter_costs(u, n, items)
    need = ind_a3_tokens_for_params(n)
    assert _value(rows[0]["loss_delta"]) == pytest.approx(
        ind_dc_loss(n, need, u) - ind_dc_loss(n, need, u + 2e8)
    )
    assert rows[0]["loss_delta"]["value"] > 0  # fires: removing unique data costs predicted loss
    assert rows[1]["loss_delta"]["value"] == 0.0  # does not fire: duplicates add no unique tokens


def test_range_warnings_fire_and_do_not_fire() -> None:
    inside = analysis.target_analysis(1e12, 7e9)["readings"]["approach3"]["loss_unique_chinchilla"]
    assert inside["warnings"] == []
    tiny = analysis.corpus_analysis(62291)["chinchilla_loss"]
    assert any("below the fitted range" in w for w in tiny["warnings"])
    assert laws.range_warnings("x", laws.CHINCHILLA_RANGE, params=1e9, tokens=1e10) == []
    assert laws.range_warnings("x", laws.CHINCHILLA_RANGE, params=1e12)[0].startswith("x: parameters")


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
    assert analysis.corpus_analysis(0)["unique_tokens"] == 0


def test_mix_change() -> None:
    rows = analysis.mix_change({"web": 30, "code": 10}, {"web": 10, "code": 10})
    web = next(r for r in rows if r["source_kind"] == "web")
    assert web["tokens_delta"] == -20 and web["share_delta_points"] == pytest.approx(-25.0)
