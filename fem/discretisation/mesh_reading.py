"""Reading meshes: any file meshio reads, to a :class:`~fem.discretisation.mesh.Mesh` with named sets.

:func:`read_mesh` (what :meth:`Mesh.read` calls) reads the file with meshio, keeping meshio's console
chatter out of the caller's output, and refuses what meshio would silently drop. :func:`from_meshio`
converts a ``meshio.Mesh`` in four steps, one function each: the cell blocks that are the mesh
(:func:`_mesh_cells`), the coordinates (:func:`_coordinates`), the named sets (:class:`_Sets`), and the
removal of points no cell uses (:func:`_drop_unused`). :func:`check_orientation` refuses inverted cells.
Every MeshError names the file (``source``) and what was expected.
"""
from __future__ import annotations

import contextlib
import io
import logging
from pathlib import Path

import numpy as np

from fem.core.errors import MeshError
from fem.discretisation.elements import SUPPORTED_CELL_TYPES, TOPOLOGICAL_DIM, element_for
from fem.discretisation.mesh import CELL_SET_PREFIX, NODE_SET_PREFIX, Mesh

__all__ = ["read_mesh", "from_meshio", "check_orientation"]

log = logging.getLogger(__name__)


def read_mesh(path) -> Mesh:
    """Read any file meshio reads (``.msh``, ``.vtu``, ``.xdmf``, ``.inp``, ...); sets as :func:`from_meshio`.

    FileNotFoundError for a missing path; MeshError for anything that is not a regular file, a file no
    meshio reader accepts, cells of unknown types (meshio would drop them) or inverted cells.
    """
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
        raise MeshError(f"cannot read mesh {path}: {told.removeprefix('Warning: ').rstrip('.')}; expected only "
                        f"cells of known types (a corrupt cell-type array?); refusing to drop cells silently")
    if told:
        log.debug("meshio while reading %s: %s", path, told)
    mesh = from_meshio(m, source=str(path))
    check_orientation(mesh, source=str(path))
    return mesh


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
    cell_type, offsets, cells = _mesh_cells(blocks, np.asarray(m.points), source)
    el = element_for(cell_type)
    points = _coordinates(np.asarray(m.points), cell_type, el.dim, source)
    sets = _Sets(blocks, offsets, el.facet_type)
    sets.gmsh_groups(m)
    sets.generic(m)
    sets.masks(m)
    points, cells, node_sets, facet_sets = _drop_unused(points, cells, sets.node, sets.facet, cell_type, source)
    try:
        mesh = Mesh(points, cells, cell_type, node_sets=node_sets, cell_sets=sets.cell, facet_sets=facet_sets)
    except MeshError as exc:
        raise MeshError(f"{source}: {exc}") from None
    log.info("read %s: %r", source, mesh)
    return mesh


def _mesh_cells(blocks, points: np.ndarray, source: str) -> tuple[str, dict[int, int], np.ndarray]:
    """(cell type, {block index: first cell id}, cells (n_cells, nn) int64) of the top-dimensional blocks,
    the blocks checked first (:func:`_check_blocks`)."""
    if not blocks:
        raise MeshError(f"{source}: no cells; expected cells of one of the types {', '.join(SUPPORTED_CELL_TYPES)}")
    unknown = sorted({t for t, _ in blocks if t not in TOPOLOGICAL_DIM})
    if unknown:
        raise MeshError(f"{source}: unsupported cell type(s) {unknown}; supported: {', '.join(SUPPORTED_CELL_TYPES)}")
    _check_blocks(blocks, len(points), source)
    top = max(TOPOLOGICAL_DIM[t] for t, _ in blocks)
    top_types = sorted({t for t, _ in blocks if TOPOLOGICAL_DIM[t] == top})
    if len(top_types) > 1:
        raise MeshError(f"{source}: mixed {top}D cell types {top_types}; fem needs one cell type per mesh")
    cell_type = top_types[0]
    try:
        element_for(cell_type)  # MeshError naming the supported types
    except MeshError as exc:
        raise MeshError(f"{source}: {exc}") from None
    top_idx = [i for i, (t, _) in enumerate(blocks) if t == cell_type]
    offsets, n = {}, 0
    for i in top_idx:
        offsets[i] = n
        n += len(blocks[i][1])
    return cell_type, offsets, np.concatenate([blocks[i][1] for i in top_idx]).astype(np.int64)


def _coordinates(points: np.ndarray, cell_type: str, dim: int, source: str) -> np.ndarray:
    """(n_points, dim) float64 finite coordinates; zero coordinates beyond ``dim`` dropped."""
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
    if points.shape[1] > dim:
        extra = points[:, dim:]
        if np.any(extra != 0.0):
            raise MeshError(f"{source}: {cell_type} cells need a {dim}D mesh, but coordinates beyond "
                            f"the first {dim} are not zero (max |value| {np.abs(extra).max():.3g})")
        points = points[:, :dim]
    elif points.shape[1] < dim:
        raise MeshError(f"{source}: {cell_type} cells need {dim} coordinates per point, got {points.shape[1]}")
    return points


class _Sets:
    """The named sets of a meshio.Mesh, gathered block by block: ``node`` (name -> node ids), ``cell``
    (name -> cell ids of the mesh) and ``facet`` (name -> (k, nodes per facet) node ids)."""

    def __init__(self, blocks, offsets: dict[int, int], facet_type: str):
        self.blocks, self.offsets, self.facet_type = blocks, offsets, facet_type
        self.top = TOPOLOGICAL_DIM[blocks[next(iter(offsets))][0]]
        self.node, self.cell, self.facet = {}, {}, {}

    def add_lower(self, name: str, data: np.ndarray, ctype: str) -> None:
        """Cells ``data`` of a lower-dimensional block: their nodes, and facets when they are facets."""
        self.node[name] = np.union1d(self.node.get(name, np.empty(0, np.int64)), data.ravel())
        if ctype == self.facet_type:
            prev = self.facet.get(name)
            self.facet[name] = data if prev is None else np.concatenate([prev, data])

    def add_cells(self, name: str, i: int, local) -> None:
        """Cells ``local`` (ids within top-dimensional block i) of the mesh."""
        ids = self.offsets[i] + np.asarray(local, dtype=np.int64)
        self.cell[name] = np.concatenate([self.cell.get(name, np.empty(0, np.int64)), ids])

    def gmsh_groups(self, m) -> None:
        """Gmsh physical groups, named from ``field_data`` (``physical_<d>d_<tag>`` when unnamed)."""
        phys = m.cell_data.get("gmsh:physical")
        if phys is None:
            return
        names = {(int(v[1]), int(v[0])): k for k, v in m.field_data.items() if len(v) >= 2}
        for i, ((ctype, data), tags) in enumerate(zip(self.blocks, phys)):
            d = TOPOLOGICAL_DIM[ctype]
            for tag in np.unique(tags):
                name = names.get((d, int(tag)), f"physical_{d}d_{int(tag)}")
                sel = np.asarray(tags) == tag
                if i in self.offsets:
                    self.add_cells(name, i, np.flatnonzero(sel))
                elif d < self.top:
                    self.add_lower(name, data[sel].astype(np.int64), ctype)

    def generic(self, m) -> None:
        """meshio's cell and point sets (Abaqus, ...); Gmsh's own copies of its groups are skipped."""
        if m.cell_data.get("gmsh:physical") is None:
            for name, per_block in (m.cell_sets or {}).items():
                for i, local in enumerate(per_block):
                    if local is None or len(local) == 0:
                        continue
                    if i in self.offsets:
                        self.add_cells(name, i, local)
                    elif TOPOLOGICAL_DIM[self.blocks[i][0]] < self.top:
                        rows = self.blocks[i][1][np.asarray(local, dtype=np.int64)].astype(np.int64)
                        self.add_lower(name, rows, self.blocks[i][0])

    def masks(self, m) -> None:
        """The set masks :meth:`Mesh.to_meshio` writes (VTU/XDMF round trip), and meshio point sets."""
        for key, values in m.point_data.items():
            if key.startswith(NODE_SET_PREFIX):
                self.node[key[len(NODE_SET_PREFIX):]] = np.flatnonzero(np.asarray(values).ravel())
        for key, per_block in m.cell_data.items():
            if key.startswith(CELL_SET_PREFIX):
                for i in self.offsets:
                    self.add_cells(key[len(CELL_SET_PREFIX):], i, np.flatnonzero(np.asarray(per_block[i]).ravel()))
        for name, ids in (m.point_sets or {}).items():
            self.node[name] = np.union1d(self.node.get(name, np.empty(0, np.int64)), np.asarray(ids, np.int64))


def _drop_unused(points, cells, node_sets, facet_sets, cell_type: str, source: str):
    """(points, cells, node_sets, facet_sets) without the points no cell uses, node ids renumbered."""
    used = np.zeros(len(points), dtype=bool)
    used[cells.ravel()] = True
    if used.all():
        return points, cells, node_sets, facet_sets
    log.info("%s: ignoring %d points that no %s cell uses", source, int((~used).sum()), cell_type)
    new = -np.ones(len(points), dtype=np.int64)
    new[used] = np.arange(int(used.sum()))
    node_sets = {k: new[v][new[v] >= 0] for k, v in node_sets.items()}
    facet_sets = {k: new[v][(new[v] >= 0).all(axis=1)] for k, v in facet_sets.items()}
    return points[used], new[cells], node_sets, facet_sets


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
