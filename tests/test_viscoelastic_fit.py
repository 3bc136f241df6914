"""Histories: the reader's located errors, the Prony baseline's exact step response, the scans'
adjoints, model files, and `lipmat fit --model viscoelastic` / `lipmat predict` end to end.

The full joint fit to the eleven VHB histories (targets of docs/viscoelastic.md) is a slow test.
"""
from __future__ import annotations

import glob
import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from lipmat.cli import main
from lipmat.errors import DataError
from lipmat.fitting.histories import HistoryBatch, curve_metrics, load_history
from lipmat.models._scan import LinearScan
from lipmat.models.prony import PronyOgden

ROOT = Path(__file__).resolve().parents[1]
VHB = sorted(glob.glob(str(ROOT / "data" / "vhb4910" / "*.csv")))
SHORT = [str(ROOT / "data" / "vhb4910" / f) for f in
         ("vhb4910_cyclic_rate0p05_lam1p5.csv", "vhb4910_relaxation_lam1p5.csv")]


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_reader_kinds_units_and_slack_points():
    assert len(VHB) == 11
    h = load_history(SHORT[0])
    assert h.kind == "cyclic" and h.mode == "uniaxial"
    assert h.time[0] == 0 and bool((np.diff(h.time) > 0).all())
    assert h.stress.max() == pytest.approx(39.7e3, rel=0.01)          # kPa column read as Pa
    assert (~h.fit_mask).sum() == 12 and bool((h.stress[~h.fit_mask] <= 0).all())
    assert load_history(SHORT[1]).kind == "relaxation"


@pytest.mark.parametrize("text, where, what", [
    ("time_s,stretch,nominal_stress_kPa\n0,1,0\n1,1.1,2\n1,1.2,3\n2,1.3,4\n", "line 4, column 1 ('time_s')",
     "strictly increase"),
    ("time_s,nominal_stress_kPa\n0,0\n1,2\n2,3\n", "line 1", "missing ['stretch']"),
    ("time,stretch,nominal_stress_kPa\n0,1,0\n1,1.1,2\n2,1.2,3\n", "line 1, column 1 ('time')", "needs a unit"),
    ("time_s,stretch,nominal_stress_kPa,nominal_stress_MPa\n0,1,0,0\n1,1.1,2,0.002\n2,1.2,3,0.003\n", "line 1",
     "mixed units"),
    ("time_s,stretch,nominal_stress\n0,1,0\n1,1.1,2\n2,1.2,3\n", "line 1, column 3", "has no unit"),
    ("time_s,stretch,nominal_stress_kPa\n0,1,0\n1,abc,2\n2,1.2,3\n", "line 3, column 2 ('stretch')", "expected a number"),
])
def test_bad_histories_get_located_errors(tmp_path, text, where, what):
    p = write(tmp_path, "bad.csv", text)
    with pytest.raises(DataError) as err:
        load_history(p)
    assert str(p) in str(err.value) and where in str(err.value) and what in str(err.value)


def test_padding_steps_change_nothing():
    a, b = load_history(SHORT[0]), load_history(SHORT[1])
    batch = HistoryBatch([a, b])
    assert batch.lam.shape == (len(b), 2) and float(batch.dt[len(a):, 0].abs().max()) == 0.0
    model = PronyOgden([2e4, 1e3, -1e3], [1.5, 4.0, -2.0], [0.1, 10.0, 1000.0])
    with torch.no_grad():
        alone = model.uniaxial_history(batch.lam[:len(a), :1], batch.dt[:len(a), :1])
        both = model.uniaxial_history(batch.lam, batch.dt)
    assert torch.allclose(alone[:, 0], both[:len(a), 0], rtol=1e-14)


def test_prony_step_response_is_the_relaxation_function():
    """λ jumps at t₀ and holds: P(t) = σ₀(λ) g(t)/λ with g = g_∞ + Σ gᵢ e^(−t/τᵢ), at any steps."""
    model = PronyOgden([2e4, 1e3, -1e3], [1.5, 4.0, -2.0], [0.1, 10.0, 1000.0])
    with torch.no_grad():
        model.logits.copy_(torch.tensor([0.3, -0.2, 0.5, 0.1], dtype=torch.float64))
    t = torch.tensor([0.0, 1e-3, 0.05, 0.7, 3.0, 40.0, 900.0, 5000.0], dtype=torch.float64)
    lam = torch.full_like(t, 2.0)[:, None]
    dt = torch.diff(t, prepend=t[:1])[:, None]
    with torch.no_grad():
        P = model.uniaxial_history(lam, dt)[:, 0]
        g, g_inf = model.weights()
        expected = model.instantaneous(torch.tensor(2.0, dtype=torch.float64)) / 2.0 * \
            (g_inf + (g * torch.exp(-t[:, None] / model.log_tau.exp())).sum(-1))
    assert torch.allclose(P, expected, rtol=1e-12)


def test_linear_scan_adjoint_matches_autograd():
    gen = torch.Generator().manual_seed(1)
    d = torch.rand(40, 3, 4, generator=gen, dtype=torch.float64).requires_grad_(True)
    u = torch.randn(40, 3, 4, generator=gen, dtype=torch.float64).requires_grad_(True)
    w = torch.randn(40, 3, 4, generator=gen, dtype=torch.float64)
    (LinearScan.apply(d, u) * w).sum().backward()
    g_scan = (d.grad.clone(), u.grad.clone())
    d.grad = u.grad = None
    q, out = u[0], [u[0]]
    for n in range(1, 40):
        q = d[n] * q + u[n]
        out.append(q)
    (torch.stack(out) * w).sum().backward()
    assert torch.allclose(g_scan[0], d.grad, rtol=1e-12) and torch.allclose(g_scan[1], u.grad, rtol=1e-12)


def test_curve_metrics_leave_out_slack_points():
    y = np.array([-0.5, 1.0, 2.0, 4.0, 0.0])
    p = np.array([9.0, 1.0, 2.0, 4.4, 9.0])
    m = curve_metrics(y, p)
    assert m["points"] == 3 and m["peak_error"] == pytest.approx(10.0)
    assert m["mape"] == pytest.approx(100 * 0.1 / 3)


def test_fit_predict_and_model_file_end_to_end(tmp_path, capsys):
    out = tmp_path / "vhb.pt"
    code = main(["fit", *SHORT, "--model", "viscoelastic", "--branches", "3", "--epochs", "3", "--lbfgs", "0",
                 "--out", str(out), "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 0 and out.is_file()
    assert [c["kind"] for c in report["curves"]] == ["cyclic", "relaxation"]
    assert report["baseline"]["terms"] == 10 and len(report["baseline"]["curves"]) == 2
    assert report["dissipation_min"] >= 0
    cert = report["certificate"]
    assert cert["bound"] == pytest.approx(cert["isotropic"] + cert["branches"])

    from lipmat.io import load_file
    mf = load_file(out)                       # certificate recomputed from the weights on load
    assert mf.name == "viscoelastic" and mf.certificate["value"] == pytest.approx(cert["bound"], rel=1e-12)

    other = str(ROOT / "data" / "vhb4910" / "vhb4910_cyclic_rate0p01_lam1p5.csv")
    plot = tmp_path / "pred.png"
    assert main(["predict", str(out), other, "--json", "--plot", str(plot)]) == 0
    pred = json.loads(capsys.readouterr().out)
    (row,) = pred["curves"]
    assert set(row) >= {"file", "mode", "r2", "mape", "peak_error"} and row["mode"] == "uniaxial"
    assert plot.stat().st_size > 0
    # a curve (no time column) is not a history: exit 2 with what was expected
    assert main(["predict", str(out), str(ROOT / "data" / "treloar_uniaxial.csv")]) == 2
    assert "predicts time-stamped histories" in capsys.readouterr().err


def test_cli_bad_history_exit_2_located(tmp_path, capsys):
    bad = write(tmp_path, "bad.csv", "time_s,stretch,nominal_stress_kPa\n0,1,0\n2,1.1,2\n1,1.2,3\n")
    assert main(["fit", str(bad), "--model", "viscoelastic", "--out", str(tmp_path / "m.pt")]) == 2
    err = capsys.readouterr().err
    assert "line 4, column 1 ('time_s')" in err and "strictly increase" in err


@pytest.mark.slow
def test_joint_fit_to_the_vhb_histories_meets_the_targets():
    """docs/viscoelastic.md: R² ≥ 0.99 on each cyclic curve, ≥ 0.97 on each relaxation curve, better
    than the 10-term Prony–Ogden baseline on every relaxation curve, dissipation ≥ 0 along every history."""
    from lipmat.fitting.viscoelastic import fit_viscoelastic
    res = fit_viscoelastic(VHB)
    r = res.report
    for c, b in zip(r["curves"], r["baseline"]["curves"]):
        assert c["r2"] >= (0.97 if c["kind"] == "relaxation" else 0.99), c
        if c["kind"] == "relaxation":
            assert c["r2"] > b["r2"], (c, b)
    assert r["dissipation_min"] >= 0
    assert math.isfinite(r["certificate"]["bound"])


def test_predict_curves_with_a_curve_model(tmp_path, capsys):
    """A classical law predicts a uniaxial curve with the same metrics; a history is refused (exit 2)."""
    out = tmp_path / "o.pt"
    treloar = str(ROOT / "data" / "treloar_uniaxial.csv")
    assert main(["fit", treloar, "--model", "ogden3", "--out", str(out), "--json"]) == 0
    capsys.readouterr()
    assert main(["predict", str(out), treloar, "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)["curves"]
    assert row["mode"] == "uniaxial" and row["points"] == 24 and row["r2"] > 0.99
    assert main(["predict", str(out), SHORT[0]]) == 2
    assert "predicts curves (no time column)" in capsys.readouterr().err
