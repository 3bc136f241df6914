"""The faster per-step and per-row paths below the solver loop give the results of the paths they replace.

- ``Assembly.displacement_gradient`` (one sparse product with B₀) equals the gather + batched-matmul
  reference ``displacement_gradient_dense`` to rounding, in Mandel and gradient mode, 1D to 3D;
- ``Assembly.inverted_cells`` finds exactly the cells with det(I + H) ≤ 0 (or NaN) at some point;
- ``StretchDomain.contains`` (closed form, in place) equals the eigenvalue definition of the domain;
- ``Assembly.internal_force`` with the weights folded into Bᵀ equals ``Bᵀ(w·σ)`` and the dense path.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

import fem
from fem.core.kinematics import principal_stretches
from fem.materials.hyperelastic import StretchDomain

MESHES = {
    "bar": lambda: fem.bar(1.0, 7),
    "triangle": lambda: fem.distort(fem.rectangle(1.0, 0.7, 6, 5, cell="triangle"), 0.2),
    "quad": lambda: fem.distort(fem.rectangle(1.0, 0.7, 6, 5, cell="quad"), 0.2),
    "tetra": lambda: fem.distort(fem.box(1.0, 0.8, 0.9, 3, 3, 4, cell="tetra"), 0.15),
    "hexahedron": lambda: fem.distort(fem.box(1.0, 0.8, 0.9, 3, 3, 2, cell="hexahedron"), 0.15),
}


def _u(a, scale=0.05, seed=3):
    return scale * torch.randn(a.n_dofs, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("cell, mode", [(c, m) for c in MESHES for m in ("mandel", "gradient")
                                         if not (c == "bar" and m == "gradient")])
def test_sparse_displacement_gradient_equals_the_dense_reference(cell, mode):
    mesh = MESHES[cell]()
    a = fem.Assembly(mesh, mode=mode)
    u = _u(a)
    h, ref = a.displacement_gradient(u), a.displacement_gradient_dense(u)
    assert h.shape == ref.shape == (a.n_cells, a.nq, a.dim, a.dim)
    assert float((h - ref).abs().max()) <= 1e-12 * float(ref.abs().max())


@pytest.mark.parametrize("cell", ["triangle", "quad", "tetra", "hexahedron"])
def test_inverted_cells_are_exactly_those_with_a_non_positive_or_nan_volume_ratio(cell):
    a = fem.Assembly(MESHES[cell]())
    u = _u(a, scale=0.0)
    assert a.inverted_cells(u).size == 0
    # push the nodes of a few cells through each other: a large random field inverts some cells
    u = _u(a, scale=0.6, seed=11)
    ref = a.displacement_gradient_dense(u)
    eye = torch.eye(a.dim, dtype=torch.float64)
    det = torch.linalg.det(ref + eye)
    want = np.flatnonzero((~(det > 0)).any(dim=1).numpy())
    assert want.size > 0
    assert np.array_equal(a.inverted_cells(u), want)
    u[0] = float("nan")             # NaN in a cell's gradient counts as inverted
    assert len(a.inverted_cells(u)) >= len(want)


@pytest.mark.parametrize("d", [2, 3])
def test_domain_membership_equals_the_eigenvalue_definition(d):
    dom = StretchDomain(0.6, 1.6, 0.8, 1.25)
    gen = torch.Generator().manual_seed(5)
    F = torch.eye(d, dtype=torch.float64) + 0.35 * torch.randn(4000, d, d, dtype=torch.float64, generator=gen)
    lam = principal_stretches(F)
    J = torch.linalg.det(F)
    want = (lam[..., 0] >= dom.lam_lo) & (lam[..., -1] <= dom.lam_hi) & (J >= dom.J_lo) & (J <= dom.J_hi)
    got = dom.contains(F.reshape(1000, 4, d, d)).reshape(-1)
    assert 0 < int(want.sum()) < want.numel()
    # the two may differ only where a stretch or J lies within rounding of a bound
    edge = ((lam[..., 0] - dom.lam_lo).abs() < 1e-12) | ((lam[..., -1] - dom.lam_hi).abs() < 1e-12) \
        | ((J - dom.J_lo).abs() < 1e-12) | ((J - dom.J_hi).abs() < 1e-12)
    assert torch.equal(got[~edge], want[~edge])


@pytest.mark.parametrize("cell", list(MESHES))
def test_internal_force_with_weights_in_bt_equals_the_dense_path(cell):
    mesh = MESHES[cell]()
    mode = "gradient" if mesh.dim > 1 else "mandel"
    a = fem.Assembly(mesh, mode=mode, thickness=0.3)
    sig = torch.randn(a.n_cells, a.nq, a.n_strain, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    f, ref = a.internal_force(sig), a.internal_force_dense(sig)
    assert float((f - ref).abs().max()) <= 1e-12 * float(ref.abs().max())
    plain = a.Bt @ (sig * a.qp_weights[..., None]).reshape(-1)       # Bᵀ without the weights, made on demand
    assert float((plain - f).abs().max()) <= 1e-12 * float(ref.abs().max())
    assert a.Bt.shape == (a.n_dofs, a.B.shape[0])


@pytest.mark.parametrize("cell", ["quad", "tetra"])
def test_finite_strain_cell_fields_equal_the_tensor_formulas(cell):
    from fem.discretisation.forces import InternalForce, symmetric_components

    law = fem.NeoHookean(1.0, nu=0.3)
    a = fem.Assembly.for_material(MESHES[cell](), law)
    forces = InternalForce(a, law)
    u = _u(a, scale=0.03, seed=1)
    got = forces.cell_fields(u)
    d = a.dim
    eye = torch.eye(d, dtype=torch.float64)
    F = a.strain(u).reshape(a.n_cells, a.nq, d, d) + eye
    P = law.stress(F)
    J = torch.linalg.det(F)
    green = 0.5 * (F.transpose(-1, -2) @ F - eye)
    cauchy = P @ F.transpose(-1, -2) / J[..., None, None]
    want = {"green_lagrange_strain": symmetric_components(green.mean(dim=1)),
            "cauchy_stress": symmetric_components(cauchy.mean(dim=1)), "volume_ratio": J.mean(dim=1).numpy()}
    for k, v in want.items():
        assert got[k].shape == v.shape
        assert np.abs(got[k] - v).max() <= 1e-12 * np.abs(v).max(), k
