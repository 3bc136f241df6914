"""Mesh container, generators, selectors and reading (Gmsh, VTU, Abaqus)."""
from pathlib import Path

import meshio
import numpy as np
import pytest

import fem
from fem import Mesh, bar, box, distort, rectangle
from fem.core.errors import MeshError

MESHES = Path(__file__).resolve().parents[1] / "data" / "meshes"


def _measure(mesh):
    return fem.Assembly(mesh).cell_volumes().sum()


# -- generators -------------------------------------------------------------------------------
def test_bar_generator():
    m = bar(2.0, 4, origin=1.0)
    assert (m.dim, m.n_points, m.n_cells, m.cell_type) == (1, 5, 4, "line")
    np.testing.assert_allclose(m.points[:, 0], [1.0, 1.5, 2.0, 2.5, 3.0])
    assert m.nodes("left").tolist() == [0] and m.nodes("right").tolist() == [4]
    assert m.facets("right").tolist() == [[4]]


@pytest.mark.parametrize("cell,nn,per", [("triangle", 3, 2), ("quad", 4, 1)])
def test_rectangle_generator(cell, nn, per):
    m = rectangle(3.0, 2.0, 6, 4, cell=cell)
    assert m.cells.shape == (24 * per, nn) and m.n_points == 35
    assert _measure(m) == pytest.approx(6.0, rel=1e-14)
    assert set(m.node_sets) == set(m.facet_sets) == {"left", "right", "bottom", "top"}
    assert len(m.nodes("left")) == 5 and len(m.facets("left")) == 4 and len(m.facets("top")) == 6
    assert np.all(m.points[m.nodes("top"), 1] == 2.0)
    assert len(m.boundary_facets()) == 2 * (6 + 4)


@pytest.mark.parametrize("cell,nn,per", [("tetra", 4, 6), ("hexahedron", 8, 1)])
def test_box_generator(cell, nn, per):
    m = box(1.0, 2.0, 3.0, 2, 3, 4, cell=cell)
    assert m.cells.shape == (24 * per, nn) and m.n_points == 60
    assert _measure(m) == pytest.approx(6.0, rel=1e-13)  # also: every cell positively oriented
    assert set(m.node_sets) == {"left", "right", "bottom", "top", "front", "back"}
    n_faces = 2 * (2 * 3 + 3 * 4 + 2 * 4) * (2 if cell == "tetra" else 1)
    assert len(m.boundary_facets()) == n_faces
    assert len(m.facets("back")) == 2 * 3 * (2 if cell == "tetra" else 1)


@pytest.mark.parametrize("mesh", [bar(1, 10), rectangle(1, 1, 5, 5), rectangle(1, 1, 5, 5, cell="quad"),
                                  box(1, 1, 1, 3, 3, 3, cell="tetra"), box(1, 1, 1, 3, 3, 3)],
                         ids=["line", "triangle", "quad", "tetra", "hexahedron"])
def test_distort_moves_interior_only_and_keeps_cells_valid(mesh):
    d = distort(mesh, 0.2, seed=3)
    boundary = np.unique(mesh.boundary_facets())
    np.testing.assert_array_equal(d.points[boundary], mesh.points[boundary])
    interior = np.setdiff1d(np.arange(mesh.n_points), boundary)
    assert np.all(np.linalg.norm(d.points[interior] - mesh.points[interior], axis=1) > 0)
    assert _measure(d) == pytest.approx(_measure(mesh), rel=1e-12)  # Assembly would raise if inverted
    assert np.array_equal(distort(mesh, 0.2, seed=3).points, d.points)


# -- selectors --------------------------------------------------------------------------------
def test_selectors():
    m = rectangle(2.0, 3.0, 4, 6, cell="quad")
    x, y = m.points.T
    np.testing.assert_array_equal(m.nodes("x == 0"), np.flatnonzero(x == 0))
    np.testing.assert_array_equal(m.nodes("y >= 1.5"), np.flatnonzero(y >= 1.5))
    np.testing.assert_array_equal(m.nodes("y > 1.5"), np.flatnonzero(y > 1.5))
    np.testing.assert_array_equal(m.nodes("x == 0 and y < 1"), np.flatnonzero((x == 0) & (y < 1)))
    np.testing.assert_array_equal(m.nodes("x == 0 or x == 2"), np.flatnonzero((x == 0) | (x == 2)))
    np.testing.assert_array_equal(m.nodes("x==1e-12"), m.nodes("left"))  # within the tolerance
    assert len(m.nodes("x == 1e-6")) == 0
    assert len(m.nodes("x == 1e-6", tol=1e-6)) == 7
    assert len(m.nodes("all")) == m.n_points
    np.testing.assert_array_equal(m.facets("x == 2"), m.facet_sets["right"])
    assert len(m.facets("x == 1")) == 0  # interior line: no boundary facets


def test_unknown_set_lists_known_ones():
    m = rectangle(1, 1, 2, 2)
    with pytest.raises(MeshError, match=r"unknown set or selector 'lft'.*'bottom', 'left', 'right', 'top'"):
        m.nodes("lft")
    with pytest.raises(MeshError, match="unknown set or selector"):
        m.facets("x == 0 andy < 1")
    with pytest.raises(MeshError, match="uses 'z' but the mesh is 2D"):
        m.nodes("z == 0")


def test_mesh_validation():
    with pytest.raises(MeshError, match=r"triangle cells must be \(n_cells, 3\), got \(1, 4\)"):
        Mesh(np.zeros((4, 2)), [[0, 1, 2, 3]], "triangle")
    with pytest.raises(MeshError, match=r"need points of shape \(n_points, 2\)"):
        Mesh(np.zeros((4, 3)), [[0, 1, 2]], "triangle")
    with pytest.raises(MeshError, match=r"must lie in \[0, 3\], got \[0, 7\]"):
        Mesh(np.zeros((4, 2)), [[0, 1, 7]], "triangle")


# -- reading ----------------------------------------------------------------------------------
def test_read_gmsh_plate_with_hole(capsys):
    m = Mesh.read(MESHES / "plate_with_hole.msh")
    assert capsys.readouterr() == ("", "")          # meshio's stray stdout line (its ANSYS guess) is kept out
    assert m.cell_type == "triangle" and m.dim == 2  # z dropped
    assert set(m.facet_sets) == {"left", "right", "bottom", "top", "hole"}
    assert set(m.node_sets) == set(m.facet_sets) and set(m.cell_sets) == {"plate"}
    assert len(m.cell_sets["plate"]) == m.n_cells
    np.testing.assert_allclose(m.points[m.nodes("left"), 0], 0.0)
    np.testing.assert_allclose(m.points[m.nodes("top"), 1], 0.1)
    r = np.linalg.norm(m.points[m.nodes("hole")] - [0.1, 0.05], axis=1)
    np.testing.assert_allclose(r, 0.02, rtol=1e-6)
    for name, f in m.facet_sets.items():  # facet sets and node sets describe the same boundary
        np.testing.assert_array_equal(np.unique(f), m.node_sets[name])
        assert len(f) == len(m.facets(name))
    # the facet sets are boundary facets and cover the whole boundary
    assert sum(len(f) for f in m.facet_sets.values()) == len(m.boundary_facets())
    assert _measure(m) == pytest.approx(0.2 * 0.1 - np.pi * 0.02**2, rel=2e-3)


def test_read_gmsh_quads_and_beam():
    q = Mesh.read(MESHES / "plate_with_hole_quad.msh")
    assert q.cell_type == "quad" and set(q.facet_sets) == {"left", "right", "bottom", "top", "hole"}
    b = Mesh.read(MESHES / "beam.msh")
    assert b.cell_type == "tetra" and b.dim == 3
    assert set(b.facet_sets) == {"fixed", "free"} and b.facet_sets["fixed"].shape[1] == 3
    np.testing.assert_allclose(b.points[b.nodes("fixed"), 0], 0.0)
    np.testing.assert_allclose(b.points[b.nodes("free"), 0], 1.0)
    assert _measure(b) == pytest.approx(1.0 * 0.05 * 0.05, rel=1e-12)


def test_vtu_round_trip_keeps_points_cells_and_sets(tmp_path):
    m = distort(box(1, 1, 2, 2, 2, 3, cell="tetra"), 0.1)
    m.cell_sets["some"] = np.array([1, 5, 7])
    path = tmp_path / "m.vtu"
    meshio.write(path, m.to_meshio())
    r = Mesh.read(path)
    np.testing.assert_array_equal(r.points, m.points)
    np.testing.assert_array_equal(r.cells, m.cells)
    assert r.node_sets.keys() == m.node_sets.keys()
    for k in m.node_sets:
        np.testing.assert_array_equal(r.node_sets[k], m.node_sets[k])
        assert len(r.facets(k)) == len(m.facets(k))
    np.testing.assert_array_equal(r.cell_sets["some"], [1, 5, 7])


def test_read_abaqus_sets_and_unused_point_ignored(tmp_path):
    path = tmp_path / "t.inp"
    path.write_text("*HEADING\nt\n*NODE\n1, 0.0, 0.0\n2, 1.0, 0.0\n3, 1.0, 1.0\n4, 9.0, 9.0\n5, 0.0, 1.0\n"
                    "*ELEMENT, TYPE=CPS3, ELSET=ALL\n1, 1, 2, 3\n2, 1, 3, 5\n*NSET, NSET=LEFT\n1, 5\n")
    m = Mesh.read(path)
    assert m.n_points == 4 and m.dim == 2  # point 4 is used by no cell: dropped, ids renumbered
    np.testing.assert_array_equal(m.cells, [[0, 1, 2], [0, 2, 3]])
    np.testing.assert_array_equal(m.node_sets["LEFT"], [0, 3])
    np.testing.assert_array_equal(m.cell_sets["ALL"], [0, 1])


def test_unused_points_in_meshio_mesh_are_ignored(tmp_path):
    pts = np.array([[5.0, 5, 0], [0, 0, 0], [1, 0, 0], [0, 1, 0]])
    path = tmp_path / "u.vtu"
    meshio.write(path, meshio.Mesh(pts, [("triangle", np.array([[1, 2, 3]]))]))
    m = Mesh.read(path)
    np.testing.assert_array_equal(m.points, [[0, 0], [1, 0], [0, 1]])
    np.testing.assert_array_equal(m.cells, [[0, 1, 2]])


def test_read_errors(tmp_path):
    pts = np.array([[0.0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0], [0, 0, 1], [1, 0, 1]])
    wedge = tmp_path / "w.vtu"
    meshio.write(wedge, meshio.Mesh(pts, [("wedge", np.array([[0, 1, 3, 4, 5, 4]]))]))
    with pytest.raises(MeshError, match="unsupported cell type 'wedge'; supported: line, triangle, quad, tetra"):
        Mesh.read(wedge)
    mixed = tmp_path / "mixed.vtu"
    meshio.write(mixed, meshio.Mesh(pts[:4], [("triangle", np.array([[0, 1, 2]])), ("quad", np.array([[0, 1, 2, 3]]))]))
    with pytest.raises(MeshError, match=r"mixed 2D cell types \['quad', 'triangle'\]"):
        Mesh.read(mixed)
    surface = tmp_path / "s.vtu"
    meshio.write(surface, meshio.Mesh(pts[[0, 1, 4]], [("triangle", np.array([[0, 1, 2]]))]))
    with pytest.raises(MeshError, match="triangle cells need a 2D mesh"):
        Mesh.read(surface)
    with pytest.raises(FileNotFoundError, match="nope.msh"):
        Mesh.read(tmp_path / "nope.msh")


def test_unreadable_file_is_a_mesh_error_not_an_exit(tmp_path, capsys):
    """meshio calls sys.exit(1) when no reader accepts a file; Mesh.read raises MeshError instead."""
    bad = tmp_path / "bad.msh"
    bad.write_text("not a mesh\n")
    with pytest.raises(MeshError, match=r"cannot read mesh .*bad.msh: .*either of ansys, gmsh"):
        Mesh.read(bad)
    assert capsys.readouterr() == ("", "")
