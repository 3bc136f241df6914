"""TOML input decks: what a deck builds, and a clear error for each kind of bad input."""
import math
from pathlib import Path

import meshio
import numpy as np
import pytest

import fem
from fem.deck import load_deck, parse_deck
from fem.core.errors import DeckError
from fem.deck.expressions import Expression, Ramp, Sine, Step, Table

ROOT = Path(__file__).resolve().parents[1]

BASE = """
title = "strip"
[mesh]
generator = "rectangle"
lx = 2.0
ly = 1.0
nx = 4
ny = 2
thickness = 0.1
[material]
type = "linear_elastic"
E = 1e3
nu = 0.3
density = 2.0
[[bc]]
where = "left"
[[bc]]
type = "velocity"
where = "x == 2 and y < 0.6"
component = "x"
value = 0.5
amplitude = { type = "ramp", t1 = 0.1 }
[[load]]
type = "traction"
where = "top"
traction = [0.0, -10.0]
amplitude = { type = "table", points = [[0, 0], [0.1, 1], [0.2, 0]] }
[[load]]
type = "body"
acceleration = [0.0, -9.81]
[initial]
velocity = [0.0, "0.1 * x * (y > 0.4)"]
[time]
end = 0.2
dt = 1e-3
mass_damping = 0.5
[output]
dir = "out"
every = 5
compression = "none"
[output.probes]
corner = "x == 2 and y == 1"
"""


def deck(tmp_path, text=BASE, **kw):
    path = tmp_path / "sim.toml"
    path.write_text(text)
    return load_deck(path, **kw)


def error(tmp_path, text, **kw) -> str:
    with pytest.raises(DeckError) as exc:
        deck(tmp_path, text, **kw)
    return str(exc.value)


def test_a_deck_builds_the_problem(tmp_path):
    d = deck(tmp_path)
    p = d.problem
    assert (p.mesh.n_cells, p.mesh.cell_type, p.thickness, p.density, p.damping) == (16, "triangle", 0.1, 2.0, 0.5)
    assert isinstance(p.material, fem.LinearElastic) and (p.material.E, p.material.nu) == (1e3, 0.3)
    assert p.material.kinematics == "plane_strain"
    fixed, vel = p.bcs
    assert isinstance(fixed, fem.Fixed) and fixed.where == "left" and fixed.components is None
    assert isinstance(vel, fem.Prescribed) and vel.component == "x" and vel.displacement is None
    assert [vel.velocity(t) for t in (0.0, 0.05, 0.1, 1.0)] == [0.0, 0.25, 0.5, 0.5]
    trac, body = p.loads
    assert isinstance(trac, fem.Traction) and trac.amplitude(0.15) == pytest.approx(0.5)
    assert isinstance(body, fem.BodyForce) and list(body.acceleration) == [0.0, -9.81]
    x, y = p.mesh.points.T
    np.testing.assert_array_equal(p.v0, np.stack([0 * x, 0.1 * x * (y > 0.4)], 1))
    assert (d.t_end, d.dt, d.title) == (0.2, 1e-3, "strip")
    assert d.output.dir == (tmp_path / "out").resolve()            # relative to the deck's folder
    assert d.output.energy_csv == d.output.dir / "energy.csv" and d.output.compression is None
    assert d.solve_kwargs()["save"].every == 5 and d.output.probes == {"corner": "x == 2 and y == 1"}
    res = fem.solve(p, 0.01, d.dt, progress=False)                 # the problem really runs
    assert res.completed


@pytest.mark.parametrize("name", ["bar_impact", "plate_pulse"])
def test_the_example_decks_load(name):
    d = load_deck(ROOT / "examples" / "decks" / f"{name}.toml")
    assert d.dt == "certified" and d.problem.mesh.n_cells > 0


@pytest.mark.parametrize("old, new, where, hint", [
    ("density = 2.0", "densty = 2.0", "[material]", "did you mean 'density'?"),
    ("[time]", "[tme]\nend=1\n[time]", "[top level]", "did you mean 'time'?"),
    ("every = 5", "evry = 5", "[output]", "did you mean 'every'?"),
    ('component = "x"', 'componnet = "x"', "[[bc]] #2", "did you mean 'component'?"),
    ("t1 = 0.1 }", "t_1 = 0.1 }", "[[bc]] #2 amplitude", "did you mean 't1'?"),
    ("thickness = 0.1", "thicknes = 0.1", "[mesh]", "did you mean 'thickness'?"),
    ("mass_damping = 0.5", "mass_dampng = 0.5", "[time]", "did you mean 'mass_damping'?"),
])
def test_unknown_keys_name_the_table_and_suggest_the_nearest(tmp_path, old, new, where, hint):
    msg = error(tmp_path, BASE.replace(old, new))
    assert msg.startswith(f"sim.toml: {where}: unknown key") and hint in msg
    assert "valid keys here:" in msg


def test_unknown_set_name_suggests_and_lists_known_sets(tmp_path):
    msg = error(tmp_path, BASE.replace('where = "left"', 'where = "lft"'))
    assert "[[bc]] #1" in msg and "'lft' is neither a set of the mesh nor a selector" in msg
    assert "did you mean 'left'?" in msg and "known sets: bottom, left, right, top" in msg


def test_selector_that_selects_nothing(tmp_path):
    msg = error(tmp_path, BASE.replace('where = "top"', 'where = "y == 5"'))
    assert "[[load]] #2".replace("2", "1") in msg and "selects no boundary facet" in msg
    assert "[0, 2] × [0, 1]" in msg
    msg = error(tmp_path, BASE.replace('corner = "x == 2 and y == 1"', 'corner = "x == 3"'))
    assert "[output.probes]: probe 'corner'" in msg and "selects no node" in msg


def test_selector_tolerance(tmp_path):
    text = BASE.replace('where = "left"', 'where = "x == 0.01"\ntol = 0.01')
    d = deck(tmp_path, text)
    name = d.problem.bcs[0].where
    np.testing.assert_array_equal(d.problem.mesh.nodes(name), d.problem.mesh.nodes("left"))
    assert "selects no node" in error(tmp_path, BASE.replace('where = "left"', 'where = "x == 0.01"'))


def test_missing_mesh_file_is_resolved_relative_to_the_deck(tmp_path, monkeypatch):
    text = BASE.replace('generator = "rectangle"\nlx = 2.0\nly = 1.0\nnx = 4\nny = 2\n', 'file = "meshes/part.vtu"\n')
    msg = error(tmp_path, text)
    assert "[mesh]: file = 'meshes/part.vtu': file not found" in msg
    assert str((tmp_path / "meshes" / "part.vtu").resolve()) in msg
    (tmp_path / "meshes").mkdir()
    m = fem.rectangle(2.0, 1.0, 4, 2)
    meshio.write(tmp_path / "meshes" / "part.vtu", m.to_meshio())
    monkeypatch.chdir(tmp_path / "meshes")              # the cwd does not matter
    d = deck(tmp_path, text)
    np.testing.assert_array_equal(d.problem.mesh.points, m.points)
    assert "left" in d.problem.mesh.node_sets          # sets survive the VTU round trip


@pytest.mark.parametrize("material, expect", [
    ('type = "nonlinear_bar"\nE1 = 1.0\nE2 = 2.0\neps0 = 0.1', "kinematics mismatch: material's 'uniaxial' vs mesh's "
                                                               "'plane_strain'"),
    ('type = "linear_elastic"\nE = 1e3\nkinematics = "3d"', "material's '3d' vs mesh's 'plane_strain'"),
])
def test_kinematics_mismatch(tmp_path, material, expect):
    text = BASE.replace('type = "linear_elastic"\nE = 1e3\nnu = 0.3', material)
    msg = error(tmp_path, text)
    assert msg.startswith("sim.toml: [material]:") and expect in msg and "the mesh is 2D (triangle)" in msg


@pytest.mark.parametrize("old, new, expect", [
    ("E = 1e3", 'E = "1e3"', "[material]: E must be a finite number, got str '1e3'"),
    ("nx = 4", "nx = 2.5", "[mesh]: nx must be an integer, got float 2.5"),
    ("traction = [0.0, -10.0]", "traction = [0.0, -10.0, 1.0]",
     "[[load]] #1: traction must be a list of 2 numbers (one per direction of the 2D mesh)"),
    ('dt = 1e-3', 'dt = "auto"', '[time]: dt must be a number (s) or "certified", got \'auto\''),
    ('end = 0.2', 'end = -0.2', "[time]: end must be > 0, got -0.2"),
    ("density = 2.0\n", "", "[material]: missing required key 'density'"),
    ('type = "linear_elastic"', 'type = "linear_elastc"', "did you mean 'linear_elastic'?"),
    ('component = "x"', 'component = "z"', 'component must be "x" or "y" on this 2D mesh, got \'z\''),
    ("[output]\ndir", "[output]\nfields = 1\ndir", "[output]: fields must be true or false, got int 1"),
    ("thickness = 0.1", "area = 0.1", "[mesh]: area (cross-section) applies to 1D meshes; this mesh is 2D"),
    ("E = 1e3", "E = -1e3", "[material]: Young's modulus E must be > 0"),
    ("t1 = 0.1 }", "t1 = -0.1 }", "[[bc]] #2 amplitude: ramp needs t1 > t0"),
    ("[[0, 0], [0.1, 1], [0.2, 0]]", "[[0, 0], [0, 1]]", "table times must increase strictly"),
])
def test_wrong_values_say_where_and_what_was_expected(tmp_path, old, new, expect):
    assert old in BASE
    msg = error(tmp_path, BASE.replace(old, new, 1))
    assert expect in msg, msg


def test_missing_tables_and_bad_toml(tmp_path):
    time_table = BASE[BASE.index("[time]"):BASE.index("[output]")]
    assert "missing required table [time]" in error(tmp_path, BASE.replace(time_table, ""))
    assert "not valid TOML" in error(tmp_path, BASE + "\n[mesh\n")
    with pytest.raises(FileNotFoundError, match="deck not found"):
        load_deck(tmp_path / "nope.toml")
    msg = error(tmp_path, BASE.replace('generator = "rectangle"', 'generator = "rectangle"\nfile = "m.msh"'))
    assert "give exactly one of file" in msg


def test_initial_expressions_are_safe(tmp_path):
    for bad, expect in [('"__import__(\'os\')"', "unknown function '__import__'"),
                        ('"exp.__class__(1)"', "unknown function 'exp.__class__'"),
                        ('"x.real"', "'x.real' is not allowed"),
                        ('"sinn(x)"', "did you mean 'sin'?"),
                        ('"z"', "unknown name 'z' on a 2D mesh"),
                        ('"1 / (x - x)"', "is not finite at node 0"),
                        ('"x +"', "is not valid")]:
        msg = error(tmp_path, BASE.replace('"0.1 * x * (y > 0.4)"', bad))
        assert "[initial]: velocity[1]" in msg and expect in msg, msg
    e = Expression("max(x, 0.5) + (2 if y > 0 else -1) * sqrt(abs(y)) - pi % 3", dim=2)
    pts = np.array([[0.0, 4.0], [1.0, -1.0]])
    np.testing.assert_allclose(e(pts), [0.5 + 4 - math.pi % 3, 1 - 1 - math.pi % 3])


def test_amplitudes():
    assert [Ramp(2.0, 1.0)(t) for t in (0, 1.5, 3)] == [0.0, 0.5, 1.0]
    assert [Step(1.0, 2.0)(t) for t in (0.5, 1.0, 1.99, 2.0)] == [0.0, 1.0, 1.0, 0.0]
    assert [Table(((0, 0), (1, 2)))(t) for t in (-1, 0.25, 5)] == [0.0, 0.5, 2.0]
    assert Sine(50.0, math.pi / 2)(0.01) == pytest.approx(math.cos(math.pi))


def test_model_files_need_a_loader(tmp_path):
    (tmp_path / "rubber.pt").write_bytes(b"")
    text = BASE.replace('type = "linear_elastic"\nE = 1e3\nnu = 0.3', 'model = "rubber.pt"')
    assert "needs a material loader: run this deck with `lipmat run`" in error(tmp_path, text)
    seen = []

    def loader(path):
        seen.append(path)
        return fem.LinearElastic(5.0, 0.2, "plane_strain")

    d = deck(tmp_path, text, material_loader=loader)
    assert seen == [str((tmp_path / "rubber.pt").resolve())] and d.problem.material.E == 5.0
    assert d.material_source == seen[0]
    msg = error(tmp_path, text, material_loader=lambda p: fem.NonlinearBar())
    assert "kinematics mismatch" in msg
    assert "file not found" in error(tmp_path, text.replace("rubber.pt", "gone.pt"), material_loader=loader)


def test_parse_deck_from_text():
    d = parse_deck(BASE.replace('dt = 1e-3', 'dt = "certified"'))
    assert d.dt == "certified" and d.problem.mesh.dim == 2


def test_a_misspelt_type_key_is_suggested_before_the_missing_one(tmp_path):
    msg = error(tmp_path, BASE.replace('type = "linear_elastic"', 'typ = "linear_elastic"'))
    assert "[material]: unknown key 'typ' (did you mean 'type'?)" in msg
    msg = error(tmp_path, BASE.replace('generator = "rectangle"', 'generater = "rectangle"'))
    assert "[mesh]: unknown key 'generater' (did you mean 'generator'?)" in msg


def test_probes_and_conditions_use_the_decks_tolerance_at_run_time(tmp_path):
    """A probe and a bc found with ``[mesh] tol`` are the nodes the run uses (selected once, at load)."""
    text = BASE.replace("thickness = 0.1\n", "thickness = 0.1\ntol = 0.01\n")
    text = text.replace('corner = "x == 2 and y == 1"', 'near_left = "x == 0.01"')
    text = text.replace('where = "left"', 'where = "x == 0.01"')
    d = deck(tmp_path, text)
    left = d.problem.mesh.nodes("left")
    np.testing.assert_array_equal(d.output.probe_nodes["near_left"], left)
    np.testing.assert_array_equal(d.problem.mesh.nodes(d.problem.bcs[0].where), left)
    kw = d.solve_kwargs()
    kw.update(t_end=0.005, progress=False)
    res = fem.solve(d.problem, **kw)
    assert res.completed, res.message
    np.testing.assert_array_equal(res.probes["near_left"], 0.0)   # the probe sits on the fixed edge
