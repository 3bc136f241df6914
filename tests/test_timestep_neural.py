"""Nonlinear (neural-style) materials: the certified step holds at every reachable state.

Materials built here with known certificates:

- ``TanhPotential``: ``ψ(e) = ½eᵀC₀e + Σ_k a_k Φ(w_kᵀe)`` with ``Φ = x²/2 − log cosh x`` (stiffening,
  tangent ``C₀ + Σ a_k tanh²(w_kᵀe) w_k w_kᵀ``) or ``Φ = log cosh x`` (softening, ``sech²``). Both
  tangents are symmetric and ⪯ ``C_b = C₀ + Σ a_k w_k w_kᵀ``, which the stiffening one approaches at
  large strain — so the certified step is nearly attained there (a sharp test).
- ``TwoLayer``: ``σ = W₂ tanh(W₁e)``, no potential, non-symmetric tangent ``W₂ diag(sech²) W₁``,
  scalar certificate ``L = ‖W₂‖₂‖W₁‖₂`` (exact SVD norms).
"""
import math

import pytest
import torch
from torch import nn

import fem
from fem.stability.resonance import leapfrog_energy_growth
from fem.stability.timestep import certified_time_step, critical_time_step


class TanhPotential(nn.Module):
    def __init__(self, kinematics, c0, w, a, *, stiffen=True):
        super().__init__()
        self.kinematics, self.stiffen = kinematics, stiffen
        self.register_buffer("c0", c0)
        self.register_buffer("w", w)  # (k, n)
        self.register_buffer("a", a)  # (k,) >= 0

    def stress(self, e):
        x = e @ self.w.T
        phi = x - torch.tanh(x) if self.stiffen else torch.tanh(x)
        return e @ self.c0 + (self.a * phi) @ self.w

    forward = stress

    def energy(self, e):
        x = e @ self.w.T
        big = 0.5 * x**2 - torch.log(torch.cosh(x)) if self.stiffen else torch.log(torch.cosh(x))
        return 0.5 * (e * (e @ self.c0)).sum(-1) + (self.a * big).sum(-1)

    def stiffness_bound(self):
        return self.c0 + self.w.T @ torch.diag(self.a) @ self.w


class TwoLayer(nn.Module):
    def __init__(self, kinematics, n, width=12, scale=1e9, seed=0):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.kinematics = kinematics
        self.w1 = nn.Parameter(torch.randn(width, n, generator=g) * 30.0)
        self.w2 = nn.Parameter(torch.randn(n, width, generator=g) * scale / 30.0 / width)

    def stress(self, e):
        return torch.tanh(e @ self.w1.T) @ self.w2.T

    forward = stress

    def stiffness_bound(self):
        return float(torch.linalg.matrix_norm(self.w1.detach(), 2) * torch.linalg.matrix_norm(self.w2.detach(), 2))


def _potential(kinematics, stiffen, seed=0, k=4):
    g = torch.Generator().manual_seed(seed)
    lin = fem.LinearElastic(1.0e9, 0.3, kinematics).stiffness_bound()
    n = lin.shape[0]
    w = torch.randn(k, n, generator=g) * 40.0  # tanh saturates at strains ~ 1/40
    a = torch.rand(k, generator=g) * 1.0e9 / 1600.0  # a‖w‖² comparable to the linear moduli
    return TanhPotential(kinematics, lin, w, a, stiffen=stiffen)


MESHES = {
    "plane_strain": lambda: fem.distort(fem.rectangle(1.0, 0.5, 8, 4), 0.2, seed=1),
    "3d": lambda: fem.distort(fem.box(1.0, 1.0, 1.0, 3, 3, 3, cell="tetra"), 0.15, seed=1),
}


def _random_states(a, scales, seed=0):
    g = torch.Generator().manual_seed(seed)
    return [None] + [s * torch.randn(a.n_dofs, generator=g) for s in scales]


@pytest.mark.parametrize("stiffen", [True, False])
@pytest.mark.parametrize("kinematics", ["plane_strain", "3d"])
def test_measured_step_never_below_certified_for_potentials(kinematics, stiffen):
    a = fem.Assembly(MESHES[kinematics]())
    mat = _potential(kinematics, stiffen)
    rho = 1200.0
    elem = certified_time_step(a, mat.stiffness_bound(), rho)
    glob = certified_time_step(a, mat.stiffness_bound(), rho, method="global")
    assert glob.method == "global" and glob.dt >= elem.dt
    ratios = []
    for u in _random_states(a, [0.003, 0.01, 0.05, 0.3]):
        ts = critical_time_step(a, mat, rho, u)
        assert ts.details["symmetric"] and not ts.certified
        assert ts.dt >= glob.dt * (1 - 1e-9), (ts.dt, glob.dt)
        ratios.append(ts.dt / glob.dt)
    if stiffen:  # deep in the stiff range the tangent is close to C_b: the certificate is nearly attained
        assert min(ratios) < 1.05
    else:  # a softening law only moves away from its initial stiffness (= C_b)
        assert ratios[0] == pytest.approx(1.0, rel=1e-5)


def test_non_symmetric_tangent_uses_arnoldi_and_stays_below_the_scalar_bound():
    a = fem.Assembly(MESHES["plane_strain"]())
    mat = TwoLayer("plane_strain", 3)
    rho = 1200.0
    cert = certified_time_step(a, mat.stiffness_bound(), rho)
    assert cert.details["bound"] == "scalar"
    for u in _random_states(a, [0.005, 0.02, 0.1]):
        ts = critical_time_step(a, mat, rho, u)
        assert not ts.details["symmetric"]
        assert "eigs" in ts.details["solver"] and "note" in ts.details
        assert ts.dt >= cert.dt
    power = critical_time_step(a, mat, rho, method="power", tol=1e-8)
    assert "‖Ax‖" in power.details["solver"] and power.dt >= cert.dt


def test_training_mode_module_is_evaluated_in_eval_mode_and_restored():
    a = fem.Assembly(fem.bar(1.0, 10))
    mat = TwoLayer("uniaxial", 1)
    mat.train()
    critical_time_step(a, mat, 1.0, torch.full((a.n_dofs,), 0.01))
    assert mat.training


def test_lipmat_models():
    from lipmat import models

    a = fem.Assembly(MESHES["plane_strain"]())
    rho = 1000.0
    for mat in (models.IsotropicPotential("plane_strain", 1e9, 5e8),
                models.LipschitzMLP("plane_strain", 1e9, width=16, depth=2)):
        cert = certified_time_step(a, mat.stiffness_bound(), rho)
        for u in _random_states(a, [0.01, 0.05]):
            assert critical_time_step(a, mat, rho, u).dt >= cert.dt


def _leapfrog_energy_growth(mat, factor, steps):
    """Largest E/E0 of a free bar kicked apart (v0 = ±sin πx) by plain leapfrog at factor × certified
    (:func:`fem.stability.resonance.leapfrog_energy_growth`, also tabulated by bench/timestep_nonlinear.py)."""
    return leapfrog_energy_growth(mat, factor, steps)[0]


def test_certified_step_is_a_frozen_tangent_guarantee_not_a_nonlinear_one():
    """What the certificate proves: at every state the *linearised* scheme is stable. A linear bar at
    0.99× the certified step keeps its energy; a stiffening bar (tangent 1e6 → 2e6 Pa, bound 2e6)
    at 0.9× is pumped by nonlinear resonance (the period-2 top mode sees a tangent that alternates
    with the strain; Verlet's resonances sit at ωΔt = √2, √3, i.e. 0.71×, 0.87× the linear limit)
    and blows up; at 0.5× it stays bounded over the same run. The energy monitor is the guard."""
    assert _leapfrog_energy_growth(fem.NonlinearBar(E1=1.0e6, E2=1.0e6, eps0=0.02), 0.99, 3000) < 1.25
    assert _leapfrog_energy_growth(fem.NonlinearBar(E1=1.0e6, E2=2.0e6, eps0=0.02), 0.9, 3000) >= 10.0
    assert _leapfrog_energy_growth(fem.NonlinearBar(E1=1.0e6, E2=2.0e6, eps0=0.02), 0.5, 3000) < 1.1


def test_tangent_product_is_the_derivative_of_the_internal_force():
    """K(u)v against a central difference of f_int, both tangent paths, at a nonlinear state."""
    from fem.stability.tangent import TangentOperator

    a = fem.Assembly(MESHES["3d"]())
    mat = _potential("3d", stiffen=True)
    g = torch.Generator().manual_seed(5)
    u, v = 0.02 * torch.randn(a.n_dofs, generator=g), torch.randn(a.n_dofs, generator=g)

    def f(w):
        return a.internal_force(mat.stress(a.strain(w)))

    h = 1e-6
    fd = (f(u + h * v) - f(u - h * v)) / (2 * h)
    tab, direct = TangentOperator(a, mat, u), TangentOperator(a, mat, u, pointwise=False)
    for op in (tab, direct):
        torch.testing.assert_close(op.matvec(v), fd, rtol=1e-6, atol=1e-6 * float(fd.abs().max()))
    assert tab.n_material_jvps == 6 and direct.n_material_jvps == 1
