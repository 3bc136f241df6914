"""Time recursions of the history models with hand-written adjoints (autograd Functions).

A history of T steps integrated with small torch operations per step costs ~1 ms per step for the
forward and backward graph; these loops run in numpy on whole (B, N) arrays per step and return the
exact gradient by the adjoint (reverse-time) recursion, about 20× faster. Both are checked against
torch autograd of the plain loop in tests/test_viscoelastic_fit.py.

- :class:`BranchScan`: g_{n} = root(g_{n−1} − rₙ cₙ, rₙ), the uniaxial branch update of
  :func:`lipmat.models.viscoelastic.branch_root` (root of g − r/g = x), g₀ = 1.
- :class:`LinearScan`: qₙ = dₙ q_{n−1} + uₙ (the Prony recursion), q₀ = u₀.
"""
from __future__ import annotations

import numpy as np
import torch


def root_np(x: np.ndarray, r: np.ndarray) -> np.ndarray:
    """numpy twin of :func:`lipmat.models.viscoelastic.branch_root` (same formula, same branches)."""
    s = np.sqrt(x * x + 4.0 * r)
    neg = x < 0
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(neg, 2.0 * r / np.where(neg, s - x, 1.0), 0.5 * (x + s))


class BranchScan(torch.autograd.Function):
    """c (T, B, K) data, r (T, B, N) -> g (T, B, N, K); gradient with respect to r only."""

    @staticmethod
    def forward(ctx, c: torch.Tensor, r: torch.Tensor) -> torch.Tensor:
        cn, rn = c.detach().numpy(), r.detach().numpy()
        T, B, N = rn.shape
        g = np.empty((T, B, N, cn.shape[-1]))
        g[0] = 1.0
        for n in range(1, T):
            rr = rn[n][..., None]
            g[n] = root_np(g[n - 1] - rr * cn[n][:, None, :], rr)
        ctx.save_for_backward(c, r)
        ctx.g = g
        return torch.from_numpy(g)

    @staticmethod
    def backward(ctx, grad_g: torch.Tensor):
        c, r = ctx.saved_tensors
        cn, rn, g, gg = c.numpy(), r.numpy(), ctx.g, grad_g.detach().numpy()
        lam = np.zeros_like(g[0])
        grad_r = np.zeros_like(rn)
        for n in range(g.shape[0] - 1, 0, -1):
            lam = lam + gg[n]
            rr = rn[n][..., None]
            den = g[n] * g[n] + rr
            a, b = g[n] * g[n] / den, g[n] / den          # ∂g/∂x, ∂g/∂r at fixed x (x = g_{n−1} − r c)
            grad_r[n] = (lam * (b - a * cn[n][:, None, :])).sum(-1)
            lam = a * lam
        return None, torch.from_numpy(grad_r)


class LinearScan(torch.autograd.Function):
    """d (T, ...), u (T, ...) -> q (T, ...) with q₀ = u₀, qₙ = dₙ q_{n−1} + uₙ; gradients for both."""

    @staticmethod
    def forward(ctx, d: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
        dn, un = d.detach().numpy(), u.detach().numpy()
        q = np.empty_like(un)
        q[0] = un[0]
        for n in range(1, len(q)):
            q[n] = dn[n] * q[n - 1] + un[n]
        ctx.save_for_backward(d)
        ctx.q = q
        return torch.from_numpy(q)

    @staticmethod
    def backward(ctx, grad_q: torch.Tensor):
        (d,) = ctx.saved_tensors
        dn, q, gq = d.numpy(), ctx.q, grad_q.detach().numpy()
        grad_u, grad_d = np.empty_like(q), np.zeros_like(q)
        lam = np.zeros_like(q[0])
        for n in range(len(q) - 1, -1, -1):
            lam = gq[n] + lam
            grad_u[n] = lam
            if n:
                grad_d[n] = lam * q[n - 1]
                lam = dn[n] * lam
        return torch.from_numpy(grad_d), torch.from_numpy(grad_u)
