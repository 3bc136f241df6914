"""Field series, histories and plots read back with VTK's own readers (what ParaView uses)."""
import os
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

import fem
from fem.io.output import (FieldWriter, atomic_write, plot_energies, read_pvd, write_energy_csv,
                        write_probes_csv)

vtk = pytest.importorskip("vtk")
from vtk.util.numpy_support import vtk_to_numpy  # noqa: E402


def _read_vtu(path):
    r = vtk.vtkXMLUnstructuredGridReader()
    r.SetFileName(str(path))
    r.Update()
    assert r.GetErrorCode() == 0
    return r.GetOutput()


def _array(data, name):
    a = data.GetArray(name)
    assert a is not None, f"no array {name!r}"
    return vtk_to_numpy(a)


def _connectivity(grid):
    cells = grid.GetCells()
    return vtk_to_numpy(cells.GetConnectivityArray()).reshape(grid.GetNumberOfCells(), -1)


def _frames(mesh, n, rng, k):
    out = []
    for i in range(n):
        u = rng.normal(size=(mesh.n_points, mesh.dim))
        out.append((0.1 * i, {"displacement": u, "velocity": 2 * u},
                    {"strain": rng.normal(size=(mesh.n_cells, k)), "stress": rng.normal(size=(mesh.n_cells, k))}))
    return out


@pytest.mark.parametrize("mesh, k, names", [
    (fem.bar(1.0, 4), 1, ["XX"]),
    (fem.rectangle(2.0, 1.0, 3, 2), 3, ["XX", "YY", "XY"]),
    (fem.box(1.0, 1.0, 1.0, 2, 1, 1), 6, ["XX", "YY", "ZZ", "XY", "YZ", "XZ"]),
])
def test_vtu_series_reads_back_with_vtk(tmp_path, rng, mesh, k, names):
    frames = _frames(mesh, 3, rng, k)
    w = FieldWriter(tmp_path / "out", mesh)
    for t, p, c in frames:
        w.write(t, p, c)
    w.close()
    # the .pvd index, parsed as plain XML: one DataSet per frame, relative file names, exact times
    root = ET.parse(tmp_path / "out" / "fields.pvd").getroot()
    sets = list(root.iter("DataSet"))
    assert [float(d.get("timestep")) for d in sets] == [t for t, _, _ in frames]
    assert [d.get("file") for d in sets] == [f"fields_{i:06d}.vtu" for i in range(3)]
    for (t, p, c), (t_idx, path) in zip(frames, read_pvd(tmp_path / "out" / "fields.pvd")):
        g = _read_vtu(path)
        pts = vtk_to_numpy(g.GetPoints().GetData())
        np.testing.assert_array_equal(pts[:, : mesh.dim], mesh.points)
        np.testing.assert_array_equal(pts[:, mesh.dim:], 0.0)
        np.testing.assert_array_equal(_connectivity(g), mesh.cells)
        for name in ("displacement", "velocity"):
            a = _array(g.GetPointData(), name)
            assert a.shape == (mesh.n_points, 3)        # padded: Warp By Vector works in 1D/2D
            np.testing.assert_array_equal(a[:, : mesh.dim], p[name])
            np.testing.assert_array_equal(a[:, mesh.dim:], 0.0)
        for name in ("strain", "stress"):
            arr = g.GetCellData().GetArray(name)
            assert [arr.GetComponentName(i) for i in range(k)] == names
            np.testing.assert_array_equal(vtk_to_numpy(arr).reshape(mesh.n_cells, k), c[name])


def test_xdmf_series_reads_back_from_another_directory(tmp_path, rng, monkeypatch):
    mesh = fem.rectangle(2.0, 1.0, 3, 2, cell="quad")
    frames = _frames(mesh, 3, rng, 3)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)                 # the meshio trap: .h5 written into the cwd
    w = FieldWriter(tmp_path / "out", mesh, format="xdmf")
    for t, p, c in frames:
        w.write(t, p, c)
    w.close()
    assert list(elsewhere.iterdir()) == []       # nothing written into the current directory
    assert sorted(f.name for f in (tmp_path / "out").iterdir()) == [
        "fields.xdmf", "fields_000000.h5", "fields_000001.h5", "fields_000002.h5", "fields_mesh.h5"]
    monkeypatch.chdir(tmp_path)                  # read from yet another directory
    r = vtk.vtkXdmfReader()
    r.SetFileName(str(tmp_path / "out" / "fields.xdmf"))
    r.UpdateInformation()
    times = r.GetOutputInformation(0).Get(vtk.vtkStreamingDemandDrivenPipeline.TIME_STEPS())
    assert list(times) == [t for t, _, _ in frames]
    for t, p, c in frames:
        r.UpdateTimeStep(t)
        g = r.GetOutputDataObject(0)
        assert g.GetNumberOfCells() == mesh.n_cells
        np.testing.assert_array_equal(vtk_to_numpy(g.GetPoints().GetData())[:, :2], mesh.points)
        np.testing.assert_array_equal(_connectivity(g), mesh.cells)
        np.testing.assert_array_equal(_array(g.GetPointData(), "displacement")[:, :2], p["displacement"])
        for i, comp in enumerate(("xx", "yy", "xy")):
            np.testing.assert_array_equal(_array(g.GetCellData(), f"stress_{comp}"), c["stress"][:, i])


def test_atomic_write_leaves_no_partial_file(tmp_path):
    target = tmp_path / "data.txt"
    target.write_text("old")

    def crash(tmp):
        tmp.write_text("half of the new")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        atomic_write(target, crash)
    assert target.read_text() == "old"
    assert [f.name for f in tmp_path.iterdir()] == ["data.txt"]   # no temporary file left
    atomic_write(target, lambda tmp: tmp.write_text("new"))
    assert target.read_text() == "new"
    assert [f.name for f in tmp_path.iterdir()] == ["data.txt"]
    with pytest.raises(FileNotFoundError, match="does not exist"):
        atomic_write(tmp_path / "missing" / "x.txt", lambda tmp: None)


def test_a_crash_while_writing_a_frame_keeps_a_valid_series(tmp_path, rng, monkeypatch):
    import meshio

    mesh = fem.rectangle(1.0, 1.0, 2, 2)
    frames = _frames(mesh, 3, rng, 3)
    w = FieldWriter(tmp_path, mesh)
    for t, p, c in frames[:2]:
        w.write(t, p, c)
    real = meshio.write

    def dying(path, m, **kw):
        real(path, m, **kw)
        Path(path).write_bytes(Path(path).read_bytes()[:100])     # half a file, then the crash
        raise KeyboardInterrupt

    monkeypatch.setattr(meshio, "write", dying)
    with pytest.raises(KeyboardInterrupt):
        w.write(*frames[2])
    listed = read_pvd(tmp_path / "fields.pvd")
    assert [t for t, _ in listed] == [0.0, 0.1]
    assert sorted(f.name for f in tmp_path.iterdir()) == ["fields.pvd", "fields_000000.vtu", "fields_000001.vtu"]
    for (t, p, _), (_, path) in zip(frames, listed):
        np.testing.assert_array_equal(_array(_read_vtu(path).GetPointData(), "displacement")[:, :2],
                                      p["displacement"])


@pytest.mark.parametrize("fmt, ext", [("vtu", "vtu"), ("xdmf", "h5")])
def test_rewriting_a_time_replaces_the_later_frames_and_resume_keeps_earlier_ones(tmp_path, rng, fmt, ext):
    mesh = fem.bar(1.0, 3)
    frames = _frames(mesh, 4, rng, 1)
    w = FieldWriter(tmp_path, mesh, format=fmt)
    for t, p, c in frames:
        w.write(t, p, c)
    w.write(*frames[2])            # a restart from t = 0.2: frames 2, 3 are replaced
    assert w.times == [t for t, _, _ in frames[:3]]
    assert not (tmp_path / f"fields_000003.{ext}").exists()
    w.close()
    w2 = FieldWriter(tmp_path, mesh, format=fmt, resume=True)
    w2.write(*frames[3])
    w2.close()
    assert w2.times == [t for t, _, _ in frames]
    if fmt == "vtu":
        assert [t for t, _ in read_pvd(tmp_path / "fields.pvd")] == w2.times
    else:
        r = vtk.vtkXdmfReader()
        r.SetFileName(str(w2.index))
        r.UpdateInformation()
        assert list(r.GetOutputInformation(0).Get(vtk.vtkStreamingDemandDrivenPipeline.TIME_STEPS())) == w2.times
        r.UpdateTimeStep(frames[1][0])
        np.testing.assert_array_equal(_array(r.GetOutputDataObject(0).GetCellData(), "stress_xx"),
                                      frames[1][2]["stress"][:, 0])
    w3 = FieldWriter(tmp_path, mesh, format=fmt)     # a fresh run removes the old frames at its first write
    w3.write(*frames[0])
    assert sorted(f.name for f in tmp_path.iterdir() if f.name.startswith("fields_0")) == [f"fields_000000.{ext}"]


def test_writer_rejects_bad_shapes_and_writes_after_close(tmp_path):
    mesh = fem.bar(1.0, 3)
    w = FieldWriter(tmp_path, mesh)
    with pytest.raises(fem.FemError, match=r"point data 'displacement' must be \(4,\) or \(4, k\), got \(3, 1\)"):
        w.write(0.0, {"displacement": np.zeros((3, 1))})
    w.close()
    with pytest.raises(fem.FemError, match="closed"):
        w.write(0.0, {"displacement": np.zeros((4, 1))})
    with pytest.raises(fem.FemError, match="format"):
        FieldWriter(tmp_path, mesh, format="vtk")


def _energies(n=50):
    t = np.linspace(0.0, 1e-3, n)
    k = 0.5 * (1 + np.cos(2e4 * t))
    return {"time": t, "step": np.arange(n), "kinetic": k, "internal": 1.0 - k, "external": 0.0 * t,
            "damping": 0.0 * t, "balance_error": 1e-6 * (1 + t)}


def test_energy_and_probe_csv_round_trip(tmp_path):
    e = _energies()
    write_energy_csv(tmp_path / "energy.csv", e)
    header = (tmp_path / "energy.csv").read_text().splitlines()[0]
    assert header == "time_s,step,kinetic_J,internal_J,external_J,damping_J,balance_error"
    back = np.loadtxt(tmp_path / "energy.csv", delimiter=",", skiprows=1)
    for i, key in enumerate(("time", "step", "kinetic", "internal", "external", "damping", "balance_error")):
        np.testing.assert_array_equal(back[:, i], e[key])            # full float64 precision
    probes = {"time": e["time"], "tip": np.stack([e["kinetic"], -e["kinetic"]], 1), "mid": e["internal"][:, None]}
    write_probes_csv(tmp_path / "probes.csv", probes)
    lines = (tmp_path / "probes.csv").read_text().splitlines()
    assert lines[0] == "time_s,tip_ux_m,tip_uy_m,mid_ux_m"
    back = np.loadtxt(tmp_path / "probes.csv", delimiter=",", skiprows=1)
    np.testing.assert_array_equal(back[:, 2], -e["kinetic"])
    with pytest.raises(fem.FemError, match="lack"):
        write_energy_csv(tmp_path / "bad.csv", {"time": e["time"]})


def test_energy_plot_is_written(tmp_path):
    out = plot_energies(tmp_path / "energy.png", _energies(), title="test")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    plot_energies(tmp_path / "energy.svg", {**_energies(), "balance_error": np.zeros(50)})
    assert b"<svg" in (tmp_path / "energy.svg").read_bytes()[:1000]
    assert sorted(os.listdir(tmp_path)) == ["energy.png", "energy.svg"]


def test_solver_frames_match_the_result(tmp_path):
    """solve() -> FieldWriter -> VTU: the last frame holds the final state, in tensor components."""
    mesh = fem.rectangle(1.0, 0.5, 4, 2)
    mat = fem.LinearElastic(1e3, 0.3, "plane_strain")
    prob = fem.Problem(mesh, mat, 1.0, bcs=(fem.Fixed("left"),), v0=lambda x: np.stack([0 * x[:, 0], x[:, 0]], 1))
    w = FieldWriter(tmp_path, mesh)
    res = fem.solve(prob, 0.01, 1e-3, save=fem.SaveAt(every=5, writer=w), progress=False)
    listed = read_pvd(tmp_path / "fields.pvd")
    assert [t for t, _ in listed] == pytest.approx(list(res.times), abs=1e-15)
    g = _read_vtu(listed[-1][1])
    np.testing.assert_allclose(_array(g.GetPointData(), "displacement")[:, :2],
                               res.final.u.reshape(-1, 2).numpy(), rtol=0, atol=1e-15)
    a = fem.Assembly(mesh)
    eps = a.strain(res.final.u).mean(dim=1)            # Mandel [e11, e22, √2 e12]
    expect = np.stack([eps[:, 0], eps[:, 1], eps[:, 2] / np.sqrt(2)], 1)
    np.testing.assert_allclose(_array(g.GetCellData(), "strain"), expect, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("mesh, vtk_type", [(fem.bar(1.0, 4), 4), (fem.box(1, 1, 1, 2, 1, 1, cell="tetra"), 10),
                                            (fem.box(1, 1, 1, 2, 1, 1), 12)])
def test_xdmf_cell_types(tmp_path, rng, mesh, vtk_type):
    k = 1 if mesh.dim == 1 else 6
    (t, p, c), = _frames(mesh, 1, rng, k)
    w = FieldWriter(tmp_path, mesh, format="xdmf")
    w.write(t, p, c)
    r = vtk.vtkXdmfReader()
    r.SetFileName(str(w.index))
    r.Update()
    g = r.GetOutputDataObject(0)
    assert g.GetNumberOfCells() == mesh.n_cells and g.GetCellType(0) == vtk_type   # poly line, tetra, hexahedron
    np.testing.assert_array_equal(_connectivity(g), mesh.cells)
    np.testing.assert_array_equal(_array(g.GetCellData(), "stress_xx"), c["stress"][:, 0])
    np.testing.assert_array_equal(_array(g.GetPointData(), "displacement")[:, : mesh.dim], p["displacement"])


def test_atomic_files_get_the_permissions_open_would_give(tmp_path):
    """mkstemp creates 0o600 files; an atomically written output must be readable like any other."""
    import os
    import stat

    mask = os.umask(0o022)
    try:
        path = atomic_write(tmp_path / "a.csv", lambda tmp: tmp.write_text("x\n"))
    finally:
        os.umask(mask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert [p.name for p in tmp_path.iterdir()] == ["a.csv"]  # no temporary file left behind
