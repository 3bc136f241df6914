"""What the certified step does *not* promise: nonlinear resonance of the central-difference scheme.

The certificate proves ``Δt ≤ 2/ω_max(u)`` at every state u (the frozen-tangent, linearised scheme
is stable everywhere). It does not make the nonlinear iteration energy-stable: in the top mode
(period ≈ 2 steps) the strain alternates about its mean, so a stiffening law presents an
alternating tangent — a parametric pump — and Verlet's nonlinear resonances (ωΔt = √2, √3, i.e.
0.71×, 0.87× the linear limit; Schlick, Mandziuk, Skeel & Srinivas 1998) can feed it.

Setup: free 1D bar, 50 elements, ``fem.NonlinearBar`` (tangent E1 = 1e6 → E2, bound E2, ε0 = 0.02),
ρ = 1000, kicked apart by v0 = ±sin(πx); plain leapfrog at factor × the certified step (which is
exact for this uniform bar: the element bound is attained). Prints max E/E0 over the run, or the
step at which E/E0 first exceeded 10.

This is the plain, undamped scheme. ``fem.solve``'s defaults — bulk viscosity with the damping-aware
certified step, and the energy guard on the scheme's own energy — complete every one of these rows:
``bench/nonlinear_stability.py`` and ``docs/stability.md``.

    python bench/timestep_nonlinear.py            # 20000 steps per run, ~30 s
    python bench/timestep_nonlinear.py --quick    # 3000 steps
"""
from __future__ import annotations

import argparse

import torch

import fem
from fem.stability.resonance import leapfrog_energy_growth


def run(e2: float, factor: float, steps: int) -> str:
    """One table cell: max E/E0, or the blow-up step."""
    worst, blowup = leapfrog_energy_growth(fem.NonlinearBar(E1=1.0e6, E2=e2, eps0=0.02), factor, steps)
    return f"{worst:.3f}" if blowup is None else f"**blow-up @ {blowup}**"


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="3000 steps per run instead of 20000")
    args = p.parse_args(argv)
    torch.set_default_dtype(torch.float64)
    steps = 3000 if args.quick else 20000
    factors = (0.5, 0.6, 0.7, 0.8, 0.9, 0.99)
    print(f"max E/E0 over {steps} steps at factor × certified step (free bar, 50 elements)\n")
    print("| E2/E1 | " + " | ".join(f"{f}×" for f in factors) + " |")
    print("|---|" + "---|" * len(factors))
    for e2 in (1.0e6, 2.0e6, 5.0e6):
        print(f"| {e2 / 1e6:g} | " + " | ".join(run(e2, f, steps) for f in factors) + " |")


if __name__ == "__main__":
    main()
