"""Bad decks and mesh files, generated: exit 2, one line naming the deck, the table and the key.

Deck files (TOML, binary, invalid syntax, run-size limits) through ``lipmat run``; corrupt VTU / msh
mesh files read three ways (``fem.Mesh.read``, a deck's ``[mesh] file``, ``lipmat dt --mesh``).
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

from _bad_input_helpers import BASE, _cli_error, _deck, _has




# =============================================================================================
# decks (TOML) run through `lipmat run`: exit 2, one line naming the deck, the table and the key
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


