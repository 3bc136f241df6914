"""`lipmat run SIM.toml`: full runs from a deck, their files, the summary, the exit codes."""
import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest

from fem.core.errors import FemWarning
from fem.io.output import read_pvd
from lipmat.cli import main

vtk = pytest.importorskip("vtk")
from vtk.util.numpy_support import vtk_to_numpy  # noqa: E402

DECKS = Path(__file__).resolve().parents[1] / "examples" / "decks"


def _cell_array(path, name):
    r = vtk.vtkXMLUnstructuredGridReader()
    r.SetFileName(str(path))
    r.Update()
    return vtk_to_numpy(r.GetOutput().GetCellData().GetArray(name))


def test_bar_impact_deck_runs_and_matches_the_wave_solution(tmp_path, capsys):
    """The shipped deck at the certified step: a bar at v = 1 m/s hits a wall. Until the wave reaches
    the free end (t < L/c) the tip moves at −v, and behind the front the stress is −ρcv (d'Alembert)."""
    out = tmp_path / "out"
    assert main(["run", str(DECKS / "bar_impact.toml"), "--out", str(out), "--json", "--no-progress"]) == 0
    s = json.loads(capsys.readouterr().out)
    assert s["status"] == "completed" and s["t"] == pytest.approx(3.9e-4)
    assert s["dt_source"].startswith("certified") and s["dt"] <= s["dt_certified"]
    assert s["energy_error_max"] < 1e-2
    assert set(s["outputs"]) == {"fields", "energy_csv", "probes_csv", "plot"}
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith("fields_")) == [
        "energy.csv", "energy.png", "fields.pvd", "probes.csv"]
    rho, E, v, L = 2700.0, 70e9, 1.0, 1.0
    c = math.sqrt(E / rho)
    frames = read_pvd(out / "fields.pvd")
    assert len(frames) == s["frames"] == math.ceil(s["steps"] / 20) + 1     # every = 20, plus step 0
    # the frame closest to t = L/(2c): the front is at mid-length
    t, path = min(frames, key=lambda f: abs(f[0] - L / (2 * c)))
    front = c * t
    stress = _cell_array(path, "stress")                       # (200,) σ_xx, cell means
    xc = (np.arange(200) + 0.5) / 200
    np.testing.assert_allclose(stress[xc < front - 0.25], -rho * c * v, rtol=1e-2)   # oscillations trail the front
    assert np.mean(stress[xc < front - 0.05]) == pytest.approx(-rho * c * v, rel=2e-3)
    assert np.abs(stress[xc > front + 0.1]).max() < 1e-6 * rho * c * v
    probes = np.loadtxt(out / "probes.csv", delimiter=",", skiprows=1)
    # exact until the scheme's domain of dependence (one element per step) reaches the tip; after that
    # the front's viscous/dispersive precursor arrives (the default bulk viscosity runs at 0.942 h/c)
    untouched = probes[:, 0] < 200 * s["dt"] * (1 - 1e-9)
    np.testing.assert_allclose(probes[untouched, 1], -v * probes[untouched, 0], rtol=0, atol=1e-12)
    early = probes[:, 0] < 0.99 * L / c
    np.testing.assert_allclose(probes[early, 1], -v * probes[early, 0], rtol=1e-2)
    energy = np.loadtxt(out / "energy.csv", delimiter=",", skiprows=1)
    moving = rho * 1e-4 * L * (1 - 0.5 / 200)      # area 1e-4 m²; the wall node (half a cell's mass) is held
    np.testing.assert_allclose(energy[0, 2], 0.5 * moving * v**2, rtol=1e-12)
    assert energy[-1, 0] == pytest.approx(3.9e-4)


def test_2d_deck_text_summary_and_xdmf(tmp_path, capsys):
    deck = tmp_path / "plate.toml"
    text = (DECKS / "plate_pulse.toml").read_text()
    text = text.replace('dir = "../../out/plate_pulse"', 'dir = "plate_pulse_out"')
    deck.write_text(text.replace('format = "vtu"', 'format = "xdmf"').replace("end = 0.04 ", "end = 0.004"))
    assert main(["run", str(deck), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("lipmat run: completed — clamped rubber strip under an end traction")
    for word in ("steps", "certified (proven stable step", "balance error max", "plate_pulse_out/fields.xdmf",
                 "energy.csv", "probes.csv", "energy.png", "wall time"):
        assert word in out, word
    d = tmp_path / "plate_pulse_out"                            # [output] dir, relative to the deck
    assert (d / "fields.xdmf").is_file() and (d / "fields_mesh.h5").is_file()


def test_an_unstable_run_exits_1_and_keeps_its_output(tmp_path, capsys):
    deck = tmp_path / "unstable.toml"
    text = (DECKS / "bar_impact.toml").read_text()
    # the plain scheme, 2 % above its limit: grows slowly enough to leave a few checked rows behind
    # a row at every step (the default rows are at least 10 steps apart): the rows before the fault
    deck.write_text(text.replace('dt = "certified"', "dt = 1.0e-6\nallow_unsafe_dt = true")
                    .replace("\n[output]\n", "\n[output]\nenergy_every = 1\n")
                    + "\n[solver]\nbulk_viscosity = false\n")
    with pytest.warns(FemWarning, match="exceeds the certified stable step"):
        code = main(["run", str(deck), "--out", str(tmp_path / "out"), "--no-progress", "--json"])
    assert code == 1
    cap = capsys.readouterr()
    s = json.loads(cap.out)
    assert s["status"] == "unstable" and s["fault"]["kind"] == "unstable"
    err = cap.err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("lipmat run: unstable: ") and "element" in err[0]
    frames = read_pvd(tmp_path / "out" / "fields.pvd")
    assert len(frames) >= 1 and all(p.is_file() for _, p in frames)
    energy = np.loadtxt(tmp_path / "out" / "energy.csv", delimiter=",", skiprows=1)
    # the history up to the row that stopped the run (the first with a balance error above energy_tol)
    assert energy[-2, 1] <= s["steps"] < energy[-1, 1] and energy[-1, 6] > 0.5
    from fem.solver.explicit import BALANCE_GRACE_STEPS

    checked = energy[:-1, 1] >= BALANCE_GRACE_STEPS  # rows the balance check applies to
    assert checked.sum() >= 3 and np.all(energy[:-1, 6][checked] <= 0.5)


def test_bad_deck_exits_2_with_one_line(tmp_path, capsys):
    deck = tmp_path / "bad.toml"
    deck.write_text((DECKS / "bar_impact.toml").read_text().replace("density", "densty"))
    assert main(["run", str(deck), "--no-progress"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "[material]: unknown key 'densty' (did you mean 'density'?)" in err[0]
    assert main(["run", str(tmp_path / "missing.toml")]) == 2
    assert "deck not found" in capsys.readouterr().err


def test_a_model_file_deck_runs_through_lipmat_load(tmp_path, capsys):
    """model = "bar.pt" is loaded by lipmat.io.load (the CLI's material loader), relative to the deck."""
    from lipmat import io
    from lipmat.models import UniaxialTangent

    (tmp_path / "models").mkdir()
    io.save(UniaxialTangent(max_stiffness=2e6), tmp_path / "models" / "bar.pt")
    deck = tmp_path / "model.toml"
    deck.write_text("""
[mesh]
generator = "bar"
lx = 0.1
nx = 10
[material]
model = "models/bar.pt"
density = 1000.0
[[bc]]
where = "left"
[initial]
velocity = ["0.1 * x / 0.1"]
[time]
end = 2e-3
dt = "certified"
[output]
dir = "out"
fields = false
plot = false
""")
    assert main(["run", str(deck), "--json", "--no-progress"]) == 0
    s = json.loads(capsys.readouterr().out)
    assert s["material"] == str((tmp_path / "models" / "bar.pt").resolve())
    assert set(s["outputs"]) == {"energy_csv"} and s["frames"] == 0
    assert s["energy_error_max"] < 0.05
    shutil.rmtree(tmp_path / "models")
    assert main(["run", str(deck), "--no-progress"]) == 2
    assert "file not found" in capsys.readouterr().err


def test_monitor_every_records_the_margin_in_the_energy_csv(tmp_path, capsys):
    """[solver] monitor_every: the measured critical step (Lanczos, an estimate) and the margin
    dt_critical/dt land in every energy row. On the uniform bar the certified step is h/c, the exact
    critical step, so the margin is 1 to rounding and never below it."""
    text = (DECKS / "bar_impact.toml").read_text() + "\n[solver]\nmonitor_every = 50\n"
    path = tmp_path / "bar.toml"
    path.write_text(text)
    out = tmp_path / "out"
    assert main(["run", str(path), "--out", str(out), "--json", "--no-progress"]) == 0
    s = json.loads(capsys.readouterr().out)
    header = (out / "energy.csv").read_text().splitlines()[0].split(",")
    assert header[-2:] == ["dt_critical_s", "dt_margin"]
    e = np.loadtxt(out / "energy.csv", delimiter=",", skiprows=1)
    dt_crit, margin = e[:, -2], e[:, -1]
    assert np.all(np.isfinite(margin))                     # measured at the start, so row 0 has one too
    np.testing.assert_allclose(margin, dt_crit / s["dt"], rtol=1e-12)
    h, c = 1.0 / 200, math.sqrt(70e9 / 2700.0)
    np.testing.assert_allclose(dt_crit, h / c, rtol=1e-6)  # linear: the critical step does not change
    assert margin.min() >= 1 - 1e-6
    assert s["dt_margin_min"] == pytest.approx(margin.min(), rel=1e-12)


def test_monitor_every_must_be_a_positive_step_count(tmp_path, capsys):
    path = tmp_path / "bar.toml"
    path.write_text((DECKS / "bar_impact.toml").read_text() + "\n[solver]\nmonitor_every = 0\n")
    assert main(["run", str(path), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "[solver]: monitor_every must be >= 1, got 0" in err, err


def test_balance_error_is_relative_to_the_run_s_peak_energy():
    """In the first steps every energy is tiny, so a row-by-row ratio is O(1) there (here 0.5 at row 1)
    while nothing is wrong: the summary divides each residual by the largest energy of the whole run."""
    from fem.solver.energy import run_balance_error as balance_error

    e = {"kinetic": [0.0, 1e-12, 1.0, 1.0], "internal": [0.0, 0.0, 0.0, 0.0],
         "external": [0.0, 2e-12, 1.001, 1.0], "damping": [0.0, 0.0, 0.0, 0.0]}
    worst, final = balance_error(e)
    assert worst == pytest.approx(1e-3 / 1.001, rel=1e-12) and final == 0.0
    # an initial energy counts: a body released from a strained state with nothing else going on
    e = {"kinetic": [0.0, 0.5], "internal": [2.0, 1.5], "external": [0.0, 0.0], "damping": [0.0, 0.0]}
    assert balance_error(e) == (0.0, 0.0)
    assert balance_error({"kinetic": [], "internal": [], "external": [], "damping": []}) == (None, None)
