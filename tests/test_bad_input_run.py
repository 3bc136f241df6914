"""Bad input around a run: output paths, run bounds and devices, NaN mid-run, checkpoints.

An output path never replaces a FIFO, device or folder; a run above a limit is refused before its first
step; a NaN in the middle of a run keeps the last good state and the frames already written; a crafted
checkpoint is refused without running its payload, and a restart still equals an uninterrupted run.
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

from _bad_input_helpers import _cli_error, _deck, _has




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
