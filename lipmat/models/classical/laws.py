"""The classical 1D baselines, each a :class:`~lipmat.models.classical.base.ClassicalUniaxial` of a bar in
uniaxial stress: P(λ), W(λ), the domain and the fit's starts and bounds (table in the package docstring).
The names end in ``Bar`` so they are not taken for fem's finite-strain laws of the same family
(``fem.NeoHookean`` is a 3D/plane-strain material; :class:`NeoHookeanBar` is its uniaxial-stress curve).
"""
from __future__ import annotations

import itertools

import numpy as np

from lipmat.errors import LipmatError
from lipmat.models.classical.base import ClassicalUniaxial, NoGlobalBound


def _i1(lam, xp=None):
    return lam ** 2 + 2.0 / lam


class LinearElasticBar(ClassicalUniaxial):
    """``P = E (λ − 1)``: σ = Eε for a bar. Exact global bound ``stiffness_bound() = E``; defined for all λ."""
    name = "linear"
    has_global_bound = True
    param_names = ("E",)

    def _nominal(self, p, lam, xp):
        return p[0] * (lam - 1.0)

    def _energy(self, p, lam, xp):
        return 0.5 * p[0] * (lam - 1.0) ** 2

    def _domain(self, p, lam, xp):
        return lam == lam

    def domain_text(self) -> str:
        return "all strains"

    def shear_modulus(self) -> float:
        return self._p()[0] / 3.0

    def stiffness_bound(self) -> float:
        """Exact: dP/dλ = E everywhere (a certificate when E ≥ 0)."""
        e = self._p()[0]
        if e < 0:
            raise NoGlobalBound(f"linear: E = {e:g} < 0 (an unstable fit); no meaningful stiffness bound")
        return e

    @classmethod
    def _bounds(cls, lam, n_terms):
        return [0.0], [np.inf]


class NeoHookeanBar(ClassicalUniaxial):
    """``P = μ (λ − λ⁻²)``; dP/dλ = μ(1 + 2λ⁻³): bounded for λ ≥ λ0 > 0, → ∞ as λ → 0."""
    name = "neohookean"
    param_names = ("mu",)

    def _nominal(self, p, lam, xp):
        return p[0] * (lam - lam ** -2)

    def _energy(self, p, lam, xp):
        return 0.5 * p[0] * (_i1(lam) - 3.0)

    def shear_modulus(self) -> float:
        return self._p()[0]

    @classmethod
    def _bounds(cls, lam, n_terms):
        return [0.0], [np.inf]


class MooneyRivlinBar(ClassicalUniaxial):
    """``P = 2 (λ − λ⁻²)(C10 + C01/λ)``, W = C10 (I1 − 3) + C01 (I2 − 3)."""
    name = "mooney_rivlin"
    param_names = ("C10", "C01")
    n_linear = 2

    def _nominal(self, p, lam, xp):
        return 2.0 * (lam - lam ** -2) * (p[0] + p[1] / lam)

    def _energy(self, p, lam, xp):
        return p[0] * (_i1(lam) - 3.0) + p[1] * (2.0 * lam + lam ** -2 - 3.0)

    def shear_modulus(self) -> float:
        c10, c01 = self._p()
        return 2.0 * (c10 + c01)


class YeohBar(ClassicalUniaxial):
    """``W = Σ Cᵢ (I1 − 3)^i`` (i = 1..3); dP/dλ grows like λ⁴ in tension when C3 > 0."""
    name = "yeoh"
    param_names = ("C1", "C2", "C3")
    n_linear = 3

    def _nominal(self, p, lam, xp):
        j = _i1(lam) - 3.0
        return 2.0 * (lam - lam ** -2) * (p[0] + 2.0 * p[1] * j + 3.0 * p[2] * j ** 2)

    def _energy(self, p, lam, xp):
        j = _i1(lam) - 3.0
        return p[0] * j + p[1] * j ** 2 + p[2] * j ** 3

    def shear_modulus(self) -> float:
        return 2.0 * self._p()[0]

    def _unbounded_note(self) -> str:
        return " and as λ → ∞ when C2 or C3 ≠ 0"


#: Exponent grid for Ogden starts (distinct α's drawn from it).
OGDEN_ALPHA_GRID = (-6.0, -4.0, -2.0, -1.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0)


class OgdenBar(ClassicalUniaxial):
    """``W = Σₚ μₚ/αₚ (λ^αₚ + 2 λ^(−αₚ/2) − 3)``, p = 1..N; μ0 = ½ Σ μₚ αₚ. Parameters mu1..muN, alpha1..alphaN.

    Not constrained to μₚαₚ > 0 (the usual stability condition); ``fit_info`` does not check it either —
    see :meth:`is_stable_params`.
    """
    name = "ogden3"

    def __init__(self, *params: float, n_terms: int | None = None) -> None:
        n = len(params) // 2 if n_terms is None else int(n_terms)
        if n < 1 or len(params) != 2 * n:
            raise LipmatError(f"OgdenBar: expected 2·n_terms parameters (mu1..muN, alpha1..alphaN), received {len(params)}")
        self.n_terms = n
        self.name = f"ogden{n}"
        self.n_linear = n
        self.param_names = tuple(f"mu{i + 1}" for i in range(n)) + tuple(f"alpha{i + 1}" for i in range(n))
        super().__init__(*params)

    def _nominal(self, p, lam, xp):
        n = len(p) // 2
        return sum(p[i] * (lam ** (p[n + i] - 1.0) - lam ** (-0.5 * p[n + i] - 1.0)) for i in range(n))

    def _energy(self, p, lam, xp):
        n = len(p) // 2
        return sum(p[i] / p[n + i] * (lam ** p[n + i] + 2.0 * lam ** (-0.5 * p[n + i]) - 3.0) for i in range(n))

    def shear_modulus(self) -> float:
        p = self._p()
        n = self.n_terms
        return 0.5 * sum(p[i] * p[n + i] for i in range(n))

    def is_stable_params(self) -> bool:
        """True when every term has μₚ αₚ > 0 (each term's energy is then convex in the principal stretches)."""
        p = self._p()
        return all(p[i] * p[self.n_terms + i] > 0 for i in range(self.n_terms))

    def _unbounded_note(self) -> str:
        return " and as λ → ∞ for any term with αₚ > 2"

    @classmethod
    def _make(cls, params, n_terms):
        return cls(*params, n_terms=n_terms)

    @classmethod
    def _starts(cls, lam, n_terms):
        return [list(c) for c in itertools.combinations(OGDEN_ALPHA_GRID, n_terms or 3)]

    @classmethod
    def _bounds(cls, lam, n_terms):
        n = n_terms or 3
        return [-np.inf] * n + [-20.0] * n, [np.inf] * n + [20.0] * n

    @classmethod
    def fit(cls, curve, *, n_terms: int = 3, **kw) -> "OgdenBar":
        """As :meth:`ClassicalUniaxial.fit`, with ``n_terms`` (default 3); starts: every set of n distinct
        exponents from :data:`OGDEN_ALPHA_GRID`."""
        return super().fit.__func__(cls, curve, n_terms=int(n_terms), **kw)

    def config(self) -> dict:
        return {"name": self.name, "n_terms": self.n_terms, "params": self.parameters_dict()}

    @classmethod
    def _names_for(cls, cfg):
        n = cls._terms_for(cfg)
        return tuple(f"mu{i + 1}" for i in range(n)) + tuple(f"alpha{i + 1}" for i in range(n))

    @classmethod
    def _terms_for(cls, cfg):
        return int(cfg.get("n_terms", len(cfg.get("params", {})) // 2))


class GentBar(ClassicalUniaxial):
    """``W = −(μ Jm/2) ln(1 − (I1 − 3)/Jm)``; locks (P, dP/dλ → ∞) where I1 − 3 → Jm, in tension and compression."""
    name = "gent"
    param_names = ("mu", "Jm")

    def _nominal(self, p, lam, xp):
        return p[0] * (lam - lam ** -2) / (1.0 - (_i1(lam) - 3.0) / p[1])

    def _energy(self, p, lam, xp):
        return -0.5 * p[0] * p[1] * xp.log(1.0 - (_i1(lam) - 3.0) / p[1])

    def _domain(self, p, lam, xp):
        return (lam > 0) & (_i1(xp.where(lam > 0, lam, 1.0 + 0 * lam)) - 3.0 < p[1])

    def domain_text(self) -> str:
        return f"λ > 0 with I1 − 3 < Jm = {self._p()[1]:.6g}"

    def shear_modulus(self) -> float:
        return self._p()[0]

    def _unbounded_note(self) -> str:
        return " and at the locking stretch I1 − 3 → Jm"

    @classmethod
    def _jm_min(cls, lam):
        return float(np.max(_i1(lam) - 3.0))

    @classmethod
    def _starts(cls, lam, n_terms):
        j = max(cls._jm_min(lam), 1e-6)
        return [[j * f] for f in (1.01, 1.05, 1.2, 1.5, 2.0, 4.0, 10.0, 100.0)]

    @classmethod
    def _bounds(cls, lam, n_terms):
        return [0.0, max(cls._jm_min(lam), 1e-6) * (1 + 1e-9)], [np.inf, np.inf]


def inverse_langevin_cohen(x):
    """Cohen's rounded Padé approximant ``x (3 − x²)/(1 − x²)`` of the inverse Langevin function, |x| < 1."""
    return x * (3.0 - x ** 2) / (1.0 - x ** 2)


class ArrudaBoyceBar(ClassicalUniaxial):
    """8-chain model with Cohen's Padé L⁻¹ (module docstring); ``W = μN [G(x) − G(x0)]``,
    ``G(x) = x²/2 − ln(1 − x²)``, ``x = √(I1/(3N))``, ``x0 = 1/√N``; needs N > 1; locks where I1 → 3N."""
    name = "arruda_boyce"
    param_names = ("mu", "N")

    def _nominal(self, p, lam, xp):
        mu, n = p
        x = xp.sqrt(_i1(lam) / (3.0 * n))
        return mu * (lam - lam ** -2) * (3.0 - x ** 2) / (3.0 * (1.0 - x ** 2))

    def _energy(self, p, lam, xp):
        mu, n = p
        x2 = _i1(lam) / (3.0 * n)
        x02 = 1.0 / n
        return mu * n * (0.5 * (x2 - x02) - xp.log((1.0 - x2) / (1.0 - x02)))

    def _domain(self, p, lam, xp):
        return (lam > 0) & (_i1(xp.where(lam > 0, lam, 1.0 + 0 * lam)) < 3.0 * p[1])

    def domain_text(self) -> str:
        return f"λ > 0 with I1 < 3N = {3 * self._p()[1]:.6g}"

    def shear_modulus(self) -> float:
        mu, n = self._p()
        return mu * (3.0 * n - 1.0) / (3.0 * (n - 1.0))

    def _unbounded_note(self) -> str:
        return " and at the locking stretch I1 → 3N"

    @classmethod
    def _n_min(cls, lam):
        return max(float(np.max(_i1(lam))) / 3.0, 1.0)

    @classmethod
    def _starts(cls, lam, n_terms):
        n = cls._n_min(lam)
        return [[n * f] for f in (1.01, 1.05, 1.2, 1.5, 2.0, 4.0, 10.0, 100.0)]

    @classmethod
    def _bounds(cls, lam, n_terms):
        return [0.0, cls._n_min(lam) * (1 + 1e-9)], [np.inf, np.inf]
