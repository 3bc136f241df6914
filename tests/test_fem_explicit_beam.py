"""First longitudinal and bending frequencies of a slender 3D cantilever (Hex8) vs beam theory.

Beam: L = 1, square section h = 0.05 (slenderness L/h = 20), E = ρ = 1, ν = 0, fixed on x = 0.
- Longitudinal: with ν = 0 the 3D problem contains the 1D bar exactly, f = c / (4L).
- Bending: Euler–Bernoulli f = (β₁L)² / (2π) · sqrt(EI / (ρA L⁴)), β₁L = 1.875104. At L/h = 20 the
  Timoshenko corrections (shear + rotary inertia, κ = 5/6, ν = 0) lower it by about
  ½ (β₁L)² (r/L)² (1 + E/κG) ≈ 0.13 %, so Euler–Bernoulli is the reference within the 1 % tolerance.
Measurement: start from the theoretical mode shape (E–B: u_y = A φ(x), u_x = −(y − h/2) A φ'(x)),
record the tip's mean displacement every step and take the period from its zero crossings (linear
interpolation): T = 2 (t₂ − t₁). Fully integrated Hex8 locks in bending (parasitic shear grows with
the element aspect ratio length/height), so the bending error falls as the mesh is refined along *and*
through the thickness: measured 22 % (20×1×1), 5.9 % (40×2×2), 0.2 % (160×4×4).
"""
import math
import warnings

import numpy as np
import pytest

from fem import EnergyCheck, Fixed, LinearElastic, Probes, Problem, box, solve
from fem.core.errors import FemWarning
from _explicit_helpers import zero_crossings

L, H = 1.0, 0.05
BETA = 1.875104068711961
F_BEND = BETA**2 / (2 * math.pi) * math.sqrt((H**4 / 12) / (H * H * L**4))
F_LONG = 1.0 / (4 * L)


def _phi(x):
    s = (math.sinh(BETA) - math.sin(BETA)) / (math.cosh(BETA) + math.cos(BETA))
    b = BETA * x / L
    return (np.cosh(b) - np.cos(b) - s * (np.sinh(b) - np.sin(b)),
            BETA / L * (np.sinh(b) + np.sin(b) - s * (np.cosh(b) - np.cos(b))))


def _frequency(nx, nt, mode):
    mesh = box(L, H, H, nx, nt, nt)
    x, y = mesh.points[:, 0], mesh.points[:, 1]
    u0 = np.zeros_like(mesh.points)
    if mode == "bending":
        phi, dphi = _phi(x)
        u0[:, 1] = 1e-3 * phi / 2.0
        u0[:, 0] = -(y - H / 2) * 1e-3 * dphi / 2.0
        t_end, comp = 0.85 / F_BEND, 1
    else:
        u0[:, 0] = 1e-3 * np.sin(np.pi * x / (2 * L))
        t_end, comp = 0.85 / F_LONG, 0
    dt = 0.4 * min(L / nx, H / nt)      # c = 1; Hex8 ω_max ≤ 2√3 c / h, so this is below critical
    with warnings.catch_warnings():   # dt may be above the (conservative) certified step: it is stable
        warnings.simplefilter("ignore", FemWarning)
        res = solve(Problem(mesh, LinearElastic(1.0, 0.0), 1.0, bcs=[Fixed("left")], u0=u0), t_end, dt,
                    probes=Probes({"tip": "right"}), energy=EnergyCheck(every=10**9), allow_unsafe_dt=True)
    assert res.completed, res.message
    z = zero_crossings(res.probes["time"], res.probes["tip"][:, comp])
    assert len(z) >= 2, z
    return 1.0 / (2.0 * (z[1] - z[0]))


def test_longitudinal_frequency_within_1_percent():
    f = _frequency(20, 1, "longitudinal")
    assert abs(f / F_LONG - 1) < 0.01


def test_bending_frequency_converges_under_refinement():
    e1 = abs(_frequency(20, 1, "bending") / F_BEND - 1)
    e2 = abs(_frequency(40, 2, "bending") / F_BEND - 1)
    assert e2 < 0.07 and e1 / e2 > 3.0, (e1, e2)   # ≈ second order in the element size


@pytest.mark.slow
def test_bending_frequency_within_1_percent_on_the_fine_mesh():
    f = _frequency(160, 4, "bending")
    assert abs(f / F_BEND - 1) < 0.01
