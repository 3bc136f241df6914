"""The certified monotone 1D laws: σ(0) = 0, 0 ≤ σ' ≤ certificate everywhere, closed forms agree."""
import math

import pytest
import torch

from lipmat.errors import LipmatError
from lipmat.models import MODELS, UniaxialSN, UniaxialTangent
from lipmat.models.response import MonotoneResponse, softplus_primitive


def _random_tangent_model(seed=0):
    torch.manual_seed(seed)
    model = UniaxialTangent(5e6, 6, 3, strain_span=(0.0, 6.0))
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p))
    return model


def _autograd_tangent(model, x):
    x = x.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(model(x.unsqueeze(-1)).sum(), x)
    return g


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_tangent_model_zero_monotone_and_bounded_far_outside(seed):
    model = _random_tangent_model(seed)
    assert model(torch.zeros(1, 1)).item() == 0.0
    bound = model.stiffness_bound()
    assert bound <= 5e6
    # far outside the data, in compression beyond ε = −1, and out to 1e9
    x = torch.cat([torch.linspace(-50, 50, 20001), -torch.logspace(0, 9, 200), torch.logspace(0, 9, 200)])
    t = _autograd_tangent(model, x)
    assert float(t.min()) >= 0.0
    assert float(t.max()) <= bound
    # Lipschitz inequality and monotonicity on random pairs
    a, b = torch.randn(5000) * 100, torch.randn(5000) * 100
    sa, sb = model(a.unsqueeze(-1))[:, 0], model(b.unsqueeze(-1))[:, 0]
    assert bool(((sa - sb) * (a - b) >= -1e-9 * bound * (a - b).abs()).all())
    assert bool(((sa - sb).abs() <= bound * (a - b).abs() * (1 + 1e-9)).all())


def test_certificate_is_tight_and_where_it_says():
    model = _random_tangent_model(3)
    cert = model.certificate()
    assert cert.best <= cert.value <= cert.best * (1 + 1e-6)
    # the reported location really has (close to) the best tangent, evaluated by autograd of stress
    at = torch.tensor([cert.at])
    assert float(_autograd_tangent(model, at)[0]) == pytest.approx(cert.best, rel=1e-12)


def test_closed_forms_match_autograd_and_quadrature():
    model = _random_tangent_model(4)
    x = torch.linspace(-8, 12, 2001)
    assert torch.allclose(_autograd_tangent(model, x), model.tangent(x.unsqueeze(-1))[:, 0], rtol=1e-12, atol=1e-6)
    xe = x.clone().requires_grad_(True)
    (ge,) = torch.autograd.grad(model.energy(xe.unsqueeze(-1)).sum(), xe)
    assert torch.allclose(ge, model(x.unsqueeze(-1))[:, 0], rtol=1e-10, atol=1e-4)
    grid = torch.linspace(0, 7, 200001)
    with torch.no_grad():
        trapz = torch.trapezoid(model(grid.unsqueeze(-1))[:, 0], grid)
        energy = model.energy(torch.tensor([[7.0]]))
    assert float(energy) == pytest.approx(float(trapz), rel=1e-8)


def test_softplus_primitive_known_values():
    u = torch.tensor([-800.0, 0.0, 800.0])
    p = softplus_primitive(u)
    assert float(p[0]) == 0.0
    assert float(p[1]) == pytest.approx(math.pi**2 / 12, rel=1e-14)
    assert float(p[2]) == pytest.approx(800.0**2 / 2 + math.pi**2 / 6, rel=1e-14)


def test_linear_response_is_exact():
    r = MonotoneResponse.linear(2.5)
    x = torch.tensor([1.3, -7.0])
    assert torch.equal(r(x), 2.5 * x)
    assert r.sup_tangent().value == pytest.approx(2.5, rel=1e-11)
    assert r.sup_tangent().value >= 2.5


def test_sup_tangent_on_half_line_is_smaller_or_equal():
    r = _random_tangent_model(5).response
    assert r.sup_tangent((0.0, math.inf)).value <= r.sup_tangent().value * (1 + 1e-12)


def test_sn_form_is_monotone_and_certified_after_finalize():
    torch.manual_seed(0)
    model = UniaxialSN(3.0, 16, 3, strain_scale=2.0).finalize().eval()
    assert model(torch.zeros(1, 1)).item() == 0.0
    bound = model.stiffness_bound()
    assert bound <= 3.0 * (1 + 1e-9)
    x = torch.linspace(-100, 100, 40001)
    t = _autograd_tangent(model, x)
    assert float(t.min()) >= -1e-12 and float(t.max()) <= bound


@pytest.mark.parametrize("name", ["uniaxial", "uniaxial_sn"])
def test_config_round_trip_and_registry(name):
    cls = MODELS[name]
    model = cls(2.0)
    again = cls.from_config(model.config())
    again.load_state_dict(model.state_dict())
    x = torch.linspace(-2, 2, 11).unsqueeze(-1)
    assert torch.equal(model.eval()(x), again.eval()(x))
    assert model.kinematics == "uniaxial"


def test_bad_inputs_are_refused():
    with pytest.raises(LipmatError, match="max_stiffness"):
        UniaxialTangent(-1.0)
    with pytest.raises(LipmatError, match=r"\(\.\.\., 1\)"):
        UniaxialTangent(1.0)(torch.zeros(3, 2))
