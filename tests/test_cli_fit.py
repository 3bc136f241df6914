"""`lipmat fit` and `lipmat certify` through main([...]): text, --json, plot, errors."""
import json
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
