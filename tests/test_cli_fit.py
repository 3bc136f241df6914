"""`lipmat fit` and `lipmat certify` through main([...]): text, --json, plot, errors."""
import json
import re
from pathlib import Path

import pytest

from lipmat.cli import main

TRELOAR = str(Path(__file__).resolve().parents[1] / "data" / "treloar_uniaxial.csv")


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "rubber.pt"
    assert main(["fit", TRELOAR, "--out", str(out), "--epochs", "200", "--lbfgs", "20"]) == 0
    return out


def test_fit_json_has_the_issue_keys(tmp_path, capsys):
    out, plot = tmp_path / "m.pt", tmp_path / "fit.png"
    code = main(["fit", TRELOAR, "--model", "uniaxial", "--out", str(out), "--epochs", "100", "--lbfgs", "10",
                 "--seed", "1", "--plot", str(plot), "--json"])
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    for key in ("r2", "rmse", "mape", "stiffness_bound", "empirical_stiffness", "seconds"):
        assert isinstance(report[key], float)
    assert report["stiffness_bound"] <= 1.1 * report["data_stiffness"]
    assert out.is_file() and plot.stat().st_size > 10_000


def test_fit_text_output(model_file, capsys, tmp_path):
    assert main(["fit", TRELOAR, "--out", str(tmp_path / "x.pt"), "--epochs", "20", "--lbfgs", "0"]) == 0
    text = capsys.readouterr().out
    assert "certified" in text and "MAPE" in text


def test_certify_json_and_text(model_file, capsys):
    assert main(["certify", str(model_file), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert 1.0 <= out["ratio"] <= 1.02
    assert out["empirical_stiffness"] <= out["stiffness_bound"]
    assert len(out["at"]) == 1
    assert main(["certify", str(model_file)]) == 0
    assert "ratio certified/empirical" in capsys.readouterr().out


def test_certify_leaves_the_default_dtype_alone(model_file, capsys):
    """The CLI computes in float64 by asking for it, not by changing torch's default dtype."""
    import torch

    assert main(["certify", str(model_file), "--json"]) == 0
    in64 = json.loads(capsys.readouterr().out)
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float32)
    try:
        assert main(["certify", str(model_file), "--json"]) == 0
        assert torch.get_default_dtype() == torch.float32
    finally:
        torch.set_default_dtype(old)
    in32 = json.loads(capsys.readouterr().out)
    assert in32["stiffness_bound"] == in64["stiffness_bound"] and in32["at"] == in64["at"]


def test_fit_leaves_the_default_dtype_alone_and_computes_in_float64(tmp_path, capsys):
    """A float32 default dtype neither changes the fit's numbers nor is changed by the fit."""
    import torch

    args = ["fit", TRELOAR, "--epochs", "40", "--lbfgs", "5", "--json", "--no-progress"]
    assert main(args + ["--out", str(tmp_path / "a.pt")]) == 0
    in64 = json.loads(capsys.readouterr().out)
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float32)
    try:
        assert main(args + ["--out", str(tmp_path / "b.pt")]) == 0
        assert torch.get_default_dtype() == torch.float32
    finally:
        torch.set_default_dtype(old)
    in32 = json.loads(capsys.readouterr().out)
    assert in32["r2"] == in64["r2"] and in32["stiffness_bound"] == in64["stiffness_bound"]


def test_errors_exit_2_with_one_line(tmp_path, capsys):
    assert main(["certify", str(tmp_path / "missing.pt")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not found" in err
    bad = tmp_path / "bad.pt"
    bad.write_text("garbage")
    assert main(["certify", str(bad)]) == 2
    assert "not a readable lipmat model file" in capsys.readouterr().err
    assert main(["fit", TRELOAR, "--out", str(tmp_path / "m.pt"), "--max-stiffness", "-1"]) == 2
    assert "max_stiffness" in capsys.readouterr().err


def test_default_output_goes_under_out(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["fit", TRELOAR, "--epochs", "5", "--lbfgs", "0", "--no-progress"]) == 0
    assert "-> out/treloar_uniaxial.pt" in capsys.readouterr().out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    assert (tmp_path / "out" / "treloar_uniaxial.pt").is_file()


def test_linear_law_prints_no_nan_and_baselines_report_their_numbers(tmp_path, capsys):
    assert main(["fit", TRELOAR, "--model", "linear", "--out", str(tmp_path / "lin.pt")]) == 0
    text = capsys.readouterr().out
    assert not re.search(r"\bnan\b", text, re.I) and "certified" in text
    assert main(["fit", TRELOAR, "--out", str(tmp_path / "m.pt"), "--epochs", "5", "--lbfgs", "0", "--baselines",
                 "--plot", str(tmp_path / "fit.png"), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    from lipmat.models.classical import BASELINES
    assert set(report["baselines"]) == set(BASELINES)
    assert report["baselines"]["ogden3"]["r2"] > 0.99 > report["baselines"]["neohookean"]["r2"]
    assert (tmp_path / "fit.png").stat().st_size > 10_000


@pytest.mark.parametrize("kinematics", ["plane_strain", "3d"])
def test_isotropic_small_strain_moduli_are_the_fitted_law_s(kinematics):
    """describe_stiffness reads K, G (and so E, ν) off the tangent at ε = 0: a linear isotropic law with
    known K and G is the oracle (ν = (3K − 2G) / (2(3K + G)), E = 9KG / (3K + G))."""
    import torch

    from lipmat.cli.fit import describe_stiffness
    from lipmat.models import IsotropicPotential

    torch.set_default_dtype(torch.float64)
    K, G = 2.0e9, 0.6e9
    d = describe_stiffness(IsotropicPotential.linear(kinematics, K, G), {})
    ss = d["small_strain"]
    assert ss["K"] == pytest.approx(K, rel=1e-9) and ss["G"] == pytest.approx(G, rel=1e-9)
    assert ss["nu"] == pytest.approx((3 * K - 2 * G) / (2 * (3 * K + G)), rel=1e-9)
    assert ss["E"] == pytest.approx(9 * K * G / (3 * K + G), rel=1e-9)
    assert "λ_max(C_b)" in d["stiffness_measure"] and "2G" in d["cap_measure"]


def test_plot_range_follows_the_data():
    import numpy as np

    from lipmat.fitting.plots import plot_range

    lo, hi = plot_range(np.array([0.001, 0.005, 0.01]))          # a small-strain curve: a small-strain axis
    assert -0.01 < lo < 0 and 0.01 < hi < 0.02
    lo, hi = plot_range(np.array([0.02, 3.0, 6.6]))              # Treloar: the data inside, λ stays > 0
    assert lo == -0.95 and 6.6 < hi < 10.0
    lo, hi = plot_range(np.array([-0.3, 0.4]), shear=True)
    assert lo < -0.3 and hi > 0.4
