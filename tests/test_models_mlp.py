"""The plain spectrally normalised MLP: σ(0) = 0, Lipschitz inequality within the scalar certificate."""
import pytest
import torch

from lipmat.lipschitz import empirical_lipschitz
from lipmat.models import LipschitzMLP


@pytest.mark.parametrize("kin,n", [("uniaxial", 1), ("plane_strain", 3), ("3d", 6)])
def test_mlp_zero_and_lipschitz(kin, n):
    model = LipschitzMLP(kin, 2e9, 16, 3, strain_scale=0.01).finalize().eval()
    L = model.stiffness_bound()
    # f(e) − f(0): zero up to the rounding of f(0) (batched matmuls round differently), ~1e-16·L·ℓ
    assert float(model(torch.zeros(3, n)).detach().abs().max()) <= 1e-12 * L * 0.01
    assert L <= 2e9 * (1 + 1e-6)
    a, b = torch.randn(2000, n) * 10, torch.randn(2000, n) * 10
    lhs = (model(a) - model(b)).norm(dim=-1)
    assert bool((lhs <= L * (a - b).norm(dim=-1) * (1 + 1e-9)).all())
    assert empirical_lipschitz(model, torch.randn(64, n) * 0.01).value <= L


def test_mlp_config_round_trip():
    model = LipschitzMLP("3d", 1.0, 8, 2)
    again = LipschitzMLP.from_config(model.config())
    again.load_state_dict(model.state_dict())
    e = torch.randn(5, 6)
    assert torch.equal(model.eval()(e), again.eval()(e))
