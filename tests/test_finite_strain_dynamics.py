"""Finite-strain explicit dynamics: a manufactured solution (orders in space and time), energy
conservation of the undamped scheme, and the run stopping when an element leaves the certified domain.

Manufactured solution (plane strain, unit square Ω = [0, 1]², compressible Neo-Hookean μ = 1, λ = 2,
ρ = 1; see ``_finite_strain_helpers``): the balance of momentum in the reference configuration

    ρ ∂²u/∂t² = Div P(F) + b,        F = I + ∇₀u,      u = 0 on ∂Ω,

has the exact solution

    u*(X, t) = a sin(ωt + φ) g(X),   g = (sin πX sin πY, ½ sin 2πX sin πY),  a = 0.12, ω = 2, φ = 0.4

(|∇₀u*| up to about 0.5: finite strain) when the body force per reference volume is

    b = ρ ü* − Div P(F*),   ü* = −ω² u*,   (Div P)_i = A_iJkL(F*) ∂²u*_k/∂X_L∂X_J,

with A = ∂P/∂F in closed form (checked against autograd in the helper's test) and the second
derivatives of g by autograd. The discrete problem uses fem's gradient-mode Assembly, InternalForce and
CentralDifference stepper; b enters as the consistent load ∫ N_a b dV on the mass rule.
"""
import inspect
import math

import numpy as np
import pytest
import torch

import fem
from fem import Assembly, rectangle
from fem.discretisation.bc import compile_conditions
from fem.solver.central_difference import CentralDifference
from fem.discretisation.forces import InternalForce

from _finite_strain_helpers import Box, NeoHookean, random_stretch_state, tangent_at

AMP, OMEGA, PHASE, RHO = 0.12, 2.0, 0.4, 1.0
T_END = 0.6
# the undamped scheme: bulk viscosity (when fem.solve has it) off
UNDAMPED = {"viscosity": False} if "viscosity" in inspect.signature(fem.solve).parameters else {}
# torch.func's decompositions call the deprecated torch.jit.script on first use
pytestmark = pytest.mark.filterwarnings("ignore:.*torch.jit.script.*:DeprecationWarning")


def _g(x: torch.Tensor) -> torch.Tensor:
    """(2,) -> (2,) the spatial shape of u*."""
    s1 = torch.sin(math.pi * x[0]) * torch.sin(math.pi * x[1])
    s2 = 0.5 * torch.sin(2 * math.pi * x[0]) * torch.sin(math.pi * x[1])
    return torch.stack([s1, s2])


def _amp(t):
    return AMP * math.sin(OMEGA * t + PHASE)


class Manufactured:
    """The discrete problem on one mesh: stepper, exact fields and the L2 error at t."""

    def __init__(self, mesh, mat):
        self.mesh, self.mat = mesh, mat
        self.a = a = Assembly(mesh, mode="gradient")
        xq, self.nq, self.wq = a.mass_rule()
        self.xq = torch.as_tensor(xq.reshape(-1, 2))
        self.g_q = torch.func.vmap(_g)(self.xq)                                   # (n, 2)
        self.grad_q = torch.func.vmap(torch.func.jacrev(_g))(self.xq)             # (n, k, L)
        self.hess_q = torch.func.vmap(torch.func.jacfwd(torch.func.jacrev(_g)))(self.xq)  # (n, k, L, J)
        self.g_nodes = torch.func.vmap(_g)(torch.as_tensor(mesh.points)).reshape(-1)
        self.mass = a.lumped_mass(RHO)
        walls = [fem.Fixed("x == 0 or x == 1 or y == 0 or y == 1")]
        self.cond = compile_conditions(fem.Problem(mesh, mat, RHO, bcs=walls), a, self.mass)
        self.cond.external_force = self.body_force
        self.forces = InternalForce(a, mat)

    def body_force(self, t: float) -> torch.Tensor:
        """(n_dofs,) ∫ N_a b(X, t) dV."""
        s = _amp(t)
        f = torch.eye(2) + s * self.grad_q
        div_p = s * torch.einsum("qiJkL,qkLJ->qi", self.mat.tangent(f), self.hess_q)
        b = RHO * (-OMEGA**2 * s) * self.g_q - div_p
        a = self.a
        b = b.reshape(a.n_cells, -1, 2)
        fe = torch.einsum("cq,qa,cqi->cai", torch.as_tensor(self.wq), torch.as_tensor(self.nq), b)
        out = torch.zeros(a.n_dofs)
        return out.index_add_(0, a.cell_dofs.reshape(-1), fe.reshape(-1))

    def run(self, dt: float) -> torch.Tensor:
        """u at T_END from the exact initial state, central difference with step dt."""
        n = round(T_END / dt)
        assert abs(n * dt - T_END) < 1e-12
        stepper = CentralDifference(self.forces, self.mass, self.cond, dt)
        u0 = _amp(0.0) * self.g_nodes
        v0 = AMP * OMEGA * math.cos(PHASE) * self.g_nodes
        with torch.no_grad():
            s = stepper.init(u0, v0)
            for _ in range(n):
                s = stepper.step(s)
        assert abs(s.t - T_END) < 1e-9
        return s.u

    def l2_error(self, u: torch.Tensor, exact: torch.Tensor | None = None) -> float:
        """‖u_h − u*(T_END)‖_L2(Ω) (or against another discrete field ``exact``) on the mass rule."""
        a = self.a
        ue = (u if exact is None else u - exact).reshape(-1, 2)[a.cell_dofs[:, ::2] // 2]   # (nc, nn, 2)
        uh = torch.einsum("qa,cai->cqi", torch.as_tensor(self.nq), ue)
        diff = uh if exact is not None else uh - _amp(T_END) * self.g_q.reshape(a.n_cells, -1, 2)
        return float(torch.sqrt((torch.as_tensor(self.wq)[..., None] * diff**2).sum()))


def _slope(h, e):
    return float(np.polyfit(np.log(h), np.log(e), 1)[0])


def test_closed_form_tangent_matches_autograd(rng):
    mat = NeoHookean(domain=None)
    for d in (2, 3):
        f = torch.as_tensor(random_stretch_state(d, rng, 0.7, 1.4))
        torch.testing.assert_close(mat.tangent(f).reshape(d * d, d * d), tangent_at(mat, f), rtol=1e-12, atol=1e-12)


def test_manufactured_solution_second_order_in_space():
    """Q4, n = 6, 12, 24 cells per side with dt = 0.2 h (time error of the same order): the L2 error of
    u at t = 0.6 falls as h², slope 2 ± 0.25."""
    hs, errs = [], []
    for n in (6, 12, 24):
        m = Manufactured(rectangle(1.0, 1.0, n, n, cell="quad"), NeoHookean(domain=None))
        errs.append(m.l2_error(m.run(T_END / round(T_END / (0.2 / n)))))
        hs.append(1.0 / n)
    slope = _slope(hs, errs)
    assert 1.75 < slope < 2.25, (errs, slope)
    assert errs[-1] < 2e-3 * AMP


@pytest.mark.slow
@pytest.mark.parametrize("cell", ["triangle", "quad"])
def test_manufactured_solution_second_order_in_space_fine(cell):
    """As above on finer meshes (n = 8 … 64), both plane-strain elements."""
    hs, errs = [], []
    for n in (8, 16, 32, 64):
        m = Manufactured(rectangle(1.0, 1.0, n, n, cell=cell), NeoHookean(domain=None))
        errs.append(m.l2_error(m.run(T_END / round(T_END / (0.2 / n)))))
        hs.append(1.0 / n)
    slope = _slope(hs, errs)
    assert 1.85 < slope < 2.15, (errs, slope)


def test_manufactured_solution_second_order_in_time():
    """Fixed Q4 mesh (n = 8), dt = 0.02, 0.01, 0.005, 0.0025: the differences of successive solutions
    (the time error of the coarser one, up to a factor 3/4, on this mesh) fall as dt², slope 2 ± 0.2."""
    m = Manufactured(rectangle(1.0, 1.0, 8, 8, cell="quad"), NeoHookean(domain=None))
    dts = [0.02, 0.01, 0.005, 0.0025]
    us = [m.run(dt) for dt in dts]
    diffs = [m.l2_error(us[i], exact=us[i + 1]) for i in range(3)]
    slope = _slope(dts[:3], diffs)
    assert 1.8 < slope < 2.2, (diffs, slope)


def _swing(cell="quad", n=(6, 3)):
    """A plane-strain cantilever 2 × 1, fixed at x = 0, swinging from an initial velocity that bends it
    to about 20 % stretch (inside the law's box: the certified step holds)."""
    mesh = rectangle(2.0, 1.0, *n, cell=cell)
    mat = NeoHookean(mu=1.0, lam=2.0, domain=Box(0.5, 1.8, 0.4, 2.0))
    v0 = lambda x: np.stack([np.zeros(len(x)), 0.3 * x[:, 0]], axis=1)  # noqa: E731
    return fem.Problem(mesh, mat, RHO, bcs=[fem.Fixed("left")], v0=v0)


@pytest.mark.parametrize("cell", [pytest.param("triangle", marks=pytest.mark.slow), "quad"])
def test_undamped_finite_strain_run_conserves_energy(cell):
    """fem.solve at the certified step: kinetic + stored energy ψ stays within 0.5 % of its start over
    the run, and the drift is second order in dt (halving dt divides it by about 4): the leapfrog's
    energy error is its O(dt²) shadow-energy oscillation, with no growth."""
    drifts = []
    for factor in (1.0, 0.5):
        prob = _swing(cell)
        dt = factor * fem.run_time_step(prob, "certified", **UNDAMPED).dt_certified if factor < 1 else "certified"
        res = fem.solve(prob, 6.0, dt, energy=fem.EnergyCheck(every=1), save=fem.SaveAt(every=5, keep=True),
                        **UNDAMPED)
        assert res.status == "completed", res.message
        e = res.energies
        total = e["kinetic"] + e["internal"]
        drifts.append(float(np.abs(total - total[0]).max() / total[0]))
        assert np.abs(res.fields["green_lagrange_strain"]).max() > 0.1  # finite strain was reached
        assert set(res.fields) >= {"green_lagrange_strain", "cauchy_stress", "volume_ratio"}
    assert drifts[0] < 5e-3, drifts
    assert 3.0 < drifts[0] / drifts[1] < 5.0, drifts


def test_leaving_the_certified_domain_stops_the_run():
    """Pulling the free end beyond the box: status out_of_domain, the message names the element, the
    stretches and J found and the domain; the final state is the last one inside."""
    mesh = rectangle(2.0, 1.0, 4, 2, cell="quad")
    mat = NeoHookean(mu=1.0, lam=2.0, domain=Box(0.7, 1.3, 0.6, 1.5))
    prob = fem.Problem(mesh, mat, RHO, bcs=[fem.Fixed("left"), fem.Prescribed("right", "x", displacement=lambda t: 0.4 * t)],
                       v0=lambda x: np.stack([0.2 * x[:, 0], np.zeros(len(x))], axis=1))  # a smooth start
    res = fem.solve(prob, 3.0, "certified", **UNDAMPED)
    assert res.status == "out_of_domain", res.message
    assert "left the certified domain of NeoHookean" in res.message and "stretches in [0.7, 1.3]" in res.message
    assert "element" in res.message and "J =" in res.message
    a = Assembly(mesh, mode="gradient")
    h = a.strain(res.final.u).reshape(a.n_cells, a.nq, 2, 2)
    assert bool(mat.in_domain(h + torch.eye(2)).all())
    assert 0.1 < res.t < 3.0


def test_inverted_element_stops_a_finite_strain_run():
    """A law without a domain, crushed at a numeric step: the run stops as "inverted" (det F ≤ 0),
    not as a NaN from ln J."""
    mesh = rectangle(1.0, 1.0, 2, 2, cell="quad")
    prob = fem.Problem(mesh, NeoHookean(domain=None), RHO, bcs=[fem.Fixed("left")],
                       v0=lambda x: np.stack([-8.0 * x[:, 0], np.zeros(len(x))], axis=1))
    res = fem.solve(prob, 1.0, 0.02, **UNDAMPED)
    assert res.status == "inverted", res.message
    assert "det F <= 0" in res.message
