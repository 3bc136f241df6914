"""Joint fitting of the neural hyperelastic law: a short fit to synthetic three-mode data of a known law,
the data's certified domain, seeding without the global RNG, and the JSON-ready report."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from lipmat.fitting.hyperelastic import data_domain, fit_hyperelastic
from lipmat.fitting.multiaxial import MultiaxialCurve, biaxial_nominal, invariant_deviator, load_multiaxial, mode_stretches

DATA = Path(__file__).parent.parent / "data"


def carroll_w(i1, i2):
    """(W1, W2) of Carroll's W = a I1 + b I1⁴ + c √I2 (a stiffening law with a falling W2)."""
    a, b, c = 1.5e5, 2.0, 1.0e5
    return a + 4 * b * i1 ** 3, c / (2 * i2 ** 0.5)


def carroll_curves() -> list[MultiaxialCurve]:
    """UT, ET, PS of Carroll's law (:func:`carroll_w`)."""
    w = carroll_w
    out = []
    for mode, top in (("uniaxial", 5.0), ("equibiaxial", 3.0), ("pure_shear", 4.0)):
        lam = torch.linspace(1.05, top, 15, dtype=torch.float64)
        l1, l2 = mode_stretches(mode, lam)
        p1, _ = biaxial_nominal(invariant_deviator(w), l1, l2)
        stress = np.stack([p1.numpy(), np.full(15, np.nan)], 1)
        out.append(MultiaxialCurve(mode, np.stack([l1.numpy(), np.broadcast_to(l2.numpy(), (15,))], 1), stress,
                                   (True, False), {"file": f"carroll_{mode}"}))
    return out


def test_a_short_joint_fit_reaches_a_loose_accuracy_on_a_known_law_and_is_reproducible():
    curves = carroll_curves()
    state = torch.get_rng_state()
    first = fit_hyperelastic(curves, epochs=100, lbfgs_steps=40, terms=(3, 1), certify=False)
    assert torch.equal(torch.get_rng_state(), state)           # the global RNG is not touched
    for c in first.report["curves"]:
        assert c["r2"] > 0.99 and c["mape"] < 5.0, c
    short = [fit_hyperelastic(curves, epochs=10, lbfgs_steps=0, terms=(3, 1), certify=False, seed=s)
             .report["final_loss"] for s in (0, 0, 5)]
    assert short[0] == short[1] != short[2]
    assert first.model.shear_modulus == pytest.approx(2 * (1.5e5 + 4 * 2.0 * 27 + 1.0e5 / (2 * 3 ** 0.5)), rel=0.1)


def test_the_fit_computes_in_float64_whatever_the_default_dtype():
    """Every tensor of the loss is float64: a float32 default dtype does not change the fit."""
    curves = carroll_curves()
    ref = fit_hyperelastic(curves, epochs=10, lbfgs_steps=0, terms=(3, 1), certify=False).report["final_loss"]
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float32)
    try:
        in32 = fit_hyperelastic(curves, epochs=10, lbfgs_steps=0, terms=(3, 1), certify=False).report["final_loss"]
    finally:
        torch.set_default_dtype(old)
    assert in32 == ref


def test_the_default_domain_covers_every_principal_stretch_of_the_data():
    curves = [load_multiaxial(DATA / f"treloar_{m}.csv") for m in ("uniaxial", "equibiaxial", "pureshear")]
    d = data_domain(curves)
    assert d.lam_hi == pytest.approx(1.05 * 7.6) and d.lam_lo == pytest.approx(0.9 * 4.45 ** -2)
    assert (d.J_lo, d.J_hi) == (0.9, 1.1)


def test_report_with_certificate_and_prediction_is_json_ready():
    curves = carroll_curves()
    fit = fit_hyperelastic(curves[:2], epochs=30, lbfgs_steps=10, terms=(2, 1), domain=(0.5, 2.0, 0.95, 1.05),
                           evaluate_on=curves[2:], nu=0.45)
    r = json.loads(json.dumps(fit.report))
    assert [c["mode"] for c in r["curves"]] == ["uniaxial", "equibiaxial"]
    assert [c["mode"] for c in r["predicted"]] == ["pure_shear"]
    assert r["domain"] == {"lam_lo": 0.5, "lam_hi": 2.0, "J_lo": 0.95, "J_hi": 1.05}
    assert r["empirical_stiffness"] <= r["stiffness_bound"] <= 1.05 * r["empirical_stiffness"]
    assert r["stiffness_bound_plane_strain"] <= r["stiffness_bound"]
    assert r["poisson_ratio"] == pytest.approx(0.45)


def test_bad_domains_and_options_are_refused():
    curves = carroll_curves()
    with pytest.raises(ValueError, match="domain"):
        fit_hyperelastic(curves, epochs=1, lbfgs_steps=0, domain=(2.0, 3.0, 0.9, 1.1), certify=False)
    with pytest.raises(ValueError, match="epochs"):
        fit_hyperelastic(curves, epochs=-1, certify=False)
    with pytest.raises(ValueError, match="at least one"):
        fit_hyperelastic([], certify=False)


def test_cli_fit_certify_and_json(tmp_path, capsys):
    from lipmat.cli import main

    files = [str(DATA / f"treloar_{m}.csv") for m in ("uniaxial", "equibiaxial", "pureshear")]
    out = tmp_path / "rubber.pt"
    assert main(["fit", *files, "--model", "hyperelastic", "--epochs", "5", "--lbfgs", "0", "--out", str(out),
                 "--domain", "0.7,1.5,0.95,1.05", "--bulk-ratio", "20", "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert [(c["mode"], Path(c["file"]).name) for c in r["curves"]] == [
        ("uniaxial", "treloar_uniaxial.csv"), ("equibiaxial", "treloar_equibiaxial.csv"),
        ("pure_shear", "treloar_pureshear.csv")]
    assert {"r2", "mape"} <= set(r["curves"][0])
    assert r["domain"] == {"lam_lo": 0.7, "lam_hi": 1.5, "J_lo": 0.95, "J_hi": 1.05}
    assert r["empirical_stiffness"] <= r["stiffness_bound"] and r["seconds"] > 0
    assert r["bulk_modulus"] == pytest.approx(20 * r["shear_modulus"])
    assert main(["certify", str(out), "--json"]) == 0
    c = json.loads(capsys.readouterr().out)
    assert c["stiffness_bound"] == pytest.approx(r["stiffness_bound"], rel=1e-12) and c["finite_strain"] is True
    assert main(["fit", files[0], "--model", "hyperelastic", "--mode", "PS", "--epochs", "1", "--lbfgs", "0",
                 "--out", str(tmp_path / "x.pt"), "--domain", "0.5,1,0.9,1.1"]) == 2   # λ_hi < 1: refused
    assert "domain" in capsys.readouterr().err.lower()


@pytest.mark.slow
def test_treloar_three_modes_jointly_and_pure_shear_predicted_from_the_other_two():
    """The issue's acceptance numbers on the shipped data (default settings, ≈30 s CPU per fit)."""
    files = {m: str(DATA / f"treloar_{f}.csv") for m, f in (("UT", "uniaxial"), ("ET", "equibiaxial"),
                                                             ("PS", "pureshear"))}
    joint = fit_hyperelastic(list(files.values()))
    for c in joint.report["curves"]:
        assert c["r2"] >= 0.998 and c["mape"] <= 4.0, c
    r = joint.report
    assert r["empirical_stiffness"] <= r["stiffness_bound"] <= 1.05 * r["empirical_stiffness"]
    two = fit_hyperelastic([files["UT"], files["ET"]], evaluate_on=[files["PS"]], certify=False)
    assert two.report["predicted"][0]["r2"] >= 0.99


def _fit_lines(fig) -> list:
    return [ln for ln in fig.axes[0].get_lines() if "(fit" in ln.get_label()]


def test_the_plot_draws_exactly_the_predictions_the_metrics_use(tmp_path):
    """Each drawn line is predict_curve along the test's own kinematics; at the data's stretches its values
    are the ones the R² is computed from, and the R² in its label is the report's."""
    import matplotlib.pyplot as plt

    from lipmat.fitting.hyperelastic import predict_curve
    from lipmat.fitting.plots import plot_tests, tests_figure

    curves = carroll_curves()
    fitted = fit_hyperelastic(curves, epochs=100, lbfgs_steps=40, terms=(3, 1), certify=False)
    fig = tests_figure(fitted.model, curves)
    lines = _fit_lines(fig)
    assert len(lines) == len(curves)
    for line, c, rep in zip(lines, curves, fitted.report["curves"]):
        x, y = (np.asarray(v, dtype=float) for v in line.get_data())
        at = np.isin(x, c.stretch[:, 0])
        with torch.no_grad():
            at_data = predict_curve(fitted.model, c).numpy()
            between = predict_curve(fitted.model, c.along(x[~at])).numpy()
        assert at.sum() == len(c) and np.all(np.diff(x) > 0)
        assert np.array_equal(y[at], at_data / 1e6)              # the R²'s own array, bit for bit
        assert np.array_equal(y[~at], between / 1e6)             # the same function along the mode
        assert f"R² {rep['r2']:.6f}" in line.get_label()
        assert rep["r2"] > 0.99
        # between rows the line follows the law that made the data about as well as the fit does at the
        # rows (no 15 % excursion, no wiggle of a path that is not the test's)
        exact, _ = biaxial_nominal(invariant_deviator(carroll_w), *map(torch.as_tensor, c.along(x[~at]).stretch.T))
        inside = x[~at] >= c.stretch[0, 0]
        worst_at_rows = np.max(np.abs(at_data - c.targets()))
        assert np.max(np.abs(between - exact.numpy())[inside]) <= 1.2 * worst_at_rows + 0.01 * np.max(c.targets())
    plt.close(fig)
    plot_tests(tmp_path / "t.png", fitted.model, curves)
    assert (tmp_path / "t.png").stat().st_size > 0


def test_along_follows_the_modes_kinematics_not_a_straight_line():
    c = carroll_curves()[0]
    lam = np.array([1.0, 2.0, 4.0])
    assert np.allclose(c.along(lam).stretch, np.stack([lam, lam ** -0.5], 1), rtol=0, atol=1e-15)
    assert np.array_equal(carroll_curves()[2].along(lam).stretch[:, 1], np.ones(3))


def test_a_curve_starting_at_zero_stress_gives_a_shear_modulus_estimate(tmp_path):
    """A recorded (λ = 1, P = 0) first row carries no modulus; the next row does (the 1D fit accepts such
    files, and so does the finite-strain one)."""
    from lipmat.fitting.hyperelastic import initial_shear

    curves = carroll_curves()
    with_origin = [MultiaxialCurve(c.mode, np.vstack([[1.0, 1.0], c.stretch]), np.vstack([[0.0, np.nan], c.stress]),
                                   c.measured, c.provenance) for c in curves]
    assert initial_shear(with_origin) == initial_shear(curves)
    path = tmp_path / "ut_from_zero.csv"
    lam, p = with_origin[0].stretch[:, 0], with_origin[0].stress[:, 0]
    path.write_text("stretch,nominal_stress_Pa\n" + "".join(f"{float(a)!r},{float(b)!r}\n" for a, b in zip(lam, p)))
    from lipmat.cli import main
    assert main(["fit", str(path), "--model", "hyperelastic", "--epochs", "2", "--lbfgs", "0",
                 "--out", str(tmp_path / "m.pt")]) == 0
