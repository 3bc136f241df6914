"""Treloar's uniaxial rubber curve fitted with every lipmat model and every classical baseline.

Neural models (``lipmat.fitting.stress_strain.fit``, default slope cap 1.1 × the data's largest secant slope):

- ``uniaxial``: the certified monotone 1D law (tangent parametrised, closed-form integral);
- ``uniaxial_sn``: a spectrally normalised GroupSort network in the same 1D role;
- ``isotropic``: the 3D isotropic potential ψ_vol(tr ε) + ψ_dev(‖dev ε‖), fitted through the uniaxial
  load case (lateral stresses solved to zero at the material point) — small-strain kinematics, so at
  λ = 7.6 it is a curve fit in a 3D law's clothing, not finite-strain rubber elasticity;
- ``mlp``: the generic spectrally normalised strain→stress MLP (1D here; no potential).

Classical laws (``lipmat.models.classical``, least squares on relative residuals): linear,
Neo-Hookean, Mooney–Rivlin, Yeoh, Ogden (3 terms), Gent, Arruda–Boyce.

For each: R², MAPE, the certified stiffness bound (neural models; classical hyperelastic laws have
none — their tangent is unbounded as λ → 0 or at locking), and the extrapolated stress at λ = 9 and
in compression at λ = 0.5.

    python examples/fit_treloar.py [OUT_DIR]          # table + figure (default out/examples)

Size: ``LIPMAT_EXAMPLES_QUICK=1`` trains each neural model for a few hundred steps (what the tests do).
"""
from __future__ import annotations

import math
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

from lipmat.demo import bar as demo_bar
from lipmat._paths import shipped_data
from lipmat.fitting.data import load_uniaxial
from lipmat.fitting.stress_strain import fit
from lipmat.fitting.loadcases import load_case_stress

QUICK = os.environ.get("LIPMAT_EXAMPLES_QUICK", "") not in ("", "0")
#: model name -> (Adam epochs, L-BFGS steps) in quick mode (None: the fit defaults).
QUICK_BUDGET = {"uniaxial": (400, 40), "uniaxial_sn": (300, 0), "isotropic": (150, 15), "mlp": (300, 0)}
NEURAL = ("uniaxial", "uniaxial_sn", "isotropic", "mlp")

torch.set_default_dtype(torch.float64)
DATA = shipped_data(demo_bar.TRELOAR_UNIAXIAL)
CURVE = load_uniaxial(DATA)


def curve_function(model):
    """strain (k,) numpy -> nominal stress (k,) Pa of a fitted neural model along uniaxial stress."""
    def fn(strain):
        e = torch.as_tensor(np.asarray(strain, dtype=np.float64))
        with torch.no_grad():
            if model.kinematics == "uniaxial":
                return model.stress(e.unsqueeze(-1))[:, 0].numpy()
        return load_case_stress(model, "uniaxial", e).detach().numpy()
    return fn


def fit_neural(name: str) -> dict:
    epochs, lbfgs = QUICK_BUDGET[name] if QUICK else (None, None)
    t0 = time.perf_counter()
    result = fit(name, CURVE, epochs=epochs, lbfgs_steps=lbfgs, progress=False)
    r = result.report
    return {"name": name, "r2": r.r2, "mape": r.mape, "certified": r.stiffness_bound,
            "empirical": r.empirical_stiffness, "ratio": r.ratio, "fn": curve_function(result.model),
            "seconds": time.perf_counter() - t0}


def fit_classical() -> list[dict]:
    rows = []
    for name, (law, r2, mape) in demo_bar.fit_baselines(CURVE).items():
        cert = law.stiffness_bound() if law.has_global_bound else math.nan
        rows.append({"name": name, "r2": r2, "mape": mape, "certified": cert, "empirical": math.nan,
                     "ratio": math.nan, "fn": (lambda law: lambda e: law.nominal_stress(1.0 + np.asarray(e)))(law),
                     "seconds": math.nan})
    return rows


ROWS = [fit_neural(n) for n in NEURAL] + fit_classical()
for _row in ROWS:
    with np.errstate(all="ignore"):
        _row["p9"], _row["p05"] = (float(v) for v in _row["fn"](np.array([8.0, -0.5])))


def table() -> str:
    """Markdown table of :data:`ROWS` (stresses in MPa)."""
    f = lambda v, fmt: "—" if not math.isfinite(v) else format(v, fmt)  # noqa: E731
    lines = ["| model | R² | MAPE % | certified stiffness (MPa) | certified/empirical | P(λ=9) (MPa) | "
             "P(λ=0.5) (MPa) |", "|---|---|---|---|---|---|---|"]
    for r in ROWS:
        lines.append(f"| {r['name']} | {r['r2']:.5f} | {r['mape']:.2f} | {f(r['certified'] / 1e6, '.4g')} | "
                     f"{f(r['ratio'], '.3f')} | {f(r['p9'] / 1e6, '.3g')} | {f(r['p05'] / 1e6, '.3g')} |")
    return "\n".join(lines)


def plot(out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    path = out / "fit_treloar.png"
    laws = {f"{r['name']} (R² {r['r2']:.4f})": r["fn"] for r in ROWS}
    demo_bar.plot_fits(path, CURVE, laws, title="Treloar's uniaxial data: lipmat models (thick: the certified 1D "
                       "laws) and classical baselines")
    return path


if __name__ == "__main__":
    print(table())
    print("wrote", plot(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("out/examples")))
