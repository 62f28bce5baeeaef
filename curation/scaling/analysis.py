"""What model a corpus supports: the laws of :mod:`curation.scaling.laws` applied to a run's token counts.

* :func:`corpus_analysis` - for the final (unique) token count U: the model for which U tokens are
  compute-optimal under each Chinchilla reading (Approach 3, Table 3, and the 20-tokens rule with its
  error against both), Chinchilla and Kaplan losses, and per epoch count the effective data D' and the
  model whose compute-optimal data equals D'.
* :func:`target_analysis` - for a target size N, per Chinchilla reading: tokens needed, epochs over this
  corpus, D' and N', and the data-constrained loss (Muennighoff et al. 2023) with this corpus against the
  same law with unlimited unique data; a verdict.
* :func:`filter_costs` - per filter, the predicted loss change at the target size of training without
  the tokens the filter removed (from stored counts).

Every number is a :func:`quantity` dict ``{"value", "source", "warnings"}``: the source names the paper,
equation or table and approach; the warnings say when an input is outside the law's fitted range.
All results are JSON-serialisable (they go into ``summary.json``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from curation.scaling import laws

EPOCHS = (1.0, 4.0, 16.0, 40.0)
PRIMARY = "approach3"


def quantity(value: float | None, source: str, warnings: Iterable[str] = ()) -> dict[str, Any]:
    """One reported number with its source and any out-of-range warnings."""
    return {"value": value, "source": source, "warnings": list(warnings)}


def _chinchilla_loss(n: float, d: float) -> dict[str, Any]:
    return quantity(
        laws.chinchilla_loss(n, d),
        laws.SRC_A3 + ", E=1.69 A=406.4 B=410.7 α=0.34 β=0.28",
        laws.range_warnings("Chinchilla Approach 3", laws.CHINCHILLA_RANGE, params=n, tokens=d),
    )


def _dc_loss(n: float, d: float, u: float) -> dict[str, Any]:
    return quantity(
        laws.data_constrained_loss(n, d, u),
        laws.SRC_MUENNIGHOFF,
        laws.range_warnings(
            "Muennighoff et al.", laws.MUENNIGHOFF_RANGE, params=n, tokens=d, unique=min(u, d)
        ),
    )


def _table3_warn(n: float) -> list[str]:
    if laws.table3_in_range(n):
        return []
    return [f"Chinchilla Table 3: {n:.3g} parameters outside the table (400M-10T): extrapolated"]


def _reading_params(reading: str, tokens: float) -> dict[str, Any]:
    _, params_for, src = laws.READINGS[reading]
    n = params_for(tokens)
    warn = (
        _table3_warn(n)
        if reading == "table3"
        else laws.range_warnings("Chinchilla Approach 3", laws.CHINCHILLA_RANGE, params=n, tokens=tokens)
    )
    return quantity(n, src, warn)


def _pct(a: float, b: float) -> float:
    return 100.0 * (a - b) / b


def corpus_analysis(unique_tokens: float) -> dict[str, Any]:
    """Scaling figures for a corpus of ``unique_tokens`` tokens (see module docstring)."""
    u = float(unique_tokens)
    if u <= 0:
        return {"unique_tokens": 0, "note": "the corpus is empty: no scaling analysis"}
    optimal: dict[str, Any] = {}
    for reading in ("approach3", "table3"):
        n = _reading_params(reading, u)
        optimal[reading] = {
            "params": n,
            "tokens_per_param": u / n["value"],
            "training_flops": quantity(laws.training_flops(n["value"], u), laws.SRC_FLOPS),
        }
    n20 = laws.rule20_params_for_tokens(u)
    optimal["rule20"] = {
        "params": quantity(n20, laws.SRC_RULE20),
        "tokens_per_param": laws.TOKENS_PER_PARAM_RULE,
        "training_flops": quantity(laws.training_flops(n20, u), laws.SRC_FLOPS),
        "params_vs_approach3_pct": _pct(n20, optimal["approach3"]["params"]["value"]),
        "params_vs_table3_pct": _pct(n20, optimal["table3"]["params"]["value"]),
    }
    n_a3 = optimal["approach3"]["params"]["value"]
    epochs = []
    for k in EPOCHS:
        seen = u * k
        d_eff = laws.effective_data(u, seen)
        row: dict[str, Any] = {
            "epochs": k,
            "tokens_seen": seen,
            "effective_tokens": quantity(d_eff, laws.SRC_MUENNIGHOFF + ", D'"),
            "effective_fraction": d_eff / seen,
        }
        for reading in ("approach3", "table3"):
            row[f"{reading}_params"] = _reading_params(reading, d_eff)
        n = row["approach3_params"]["value"]
        row["loss_this_corpus"] = _dc_loss(n, seen, u)
        row["loss_unique_data"] = _dc_loss(n, seen, seen)
        epochs.append(row)
    out = {
        "unique_tokens": u,
        "compute_optimal": optimal,
        "chinchilla_loss": _chinchilla_loss(n_a3, u),
        "kaplan_data_limited_loss": quantity(
            laws.kaplan_data_loss(u),
            laws.SRC_KAPLAN + ", D_c=5.4e13 α_D=0.095",
            laws.range_warnings("Kaplan et al.", laws.KAPLAN_RANGE, tokens=u),
        ),
        "epochs": epochs,
        "max_effective_tokens": quantity(laws.max_effective_data(u), laws.SRC_MUENNIGHOFF + ", U(1+R*_D)"),
    }
    out["warnings"] = collect_warnings(out)
    return out


def _target_reading(u: float, n: float, reading: str) -> dict[str, Any]:
    tokens_for, _, src = laws.READINGS[reading]
    needed = tokens_for(n)
    warn = _table3_warn(n) if reading == "table3" else []
    out: dict[str, Any] = {
        "tokens_needed": quantity(needed, src, warn),
        "training_flops": quantity(laws.training_flops(n, needed), laws.SRC_FLOPS),
        "loss_unique_chinchilla": _chinchilla_loss(n, needed),
        "loss_unique_data": _dc_loss(n, needed, needed),
    }
    if u <= 0:
        out.update(epochs=None, verdict_level="futile", verdict="The corpus is empty.")
        return out
    epochs = needed / u
    d_eff = laws.effective_data(u, needed)
    n_eff = laws.effective_params(n, min(u, needed))
    level, verdict = laws.repetition_verdict(epochs)
    loss_corpus = _dc_loss(n, needed, u)
    out.update(
        epochs=epochs,
        effective_tokens=quantity(d_eff, laws.SRC_MUENNIGHOFF + ", D'"),
        effective_fraction=d_eff / needed,
        effective_params=quantity(n_eff, laws.SRC_MUENNIGHOFF + ", N' (R*_N=5.31)"),
        effective_params_fraction=n_eff / n,
        loss_this_corpus=loss_corpus,
        loss_penalty=loss_corpus["value"] - out["loss_unique_data"]["value"],
        verdict_level=level,
        verdict=verdict,
    )
    return out


def target_analysis(unique_tokens: float, target_params: float) -> dict[str, Any]:
    """Per Chinchilla reading: tokens, epochs, D', N', losses and a verdict for a ``target_params`` model.

    The top level repeats the primary reading (Approach 3, whose constants the Chinchilla loss uses).
    """
    u, n = float(unique_tokens), float(target_params)
    readings = {r: _target_reading(u, n, r) for r in ("approach3", "table3")}
    out: dict[str, Any] = {
        "target_params": n,
        "unique_tokens": u,
        "primary_reading": PRIMARY,
        "readings": readings,
        **{k: v for k, v in readings[PRIMARY].items()},
    }
    out["warnings"] = collect_warnings(out["readings"])
    return out


def filter_costs(
    unique_tokens: float,
    target_params: float,
    removed: Sequence[Mapping[str, Any]],
    reading: str = PRIMARY,
) -> list[dict[str, Any]]:
    """Per filter: the predicted loss change at ``target_params`` of training without its removal.

    ``removed`` items carry ``stage``, ``reason``, ``tokens`` (what undoing only this filter would add
    to the output) and ``unique`` (False for duplicates: they add no unique tokens, so under the
    data-constrained law bringing them back changes nothing). The training budget is the reading's
    compute-optimal tokens for the target, drawn from the corpus with and without the filter's tokens.
    ``loss_delta`` = loss with the filter - loss without it: positive = the filter costs predicted loss
    (by quantity alone: the laws do not see quality).
    """
    u, n = float(unique_tokens), float(target_params)
    needed = laws.READINGS[reading][0](n)
    base = laws.data_constrained_loss(n, needed, u) if u > 0 else None
    rows = []
    for item in removed:
        t = float(item.get("tokens", 0) or 0)
        added = t if item.get("unique", True) else 0.0
        without = laws.data_constrained_loss(n, needed, u + added) if u + added > 0 else None
        delta = base - without if base is not None and without is not None else None
        rows.append(
            {
                "stage": item["stage"],
                "reason": item["reason"],
                "tokens": t,
                "unique_tokens_added": added,
                "epochs_with_filter": needed / u if u > 0 else None,
                "epochs_without_filter": needed / (u + added) if u + added > 0 else None,
                "loss_with_filter": base,
                "loss_without_filter": without,
                "loss_delta": quantity(
                    delta, laws.SRC_MUENNIGHOFF + f", N={n:.3g}, D={needed:.3g} ({reading})"
                ),
                "note": item.get("note", ""),
            }
        )
    return rows


def collect_warnings(tree: Any) -> list[str]:
    """Every distinct warning found in the quantities of ``tree``, in first-seen order."""
    seen: dict[str, None] = {}

    def walk(v: Any) -> None:
        if isinstance(v, Mapping):
            for w in v.get("warnings", []) if "source" in v else []:
                seen.setdefault(w, None)
            for x in v.values():
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)

    walk(tree)
    return list(seen)


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
