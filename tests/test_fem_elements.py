"""Reference elements: nodality, partition of unity, gradients, quadrature exactness."""
from math import factorial

import numpy as np
import pytest

from fem.discretisation.elements import SUPPORTED_CELL_TYPES, element_for
from fem.core.errors import MeshError

ELEMENTS = [element_for(t) for t in SUPPORTED_CELL_TYPES]


def _random_points(el, rng, m=7):
    """(m, dim) points inside the reference cell."""
    if el.cell_type in ("triangle", "tetra"):
        x = rng.dirichlet(np.ones(el.dim + 1), size=m)[:, 1:]
    else:
        x = rng.uniform(-1, 1, size=(m, el.dim))
    return x


def _exact_monomial(el, powers):
    """∫ Π x_j^p_j over the reference cell."""
    if el.cell_type in ("triangle", "tetra"):  # ∫_simplex Π x^a = Π a! / (Σa + d)!
        return np.prod([factorial(p) for p in powers]) / factorial(sum(powers) + el.dim)
    return np.prod([0.0 if p % 2 else 2.0 / (p + 1) for p in powers])


def _monomials(dim, degree):
    grids = np.meshgrid(*([np.arange(degree + 1)] * dim), indexing="ij")
    powers = np.stack([g.ravel() for g in grids], axis=1)
    return powers[powers.sum(axis=1) <= degree]


@pytest.mark.parametrize("el", ELEMENTS, ids=SUPPORTED_CELL_TYPES)
def test_nodality_and_partition_of_unity(el, rng):
    np.testing.assert_allclose(el.shape(el.nodes), np.eye(el.n_nodes), atol=1e-15)
    x = _random_points(el, rng)
    np.testing.assert_allclose(el.shape(x).sum(axis=1), 1.0, atol=1e-14)
    np.testing.assert_allclose(el.grad(x).sum(axis=1), 0.0, atol=1e-14)
    # linear completeness: Σ N_a X_a = ξ
    np.testing.assert_allclose(el.shape(x) @ el.nodes, x, atol=1e-14)


@pytest.mark.parametrize("el", ELEMENTS, ids=SUPPORTED_CELL_TYPES)
def test_gradients_match_finite_differences(el, rng):
    x = _random_points(el, rng)
    h = 1e-6
    fd = np.stack([(el.shape(x + h * e) - el.shape(x - h * e)) / (2 * h) for e in np.eye(el.dim)], axis=2)
    np.testing.assert_allclose(el.grad(x), fd, atol=1e-9)


@pytest.mark.parametrize("el", ELEMENTS, ids=SUPPORTED_CELL_TYPES)
def test_quadrature_exact_to_declared_degree(el):
    for rule, degree in (((el.points, el.weights), el.degree), ((el.mass_points, el.mass_weights), None)):
        pts, wts = rule
        deg = degree if degree is not None else {"line": 3, "triangle": 2, "quad": 3, "tetra": 2, "hexahedron": 5}[el.cell_type]
        for p in _monomials(el.dim, deg):
            approx = wts @ np.prod(pts ** p[None, :], axis=1)
            assert approx == pytest.approx(_exact_monomial(el, p), abs=1e-14), (el.cell_type, p)


def test_mass_rule_integrates_products_of_shape_functions_exactly():
    """N_a N_b is degree 2 per direction on quad/hex: the mass rule must be exact, the 1-point rule is not."""
    for t in ("quad", "hexahedron"):
        el = element_for(t)
        hi_x, hi_w = np.polynomial.legendre.leggauss(6)
        grid = np.stack(np.meshgrid(*([hi_x] * el.dim), indexing="ij"), -1).reshape(-1, el.dim)
        w = np.prod(np.stack(np.meshgrid(*([hi_w] * el.dim), indexing="ij"), -1).reshape(-1, el.dim), axis=1)
        n_hi = el.shape(grid)
        exact = np.einsum("q,qa,qb->ab", w, n_hi, n_hi)
        n = el.shape(el.mass_points)
        np.testing.assert_allclose(np.einsum("q,qa,qb->ab", el.mass_weights, n, n), exact, atol=1e-15)


def test_quad_rule_is_not_exact_beyond_its_degree():
    """The exactness test above can fail: 2x2 Gauss misses ∫ x⁴."""
    el = element_for("quad")
    approx = el.weights @ el.points[:, 0] ** 4
    assert abs(approx - _exact_monomial(el, [4, 0])) > 0.1


@pytest.mark.parametrize("el", ELEMENTS, ids=SUPPORTED_CELL_TYPES)
def test_facets_are_outward(el):
    """Facet normals (2D: (dy, -dx); 3D: right-hand rule) point away from the reference centroid."""
    c = el.nodes.mean(axis=0)
    for f in el.facets:
        x = el.nodes[f]
        if el.dim == 1:
            normal = x[0] - c
        elif el.dim == 2:
            d = x[1] - x[0]
            normal = np.array([d[1], -d[0]])
        else:
            normal = np.cross(x[1] - x[0], x[2] - x[0])
        assert normal @ (x.mean(axis=0) - c) > 0


def test_element_for_unknown_type_names_supported():
    with pytest.raises(MeshError, match="unsupported cell type 'wedge'.*triangle.*hexahedron"):
        element_for("wedge")


def test_elements_are_frozen():
    el = element_for("triangle")
    with pytest.raises(Exception):
        el.dim = 3
    with pytest.raises(ValueError):
        el.points[0, 0] = 1.0
