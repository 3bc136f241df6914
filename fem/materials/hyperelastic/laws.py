"""Classical compressible invariant laws: ψ = W_d(I1, I2) + V(J), stress-free at F = I.

==================  ===============================================  ============================
law                 W_d(I1, I2) (non-isochoric invariants)           small-strain shear modulus G
==================  ===============================================  ============================
``NeoHookean``      μ/2 (I1 − 3)                                     μ
``MooneyRivlin``    C10 (I1 − 3) + C01 (I2 − 3)                      2 (C10 + C01)
``Yeoh``            C1 (I1 − 3) + C2 (I1 − 3)² + C3 (I1 − 3)³         2 C1
``Gent``            −μ Jm/2 · ln(1 − (I1 − 3)/Jm)                    μ
``ArrudaBoyce``     μN [g(I1/3N) − g(1/N)], g(s) = s/2 − ln(1 − s)   μ (3N − 1)/(3(N − 1))
==================  ===============================================  ============================

V(J) = −p₀ ln J + κ/4 (J² − 1 − 2 ln J) (:mod:`fem.materials.hyperelastic.volumetric`): p₀ makes the law
stress-free at F = I, κ makes the small-strain bulk modulus equal the user's K (or the K of the
user's ν with the G above). With the Neo-Hookean W_d this is the familiar compressible Neo-Hookean
of Simo–Miehe's volumetric function; every law reduces at small strain to linear elasticity with the
same K and G (tested). Arruda–Boyce uses Cohen's Padé inverse Langevin, as in
:mod:`lipmat.models.classical` (the energy is its exact integral).

Default domain (:data:`DEFAULT_DOMAIN`): principal stretches in [0.4, 3], J in [0.8, 1.25]. Gent
and Arruda–Boyce also need I1 below their locking value on the whole domain: their default shrinks
λ_hi until sup_D I1 <= 3 + 0.9·Jm (resp. 0.9·3N), and a domain given by the user that reaches
locking is refused.
"""
from __future__ import annotations

import math

import torch

from fem.core.errors import FemError
from fem.materials.hyperelastic.base import SmallStrainModuli, bulk_from
from fem.materials.hyperelastic.domain import StretchDomain
from fem.materials.hyperelastic.invariant import Derivatives, InvariantLaw
from fem.materials.hyperelastic.volumetric import Volumetric, kappa_for
from fem.core.interval import Interval

__all__ = ["DEFAULT_DOMAIN", "ClassicalInvariantLaw", "NeoHookean", "MooneyRivlin", "Yeoh", "Gent", "ArrudaBoyce",
           "resolve_domain"]

#: Default certified domain of the classical laws.
DEFAULT_DOMAIN = StretchDomain(0.4, 3.0, 0.8, 1.25)


def resolve_domain(domain, who: str) -> StretchDomain | None:
    """None -> DEFAULT_DOMAIN, False -> no domain, a StretchDomain as is; FemError otherwise."""
    if domain is None:
        return DEFAULT_DOMAIN
    if domain is False:
        return None
    if isinstance(domain, StretchDomain):
        return domain
    raise FemError(f"{who}: domain must be a StretchDomain, None (default) or False (none), received {domain!r}")


def _positive(who: str, **vals) -> None:
    for k, v in vals.items():
        if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
            raise FemError(f"{who}: expected {k} > 0 (finite), received {v!r}")


class ClassicalInvariantLaw(SmallStrainModuli, InvariantLaw):
    """ψ = W_d(I1, I2) + V(J). Subclasses define ``_dev(I1, I2)`` (energy), ``_dev_derivs(I1, I2)`` and
    ``_dev_bounds(I1, I2)`` -> (W1, W2, W11, W22, W12) as tensors/numbers resp. Intervals/numbers."""

    def _setup(self, K, nu, domain) -> None:
        who = type(self).__name__
        w1, w2, w11, w22, w12 = (float(torch.as_tensor(v)) for v in
                                 self._dev_derivs(torch.tensor(3.0, dtype=torch.float64),
                                                  torch.tensor(3.0, dtype=torch.float64)))
        self._G = 2.0 * (w1 + w2)
        if not self._G > 0:
            raise FemError(f"{who}: the small-strain shear modulus 2(W1 + W2) must be > 0, found {self._G:.6g}")
        self._K = bulk_from(self._G, K, nu, who)
        p0 = 2.0 * w1 + 4.0 * w2
        self.volumetric = Volumetric(p0, kappa_for(self._K, self._G, 4 * w2 + 4 * w11 + 16 * w22 + 16 * w12, who))
        self.domain = resolve_domain(domain, who)

    def energy_invariants(self, I1, I2, J):
        return self._dev(I1, I2) + self.volumetric.value(J)

    def derivatives(self, I1, I2, J) -> Derivatives:
        w1, w2, w11, w22, w12 = self._dev_derivs(I1, I2)
        return Derivatives(w1, w2, self.volumetric.d1(J), w11, w22, self.volumetric.d2(J), w12, 0.0, 0.0)

    def first_derivatives(self, I1, I2, J):
        w1, w2 = self._dev_derivs(I1, I2)[:2]
        return w1, w2, self.volumetric.d1(J)

    def derivative_bounds(self, I1: Interval, I2: Interval, J: Interval) -> Derivatives:
        w1, w2, w11, w22, w12 = self._dev_bounds(I1, I2)
        return Derivatives(w1, w2, self.volumetric.d1_bounds(J), w11, w22, self.volumetric.d2_bounds(J), w12,
                           0.0, 0.0)

    def _base_repr(self) -> str:
        return f"K={self._K:.6g}, domain=({self.domain})" if self.domain else f"K={self._K:.6g}, domain=None"


class NeoHookean(ClassicalInvariantLaw):
    """ψ = μ/2 (I1 − 3) + V(J): compressible Neo-Hookean. Parameters μ > 0 (Pa), exactly one of K, nu."""

    def __init__(self, mu: float, *, K: float | None = None, nu: float | None = None, domain=None):
        _positive("NeoHookean", mu=mu)
        self.mu = float(mu)
        self._setup(K, nu, domain)

    def _dev(self, I1, I2):
        return 0.5 * self.mu * (I1 - 3.0)

    def _dev_derivs(self, I1, I2):
        return 0.5 * self.mu, 0.0, 0.0, 0.0, 0.0

    _dev_bounds = _dev_derivs

    def __repr__(self) -> str:
        return f"NeoHookean(mu={self.mu:.6g}, {self._base_repr()})"


class MooneyRivlin(ClassicalInvariantLaw):
    """ψ = C10 (I1 − 3) + C01 (I2 − 3) + V(J); C10, C01 >= 0 with C10 + C01 > 0."""

    def __init__(self, C10: float, C01: float, *, K: float | None = None, nu: float | None = None, domain=None):
        if not (C10 >= 0 and C01 >= 0 and C10 + C01 > 0 and math.isfinite(C10 + C01)):
            raise FemError(f"MooneyRivlin: expected C10, C01 >= 0 with C10 + C01 > 0, received {C10!r}, {C01!r}")
        self.C10, self.C01 = float(C10), float(C01)
        self._setup(K, nu, domain)

    def _dev(self, I1, I2):
        return self.C10 * (I1 - 3.0) + self.C01 * (I2 - 3.0)

    def _dev_derivs(self, I1, I2):
        return self.C10, self.C01, 0.0, 0.0, 0.0

    _dev_bounds = _dev_derivs

    def __repr__(self) -> str:
        return f"MooneyRivlin(C10={self.C10:.6g}, C01={self.C01:.6g}, {self._base_repr()})"


class Yeoh(ClassicalInvariantLaw):
    """ψ = C1 x + C2 x² + C3 x³ + V(J), x = I1 − 3; C1 > 0 (C2, C3 any sign, the fitted sign convention)."""

    def __init__(self, C1: float, C2: float = 0.0, C3: float = 0.0, *, K: float | None = None,
                 nu: float | None = None, domain=None):
        _positive("Yeoh", C1=C1)
        if not (math.isfinite(C2) and math.isfinite(C3)):
            raise FemError(f"Yeoh: expected finite C2, C3, received {C2!r}, {C3!r}")
        self.C1, self.C2, self.C3 = float(C1), float(C2), float(C3)
        self._setup(K, nu, domain)

    def _dev(self, I1, I2):
        x = I1 - 3.0
        return self.C1 * x + self.C2 * x**2 + self.C3 * x**3

    def _dev_derivs(self, I1, I2):
        x = I1 - 3.0
        return self.C1 + 2 * self.C2 * x + 3 * self.C3 * x**2, 0.0, 2 * self.C2 + 6 * self.C3 * x, 0.0, 0.0

    def _dev_bounds(self, I1: Interval, I2: Interval):
        x = I1 - 3.0
        return (self.C1 + x * (2 * self.C2) + (x**2) * (3 * self.C3), 0.0, 2 * self.C2 + x * (6 * self.C3), 0.0, 0.0)

    def __repr__(self) -> str:
        return f"Yeoh(C1={self.C1:.6g}, C2={self.C2:.6g}, C3={self.C3:.6g}, {self._base_repr()})"


class _Locking(ClassicalInvariantLaw):
    """Laws with a locking value of I1 (W₁ → ∞ as I1 → I1_lock): the domain must stay below it."""

    def _lock(self) -> float:
        raise NotImplementedError

    def _locking_domain(self, domain) -> StretchDomain | None:
        who, lock = type(self).__name__, self._lock()
        limit = 3.0 + 0.9 * (lock - 3.0)
        if domain is None:
            d = DEFAULT_DOMAIN
            hi = d.lam_hi
            while d.sup_I1() > limit:
                hi = 1.0 + 0.95 * (hi - 1.0)
                if hi < 1.0 + 1e-6:
                    raise FemError(f"{who}: no default domain keeps I1 below the locking value {lock:.6g}")
                d = StretchDomain(d.lam_lo, hi, d.J_lo, min(d.J_hi, hi**3))
            lo = d.lam_lo
            while d.sup_I1() > limit:          # compression also raises I1 when J is held
                lo = 1.0 - 0.95 * (1.0 - lo)
                d = StretchDomain(lo, d.lam_hi, max(d.J_lo, lo**3), d.J_hi)
            return d
        d = resolve_domain(domain, who)
        if d is not None and not d.sup_I1() < lock:
            raise FemError(f"{who}: the domain ({d}) reaches I1 = {d.sup_I1():.6g} >= the locking value "
                           f"{lock:.6g}; shrink the stretch range")
        return d


class Gent(_Locking):
    """ψ = −μ Jm/2 ln(1 − (I1 − 3)/Jm) + V(J); μ > 0, Jm > 0 (locks at I1 = 3 + Jm)."""

    def __init__(self, mu: float, Jm: float, *, K: float | None = None, nu: float | None = None, domain=None):
        _positive("Gent", mu=mu, Jm=Jm)
        self.mu, self.Jm = float(mu), float(Jm)
        self._setup(K, nu, False)
        self.domain = self._locking_domain(domain)

    def _lock(self) -> float:
        return 3.0 + self.Jm

    def _dev(self, I1, I2):
        return -0.5 * self.mu * self.Jm * torch.log(1.0 - (I1 - 3.0) / self.Jm)

    def _w1(self, I1):
        return 0.5 * self.mu / (1.0 - (I1 - 3.0) / self.Jm)

    def _w11(self, I1):
        return 0.5 * self.mu / self.Jm / (1.0 - (I1 - 3.0) / self.Jm) ** 2

    def _dev_derivs(self, I1, I2):
        return self._w1(I1), 0.0, self._w11(I1), 0.0, 0.0

    def _dev_bounds(self, I1: Interval, I2: Interval):
        if not bool((I1.hi < self._lock()).all()):
            raise FemError(f"Gent: I1 reaches the locking value {self._lock():.6g} in a certified box")
        return I1.monotone(self._w1), 0.0, I1.monotone(self._w11), 0.0, 0.0

    def __repr__(self) -> str:
        return f"Gent(mu={self.mu:.6g}, Jm={self.Jm:.6g}, {self._base_repr()})"


class ArrudaBoyce(_Locking):
    """ψ = μN [g(s) − g(1/N)] + V(J), s = I1/(3N), g(s) = s/2 − ln(1 − s) (8-chain, Cohen's Padé
    L⁻¹); μ > 0, N > 1 (locks at I1 = 3N). ``mu`` is not G: G = μ(3N − 1)/(3(N − 1))."""

    def __init__(self, mu: float, N: float, *, K: float | None = None, nu: float | None = None, domain=None):
        _positive("ArrudaBoyce", mu=mu)
        if not (isinstance(N, (int, float)) and math.isfinite(N) and N > 1):
            raise FemError(f"ArrudaBoyce: expected N > 1, received {N!r}")
        self.mu, self.N = float(mu), float(N)
        self._setup(K, nu, False)
        self.domain = self._locking_domain(domain)

    def _lock(self) -> float:
        return 3.0 * self.N

    def _dev(self, I1, I2):
        s, s0 = I1 / (3.0 * self.N), 1.0 / self.N
        return self.mu * self.N * (0.5 * (s - s0) - torch.log((1.0 - s) / (1.0 - s0)))

    def _w1(self, I1):
        return self.mu / 3.0 * (0.5 + 1.0 / (1.0 - I1 / (3.0 * self.N)))

    def _w11(self, I1):
        return self.mu / (9.0 * self.N) / (1.0 - I1 / (3.0 * self.N)) ** 2

    def _dev_derivs(self, I1, I2):
        return self._w1(I1), 0.0, self._w11(I1), 0.0, 0.0

    def _dev_bounds(self, I1: Interval, I2: Interval):
        if not bool((I1.hi < self._lock()).all()):
            raise FemError(f"ArrudaBoyce: I1 reaches the locking value {self._lock():.6g} in a certified box")
        return I1.monotone(self._w1), 0.0, I1.monotone(self._w11), 0.0, 0.0

    def __repr__(self) -> str:
        return f"ArrudaBoyce(mu={self.mu:.6g}, N={self.N:.6g}, {self._base_repr()})"
