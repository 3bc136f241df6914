"""Structured meshes made in memory: :func:`bar`, :func:`rectangle`, :func:`box`, and :func:`distort`.

Each generator names its boundary sets (node and facet sets ``left``, ``right``, ``bottom``, ``top``,
and in 3D ``front``, ``back``), checks its arguments (positive finite lengths, whole counts >= 1) and
the run limits (:func:`fem.core.limits.check_mesh_size`) before it allocates anything.
"""
from __future__ import annotations

import math
import numbers

import numpy as np

from fem.core.errors import MeshError
from fem.core.limits import check_mesh_size
from fem.discretisation.elements import element_for
from fem.discretisation.mesh import Mesh

__all__ = ["bar", "rectangle", "box", "distort"]


def _sets_from_selectors(mesh: Mesh, selectors: dict[str, str]) -> Mesh:
    for name, sel in selectors.items():
        mesh.node_sets[name] = mesh.nodes(sel)
        mesh.facet_sets[name] = mesh.facets(sel)
    return mesh


def _count(what: str, name: str, value) -> int:
    """A whole number of elements >= 1 (an integral float such as 4.0 is accepted; 2.7 is not)."""
    ok = isinstance(value, numbers.Integral) and not isinstance(value, bool)
    if not ok and isinstance(value, numbers.Real) and not isinstance(value, bool):
        ok = math.isfinite(value) and float(value).is_integer()
    if not ok or value < 1:
        raise MeshError(f"{what}: {name} must be a whole number of elements >= 1, got {value!r}")
    return int(value)


def _length(what: str, name: str, value) -> float:
    """A positive finite length (m)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not (value > 0 and math.isfinite(value)):
        raise MeshError(f"{what}: {name} must be a positive finite length (m), got {value!r}")
    return float(value)


def _generate(what: str, build):
    try:
        return build()
    except MemoryError:
        raise MeshError(f"{what}: not enough memory to generate this mesh; use fewer elements") from None


def bar(length: float, n_elements: int, *, origin: float = 0.0) -> Mesh:
    """A 1D mesh of ``n_elements`` equal 2-node bars on [origin, origin + length]; sets left, right.

    MeshError for a length that is not positive and finite, a count that is not a whole number >= 1,
    and more cells than :data:`fem.core.limits.MAX_CELLS`.
    """
    what = "bar"
    length, n_elements = _length(what, "length", length), _count(what, "n_elements", n_elements)
    if isinstance(origin, bool) or not isinstance(origin, numbers.Real) or not math.isfinite(origin):
        raise MeshError(f"bar: origin must be a finite number (m), got {origin!r}")
    check_mesh_size(n_elements, n_elements + 1, f"bar with n_elements = {n_elements}")
    return _generate(what, lambda: _bar(length, n_elements, origin))


def _bar(length: float, n_elements: int, origin: float) -> Mesh:
    x = origin + np.linspace(0.0, length, n_elements + 1)
    cells = np.stack([np.arange(n_elements), np.arange(1, n_elements + 1)], axis=1)
    return Mesh(x[:, None], cells, "line", node_sets={"left": [0], "right": [n_elements]},
                facet_sets={"left": [[0]], "right": [[n_elements]]})


def rectangle(lx: float, ly: float, nx: int, ny: int, *, cell: str = "triangle") -> Mesh:
    """[0, lx] × [0, ly] with nx × ny squares, each one quad or two triangles (alternating diagonals).

    Sets (node and facet): left (x=0), right (x=lx), bottom (y=0), top (y=ly). MeshError for lengths
    that are not positive and finite, counts that are not whole numbers >= 1, and more cells than
    :data:`fem.core.limits.MAX_CELLS`.
    """
    if cell not in ("triangle", "quad"):
        raise MeshError(f"rectangle cell must be 'triangle' or 'quad', got {cell!r}")
    what = "rectangle"
    lx, ly = _length(what, "lx", lx), _length(what, "ly", ly)
    nx, ny = _count(what, "nx", nx), _count(what, "ny", ny)
    n_cells = nx * ny * (2 if cell == "triangle" else 1)
    check_mesh_size(n_cells, (nx + 1) * (ny + 1), f"rectangle with nx = {nx}, ny = {ny} ({cell})")
    return _generate(what, lambda: _rectangle(lx, ly, nx, ny, cell))


def _rectangle(lx: float, ly: float, nx: int, ny: int, cell: str) -> Mesh:
    x, y = np.meshgrid(np.linspace(0, lx, nx + 1), np.linspace(0, ly, ny + 1), indexing="xy")
    pts = np.stack([x.ravel(), y.ravel()], axis=1)
    i, j = np.meshgrid(np.arange(nx), np.arange(ny), indexing="xy")
    n0 = (j * (nx + 1) + i).ravel()
    q = np.stack([n0, n0 + 1, n0 + nx + 2, n0 + nx + 1], axis=1)  # counter-clockwise
    if cell == "quad":
        cells = q
    else:
        flip = ((i + j) % 2 == 1).ravel()  # alternate the diagonal: a less biased mesh
        t1 = np.where(flip[:, None], q[:, [0, 1, 3]], q[:, [0, 1, 2]])
        t2 = np.where(flip[:, None], q[:, [1, 2, 3]], q[:, [0, 2, 3]])
        cells = np.stack([t1, t2], axis=1).reshape(-1, 3)
    mesh = Mesh(pts, cells, cell)
    return _sets_from_selectors(mesh, {"left": "x == 0", "right": f"x == {lx!r}",
                                       "bottom": "y == 0", "top": f"y == {ly!r}"})


# Kuhn split of the unit cube (hex node ids 0..7, meshio order) into 6 tets sharing the 0–6 diagonal.
# Every cube uses the same split, so neighbouring cubes agree on their shared face diagonals.
_KUHN = np.array([[0, 1, 2, 6], [0, 2, 3, 6], [0, 3, 7, 6], [0, 7, 4, 6], [0, 4, 5, 6], [0, 5, 1, 6]])


def box(lx: float, ly: float, lz: float, nx: int, ny: int, nz: int, *, cell: str = "hexahedron") -> Mesh:
    """[0, lx] × [0, ly] × [0, lz] with nx × ny × nz bricks, each a hexahedron or 6 tetrahedra.

    The tet split is the Kuhn split along each brick's (0,0,0)–(1,1,1) diagonal (conforming between
    bricks); every tet is positively oriented. Sets (node and facet): left/right (x), bottom/top (y),
    front (z = 0), back (z = lz). MeshError for lengths that are not positive and finite, counts that
    are not whole numbers >= 1, and more cells than :data:`fem.core.limits.MAX_CELLS`.
    """
    if cell not in ("tetra", "hexahedron"):
        raise MeshError(f"box cell must be 'tetra' or 'hexahedron', got {cell!r}")
    what = "box"
    lx, ly, lz = _length(what, "lx", lx), _length(what, "ly", ly), _length(what, "lz", lz)
    nx, ny, nz = _count(what, "nx", nx), _count(what, "ny", ny), _count(what, "nz", nz)
    n_cells = nx * ny * nz * (6 if cell == "tetra" else 1)
    check_mesh_size(n_cells, (nx + 1) * (ny + 1) * (nz + 1), f"box with nx = {nx}, ny = {ny}, nz = {nz} ({cell})")
    return _generate(what, lambda: _box(lx, ly, lz, nx, ny, nz, cell))


def _box(lx: float, ly: float, lz: float, nx: int, ny: int, nz: int, cell: str) -> Mesh:
    xs = [np.linspace(0, length, n + 1) for length, n in ((lx, nx), (ly, ny), (lz, nz))]
    z, y, x = np.meshgrid(xs[2], xs[1], xs[0], indexing="ij")
    pts = np.stack([x.ravel(), y.ravel(), z.ravel()], axis=1)
    k, j, i = np.meshgrid(np.arange(nz), np.arange(ny), np.arange(nx), indexing="ij")
    sx, sy = 1, nx + 1
    sz = (nx + 1) * (ny + 1)
    n0 = (k * sz + j * sy + i * sx).ravel()
    off = np.array([0, sx, sx + sy, sy, sz, sz + sx, sz + sx + sy, sz + sy])
    hexes = n0[:, None] + off[None, :]
    if cell == "hexahedron":
        cells = hexes
    else:
        cells = hexes[:, _KUHN].reshape(-1, 4)
        cells = _orient_tets(pts, cells)
    mesh = Mesh(pts, cells, cell)
    return _sets_from_selectors(mesh, {"left": "x == 0", "right": f"x == {lx!r}", "bottom": "y == 0",
                                       "top": f"y == {ly!r}", "front": "z == 0", "back": f"z == {lz!r}"})


def _orient_tets(pts: np.ndarray, cells: np.ndarray) -> np.ndarray:
    """Swap two nodes of every negatively oriented tet so all have det J > 0."""
    x = pts[cells]
    det = np.linalg.det(np.stack([x[:, 1] - x[:, 0], x[:, 2] - x[:, 0], x[:, 3] - x[:, 0]], axis=2))
    cells = cells.copy()
    neg = det < 0
    cells[neg] = cells[neg][:, [0, 2, 1, 3]]
    return cells


def distort(mesh: Mesh, amount: float, *, seed: int = 0) -> Mesh:
    """A copy with every interior node moved by a random vector of length ≤ ``amount × h``.

    ``h`` is the shortest cell edge at the node; boundary nodes stay, so the domain and all
    boundary sets are unchanged. ``amount`` ≤ 0.2 keeps cells of a structured mesh valid.
    """
    rng = np.random.default_rng(seed)
    el = element_for(mesh.cell_type)
    # shortest edge per node from all node pairs within a cell (diagonals included: conservative)
    a, b = np.triu_indices(el.n_nodes, 1)
    ea, eb = mesh.cells[:, a].ravel(), mesh.cells[:, b].ravel()
    length = np.linalg.norm(mesh.points[ea] - mesh.points[eb], axis=1)
    h = np.full(mesh.n_points, np.inf)
    np.minimum.at(h, ea, length)
    np.minimum.at(h, eb, length)
    interior = np.ones(mesh.n_points, dtype=bool)
    interior[mesh.boundary_facets().ravel()] = False
    d = rng.uniform(-1.0, 1.0, size=mesh.points.shape)
    d /= np.maximum(1.0, np.linalg.norm(d, axis=1, keepdims=True))  # inside the unit ball
    pts = mesh.points + np.where(interior[:, None], amount * h[:, None] * d, 0.0)
    return Mesh(pts, mesh.cells.copy(), mesh.cell_type, node_sets={k: v.copy() for k, v in mesh.node_sets.items()},
                cell_sets={k: v.copy() for k, v in mesh.cell_sets.items()},
                facet_sets={k: v.copy() for k, v in mesh.facet_sets.items()})
