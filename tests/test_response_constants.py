"""MonotoneResponse keeps its constants between calls: same values as the formula term by term, a cache
that follows every change of the parameters, and gradients that still flow while training."""
import math

import pytest
import torch

from lipmat.models.response import MonotoneResponse, softplus


def reference_parts(resp: MonotoneResponse):
    """(k, wₖ, w₀, aₖ, bₖ) from the raw parameters, as the module docstring defines them (the oracle's own copy)."""
    w = torch.softmax(resp.logits, 0)
    k = resp.sign.numel()
    lo, hi = resp.span
    wk, w0 = w[:k], w[k]
    a = resp.sign * torch.exp(resp.log_rate) / (hi - lo)
    b = lo + (hi - lo) * resp.centre
    return k, wk, w0, a, b


def reference_forward(resp: MonotoneResponse, x: torch.Tensor) -> torch.Tensor:
    """r(x) term by term, as the module docstring writes it (no cached constants, no fusion)."""
    k, wk, w0, a, b = reference_parts(resp)
    r = w0 * x
    if k:
        u = a * (x.unsqueeze(-1) - b)
        r = r + ((softplus(u) - softplus(-a * b)) / a * wk).sum(-1)
    return resp.max_slope * r


def reference_primitive(resp: MonotoneResponse, x: torch.Tensor) -> torch.Tensor:
    """∫₀ˣ r term by term, as the module docstring writes it."""
    from lipmat.models.response import softplus_primitive

    k, wk, w0, a, b = reference_parts(resp)
    out = 0.5 * w0 * x**2
    if k:
        u0 = -a * b
        xe = x.unsqueeze(-1)
        terms = (softplus_primitive(u0 + a * xe) - softplus_primitive(u0)) / a**2 - xe * softplus(u0) / a
        out = out + (terms * wk).sum(-1)
    return resp.max_slope * out


def shuffled(resp: MonotoneResponse, seed: int) -> MonotoneResponse:
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in resp.parameters():
            p.add_(0.5 * torch.randn(p.shape, dtype=p.dtype, generator=g))
    return resp


@pytest.mark.parametrize("terms", [(8, 4), (6, 2), (3, 0), (0, 0)])
def test_forward_equals_the_term_by_term_formula(terms):
    resp = shuffled(MonotoneResponse(2.5, *terms, span=(0.0, 4.0)), 1)
    x = torch.cat([torch.linspace(-30.0, 30.0, 2001, dtype=torch.float64), torch.tensor([0.0, 1e-9, -1e-9])])
    ref = reference_forward(resp, x).detach()
    scale = float(ref.abs().max()) + 1.0
    with torch.no_grad():
        got = resp(x)
    assert torch.allclose(got, ref, rtol=1e-12, atol=1e-12 * scale)
    assert resp(torch.zeros((), dtype=torch.float64)).abs() < 1e-12 * scale   # r(0) = 0
    got2 = resp(x).detach()                           # grad on: the graph path gives the same numbers
    assert torch.allclose(got2, ref, rtol=1e-12, atol=1e-12 * scale)
    with torch.no_grad():                             # any batch shape, as the solver's (cells, points)
        got3 = resp(x[:2000].reshape(500, 4))
    assert torch.allclose(got3.reshape(-1), ref[:2000], rtol=1e-12, atol=1e-12 * scale)
    pref = reference_primitive(resp, x).detach()
    pscale = float(pref.abs().max()) + 1.0
    with torch.no_grad():
        assert torch.allclose(resp.primitive(x), pref, rtol=1e-12, atol=1e-12 * pscale)
        assert torch.allclose(resp.primitive(x[:2000].reshape(500, 4)).reshape(-1), pref[:2000], rtol=1e-12,
                              atol=1e-12 * pscale)
    assert torch.allclose(resp.primitive(x).detach(), pref, rtol=1e-12, atol=1e-12 * pscale)


def test_cache_follows_in_place_changes_and_load_state_dict():
    resp = MonotoneResponse(1.0, 4, 2)
    x = torch.linspace(-2.0, 3.0, 101, dtype=torch.float64)
    with torch.no_grad():
        before = resp(x)
        resp.log_rate.add_(0.3)                       # an optimiser step is an in-place change
        after = resp(x)
    assert not torch.allclose(before, after)
    assert torch.allclose(after, reference_forward(resp, x).detach(), rtol=1e-12, atol=1e-12)
    other = shuffled(MonotoneResponse(1.0, 4, 2), 7)
    with torch.no_grad():
        resp.load_state_dict(other.state_dict())
        assert torch.allclose(resp(x), other(x), rtol=1e-12, atol=1e-12)
        assert torch.allclose(resp.tangent(x), other.tangent(x), rtol=1e-12, atol=1e-12)


def test_gradients_flow_while_training():
    resp = shuffled(MonotoneResponse(1.5, 4, 2), 3)
    x = torch.linspace(-1.0, 2.0, 33, dtype=torch.float64, requires_grad=True)
    with torch.no_grad():
        resp(x)                                       # fills the cache: training must not use it
    loss = (resp(x) ** 2).sum()
    grads = torch.autograd.grad(loss, [x] + list(resp.parameters()))
    ref_loss = (reference_forward(resp, x) ** 2).sum()
    ref = torch.autograd.grad(ref_loss, [x] + list(resp.parameters()))
    for g, r in zip(grads, ref):
        assert torch.isfinite(g).all() and float(g.abs().max()) > 0
        assert torch.allclose(g, r, rtol=1e-10, atol=1e-12)
    gp = torch.autograd.grad(resp.primitive(x).sum(), [x] + list(resp.parameters()))
    gp_ref = torch.autograd.grad(reference_primitive(resp, x).sum(), [x] + list(resp.parameters()))
    for g, r in zip(gp, gp_ref):
        assert torch.allclose(g, r, rtol=1e-10, atol=1e-12)
    # the autograd tangent is still L·s(x)
    (dx,) = torch.autograd.grad(resp(x).sum(), x)
    assert torch.allclose(dx, resp.tangent(x.detach()), rtol=1e-12, atol=1e-12)
    # an optimiser step through the cached path changes the response
    opt = torch.optim.SGD(resp.parameters(), lr=0.1)
    opt.zero_grad()
    (resp(x.detach()) ** 2).sum().backward()
    with torch.no_grad():
        old = resp(x.detach())
    opt.step()
    with torch.no_grad():
        assert not torch.allclose(resp(x.detach()), old)
        assert math.isfinite(float(resp(x.detach()).sum()))
