"""Network certificates: proven on random pairs, never below the empirical bound, never a silent guess."""
import math

import pytest
import torch
from torch import nn

from lipmat.errors import CertificateError
from lipmat.lipschitz import (ACTIVATION_CONSTANTS, GroupSort, MaxMin, Residual, Scale, activation_constant,
                              apply_control, empirical_lipschitz, exact_norm, lipschitz_bound)


def tanh_mlp():
    return nn.Sequential(nn.Linear(3, 16), nn.Tanh(), nn.Linear(16, 16), nn.Tanh(), nn.Linear(16, 2))


def groupsort_mlp():
    return nn.Sequential(nn.Linear(3, 16), GroupSort(4), nn.Linear(16, 16), MaxMin(), nn.Linear(16, 2))


def residual_net():
    block = nn.Sequential(nn.Linear(8, 8), nn.Tanh(), nn.Linear(8, 8))
    return nn.Sequential(nn.Linear(3, 8), Residual(block), GroupSort(2), Residual(nn.Linear(8, 8)),
                         nn.Linear(8, 2))


def scaled_net():
    return nn.Sequential(Scale(-2.5), nn.Linear(3, 8), nn.Softplus(), Scale(0.3), nn.Linear(8, 2))


def mixed_net():
    inner = nn.Sequential(nn.Linear(8, 8), nn.LeakyReLU(2.0), nn.Sequential(nn.Linear(8, 8), nn.Sigmoid()))
    return nn.Sequential(nn.Linear(3, 8), nn.ELU(1.5), Residual(inner), nn.Identity(), nn.SiLU(),
                         nn.Linear(8, 8), nn.GELU(), nn.Dropout(0.1), nn.ReLU(), Scale(1.7), nn.Linear(8, 2))


KINDS = {"tanh": tanh_mlp, "groupsort": groupsort_mlp, "residual": residual_net, "scaled": scaled_net,
         "mixed": mixed_net}


def scaled_up(net, gain=2.0):
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, nn.Linear):
                m.weight.mul_(gain)
    return net


def pair_ratios(net, n=1000):
    x = torch.randn(n, 3) * 2
    near = x[: n // 2] + 1e-4 * torch.randn(n // 2, 3)       # half the pairs close: local slopes
    far = torch.randn(n - n // 2, 3) * 2
    y = torch.cat([near, far])
    with torch.no_grad():
        return torch.linalg.vector_norm(net(x) - net(y), dim=1) / torch.linalg.vector_norm(x - y, dim=1)


@pytest.mark.parametrize("control", ["none", "hard"])
@pytest.mark.parametrize("kind", KINDS)
def test_random_pairs_never_exceed_the_certificate(kind, control):
    net = scaled_up(KINDS[kind]())
    apply_control(net, control, k=1.3)
    net.eval()
    bound = lipschitz_bound(net)
    ratios = pair_ratios(net)
    assert float(ratios.max()) <= bound
    assert float(ratios.max()) > 1e-3 * bound          # the check is not vacuous


@pytest.mark.parametrize("kind", KINDS)
def test_certificate_never_below_the_empirical_bound(kind):
    net = scaled_up(KINDS[kind]()).eval()
    found = empirical_lipschitz(net, torch.randn(64, 3), steps=20)
    assert found.value <= lipschitz_bound(net)


def test_linear_chain_certificate_is_tight_on_the_top_singular_direction():
    net = nn.Sequential(nn.Linear(4, 4, bias=False), nn.Identity(), Scale(-3.0))
    w = net[0].weight.detach()
    _, s, vh = torch.linalg.svd(w)
    x = torch.randn(4)
    with torch.no_grad():
        ratio = torch.linalg.vector_norm(net(x + vh[0]) - net(x)) / 1.0
    assert lipschitz_bound(net) == pytest.approx(float(ratio), rel=1e-12)
    assert lipschitz_bound(net) >= float(ratio)


def test_composition_rules():
    lin = nn.Linear(5, 5)
    assert lipschitz_bound(Residual(lin)) == pytest.approx(1 + exact_norm(lin))
    assert lipschitz_bound(Scale(-0.4)) == 0.4
    assert lipschitz_bound(nn.Sequential()) == 1.0
    net = nn.Sequential(lin, nn.Sigmoid(), nn.Sequential(nn.LeakyReLU(-3.0), Scale(2.0)))
    assert lipschitz_bound(net) == pytest.approx(exact_norm(lin) * 0.25 * 3.0 * 2.0)


@pytest.mark.parametrize("module", [nn.Tanh(), nn.Sigmoid(), nn.Softplus(), nn.Softplus(beta=3.0), nn.ELU(),
                                    nn.ELU(2.0), nn.CELU(0.5), nn.SELU(), nn.SiLU(), nn.GELU(), nn.LeakyReLU(0.1),
                                    nn.LeakyReLU(-2.5), nn.Softsign(), nn.LogSigmoid(), nn.Hardsigmoid(),
                                    nn.ReLU6(), nn.Hardtanh()])
def test_activation_constant_is_the_sup_of_the_derivative(module):
    # Secant slopes of the forward on a fine grid: each is <= the Lipschitz constant (mean value
    # theorem), and their max approaches it.
    x = torch.linspace(-12, 12, 480_001)
    with torch.no_grad():
        slopes = (module(x).diff() / x.diff()).abs()
    constant = activation_constant(module)
    assert float(slopes.max()) <= constant * (1 + 1e-9)
    assert float(slopes.max()) >= constant * (1 - 1e-3)          # the table is tight, not just safe


def test_sorting_activations_are_permutations():
    x = torch.randn(50, 12)
    for act in (GroupSort(3), GroupSort(12), MaxMin()):
        y = act(x)
        assert torch.equal(y.sort(dim=1).values, x.sort(dim=1).values)
        assert activation_constant(act) == 1.0


class Doubler(nn.Module):
    def __init__(self):
        super().__init__()
        self.inner = nn.Linear(3, 3)

    def forward(self, x):
        return 2 * self.inner(x)

    def lipschitz_bound(self):
        return 2 * lipschitz_bound(self.inner)


class Opaque(nn.Module):
    def forward(self, x):
        return x ** 3


def test_a_module_can_certify_itself():
    net = nn.Sequential(Doubler(), nn.Tanh())
    assert lipschitz_bound(net) == pytest.approx(2 * exact_norm(net[0].inner))


@pytest.mark.parametrize(
    "net, words",
    [(nn.Sequential(nn.Linear(2, 2), nn.Conv2d(1, 1, 3)), ["Sequential.1", "Conv2d", "expected", "received"]),
     (nn.Sequential(nn.Linear(2, 2), Residual(nn.Sequential(nn.Tanh(), Opaque()))),
      ["Sequential.1.branch.1", "Opaque", "lipschitz_bound()"]),
     (nn.ModuleList([nn.Linear(2, 2)]), ["ModuleList"]),
     (nn.Sequential(nn.GELU(approximate="tanh")), ["Sequential.0", "approximate='none'", "'tanh'"])],
)
def test_uncertifiable_modules_are_named(net, words):
    with pytest.raises(CertificateError) as err:
        lipschitz_bound(net)
    for word in words:
        assert word in str(err.value)


def test_errors_inside_a_self_certifying_module_get_its_path():
    class Wrapper(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(Opaque())

        def lipschitz_bound(self):
            return lipschitz_bound(self.body)

    with pytest.raises(CertificateError, match=r"Sequential\.0 \(Wrapper\)\.lipschitz_bound\(\).*Opaque"):
        lipschitz_bound(nn.Sequential(Wrapper()))


def test_bad_self_reported_bound_refused():
    class Liar(nn.Module):
        def lipschitz_bound(self):
            return float("nan")

    with pytest.raises(CertificateError, match="finite number >= 0, received nan"):
        lipschitz_bound(Liar())


def test_table_covers_subclasses_only_by_declaration():
    class MyTanh(nn.Tanh):
        def forward(self, x):
            return 5 * torch.tanh(x)

    assert activation_constant(MyTanh()) is None          # a subclass may change forward: not guessed
    assert math.isclose(ACTIVATION_CONSTANTS[nn.Sigmoid], 0.25)
