"""Compressible Ogden-N: ψ = Σₚ μₚ/αₚ Σᵢ (λᵢ^αₚ − 1) + V(J) (stretch-separable, non-isochoric stretches).

V(J) = −p₀ ln J + κ/4 (J² − 1 − 2 ln J) with p₀ = Σₚ μₚ (stress-free at F = I) and κ = K − 2G/3
(small-strain bulk modulus K), G = ½ Σₚ μₚ αₚ. Each term needs μₚαₚ > 0 (the usual stability
condition; the fitted negative-exponent terms of rubber have μₚ < 0 and αₚ < 0). Default domain:
:data:`fem.materials.hyperelastic.laws.DEFAULT_DOMAIN` — terms with αₚ > 2 stiffen without bound in tension,
so the domain is what makes the law certifiable.
"""
from __future__ import annotations

import math


from fem.core.errors import FemError
from fem.materials.hyperelastic.base import SmallStrainModuli, bulk_from
from fem.materials.hyperelastic.laws import resolve_domain
from fem.materials.hyperelastic.separable import SeparableLaw
from fem.materials.hyperelastic.volumetric import Volumetric, kappa_for
from fem.core.interval import Interval

__all__ = ["Ogden"]


class Ogden(SmallStrainModuli, SeparableLaw):
    """Ogden-N with moduli ``mu`` (Pa) and exponents ``alpha`` (sequences of N numbers, μₚαₚ > 0, αₚ ≠ 0);
    exactly one of K or nu; ``domain`` a StretchDomain, None (default) or False (none)."""

    def __init__(self, mu, alpha, *, K: float | None = None, nu: float | None = None, domain=None):
        mu = [float(m) for m in (mu if isinstance(mu, (list, tuple)) else [mu])]
        alpha = [float(a) for a in (alpha if isinstance(alpha, (list, tuple)) else [alpha])]
        if len(mu) != len(alpha) or not mu:
            raise FemError(f"Ogden: expected mu and alpha of the same length >= 1, received {mu!r} and {alpha!r}")
        if not all(math.isfinite(m) and math.isfinite(a) and m * a > 0 for m, a in zip(mu, alpha)):
            raise FemError(f"Ogden: expected finite terms with mu_p * alpha_p > 0, received mu={mu}, alpha={alpha}")
        self.mu, self.alpha = tuple(mu), tuple(alpha)
        self._G = 0.5 * sum(m * a for m, a in zip(mu, alpha))     # G = ½ Σ μₚαₚ
        self._K = bulk_from(self._G, K, nu, "Ogden")
        self.volumetric = Volumetric(sum(mu), kappa_for(self._K, self._G, 0.0, "Ogden"))
        self.domain = resolve_domain(domain, "Ogden")

    def w(self, lam):
        return sum(m / a * (lam**a - 1.0) for m, a in zip(self.mu, self.alpha))

    def w1(self, lam):
        return sum(m * lam ** (a - 1.0) for m, a in zip(self.mu, self.alpha))

    def w2(self, lam):
        return sum(m * (a - 1.0) * lam ** (a - 2.0) for m, a in zip(self.mu, self.alpha))

    def w1_bounds(self, lam: Interval) -> Interval:
        return _sum_terms([(lam ** (a - 1.0)) * m for m, a in zip(self.mu, self.alpha)])

    def w2_bounds(self, lam: Interval) -> Interval:
        return _sum_terms([(lam ** (a - 2.0)) * (m * (a - 1.0)) for m, a in zip(self.mu, self.alpha)])

    def __repr__(self) -> str:
        return f"Ogden(mu={list(self.mu)}, alpha={list(self.alpha)}, K={self._K:.6g}, domain=({self.domain}))"


def _sum_terms(terms):
    out = terms[0]
    for t in terms[1:]:
        out = out + t
    return out
