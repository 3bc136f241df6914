"""Assembly: patch tests, mass, stiffness properties, sparse B, errors; classical materials."""
import numpy as np
import pytest
import scipy.linalg
import torch

import fem
from fem import Assembly, LinearElastic, NonlinearBar, bar, box, check_material, distort, mandel, rectangle
from fem.core.errors import FemError, MeshError

MESHES = {
    "line": lambda: bar(2.0, 6),
    "triangle": lambda: rectangle(2.0, 1.0, 6, 4),
    "quad": lambda: rectangle(2.0, 1.0, 6, 4, cell="quad"),
    "tetra": lambda: box(1.0, 1.0, 2.0, 3, 3, 4, cell="tetra"),
    "hexahedron": lambda: box(1.0, 1.0, 2.0, 3, 3, 4),
}
TYPES = list(MESHES)


def _distorted(t):
    return distort(MESHES[t](), 0.2, seed=7)


def _sym_mandel(a, kinematics):
    return mandel.from_tensor(torch.as_tensor(0.5 * (a + a.T)), kinematics)


@pytest.mark.parametrize("t", TYPES)
def test_patch_test_uniform_strain_is_exact(t, rng):
    """u = A X + c on a distorted mesh: strain = sym(A) at every qp, interior forces vanish."""
    mesh = _distorted(t)
    a = Assembly(mesh)
    grad = rng.normal(size=(mesh.dim, mesh.dim))
    u = torch.as_tensor((mesh.points @ grad.T + rng.normal(size=mesh.dim)).ravel())
    eps = a.strain(u)
    target = _sym_mandel(grad, a.kinematics)
    assert float((eps - target).abs().max()) < 1e-12
    mat = LinearElastic(2.0, 0.3, a.kinematics)
    f = a.internal_force(mat.stress(eps)).reshape(-1, mesh.dim)
    interior = np.setdiff1d(np.arange(mesh.n_points), mesh.boundary_facets())
    assert len(interior) > 0
    scale = float(f.abs().max())
    assert float(f[interior].abs().max()) < 1e-12 * scale
    # and the boundary forces are the tractions σ·n of the uniform stress: they sum to zero
    assert float(f.sum(0).abs().max()) < 1e-12 * scale


def test_1d_strain_is_du_dX_and_force_is_area_times_stress():
    a = Assembly(bar(2.0, 4), area=0.5)
    u = torch.as_tensor(0.1 * a.mesh.points[:, 0] ** 2)
    x = a.mesh.points[a.mesh.cells].mean(axis=1)[:, 0]
    np.testing.assert_allclose(a.strain(u)[:, 0, 0].numpy(), 0.2 * x, atol=1e-15)  # exact midpoint slope
    sigma = torch.full((4, 1, 1), 3.0)
    np.testing.assert_allclose(a.internal_force(sigma).numpy(), [-1.5, 0, 0, 0, 1.5], atol=1e-15)


@pytest.mark.parametrize("t", TYPES)
def test_lumped_mass_sums_to_density_times_volume(t):
    mesh = _distorted(t)
    a = Assembly(mesh, thickness=0.3, area=0.7)
    volume = {"line": 2.0 * 0.7, "triangle": 2.0 * 0.3, "quad": 2.0 * 0.3, "tetra": 2.0, "hexahedron": 2.0}[t]
    m = a.lumped_mass(7.0)
    assert float(m.sum()) == pytest.approx(mesh.dim * 7.0 * volume, rel=1e-13)
    assert float(m.min()) > 0
    m_node = m.reshape(-1, mesh.dim)
    assert torch.equal(m_node[:, :1].expand_as(m_node), m_node)  # same mass for every component
    # row sums of the (exactly integrated) consistent mass
    mc = a.cell_consistent_mass(7.0)
    np.testing.assert_allclose(a.cell_lumped_mass(7.0).numpy()[:, :: mesh.dim], mc.sum(axis=2), rtol=1e-14)
    assert np.allclose(mc, mc.transpose(0, 2, 1))


def test_consistent_mass_of_distorted_hex_is_exact():
    """Compare the 3×3×3 mass rule with a 6×6×6 rule on strongly distorted hexahedra."""
    mesh = distort(box(1, 1, 1, 2, 2, 2), 0.3, seed=1)
    a = Assembly(mesh)
    x, w = np.polynomial.legendre.leggauss(6)
    grid = np.stack(np.meshgrid(x, x, x, indexing="ij"), -1).reshape(-1, 3)
    ww = np.prod(np.stack(np.meshgrid(w, w, w, indexing="ij"), -1).reshape(-1, 3), axis=1)
    el = a.element
    jac = np.einsum("cni,qnj->cqij", mesh.points[mesh.cells], el.grad(grid))
    n = el.shape(grid)
    exact = np.einsum("cq,qa,qb->cab", np.linalg.det(jac) * ww, n, n)
    np.testing.assert_allclose(a.cell_consistent_mass(1.0), exact, rtol=1e-13, atol=1e-17)


@pytest.mark.parametrize("t", TYPES)
def test_stiffness_symmetric_psd_with_rigid_body_null_space(t):
    mesh = _distorted(t)
    a = Assembly(mesh)
    K = a.stiffness_matrix(LinearElastic(1.0, 0.3, a.kinematics).stiffness_bound()).toarray()
    assert np.abs(K - K.T).max() < 1e-14 * np.abs(K).max()
    lam = scipy.linalg.eigvalsh(K)
    n_rigid = {1: 1, 2: 3, 3: 6}[mesh.dim]
    zero = np.abs(lam) < 1e-10 * lam.max()
    assert zero.sum() == n_rigid and lam.min() > -1e-10 * lam.max()
    # and the rigid modes themselves: translations and infinitesimal rotations
    x = mesh.points
    modes = [np.tile(e, (mesh.n_points, 1)) for e in np.eye(mesh.dim)]
    for i, j in ([(0, 1)] if mesh.dim == 2 else [(0, 1), (1, 2), (0, 2)] if mesh.dim == 3 else []):
        r = np.zeros_like(x)
        r[:, i], r[:, j] = -x[:, j], x[:, i]
        modes.append(r)
    for r in modes:
        assert np.abs(K @ r.ravel()).max() < 1e-12 * np.abs(K).max()


@pytest.mark.parametrize("t", TYPES)
def test_internal_force_equals_stiffness_times_u(t, rng):
    mesh = _distorted(t)
    a = Assembly(mesh, thickness=0.5)
    mat = LinearElastic(3.0, 0.25, a.kinematics)
    u = torch.as_tensor(rng.normal(size=a.n_dofs))
    f = a.internal_force(mat.stress(a.strain(u))).numpy()
    K = a.stiffness_matrix(mat.linear_stiffness())
    np.testing.assert_allclose(f, K @ u.numpy(), atol=1e-12 * np.abs(f).max())
    # the dense reference path agrees with the sparse one
    s = mat.stress(a.strain(u))
    assert torch.allclose(a.strain_dense(u), a.strain(u), atol=1e-13, rtol=0)
    assert torch.allclose(a.internal_force_dense(s), a.internal_force(s), atol=1e-12, rtol=0)


def test_float32_assembly_and_shapes():
    a = Assembly(rectangle(1, 1, 3, 3, cell="quad"), dtype=torch.float32)
    assert a.B_cells.shape == (9, 4, 3, 8) and a.qp_weights.shape == (9, 4) and a.cell_dofs.shape == (9, 8)
    assert a.strain(torch.zeros(a.n_dofs, dtype=torch.float32)).dtype == torch.float32
    with pytest.raises(FemError, match=r"displacement must be \(32,\) torch.float32, got \(32,\) torch.float64"):
        a.strain(torch.zeros(32))
    with pytest.raises(FemError, match=r"stress must be \(9, 4, 3\)"):
        a.internal_force(torch.zeros(9, 1, 3, dtype=torch.float32))


def test_inverted_element_is_named_with_its_centroid():
    mesh = rectangle(2.0, 1.0, 4, 2)
    mesh.cells[5] = mesh.cells[5, [0, 2, 1]]
    centroid = mesh.points[mesh.cells[5]].mean(axis=0)
    with pytest.raises(MeshError, match=rf"1 triangle cell\(s\) inverted.*cell 5 at \({centroid[0]:.6g}, {centroid[1]:.6g}\)"):
        Assembly(mesh)
    mesh.cells[:] = mesh.cells[:, [0, 2, 1]]  # flips all, and cell 5 back
    with pytest.raises(MeshError, match=r"15 triangle cell\(s\).*cell 0 at .* and 10 more"):
        Assembly(mesh)
    degenerate = bar(1.0, 2)
    degenerate.points[1] = degenerate.points[0]
    with pytest.raises(MeshError, match="cell 0 at"):
        Assembly(degenerate)


def test_inverted_cells_during_deformation():
    a = Assembly(bar(1.0, 4))
    u = torch.zeros(5)
    u[2] = -0.3  # cell 1 (x from 0.25 to 0.5) now has stretch 1 + (-0.3)/0.25 < 0
    assert a.inverted_cells(u).tolist() == [1]
    a2 = Assembly(rectangle(1, 1, 2, 2, cell="quad"))
    assert a2.inverted_cells(torch.zeros(a2.n_dofs)).size == 0
    h = a2.displacement_gradient(torch.as_tensor((a2.mesh.points @ np.array([[0.1, 0.2], [0.3, 0.4]]).T).ravel()))
    np.testing.assert_allclose(h.numpy(), np.broadcast_to([[0.1, 0.2], [0.3, 0.4]], h.shape), atol=1e-14)


def test_kinematics_mismatch():
    with pytest.raises(MeshError, match=r"kinematics '3d' does not match the 2D mesh \(which needs 'plane_strain'\)"):
        Assembly(rectangle(1, 1, 2, 2), "3d")
    assert Assembly(rectangle(1, 1, 2, 2), "plane_strain").kinematics == "plane_strain"
    with pytest.raises(FemError, match="material's '3d' vs mesh's 'plane_strain'"):
        check_material(LinearElastic(1.0, 0.3, "3d"), "plane_strain")
    # the way there, in fem's terms: a law of the mesh's kinematics, or a finite-strain law
    with pytest.raises(FemError, match=r"material's 'uniaxial' vs mesh's 'plane_strain' \(a 2D mesh needs a "
                                       r"plane-strain or a finite-strain law \(F in, P out\): fit or choose one"):
        check_material(NonlinearBar(), "plane_strain")
    with pytest.raises(FemError, match=r"\(a 1D mesh needs a uniaxial law \(nominal stress vs du/dX"):
        check_material(LinearElastic(1.0, 0.3, "3d"), "uniaxial")
    with pytest.raises(FemError, match="missing"):
        check_material(object(), "3d")
    check_material(NonlinearBar(), "uniaxial")


# -- classical materials ------------------------------------------------------------------------
def test_linear_elastic_matches_lame_and_energy_gradient(rng):
    E, nu = 210e9, 0.3
    lam, mu = E * nu / ((1 + nu) * (1 - 2 * nu)), E / (2 * (1 + nu))
    ps = LinearElastic(E, nu, "plane_strain").stiffness_bound()
    np.testing.assert_allclose(ps.numpy(), [[lam + 2 * mu, lam, 0], [lam, lam + 2 * mu, 0], [0, 0, 2 * mu]], rtol=1e-14)
    assert float(LinearElastic(E, nu, "uniaxial").stress(torch.tensor([1e-3]))) == pytest.approx(E * 1e-3)
    mat = LinearElastic(E, nu, "3d")
    # tensor form σ = λ tr(ε) I + 2μ ε
    eps_t = rng.normal(size=(3, 3))
    eps_t = torch.as_tensor(eps_t + eps_t.T)
    sig_t = lam * torch.trace(eps_t) * torch.eye(3) + 2 * mu * eps_t
    np.testing.assert_allclose(mat.stress(mandel.from_tensor(eps_t, "3d")).numpy(),
                               mandel.from_tensor(sig_t, "3d").numpy(), rtol=1e-12)
    e = torch.as_tensor(rng.normal(size=(5, 6)), dtype=torch.float64).requires_grad_()
    (g,) = torch.autograd.grad(mat.energy(e).sum(), e)
    torch.testing.assert_close(g, mat.stress(e).detach())
    with pytest.raises(FemError, match="Poisson's ratio nu must lie in"):
        LinearElastic(1.0, 0.5, "3d")
    with pytest.raises(ValueError, match="kinematics must be one of"):
        LinearElastic(1.0, 0.3, "2d")


def test_nonlinear_bar_energy_tangent_and_bound():
    for e1, e2 in ((1.0, 3.0), (2.0, 0.5)):
        mat = NonlinearBar(e1, e2, 0.05)
        e = torch.linspace(-1.0, 1.0, 401, dtype=torch.float64)[:, None].requires_grad_()
        s = mat.stress(e)
        (ds,) = torch.autograd.grad(s.sum(), e)
        (de,) = torch.autograd.grad(mat.energy(e).sum(), e)
        torch.testing.assert_close(de, s.detach())
        torch.testing.assert_close(ds, mat.tangent(e).detach())
        bound = float(mat.stiffness_bound())
        assert float(ds.max()) <= bound and float(ds.max()) > 0.999 * bound  # the bound is the supremum
        assert float(ds.min()) >= min(e1, e2) - 1e-15
    assert float(NonlinearBar().stress(torch.zeros(1))) == 0.0
    assert float(NonlinearBar().energy(torch.tensor([[1e3]]))) > 0  # no overflow in log cosh


def test_public_names_exported():
    for name in ("Mesh", "bar", "rectangle", "box", "distort", "Assembly", "element_for",
                 "LinearElastic", "NonlinearBar", "check_material"):
        assert name in fem.__all__ and hasattr(fem, name)
