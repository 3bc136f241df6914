"""Bad input to fem, generated: every case gives one clear error and nothing runs silently wrong.

Categories (cases are parametrized; counts in the ids): expressions, generator specs, material specs,
mesh files (corrupt VTU / msh written to tmp_path, read by ``fem.Mesh.read``, a deck's ``[mesh] file``
and ``lipmat dt --mesh``), deck files (TOML), output paths, checkpoints. Through the CLI each case asserts
exit code 2, one line on stderr, no traceback, and that the message names the file / key / line and what
was expected. Through the API it asserts the error type and the same message content.

Properties checked beside the errors: an expression cannot write into the mesh coordinates; a NaN in
the middle of a run keeps the last good state and the frames already written; a crafted checkpoint is
refused without running its payload, and a restart still equals an uninterrupted run.
"""
from __future__ import annotations

import math
import os
import pickle
import re
import stat

import meshio
import numpy as np
import pytest
import torch

import fem
from fem.core.errors import DeckError, FemError, LimitError, MeshError
from fem.deck.expressions import MAX_DEPTH, MAX_LENGTH, Expression
from lipmat.cli import main


def _cli_error(capsys, argv) -> str:
    """Run ``lipmat argv``; assert exit 2, one stderr line, no traceback; return that line."""
    code = main(argv)
    cap = capsys.readouterr()
    assert code == 2, (code, cap.err)
    assert "Traceback" not in cap.err
    lines = cap.err.strip().splitlines()
    assert len(lines) == 1, cap.err
    return lines[0]


def _has(text: str, *parts: str) -> None:
    for p in parts:
        assert p in text, f"{p!r} not in {text!r}"


# =============================================================================================
# expressions (API): refused with a message that quotes the text and says what is allowed/expected
EXPRESSIONS = [
    ("0 * sin(x, x)", "sin() takes exactly 1 argument, got 2"),
    ("sin(x, out=x)", "keyword arguments are not allowed"),
    ("exp(x, x)", "exp() takes exactly 1 argument"),
    ("sqrt(x, x)", "sqrt() takes exactly 1 argument"),
    ("abs(x, x, x)", "abs() takes exactly 1 argument, got 3"),
    ("min(x)", "min() takes exactly 2 arguments, got 1"),
    ("max(x, 1, 2)", "max() takes exactly 2 arguments, got 3"),
    ("atan2(x)", "atan2() takes exactly 2 arguments, got 1"),
    ("sin()", "sin() takes exactly 1 argument, got 0"),
    ("sin(*x)", "unpacking (*) is not allowed"),
    ("cos(x=1)", "keyword arguments are not allowed"),
    ("x.real", "'x.real' is not allowed"),
    ("x.__class__", "is not allowed"),
    ("__import__('os')", "unknown function '__import__'"),
    ("open('f')", "unknown function 'open'"),
    ("eval('1')", "unknown function 'eval'"),
    ("q + 1", "unknown name 'q'"),
    ("z + 1", "unknown name 'z' on a 2D mesh"),
    ("sine(x)", "did you mean 'sin'"),
    ("x[0]", "is not allowed"),
    ("lambda: 1", "is not allowed"),
    ("'text'", "'text' is not a number"),
    ("True + x", "True is not a number"),
    ("[x, y]", "is not allowed"),
    ("(x := 1)", "is not allowed"),
    ("[i for i in x]", "is not allowed"),
    ("x if y", "is not valid"),
    ("1 +", "is not valid"),
    ("x << 2", "is not allowed"),
    ("not x", "is not allowed"),
    ("x and y", "is not allowed"),
    ("1" * 400, "too large for a float"),
    ("x" * (MAX_LENGTH + 1), f"expected at most {MAX_LENGTH}"),
    ("+".join(["x"] * (MAX_DEPTH + 5)), f"nests operations more than {MAX_DEPTH} deep"),
    ("-" * (MAX_DEPTH + 5) + "x", f"nests operations more than {MAX_DEPTH} deep"),
    ("(" * (MAX_DEPTH + 1) + "x" + ")" * (MAX_DEPTH + 1), f"expected at most {MAX_DEPTH}"),
    ("sin(" * 120 + "x" + ")" * 120, f"expected at most {MAX_DEPTH}"),
    ("(" * 100_000, "characters long"),
]


@pytest.mark.parametrize("text, expected", EXPRESSIONS, ids=[f"expr{i}" for i in range(len(EXPRESSIONS))])
def test_expression_is_refused(text, expected):
    with pytest.raises(FemError) as info:
        Expression(text, dim=2)
    msg = str(info.value)
    _has(msg, "expression", expected)
    assert len(msg) < 600   # a long text is shortened in the message


@pytest.mark.parametrize("text", ["sin(x)", "max(x, y)", "atan2(y, x)", "x + y", "exp(-x) * (y > 0.5)"])
def test_expression_never_changes_the_points_it_is_given(text, rng):
    """The evaluator hands functions only arrays it owns: the caller's points are unchanged, bit for bit."""
    pts = rng.uniform(-1, 1, size=(50, 2))
    before = pts.copy()
    values = Expression(text, dim=2)(pts)
    np.testing.assert_array_equal(pts, before)
    x, y = before.T
    expected = {"sin(x)": np.sin(x), "max(x, y)": np.maximum(x, y), "atan2(y, x)": np.arctan2(y, x),
                "x + y": x + y, "exp(-x) * (y > 0.5)": np.exp(-x) * (y > 0.5)}[text]
    np.testing.assert_array_equal(values, expected)


# =============================================================================================
# generator specs (API): whole numbers, positive finite lengths, a cell limit before any array
GENERATORS = [
    (lambda: fem.rectangle(1, 1, 2.7, 2), "nx must be a whole number of elements >= 1, got 2.7"),
    (lambda: fem.rectangle(1, 1, 2, 0), "ny must be a whole number of elements >= 1, got 0"),
    (lambda: fem.rectangle(1, 1, -3, 2), "nx must be a whole number"),
    (lambda: fem.rectangle(1, 1, math.nan, 2), "nx must be a whole number"),
    (lambda: fem.rectangle(1, 1, math.inf, 2), "nx must be a whole number"),
    (lambda: fem.rectangle(1, 1, "3", 2), "nx must be a whole number"),
    (lambda: fem.rectangle(1, 1, True, 2), "nx must be a whole number"),
    (lambda: fem.rectangle(0, 1, 2, 2), "lx must be a positive finite length"),
    (lambda: fem.rectangle(1, -1, 2, 2), "ly must be a positive finite length"),
    (lambda: fem.rectangle(math.nan, 1, 2, 2), "lx must be a positive finite length"),
    (lambda: fem.rectangle(math.inf, 1, 2, 2), "lx must be a positive finite length"),
    (lambda: fem.rectangle(1, 1, 2, 2, cell="hexahedron"), "rectangle cell must be 'triangle' or 'quad'"),
    (lambda: fem.bar(1.0, 2.5), "n_elements must be a whole number"),
    (lambda: fem.bar(-1.0, 10), "length must be a positive finite length"),
    (lambda: fem.bar(1.0, 10, origin=math.nan), "origin must be a finite number"),
    (lambda: fem.box(1, 1, 1, 2, 2, 0.5), "nz must be a whole number"),
    (lambda: fem.box(1, 1, 0, 2, 2, 2), "lz must be a positive finite length"),
    (lambda: fem.box(1, 1, 1, 2, 2, 2, cell="quad"), "box cell must be 'tetra' or 'hexahedron'"),
]
HUGE = [
    (lambda: fem.bar(1.0, 10**12), "1e+12 cells"),
    (lambda: fem.rectangle(1, 1, 10**6, 10**6), "2e+12 cells"),
    (lambda: fem.rectangle(1, 1, 10**5, 10**4, cell="quad"), "1e+09 cells"),
    (lambda: fem.box(1, 1, 1, 1000, 1000, 1000), "1e+09 cells"),
    (lambda: fem.box(1, 1, 1, 300, 300, 300, cell="tetra"), "1.62e+08 cells"),
    (lambda: fem.box(1, 1, 1, 10**9, 10**9, 10**9), "1e+27 cells"),
]


@pytest.mark.parametrize("make, expected", GENERATORS, ids=[f"gen{i}" for i in range(len(GENERATORS))])
def test_generator_spec_is_refused(make, expected):
    with pytest.raises(MeshError, match=re.escape(expected)):
        make()


@pytest.mark.parametrize("make, expected", HUGE, ids=[f"huge{i}" for i in range(len(HUGE))])
def test_huge_generator_spec_is_refused_before_any_array(make, expected):
    with pytest.raises(LimitError) as info:
        make()
    _has(str(info.value), expected, f"above the limit of {fem.core.limits.MAX_CELLS:.4g} cells")


def test_integral_float_counts_are_whole_numbers():
    assert fem.rectangle(1, 1, 4.0, 2).n_cells == 16


# =============================================================================================
# decks (TOML) run through `lipmat run`: exit 2, one line naming the deck, the table and the key
BASE = {
    "mesh": 'generator = "bar"\nlx = 1.0\nnx = 10',
    "material": 'type = "linear_elastic"\nE = 1e9\ndensity = 1000.0',
    "bc": 'where = "left"',
    "time": 'end = 1e-3\ndt = "certified"',
    "output": 'dir = "out"',
}


def _deck(tmp_path, name="deck.toml", **tables) -> str:
    parts = {**BASE, **tables}
    text = "\n".join(f"[[{k}]]\n{v}\n" if k == "bc" else f"[{k}]\n{v}\n" for k, v in parts.items() if v is not None)
    path = tmp_path / name
    path.write_text(text)
    return str(path)


DECKS = [
    # material: float-safe ranges and the certified step
    (dict(material='type = "linear_elastic"\nE = 1e300\ndensity = 1000.0'), ["[material]", "E = 1e+300", "[1e-06, 1e+15] Pa"]),
    (dict(material='type = "linear_elastic"\nE = 1e-300\ndensity = 1000.0'), ["[material]", "E = 1e-300", "range"]),
    (dict(material='type = "linear_elastic"\nE = 1e9\nnu = 0.5\ndensity = 1000.0'), ["[material]", "nu"]),
    (dict(material='type = "linear_elastic"\nE = 1e9\nnu = 0.49999999999999\ndensity = 1000.0'), ["[material]", "nu", "0.5"]),
    (dict(material='type = "linear_elastic"\nE = 1e9\nnu = -1.0\ndensity = 1000.0'), ["[material]", "nu"]),
    (dict(material='type = "linear_elastic"\nE = nan\ndensity = 1000.0'), ["[material]", "E must be a finite number"]),
    (dict(material='type = "linear_elastic"\nE = inf\ndensity = 1000.0'), ["[material]", "E must be a finite number"]),
    (dict(material='type = "linear_elastic"\nE = 1e9\ndensity = 0.0'), ["[material]", "density must be > 0"]),
    (dict(material='type = "linear_elastic"\nE = 1e9\ndensity = -5.0'), ["[material]", "density must be > 0"]),
    (dict(material='type = "nonlinear_bar"\nE1 = 1e9\nE2 = 1e300\neps0 = 0.1\ndensity = 1.0'), ["[material]", "E2 = 1e+300"]),
    (dict(material='type = "linear_elastic"\nE = "1e9"\ndensity = 1000.0'), ["[material]", "E must be a finite number"]),
    # generator specs in a deck
    (dict(mesh='generator = "bar"\nlx = 1.0\nnx = 2.7'), ["[mesh]", "nx must be an integer", "2.7"]),
    (dict(mesh='generator = "bar"\nlx = 1.0\nnx = 0'), ["[mesh]", "nx must be >= 1"]),
    (dict(mesh='generator = "bar"\nlx = 0.0\nnx = 10'), ["[mesh]", "lx must be > 0"]),
    (dict(mesh='generator = "bar"\nlx = nan\nnx = 10'), ["[mesh]", "lx must be a finite number"]),
    (dict(mesh='generator = "bar"\nlx = 1.0\nnx = 1000000000000'), ["[mesh]", "1e+12 cells", "above the limit"]),
    (dict(mesh='generator = "rectangle"\nlx = 1.0\nly = 1.0\nnx = 100000\nny = 100000', bc='where = "left"'),
     ["[mesh]", "2e+10 cells"]),
    (dict(mesh='generator = "box"\nlx = 1.0\nly = 1.0\nlz = 1.0\nnx = 1000\nny = 1000\nnz = 1000'), ["[mesh]", "1e+09 cells"]),
    # run bounds: steps, overflow, frames, bytes, with the override named
    (dict(time="end = 1e3\ndt = 1e-9"), ["[time]", "1e+12", "above the limit of 1e+08", "max_steps", "--force"]),
    (dict(time="end = 1e10\ndt = 1e-300"), ["[time]", "inf steps", "expected a finite number of steps"]),
    (dict(time="end = 1e308\ndt = 1e-308"), ["[time]", "expected a finite number of steps"]),
    (dict(time='end = 1e5\ndt = "certified"'), ["deck.toml", "[time]", "above the limit of 1e+08", "max_steps"]),
    (dict(time="end = 1.0\ndt = 1e-6", output='dir = "out"\nevery = 1'), ["[time]", "field frames", "max_frames"]),
    (dict(time="end = 1.0\ndt = 1e-6", output='dir = "out"\nevery = 1000\nmax_bytes = 1e3'),
     ["[time]", "estimated output", "max_bytes"]),
    (dict(time="end = 1.0\ndt = 1e-6", solver="max_steps = 1000"), ["[time]", "above the limit of 1000", "max_steps"]),
    (dict(solver="max_steps = 0"), ["[solver]", "max_steps must be > 0"]),
    (dict(solver='max_steps = "many"'), ["[solver]", "max_steps must be a finite number"]),
    (dict(output='dir = "out"\nmax_frames = -1'), ["[output]", "max_frames must be > 0"]),
    (dict(time="end = -1.0\ndt = 1e-6"), ["[time]", "end must be > 0"]),
    (dict(time="end = nan\ndt = 1e-6"), ["[time]", "end must be a finite number"]),
    (dict(time="end = 1e-3\ndt = inf"), ["[time]", "dt must be a finite number"]),
    (dict(time='end = 1e-3\ndt = "fast"'), ["[time]", "dt must be a number (s) or \"certified\""]),
    # conditions
    (dict(bc='where = "left"\ncomponents = nan'), ["[[bc]] #1", "components must be", "got nan"]),
    (dict(bc='where = "left"\ncomponents = {}'), ["[[bc]] #1", "components must be", "got {}"]),
    # threads (torch.set_num_threads(100000) is accepted, the next parallel region segfaults)
    (dict(solver="threads = 100000"), ["[solver]", "threads must be a whole number of CPU threads in [1, "]),
    (dict(solver="threads = 0"), ["[solver]", "threads must be >= 1"]),
    # devices
    (dict(solver='device = "cuda"'), ["[solver]", "device 'cuda'", "expected 'cpu'"]),
    (dict(solver='device = "cuda:7"'), ["[solver]", "device 'cuda:7'", "expected 'cpu'"]),
    (dict(solver='device = "meta"'), ["[solver]", "device 'meta'", "expected 'cpu'"]),
    (dict(solver='device = "gpu"'), ["[solver]", "device 'gpu' is not a torch device", "expected 'cpu'"]),
    (dict(solver='device = "cpu:x"'), ["[solver]", "device 'cpu:x'", "expected 'cpu'"]),
    # initial-condition expressions
    (dict(initial='displacement = ["0 * sin(x, x)"]'), ["[initial]", "displacement[0]", "sin() takes exactly 1"]),
    (dict(initial='velocity = ["x.real"]'), ["[initial]", "velocity[0]", "is not allowed"]),
    (dict(initial='velocity = ["y"]'), ["[initial]", "velocity[0]", "unknown name 'y' on a 1D mesh"]),
    (dict(initial='velocity = ["' + "+".join(["x"] * 150) + '"]'), ["[initial]", "velocity[0]", "deep"]),
    (dict(initial='velocity = ["' + "x" * 3000 + '"]'), ["[initial]", "velocity[0]", "characters long"]),
    (dict(initial='velocity = ["log(x - 2)"]'), ["[initial]", "velocity[0] is not finite at node 0"]),
    (dict(initial='velocity = ["min(x, x, x)"]'), ["[initial]", "min() takes exactly 2 arguments"]),
]


@pytest.mark.parametrize("tables, expected", DECKS, ids=[f"deck{i}" for i in range(len(DECKS))])
def test_bad_deck_exits_2_naming_the_deck_and_table(tmp_path, capsys, tables, expected):
    path = _deck(tmp_path, **tables)
    err = _cli_error(capsys, ["run", path, "--no-progress"])
    _has(err, "deck.toml", *expected)
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())  # nothing was written


def test_force_lifts_the_run_size_limits(tmp_path, capsys):
    """A run refused for its frames runs with --force (and with [output] max_frames = false)."""
    small = dict(time="end = 1e-3\ndt = 1e-6", output='dir = "out"\nevery = 1\nenergy_csv = false\nplot = false')
    path = _deck(tmp_path, **small, solver="max_steps = 100")
    err = _cli_error(capsys, ["run", path, "--no-progress"])
    _has(err, "above the limit of 100")
    lifted = fem.load_deck(path, limits=fem.Limits.off())
    assert lifted.solve_kwargs()["limits"] == fem.Limits.off()
    path2 = _deck(tmp_path, name="d2.toml", time="end = 1e-4\ndt = 1e-8",
                  output='dir = "out2"\nevery = 1\nmax_frames = false\nenergy_csv = false\nplot = false')
    deck = fem.load_deck(path2)
    assert deck.limits.max_frames is None and deck.limits.max_steps == fem.core.limits.MAX_STEPS


BINARY = [b"\xff\xfe\x00\x01", b"title = 'x'\n\x80\x81", b"\x89PNG\r\n\x1a\n" + bytes(range(256)),
          b"[mesh]\ngenerator = \"bar\"\n\xc3\x28"]


@pytest.mark.parametrize("data", BINARY, ids=[f"binary{i}" for i in range(len(BINARY))])
def test_binary_deck_names_the_file_and_line(tmp_path, capsys, data):
    path = tmp_path / "deck.toml"
    path.write_bytes(data)
    err = _cli_error(capsys, ["run", str(path), "--no-progress"])
    _has(err, str(path), "not a text deck", "is not UTF-8", "line", "expected a TOML file in UTF-8")
    with pytest.raises(DeckError):
        fem.load_deck(path)


INVALID_TOML = ["[mesh\ngenerator = 'bar'", "a = ", "[time]\nend = 1e-3\nend = 2e-3", "x = [1, 2"]


@pytest.mark.parametrize("text", INVALID_TOML, ids=[f"toml{i}" for i in range(len(INVALID_TOML))])
def test_invalid_toml_names_the_file_and_line(tmp_path, capsys, text):
    path = tmp_path / "deck.toml"
    path.write_text(text)
    err = _cli_error(capsys, ["run", str(path), "--no-progress"])
    _has(err, "deck.toml: not valid TOML")
    assert re.search(r"at line \d+|at end of document", err), err


# =============================================================================================
# mesh files: corrupt VTU / msh. Read three ways: Mesh.read, a deck's [mesh] file, lipmat dt --mesh
def _vtu_text() -> str:
    m = fem.rectangle(1.0, 1.0, 2, 2).to_meshio(sets=False)
    import io
    import contextlib
    import tempfile

    with tempfile.TemporaryDirectory() as d, contextlib.redirect_stdout(io.StringIO()), \
            contextlib.redirect_stderr(io.StringIO()):
        p = os.path.join(d, "m.vtu")
        meshio.write(p, m, binary=False)
        return open(p).read()


VTU = _vtu_text()


def _connectivity(text: str, ids: str) -> str:
    return re.sub(r'(Name="connectivity" format="ascii">\n)(.*?)(\n</DataArray>)',
                  lambda m: m.group(1) + ids + m.group(3), text, flags=re.S)


_GOOD_IDS = "0 1 4 0 4 3 1 2 4 2 5 4 3 4 6 4 7 6 4 5 8 4 8 7"
MESH_FILES = {
    "index_too_large.vtu": (_connectivity(VTU, _GOOD_IDS[:-1] + "99"), ["cell 7", "[4, 8, 99]", "expected ids in [0, 8]"]),
    "index_negative.vtu": (_connectivity(VTU, _GOOD_IDS[:-1] + "-1"), ["[4, 8, -1]", "expected ids in [0, 8]"]),
    "index_huge.vtu": (_connectivity(VTU, "123456789 " + _GOOD_IDS[2:]), ["123456789", "expected ids in [0, 8]"]),
    "too_few_ids.vtu": (_connectivity(VTU, _GOOD_IDS[:-2]), ["cannot read mesh", "expected a mesh file"]),
    "nan_point.vtu": (VTU.replace("5.00000000000e-01\n5.00000000000e-01", "nan\n5.00000000000e-01", 1),
                      ["point coordinates must be finite numbers", "point 4"]),
    "inf_point.vtu": (VTU.replace("1.00000000000e+00\n1.00000000000e+00", "inf\n1.00000000000e+00", 1),
                      ["point coordinates must be finite numbers"]),
    "truncated.vtu": (VTU[: len(VTU) // 2], ["cannot read mesh", "expected a mesh file"]),
    "empty.vtu": ("", ["cannot read mesh"]),
    "garbage.vtu": ("this is not a mesh\n" * 5, ["cannot read mesh"]),
    "vertex_only.vtu": (VTU.replace("5\n5\n5\n5\n5\n5\n5\n5", "1\n1\n1\n1\n1\n1\n1\n1"),
                        ["unsupported cell type", "supported: line, triangle"]),
    "unknown_type.vtu": (VTU.replace("5\n5\n5\n5\n5\n5\n5\n5", "5\n5\n5\n5\n5\n5\n5\n99"),
                         ["cannot handle (type 99)", "refusing to drop cells silently"]),
    "inverted.vtu": (_connectivity(VTU, "1 0 4" + _GOOD_IDS[5:]), ["1 of 8 triangle cells are inverted", "cell 0 at",
                                                                    "expected det J > 0"]),
    "degenerate.vtu": (_connectivity(VTU, "0 0 4" + _GOOD_IDS[5:]), ["inverted or degenerate", "cell 0"]),
    "garbage.msh": ("$MeshFormat\n4.1 0 8\n$EndMeshFormat\n$Nodes\nrubbish\n", ["cannot read mesh"]),
    "binary.msh": (bytes(range(256)) * 4, ["cannot read mesh"]),
}


def _write_mesh(tmp_path, name):
    data = MESH_FILES[name][0]
    path = tmp_path / name
    path.write_bytes(data) if isinstance(data, bytes) else path.write_text(data)
    return path


@pytest.mark.parametrize("name", list(MESH_FILES))
def test_corrupt_mesh_file_api(tmp_path, name):
    path = _write_mesh(tmp_path, name)
    with pytest.raises(MeshError) as info:
        fem.Mesh.read(path)
    _has(str(info.value), name, *MESH_FILES[name][1])


@pytest.mark.parametrize("name", list(MESH_FILES))
def test_corrupt_mesh_file_in_a_deck(tmp_path, capsys, name):
    _write_mesh(tmp_path, name)
    deck = _deck(tmp_path, mesh=f'file = "{name}"', bc='where = "x == 0"',
                 material='type = "linear_elastic"\nE = 1e9\ndensity = 1000.0')
    err = _cli_error(capsys, ["run", deck, "--no-progress"])
    _has(err, "deck.toml", "[mesh]", name, *MESH_FILES[name][1])


@pytest.mark.parametrize("name", list(MESH_FILES))
def test_corrupt_mesh_file_in_lipmat_dt(tmp_path, capsys, name):
    path = _write_mesh(tmp_path, name)
    err = _cli_error(capsys, ["dt", "--mesh", str(path), "--model", "linear:E=1e9", "--density", "1000"])
    _has(err, name, *MESH_FILES[name][1])


# =============================================================================================
# generator and material specs through `lipmat dt` (the spec parser: lipmat/cli/dt.py)
DT_SPECS = [
    (["--mesh", "rect:nx=2.7"], ["rect:nx=2.7", "nx", "integer"]),
    (["--mesh", "rect:nx=0"], ["rect:nx=0", "nx"]),
    (["--mesh", "rect:nx=-4"], ["rect:nx=-4", "nx"]),
    (["--mesh", "rect:lx=nan"], ["rect:lx=nan", "lx", "finite"]),
    (["--mesh", "rect:lx=-1"], ["rect:lx=-1", "lx"]),
    (["--mesh", "bar:n=1e12"], ["bar:n=1e12", "cells"]),
    (["--mesh", "rect:nx=100000,ny=100000"], ["rect:nx=100000,ny=100000", "cells"]),
    (["--mesh", "box:nx=1000,ny=1000,nz=1000"], ["box:nx=1000,ny=1000,nz=1000", "cells"]),
    (["--mesh", "rect:cell=hexahedron"], ["rect:cell=hexahedron", "cell"]),
    (["--model", "linear:E=1e300"], ["linear:E=1e300", "E", "range"]),
    (["--model", "linear:E=1e200,nu=0.3"], ["linear:E=1e200,nu=0.3", "range"]),
    (["--model", "linear:E=-1e9"], ["linear:E=-1e9", "E"]),
    (["--model", "linear:E=nan"], ["linear:E=nan", "E"]),
    (["--model", "linear:E=1e9,nu=0.5"], ["nu"]),
    (["--model", "linear:E=1e9,nu=2"], ["nu"]),
]


@pytest.mark.parametrize("args, expected", DT_SPECS, ids=[f"spec{i}" for i in range(len(DT_SPECS))])
def test_bad_spec_in_lipmat_dt(capsys, args, expected):
    argv = {"--mesh": "rect:nx=2,ny=2", "--model": "linear:E=1e9,nu=0.3", "--density": "1000"}
    argv[args[0]] = args[1]
    err = _cli_error(capsys, ["dt", *[x for kv in argv.items() for x in kv]])
    _has(err, *expected)


# =============================================================================================
# output paths: never replace a FIFO / device / folder; a folder that is or lies under a file
def _fifo(path):
    os.mkfifo(path)
    return path


OUTPUTS = [
    (lambda d: _fifo(d / "out" / "energy.csv"), 'dir = "out"', ["[output] energy_csv", "a FIFO"]),
    (lambda d: _fifo(d / "out" / "energy.png"), 'dir = "out"', ["[output] plot", "a FIFO"]),
    (lambda d: (d / "out" / "energy.csv").mkdir(), 'dir = "out"', ["[output] energy_csv", "a folder"]),
    (lambda d: None, 'dir = "out"\nenergy_csv = "/dev/null"', ["[output] energy_csv", "/dev/null", "character device"]),
    (lambda d: (d / "out").rmdir() or (d / "out").write_text("x"), 'dir = "out"', ["[output] dir", "is a file"]),
    (lambda d: (d / "out").rmdir() or (d / "out").write_text("x"), 'dir = "out/sub/deeper"',
     ["[output] dir", "lies under", "which is a file"]),
]


@pytest.mark.parametrize("prepare, output, expected", OUTPUTS, ids=[f"out{i}" for i in range(len(OUTPUTS))])
def test_bad_output_path_is_refused_before_the_run(tmp_path, capsys, prepare, output, expected):
    (tmp_path / "out").mkdir()
    prepare(tmp_path)
    deck = _deck(tmp_path, output=output)
    before = {p: p.lstat().st_mode for p in tmp_path.rglob("*")}
    err = _cli_error(capsys, ["run", deck, "--no-progress"])
    _has(err, *expected)
    assert {p: p.lstat().st_mode for p in tmp_path.rglob("*")} == before   # nothing created or replaced


@pytest.mark.parametrize("where", ["file", "under_file"])
def test_out_flag_that_is_or_lies_under_a_file(tmp_path, capsys, where):
    (tmp_path / "f").write_text("x")
    out = tmp_path / "f" if where == "file" else tmp_path / "f" / "sub"
    err = _cli_error(capsys, ["run", _deck(tmp_path), "--out", str(out), "--no-progress"])
    _has(err, "--out", str(tmp_path / "f"))
    assert (tmp_path / "f").read_text() == "x"


@pytest.mark.parametrize("kind", ["fifo", "dir"])
def test_an_input_that_is_not_a_regular_file_is_refused_not_read(tmp_path, capsys, kind):
    """A FIFO given as a deck, a mesh or a checkpoint would block a reader for ever; a folder is no file."""
    node = _fifo(tmp_path / "node") if kind == "fifo" else (tmp_path / "node").mkdir() or tmp_path / "node"
    _has(_cli_error(capsys, ["run", str(node)]), str(node), "not a regular file", "expected a TOML deck")
    with pytest.raises(MeshError, match="not a regular file"):
        fem.Mesh.read(node)
    with pytest.raises(FemError, match="not a regular file"):
        fem.io.checkpoint.load_checkpoint(node)
    deck = _deck(tmp_path, mesh='file = "node"')
    _has(_cli_error(capsys, ["run", deck]), "[mesh]", "file = 'node'", "not a regular file")


@pytest.mark.parametrize("kind", ["fifo", "dir", "devnull"])
def test_atomic_write_never_replaces_a_non_regular_file(tmp_path, kind):
    target = {"fifo": lambda: _fifo(tmp_path / "p"), "dir": lambda: (tmp_path / "d").mkdir() or tmp_path / "d",
              "devnull": lambda: "/dev/null"}[kind]()
    mode = os.stat(target).st_mode
    with pytest.raises(FemError, match="expected a new file or a regular file"):
        fem.atomic_write(target, lambda tmp: tmp.write_text("x"))
    assert os.stat(target).st_mode == mode and not stat.S_ISREG(mode)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]   # no temporary file left


# =============================================================================================
# API: run bounds, devices
def _bar_problem(E=1e9, nx=10):
    return fem.Problem(fem.bar(1.0, nx), fem.LinearElastic(E, 0.0, "uniaxial"), 1000.0, bcs=(fem.Fixed("left"),))


RUN_BOUNDS = [
    (dict(t_end=1e3, dt=1e-9), "1e+12"),
    (dict(t_end=1e10, dt=1e-300), "inf steps"),
    (dict(t_end=1e5, dt="certified"), "the number of time steps"),
    (dict(t_end=1.0, dt=1e-6, save=fem.SaveAt(every=1)), "field frames"),
    (dict(t_end=1e-2, dt=1e-6, limits=fem.Limits(max_steps=1000)), "above the limit of 1000"),
    (dict(t_end=1e-2, dt=1e-6, limits=fem.Limits(max_bytes=1e3)), "estimated output"),
]


@pytest.mark.parametrize("kw, expected", RUN_BOUNDS, ids=[f"bound{i}" for i in range(len(RUN_BOUNDS))])
def test_run_above_a_limit_is_refused_before_the_first_step(kw, expected):
    calls = []
    with pytest.raises(LimitError, match=re.escape(expected)):
        fem.solve(_bar_problem(), callback=calls.append, **kw)
    assert calls == []


def test_limits_off_lets_the_run_go():
    with pytest.raises(LimitError, match="field frames"):
        fem.solve(_bar_problem(), 3e-4, 1e-6, save=fem.SaveAt(every=1), limits=fem.Limits(max_frames=100))
    r = fem.solve(_bar_problem(), 3e-4, 1e-6, save=fem.SaveAt(every=1), limits=fem.Limits.off())
    assert r.completed and r.steps == 300


@pytest.mark.parametrize("mesh", [fem.bar(1.0, 200), fem.rectangle(1, 1, 12, 12), fem.box(1, 1, 1, 4, 4, 4)],
                         ids=["line", "triangle", "hexahedron"])
def test_the_run_size_estimate_matches_a_run(tmp_path, mesh):
    """Steps and frames are what the run does; bytes within 10 % of uncompressed VTU frames on disk."""
    kin = {1: "uniaxial", 2: "plane_strain", 3: "3d"}[mesh.dim]
    prob = fem.Problem(mesh, fem.LinearElastic(1e6, 0.3 if mesh.dim > 1 else 0.0, kin), 1.0,
                       bcs=(fem.Fixed("left"),), v0=lambda p: np.sin(p))
    writer = fem.FieldWriter(tmp_path, mesh, compression=None)
    r = fem.solve(prob, 1e-4, 1.01e-6, save=fem.SaveAt(every=7, writer=writer))   # shortened to 100 steps
    assert r.steps == 100 and fem.core.limits.count_steps(1e-4, 1.01e-6) == r.steps
    est = fem.core.limits.estimate_output(mesh, r.steps, save_every=7, energy_every=None)
    assert len(writer.files) <= est.frames <= len(writer.files) + 1
    on_disk = sum(p.stat().st_size for p in writer.files)
    frame_bytes = est.bytes - 200.0 * est.energy_rows
    assert 0.9 * on_disk <= frame_bytes * len(writer.files) / est.frames <= 1.1 * on_disk


@pytest.mark.parametrize("E", [1e300, 1e200, 1e30])
def test_a_stiffness_bound_beyond_float_range_names_the_material(E):
    with pytest.raises(FemError) as info:
        fem.solve(_bar_problem(E), 1e-3, "certified")
    _has(str(info.value), "LinearElastic(E=", f"{E:.4g} Pa", "expected a finite bound")


@pytest.mark.parametrize("n", [10**5, 10**9, 4 * (os.cpu_count() or 1) + 1])
def test_absurd_thread_count_is_refused_not_crashed(n):
    with pytest.raises(FemError, match=r"num_threads must be a whole number of CPU threads in \[1, "):
        fem.Compute(num_threads=n)


@pytest.mark.parametrize("device", ["cuda", "cuda:3", "meta", "tpu", "not-a-device", "mps"])
def test_unusable_device_is_one_clear_error(device):
    if torch.cuda.is_available() and device.startswith("cuda:0"):
        pytest.skip("valid here")
    if device.startswith("cuda") and torch.cuda.is_available() and int((device + ":0").split(":")[1]) < \
            torch.cuda.device_count():
        pytest.skip("valid here")
    with pytest.raises(FemError) as info:
        fem.Compute(device=device)
    msg = str(info.value)
    _has(msg, f"device {device!r}", "'cpu'")
    assert "\n" not in msg


# =============================================================================================
# NaN in the middle of a run: the last good state and the frames written so far are kept
class _BreaksAfter:
    """Linear in 1D for ``calls`` stress evaluations, then NaN in one cell (a law that fails mid-run)."""

    kinematics = "uniaxial"

    def __init__(self, E: float, calls: int):
        self.E, self.calls = E, calls

    def stress(self, strain):
        self.calls -= 1
        s = self.E * strain
        if self.calls < 0:
            s = s.clone()
            s[3] = float("nan")
        return s

    def stiffness_bound(self):
        return torch.tensor([[self.E]], dtype=torch.float64)


def test_nan_mid_run_keeps_the_last_good_state_and_the_frames(tmp_path):
    mesh = fem.bar(1.0, 10)
    prob = fem.Problem(mesh, _BreaksAfter(1e6, 60), 1.0, bcs=(fem.Fixed("left"),), v0=lambda p: np.sin(p))
    writer = fem.FieldWriter(tmp_path / "f", mesh)
    r = fem.solve(prob, 1e-2, 8e-5, save=fem.SaveAt(every=10, writer=writer))   # 125 steps; NaN at step 60
    assert r.status == "unstable" and "NaN" in r.message and r.fault.step == 60
    assert r.steps == 59   # the last good state
    assert torch.isfinite(r.final.u).all() and torch.isfinite(r.final.v).all()
    frames = fem.read_pvd(writer.index)
    assert len(frames) >= 2 and all(p.is_file() for _, p in frames)
    assert frames[-1][0] <= r.t + 1e-15
    last = meshio.read(frames[-1][1])
    assert np.all(np.isfinite(last.point_data["displacement"]))
    assert all(np.isfinite(r.energies[k]).all() for k in ("kinetic", "internal"))


# =============================================================================================
# checkpoints: loaded as safely as model files; restart still equals an uninterrupted run
class _Payload:
    def __reduce__(self):
        return (os.system, (f"touch {_Payload.marker}",))


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
def test_crafted_checkpoint_is_refused_without_running_it(tmp_path):
    marker = tmp_path / "pwned"
    _Payload.marker = marker
    path = tmp_path / "evil.ck"
    with open(path, "wb") as fh:
        pickle.dump({"version": 2, "x": _Payload()}, fh)
    torch.save({"version": 2, "x": _Payload()}, tmp_path / "evil2.ck")
    for p in (path, tmp_path / "evil2.ck"):
        with pytest.raises(FemError, match=re.escape(f"refused checkpoint {p}")):
            fem.io.checkpoint.load_checkpoint(p)
        with pytest.raises(FemError):
            fem.solve(_bar_problem(), 1e-3, "certified", restart=p)
    assert not marker.exists()


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
@pytest.mark.parametrize("content", [b"", b"not a checkpoint", pickle.dumps([1, 2, 3])])
def test_not_a_checkpoint_is_a_clear_error(tmp_path, content):
    path = tmp_path / "ck.pt"
    path.write_bytes(content)
    with pytest.raises(FemError, match=re.escape(str(path))):
        fem.io.checkpoint.load_checkpoint(path)


def test_restart_equals_an_uninterrupted_run(tmp_path):
    prob = fem.Problem(fem.bar(1.0, 10), fem.LinearElastic(1e6, 0.0, "uniaxial"), 1.0,
                       bcs=(fem.Fixed("left"),), v0=lambda p: np.sin(np.pi * p))
    probes = fem.Probes({"tip": "right"})
    full = fem.solve(prob, 1e-2, 8e-5, probes=probes)
    ck = tmp_path / "ck.pt"
    half = fem.solve(prob, 1e-2, 8e-5, probes=probes, checkpoint=fem.Checkpoint(ck, every=full.steps // 2),
                     callback=lambda s: (_ for _ in ()).throw(KeyboardInterrupt) if s.step == full.steps // 2 + 3
                     else None)
    assert half.status == "interrupted"
    rest = fem.solve(prob, 1e-2, 8e-5, probes=probes, restart=ck)
    assert rest.completed and rest.steps == full.steps
    torch.testing.assert_close(rest.final.u, full.final.u, rtol=0, atol=0)
    torch.testing.assert_close(rest.final.v, full.final.v, rtol=0, atol=0)
    for k in full.energies:
        np.testing.assert_array_equal(rest.energies[k], full.energies[k])
    np.testing.assert_array_equal(rest.probes["tip"], full.probes["tip"])
