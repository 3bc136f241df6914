"""The scheme's own energy (fem.stability.discrete_energy) and the guard built on it.

- linear bodies: the scheme conserves it exactly, with loads, prescribed motion, mass damping and
  bulk viscosity, on both force paths (round-off only: no false alarm possible);
- smooth nonlinear motion: far below the default tolerance;
- a stiffening law pumping energy into the top modes: the guard stops the run as "unstable", names
  the step size, and does so long before an element inverts.
"""
import math

import numpy as np
import pytest
import torch

import fem
from fem import Checkpoint, Compute, EnergyCheck
from fem.stability.discrete_energy import DEFAULT_GUARD_TOL, EnergyGuard


def _plate_problem(damping=0.0):
    mesh = fem.rectangle(2.0, 1.0, 6, 3)
    mat = fem.LinearElastic(1.0e3, 0.3, "plane_strain")
    u0 = 1e-3 * np.random.default_rng(0).normal(size=(mesh.n_points, 2))
    return fem.Problem(mesh, mat, 1.0, u0=u0, damping=damping,
                       bcs=[fem.Fixed("left"), fem.Prescribed("right", "x", displacement=lambda t: 0.01 * t * t)],
                       loads=[fem.NodalForce("top", [0.0, -1e-3], amplitude=lambda t: math.sin(20 * t))])


@pytest.mark.parametrize("use_linear", [True, False])
@pytest.mark.parametrize("viscosity", [True, False])
def test_linear_body_conserves_the_scheme_energy_to_round_off(use_linear, viscosity):
    res = fem.solve(_plate_problem(damping=0.5), 0.5, "certified", energy=EnergyCheck(every=1),
                    compute=Compute(use_linear=use_linear), viscosity=viscosity)
    assert res.completed
    err = res.energies["scheme_error"]
    assert np.all(np.isfinite(err)) and np.abs(err).max() < 1e-10
    if viscosity:
        assert res.energies["damping"][-1] > 0


def _kicked_bar(e2_over_e1, n_el=50):
    """fem.NonlinearBar (E1 = 1e6 → E2, ε0 = 0.02) free bar kicked apart: v0 = ±sin(πx)."""
    mesh = fem.bar(1.0, n_el)
    mat = fem.NonlinearBar(1.0e6, 1.0e6 * e2_over_e1, 0.02)
    return fem.Problem(mesh, mat, 1000.0, v0=lambda x: np.where(x > 0.5, 1.0, -1.0) * np.sin(np.pi * x))


def test_smooth_nonlinear_run_stays_far_below_the_tolerance():
    """A smooth vibration of a stiffening bar (strain up to ≈ ε0/2, 500 steps: before the wave steepens
    into a shock) at the undamped certified step: the scheme's energy error stays below tol/10."""
    mesh = fem.bar(1.0, 50)
    mat = fem.NonlinearBar(1.0e6, 5.0e6, 0.02)
    prob = fem.Problem(mesh, mat, 1000.0, bcs=[fem.Fixed("left"), fem.Fixed("right")],
                       v0=lambda x: 0.3 * np.sin(np.pi * x))
    dt = 1.0 / 50 / math.sqrt(5.0e6 / 1000.0)           # the certified step of this uniform bar
    res = fem.solve(prob, 500 * dt, "certified", energy=EnergyCheck(every=1), viscosity=False)
    err = res.energies["scheme_error"]
    assert res.completed and res.steps == 500 and np.abs(err).max() < 0.1 * DEFAULT_GUARD_TOL
    assert np.abs(err).max() > 1e-8                     # not a linear run in disguise


def test_guard_stops_the_pumped_run_before_any_damage_and_names_the_step():
    prob = _kicked_bar(2.0)
    t_end = 1500 * 1.0 / 50 / math.sqrt(2.0e6 / 1000.0)       # 1500 certified steps
    guarded = fem.solve(prob, t_end, "certified", viscosity=False)
    assert guarded.status == "unstable"
    for words in ("scheme created energy", "dt =", "certified stable step"):
        assert words in guarded.message
    unguarded = fem.solve(prob, t_end, "certified", viscosity=False, energy=EnergyCheck(tol=None, guard=None))
    assert unguarded.status == "inverted"          # what happens when nothing watches
    assert guarded.fault.step < 0.5 * unguarded.fault.step
    stretch = 1.0 + guarded.final.strain[..., 0]
    assert float(stretch.min()) > 0.5              # the kept state is sound
    # (the same run with the default bulk viscosity completes: tests/test_nonlinear_stability.py)


def test_restart_with_viscosity_matches_an_uninterrupted_run(tmp_path):
    prob = _kicked_bar(5.0, n_el=20)
    t_end = 200 * 1.0 / 20 / math.sqrt(5.0e6 / 1000.0)
    full = fem.solve(prob, t_end, "certified")
    path = tmp_path / "ck.pt"
    # a run to t_end with a checkpoint halfway (the last one written), then a restart from it
    fem.solve(prob, t_end, "certified", checkpoint=Checkpoint(path, every=full.steps // 2))
    again = fem.solve(prob, t_end, "certified", restart=path)
    assert torch.equal(again.final.u, full.final.u)


def test_guard_object_signs_and_scale():
    g = EnergyGuard(0.01)
    m = torch.ones(3, dtype=torch.float64)
    z = torch.zeros(3, dtype=torch.float64)
    v = torch.tensor([1.0, 0.0, 0.0], dtype=torch.float64)
    assert g.check(v, z, m, 0.1, 100.0, 0.0, 0.0) == 0.0       # E0 = 0.5 + 100, Ψ0 = 100
    # the held pre-stretch (Ψ0 = 100) does not count as energy in motion: 0.02 created of 0.5 moving
    assert g.check(v, z, m, 0.1, 100.02, 0.0, 0.0) == pytest.approx(0.04)
    assert g.tripped
    with pytest.raises(ValueError):
        EnergyGuard(0.0)
