"""Restart from decks and the CLI: `[checkpoint]`, `lipmat run --restart`, kill -9 and SIGTERM.

The oracle is the uninterrupted run of the same deck: a run killed mid-way (by the operating system,
kill -9, so nothing in the process gets to react) and continued with `--restart` must write the same
frames, energy.csv and probes.csv to 1e-12, with no frame listed twice.
"""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import meshio
import numpy as np
import pytest

from fem.io.checkpoint import load_checkpoint
from fem.io.output import read_pvd
from lipmat.cli import main

ROOT = Path(__file__).resolve().parents[1]

DECK = """title = "bar with a linear velocity profile"
[mesh]
generator = "bar"
lx = 1.0
nx = 100
area = 1e-4
[material]
type = "{material}"
E = 70e9
density = 2700.0
[[bc]]
where = "left"
[initial]
velocity = ["-1.0 * x"]
[time]
end = {end}
dt = "certified"
[checkpoint]
every = 1000
[output]
every = 700
[output.probes]
tip = "right"
[output.scalars]
peak_tip = {{ probe = "tip", reduce = "max_abs" }}
"""


def write_deck(folder: Path, end: float = 1.6e-2, material: str = "linear_elastic") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    p = folder / "bar.toml"
    p.write_text(DECK.format(end=end, material=material))
    return p


def lipmat(*args) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    return subprocess.Popen([sys.executable, "-m", "lipmat", *map(str, args)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def stop_after_first_checkpoint(proc: subprocess.Popen, ck: Path, sig) -> None:
    """Send ``sig`` to ``proc`` as soon as its first checkpoint exists (the run must still be going)."""
    t0 = time.monotonic()
    while not ck.exists():
        assert proc.poll() is None, f"the run ended before its first checkpoint: {proc.communicate()}"
        assert time.monotonic() - t0 < 120, "no checkpoint written"
        time.sleep(0.005)
    os.kill(proc.pid, sig)
    proc.communicate(timeout=60)


def same_outputs(a: Path, b: Path) -> None:
    fa, fb = read_pvd(a / "fields.pvd"), read_pvd(b / "fields.pvd")
    assert [t for t, _ in fa] == pytest.approx([t for t, _ in fb], rel=1e-12, abs=0)
    assert len({t for t, _ in fb}) == len(fb)            # no frame listed twice
    assert sorted(p.name for p in b.glob("fields_*.vtu")) == sorted(p.name for _, p in fb)
    for (_, pa), (_, pb) in zip(fa, fb):
        ma, mb = meshio.read(pa), meshio.read(pb)
        for k in ma.point_data:
            np.testing.assert_allclose(mb.point_data[k], ma.point_data[k], rtol=1e-12, atol=1e-300)
        for k in ma.cell_data:
            np.testing.assert_allclose(mb.cell_data[k][0], ma.cell_data[k][0], rtol=1e-12, atol=1e-300)
    for name in ("energy.csv", "probes.csv"):
        ea = np.genfromtxt(a / name, delimiter=",", names=True)
        eb = np.genfromtxt(b / name, delimiter=",", names=True)
        assert ea.dtype.names == eb.dtype.names and ea.shape == eb.shape
        for k in ea.dtype.names:
            scale = max(np.nanmax(np.abs(ea[k])), 1e-300)
            np.testing.assert_allclose(eb[k], ea[k], rtol=1e-12, atol=1e-12 * scale, err_msg=f"{name}:{k}")


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    folder = tmp_path_factory.mktemp("reference")
    deck = write_deck(folder)
    out = folder / "out"
    p = lipmat("run", deck, "--out", out, "--no-progress")
    p.communicate(timeout=300)
    assert p.returncode == 0
    return out


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["kill-9", "sigterm"])
def test_a_killed_run_continued_with_restart_equals_the_uninterrupted_run(tmp_path, reference, sig):
    deck = write_deck(tmp_path)
    out = tmp_path / "out"
    proc = lipmat("run", deck, "--out", out, "--no-progress")
    stop_after_first_checkpoint(proc, out / "checkpoint.pt", sig)
    if sig == signal.SIGTERM:   # SIGTERM stops the run the way Ctrl-C does: a checkpoint at that step
        assert proc.returncode == 1
    else:
        assert proc.returncode == -signal.SIGKILL
    step = load_checkpoint(out / "checkpoint.pt")["step"]
    n_steps = len(np.genfromtxt(reference / "probes.csv", delimiter=",", names=True)) - 1
    assert 0 < step < n_steps                       # stopped mid-run, not after it
    assert main(["run", str(deck), "--out", str(out), "--restart", "--no-progress"]) == 0
    same_outputs(reference, out)


def test_restart_refuses_a_checkpoint_of_another_deck_and_writes_nothing(tmp_path, reference, capsys):
    other = write_deck(tmp_path / "other", end=1.5e-2)              # another deck (time.end differs)
    out = tmp_path / "out"
    out.mkdir()
    ck = out / "checkpoint.pt"
    ck.write_bytes((reference / "checkpoint.pt").read_bytes())
    (out / "energy.csv").write_text("keep me\n")
    assert main(["run", str(other), "--out", str(out), "--restart", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "another deck or mesh" in err and "bar.toml" in err and str(ck) in err
    assert (out / "energy.csv").read_text() == "keep me\n" and sorted(p.name for p in out.iterdir()) == [
        "checkpoint.pt", "energy.csv"]


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")  # the corrupt case is a crafted pickle
@pytest.mark.parametrize("case", ["missing", "corrupt", "foreign", "no-checkpoint-table"])
def test_restart_bad_checkpoints_are_located_errors_exit_2(tmp_path, capsys, case):
    deck = write_deck(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    (out / "energy.csv").write_text("keep me\n")
    args = ["run", str(deck), "--out", str(out), "--no-progress", "--restart"]
    if case == "corrupt":
        (out / "bad.pt").write_bytes(b"\x80\x04 not a checkpoint")
        args.append(str(out / "bad.pt"))
    elif case == "foreign":   # a checkpoint of fem.solve, not of a deck run: no fingerprint to check
        import fem

        prob = fem.Problem(fem.bar(1.0, 4), fem.LinearElastic(1.0, kinematics="uniaxial"), 1.0)
        fem.solve(prob, 0.01, 1e-3, checkpoint=fem.Checkpoint(out / "api.pt", every=2), progress=False)
        args.append(str(out / "api.pt"))
    elif case == "no-checkpoint-table":
        deck.write_text(deck.read_text().replace("[checkpoint]\nevery = 1000\n", ""))
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "bar.toml" in err
    expected = {"missing": "no checkpoint.pt in", "corrupt": "bad.pt", "foreign": "no deck fingerprint",
                "no-checkpoint-table": "no [checkpoint] table"}[case]
    assert expected in err
    assert (out / "energy.csv").read_text() == "keep me\n"


@pytest.mark.parametrize("body, expected", [
    ("every = -1", "every must be >= 0"),
    ("every = 10\nfile = \"../x.pt\"", "plain file name"),
    ("evry = 10", "evry"),
])
def test_bad_checkpoint_tables_are_located(tmp_path, capsys, body, expected):
    deck = write_deck(tmp_path)
    deck.write_text(deck.read_text().replace("[checkpoint]\nevery = 1000\n", f"[checkpoint]\n{body}\n"))
    assert main(["run", str(deck), "--out", str(tmp_path / "o"), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "bar.toml" in err and "[checkpoint]" in err and expected in err
    assert not (tmp_path / "o").exists()
