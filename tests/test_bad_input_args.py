"""Bad command-line arguments: ``dt``/``fit`` options, output and input paths, and the frame itself.

Every case asserts exit 2, no traceback and one message naming the option at fault. The frame: internal
errors exit 3 with a short report (traceback with --debug or LIPMAT_DEBUG=1), a stopped simulation exits
1, a closed stdout exits 141 quietly, and every ``--json`` output is strict JSON.
"""
from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from lipmat.cli import main

from _bad_input_helpers import assert_clear_error, run_cli

ROOT = Path(__file__).resolve().parents[1]
TRELOAR = ROOT / "data" / "treloar_uniaxial.csv"
DECK = ROOT / "examples" / "decks" / "bar_impact.toml"
GOOD_CURVE = "stretch,nominal_stress_MPa\n1.1,0.1\n1.3,0.25\n1.5,0.35\n2.0,0.5\n"


@pytest.fixture(scope="module")
def model_payload(tmp_path_factory):
    from lipmat.io import save
    from lipmat.models import UniaxialTangent

    path = tmp_path_factory.mktemp("model") / "good.pt"
    save(UniaxialTangent(1e6, 8, 4, strain_span=(0.0, 1.0)), path)
    return torch.load(path, weights_only=True)


# -- lipmat dt: mesh spec, material spec, density and the other options -----------------------------
DT_BASE = {"--mesh": "bar:L=1,n=4", "--model": "linear:E=1e9,nu=0.3", "--density": "1000"}
DT_CASES = {
    # mesh generator specs
    "mesh n=2.7": ({"--mesh": "rect:nx=2.7"}, r"mesh spec 'rect:nx=2.7': nx must be an integer, received '2.7'"),
    "mesh n=1_0": ({"--mesh": "bar:n=1_0"}, r"mesh spec 'bar:n=1_0': n must be a plain number, received '1_0'"),
    "mesh n=0": ({"--mesh": "bar:n=0"}, r"mesh spec 'bar:n=0': n must be an element count >= 1, received 0"),
    "mesh n=-3": ({"--mesh": "rect:ny=-3"}, r"ny must be an element count >= 1, received -3"),
    "mesh n=abc": ({"--mesh": "box:nz=abc"}, r"mesh spec 'box:nz=abc': nz must be an integer, received 'abc'"),
    "mesh L=0": ({"--mesh": "bar:L=0"}, r"mesh spec 'bar:L=0': L must be a length > 0, received 0"),
    "mesh L=-1": ({"--mesh": "rect:lx=-1"}, r"lx must be a length > 0, received -1"),
    "mesh L=nan": ({"--mesh": "bar:L=nan"}, r"mesh spec 'bar:L=nan': L must be a finite number, received 'nan'"),
    "mesh L=inf": ({"--mesh": "box:ly=inf"}, r"ly must be a finite number, received 'inf'"),
    "mesh huge": ({"--mesh": "box:nx=1000,ny=1000,nz=1000"}, r"1e\+09 cells exceed the generator limit 2e\+06"),
    "mesh huge rect": ({"--mesh": "rect:nx=100000,ny=100000"}, r"cells exceed the generator limit"),
    "mesh unknown key": ({"--mesh": "bar:length=1"}, r"mesh spec 'bar:length=1': expected key=value with keys .*'L'"),
    "mesh no equals": ({"--mesh": "bar:n"}, r"mesh spec 'bar:n': expected key=value"),
    "mesh twice": ({"--mesh": "bar:n=4,n=5"}, r"mesh spec 'bar:n=4,n=5': key 'n' given twice"),
    "mesh bad cell": ({"--mesh": "rect:cell=hexagon"}, r"cell must be one of \['triangle', 'quad'\], received 'hexagon'"),
    "mesh 3d cell on rect": ({"--mesh": "rect:cell=tetra"}, r"cell must be one of \['triangle', 'quad'\]"),
    "mesh distort": ({"--mesh": "rect:distort=0.9"}, r"distort must lie in \[0, 0.4\]"),
    "mesh negative distort": ({"--mesh": "rect:distort=-0.1"}, r"distort must lie in \[0, 0.4\]"),
    "mesh seed": ({"--mesh": "rect:distort=0.1,seed=-2"}, r"seed must be an integer >= 0, received -2"),
    "mesh missing file": ({"--mesh": "no/such/mesh.msh"}, r"mesh file 'no/such/mesh.msh' not found; expected a mesh file"),
    "mesh unknown kind": ({"--mesh": "disc:r=1"}, r"mesh file 'disc:r=1' not found .*generator kinds: bar, rect, box"),
    # material specs
    "E missing": ({"--model": "linear:nu=0.3"}, r"model spec 'linear:nu=0.3': E is required"),
    "E negative": ({"--model": "linear:E=-1"}, r"E = -1 Pa is outside the accepted range \[1e-06, 1e\+15\] Pa"),
    "E zero": ({"--model": "linear:E=0"}, r"E = 0 Pa is outside the accepted range"),
    "E 1e300": ({"--model": "linear:E=1e300"}, r"E = 1e\+300 Pa is outside the accepted range"),
    "E 1e-300": ({"--model": "linear:E=1e-300"}, r"E = 1e-300 Pa is outside the accepted range"),
    "E nan": ({"--model": "linear:E=nan"}, r"model spec 'linear:E=nan': E must be a finite number"),
    "E inf": ({"--model": "linear:E=inf"}, r"E must be a finite number, received 'inf'"),
    "E text": ({"--model": "linear:E=steel"}, r"E must be a number, received 'steel'"),
    "E underscore": ({"--model": "linear:E=2_000"}, r"E must be a plain number, received '2_000'"),
    "nu 0.5": ({"--model": "linear:E=1e9,nu=0.5"}, r"nu \(Poisson's ratio\) must lie in \(-1, 0.5\), received 0.5"),
    "nu -1": ({"--model": "linear:E=1e9,nu=-1"}, r"nu \(Poisson's ratio\) must lie in \(-1, 0.5\)"),
    "nu 3": ({"--model": "linear:E=1e9,nu=3"}, r"must lie in \(-1, 0.5\), received 3"),
    "unknown law": ({"--model": "steel:E=1"}, r"unknown model spec 'steel:E=1': expected linear:E=..,nu=.."),
    "unknown key": ({"--model": "linear:E=1e9,G=3"}, r"model spec 'linear:E=1e9,G=3': expected key=value with keys"),
    "missing model file": ({"--model": "nope.pt"}, r"model file 'nope.pt' not found; expected a model file"),
    "bar E1": ({"--model": "nonlinear-bar:E1=-1"}, r"E1 = -1 Pa is outside the accepted range"),
    "bar E2": ({"--model": "nonlinear-bar:E2=1e40"}, r"E2 = 1e\+40 Pa is outside the accepted range"),
    "bar eps0": ({"--model": "nonlinear-bar:eps0=0"}, r"eps0 must lie in \(0, 10\]"),
    "bar on 2D": ({"--model": "nonlinear-bar:E1=1e6", "--mesh": "rect:nx=2,ny=2"}, r"kinematics mismatch: material's 'uniaxial' vs mesh's 'plane_strain'"),
    # density and options
    "density 1e-300": ({"--density": "1e-300"}, r"--density 1e-300: expected a mass density in \[1e-06, 1e\+06\] kg/m\^3"),
    "density 1e300": ({"--density": "1e300"}, r"--density 1e\+300: expected a mass density in"),
    "density 0": ({"--density": "0"}, r"--density 0: expected a mass density in"),
    "density -5": ({"--density": "-5"}, r"--density -5: expected a mass density in"),
    "density nan": ({"--density": "nan"}, r"--density nan: expected a mass density"),
    "density inf": ({"--density": "inf"}, r"--density inf: expected a mass density"),
    "density text": ({"--density": "heavy"}, r"argument --density: invalid float value: 'heavy'"),
    "damping ratio negative": ({"--damping-ratio": "-0.1"}, r"--damping-ratio -0.1: expected a fraction of critical damping in \[0, 1\]"),
    "damping ratio 2": ({"--damping-ratio": "2"}, r"--damping-ratio 2: expected a fraction of critical damping"),
    "damping ratio nan": ({"--damping-ratio": "nan"}, r"--damping-ratio nan: expected a fraction"),
    "old --damping": ({"--damping": "0.1"}, r"--damping was renamed --damping-ratio \(a fraction of critical damping, xi\)"),
    "safety 0": ({"--safety": "0"}, r"--safety 0: expected a factor in \(0, 1\]"),
    "safety 2": ({"--safety": "2"}, r"--safety 2: expected a factor in \(0, 1\]"),
    "safety nan": ({"--safety": "nan"}, r"--safety nan: expected a factor"),
    "method": ({"--method": "exact"}, r"argument --method: invalid choice: 'exact'"),
}


@pytest.mark.parametrize("case", sorted(DT_CASES))
def test_bad_dt_arguments(case, capsys):
    change, pattern = DT_CASES[case]
    argv = ["dt"] + [x for k, v in {**DT_BASE, **change}.items() for x in (k, v)]
    code, out, err = run_cli(argv, capsys)
    assert_clear_error(code, err, pattern)
    assert out == ""


# -- lipmat fit / run / demo / certify arguments ------------------------------------------------------
FIT_CASES = {
    "model typo": (["--model", "unaxial"], r"unknown --model 'unaxial' \(did you mean 'uniaxial'\?\); expected a neural model "
                                            r"\(uniaxial, uniaxial_sn, isotropic, mlp.*\) or a classical law \(linear, .*ogden6, gent, arruda_boyce\)"),
    "model unknown": (["--model", "fancy"], r"unknown --model 'fancy'; expected a neural model"),
    "model ogden99": (["--model", "ogden99"], r"unknown --model 'ogden99'.*ogden1, ogden2"),
    "model neo typo": (["--model", "neohooke"], r"did you mean 'neohookean'\?"),
    "epochs negative": (["--epochs", "-1"], r"--epochs -1: expected a count in \[0, 1e\+07\]"),
    "epochs huge": (["--epochs", "4000000000"], r"--epochs 4000000000: expected a count"),
    "lbfgs negative": (["--lbfgs", "-5"], r"--lbfgs -5: expected a count"),
    "epochs text": (["--epochs", "many"], r"argument --epochs: invalid int value: 'many'"),
    "validation 0.9": (["--validation", "0.9"], r"--validation 0.9: expected a fraction in \[0, 0.5\]"),
    "validation nan": (["--validation", "nan"], r"--validation nan: expected a fraction"),
    "cap negative": (["--max-stiffness", "-1"], r"--max-stiffness -1: expected a finite slope cap > 0 in Pa"),
    "cap inf": (["--max-stiffness", "inf"], r"--max-stiffness inf: expected a finite slope cap"),
    "cap nan": (["--max-stiffness", "nan"], r"--max-stiffness nan: expected a finite slope cap"),
    "seed negative": (["--seed", "-1"], r"--seed -1: expected an integer >= 0"),
    "stress unit": (["--stress-unit", "psi"], r"argument --stress-unit: invalid choice: 'psi'"),
    "loss": (["--loss", "huber"], r"argument --loss: invalid choice: 'huber'"),
    "unit conflict": (["--stress-unit", "kPa"], r"the column says MPa but stress_unit='kPa' was given"),
    "classical on two files": (["--model", "yeoh", TRELOAR], r"classical law 'yeoh': expected one uniaxial curve, received 2 file"),
}


@pytest.mark.parametrize("case", sorted(FIT_CASES))
def test_bad_fit_arguments(case, tmp_path, capsys):
    extra, pattern = FIT_CASES[case]
    files = [a for a in extra if isinstance(a, Path)]
    options = [a for a in extra if not isinstance(a, Path)]
    code, out, err = run_cli(["fit", TRELOAR, *files, "--out", tmp_path / "m.pt", *options], capsys)
    assert_clear_error(code, err, r"^lipmat fit: error: .*" + pattern if "argument" not in pattern else pattern)
    assert not (tmp_path / "m.pt").exists()


def _paths(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    folder = tmp_path / "folder"
    folder.mkdir()
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    return blocker, folder, fifo


@pytest.mark.parametrize("case", ["out under a file", "out is a folder", "out is a fifo", "plot under a file",
                                  "plot is a fifo", "run out is a file", "run out under a file",
                                  "demo out is a file", "demo out under a file", "run missing deck",
                                  "run old damping key", "certify missing", "certify folder"])
def test_bad_output_and_input_paths(case, tmp_path, capsys):
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs on this platform")
    blocker, folder, fifo = _paths(tmp_path)
    fit = ["fit", TRELOAR, "--epochs", "0", "--lbfgs", "0"]
    table = {
        "out under a file": (fit + ["--out", blocker / "m.pt"], rf"--out {blocker}/m.pt: {blocker} is a file, not a folder"),
        "out is a folder": (fit + ["--out", folder], rf"--out {folder}: is a folder; expected a file name"),
        "out is a fifo": (fit + ["--out", fifo], rf"--out {fifo}: exists and is not a regular file \(a FIFO"),
        "plot under a file": (fit + ["--out", tmp_path / "m.pt", "--plot", blocker / "p.png"], rf"--plot {blocker}/p.png: {blocker} is a file"),
        "plot is a fifo": (fit + ["--out", tmp_path / "m.pt", "--plot", fifo], rf"--plot {fifo}: exists and is not a regular file"),
        "run out is a file": (["run", DECK, "--out", blocker, "--no-progress"], rf"--out {blocker}: {blocker} is a file, not a folder"),
        "run out under a file": (["run", DECK, "--out", blocker / "sub", "--no-progress"], rf"--out {blocker}/sub: {blocker} is a file"),
        "demo out is a file": (["demo", "--out", blocker, "--quick"], rf"--out {blocker}: {blocker} is a file, not a folder"),
        "demo out under a file": (["demo", "--out", blocker / "x", "--quick"], rf"--out {blocker}/x: {blocker} is a file"),
        "run missing deck": (["run", tmp_path / "none.toml"], rf"{tmp_path}/none.toml"),
        "run old damping key": (None, r"\[time\]: 'damping' was renamed 'mass_damping' \(mass-proportional alpha in 1/s"),
        "certify missing": (["certify", tmp_path / "none.pt"], rf"model file {tmp_path}/none.pt not found"),
        "certify folder": (["certify", folder], rf"{folder}"),
    }
    argv, pattern = table[case]
    if argv is None:
        deck = tmp_path / "old.toml"
        deck.write_text(DECK.read_text().replace("[time]", "[time]\ndamping = 1.0", 1))
        argv = ["run", deck, "--out", tmp_path / "o", "--no-progress"]
    code, _, err = run_cli(argv, capsys)
    assert_clear_error(code, err, pattern)
    assert fifo.exists() and not fifo.is_file()          # the FIFO was not replaced by a regular file
    assert blocker.read_text() == "x"


# -- the frame: internal errors, debug, broken pipe, strict JSON --------------------------------------
def test_internal_error_exits_3_with_a_short_report(monkeypatch, capsys):
    import lipmat.cli.certify as mod

    def bug(args):
        raise TypeError("unsupported operand type(s) for +: 'int' and 'str'")
    monkeypatch.setattr(mod, "run", bug)
    monkeypatch.delenv("LIPMAT_DEBUG", raising=False)
    code, out, err = run_cli(["certify", "x.pt"], capsys)
    assert code == 3 and "Traceback" not in err
    assert "internal error (a bug in lipmat, not a problem with your input): TypeError" in err
    assert "--debug" in err and "LIPMAT_DEBUG=1" in err
    # a plain ValueError is not bad input either: only lipmat's and fem's error classes and OSError are
    monkeypatch.setattr(mod, "run", lambda args: float("x"))
    assert run_cli(["certify", "x.pt"], capsys)[0] == 3
    with pytest.raises(TypeError):
        monkeypatch.setattr(mod, "run", bug)
        main(["certify", "x.pt", "--debug"])
    monkeypatch.setenv("LIPMAT_DEBUG", "1")
    with pytest.raises(TypeError):
        main(["certify", "x.pt"])


def test_stopped_simulation_exits_1(monkeypatch, capsys):
    import lipmat.cli.certify as mod
    from fem.core.errors import SimulationError

    def stop(args):
        raise SimulationError("unstable at step 7")
    monkeypatch.setattr(mod, "run", stop)
    code, _, err = run_cli(["certify", "x.pt"], capsys)
    assert code == 1 and err.strip() == "lipmat certify: stopped: unstable at step 7"


def test_closed_stdout_exits_quietly(monkeypatch, capsys):
    """`lipmat ... | head`: the reader is gone before lipmat writes; no traceback, status 141."""
    code = "import sys, os; from lipmat.cli import main; r, w = os.pipe(); os.close(r); os.dup2(w, 1); sys.exit(main([]))"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "LIPMAT_DEBUG": ""})
    # (argparse itself swallows the error of writing help into a closed pipe: then the status is 0)
    assert proc.returncode in (0, 141) and proc.stderr == "", proc.stderr
    import lipmat.cli.fit as mod

    def write_into_closed_pipe(args):
        raise BrokenPipeError(32, "Broken pipe")
    monkeypatch.setattr(mod, "run", write_into_closed_pipe)
    assert run_cli(["fit", "x.csv"], capsys)[0::2] == (141, "")


def _strict(text):
    def refuse(name):
        raise AssertionError(f"not JSON: {name}")
    return json.loads(text, parse_constant=refuse)


def test_certify_json_is_strict_when_a_value_is_not_finite(model_payload, tmp_path, monkeypatch, capsys):
    """A zero empirical tangent makes the ratio infinite: --json says null, never Infinity."""
    import lipmat.certify
    from lipmat.certify import CertificateReport

    path = tmp_path / "m.pt"
    torch.save(model_payload, path)
    monkeypatch.setattr(lipmat.certify, "certify", lambda model, strains=None: CertificateReport(1e6, 0.0, math.inf, [0.0]))
    code, out, err = run_cli(["certify", path, "--json"], capsys)
    assert code == 0 and _strict(out)["ratio"] is None and _strict(out)["stiffness_bound"] == 1e6


def test_json_outputs_are_strict(capsys, tmp_path):
    code, out, _ = run_cli(["dt", "--mesh", "bar:L=1,n=4", "--model", "linear:E=1e9", "--density", "1000",
                            "--method", "element", "--json"], capsys)
    r = _strict(out)
    assert code == 0 and r["dt_certified_global"] is None and r["damping_ratio"] == 0.0
    from lipmat.cli._output import dumps
    assert _strict(dumps({"a": math.nan, "b": [math.inf, 1.0], "c": torch.tensor(2.0)})) == {"a": None, "b": [None, 1.0], "c": 2.0}
