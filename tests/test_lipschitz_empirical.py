"""Empirical Lipschitz lower bound: exact on linear maps, finds a known maximum, restores the model."""
import pytest
import torch
from torch import nn

from lipmat.errors import LipmatError
from lipmat.lipschitz import GroupSort, empirical_lipschitz, jacobian, lipschitz_bound, spectral_norm


def test_linear_map_gives_the_exact_spectral_norm():
    layer = nn.Linear(5, 3)
    found = empirical_lipschitz(layer, torch.randn(10, 5), steps=0)
    assert found.value == pytest.approx(float(torch.linalg.svdvals(layer.weight.detach())[0]), rel=1e-12)
    assert found.x.shape == (5,)


def test_jacobian_matches_the_analytic_one():
    net = nn.Sequential(nn.Linear(3, 4), nn.Tanh())
    x = torch.randn(6, 3)
    w, b = net[0].weight.detach(), net[0].bias.detach()
    expected = (1 - torch.tanh(x @ w.T + b) ** 2).unsqueeze(-1) * w
    assert torch.allclose(jacobian(net, x), expected, atol=1e-12)


def test_ascent_finds_the_steepest_point_of_a_tanh_ridge():
    # f(x) = tanh(a·x + b) with a = (3, -4): Lip = |a| = 5, reached on the line a·x + b = 0 only.
    net = nn.Sequential(nn.Linear(2, 1), nn.Tanh())
    with torch.no_grad():
        net[0].weight.copy_(torch.tensor([[3.0, -4.0]]))
        net[0].bias.fill_(0.5)
    far = torch.tensor([[1.0, -1.0], [2.0, 0.0], [-1.5, 1.0], [0.8, -0.6]])    # |a·x + b| >= 3
    found = empirical_lipschitz(net, far, steps=200, lr=0.05)
    assert found.sampled < 0.05
    assert 5.0 * (1 - 1e-4) <= found.value <= 5.0 * (1 + 1e-12)
    with torch.no_grad():
        assert float(net[0](found.x)) == pytest.approx(0.0, abs=5e-3)


def test_never_above_the_certificate_and_improves_on_sampling():
    torch.manual_seed(3)
    net = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 16), nn.Tanh(), nn.Linear(16, 2))
    with torch.no_grad():
        for m in net:
            if isinstance(m, nn.Linear):
                m.weight.mul_(3)
    found = empirical_lipschitz(net, torch.randn(32, 2), steps=100)
    assert found.sampled <= found.value <= lipschitz_bound(net)
    assert found.value > found.sampled * 1.01


def test_piecewise_linear_net_runs_and_stays_below_certificate():
    net = nn.Sequential(nn.Linear(3, 8), GroupSort(2), nn.Linear(8, 2))
    found = empirical_lipschitz(net, torch.randn(16, 3), steps=10)
    assert 0 < found.value <= lipschitz_bound(net)


def test_model_modes_and_normalisation_vectors_are_left_alone():
    net = nn.Sequential(spectral_norm(nn.Linear(3, 6)), nn.Tanh(), nn.Linear(6, 1))
    net.train()
    net[2].eval()
    u = net[0].parametrizations.weight[0]._u.clone()
    empirical_lipschitz(net, torch.randn(8, 3), steps=5)
    assert net.training and net[0].training and not net[2].training
    assert torch.equal(u, net[0].parametrizations.weight[0]._u)


@pytest.mark.parametrize("inputs, word", [(torch.randn(5), "(5,)"), (torch.randn(0, 3), "(0, 3)"),
                                          ([[1.0, 2.0]], "list")])
def test_bad_inputs(inputs, word):
    with pytest.raises(LipmatError, match=r"inputs.*\(m, d\)") as err:
        empirical_lipschitz(nn.Linear(3, 1), inputs)
    assert word in str(err.value)


def test_bad_options():
    with pytest.raises(LipmatError, match="steps.*>= 0.*-1"):
        empirical_lipschitz(nn.Linear(3, 1), torch.randn(4, 3), steps=-1)
