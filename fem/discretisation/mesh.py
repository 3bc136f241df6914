"""Meshes: points, one type of cells, and named node/cell/facet sets.

A :class:`Mesh` is a plain container of numpy arrays. It is read from any file meshio reads
(:meth:`Mesh.read`, :mod:`fem.discretisation.mesh_reading`: Gmsh physical groups, Abaqus sets and VTU
become named sets) or made by the generators :func:`bar`, :func:`rectangle` and :func:`box`
(:mod:`fem.discretisation.generators`). Nodes and boundary facets are selected by set name or by a
coordinate selector such as ``"x == 0 and y < 1"`` (:meth:`Mesh.nodes`, :meth:`Mesh.facets`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from fem.discretisation.elements import element_for
from fem.core.errors import MeshError

__all__ = ["Mesh", "bar", "rectangle", "box", "distort"]

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
        """Read any file meshio reads (:func:`fem.discretisation.mesh_reading.read_mesh`: how sets are made,
        what is refused)."""
        from fem.discretisation.mesh_reading import read_mesh  # reading builds Meshes: imported on use

        return read_mesh(path)

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


# The generators and distort live in fem.discretisation.generators; these names stay importable here
# for the code that imports them from this module (they are imported last: they build Meshes).
from fem.discretisation.generators import bar, box, distort, rectangle  # noqa: E402
