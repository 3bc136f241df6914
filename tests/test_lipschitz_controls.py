"""Each control does what its docstring says; they are interchangeable through one argument."""
import math

import pytest
import torch
from torch import nn

from lipmat.errors import LipmatError
from lipmat.lipschitz.controls import layer_penalty
from lipmat.lipschitz import (MODES, apply_control, control_of, control_penalty, exact_norm, frobenius_norm,
                              lipschitz_bound, refine_estimates)


def svd_norm(w):
    return float(torch.linalg.svdvals(w.detach())[0])


def big_layer(n_in=6, n_out=5, gain=4.0):
    layer = nn.Linear(n_in, n_out)
    with torch.no_grad():
        layer.weight.mul_(gain)
    return layer


@pytest.mark.parametrize("mode", MODES)
def test_every_mode_on_the_same_layer_type_and_certificate_is_exact_norm(mode):
    net = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 2))
    apply_control(net, mode, k=1.0)
    assert control_of(net[0]).mode == mode and control_of(net[2]).mode == mode
    net(torch.randn(4, 3))
    assert lipschitz_bound(net) == pytest.approx(exact_norm(net[0]) * exact_norm(net[2]), rel=1e-14)


def test_hard_is_at_least_k_and_converges_to_k():
    layer = apply_control(big_layer(), "hard", k=0.8, warmup=0)
    assert exact_norm(layer) >= 0.8
    refine_estimates(layer, 3000)
    assert exact_norm(layer) == pytest.approx(0.8, rel=1e-9)


def test_penalty_value_and_analytic_gradient_u_vT():
    layer = apply_control(big_layer(), "penalty", k=1.0, strength=3.0, warmup=3000).eval()
    sigma = svd_norm(layer.weight)
    assert sigma > 1.0
    penalty = control_penalty(layer)
    assert float(penalty.detach()) == pytest.approx(3.0 * (sigma - 1.0) ** 2, rel=1e-9)
    penalty.backward()
    u, _, vh = torch.linalg.svd(layer.weight.detach())
    expected = 2 * 3.0 * (sigma - 1.0) * torch.outer(u[:, 0], vh[0])
    assert torch.allclose(layer.weight.grad, expected, atol=1e-9)


def test_penalty_is_zero_below_k_and_training_on_it_pulls_sigma_to_k():
    small = apply_control(nn.Linear(4, 4), "penalty", k=10.0)
    assert float(control_penalty(small).detach()) == 0.0
    layer = apply_control(big_layer(), "penalty", k=1.0, strength=1.0, n_power_iterations=3)
    opt = torch.optim.SGD(layer.parameters(), lr=0.2)
    for _ in range(300):
        opt.zero_grad()
        control_penalty(layer).backward()
        opt.step()
    assert 1.0 <= exact_norm(layer) <= 1.0 + 1e-2     # soft: approaches k from above, no guarantee


def test_clip_bounds_entries_and_spectral_norm_by_k_even_after_an_update():
    layer = apply_control(big_layer(8, 5), "clip", k=1.0)
    c = 1.0 / math.sqrt(40)
    assert control_of(layer).clip_value == pytest.approx(c)
    with torch.no_grad():
        layer.weight.add_(10.0)               # an optimiser step far outside the box
    assert exact_norm(layer) <= 1.0 + 1e-12   # the certificate sees the clipped weight the layer applies
    layer(torch.randn(2, 8))                  # the forward projects in place
    assert float(layer.weight.detach().abs().max()) <= c
    assert exact_norm(layer) == pytest.approx(1.0, rel=1e-9)   # all entries +c: the rank-one extreme


def test_clip_with_explicit_value_and_two_forwards_before_backward():
    layer = apply_control(nn.Linear(4, 3), "clip", clip_value=0.05)
    x = torch.randn(5, 4)
    (layer(x).sum() + layer(x).sum()).backward()          # no in-place version error
    assert float(layer.weight.detach().abs().max()) <= 0.05
    assert exact_norm(layer) <= 0.05 * math.sqrt(12) * (1 + 1e-12)


def test_frobenius_penalty_value_gradient_and_bound_when_zero():
    layer = apply_control(big_layer(), "frobenius", k=1.0, strength=2.0)
    fro = float(torch.linalg.matrix_norm(layer.weight.detach(), "fro"))
    penalty = control_penalty(layer)
    assert float(penalty.detach()) == pytest.approx(2.0 * (fro - 1.0) ** 2, rel=1e-12)
    penalty.backward()
    expected = 2 * 2.0 * (fro - 1.0) * layer.weight.detach() / fro
    assert torch.allclose(layer.weight.grad, expected, atol=1e-12)
    with torch.no_grad():
        layer.weight.mul_(0.9 / fro)
    assert float(control_penalty(layer).detach()) == 0.0
    assert exact_norm(layer) <= frobenius_norm(layer) <= 0.9 * (1 + 1e-12)


def test_none_changes_nothing_and_penalty_sum_is_zero_tensor():
    layer = nn.Linear(5, 4)
    before = layer.weight.detach().clone()
    apply_control(layer, "none")
    assert torch.equal(layer.weight, before)
    assert exact_norm(layer) == pytest.approx(svd_norm(before), rel=1e-12)
    zero = control_penalty(layer)
    assert zero.shape == () and float(zero) == 0.0


def test_penalties_of_several_layers_add_up():
    net = nn.Sequential(big_layer(3, 4), nn.Tanh(), big_layer(4, 2))
    apply_control(net[0], "frobenius", k=1.0)
    apply_control(net[2], "penalty", k=0.5)
    total = control_penalty(net)
    assert float(total.detach()) == pytest.approx(float((layer_penalty(net[0]) + layer_penalty(net[2])).detach()))


@pytest.mark.parametrize(
    "args, kwargs, words",
    [(("fancy",), {}, ["mode", "hard", "'fancy'"]), (("hard",), {"k": 0}, ["k", "> 0", "0"]),
     (("clip",), {"strength": 1}, ["clip", "strength", "clip_value"]),
     (("penalty",), {"n_power_iterations": 0}, ["n_power_iterations", ">= 1", "0"]),
     (("hard",), {"n_power_iterations": 0}, ["n_power_iterations", ">= 1", "0"]),
     (("clip",), {"clip_value": -1.0}, ["clip_value", "> 0", "-1.0"])],
)
def test_bad_arguments(args, kwargs, words):
    with pytest.raises(LipmatError) as err:
        apply_control(nn.Linear(3, 3), *args, **kwargs)
    for word in words:
        assert word in str(err.value)


def test_model_without_linear_and_double_control_refused():
    with pytest.raises(LipmatError, match="nn.Linear.*received Conv2d"):
        apply_control(nn.Conv2d(1, 1, 3), "hard")
    layer = apply_control(nn.Linear(2, 2), "hard")
    with pytest.raises(LipmatError, match="already has mode 'hard'"):
        apply_control(layer, "clip")
