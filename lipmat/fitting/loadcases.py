"""Ordinary test curves as load cases of a multiaxial law (small strain, Mandel vectors).

- ``uniaxial``: ε11 prescribed, lateral stresses zero; the curve's stress is σ11.
- ``equibiaxial`` (3D): ε11 = ε22 prescribed, σ33 = 0; the curve's stress is σ11.
- ``pure_shear`` (planar tension): ε11 prescribed, ε22 = 0, σ33 = 0 (3D; plane strain has ε33 = 0
  instead); the curve's stress is σ11.
- ``simple_shear``: ε12 = γ/2 prescribed, nothing else; the curve's stress is τ = σ12.

Free strains are solved at the material point. For a potential law with tangent C ⪰ 0 the residual
along the free direction t, ``g(x) = tᵀσ(e_prescribed + x·t)``, is non-decreasing in x
(``g' = tᵀCt ≥ 0``), so a bracketing root finder (Illinois) finds its root at every point; one Newton step taken
*with* autograd afterwards makes the result differentiable in the model's parameters
(implicit-function theorem: dx/dθ = −∂g/∂θ / g'). Uniaxial stress in 3D uses t = e22 + e33
(ε22 = ε33; for an isotropic law σ22 = σ33 there, so g = 2σ22); in plane strain t = e22.
"""
from __future__ import annotations

import math

import torch

from lipmat.errors import LipmatError

_H = math.sqrt(0.5)
#: load case -> kinematics -> (prescribed direction d, free direction t or None); strain = s·d + x·t.
_CASES = {
    "uniaxial": {"3d": ([1, 0, 0, 0, 0, 0], [0, 1, 1, 0, 0, 0]), "plane_strain": ([1, 0, 0], [0, 1, 0])},
    "equibiaxial": {"3d": ([1, 1, 0, 0, 0, 0], [0, 0, 1, 0, 0, 0])},
    "pure_shear": {"3d": ([1, 0, 0, 0, 0, 0], [0, 0, 1, 0, 0, 0]), "plane_strain": ([1, 0, 0], None)},
    "simple_shear": {"3d": ([0, 0, 0, 0, 0, _H], None), "plane_strain": ([0, 0, _H], None)},
}
#: Which Mandel component is the curve's stress, and its factor (σ12 = Mandel[-1]/√2).
_OUTPUT = {"uniaxial": (0, 1.0), "equibiaxial": (0, 1.0), "pure_shear": (0, 1.0), "simple_shear": (-1, _H)}
LOAD_CASES = tuple(_CASES)


def load_case_stress(model, case: str, strain: torch.Tensor, *, iterations: int = 40) -> torch.Tensor:
    """The curve's stress of ``model`` under load case ``case`` at prescribed strains: (m,) -> (m,) Pa.

    ``strain`` is ε11 (γ for simple shear). Differentiable in the model's parameters. ``model`` must
    have a symmetric PSD tangent (a convex potential, e.g. IsotropicPotential) when a strain is free.
    Raises LipmatError for an unknown case/kinematics pair, or when a free-direction residual does not
    change sign (a model that is not monotone).
    """
    table = _CASES.get(case)
    if table is None or model.kinematics not in table:
        have = sorted(f"{c}/{k}" for c, t in _CASES.items() for k in t)
        raise LipmatError(f"load case {case!r} with kinematics {model.kinematics!r} is not supported; "
                          f"expected one of {have}")
    d_list, t_list = table[model.kinematics]
    base = strain.unsqueeze(-1) * torch.tensor(d_list, dtype=strain.dtype)
    if t_list is None:
        sigma = model(base)
    else:
        t = torch.tensor(t_list, dtype=strain.dtype)
        x = _solve_free(model, base.detach(), t, iterations)
        sigma = model(base + x.unsqueeze(-1) * t)
    k, factor = _OUTPUT[case]
    return sigma[..., k] * factor


def _solve_free(model, base: torch.Tensor, t: torch.Tensor, iterations: int) -> torch.Tensor:
    def residual(x):
        return model(base + x.unsqueeze(-1) * t) @ t

    with torch.no_grad():
        width = 1.0 + base.abs().amax(-1)
        lo, hi = -width, width.clone()
        for _ in range(60):                    # expand until g(lo) ≤ 0 ≤ g(hi)
            bad_lo, bad_hi = residual(lo) > 0, residual(hi) < 0
            if not (bad_lo.any() or bad_hi.any()):
                break
            lo = torch.where(bad_lo, 2 * lo, lo)
            hi = torch.where(bad_hi, 2 * hi, hi)
        else:
            raise LipmatError("load case: the free stress component does not change sign; expected a model "
                              "with a monotone (convex-potential) response")
        # Illinois (modified regula falsi) inside the bracket: superlinear, never leaves [lo, hi].
        f_lo, f_hi = residual(lo), residual(hi)
        side = torch.zeros_like(lo)
        x0 = 0.5 * (lo + hi)
        for _ in range(iterations):
            previous = x0
            denom = f_hi - f_lo
            x0 = torch.where(denom > 0, lo - f_lo * (hi - lo) / torch.where(denom > 0, denom, 1.0), 0.5 * (lo + hi))
            x0 = torch.minimum(torch.maximum(x0, lo), hi)
            f = residual(x0)
            up = f > 0
            hi, f_hi = torch.where(up, x0, hi), torch.where(up, f, f_hi)
            lo, f_lo = torch.where(up, lo, x0), torch.where(up, f_lo, f)
            f_lo = torch.where(up & (side > 0), 0.5 * f_lo, f_lo)
            f_hi = torch.where(~up & (side < 0), 0.5 * f_hi, f_hi)
            side = torch.where(up, 1.0, -1.0)
            if bool(((x0 - previous).abs() <= 1e-15 * (1.0 + x0.abs())).all()):
                break
    x0 = x0.requires_grad_(True)
    with torch.enable_grad():
        g = residual(x0)
        (slope,) = torch.autograd.grad(g.sum(), x0, retain_graph=True)
    slope = slope.detach().clamp_min(torch.finfo(slope.dtype).tiny)
    return x0.detach() - g / slope


def simple_shear(model, gamma: torch.Tensor) -> torch.Tensor:
    """τ = σ12 at the small-strain simple shear ε12 = γ/2: (m,) -> (m,) Pa."""
    return load_case_stress(model, "simple_shear", gamma)
