"""Reference elements: shape functions, their gradients, quadrature rules and facets.

One small frozen :class:`Element` per supported cell type (meshio names and node orderings):

==========  =====  ===============================  ============  ===============  ==========
cell_type   nodes  reference domain                 stiffness qp  mass qp (exact)  facet_type
==========  =====  ===============================  ============  ===============  ==========
line        2      [-1, 1]                          1 Gauss       2 Gauss          vertex
triangle    3      (0,0) (1,0) (0,1)                1 centroid    3 (degree 2)     line
quad        4      [-1, 1]²                         2×2 Gauss     2×2 Gauss        line
tetra       4      (0,0,0) (1,0,0) (0,1,0) (0,0,1)  1 centroid    4 (degree 2)     triangle
hexahedron  8      [-1, 1]³                         2×2×2 Gauss   3×3×3 Gauss      quad
==========  =====  ===============================  ============  ===============  ==========

The stiffness rule integrates ``Bᵀ C B |J|`` exactly for the simplices and the line, and is the usual
full-integration rule for the quad and hex. The mass rule integrates ``N_a N_b |J|`` exactly on any
(also distorted) element, so the consistent mass — and hence its row sums, the lumped mass — is exact.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from fem.core.errors import MeshError

__all__ = ["Element", "element_for", "SUPPORTED_CELL_TYPES"]


@dataclass(frozen=True, eq=False)
class Element:
    """A reference element. Arrays are read-only; shapes use ``nn`` nodes, ``nq`` points, ``dim``.

    Attributes
    ----------
    cell_type : meshio cell type name.
    dim : reference (and spatial) dimension.
    n_nodes : nodes per cell ``nn``.
    nodes : (nn, dim) reference coordinates of the nodes (``shape(nodes)`` is the identity).
    points, weights : (nq, dim), (nq,) quadrature for the stiffness/internal force.
    mass_points, mass_weights : a rule exact for ``N_a N_b |J|`` (consistent mass).
    facet_type : meshio type of the facets (``"vertex"`` for the line).
    facets : (n_facets, nodes_per_facet) local node ids of each facet, ordered so that the facet
        normal (right-hand rule in 3D, (dy, -dx) in 2D) points out of the cell.
    degree : the total polynomial degree ``points/weights`` integrate exactly on the reference cell.
    """

    cell_type: str
    dim: int
    n_nodes: int
    nodes: np.ndarray
    points: np.ndarray
    weights: np.ndarray
    mass_points: np.ndarray
    mass_weights: np.ndarray
    facet_type: str | None
    facets: np.ndarray
    degree: int
    _shape: Callable[[np.ndarray], np.ndarray] = field(repr=False)
    _grad: Callable[[np.ndarray], np.ndarray] = field(repr=False)

    def shape(self, xi) -> np.ndarray:
        """Shape functions at reference points: (m, dim) -> (m, nn)."""
        return self._shape(self._points(xi))

    def grad(self, xi) -> np.ndarray:
        """Reference gradients ``dN_a/dξ_j``: (m, dim) -> (m, nn, dim)."""
        return self._grad(self._points(xi))

    @property
    def nq(self) -> int:
        """Number of stiffness quadrature points."""
        return len(self.weights)

    def _points(self, xi) -> np.ndarray:
        x = np.asarray(xi, dtype=np.float64)
        if x.ndim == 1 and self.dim == 1:
            x = x[:, None]
        if x.ndim != 2 or x.shape[1] != self.dim:
            raise ValueError(f"{self.cell_type}: reference points must be (m, {self.dim}), got {x.shape}")
        return x


# ---------------------------------------------------------------------------------------------
# quadrature
def _gauss(n: int) -> tuple[np.ndarray, np.ndarray]:
    return np.polynomial.legendre.leggauss(n)


def _tensor_gauss(n: int, dim: int) -> tuple[np.ndarray, np.ndarray]:
    """n^dim Gauss–Legendre points on [-1, 1]^dim; the first coordinate varies fastest."""
    x, w = _gauss(n)
    grids = np.meshgrid(*([x] * dim), indexing="ij")
    wgrids = np.meshgrid(*([w] * dim), indexing="ij")
    pts = np.stack([g.T.ravel() for g in grids], axis=1) if dim > 1 else x[:, None]
    wts = np.prod(np.stack([g.T.ravel() for g in wgrids], axis=1), axis=1) if dim > 1 else w
    return pts, wts


_TRI3_A, _TRI3_B = 1.0 / 6.0, 2.0 / 3.0
_TET4_A, _TET4_B = 0.5854101966249685, 0.1381966011250105


# ---------------------------------------------------------------------------------------------
# shape functions
def _line_shape(x):
    s = x[:, 0]
    return np.stack([(1 - s) / 2, (1 + s) / 2], axis=1)


def _line_grad(x):
    g = np.empty((len(x), 2, 1))
    g[:, 0, 0], g[:, 1, 0] = -0.5, 0.5
    return g


def _simplex_shape(x):
    return np.concatenate([1.0 - x.sum(axis=1, keepdims=True), x], axis=1)


def _simplex_grad(x):
    d = x.shape[1]
    g = np.concatenate([-np.ones((1, d)), np.eye(d)], axis=0)  # (d+1, d)
    return np.broadcast_to(g, (len(x), d + 1, d)).copy()


_QUAD_NODES = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]], dtype=np.float64)
_HEX_NODES = np.array([[-1, -1, -1], [1, -1, -1], [1, 1, -1], [-1, 1, -1],
                       [-1, -1, 1], [1, -1, 1], [1, 1, 1], [-1, 1, 1]], dtype=np.float64)


def _tensor_shape(nodes):
    def shape(x):  # N_a = Π_j (1 + ξ_j ξ_aj) / 2
        return np.prod((1.0 + x[:, None, :] * nodes[None, :, :]) / 2.0, axis=2)
    return shape


def _tensor_grad(nodes):
    def grad(x):
        f = (1.0 + x[:, None, :] * nodes[None, :, :]) / 2.0  # (m, nn, dim)
        d = nodes[None, :, :] / 2.0
        out = np.empty_like(f)
        for j in range(nodes.shape[1]):
            others = np.prod(np.delete(f, j, axis=2), axis=2)
            out[:, :, j] = d[:, :, j] * others
        return out
    return grad


def _ro(a) -> np.ndarray:
    a = np.array(a, dtype=np.float64 if np.asarray(a).dtype.kind == "f" else np.int64)
    a.flags.writeable = False
    return a


def _make(cell_type, dim, nodes, rule, mass_rule, facet_type, facets, degree, shape, grad) -> Element:
    return Element(cell_type=cell_type, dim=dim, n_nodes=len(nodes), nodes=_ro(nodes),
                   points=_ro(rule[0]), weights=_ro(rule[1]), mass_points=_ro(mass_rule[0]),
                   mass_weights=_ro(mass_rule[1]), facet_type=facet_type,
                   facets=_ro(np.asarray(facets, dtype=np.int64)), degree=degree, _shape=shape, _grad=grad)


def _build() -> dict[str, Element]:
    g1 = (np.zeros((1, 1)), np.array([2.0]))
    line = _make("line", 1, [[-1.0], [1.0]], g1, _tensor_gauss(2, 1), "vertex", [[0], [1]], 1,
                 _line_shape, _line_grad)
    tri_nodes = [[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]]
    tri = _make("triangle", 2, tri_nodes, (np.full((1, 2), 1.0 / 3.0), np.array([0.5])),
                (np.array([[_TRI3_A, _TRI3_A], [_TRI3_B, _TRI3_A], [_TRI3_A, _TRI3_B]]), np.full(3, 1.0 / 6.0)),
                "line", [[0, 1], [1, 2], [2, 0]], 1, _simplex_shape, _simplex_grad)
    quad = _make("quad", 2, _QUAD_NODES, _tensor_gauss(2, 2), _tensor_gauss(2, 2), "line",
                 [[0, 1], [1, 2], [2, 3], [3, 0]], 3, _tensor_shape(_QUAD_NODES), _tensor_grad(_QUAD_NODES))
    a, b = _TET4_A, _TET4_B
    tet_nodes = [[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]
    tet = _make("tetra", 3, tet_nodes, (np.full((1, 3), 0.25), np.array([1.0 / 6.0])),
                (np.array([[a, b, b], [b, a, b], [b, b, a], [b, b, b]]), np.full(4, 1.0 / 24.0)),
                "triangle", [[0, 2, 1], [0, 1, 3], [0, 3, 2], [1, 2, 3]], 1, _simplex_shape, _simplex_grad)
    hexa = _make("hexahedron", 3, _HEX_NODES, _tensor_gauss(2, 3), _tensor_gauss(3, 3), "quad",
                 [[0, 3, 2, 1], [0, 1, 5, 4], [1, 2, 6, 5], [2, 3, 7, 6], [3, 0, 4, 7], [4, 5, 6, 7]], 3,
                 _tensor_shape(_HEX_NODES), _tensor_grad(_HEX_NODES))
    return {e.cell_type: e for e in (line, tri, quad, tet, hexa)}


_ELEMENTS = _build()
SUPPORTED_CELL_TYPES = tuple(_ELEMENTS)
#: Topological dimension of every meshio cell type fem may meet while reading a file.
TOPOLOGICAL_DIM = {"vertex": 0, "line": 1, "line3": 1, "triangle": 2, "triangle6": 2, "triangle7": 2,
                   "quad": 2, "quad8": 2, "quad9": 2, "polygon": 2, "tetra": 3, "tetra10": 3,
                   "hexahedron": 3, "hexahedron20": 3, "hexahedron27": 3, "wedge": 3, "wedge15": 3,
                   "pyramid": 3, "pyramid13": 3}


def element_for(cell_type: str) -> Element:
    """The reference :class:`Element` of a meshio cell type; MeshError naming the supported ones."""
    try:
        return _ELEMENTS[cell_type]
    except KeyError:
        raise MeshError(f"unsupported cell type {cell_type!r}; supported: {', '.join(SUPPORTED_CELL_TYPES)}") from None
