"""Total-Lagrangian kinematics: the gradient operator B₀, the finite-strain internal force, its tangent.

Oracles: the displacement gradient computed directly, autograd Jacobians of the dense element path,
objectivity (a rigid rotation), the linear-elastic limit with the same K and G, the homogeneous patch
test, and dense eigen-solves for the certified step.
"""
import math

import numpy as np
import pytest
import scipy.linalg
import torch

import fem
from fem import Assembly, box, distort, rectangle
from fem.core.errors import FemError
from fem.solver.faults import inverted_cells, out_of_domain
from fem.discretisation.forces import InternalForce, pointwise_stress
from fem.materials.protocol import check_material
from fem.stability.tangent import TangentOperator
from fem.stability.timestep import certified_time_step, critical_time_step

from _finite_strain_helpers import Box, NeoHookean, random_rotation, random_stretch_state, tangent_at

MESHES = {
    "triangle": lambda: rectangle(2.0, 1.0, 4, 3),
    "quad": lambda: rectangle(2.0, 1.0, 4, 3, cell="quad"),
    "tetra": lambda: box(1.0, 1.0, 2.0, 2, 2, 3, cell="tetra"),
    "hexahedron": lambda: box(1.0, 1.0, 2.0, 2, 2, 3),
}
TYPES = list(MESHES)


def _mesh(t, seed=3):
    return distort(MESHES[t](), 0.2, seed=seed)


def _homogeneous(mesh, f: np.ndarray) -> torch.Tensor:
    """(n_dofs,) u = (F − I) X."""
    return torch.as_tensor((mesh.points @ (f - np.eye(mesh.dim)).T).ravel())


def _interior(mesh):
    return np.setdiff1d(np.arange(mesh.n_points), mesh.boundary_facets())


@pytest.mark.parametrize("t", TYPES)
def test_gradient_operator_is_the_displacement_gradient(t, rng):
    """B₀u = ∇₀u row-major, the dense B₀ of every cell agrees, and Bᵀ is the adjoint of B."""
    a = Assembly(_mesh(t), mode="gradient")
    d = a.dim
    assert a.n_strain == d * d and a.mode == "gradient"
    u = torch.as_tensor(rng.normal(size=a.n_dofs))
    h = a.strain(u)
    assert h.shape == (a.n_cells, a.nq, d * d)
    torch.testing.assert_close(h.reshape(a.n_cells, a.nq, d, d), a.displacement_gradient(u), rtol=0, atol=1e-12)
    torch.testing.assert_close(a.strain_dense(u), h, rtol=0, atol=1e-12)
    p = torch.as_tensor(rng.normal(size=h.shape))
    torch.testing.assert_close(a.internal_force_dense(p), a.internal_force(p), rtol=0, atol=1e-12)
    # <B u, w p> = <u, Bᵀ(w p)>
    lhs = float((h * p * a.qp_weights[..., None]).sum())
    assert abs(lhs - float(u @ a.internal_force(p))) < 1e-10 * (1 + abs(lhs))
    # stiffness with C = I is Σ w B₀ᵀB₀: symmetric PSD, its null space holds the translations only
    k = a.stiffness_matrix(np.eye(d * d)).toarray()
    assert np.allclose(k, k.T, atol=1e-12)
    ev = np.linalg.eigvalsh(k)
    assert ev[0] > -1e-10 and np.sum(ev < 1e-10 * ev[-1]) == d
    ke = a.cell_stiffness(np.eye(d * d))
    torch.testing.assert_close(ke, torch.einsum("cqsi,cqsj,cq->cij", a.B_cells, a.B_cells, a.qp_weights))


@pytest.mark.parametrize("t", TYPES)
def test_patch_test_homogeneous_deformation(t, rng):
    """u = (F − I)X on a distorted mesh: F at every qp, zero force at interior nodes, boundary forces
    sum to zero (they are the consistent tractions of the uniform P)."""
    mesh = _mesh(t)
    a = Assembly(mesh, mode="gradient")
    f_hom = random_stretch_state(mesh.dim, rng, 0.8, 1.3)
    forces = InternalForce(a, NeoHookean(domain=None))
    f, h, p = forces(_homogeneous(mesh, f_hom))
    torch.testing.assert_close(h.reshape(a.n_cells, a.nq, mesh.dim, mesh.dim),
                               torch.as_tensor(f_hom - np.eye(mesh.dim)).expand(a.n_cells, a.nq, -1, -1))
    f = f.reshape(-1, mesh.dim)
    scale = float(f.abs().max())
    assert scale > 0.01
    assert float(f[_interior(mesh)].abs().max()) < 1e-12 * scale
    assert float(f.sum(0).abs().max()) < 1e-12 * scale


@pytest.mark.parametrize("t", TYPES)
def test_rigid_rotation_of_prestretched_block(t, rng):
    """F = R F₀: P = R P₀ at every quadrature point, the same strain energy, and every nodal force
    rotated by R (f_a(R F₀) = R f_a(F₀)): objectivity through the assembled internal force."""
    mesh = _mesh(t)
    a = Assembly(mesh, mode="gradient")
    d = mesh.dim
    mat = NeoHookean(domain=None)
    forces = InternalForce(a, mat)
    f0 = np.diag(rng.uniform(0.75, 1.4, size=d))
    f0[0, 1] = 0.2  # a sheared pre-stretch
    rot = random_rotation(d, rng)
    fi0, h0, p0 = forces(_homogeneous(mesh, f0))
    fir, hr, pr = forces(_homogeneous(mesh, rot @ f0))
    r = torch.as_tensor(rot)
    p0, pr = p0.reshape(a.n_cells, a.nq, d, d), pr.reshape(a.n_cells, a.nq, d, d)
    torch.testing.assert_close(pr, r @ p0, rtol=1e-12, atol=1e-12)
    e0, er = forces.energy(None, fi0, h0), forces.energy(None, fir, hr)
    assert float(e0) > 0.01 and abs(float(er - e0)) < 1e-12 * float(e0)
    torch.testing.assert_close(fir.reshape(-1, d), fi0.reshape(-1, d) @ r.T, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("t", TYPES)
def test_small_amplitude_limit_is_linear_elasticity(t, rng):
    """Same K and G: K(0) from A(I) on B₀ equals the small-strain K from C on the Mandel B, and
    f_int(δu)/δ → K u at first order in δ."""
    mesh = _mesh(t)
    mat = NeoHookean(mu=1.3, lam=2.1, domain=None)
    small = Assembly(mesh)
    big = Assembly(mesh, mode="gradient")
    lin = mat.small_strain_twin(small.kinematics)
    k_lin = small.stiffness_matrix(lin.linear_stiffness()).toarray()
    a0 = tangent_at(mat, torch.eye(mesh.dim))
    k_fs = big.stiffness_matrix(a0).toarray()
    np.testing.assert_allclose(k_fs, k_lin, rtol=0, atol=1e-12 * np.abs(k_lin).max())
    u = torch.as_tensor(rng.normal(size=big.n_dofs))
    ku = torch.as_tensor(k_lin) @ u
    forces = InternalForce(big, mat)
    errs = [float((forces(delta * u)[0] / delta - ku).norm() / ku.norm()) for delta in (1e-3, 1e-4)]
    assert errs[1] < 1e-3
    assert 8.0 < errs[0] / errs[1] < 12.0  # first order in δ: the quadratic term of P(I + δH)


@pytest.mark.parametrize("t", TYPES)
def test_tangent_operator_is_the_jacobian_of_the_internal_force(t, rng):
    """K(u) v of fem.stability.tangent (tabulated A, and one JVP per product) equals the autograd Jacobian of the
    dense element path f(u) = Σ B₀ᵀ w P(I + B₀u), at a finite-strain state."""
    mesh = _mesh(t)
    a = Assembly(mesh, mode="gradient")
    mat = NeoHookean(domain=None)
    u = _homogeneous(mesh, random_stretch_state(mesh.dim, rng, 0.85, 1.2)) + 0.01 * torch.as_tensor(
        rng.normal(size=a.n_dofs))
    stress = pointwise_stress(a, mat)
    k_ad = torch.autograd.functional.jacobian(lambda x: a.internal_force_dense(stress(a.strain_dense(x))), u)
    for pointwise in (True, False):
        op = TangentOperator(a, mat, u, pointwise=pointwise)
        v = torch.as_tensor(rng.normal(size=a.n_dofs))
        torch.testing.assert_close(op.matvec(v), k_ad @ v, rtol=1e-10, atol=1e-10)
    assert op.is_symmetric()


def _dense_top_eigenvalue(a, mat, u, mass) -> float:
    stress = pointwise_stress(a, mat)
    k = torch.autograd.functional.jacobian(lambda x: a.internal_force_dense(stress(a.strain_dense(x))), u).numpy()
    dm = 1.0 / np.sqrt(mass)
    return float(scipy.linalg.eigvalsh(dm[:, None] * (0.5 * (k + k.T)) * dm[None, :])[-1])


@pytest.mark.parametrize("t", ["triangle", "quad", pytest.param("tetra", marks=pytest.mark.slow), "hexahedron"])
def test_certified_step_below_exact_critical_step_at_finite_strain_states(t, rng):
    """At random states inside the law's stretch box: the certified step (element and global form,
    scalar a_b on B₀) ≤ 2/√λ_max(M⁻¹K(u)) from a dense eigen-solve with the autograd tangent; and the
    measured (Lanczos) critical step of fem.stability.timestep matches the dense one."""
    mesh = _mesh(t)
    a = Assembly(mesh, mode="gradient")
    mat = NeoHookean(mu=1.0, lam=2.0, domain=Box(0.7, 1.5, 0.6, 1.6))
    rho = 1.2
    a_b = mat.stiffness_bound()
    mass = a.lumped_mass(rho).numpy()
    certs = [certified_time_step(a, a_b, rho, method=m).dt for m in ("element", "global")]
    assert certs[1] >= certs[0] * (1 - 1e-12)  # the global form is the tighter bound
    forces = InternalForce(a, mat)
    tried = 0
    while tried < 2:
        u = _homogeneous(mesh, random_stretch_state(mesh.dim, rng, 0.75, 1.4)) + 0.03 * torch.as_tensor(
            rng.normal(size=a.n_dofs))
        if not bool(mat.in_domain(forces.strain_stress(u)[0].reshape(a.n_cells, a.nq, a.dim, a.dim) +
                                  torch.eye(a.dim)).all()):
            continue
        tried += 1
        lam = _dense_top_eigenvalue(a, mat, u, mass)
        dt_exact = 2.0 / math.sqrt(lam)
        assert max(certs) <= dt_exact * (1 + 1e-12), (certs, dt_exact)
        measured = critical_time_step(a, mat, rho, u)
        assert measured.dt == pytest.approx(dt_exact, rel=1e-6)


def test_nh_bound_covers_sampled_tangent_eigenvalues(rng):
    """The helper's analytic a_b is ≥ λ_max(∂P/∂F) at random F in the box (plane strain and 3D) and at
    its corners, and not loose by more than 1.5x (so the step test above is not vacuous)."""
    mat = NeoHookean()
    b = mat.domain
    a_b = mat.stiffness_bound()
    seen = 0.0
    for d in (2, 3):
        for _ in range(60):
            lam = rng.uniform(b.lam_lo, b.lam_hi, size=d)
            if not b.J_lo <= lam.prod() <= b.J_hi:
                continue
            f = random_rotation(d, rng) @ np.diag(lam) @ random_rotation(d, rng).T
            seen = max(seen, float(torch.linalg.eigvalsh(tangent_at(mat, torch.as_tensor(f)))[-1]))
    for corner in [(b.lam_lo, b.lam_lo, 1.22), (b.lam_lo, 0.9, 0.95), (b.lam_hi, b.lam_hi, b.lam_lo)]:
        seen = max(seen, float(torch.linalg.eigvalsh(tangent_at(mat, torch.diag(torch.tensor(corner))))[-1]))
    assert seen <= a_b and a_b < 1.5 * seen


@pytest.mark.parametrize("t", ["triangle", "hexahedron"])
def test_inversion_and_domain_exit_are_found(t):
    mesh = rectangle(1.0, 1.0, 2, 2) if t == "triangle" else box(1.0, 1.0, 1.0, 2, 2, 2)
    a = Assembly(mesh, mode="gradient")
    mat = NeoHookean(domain=Box(0.7, 1.5, 0.6, 1.6))
    forces = InternalForce(a, mat)
    pts = mesh.points
    u = np.zeros_like(pts)
    u[:, 0] = 0.8 * pts[:, 0] ** 2  # stretch 1 + 1.6 x along x: leaves the box (1.5) where x > 5/16
    h = forces.strain_stress(torch.as_tensor(u.ravel()))[0]
    ids, detail = out_of_domain(a, mat, h)
    x = a.cell_centroids()[:, 0]
    assert set(ids) <= set(np.flatnonzero(x > 0.2)) and len(ids) > 0
    assert "left the certified domain of NeoHookean" in detail and "[0.7, 1.5]" in detail and "J =" in detail
    assert out_of_domain(a, mat, forces.strain_stress(torch.zeros(a.n_dofs))[0]) is None
    u[:, 0] = -2.5 * pts[:, 0] ** 2  # 1 − 5x < 0 beyond x = 0.2: inverted there
    uu = torch.as_tensor(u.ravel())
    inv = inverted_cells(a, uu, forces.strain_stress(uu)[0])
    np.testing.assert_array_equal(inv, a.inverted_cells(uu))
    assert len(inv) > 0 and set(inv) <= set(np.flatnonzero(x > 0.1))


@pytest.mark.parametrize("t", ["quad", "tetra"])
def test_cell_fields_green_lagrange_and_cauchy(t, rng):
    """Homogeneous F: E = ½(FᵀF − I), σ = J⁻¹PFᵀ (symmetric) and J in every cell, components in
    ParaView order."""
    mesh = _mesh(t)
    a = Assembly(mesh, mode="gradient")
    mat = NeoHookean(domain=None)
    forces = InternalForce(a, mat)
    d = mesh.dim
    f = random_stretch_state(d, rng, 0.8, 1.3)
    fields = forces.cell_fields(_homogeneous(mesh, f))
    assert set(fields) == {"green_lagrange_strain", "cauchy_stress", "volume_ratio"}
    e = 0.5 * (f.T @ f - np.eye(d))
    ft = torch.as_tensor(f)
    j = float(torch.linalg.det(ft))
    sig = (mat.stress(ft) @ ft.T / j).numpy()
    assert np.allclose(sig, sig.T, atol=1e-12)
    pairs = [(0, 0), (1, 1), (0, 1)] if d == 2 else [(0, 0), (1, 1), (2, 2), (0, 1), (1, 2), (0, 2)]
    np.testing.assert_allclose(fields["green_lagrange_strain"], np.tile([e[p] for p in pairs], (a.n_cells, 1)),
                               atol=1e-12)
    np.testing.assert_allclose(fields["cauchy_stress"], np.tile([sig[p] for p in pairs], (a.n_cells, 1)), atol=1e-12)
    np.testing.assert_allclose(fields["volume_ratio"], j, atol=1e-12)
    small = InternalForce(Assembly(mesh), fem.LinearElastic(1.0, 0.3, a.kinematics))
    assert set(small.cell_fields(torch.zeros(a.n_dofs))) == {"strain", "stress"}


def test_protocol_checks():
    mat = NeoHookean()
    check_material(mat, "plane_strain")
    check_material(mat, "3d")
    with pytest.raises(FemError, match="finite-strain law"):
        check_material(type("Bar", (NeoHookean,), {"kinematics": ("uniaxial", "3d")})(), "uniaxial")
    with pytest.raises(FemError, match="finite-strain law.*1D bar"):
        check_material(mat, "uniaxial")
    with pytest.raises(FemError, match=r"kinematics mismatch: material's '3d' vs mesh's 'plane_strain'"):
        check_material(type("Solid", (NeoHookean,), {"kinematics": "3d"})(), "plane_strain")
    mesh = rectangle(1.0, 1.0, 2, 2)
    with pytest.raises(FemError, match="needs an Assembly in 'gradient' mode"):
        InternalForce(Assembly(mesh), mat)
    with pytest.raises(FemError, match="small-strain law"):
        InternalForce(Assembly(mesh, mode="gradient"), fem.LinearElastic(1.0, 0.3, "plane_strain"))
    with pytest.raises(FemError, match="mode must be one of"):
        Assembly(mesh, mode="green")
    with pytest.raises(FemError, match=r"\(4, 4\)"):
        Assembly(mesh, mode="gradient").stiffness_matrix(np.eye(3))


@pytest.mark.parametrize("t, law", [("quad", "ogden"),
                                     pytest.param("triangle", "neo_hookean", marks=pytest.mark.slow),
                                     pytest.param("hexahedron", "neo_hookean", marks=pytest.mark.slow)])
def test_certified_step_of_fem_hyperelastic_laws_below_exact_critical_step(t, law, rng):
    """The same inequality with the certificates of fem.materials.hyperelastic (interval bisection on the
    closed-form eigen parts; in plane strain the tighter plane-strain certificate), at random states in
    the certified domain."""
    hyper = pytest.importorskip("fem.materials.hyperelastic")
    from fem.materials.protocol import stiffness_bound_for

    dom = hyper.StretchDomain(0.7, 1.5, 0.7, 1.5)
    mat = (hyper.NeoHookean(1.0, K=3.0, domain=dom) if law == "neo_hookean"
           else hyper.Ogden(mu=(1.0, 0.1), alpha=(2.0, 4.0), K=3.0, domain=dom))
    mesh = _mesh(t)
    a = Assembly.for_material(mesh, mat)
    assert a.mode == "gradient"
    rho = 1.0
    cert = certified_time_step(a, stiffness_bound_for(mat, a.kinematics), rho, method="global").dt
    mass = a.lumped_mass(rho).numpy()
    forces = InternalForce(a, mat)
    tried = 0
    while tried < 2:
        u = _homogeneous(mesh, random_stretch_state(mesh.dim, rng, 0.75, 1.4)) + 0.03 * torch.as_tensor(
            rng.normal(size=a.n_dofs))
        h = forces.strain_stress(u)[0].reshape(a.n_cells, a.nq, a.dim, a.dim)
        if not bool(mat.in_domain(h + torch.eye(a.dim)).all()):
            continue
        tried += 1
        dt_exact = 2.0 / math.sqrt(_dense_top_eigenvalue(a, mat, u, mass))
        assert cert <= dt_exact * (1 + 1e-12), (cert, dt_exact)
