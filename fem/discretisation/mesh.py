"""Meshes: points, one type of cells, and named node/cell/facet sets.

A :class:`Mesh` is a plain container of numpy arrays. It is read from any file meshio reads
(:meth:`Mesh.read`: Gmsh physical groups, Abaqus sets and VTU become named sets) or made by the
generators :func:`bar`, :func:`rectangle` and :func:`box`. Nodes and boundary facets are selected by
set name or by a coordinate selector such as ``"x == 0 and y < 1"`` (:meth:`Mesh.nodes`,
:meth:`Mesh.facets`).
"""
from __future__ import annotations

import contextlib
import io
import logging
import math
import numbers
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from fem.discretisation.elements import SUPPORTED_CELL_TYPES, TOPOLOGICAL_DIM, element_for
from fem.core.errors import FemError, MeshError
from fem.core.limits import check_mesh_size

__all__ = ["Mesh", "bar", "rectangle", "box", "distort", "check_orientation"]

log = logging.getLogger(__name__)

NODE_SET_PREFIX, CELL_SET_PREFIX = "node_set:", "cell_set:"
_COORD = {"x": 0, "y": 1, "z": 2}
_CLAUSE = re.compile(r"^\s*([xyz])\s*(==|=|<=|>=|<|>)\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*$")


@dataclass(eq=False)
class Mesh:
    """Points, cells of one supported type and named sets.

    Attributes
    ----------
    points : (n_points, dim) float64, dim 1, 2 or 3 (equal to the cell's dimension).
    cells : (n_cells, nn) int64 node ids, meshio node ordering, positive orientation expected.
    cell_type : ``"line" | "triangle" | "quad" | "tetra" | "hexahedron"``.
    node_sets : name -> (k,) int64 sorted unique node ids.
    cell_sets : name -> (k,) int64 cell ids.
    facet_sets : name -> (k, nodes_per_facet) int64 node ids of boundary facets.
    """

    points: np.ndarray
    cells: np.ndarray
    cell_type: str
    node_sets: dict = field(default_factory=dict)
    cell_sets: dict = field(default_factory=dict)
    facet_sets: dict = field(default_factory=dict)

    def __post_init__(self):
        el = element_for(self.cell_type)
        self.points = np.ascontiguousarray(self.points, dtype=np.float64)
        if self.points.ndim == 1:
            self.points = self.points[:, None]
        self.cells = np.ascontiguousarray(self.cells, dtype=np.int64)
        if self.points.ndim != 2 or self.points.shape[1] != el.dim:
            raise MeshError(f"{self.cell_type} cells need points of shape (n_points, {el.dim}), "
                            f"got {self.points.shape}")
        if self.cells.ndim != 2 or self.cells.shape[1] != el.n_nodes:
            raise MeshError(f"{self.cell_type} cells must be (n_cells, {el.n_nodes}), got {self.cells.shape}")
        if self.cells.size and (self.cells.min() < 0 or self.cells.max() >= len(self.points)):
            raise MeshError(f"cell node ids must lie in [0, {len(self.points) - 1}], "
                            f"got [{self.cells.min()}, {self.cells.max()}]")
        if not np.all(np.isfinite(self.points)):
            i = int(np.flatnonzero(~np.isfinite(self.points).all(axis=1))[0])
            raise MeshError(f"mesh points must be finite numbers; point {i} is {self.points[i].tolist()}")
        self.node_sets = {k: np.unique(np.asarray(v, dtype=np.int64)) for k, v in self.node_sets.items()}
        self.cell_sets = {k: np.asarray(v, dtype=np.int64) for k, v in self.cell_sets.items()}
        self.facet_sets = {k: np.asarray(v, dtype=np.int64).reshape(len(v), -1) for k, v in self.facet_sets.items()}
        self._boundary = None

    # -- sizes ---------------------------------------------------------------------------------
    @property
    def dim(self) -> int:
        """Spatial dimension (1, 2 or 3)."""
        return self.points.shape[1]

    @property
    def n_points(self) -> int:
        return self.points.shape[0]

    @property
    def n_cells(self) -> int:
        return self.cells.shape[0]

    def __repr__(self) -> str:
        return (f"Mesh({self.n_cells} {self.cell_type}, {self.n_points} points, dim={self.dim}, "
                f"node_sets={sorted(self.node_sets)}, facet_sets={sorted(self.facet_sets)}, "
                f"cell_sets={sorted(self.cell_sets)})")

    # -- I/O -----------------------------------------------------------------------------------
    @classmethod
    def read(cls, path) -> "Mesh":
        """Read any file meshio reads. See :func:`from_meshio` for how sets are made."""
        import meshio

        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(f"mesh file not found: {path}")
        if not path.is_file():   # a folder, FIFO or device: reading it would fail or block
            raise MeshError(f"cannot read mesh {path}: it is not a regular file; expected a mesh file")
        # meshio prints each failed format guess to stdout (a blank line for .msh: it tries ANSYS
        # first), and when no format fits an "Error: ..." line to stderr and calls sys.exit(1);
        # keep all of it out of the caller's output and raise a MeshError instead
        said = io.StringIO()
        try:
            with contextlib.redirect_stdout(said), contextlib.redirect_stderr(said):
                m = meshio.read(path)
        except (Exception, SystemExit) as exc:  # meshio raises many types; say which file and why
            why = str(exc) if not isinstance(exc, SystemExit) else (  # meshio's console wraps lines
                " ".join(said.getvalue().split()).removeprefix("Error: ") or "no reader accepts it")
            raise MeshError(f"cannot read mesh {path}: {why}; expected a mesh file meshio reads "
                            f"(.msh, .vtu, .xdmf, .inp, ...) with intact cells and points") from None
        told = " ".join(said.getvalue().split())
        if "cannot handle" in told:   # meshio drops cells of unknown types with only a printed warning
            raise MeshError(f"cannot read mesh {path}: {told.removeprefix('Warning: ').rstrip('.')}; expected only cells of "
                            f"known types (a corrupt cell-type array?); refusing to drop cells silently")
        if told:
            log.debug("meshio while reading %s: %s", path, told)
        mesh = from_meshio(m, source=str(path))
        check_orientation(mesh, source=str(path))
        return mesh

    def to_meshio(self, *, sets: bool = True):
        """A meshio.Mesh with the cells and 3 coordinates per point.

        With ``sets=True`` every node set becomes a uint8 point-data mask ``node_set:NAME`` and every
        cell set a cell-data mask ``cell_set:NAME`` (VTU/XDMF cannot store meshio point/cell sets;
        :meth:`read` turns these masks back into sets, so a VTU round trip keeps them). Facet sets
        are not stored: :meth:`facets` rebuilds them from the node set of the same name.
        """
        import meshio

        pts = np.zeros((self.n_points, 3))
        pts[:, : self.dim] = self.points
        point_data, cell_data = {}, {}
        if sets:
            for name, ids in self.node_sets.items():
                mask = np.zeros(self.n_points, dtype=np.uint8)
                mask[ids] = 1
                point_data[f"{NODE_SET_PREFIX}{name}"] = mask
            for name, ids in self.cell_sets.items():
                mask = np.zeros(self.n_cells, dtype=np.uint8)
                mask[ids] = 1
                cell_data[f"{CELL_SET_PREFIX}{name}"] = [mask]
        return meshio.Mesh(pts, [(self.cell_type, self.cells)], point_data=point_data, cell_data=cell_data)

    # -- selection -----------------------------------------------------------------------------
    def nodes(self, where: str, tol: float = 1e-9) -> np.ndarray:
        """(k,) int64 sorted node ids: a node set name, ``"all"``, or a coordinate selector.

        A selector is clauses ``<x|y|z> <op> <number>`` with op in ``== < <= > >=`` joined by
        ``and`` / ``or`` (``and`` binds tighter). Comparisons use the tolerance ``tol × size`` where
        size is the largest bounding-box extent of the mesh (so ``"x == 0"`` finds nodes within
        ``1e-9·size`` of the plane, ``"x < 1"`` excludes nodes at ``x = 1``). Unknown names raise
        MeshError listing the known sets.
        """
        if where in self.node_sets:
            return self.node_sets[where]
        return np.flatnonzero(self._select(where, tol))

    def facets(self, where: str, tol: float = 1e-9) -> np.ndarray:
        """(k, nodes_per_facet) int64 boundary facets: a facet set name, or the boundary facets whose
        nodes all belong to a node set / match a selector (see :meth:`nodes`)."""
        if where in self.facet_sets:
            return self.facet_sets[where]
        if where in self.node_sets:
            mask = np.zeros(self.n_points, dtype=bool)
            mask[self.node_sets[where]] = True
        else:
            mask = self._select(where, tol)
        b = self.boundary_facets()
        return b[mask[b].all(axis=1)]

    def boundary_facets(self) -> np.ndarray:
        """(k, nodes_per_facet) int64 facets that belong to exactly one cell, outward oriented."""
        if self._boundary is None:
            el = element_for(self.cell_type)
            f = self.cells[:, el.facets].reshape(-1, el.facets.shape[1])
            key = np.sort(f, axis=1)
            _, inv, counts = np.unique(key, axis=0, return_inverse=True, return_counts=True)
            self._boundary = f[counts[inv.ravel()] == 1]
        return self._boundary

    def _select(self, where: str, tol: float) -> np.ndarray:
        """(n_points,) bool mask of a selector string; MeshError for anything else."""
        text = where.strip()
        if text == "all":
            return np.ones(self.n_points, dtype=bool)
        extent = np.ptp(self.points, axis=0).max() if self.n_points else 1.0
        atol = tol * (extent if extent > 0 else 1.0)
        result = np.zeros(self.n_points, dtype=bool)
        for alternative in re.split(r"\s+or\s+", text):
            term = np.ones(self.n_points, dtype=bool)
            for clause in re.split(r"\s+and\s+", alternative):
                term &= self._clause(clause, atol, where)
            result |= term
        return result

    def _clause(self, clause: str, atol: float, where: str) -> np.ndarray:
        m = _CLAUSE.match(clause)
        if m is None:
            raise MeshError(
                f"unknown set or selector {where!r}; known node sets: {sorted(self.node_sets) or 'none'}, "
                f"facet sets: {sorted(self.facet_sets) or 'none'}; a selector looks like "
                f"'x == 0' or 'x == 0 and y < 1' (coordinates x, y, z; ops == < <= > >=)")
        axis, op, value = _COORD[m.group(1)], m.group(2), float(m.group(3))
        if axis >= self.dim:
            raise MeshError(f"selector {where!r} uses {m.group(1)!r} but the mesh is {self.dim}D")
        c = self.points[:, axis]
        return {"==": np.abs(c - value) <= atol, "=": np.abs(c - value) <= atol,
                "<=": c <= value + atol, ">=": c >= value - atol,
                "<": c < value - atol, ">": c > value + atol}[op]


# ---------------------------------------------------------------------------------------------
# meshio -> Mesh
def from_meshio(m, *, source: str = "<meshio.Mesh>") -> Mesh:
    """Convert a meshio.Mesh.

    - The top-dimensional cell blocks are the mesh; they must all be of one supported type
      (MeshError for mixed or unsupported types, naming the supported ones).
    - Gmsh physical groups (``gmsh:physical`` + ``field_data``): a top-dimensional group becomes a
      cell set; a lower-dimensional group becomes a node set *and*, when its cells are facets of
      the mesh's cells, a facet set of the same name.
    - point/cell-data masks ``node_set:NAME`` / ``cell_set:NAME`` (written by
      :meth:`Mesh.to_meshio`) become node/cell sets.
    - meshio ``point_sets`` (Abaqus NSET, ...) become node sets; ``cell_sets`` on top-dimensional
      blocks become cell sets, on facet blocks facet sets and node sets.
    - Coordinates beyond the cell's dimension must be zero and are dropped (2D meshes written with
      z = 0). Points no cell uses (e.g. Gmsh geometry points) are removed, ids renumbered.
    """
    blocks = [(b.type, np.asarray(b.data)) for b in m.cells]
    if not blocks:
        raise MeshError(f"{source}: no cells; expected cells of one of the types {', '.join(SUPPORTED_CELL_TYPES)}")
    unknown = sorted({t for t, _ in blocks if t not in TOPOLOGICAL_DIM})
    if unknown:
        raise MeshError(f"{source}: unsupported cell type(s) {unknown}; supported: {', '.join(SUPPORTED_CELL_TYPES)}")
    points = np.asarray(m.points)
    _check_blocks(blocks, len(points), source)
    top = max(TOPOLOGICAL_DIM[t] for t, _ in blocks)
    top_types = sorted({t for t, _ in blocks if TOPOLOGICAL_DIM[t] == top})
    if len(top_types) > 1:
        raise MeshError(f"{source}: mixed {top}D cell types {top_types}; fem needs one cell type per mesh")
    cell_type = top_types[0]
    try:
        el = element_for(cell_type)  # MeshError naming the supported types
    except MeshError as exc:
        raise MeshError(f"{source}: {exc}") from None
    top_idx = [i for i, (t, _) in enumerate(blocks) if t == cell_type]
    offsets, n = {}, 0
    for i in top_idx:
        offsets[i] = n
        n += len(blocks[i][1])
    cells = np.concatenate([blocks[i][1] for i in top_idx]).astype(np.int64)

    try:
        points = np.asarray(points, dtype=np.float64)
    except (TypeError, ValueError):
        raise MeshError(f"{source}: point coordinates must be numbers, got {points.dtype}") from None
    if points.ndim == 1:
        points = points[:, None]
    bad = ~np.isfinite(points).all(axis=1)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise MeshError(f"{source}: point coordinates must be finite numbers; {int(bad.sum())} point(s) are not, "
                        f"the first is point {i} = {points[i].tolist()}")
    if points.shape[1] > el.dim:
        extra = points[:, el.dim:]
        if np.any(extra != 0.0):
            raise MeshError(f"{source}: {cell_type} cells need a {el.dim}D mesh, but coordinates beyond "
                            f"the first {el.dim} are not zero (max |value| {np.abs(extra).max():.3g})")
        points = points[:, : el.dim]
    elif points.shape[1] < el.dim:
        raise MeshError(f"{source}: {cell_type} cells need {el.dim} coordinates per point, got {points.shape[1]}")

    node_sets, cell_sets, facet_sets = {}, {}, {}

    def add_lower(name, data, ctype):
        node_sets[name] = np.union1d(node_sets.get(name, np.empty(0, np.int64)), data.ravel())
        if ctype == el.facet_type:
            prev = facet_sets.get(name)
            facet_sets[name] = data if prev is None else np.concatenate([prev, data])

    def add_cells(name, i, local):
        ids = offsets[i] + np.asarray(local, dtype=np.int64)
        cell_sets[name] = np.concatenate([cell_sets.get(name, np.empty(0, np.int64)), ids])

    # Gmsh physical groups
    phys = m.cell_data.get("gmsh:physical")
    if phys is not None:
        names = {(int(v[1]), int(v[0])): k for k, v in m.field_data.items() if len(v) >= 2}
        for i, ((ctype, data), tags) in enumerate(zip(blocks, phys)):
            d = TOPOLOGICAL_DIM[ctype]
            for tag in np.unique(tags):
                name = names.get((d, int(tag)), f"physical_{d}d_{int(tag)}")
                sel = np.asarray(tags) == tag
                if i in offsets:
                    add_cells(name, i, np.flatnonzero(sel))
                elif d < top:
                    add_lower(name, data[sel].astype(np.int64), ctype)
    # generic meshio sets (Abaqus, VTU written by to_meshio, ...); Gmsh's own copies are skipped
    generic = {} if phys is not None else (m.cell_sets or {})
    for name, per_block in generic.items():
        for i, local in enumerate(per_block):
            if local is None or len(local) == 0:
                continue
            if i in offsets:
                add_cells(name, i, local)
            elif TOPOLOGICAL_DIM[blocks[i][0]] < top:
                add_lower(name, blocks[i][1][np.asarray(local, dtype=np.int64)].astype(np.int64), blocks[i][0])
    # set masks written by Mesh.to_meshio (VTU/XDMF round trip)
    for key, values in m.point_data.items():
        if key.startswith(NODE_SET_PREFIX):
            node_sets[key[len(NODE_SET_PREFIX):]] = np.flatnonzero(np.asarray(values).ravel())
    for key, per_block in m.cell_data.items():
        if key.startswith(CELL_SET_PREFIX):
            for i in offsets:
                add_cells(key[len(CELL_SET_PREFIX):], i, np.flatnonzero(np.asarray(per_block[i]).ravel()))
    for name, ids in (m.point_sets or {}).items():
        node_sets[name] = np.union1d(node_sets.get(name, np.empty(0, np.int64)), np.asarray(ids, np.int64))

    # drop unused points and renumber
    used = np.zeros(len(points), dtype=bool)
    used[cells.ravel()] = True
    if not used.all():
        log.info("%s: ignoring %d points that no %s cell uses", source, int((~used).sum()), cell_type)
        new = -np.ones(len(points), dtype=np.int64)
        new[used] = np.arange(int(used.sum()))
        points, cells = points[used], new[cells]
        node_sets = {k: new[v][new[v] >= 0] for k, v in node_sets.items()}
        facet_sets = {k: new[v][(new[v] >= 0).all(axis=1)] for k, v in facet_sets.items()}
    try:
        mesh = Mesh(points, cells, cell_type, node_sets=node_sets, cell_sets=cell_sets, facet_sets=facet_sets)
    except MeshError as exc:
        raise MeshError(f"{source}: {exc}") from None
    log.info("read %s: %r", source, mesh)
    return mesh


def _check_blocks(blocks, n_points: int, source: str) -> None:
    """MeshError naming ``source`` for a cell block with the wrong node count or node ids outside the points."""
    for i, (ctype, data) in enumerate(blocks):
        if data.size == 0:
            continue
        if data.dtype.kind not in "iu":
            raise MeshError(f"{source}: {ctype} cell block {i}: node ids must be integers, got {data.dtype}")
        expected = element_for(ctype).n_nodes if ctype in SUPPORTED_CELL_TYPES else None
        if data.ndim != 2 or (expected is not None and data.shape[1] != expected):
            raise MeshError(f"{source}: {ctype} cell block {i}: expected {expected or 'k'} node ids per cell, "
                            f"got an array of shape {data.shape}")
        lo, hi = int(data.min()), int(data.max())
        if lo < 0 or hi >= n_points:
            j = int(np.flatnonzero(((data < 0) | (data >= n_points)).any(axis=1))[0])
            raise MeshError(f"{source}: {ctype} cell {j} of block {i} has node ids {data[j].tolist()}; expected ids "
                            f"in [0, {n_points - 1}] (the file has {n_points} points); corrupt connectivity")


def check_orientation(mesh: Mesh, source: str = "mesh") -> None:
    """MeshError naming ``source`` and the first cells whose Jacobian determinant is ≤ 0 at a quadrature
    point (inverted or degenerate cells: nodes in the wrong order, repeated nodes, collapsed cells)."""
    el = element_for(mesh.cell_type)
    bad_ids, worst = [], []
    for start in range(0, mesh.n_cells, 65536):  # blocks: a (nc, nq, dim, dim) Jacobian array stays small
        x = mesh.points[mesh.cells[start:start + 65536]]
        jac = np.einsum("cni,qnj->cqij", x, el.grad(el.points))
        detj = np.linalg.det(jac).min(axis=1)
        bad = np.flatnonzero(~(detj > 0.0))
        bad_ids.extend((start + bad).tolist())
        worst.extend(detj[bad].tolist())
    if bad_ids:
        cen = mesh.points[mesh.cells[bad_ids[:5]]].mean(axis=1)
        shown = "; ".join(f"cell {i} at ({', '.join(f'{c:.6g}' for c in cen[k])}), det J {worst[k]:.3g}"
                          for k, i in enumerate(bad_ids[:5]))
        more = f" and {len(bad_ids) - 5} more" if len(bad_ids) > 5 else ""
        raise MeshError(f"{source}: {len(bad_ids)} of {mesh.n_cells} {mesh.cell_type} cells are inverted or "
                        f"degenerate (expected det J > 0: positively oriented nodes): {shown}{more}")


# ---------------------------------------------------------------------------------------------
# generators
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
