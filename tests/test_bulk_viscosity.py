"""Bulk viscosity (fem.stability.viscosity): the damping-aware step is proven (and tight), the quadratic term acts
only where the law stiffens along the motion, and the viscous force is what the stepper applies."""
import math

import numpy as np
import pytest
import torch

import fem
from fem.discretisation.bc import compile_conditions
from fem.solver.central_difference import CentralDifference
from fem.discretisation.forces import InternalForce
from fem.stability.timestep import certified_time_step, stable_step
from fem.stability.viscosity import BulkViscosity, ViscousTerm, damped_time_step, damping_ratio_bound, step_factor


def test_defaults_and_the_proven_damping_ratio():
    v = BulkViscosity()
    assert (v.linear, v.quadratic, v.cap) == (0.06, 0.0, 0.1)     # Abaqus/Explicit's b1, no quadratic term; the cap
    assert damping_ratio_bound(v) == pytest.approx(0.06)          # the cap counts only with the quadratic term
    assert damping_ratio_bound(BulkViscosity(quadratic=1.2)) == pytest.approx(0.16)
    assert step_factor(damping_ratio_bound(v)) == pytest.approx(0.9418, abs=1e-4)
    assert damping_ratio_bound(BulkViscosity.off()) == 0.0 and damping_ratio_bound(None) == 0.0
    assert step_factor(0.16) == pytest.approx(math.sqrt(1 + 0.16**2) - 0.16)
    assert BulkViscosity.coerce(False) == BulkViscosity.off() and BulkViscosity.coerce(None) == v
    assert BulkViscosity.coerce({"linear": 0.1}).linear == 0.1
    with pytest.raises(ValueError, match="linear"):
        BulkViscosity(linear=-0.1)
    with pytest.raises(ValueError, match="keys"):
        BulkViscosity.coerce({"q1": 1.5})


def _lagged_radius(omega, dt, d):
    """Spectral radius of the lagged-damping recurrence of one mode, M=1, K=ω², D=d (oracle)."""
    a = np.array([[1.0 - dt * dt * omega**2, dt * (1.0 - dt * d)], [-dt * omega**2, 1.0 - dt * d]])
    return max(abs(np.linalg.eigvals(a)))


@pytest.mark.parametrize("xi", [0.0, 0.06, 0.16, 0.5])
def test_step_formula_is_the_exact_limit_of_one_lagged_mode(xi):
    omega = 3.0
    dt = stable_step(omega, xi)
    assert _lagged_radius(omega, dt * (1 - 1e-6), 2 * xi * omega) <= 1 + 1e-9
    assert _lagged_radius(omega, dt * (1 + 1e-3), 2 * xi * omega) > 1 + 1e-5


def test_proof_holds_for_non_proportional_damping():
    """M − Δt²K/4 − ΔtD/2 ⪰ 0 ⇒ stable, for any symmetric 0 ⪯ D ⪯ β K_b (not modal): random matrices."""
    rng = np.random.default_rng(0)
    n = 12
    for trial in range(20):
        a = rng.standard_normal((n, n))
        kb = a @ a.T
        m = np.diag(rng.uniform(0.5, 2.0, n))
        minv = np.linalg.inv(m)
        w = math.sqrt(max(np.linalg.eigvals(minv @ kb).real))
        k = kb - 0.5 * np.diag(rng.uniform(0, 1, n)) * 0.0     # K ⪯ K_b (here K = K_b: the tight case)
        xi = rng.uniform(0.01, 0.4)
        beta = 2 * xi / w
        b = rng.standard_normal((n, n))
        r = b @ b.T
        # D = β K_b^½ S K_b^½ with 0 ⪯ S ⪯ I: any PSD damping below β K_b
        s_half = np.linalg.cholesky(kb + 1e-12 * np.eye(n))
        s = r / max(np.linalg.eigvalsh(r))
        d = beta * s_half @ s @ s_half.T
        dt = stable_step(w, xi) * (1 - 1e-9)
        amp = np.block([[np.eye(n) - dt * dt * minv @ k, dt * (np.eye(n) - dt * minv @ d)],
                        [-dt * minv @ k, np.eye(n) - dt * minv @ d]])
        assert max(abs(np.linalg.eigvals(amp))) <= 1 + 1e-6, trial


def _stepper(problem, dt, viscosity, use_linear=True):
    asm = fem.Assembly(problem.mesh, area=problem.area)
    mass = asm.lumped_mass(problem.density)
    forces = InternalForce(asm, problem.material, use_linear=use_linear)
    ts = certified_time_step(asm, problem.material.stiffness_bound(), problem.density)
    visc = ViscousTerm(viscosity, ts.omega_max, dt) if viscosity.active else None
    return CentralDifference(forces, mass, compile_conditions(problem, asm, mass), dt, 0.0, visc), ts, mass


def _top_mode_growth(factor, use_linear):
    """Free uniform bar started in its top (alternating) mode; amplitude after 1000 steps / before."""
    n = 10
    mesh = fem.bar(1.0, n)
    mat = fem.LinearElastic(1.0, kinematics="uniaxial")
    u0 = 1e-3 * (-1.0) ** np.arange(n + 1)
    prob = fem.Problem(mesh, mat, 1.0)
    visc = BulkViscosity(quadratic=0.0)
    asm = fem.Assembly(mesh)
    ts = certified_time_step(asm, mat.stiffness_bound(), 1.0)
    dt = factor * damped_time_step(ts, visc).dt
    cd, _, _ = _stepper(prob, dt, visc, use_linear)
    with torch.no_grad():
        s = cd.init(torch.as_tensor(u0), torch.zeros(n + 1, dtype=torch.float64))
        for _ in range(1000):
            s = cd.step(s)
    return float(s.u.abs().max()) / 1e-3


@pytest.mark.parametrize("use_linear", [True, False])
def test_damped_certified_step_is_stable_and_tight_on_the_top_mode(use_linear):
    """The element bound is attained by a uniform free bar, and the viscosity gives its top mode ξ = b1
    exactly: at the damping-aware step the mode stays bounded, 2 % above it grows (both force paths)."""
    assert _top_mode_growth(0.999, use_linear) <= 1.0
    assert _top_mode_growth(1.02, use_linear) > 10.0


def test_stiffening_test_is_exactly_off_for_linear_laws_and_on_where_the_law_stiffens():
    rng = np.random.default_rng(1)
    a = rng.standard_normal((6, 6))
    c = torch.as_tensor(a @ a.T + 6 * np.eye(6))
    de0, de1 = torch.randn(500, 1, 6, dtype=torch.float64), torch.randn(500, 1, 6, dtype=torch.float64)
    assert not ViscousTerm.stiffening(de0, de0 @ c, de1, de1 @ c).any()
    # 1D stiffening law (tangent grows with |ε|): away from 0 is stiffening, towards 0 is not
    mat = fem.NonlinearBar(1.0, 5.0, 0.02)
    e = torch.tensor([[[0.010]], [[0.030]], [[-0.010]], [[-0.030]]], dtype=torch.float64)
    step = torch.tensor([[[0.004]], [[-0.004]], [[-0.004]], [[0.004]]], dtype=torch.float64)
    e0, e1, e2 = e, e + step, e + 2 * step
    s0, s1, s2 = mat.stress(e0), mat.stress(e1), mat.stress(e2)
    on = ViscousTerm.stiffening(e1 - e0, s1 - s0, e2 - e1, s2 - s1)[:, 0]
    assert on.tolist() == [True, False, True, False]
    # a reversal that overshoots: on where the new step reaches further into the stiff side
    e2 = e1 - 2 * step
    s2 = mat.stress(e2)
    on = ViscousTerm.stiffening(e1 - e0, s1 - s0, e2 - e1, s2 - s1)[:, 0]
    assert on.tolist() == [False, True, False, True]


def test_viscous_stress_is_capped_and_switchable():
    v = ViscousTerm(BulkViscosity(quadratic=1.2), omega=2.0, dt=0.5)     # τ = 1 s; Abaqus's b2
    w = torch.ones(1, 1, dtype=torch.float64)
    e0 = torch.zeros(1, 1, 1, dtype=torch.float64)
    de = torch.full((1, 1, 1), 10.0, dtype=torch.float64)
    mat = fem.NonlinearBar(1.0, 5.0, 0.02)
    # a huge stiffening step: q saturates at the cap, so σ_v = (τ/Δt)(b1 + cap) Δσ
    e_prev = e0 - 0.1 * de
    _, _, memo = v.stress(e_prev, mat.stress(e_prev), e0, mat.stress(e0), w)
    sv, work, _ = v.stress(e0, mat.stress(e0), e0 + de, mat.stress(e0 + de), w, memo)
    dsig = mat.stress(e0 + de) - mat.stress(e0)
    assert torch.allclose(sv, (1.0 / 0.5) * (0.06 + 0.1) * dsig)
    # its work over the step: ½ Δε·(σ_v,n + σ_v,n+1), σ_v,n from the first step (linear term only there)
    dsig0 = mat.stress(e0) - mat.stress(e_prev)
    assert work == pytest.approx(0.5 * float(de.sum() * (2.0 * 0.06 * dsig0 + sv).sum()), rel=1e-12)
    # the linear term alone is the force (τ b1/Δt)(f_int,n+1 − f_int,n) of the scheme, not a stress
    lin = ViscousTerm(BulkViscosity(quadratic=0.0), omega=2.0, dt=0.5)
    assert lin.force_factor == pytest.approx(2.0 * 0.06, rel=1e-15)
    with pytest.raises(ValueError, match="quadratic"):
        lin.stress(e0, mat.stress(e0), e0 + de, mat.stress(e0 + de), w)


def test_solve_uses_the_damping_aware_certified_step_and_off_restores_the_plain_scheme():
    mesh = fem.bar(1.0, 10)
    prob = fem.Problem(mesh, fem.NonlinearBar(1e6, 2e6, 0.02), 1000.0, v0=lambda x: 0.01 * np.sin(np.pi * x))
    on = fem.solve(prob, 2e-4, "certified")
    off = fem.solve(prob, 2e-4, "certified", viscosity=fem.BulkViscosity.off())
    quad = fem.solve(prob, 2e-4, "certified", viscosity=fem.BulkViscosity(quadratic=1.2))
    assert on.dt_certified == pytest.approx(off.dt_certified * step_factor(0.06), rel=1e-12)
    assert quad.dt_certified == pytest.approx(off.dt_certified * step_factor(0.16), rel=1e-12)
    assert quad.energies["damping"][-1] > 0.0
    assert off.energies["damping"][-1] == 0.0 and on.energies["damping"][-1] > 0.0
