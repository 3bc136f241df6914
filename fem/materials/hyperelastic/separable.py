"""Stretch-separable laws: ψ = Σᵢ w(λᵢ) + V(J) (Ogden and kin), w(1) = 0.

Stress without principal directions in the formula's derivative: with c = λ² the eigenvalues of
C = FᵀF, ``S = 2∂ψ/∂C = f(C) + V'(J) J C⁻¹`` with the isotropic matrix function
``f(c) = w'(√c)/√c``, so ``P = F f(C) + V'(J) cof F``. f(C) is evaluated by an eigen-decomposition
of C, and its derivative is written out as the Daleckii–Krein formula
``d f(C)[E] = Q (Γ ∘ QᵀEQ) Qᵀ``, ``Γᵢⱼ = (f(cᵢ) − f(cⱼ))/(cᵢ − cⱼ)`` (``f'`` at equal or nearly equal
eigenvalues): autograd of ``eigh`` is singular at repeated eigenvalues — at F = I above all — while
this derivative is exact there. (First derivatives only: the tangent and Jacobian-vector products of
the stress are right; second derivatives of the stress through f(C) are not provided.)

Eigen parts of A in principal stretches (Smith, de Goes & Kim 2019), k the third index:

    ∂²ψ/∂λᵢ² = w''(λᵢ) + V''(J)(λⱼλₖ)²,       ∂²ψ/∂λᵢ∂λⱼ = (V''(J) J + V'(J)) λₖ
    (ψᵢ − ψⱼ)/(λᵢ − λⱼ) = [w'(λᵢ) − w'(λⱼ)]/(λᵢ − λⱼ) − V'(J) λₖ
    (ψᵢ + ψⱼ)/(λᵢ + λⱼ) = [w'(λᵢ) + w'(λⱼ)]/(λᵢ + λⱼ) + V'(J) λₖ

The divided difference of w' is w''(ξ) for some ξ between λⱼ and λᵢ (mean value theorem): on boxes
it is bounded by w'' over the hull of both stretch intervals, intersected with the direct quotient
when the two intervals are disjoint; at points, w'' at the midpoint when |λᵢ − λⱼ| < 1e-6·λ.
"""
from __future__ import annotations

import torch

from fem.materials.hyperelastic.base import EigenParts, HyperelasticLaw
from fem.core.kinematics import principal_stretches
from fem.materials.hyperelastic.kinematics import check_F, invariants
from fem.core.interval import Interval, hull

__all__ = ["SeparableLaw", "symmetric_matrix_function"]

#: Relative gap below which two eigenvalues of C count as equal in the Daleckii–Krein quotient
#: (balances O(gap²) truncation against O(eps/gap) cancellation: both ~1e-11).
_DK_GAP = 5e-6


def symmetric_matrix_function(C: torch.Tensor, f, fprime) -> torch.Tensor:
    """f(C) for symmetric C (..., k, k) and an elementwise f with derivative fprime; (..., k, k).

    Value by eigh; first derivative (backward, double backward and forward mode) by Daleckii–Krein,
    exact at repeated eigenvalues. The eigensystem is computed on a detached copy, and the output is
    ``f(C₀) + L_{C₀}(C − C₀)`` with ``C₀ = C.detach()``: equal to f(C) in value, with derivative L.
    """
    C0 = C.detach()
    c, Q = torch.linalg.eigh(C0)
    fc = f(c)
    ci, cj = c[..., :, None], c[..., None, :]
    gap = ci - cj
    close = gap.abs() <= _DK_GAP * torch.maximum(ci.abs(), cj.abs())
    safe = torch.where(close, torch.ones_like(gap), gap)
    gamma = torch.where(close, fprime(0.5 * (ci + cj)), (fc[..., :, None] - fc[..., None, :]) / safe)
    Qt = Q.transpose(-1, -2)
    value = Q @ (fc[..., :, None] * Qt)
    return value + Q @ (gamma * (Qt @ (C - C0) @ Q)) @ Qt


class SeparableLaw(HyperelasticLaw):
    """ψ = Σᵢ w(λᵢ) + V(J), with w(1) = 0 and V = ``self.volumetric`` (a
    :class:`fem.materials.hyperelastic.volumetric.Volumetric`). Subclasses implement ``w``, ``w1`` (= w'),
    ``w2`` (= w'') on tensors of stretches (...) -> (...), and ``w1_bounds``, ``w2_bounds`` on
    Intervals of stretches (all > 0). Plane strain: λ₃ = 1 (w(1) = 0, so it adds nothing).
    """

    volumetric = None

    def w(self, lam):
        raise NotImplementedError

    def w1(self, lam):
        raise NotImplementedError

    def w2(self, lam):
        raise NotImplementedError

    def w1_bounds(self, lam: Interval) -> Interval:
        raise NotImplementedError

    def w2_bounds(self, lam: Interval) -> Interval:
        raise NotImplementedError

    # -- f(c) = w'(√c)/√c and f'(c) ------------------------------------------------------------
    def _f(self, c):
        lam = c.clamp_min(0).sqrt()
        return self.w1(lam) / lam

    def _fprime(self, c):
        lam = c.clamp_min(0).sqrt()
        return (self.w2(lam) - self.w1(lam) / lam) / (2.0 * c)

    def stress(self, F: torch.Tensor) -> torch.Tensor:
        """First Piola–Kirchhoff P = F f(C) + V'(J) cof F: (..., d, d) -> (..., d, d)."""
        check_F(F, f"{type(self).__name__}.stress")
        _, _, J, C, cof = invariants(F)
        S = symmetric_matrix_function(C, self._f, self._fprime)
        return F @ S + self.volumetric.d1(J)[..., None, None] * cof

    def energy(self, F: torch.Tensor) -> torch.Tensor:
        """Strain-energy density per reference volume: (..., d, d) -> (...)."""
        check_F(F, f"{type(self).__name__}.energy")
        _, _, J, C, _ = invariants(F)
        lam = principal_stretches(F, C)
        return self.w(lam).sum(-1) + self.volumetric.value(J)

    def eigen_parts(self, lam1, lam2, lam3, J=None, I1_max=None) -> EigenParts:
        lam = (lam1, lam2, lam3)
        interval = isinstance(lam1, Interval)
        prod = {(0, 1): lam1 * lam2, (0, 2): lam1 * lam3, (1, 2): lam2 * lam3}
        if J is None:
            J = prod[(0, 1)] * lam3
        V = self.volumetric
        v1, v2 = (V.d1_bounds(J), V.d2_bounds(J)) if interval else (V.d1(J), V.d2(J))
        d1 = [self.w1_bounds(x) if interval else self.w1(x) for x in lam]
        d2 = [self.w2_bounds(x) if interval else self.w2(x) for x in lam]
        H = [[None] * 3 for _ in range(3)]
        for i in range(3):
            j, k = [m for m in range(3) if m != i]
            H[i][i] = d2[i] + v2 * prod[(j, k)] ** 2
        pairs = {}
        for i, j in ((0, 1), (0, 2), (1, 2)):
            k = 3 - i - j
            H[i][j] = H[j][i] = (v2 * J + v1) * lam[k]
            dd = self._divided_difference(lam[i], lam[j], d1[i], d1[j], interval)
            pairs[(i, j)] = (dd - v1 * lam[k], (d1[i] + d1[j]) / (lam[i] + lam[j]) + v1 * lam[k])
        return EigenParts(H, pairs)

    def _divided_difference(self, a, b, wa, wb, interval: bool):
        """(w'(a) − w'(b))/(a − b), = w''(ξ) for ξ between a and b."""
        if interval:
            mv = self.w2_bounds(hull(a, b))
            apart = (a.lo > b.hi) | (b.lo > a.hi)
            if bool(apart.any()):
                gap = a - b
                gap = Interval(torch.where(apart, gap.lo, torch.ones_like(gap.lo)),
                               torch.where(apart, gap.hi, torch.ones_like(gap.hi)), check=False)
                direct = (wa - wb) / gap
                both = mv.intersect(direct)
                mv = Interval(torch.where(apart, both.lo, mv.lo), torch.where(apart, both.hi, mv.hi), check=False)
            return mv
        gap = a - b
        close = gap.abs() <= 1e-6 * torch.maximum(a.abs(), b.abs())
        safe = torch.where(close, torch.ones_like(gap), gap)
        return torch.where(close, self.w2(0.5 * (a + b)), (wa - wb) / safe)
