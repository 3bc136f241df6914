"""Every example runs at its small size (LIPMAT_EXAMPLES_QUICK=1) and shows the number it is about;
``lipmat demo --quick`` writes every file it promises."""
import importlib.util
import json
import math
import os
from pathlib import Path

import numpy as np
import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _load(name: str):
    """Import examples/<name>.py as a fresh module in quick mode."""
    old = os.environ.get("LIPMAT_EXAMPLES_QUICK")
    os.environ["LIPMAT_EXAMPLES_QUICK"] = "1"
    try:
        spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        if old is None:
            del os.environ["LIPMAT_EXAMPLES_QUICK"]
        else:
            os.environ["LIPMAT_EXAMPLES_QUICK"] = old
    assert module.QUICK
    return module


def test_lipschitz_toolbox_certified_bound_is_above_the_empirical_one_for_every_control():
    ex = _load("lipschitz_toolbox")
    assert [r["control"] for r in ex.RESULTS] == list(ex.CONTROLS)
    for r in ex.RESULTS:
        assert r["certified"] >= r["empirical"] > 0, r["control"]
    hard = next(r for r in ex.RESULTS if r["control"] == "hard")
    assert hard["certified"] <= 1.0 + 1e-9          # k = 1 per layer, 1-Lipschitz GroupSort


def test_fit_treloar_certified_law_fits_and_every_neural_certificate_holds():
    ex = _load("fit_treloar")
    rows = {r["name"]: r for r in ex.ROWS}
    assert set(ex.NEURAL) <= set(rows) and {"neohookean", "ogden3", "arruda_boyce"} <= set(rows)
    assert rows["uniaxial"]["r2"] > 0.99
    for name in ex.NEURAL:
        assert rows[name]["certified"] >= rows[name]["empirical"] * (1 - 1e-12), name
    assert math.isnan(rows["neohookean"]["certified"])   # hyperelastic laws have no global bound


def test_timestep_gmsh_certified_steps_are_below_the_measured_one():
    ex = _load("timestep_gmsh")
    (row,) = ex.ROWS
    assert row["global_proven"]
    assert row["element"] <= row["global"] <= row["measured"] * (1 + 1e-9)
    assert row["global"] >= 0.98 * row["measured"]      # the global form is tight


def test_plate_with_hole_runs_at_the_certified_step_and_its_xdmf_reads_back_with_vtk(tmp_path):
    pytest.importorskip("vtk")
    ex = _load("plate_with_hole")
    assert ex.RESULT.status == "completed" and ex.RESULT.dt <= ex.RESULT.dt_certified
    assert ex.BALANCE < 0.05
    back = ex.read_back(ex.write_xdmf(tmp_path))
    np.testing.assert_allclose(back["times"], ex.RESULT.times, rtol=1e-12)
    assert back["n_cells"] == ex.MESH.n_cells
    np.testing.assert_array_equal(back["displacement"][:, :2], ex.RESULT.fields["displacement"][-1])
    assert np.abs(back["displacement"]).max() > 0


def test_rubber_bar_blows_up_at_the_initial_modulus_step_and_completes_at_the_certified_one():
    ex = _load("rubber_bar_blowup")
    s = ex.SUMMARY
    assert s["initial_status"] in ("unstable", "inverted")
    assert s["certified_status"] == "completed"
    assert s["dt_certified_s"] < s["dt_initial_modulus_s"]
    assert s["certified_max_balance_error"] < 1e-2
    assert [r["fraction"] for r in ex.SWEEP] == [1.0, 0.9]       # the usual 0.9 safety factor does not save it
    assert all(r["status"] != "completed" for r in ex.SWEEP)


def test_demo_quick_writes_every_file(tmp_path, capsys):
    from lipmat.cli import main

    out = tmp_path / "demo"
    assert main(["demo", "--quick", "--out", str(out), "--json", "--no-progress"]) == 0
    summary = json.loads(capsys.readouterr().out)
    for name in ("fit.png", "energy.png", "energy.csv", "space_time.png", "stretch.png", "treloar_uniaxial.pt",
                 "summary.json", "summary.txt", "fields/bar.xdmf", "fields/bar_mesh.h5"):
        assert (out / name).is_file(), name
    assert json.loads((out / "summary.json").read_text())["certified_status"] == "completed"
    assert summary["certified_status"] == "completed" and summary["initial_status"] != "completed"
    assert summary["certificate_tightness"] >= 1.0
    assert summary["dt_certified_s"] <= summary["dt_measured_min_s"]
    vtk = pytest.importorskip("vtk")
    reader = vtk.vtkXdmfReader()                 # what ParaView uses
    reader.SetFileName(str(out / "fields" / "bar.xdmf"))
    reader.UpdateInformation()
    times = reader.GetOutputInformation(0).Get(vtk.vtkStreamingDemandDrivenPipeline.TIME_STEPS())
    assert len(times) > 10 and times[-1] == pytest.approx(summary["bar"]["ramp_time"] + summary["bar"]["hold_time"])
    reader.UpdateTimeStep(times[-1])
    grid = reader.GetOutputDataObject(0)
    assert grid.GetNumberOfCells() == summary["bar"]["n_elements"]
    from lipmat.io import load
    model = load(out / "treloar_uniaxial.pt")
    assert model.stiffness_bound() == pytest.approx(summary["certified_stiffness_Pa"], rel=1e-9)


@pytest.mark.slow
def test_rubber_sheet_completes_at_the_certified_step_below_every_measured_critical_step(tmp_path):
    """Quick size: a short Treloar fit, a coarse sheet pulled to 1.5 (a fit costs seconds: slow)."""
    ex = _load("rubber_sheet")
    s = ex.SUMMARY
    assert s["status"] == "completed" and s["dt_s"] <= s["dt_certified_s"]
    assert s["nominal_stretch"] == pytest.approx(ex.SETUP.stretch)
    assert all(r["dt_certified"] <= r["dt_critical"] for r in ex.STEPS)
    assert s["max_balance_error"] < 0.02
    assert 0.7 < s["final_force_N"] / s["homogeneous_force_N"] < 1.0     # the hole weakens the sheet
    if importlib.util.find_spec("vtk") is not None:
        back = ex.read_back(ex.write_xdmf(tmp_path))
        assert back["n_cells"] == ex.RUN.mesh.n_cells and len(back["times"]) == len(ex.RESULT.times)
