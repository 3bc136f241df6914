"""Isotropic potential: linear elasticity exactly, symmetric tangent, C(ε) ⪯ C_b at random strains."""
import pytest
import torch

from fem.materials.classical import LinearElastic
from lipmat.lipschitz import jacobian
from lipmat.models import IsotropicPotential

KINS = ["3d", "plane_strain"]
N = {"3d": 6, "plane_strain": 3}


def _random_model(kin, seed=0):
    torch.manual_seed(seed)
    model = IsotropicPotential(kin, 1e9, 4e8, strain_span=0.01)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p))
    return model


@pytest.mark.parametrize("kin", KINS)
def test_linear_responses_give_linear_elasticity(kin):
    E, nu = 210e9, 0.3
    K, G = E / (3 * (1 - 2 * nu)), E / (2 * (1 + nu))
    model, exact = IsotropicPotential.linear(kin, K, G), LinearElastic(E, nu, kin)
    e = torch.randn(200, N[kin]) * 1e-3
    s_model, s_exact = model(e).detach(), exact.stress(e)
    assert float((s_model - s_exact).abs().max()) <= 1e-12 * float(s_exact.abs().max())
    C = jacobian(model, e[:5])
    assert float((C - exact.stiffness_bound()).abs().max()) <= 1e-12 * E
    assert float((model.stiffness_bound() - exact.stiffness_bound()).abs().max()) <= 1e-10 * E
    assert float((model.energy(e).detach() - exact.energy(e)).abs().max()) <= 1e-12 * float(exact.energy(e).abs().max())


@pytest.mark.parametrize("kin", KINS)
def test_tangent_symmetric_and_below_certificate(kin):
    model = _random_model(kin)
    Cb = model.stiffness_bound()
    assert torch.allclose(Cb, Cb.T)
    # random strains at several scales, plus pure volumetric, pure deviatoric and the origin
    e = torch.cat([torch.randn(300, N[kin]) * s for s in (1e-4, 1e-2, 1.0)])
    e = torch.cat([e, torch.zeros(1, N[kin]), torch.tensor([[0.01, 0.01] + [0.01 if kin == "3d" else 0.0]
                                                           + [0.0] * (N[kin] - 3)])])
    C = jacobian(model, e)
    scale = float(Cb.abs().max())
    assert float((C - C.mT).abs().max()) <= 1e-12 * scale
    gap = torch.linalg.eigvalsh(Cb - 0.5 * (C + C.mT)).min()
    assert float(gap) >= -1e-10 * scale
    assert float(torch.linalg.eigvalsh(0.5 * (C + C.mT)).min()) >= -1e-10 * scale   # convex


@pytest.mark.parametrize("kin", KINS)
def test_zero_stress_energy_and_gradient(kin):
    model = _random_model(kin, 1)
    z = torch.zeros(2, N[kin])
    assert float(model(z).detach().abs().max()) == 0.0
    e = (torch.randn(50, N[kin]) * 1e-2).requires_grad_(True)
    (g,) = torch.autograd.grad(model.energy(e).sum(), e)
    assert torch.allclose(g, model(e), rtol=1e-9, atol=1e-6)


def test_config_round_trip():
    model = _random_model("3d", 2)
    again = IsotropicPotential.from_config(model.config())
    again.load_state_dict(model.state_dict())
    e = torch.randn(10, 6) * 1e-3
    assert torch.equal(model(e), again(e))
    assert torch.equal(model.stiffness_bound(), again.stiffness_bound())
