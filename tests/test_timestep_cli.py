"""`lipmat dt`: text and JSON output, numbers against the library, one-line errors."""
import json

import pytest

import fem
from fem.stability.timestep import exact_time_step
from lipmat.cli import main
from lipmat.cli.dt import load_mesh


def _json(capsys, argv):
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def test_json_keys_and_values_match_the_exact_step(capsys):
    spec = "rect:lx=2,ly=1,nx=8,ny=4,cell=quad,distort=0.2,seed=2"
    r = _json(capsys, ["dt", "--mesh", spec, "--model", "linear:E=2e9,nu=0.3", "--density", "1500", "--json"])
    for key in ("dt_certified", "dt_certified_element", "dt_critical", "ratio", "controlling_element"):
        assert key in r
    a = fem.Assembly(load_mesh(spec))
    exact = exact_time_step(a, fem.LinearElastic(2e9, 0.3, "plane_strain").stiffness_bound(), 1500.0)
    assert r["method"] == "global" and r["dt_certified"] == r["dt_certified_global"]
    assert r["dt_certified_element"] <= r["dt_certified"] <= exact
    assert r["dt_critical"] == pytest.approx(exact, rel=1e-6)
    assert r["ratio"] == pytest.approx(r["dt_certified"] / r["dt_critical"])
    assert 0 <= r["controlling_element"] < r["n_cells"] and len(r["controlling_centroid"]) == 2


def test_element_only_damping_and_nonlinear_bar(capsys):
    r = _json(capsys, ["dt", "--mesh", "bar:L=1,n=20", "--model", "nonlinear-bar:E1=1e6,E2=4e6,eps0=0.05",
                       "--density", "1000", "--method", "element", "--damping-ratio", "0.1", "--json"])
    assert r["dt_certified_global"] is None and r["method"] == "element"
    h, c_b, c_0 = 1 / 20, (4e6 / 1000) ** 0.5, (1e6 / 1000) ** 0.5
    damp = (1.01**0.5 - 0.1)
    assert r["dt_certified"] == pytest.approx(h / c_b * damp, rel=1e-9)
    assert r["dt_critical"] == pytest.approx(h / c_0 * damp, rel=1e-6)  # tangent E1 at u = 0
    assert r["ratio"] == pytest.approx(0.5, rel=1e-6)


def test_text_output_names_everything(capsys):
    assert main(["dt", "--mesh", "box:nx=2,ny=2,nz=2,cell=tetra", "--model", "linear:E=1e9,nu=0.49",
                 "--density", "1000"]) == 0
    out = capsys.readouterr().out
    for word in ("certified dt (element form)", "certified dt (global form)", "critical dt at u = 0",
                 "ratio", "controlling element"):
        assert word in out


def test_mesh_file_is_read(tmp_path, capsys):
    path = tmp_path / "plate.vtu"
    fem.rectangle(1.0, 1.0, 4, 4).to_meshio().write(path)
    r = _json(capsys, ["dt", "--mesh", str(path), "--model", "linear:E=1,nu=0.3", "--density", "1", "--json"])
    assert r["n_cells"] == 32 and r["cell_type"] == "triangle"


@pytest.mark.parametrize("argv, message", [
    (["--mesh", "bar:L=1,n=4", "--model", "steel:E=1", "--density", "1"], "unknown model spec"),
    (["--mesh", "bar:L=1,n=4", "--model", "linear:nu=0.3", "--density", "1"], "E is required"),
    (["--mesh", "bar:L=1,n=4", "--model", "linear:E=1,G=2", "--density", "1"], "keys"),
    (["--mesh", "missing.msh", "--model", "linear:E=1", "--density", "1"], "not found"),
    (["--mesh", "rect:nx=two", "--model", "linear:E=1", "--density", "1"], "nx must be"),
    (["--mesh", "bar:L=1,n=4", "--model", "linear:E=1", "--density", "-3"], "expected a mass density in"),
    (["--mesh", "bar:L=1,n=4", "--model", "missing.pt", "--density", "1"], "not found"),
    (["--mesh", "bar:L=1,n=4", "--model", "linear:E=1", "--density", "1", "--safety", "2"], "safety"),
])
def test_bad_input_is_one_line_and_exit_2(capsys, argv, message):
    assert main(["dt", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("lipmat dt: error:") and message in err and "\n" not in err


def test_model_file_through_lipmat_io(tmp_path, capsys):
    from lipmat import io, models

    path = tmp_path / "iso.pt"
    io.save(models.IsotropicPotential("plane_strain", 1e9, 5e8), path)
    r = _json(capsys, ["dt", "--mesh", "rect:nx=5,ny=5", "--model", str(path), "--density", "1000", "--json"])
    assert r["material"] == "IsotropicPotential"
    assert r["dt_certified_element"] <= r["dt_certified"] <= r["dt_critical"]
    assert main(["dt", "--mesh", "box:nx=1,ny=1,nz=1", "--model", str(path), "--density", "1000"]) == 2
    assert "kinematics mismatch" in capsys.readouterr().err


def test_run_viscosity_factor_is_what_a_default_run_applies(capsys):
    """`lipmat dt` reports the undamped certified steps and the factor a default run applies to them:
    the ratio of a default run's certified step to a plain-scheme run's on the same problem."""
    spec = "rect:lx=1,ly=0.5,nx=8,ny=4"
    r = _json(capsys, ["dt", "--mesh", spec, "--model", "linear:E=1e6,nu=0.3", "--density", "1000", "--json"])
    problem = fem.Problem(load_mesh(spec), fem.LinearElastic(1e6, 0.3, "plane_strain"), 1000.0,
                          bcs=[fem.Fixed("left")])
    damped = fem.solve(problem, 1e-4, "certified", certified="element")
    plain = fem.solve(problem, 1e-4, "certified", certified="element", viscosity=False)
    assert damped.dt_certified / plain.dt_certified == pytest.approx(r["run_viscosity_factor"], rel=1e-12)
    assert plain.dt_certified == pytest.approx(r["dt_certified_element"], rel=1e-12)
    assert 0.9 < r["run_viscosity_factor"] < 1.0
