"""Classical uniaxial baselines: kinematic identities, tangents, energies, fits, honest stiffness bounds."""
from pathlib import Path

import numpy as np
import pytest
import torch
from scipy.optimize import brentq

from lipmat.fitting import metrics
from lipmat.fitting.data import UniaxialCurve, load_uniaxial
from lipmat.errors import CertificateError, LipmatError
from lipmat.models import MODELS
from lipmat.models.classical import (
    BASELINES, ArrudaBoyceBar, GentBar, LinearElasticBar, MooneyRivlinBar, NeoHookeanBar, NoGlobalBound, OgdenBar,
    YeohBar, baseline_from_config, fit_baseline, inverse_langevin_cohen,
)

DATA = Path(__file__).resolve().parents[1] / "data"
MPA = 1e6

# one instance of each law with physically sensible parameters (moduli in Pa)
LAWS = {
    "linear": LinearElasticBar(1.2e6),
    "neohookean": NeoHookeanBar(0.4e6),
    "mooney_rivlin": MooneyRivlinBar(0.16e6, 0.04e6),
    "yeoh": YeohBar(0.18e6, -1.5e3, 40.0),
    "ogden3": OgdenBar(0.618e6, 0.00118e6, -0.00981e6, 1.3, 5.0, -2.0),   # Ogden (1972) on Treloar's data
    "gent": GentBar(0.3e6, 90.0),
    "arruda_boyce": ArrudaBoyceBar(0.28e6, 26.0),
}
RANGE = {"gent": (0.15, 8.0), "arruda_boyce": (0.15, 7.0)}      # stay inside the locking stretches


def stretches(name, n=200):
    lo, hi = RANGE.get(name, (0.15, 8.0))
    return np.linspace(lo, hi, n)


@pytest.mark.parametrize("name", sorted(LAWS))
def test_unloaded_state_tangent_and_energy(name):
    law = LAWS[name]
    one = torch.zeros(1, 1)
    assert law.stress(one).item() == 0.0 and law.energy(one).item() == 0.0
    lam = stretches(name)
    e = torch.tensor(lam - 1.0).unsqueeze(-1)
    # numpy and torch paths agree; stress has shape (..., 1), energy (...)
    np.testing.assert_allclose(law(e)[:, 0].numpy(), law.nominal_stress(lam), rtol=1e-14, atol=1e-9)
    assert law.energy(e).shape == (len(lam),)
    # autograd tangent vs central differences of the numpy stress
    h = 1e-6
    fd = (law.nominal_stress(lam + h) - law.nominal_stress(lam - h)) / (2 * h)
    np.testing.assert_allclose(law.tangent(e)[:, 0].numpy(), fd, rtol=1e-6, atol=1e-3)
    # stress is the derivative of the energy (a potential): P = dW/dλ
    x = e.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(law.energy(x).sum(), x)
    np.testing.assert_allclose(g.numpy(), law(e).detach().numpy(), rtol=1e-10, atol=1e-6)
    # small-strain limit: dP/dλ at λ = 1 is 3μ0 (E for the linear law = 3·E/3)
    assert law.tangent(one).item() == pytest.approx(3 * law.shear_modulus(), rel=1e-12)


def test_known_small_strain_moduli():
    assert LAWS["neohookean"].shear_modulus() == 0.4e6
    assert LAWS["mooney_rivlin"].shear_modulus() == pytest.approx(0.4e6)
    assert LAWS["ogden3"].shear_modulus() == pytest.approx(0.5 * (0.618 * 1.3 + 0.00118 * 5 + 0.00981 * 2) * MPA)
    n = 26.0
    assert LAWS["arruda_boyce"].shear_modulus() == pytest.approx(0.28e6 * (3 * n - 1) / (3 * (n - 1)))


def test_domains_are_nan_outside():
    for name, law in LAWS.items():
        out = law.stress(torch.tensor([[-1.0], [-2.0]]))
        assert torch.isnan(out).all() != (name == "linear")
    # Gent locks where I1 - 3 = Jm, Arruda-Boyce where I1 = 3N, in tension and in compression
    assert np.isnan(LAWS["gent"].nominal_stress([9.7, 0.02])).all()
    assert np.isnan(LAWS["arruda_boyce"].nominal_stress([9.0, 0.02])).all()


def test_cohen_inverse_langevin_accuracy():
    x = np.linspace(0.01, 0.99, 99)
    langevin = lambda b: 1 / np.tanh(b) - 1 / b  # noqa: E731
    exact = np.array([brentq(lambda b: langevin(b) - xi, 1e-9, 1e4) for xi in x])
    rel = np.abs(inverse_langevin_cohen(x) / exact - 1)
    assert 0.049 < rel.max() < 0.0495          # documented: 4.94 % at worst, at x = 0.80
    assert abs(x[np.argmax(rel)] - 0.80) < 0.011


def synthetic(law, lam):
    return UniaxialCurve(strain=lam - 1.0, stress=law.nominal_stress(lam), provenance={"file": "synthetic"})


@pytest.mark.parametrize("name", ["linear", "neohookean", "mooney_rivlin", "yeoh", "gent", "arruda_boyce"])
def test_fit_recovers_known_parameters(name):
    law = LAWS[name]
    lam = np.linspace(0.7, 6.0, 40) if name not in RANGE else np.linspace(0.7, 5.5, 40)
    fitted = fit_baseline(name, synthetic(law, lam))
    np.testing.assert_allclose(fitted.params.numpy(), law.params.numpy(), rtol=1e-6)


def test_ogden_fit_reproduces_synthetic_curve():
    law = LAWS["ogden3"]
    lam = np.linspace(0.7, 7.0, 40)
    fitted = fit_baseline("ogden3", synthetic(law, lam))
    # terms come back in another order (sorted exponents of the start grid): compare as sets
    got = sorted(zip(fitted.params[3:].tolist(), fitted.params[:3].tolist()))
    want = sorted(zip(law.params[3:].tolist(), law.params[:3].tolist()))
    np.testing.assert_allclose(got, want, rtol=1e-6)
    assert fitted.shear_modulus() == pytest.approx(law.shear_modulus(), rel=1e-9)


@pytest.fixture(scope="module")
def treloar():
    return load_uniaxial(DATA / "treloar_uniaxial.csv")


# Regression pins, not independent values: R², MAPE % (relative residuals) measured with this code on
# data/treloar_uniaxial.csv and quoted in docs/notes/data-classical.md. They guard the fits and the
# documentation against silent change; the tests above check the laws against closed forms.
TRELOAR = {"linear": (0.788, 25.4), "neohookean": (0.582, 23.8), "mooney_rivlin": (0.663, 23.8),
           "yeoh": (0.9972, 5.00), "ogden3": (0.99907, 1.24), "gent": (0.9857, 9.98),
           "arruda_boyce": (0.9941, 8.49)}


@pytest.mark.parametrize("name", sorted(TRELOAR))
def test_fit_quality_on_treloar(treloar, name):
    model = fit_baseline(name, treloar)
    p = model.nominal_stress(treloar.stretch)
    r2, mape = TRELOAR[name]
    assert metrics.r2(treloar.stress, p) == pytest.approx(r2, abs=2e-3 if r2 < 0.99 else 2e-4)
    assert metrics.mape(treloar.stress, p) == pytest.approx(mape, abs=0.1)
    if name == "ogden3":
        assert model.is_stable_params() and model.fit_info["at_bounds"] == []


def test_ogden3_absolute_residuals_match_the_issue_figure(treloar):
    """The issue quotes MAPE 2.9 % for a 3-term Ogden: that is what absolute residuals give (2.82 %)."""
    model = fit_baseline("ogden3", treloar, loss="absolute", refine=2)
    p = model.nominal_stress(treloar.stretch)
    assert metrics.mape(treloar.stress, p) == pytest.approx(2.82, abs=0.15)
    assert metrics.r2(treloar.stress, p) > 0.9993


def test_stiffness_bounds_are_honest(treloar):
    lin = LAWS["linear"]
    assert lin.has_global_bound and lin.stiffness_bound() == 1.2e6
    e = torch.linspace(-0.9, 50, 101).unsqueeze(-1)
    assert torch.all(lin.tangent(e) == 1.2e6)
    with pytest.raises(CertificateError, match="E = -1 < 0"):
        LinearElasticBar(-1.0).stiffness_bound()
    for name, law in LAWS.items():
        if name == "linear":
            continue
        assert not law.has_global_bound
        with pytest.raises(NoGlobalBound, match="no global stiffness certificate"):
            law.stiffness_bound()
        # the data-range value bounds every tangent on that range ...
        lo, hi = float(treloar.strain.min()), float(treloar.strain.max())
        if name in RANGE:
            hi = min(hi, RANGE[name][1] - 1.5)
        b = law.stiffness_bound_over(lo, hi)
        grid = torch.tensor(np.linspace(lo, hi, 7919)).unsqueeze(-1)
        t = law.tangent(grid)
        assert t.max().item() <= b * (1 + 1e-12)
        # ... and only that range: in compression the tangent exceeds it
        assert law.tangent(torch.tensor([[-0.9]])).item() > b
    # Neo-Hookean: max over [a, b] of μ(1 + 2λ⁻³) is at the smallest stretch
    nh = LAWS["neohookean"]
    assert nh.stiffness_bound_over(-0.5, 3.0) == pytest.approx(0.4e6 * (1 + 2 * 0.5 ** -3), rel=1e-12)
    with pytest.raises(LipmatError, match="undefined or infinitely stiff"):
        nh.stiffness_bound_over(-1.0, 1.0)
    with pytest.raises(LipmatError, match="strain_min <= strain_max"):
        nh.stiffness_bound_over(1.0, 0.0)


def test_config_round_trip_and_registry():
    for name, law in LAWS.items():
        cfg = law.config()
        for again in (baseline_from_config(cfg), MODELS[cfg["name"]].from_config(cfg)):
            assert type(again) is type(law)
            np.testing.assert_array_equal(again.params.numpy(), law.params.numpy())
        assert set(law.state_dict()) == {"params"}
    o5 = OgdenBar(*range(1, 11))
    assert o5.name == "ogden5" and baseline_from_config(o5.config()).n_terms == 5
    assert set(BASELINES) == {"linear", "neohookean", "mooney_rivlin", "yeoh", "ogden3", "gent", "arruda_boyce"}
    with pytest.raises(LipmatError, match="unknown classical baseline 'ogden'"):
        fit_baseline("ogden", None)
    with pytest.raises(LipmatError, match="missing parameters"):
        NeoHookeanBar.from_config({"name": "neohookean", "params": {}})


def test_material_protocol_shapes_and_errors(treloar):
    law = LAWS["mooney_rivlin"]
    assert law.kinematics == "uniaxial"
    x = torch.zeros(4, 2, 1)
    assert law.stress(x).shape == (4, 2, 1) and law.energy(x).shape == (4, 2)
    with pytest.raises(LipmatError, match=r"expected strain of shape \(\.\.\., 1\)"):
        law.stress(torch.zeros(3, 2))
    with pytest.raises(LipmatError, match="load case 'equibiaxial'"):
        fit_baseline("neohookean", load_uniaxial(DATA / "treloar_equibiaxial.csv"))
    with pytest.raises(LipmatError, match="loss must be"):
        NeoHookeanBar.fit(treloar, loss="huber")
