"""P(F) of an invariant law ψ = W(I1, I2, J) in a few passes over the quadrature points (the per-step path).

The general formula (:mod:`fem.materials.hyperelastic.invariant`) is
``P = 2W₁ F + 2W₂ (I1 F − F C) + W_J cof F``. Written with 2×2/3×3 tensor products it costs a
batched ``FᵀF``, a batched ``F C``, a stacked cofactor and several broadcasts: about ten temporaries
the size of all points, and torch's batched products of tiny matrices are slow. Here every
quantity is written entry by entry on the columns of F flattened to (N, d²):

- plane strain (F the in-plane block, C₃₃ = 1): ``I1 = |F|² + 1``, ``J = F₀₀F₁₁ − F₀₁F₁₀``,
  ``I2 = J² + I1 − 1`` (det + trace of the 2×2 C), and by Cayley–Hamilton for the 2×2 C,
  ``I1 F − F C = F + J cof F``, so ``P = (2W₁ + 2W₂) F + (2W₂ J + W_J) cof F``: two coefficients per
  point and one pass over P;
- 3D: the nine cofactor entries (cross products of F's columns), ``J = Σⱼ F₀ⱼ cof₀ⱼ``,
  ``I1 = |F|²``, ``I2 = |cof F|²`` (= tr cof C), and ``F C`` only when W₂ is not the number 0
  (Neo-Hookean, Yeoh, Gent and Arruda–Boyce skip it).

Where no gradient is needed (the solver's loop runs under ``torch.no_grad``) the sums are
accumulated in place into one buffer each and P is written column by column into one output,
which is what makes the difference: the arithmetic is a few hundred flops per cell either way,
the time goes to allocating and streaming temporaries (``bench/step_paths.py``). With autograd on
(the tangent, fitting) the same formulas run out of place. Equal to the general formula to
rounding (tests/test_fused_stress.py).
"""
from __future__ import annotations

import torch

__all__ = ["flat_invariants", "invariant_stress"]

# cof F = J F⁻ᵀ in 3D, entry (i, j) = F[a]F[b] − F[c]F[e] with flat indices (row-major i·3 + j)
_COF3 = ((4, 8, 5, 7), (5, 6, 3, 8), (3, 7, 4, 6),
         (7, 2, 1, 8), (0, 8, 2, 6), (1, 6, 0, 7),
         (1, 5, 2, 4), (2, 3, 0, 5), (0, 4, 1, 3))


def _sum_of_products(pairs, inplace: bool) -> torch.Tensor:
    """Σ a·b over ``pairs`` of (N,) tensors ((a, b) or (a, b, −1) for a subtraction): one buffer in place."""
    a, b, *sign = pairs[0]
    out = a * b if not sign else -(a * b)
    for a, b, *sign in pairs[1:]:
        value = -1.0 if sign else 1.0
        out = out.addcmul_(a, b, value=value) if inplace else torch.addcmul(out, a, b, value=value)
    return out


def flat_invariants(F: torch.Tensor, inplace: bool | None = None):
    """(..., d, d), d in (2, 3) -> (f, cols, I1, I2, J, cof): ``f`` F as (N, d²) (a view when F is
    contiguous), ``cols`` its d² columns (N,), the invariants I1, I2, J (N,) of the 3D deformation
    (plane strain: C₃₃ = 1), and in 3D the cofactor entries (a list of nine (N,)), None in 2D.

    inplace : accumulate the sums in place (default: when autograd is off or F needs no gradient).
    """
    d = F.shape[-1]
    if inplace is None:
        inplace = not (torch.is_grad_enabled() and F.requires_grad)
    f = F.reshape(-1, d * d)
    c = f.unbind(-1)
    if d == 2:
        J = _sum_of_products([(c[0], c[3]), (c[1], c[2], -1)], inplace)
        I1 = _sum_of_products([(x, x) for x in c], inplace)
        I1 = I1.add_(1.0) if inplace else I1 + 1.0
        I2 = torch.addcmul(I1, J, J)
        I2 = I2.sub_(1.0) if inplace else I2 - 1.0
        return f, c, I1, I2, J, None
    cof = [_sum_of_products([(c[a], c[b]), (c[p], c[q], -1)], inplace) for a, b, p, q in _COF3]
    J = _sum_of_products([(c[j], cof[j]) for j in range(3)], inplace)
    I1 = _sum_of_products([(x, x) for x in c], inplace)
    I2 = _sum_of_products([(x, x) for x in cof], inplace)
    return f, c, I1, I2, J, cof


def _is_zero(w) -> bool:
    return isinstance(w, (int, float)) and w == 0


def _needs_grad(*ws) -> bool:
    return torch.is_grad_enabled() and any(isinstance(w, torch.Tensor) and w.requires_grad for w in ws)


def _times(w, x):
    """w·x for a number or (N,) tensor w; None when w is the number 0."""
    if _is_zero(w):
        return None
    return x * w


def _plus(*terms):
    terms = [t for t in terms if t is not None]
    if not terms:
        return 0.0
    out = terms[0]
    for t in terms[1:]:
        out = out + t
    return out


def invariant_stress(F: torch.Tensor, first_derivatives) -> torch.Tensor:
    """P = ∂ψ/∂F of ψ = W(I1, I2, J) in closed form (module docstring): (..., d, d) -> (..., d, d).

    first_derivatives : (I1, I2, J) (N,) each -> (W₁, W₂, W_J), each a number or an (N,) tensor
    (the law's :meth:`~fem.materials.hyperelastic.invariant.InvariantLaw.first_derivatives`).
    """
    d = F.shape[-1]
    f, c, I1, I2, J, cof = flat_invariants(F)
    w1, w2, wj = (v if isinstance(v, (int, float)) else torch.as_tensor(v, dtype=F.dtype, device=F.device)
                  for v in first_derivatives(I1, I2, J))
    inplace = not (_needs_grad(w1, w2, wj) or (torch.is_grad_enabled() and F.requires_grad))
    if d == 2:   # P = (2W₁ + 2W₂) F + (2W₂ J + W_J) cof F, cof F = [[F₁₁, −F₁₀], [−F₀₁, F₀₀]]
        a = _plus(_times(w1, 2.0), _times(w2, 2.0))
        b = _plus(None if _is_zero(w2) else 2.0 * w2 * J, None if _is_zero(wj) else wj)
        cof_cols, sign = (c[3], c[2], c[1], c[0]), (1.0, -1.0, -1.0, 1.0)
    else:        # P = (2W₁ + 2W₂ I1) F + W_J cof F − 2W₂ F C
        a = _plus(_times(w1, 2.0), None if _is_zero(w2) else 2.0 * w2 * I1)
        b = 0.0 if _is_zero(wj) else wj
        cof_cols, sign = cof, (1.0,) * 9
    if not inplace:
        cols = [a * c[k] + sign[k] * b * cof_cols[k] for k in range(d * d)]
        if d == 3 and not _is_zero(w2):
            fc = _f_times_c(c, inplace=False)
            cols = [cols[k] - 2.0 * w2 * fc[k] for k in range(9)]
        return torch.stack(cols, -1).reshape(F.shape)
    P = torch.empty_like(f)
    p = P.unbind(-1)
    for k in range(d * d):             # P = b·cof column by column (one write each), then += a·F
        torch.mul(cof_cols[k], b, out=p[k])
        if sign[k] < 0:
            p[k].neg_()
    if isinstance(a, torch.Tensor):
        P.addcmul_(f, a.reshape(-1, 1) if a.ndim else a)
    elif a != 0:
        P.add_(f, alpha=a)
    if d == 3 and not _is_zero(w2):
        fc = _f_times_c(c, inplace=True)
        for k in range(9):
            p[k].addcmul_(fc[k], torch.as_tensor(w2, dtype=F.dtype, device=F.device), value=-2.0)
    return P.reshape(F.shape)


def _f_times_c(c, inplace: bool):
    """The nine entries (row-major) of F C = F FᵀF in 3D from F's columns ``c`` (N,) each."""
    C = {}
    for i in range(3):
        for j in range(i, 3):
            C[i, j] = C[j, i] = _sum_of_products([(c[k * 3 + i], c[k * 3 + j]) for k in range(3)], inplace)
    return [_sum_of_products([(c[i * 3 + k], C[k, j]) for k in range(3)], inplace) for i in range(3) for j in range(3)]
