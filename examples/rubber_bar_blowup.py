"""The rubber strip that blows up at the initial-modulus time step and runs at the certified one.

A 10 cm strip of Treloar's rubber (1D bar, certified uniaxial law fitted to Treloar's curve) is held
at one end and pulled at the other to 7.5× its length over 0.1 s, then held (``lipmat.demo.bar``).
Treloar's rubber softens and then stiffens about 5× towards λ ≈ 7.6, so:

- at ``Δt₀ = h/c₀``, ``c₀ = √(σ'(0)/ρ)`` — the critical step of the unstrained bar, what a code
  derives from the initial stiffness — the run blows up as soon as the strain reaches the range where
  σ' > σ'(0) (λ ≈ 6.2), and the solver stops it with a message naming step, time and element;
- at the certified step ``h/√(L/ρ)`` (L: the model's certified slope bound) it runs to the end with a
  small energy balance error, and the certified step stays below the critical step measured along
  the run.

    python examples/rubber_bar_blowup.py [OUT_DIR]          # figures to OUT_DIR (default out/examples)

Size: ``LIPMAT_EXAMPLES_QUICK=1`` runs a 40-element strip with a quick fit (what the tests do).
"""
from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import torch

from lipmat.demo import bar as demo_bar

QUICK = os.environ.get("LIPMAT_EXAMPLES_QUICK", "") not in ("", "0")
SETUP = demo_bar.BarSetup(n_elements=40 if QUICK else 200)

torch.set_default_dtype(torch.float64)
FIT = demo_bar.fit_rubber(quick=QUICK)
MODEL = FIT.model
COMPARISON = demo_bar.compare_steps(MODEL, SETUP, monitor=3 if QUICK else 40)
SUMMARY = COMPARISON.summary()
#: Fractions of h/c₀ tried (codes often apply 0.9 to the initial-stiffness estimate): status and stop time.
FRACTIONS = (1.0, 0.9) if QUICK else (1.0, 0.9, 0.8, 0.7, 0.6, 0.5)


def _sweep() -> list[dict]:
    import warnings

    from fem.core.errors import FemWarning

    rows, dt0 = [], COMPARISON.dt_initial
    for f in FRACTIONS:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FemWarning)    # each of these is run above the certified step on purpose
            # the plain scheme, as a code without bulk viscosity runs h/c0 (the demo's comparison run too)
            r = demo_bar.run_bar(MODEL, SETUP, f * dt0, allow_unsafe_dt=f * dt0 > COMPARISON.dt_certified,
                                 viscosity=False)
        rows.append({"fraction": f, "dt": f * dt0, "status": r.status, "t": r.t,
                     "mean_stretch": 1.0 + demo_bar.end_displacement(SETUP)(r.t) / SETUP.length})
    return rows


SWEEP = _sweep()


def plot(out: Path) -> list[Path]:
    """Space–time stretch and waves, energy history (certified run), largest stretch of both runs."""
    from fem.io.output import plot_energies

    out.mkdir(parents=True, exist_ok=True)
    c = COMPARISON
    paths = [out / "rubber_bar_space_time.png", out / "rubber_bar_energy.png", out / "rubber_bar_stretch.png"]
    demo_bar.plot_space_time(paths[0], c.certified, SETUP)
    plot_energies(paths[1], c.certified.energies, title=f"pulled rubber strip at the certified step "
                  f"({c.dt_certified * 1e6:.3g} µs)")
    demo_bar.plot_max_stretch(paths[2], c)
    return paths


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    out_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("out/examples")
    s = SUMMARY
    print(f"fit: R² {FIT.report.r2:.5f}, MAPE {FIT.report.mape:.2f} %, certified slope bound "
          f"{FIT.report.stiffness_bound / 1e6:.4g} MPa, initial slope {demo_bar.initial_tangent(MODEL) / 1e6:.4g} MPa")
    print(f"initial-modulus step h/c0   {s['dt_initial_modulus_s']:.4g} s -> {s['initial_status']}: "
          f"{s['initial_message']}")
    print(f"certified step              {s['dt_certified_s']:.4g} s -> {s['certified_status']}, "
          f"{s['certified_steps']} steps, max energy balance error {s['certified_max_balance_error']:.2e}, "
          f"largest stretch {s['max_stretch']:.3f}")
    print(f"measured critical step: unstrained {s['dt_measured_reference_s']:.4g} s, smallest along the run "
          f"{s['dt_measured_min_s']:.4g} s (certified/measured = {s['certified_over_measured_min']:.3f})")
    print("| step | dt (µs) | status | stopped at t (ms) | mean stretch then |\n|---|---|---|---|---|")
    for r in SWEEP:
        print(f"| {r['fraction']:g} h/c0 | {r['dt'] * 1e6:.4g} | {r['status']} | "
              f"{r['t'] * 1e3:.4g} | {r['mean_stretch']:.3f} |")
    print(f"| certified | {s['dt_certified_s'] * 1e6:.4g} | {s['certified_status']} | "
          f"{COMPARISON.certified.t * 1e3:.4g} | {SETUP.stretch:.3f} |")
    for p in plot(out_dir):
        print("wrote", p)
