"""Every classical baseline fitted on a uniaxial curve: a markdown comparison table.

    python bench/classical_baselines.py [CSV] [--loss relative|absolute|both] [--quick]

Default CSV: data/treloar_uniaxial.csv; default loss: both (relative rows first). --quick: relative
residuals only, and no Ogden-N sweep. Columns: fit quality on the data (R², MAPE, RMSE), the stiffness
bound (exact for the linear law; "none" for the others, with the largest tangent over the data range,
strain 0 .. max, named as such), and dP/dλ at λ = 9 and λ = 0.5 to show the extrapolation.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch

from lipmat.fitting import metrics
from lipmat.fitting.data import load_uniaxial
from lipmat.models.classical import BASELINES, OgdenBar, fit_baseline

ROOT = Path(__file__).resolve().parents[1]
MPA = 1e6


def tangent_at(model, lam: float) -> float:
    return float(model.tangent(torch.tensor([[lam - 1.0]], dtype=torch.float64))[0, 0])


def row(label: str, model, curve, seconds: float | None) -> str:
    p = model.nominal_stress(curve.stretch)
    if model.has_global_bound:
        bound = f"{model.stiffness_bound() / MPA:.3f} MPa (exact)"
    else:
        bound = f"none (data range: {model.stiffness_over_data(curve) / MPA:.3f} MPa)"
    t9, t05 = tangent_at(model, 9.0), tangent_at(model, 0.5)
    fmt = lambda v: "undefined" if not np.isfinite(v) else f"{v / MPA:.3g}"  # noqa: E731
    secs = "" if seconds is None else f"{seconds:.2f}"
    return (f"| {label} | {len(model.params)} | {metrics.r2(curve.stress, p):.5f} | "
            f"{metrics.mape(curve.stress, p):.2f} | {metrics.rmse(curve.stress, p) / MPA:.4f} | {bound} | "
            f"{fmt(t9)} | {fmt(t05)} | {secs} |")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("csv", nargs="?", default=str(ROOT / "data" / "treloar_uniaxial.csv"))
    ap.add_argument("--loss", choices=["relative", "absolute", "both"], default="both")
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args(argv)
    curve = load_uniaxial(args.csv)
    losses = ["relative"] if args.quick else (["relative", "absolute"] if args.loss == "both" else [args.loss])
    lam = curve.stretch
    sec = np.diff(np.r_[0.0, curve.stress]) / np.diff(np.r_[1.0, lam])
    print(f"data: {args.csv} ({len(curve)} points, λ {lam.min():.3g}–{lam.max():.3g}); largest secant slope "
          f"between consecutive points (origin included): {sec.max() / MPA:.3f} MPa\n")
    print("| model | params | R² | MAPE % | RMSE MPa | stiffness bound | dP/dλ at λ=9 (MPa) | dP/dλ at λ=0.5 (MPa) "
          "| fit s |")
    print("|---|---|---|---|---|---|---|---|---|")
    names = list(BASELINES) + ([] if args.quick else ["ogden2", "ogden4"])
    for loss in losses:
        for name in names:
            t0 = time.perf_counter()
            model = fit_baseline(name, curve, loss=loss)
            secs = time.perf_counter() - t0
            label = f"{name} ({loss})"
            if model.fit_info.get("at_bounds"):
                label += f" [at bound: {', '.join(model.fit_info['at_bounds'])}]"
            print(row(label, model, curve, secs))
    # the classic published parameters (Ogden 1972, fitted by hand on Treloar's data), for reference
    ogden72 = OgdenBar(0.618 * MPA, 0.00118 * MPA, -0.00981 * MPA, 1.3, 5.0, -2.0)
    print(row("ogden3, Ogden (1972) parameters", ogden72, curve, None))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
