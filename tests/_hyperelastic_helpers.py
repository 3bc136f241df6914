"""Shared pieces of the finite-strain law tests: one instance of every classical law, random rotations,
and samplers of deformation gradients inside a StretchDomain and on its boundary."""
from __future__ import annotations

import math

import torch

from fem.materials.hyperelastic import ArrudaBoyce, Gent, MooneyRivlin, NeoHookean, Ogden, StretchDomain, Yeoh

#: Rubber-like parameters (Pa); Ogden-3 as fitted to Treloar's data (one negative-exponent term).
LAW_FACTORIES = {
    "neohookean": lambda **kw: NeoHookean(0.5e6, **kw),
    "mooney_rivlin": lambda **kw: MooneyRivlin(0.2e6, 0.05e6, **kw),
    "yeoh": lambda **kw: Yeoh(0.25e6, -0.005e6, 0.0004e6, **kw),
    "ogden3": lambda **kw: Ogden([0.63e6, 0.0012e6, -0.01e6], [1.3, 5.0, -2.0], **kw),
    "gent": lambda **kw: Gent(0.5e6, 30.0, **kw),
    "arruda_boyce": lambda **kw: ArrudaBoyce(0.5e6, 6.0, **kw),
}


def make_law(name: str, **kw):
    """The law ``name`` with ν = 0.45 unless K or nu is given."""
    if "K" not in kw and "nu" not in kw:
        kw["nu"] = 0.45
    return LAW_FACTORIES[name](**kw)


def rotations(n: int, d: int, gen: torch.Generator | None = None) -> torch.Tensor:
    """(n, d, d) random proper rotations, uniform (Haar): a random angle in 2D, a normalised Gaussian
    quaternion in 3D."""
    if d == 2:
        t = 2 * math.pi * torch.rand(n, dtype=torch.float64, generator=gen)
        c, s = torch.cos(t), torch.sin(t)
        return torch.stack([torch.stack([c, -s], -1), torch.stack([s, c], -1)], -2)
    q = torch.randn(n, 4, dtype=torch.float64, generator=gen)
    w, x, y, z = (q / q.norm(dim=-1, keepdim=True)).unbind(-1)
    return torch.stack([
        torch.stack([1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)], -1),
        torch.stack([2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)], -1),
        torch.stack([2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)], -1)], -2)


def stretches_in(domain: StretchDomain, n: int, k: int, gen: torch.Generator, boundary: float = 0.5) -> torch.Tensor:
    """(n, k) principal stretches in the domain (k = 3, or 2 with λ₃ = 1); a fraction ``boundary`` on its
    boundary: one stretch at lam_lo or lam_hi, or J exactly J_lo or J_hi."""
    a, b = math.log(domain.lam_lo), math.log(domain.lam_hi)
    cl, ch = math.log(domain.J_lo), math.log(domain.J_hi)
    out = []
    total = 0
    while total < n:
        t = a + (b - a) * torch.rand(2 * n, k, dtype=torch.float64, generator=gen)
        m = t.shape[0]
        kind = torch.randint(0, 3, (m,), generator=gen)
        on_b = torch.rand(m, generator=gen, dtype=torch.float64) < boundary
        col = torch.randint(0, k, (m,), generator=gen)
        rows = torch.arange(m)
        # one stretch on the stretch box's faces
        face = on_b & (kind == 0)
        t[rows[face], col[face]] = torch.where(torch.rand(int(face.sum()), generator=gen) < 0.5, a, b).double()
        # J on its ends: solve for one stretch
        jface = on_b & (kind > 0)
        target = torch.where(kind == 1, cl, ch).double()
        rest = t.sum(-1) - t[rows, col]
        t[rows[jface], col[jface]] = (target - rest)[jface]
        s = t.sum(-1)
        ok = ((t >= a - 1e-15) & (t <= b + 1e-15)).all(-1) & (s >= cl - 1e-15) & (s <= ch + 1e-15)
        lam = t[ok].exp().clamp(domain.lam_lo, domain.lam_hi)
        J = lam.prod(-1)
        lam = lam[(J >= domain.J_lo) & (J <= domain.J_hi)]
        out.append(lam)
        total += lam.shape[0]
    return torch.cat(out)[:n]


def gradients_from(stretches: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """(n, d, d) F = R diag(λ) Qᵀ with random rotations on both sides."""
    n, d = stretches.shape
    return rotations(n, d, gen) @ torch.diag_embed(stretches) @ rotations(n, d, gen).transpose(-1, -2)
