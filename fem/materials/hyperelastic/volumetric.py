"""The volumetric term of the classical laws, and how it sets the small-strain bulk modulus.

Each classical law is ``ψ = W_d(I1, I2) + V(J)`` (or ``Σᵢ w(λᵢ) + V(J)`` for Ogden) with

    V(J) = −p₀ ln J + κ/4 (J² − 1 − 2 ln J)

- ``−p₀ ln J`` with p₀ = 2W₁ + 4W₂ at the reference (Ogden: p₀ = Σ w'(1)) cancels the stress the
  non-isochoric I1, I2 terms leave at F = I, so every law is stress-free at F = I;
- ``κ/4 (J² − 1 − 2 ln J)`` (Simo & Miehe 1992; convex, → ∞ as J → 0⁺ and as J → ∞, zero with zero
  slope at J = 1, second derivative κ/2(1 + J⁻²)) carries the compressibility; κ is chosen so the
  small-strain bulk modulus is the user's K (:func:`kappa_for`).

V'(J) = κ/2·J − (p₀ + κ/2)/J increases and V''(J) = (p₀ + κ/2)/J² + κ/2 decreases in J when κ >= 0
and p₀ + κ/2 >= 0 (required), so both are bounded on J intervals exactly by their end values.
"""
from __future__ import annotations

import math

import torch

from fem.core.errors import FemError
from fem.core.interval import Interval

__all__ = ["Volumetric", "kappa_for"]


def kappa_for(K: float, G: float, extra: float, who: str) -> float:
    """κ with small-strain bulk modulus K: the linearisation of ψ at F = I is
    ``G ε:ε·… + ½(κ + extra)(tr ε)²`` with Lamé λ = κ + extra, so κ = K − 2G/3 − extra.

    ``extra`` is the law's own volumetric stiffness at F = I (4W₂ + 4W₁₁ + 16W₂₂ + 16W₁₂ for an
    invariant law, 0 for Ogden). FemError when K is too small for that (κ < 0).
    """
    kappa = K - 2.0 * G / 3.0 - extra
    if not kappa >= -1e-12 * abs(K):
        raise FemError(f"{who}: bulk modulus K = {K:.6g} Pa is below what this law needs, K >= 2G/3 + "
                       f"{extra:.6g} = {2 * G / 3 + extra:.6g} Pa (G = {G:.6g} Pa); choose a larger K or nu")
    return max(kappa, 0.0)


class Volumetric:
    """V(J) = −p₀ ln J + κ/4 (J² − 1 − 2 ln J) with κ >= 0, p₀ + κ/2 >= 0 (module docstring). Tensors (...)."""

    def __init__(self, p0: float, kappa: float):
        if not (kappa >= 0 and p0 + 0.5 * kappa >= 0 and math.isfinite(p0) and math.isfinite(kappa)):
            raise FemError(f"Volumetric: expected kappa >= 0 and p0 + kappa/2 >= 0, received p0={p0}, kappa={kappa}")
        self.p0, self.kappa = float(p0), float(kappa)

    def value(self, J: torch.Tensor) -> torch.Tensor:
        lnJ = torch.log(J)
        return -self.p0 * lnJ + 0.25 * self.kappa * (J * J - 1.0 - 2.0 * lnJ)

    def d1(self, J: torch.Tensor) -> torch.Tensor:
        """V'(J) = κ/2·J − (p₀ + κ/2)/J, (...) -> (...); the stress calls it every step, so without autograd
        it is one reciprocal and one fused update in place (one temporary instead of five)."""
        half = 0.5 * self.kappa
        if isinstance(J, torch.Tensor) and not (torch.is_grad_enabled() and J.requires_grad):
            return torch.reciprocal(J).mul_(-(self.p0 + half)).add_(J, alpha=half)
        return -self.p0 / J + half * (J - 1.0 / J)

    def d2(self, J: torch.Tensor) -> torch.Tensor:
        return self.p0 / J**2 + 0.5 * self.kappa * (1.0 + 1.0 / J**2)

    def d1_bounds(self, J: Interval) -> Interval:
        return J.monotone(self.d1, increasing=True)

    def d2_bounds(self, J: Interval) -> Interval:
        return J.monotone(self.d2, increasing=False)
