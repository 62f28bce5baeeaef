"""``curate scaling ...``: fit a power law to small runs, or apply the published laws to a token count.

curate scaling fit results.csv [--x-column tokens] [--y-column loss] [--extrapolate 1e11 1e12]
                               [--out fit.png] [--json fit.json]
curate scaling plan --tokens 2.5e9 [--target-params 7e9]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from curation.scaling.analysis import corpus_analysis, target_analysis


def _fmt(v: float) -> str:
    return f"{v:.4g}"


def _fit(args: argparse.Namespace) -> int:
    from curation.scaling.fit import fit_power_law, plot_fit, read_xy_csv

    try:
        x_name, xs, ys = read_xy_csv(Path(args.csv), args.x_column, args.y_column)
        fit = fit_power_law(xs, ys)
    except (OSError, ValueError) as exc:
        print(f"curate scaling fit: {exc}", file=sys.stderr)
        return 2
    targets = args.extrapolate or [max(xs) * 10, max(xs) * 100]
    lo, hi = fit.band(targets)
    pred = fit.predict(targets)
    print(f"fit of {len(xs)} points: loss = {_fmt(fit.E)} + {_fmt(fit.A)} * {x_name}^-{fit.alpha:.4f}")
    print(
        f"  stderr: E ±{_fmt(fit.stderr['E'])}, alpha ±{_fmt(fit.stderr['alpha'])}; "
        f"residual sd {_fmt(fit.residual_sd)}"
    )
    print(f"  {x_name:>14}  predicted   90% band of the curve (delta method, t with n-3 dof)")
    rows = []
    x_lo, x_hi = min(xs), max(xs)
    for t, p, a, b in zip(targets, pred, lo, hi, strict=True):
        note = ""
        if t > x_hi:
            note = f"  extrapolated {t / x_hi:.3g}x beyond the largest {x_name}"
        elif t < x_lo:
            note = f"  extrapolated {x_lo / t:.3g}x below the smallest {x_name}"
        print(f"  {t:>14.4g}  {p:9.4f}   [{a:.4f}, {b:.4f}]{note}")
        rows.append(
            {"x": float(t), "loss": float(p), "lo90": float(a), "hi90": float(b), "warning": note.strip()}
        )
    out = Path(args.out) if args.out else Path(args.csv).with_suffix(".fit.png")
    plot_fit(fit, xs, ys, targets, x_name, out)
    print(f"  plot: {out}")
    if args.json:
        Path(args.json).write_text(
            json.dumps({"x_column": x_name, "fit": fit.to_json(), "extrapolation": rows}, indent=2) + "\n"
        )
        print(f"  json: {args.json}")
    return 0


def _plan(args: argparse.Namespace) -> int:
    corpus = corpus_analysis(args.tokens)
    print(json.dumps({"corpus": corpus}, indent=2))
    if args.target_params:
        print(json.dumps({"target": target_analysis(args.tokens, args.target_params)}, indent=2))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="curate scaling", description=__doc__)
    sub = parser.add_subparsers(dest="cmd", required=True)
    f = sub.add_parser("fit", help="fit L(x) = E + A x^-alpha to a CSV of (tokens or params, loss)")
    f.add_argument("csv")
    f.add_argument("--x-column", default=None, help="x column (default: tokens/params/compute/step/x)")
    f.add_argument("--y-column", default=None, help="loss column (default: loss/val_loss/eval_loss/y)")
    f.add_argument(
        "--extrapolate", type=float, nargs="+", help="x values to predict (default: 10x and 100x the largest)"
    )
    f.add_argument("--out", help="plot file (.png or .svg; default: <csv>.fit.png)")
    f.add_argument("--json", help="write the fit and predictions as JSON here")
    p = sub.add_parser("plan", help="Chinchilla / Kaplan / repetition figures for a token count")
    p.add_argument("--tokens", type=float, required=True, help="unique tokens in the corpus")
    p.add_argument("--target-params", type=float, default=None)
    args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    return _fit(args) if args.cmd == "fit" else _plan(args)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
