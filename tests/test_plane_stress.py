"""Plane stress at finite strain (fem.materials.hyperelastic.PlaneStress): the thickness solve, the
consistent (Schur-complement) tangent, the patch test, the uniaxial sheet against an independent 3D
solution and the incompressible law, the certificate against dense eigen-solves, and a short run.

Oracles: scipy's brentq on the 3D law's own stress (uniaxial stress in 3D, solved without the wrapper),
the closed form P = μ(λ − λ⁻²) of the incompressible Neo-Hookean in uniaxial tension, central
differences, the 3D autograd tangent, and dense eigen-solves of M⁻¹K(u).
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.linalg
import scipy.optimize
import torch

import fem
from fem import Assembly, distort, rectangle
from fem.core.errors import FemError
from fem.discretisation.forces import InternalForce, pointwise_stress
from fem.materials.hyperelastic import MooneyRivlin, NeoHookean, Ogden, PlaneStress, StretchDomain
from fem.core.kinematics import principal_stretches
from fem.materials.hyperelastic.plane_stress import embed, schur_tangent
from fem.materials.hyperelastic.plane_stress_certificate import plane_stress_eigenvalues
from fem.stability.timestep import certified_time_step, critical_time_step

pytestmark = pytest.mark.filterwarnings("ignore:.*torch.jit.script.*:DeprecationWarning")
T64 = torch.float64


def _laws():
    return {"neo_hookean": NeoHookean(1.0, K=10.0), "ogden": Ogden([1.0, -0.1], [2.0, -2.0], K=20.0),
            "mooney_rivlin": MooneyRivlin(0.4, 0.1, K=10.0)}


@pytest.fixture(scope="module")
def laws():
    return {k: PlaneStress(v) for k, v in _laws().items()}


def _random_F(n, rng, spread=0.25):
    """(n, 2, 2) in-plane gradients: rotation · diag(stretches) · rotation, stretches in e^[-spread, spread]."""
    lam = np.exp(rng.uniform(-spread, spread, size=(n, 2)))
    th = rng.uniform(0, 2 * math.pi, size=(n, 2))
    def rot(t):
        return np.stack([np.stack([np.cos(t), -np.sin(t)], -1), np.stack([np.sin(t), np.cos(t)], -1)], -2)
    f = rot(th[:, 0]) @ (lam[:, :, None] * np.eye(2)) @ rot(th[:, 1]).transpose(0, 2, 1)
    return torch.as_tensor(f, dtype=T64)


def _homogeneous(mesh, F2):
    x = torch.as_tensor(mesh.points, dtype=T64)
    return (x @ (F2 - torch.eye(2, dtype=T64)).T).reshape(-1)


# -- the solve and the tangent ---------------------------------------------------------------------
@pytest.mark.parametrize("name", ["neo_hookean", "ogden", "mooney_rivlin"])
def test_thickness_stretch_makes_p33_vanish(laws, name, rng):
    """|P33| ≤ 1e-12·max|P| at the solved λ₃ for stretches up to e^±0.8 (far outside the domain: the
    solve does not need it), and the in-plane P is the 3D law's at F₂ ⊕ λ₃."""
    ps = laws[name]
    F = _random_F(400, rng, spread=0.8)
    lam3 = ps.thickness_stretch(F)
    P3 = ps.law.stress(embed(F, lam3))
    assert bool(torch.isfinite(lam3).all())
    assert float((P3[..., 2, 2].abs() / P3.abs().amax((-1, -2))).max()) < 1e-12
    torch.testing.assert_close(ps.stress(F), P3[..., :2, :2], rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("name", ["neo_hookean", "ogden"])
def test_autograd_tangent_is_the_schur_complement_and_matches_differences(laws, name, rng):
    """∂P₂/∂F₂ through the solve (autograd) = A_pp − A_p3 A_3p/A33 of the 3D tangent (to 1e-12) = central
    differences of the stress (to 1e-7); it is symmetric, and A_ps ⪯ A_pp (A33 > 0)."""
    ps = laws[name]
    F = _random_F(30, rng, spread=0.4)
    A = ps.tangent(F)
    S = ps.tangent_by_schur(F)
    scale = float(S.abs().max())
    assert float((A - S).abs().max()) <= 1e-12 * scale
    assert float((A - A.transpose(-1, -2)).abs().max()) <= 1e-12 * scale
    h = 1e-6
    fd = torch.empty_like(A)
    for b in range(4):
        dF = torch.zeros(4, dtype=T64)
        dF[b] = h
        dF = dF.reshape(2, 2)
        fd[..., :, b] = ((ps.stress(F + dF) - ps.stress(F - dF)) / (2 * h)).reshape(-1, 4)
    assert float((fd - A).abs().max()) <= 1e-7 * scale
    A3 = ps.law.tangent(embed(F, ps.thickness_stretch(F)))
    App = A3[..., [0, 1, 3, 4], :][..., :, [0, 1, 3, 4]]
    assert float(torch.linalg.eigvalsh(App - A).min()) >= -1e-12 * scale
    assert bool((A3[..., 8, 8] > 0).all())


def test_energy_is_the_potential_of_the_plane_stress_stress(laws, rng):
    """∂ψ₂/∂F₂ = P₂ (P33 = 0 removes the λ₃ term), to 1e-12."""
    ps = laws["ogden"]
    F = _random_F(50, rng, spread=0.5).requires_grad_(True)
    (g,) = torch.autograd.grad(ps.energy(F).sum(), F)
    torch.testing.assert_close(g, ps.stress(F.detach()), rtol=1e-12, atol=1e-12)


# -- patch test ------------------------------------------------------------------------------------
@pytest.mark.parametrize("cell", ["triangle", "quad"])
def test_patch_test_on_a_distorted_mesh(laws, cell):
    """A homogeneous plane-stress F on a distorted T3/Q4 mesh: the interior nodal forces vanish to 1e-10
    of the boundary forces, and each edge carries its exact resultant P₂ N·length·thickness."""
    mesh = distort(rectangle(1.0, 1.0, 5, 4, cell=cell), 0.2, seed=3)
    a = Assembly(mesh, mode="gradient", thickness=0.01)
    ps = laws["neo_hookean"]
    F2 = torch.tensor([[1.3, 0.2], [-0.1, 0.9]], dtype=T64)
    f = InternalForce(a, ps)(_homogeneous(mesh, F2))[0].reshape(-1, 2).numpy()
    x = mesh.points
    edge = (np.abs(x[:, 0]) < 1e-12) | (np.abs(x[:, 0] - 1) < 1e-12) | (np.abs(x[:, 1]) < 1e-12) | \
        (np.abs(x[:, 1] - 1) < 1e-12)
    scale = np.abs(f[edge]).max()
    assert np.abs(f[~edge]).max() <= 1e-10 * scale
    P = ps.stress(F2).numpy()
    right = np.abs(x[:, 0] - 1) < 1e-12
    np.testing.assert_allclose(f[right].sum(0), P @ np.array([1.0, 0.0]) * 1.0 * 0.01, rtol=1e-10)


# -- uniaxial sheet --------------------------------------------------------------------------------
def _uniaxial_3d(law, lam):
    """Independent 3D uniaxial stress: F = diag(λ, a, a) with P22 = 0 by brentq on the 3D law; (a, P11)."""
    def p22(a):
        return float(law.stress(torch.diag(torch.tensor([lam, a, a], dtype=T64)))[1, 1])
    a = scipy.optimize.brentq(p22, 0.2, 2.0, xtol=1e-15, rtol=1e-15)
    return a, float(law.stress(torch.diag(torch.tensor([lam, a, a], dtype=T64)))[0, 0])


@pytest.mark.parametrize("name", ["neo_hookean", "ogden"])
def test_uniaxial_sheet_equals_the_3d_uniaxial_stress_solution(laws, name):
    """A sheet pulled along x with free lateral edges, at the homogeneous state F₂ = diag(λ, a) of the
    independent 3D solution: λ₃ = a, the lateral edges and the interior are free of force, and the end
    force is P11·height·thickness, all to 1e-10."""
    ps = laws[name]
    mesh = rectangle(2.0, 1.0, 4, 2, cell="quad")
    a_ = Assembly(mesh, mode="gradient", thickness=0.5)
    forces = InternalForce(a_, ps)
    x = mesh.points
    for lam in (0.7, 1.3, 1.8):
        a, p11 = _uniaxial_3d(ps.law, lam)
        F2 = torch.diag(torch.tensor([lam, a], dtype=T64))
        assert float(ps.thickness_stretch(F2)) == pytest.approx(a, rel=1e-10)
        f = forces(_homogeneous(mesh, F2))[0].reshape(-1, 2).numpy()
        ends = (np.abs(x[:, 0]) < 1e-12) | (np.abs(x[:, 0] - 2) < 1e-12)
        assert np.abs(f[~ends]).max() <= 1e-10 * abs(p11)
        assert np.abs(f[ends, 1]).max() <= 1e-10 * abs(p11)
        assert f[np.abs(x[:, 0] - 2) < 1e-12, 0].sum() == pytest.approx(p11 * 1.0 * 0.5, rel=1e-10)


def _sheet_p11(ps, lam):
    """Uniaxial plane stress: the lateral in-plane stretch with P22 = 0 (brentq on the wrapper), then P11."""
    def p(a):
        return ps.stress(torch.diag(torch.tensor([lam, a], dtype=T64)))
    a = scipy.optimize.brentq(lambda a: float(p(a)[1, 1]), 0.3, 1.5, xtol=1e-15, rtol=1e-15)
    return float(p(a)[0, 0])


def test_uniaxial_sheet_reaches_the_incompressible_law_as_k_grows():
    """Neo-Hookean μ = 1, K/μ = 1e2 … 1e8: the sheet's P11 approaches μ(λ − λ⁻²), the error falls about
    like μ/K, and at K/μ = 1e8 it is below 1e-6 (relative)."""
    errs = []
    for ratio in (1e2, 1e4, 1e6, 1e8):
        ps = PlaneStress(NeoHookean(1.0, K=ratio, domain=False))
        e = max(abs(_sheet_p11(ps, lam) - (lam - lam**-2)) / abs(lam - lam**-2) for lam in (0.6, 1.5, 2.5))
        errs.append(e)
    assert errs[-1] < 1e-6, errs
    assert all(b < a / 30 for a, b in zip(errs[:-1], errs[1:])), errs


# -- certificates ----------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["neo_hookean", "ogden", "mooney_rivlin"])
def test_certified_bound_covers_the_plane_stress_tangent(laws, name, rng):
    """At random in-domain plane-stress states (stretches e^±1, ``in_domain`` True), λ_max of the autograd
    tangent (dense eigvalsh) ≤ the certificate."""
    ps = laws[name]
    F = _random_F(600, rng, spread=1.0)
    F = F[ps.in_domain(F)]
    assert len(F) > 100
    top = float(torch.linalg.eigvalsh(ps.tangent(F))[..., -1].max())
    assert 0 < top <= ps.stiffness_bound()


@pytest.mark.parametrize("name", ["neo_hookean", "ogden", "mooney_rivlin"])
def test_closed_form_plane_stress_eigenvalues_equal_a_dense_eigen_solve(laws, name, rng):
    """eig(A_ps) = eig(S) ∪ {m₁₂, p₁₂} (plane_stress_certificate's docstring) against eigvalsh of the
    autograd tangent at random states, to 1e-10 of the largest."""
    ps = laws[name]
    F = _random_F(40, rng, spread=0.6)
    lam = principal_stretches(F)
    closed = plane_stress_eigenvalues(ps.law, lam[:, 0], lam[:, 1], ps.thickness_stretch(F)).sort(-1).values
    dense = torch.linalg.eigvalsh(ps.tangent(F))
    assert float((closed - dense).abs().max()) <= 1e-10 * float(dense.abs().max())


@pytest.mark.parametrize("name", ["neo_hookean", "ogden", "mooney_rivlin"])
def test_plane_stress_certificate_is_tighter_and_near_what_is_attained(laws, name):
    """The plane-stress certificate converges, lies within (1 + rtol)(1 + 1e-12) of the largest attained
    eigenvalue it found, and is below the 3D bound (2.5–3x for these moderately compressible laws)."""
    ps = laws[name]
    cert = ps.certificate()
    assert cert is not None and cert["found"] <= cert["bound"] <= 1.05 * (1 + 1e-12) * cert["found"]
    assert ps.stiffness_bound() == cert["bound"] < ps.law.stiffness_bound("3d") / 2.5


@pytest.mark.slow
def test_nearly_incompressible_law_falls_back_to_the_3d_bound():
    """K/μ = 1000: the plane-stress certifier gives up within its budget and the 3D bound stands."""
    law = NeoHookean(1.0, K=1000.0)
    ps = PlaneStress(law)
    assert ps.certificate() is None and ps.stiffness_bound() == law.stiffness_bound("3d")


def test_in_domain_checks_the_solved_3d_state():
    """The domain is checked on F₂ ⊕ λ₃: an equibiaxial 1.5 stretch (J₂ = 2.25, outside in plane strain) is
    inside in plane stress (λ₃ ≈ 0.44, J ≈ 1); at 1.7, λ₃ < 0.4 leaves the stretch box."""
    law = NeoHookean(1.0, K=100.0)
    ps = PlaneStress(law)
    F = torch.stack([1.5 * torch.eye(2, dtype=T64), 1.7 * torch.eye(2, dtype=T64)])
    assert ps.in_domain(F).tolist() == [True, False]
    assert law.in_domain(F).tolist() == [False, False]
    assert float(ps.thickness_stretch(F)[1]) < 0.4
    assert not bool(ps.in_domain(torch.tensor([[[1.0, 0.0], [0.0, -1.0]]], dtype=T64)))   # J₂ < 0


@pytest.mark.parametrize("cell", ["triangle", "quad"])
def test_certified_step_below_the_exact_critical_step(laws, cell, rng):
    """At random in-domain states of a small sheet, the certified step (element and global form, the
    plane-stress bound on B₀) ≤ 2/√λ_max(M⁻¹K(u)), K(u) the dense autograd Jacobian of the internal force;
    fem's measured critical step (Lanczos on the tabulated tangent) agrees with the dense one."""
    mesh = rectangle(1.0, 0.5, 3, 2, cell=cell)
    a = Assembly(mesh, mode="gradient")
    ps, rho = laws["neo_hookean"], 1.1
    a_b = ps.stiffness_bound()
    mass = a.lumped_mass(rho).numpy()
    certs = [certified_time_step(a, a_b, rho, method=m).dt for m in ("element", "global")]
    stress, forces = pointwise_stress(a, ps), InternalForce(a, ps)
    for _ in range(2):
        u = _homogeneous(mesh, _random_F(1, rng, spread=0.5)[0]) + 0.02 * torch.as_tensor(rng.normal(size=a.n_dofs))
        h = forces.strain_stress(u)[0].reshape(a.n_cells, a.nq, 2, 2)
        assert bool(ps.in_domain(h + torch.eye(2, dtype=T64)).all())
        k = torch.autograd.functional.jacobian(lambda v: a.internal_force_dense(stress(a.strain_dense(v))), u).numpy()
        dm = 1.0 / np.sqrt(mass)
        lam = float(scipy.linalg.eigvalsh(dm[:, None] * (0.5 * (k + k.T)) * dm[None, :])[-1])
        assert max(certs) <= 2.0 / math.sqrt(lam) * (1 + 1e-12), (certs, 2.0 / math.sqrt(lam))
        assert critical_time_step(a, ps, rho, u).dt == pytest.approx(2.0 / math.sqrt(lam), rel=1e-6)


# -- dynamics and the protocol -------------------------------------------------------------------
def test_short_explicit_run_of_a_sheet_keeps_its_energy(laws):
    """A plane-stress cantilever sheet swinging from an initial velocity at the certified step (undamped):
    completes, reaches finite strain with the thickness changing, kinetic + stored energy within 1 %."""
    mesh = rectangle(2.0, 1.0, 6, 3, cell="quad")
    ps = laws["neo_hookean"]
    v0 = lambda x: np.stack([np.zeros(len(x)), 0.6 * x[:, 0]], axis=1)  # noqa: E731
    prob = fem.Problem(mesh, ps, 1.0, bcs=[fem.Fixed("left")], v0=v0, thickness=0.05)
    res = fem.solve(prob, 3.0, "certified", energy=fem.EnergyCheck(every=1), viscosity=False)
    assert res.status == "completed", res.message
    e = res.energies
    total = e["kinetic"] + e["internal"]
    assert float(np.abs(total - total[0]).max() / total[0]) < 1e-2
    a = Assembly(mesh, mode="gradient")
    h = a.strain(res.final.u).reshape(a.n_cells, a.nq, 2, 2) + torch.eye(2, dtype=T64)
    assert float((ps.thickness_stretch(h) - 1).abs().max()) > 0.01


def test_protocol_and_bad_input():
    """Runs on 2D meshes only; refuses a non-3D law, a double wrap and a 3D F; its bound is the 3D one."""
    law = NeoHookean(1.0, K=10.0, domain=StretchDomain(0.5, 2.0, 0.8, 1.25))
    ps = PlaneStress(law)
    assert ps.stiffness_bound("plane_strain") == ps.stiffness_bound() < law.stiffness_bound("3d")
    assert PlaneStress(law, tight=False).stiffness_bound() == law.stiffness_bound("3d")
    assert ps.domain == law.domain
    fem.check_material(ps, "plane_strain")
    with pytest.raises(FemError, match="kinematics mismatch"):
        fem.check_material(ps, "3d")
    with pytest.raises(FemError, match="2D meshes"):
        ps.stiffness_bound("3d")
    with pytest.raises(FemError, match="already a plane-stress law"):
        PlaneStress(ps)
    with pytest.raises(FemError, match="3D finite-strain law"):
        PlaneStress(fem.LinearElastic(1.0, 0.3))
    with pytest.raises(FemError, match=r"\(\.\.\., 2, 2\)"):
        ps.stress(torch.eye(3, dtype=T64))
    assert torch.equal(schur_tangent(law.tangent(torch.eye(3, dtype=T64))), ps.tangent_by_schur(torch.eye(2, dtype=T64)))


def test_float32_states_solve_to_float32_precision(laws, rng):
    """A float32 run: the solve stops at float32's precision (no NaN) and agrees with float64 to 1e-5."""
    ps = laws["neo_hookean"]
    F = _random_F(200, rng, spread=0.5)
    P32 = ps.stress(F.float())
    assert P32.dtype == torch.float32 and bool(torch.isfinite(P32).all())
    assert float((P32.double() - ps.stress(F)).abs().max()) <= 1e-5 * float(ps.stress(F).abs().max())
