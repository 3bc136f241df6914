"""Classical least-squares baselines for uniaxial rubber curves (nominal stress vs stretch).

Every law is an incompressible hyperelastic solid (or linear elasticity) in **uniaxial stress**, written
as nominal (first Piola–Kirchhoff) stress ``P(λ)`` with ``I1 = λ² + 2/λ``, ``I2 = 2λ + 1/λ²``:

=================  ============================================================  =================
name               P(λ)                                                          initial shear μ0
=================  ============================================================  =================
``linear``         ``E (λ − 1)``                                                 E/3 (slope E)
``neohookean``     ``μ (λ − λ⁻²)``                                               μ
``mooney_rivlin``  ``2 (λ − λ⁻²)(C10 + C01/λ)``                                  2 (C10 + C01)
``yeoh``           ``2 (λ − λ⁻²) Σᵢ i Cᵢ (I1 − 3)^(i−1)``, i = 1..3              2 C1
``ogdenN``         ``Σₚ μₚ (λ^(αₚ−1) − λ^(−αₚ/2−1))``, p = 1..N (default N = 3)  ½ Σ μₚ αₚ
``gent``           ``μ (λ − λ⁻²) / (1 − (I1 − 3)/Jm)``                           μ
``arruda_boyce``   ``μ √N L⁻¹(λc/√N)/(3 λc) (λ − λ⁻²)``, ``λc = √(I1/3)``        μ (3N−1)/(3(N−1))
=================  ============================================================  =================

Arruda–Boyce (8-chain) uses Cohen's rounded Padé approximant of the inverse Langevin function,
``L⁻¹(x) ≈ x (3 − x²)/(1 − x²)`` (A. Cohen, Rheol. Acta 30 (1991) 270): exact slope 3 at 0 and the
exact pole at x = 1; its largest relative error on (0, 1) is 4.94 % at x ≈ 0.80 (measured in
tests/test_classical.py). The law *is* this approximant (the energy is its exact integral), so stress,
tangent and energy stay consistent. Its ``mu`` is not the initial shear modulus (see the table).

As 1D materials for fem (kinematics ``"uniaxial"``): strain = λ − 1 and stress = P, an exact finite-strain
work pair for a bar, shapes (..., 1) -> (..., 1); ``energy`` is the closed-form strain-energy density
W(λ) per undeformed volume, (..., 1) -> (...). Outside the law's domain the stress is NaN: λ ≤ 0
(strain ≤ −1) for every law but ``linear``, and beyond the locking stretch of Gent (I1 − 3 ≥ Jm) and
Arruda–Boyce (I1 ≥ 3N) — both lock in compression too, since I1 → ∞ as λ → 0.

**Stiffness bounds.** Only ``linear`` has a global bound (dP/dλ = E, exact). For every hyperelastic
law dP/dλ → ∞ as λ → 0⁺ (e.g. Neo-Hookean dP/dλ = μ(1 + 2λ⁻³)), Yeoh and Ogden terms with α > 2 also
grow without bound in tension, and Gent/Arruda–Boyce blow up at their locking stretches. So
``stiffness_bound()`` raises :class:`NoGlobalBound` (a CertificateError) and ``has_global_bound`` is
False; :meth:`ClassicalUniaxial.stiffness_bound_over` gives ``max dP/dλ`` over a strain interval (the
data range, say) — found on a dense grid plus a bounded local refinement: an *estimate* of that maximum,
never a certificate.

Fitting (:meth:`ClassicalUniaxial.fit`) uses ``scipy.optimize.least_squares`` on relative residuals
``(P(λᵢ) − Pᵢ)/|Pᵢ|`` by default (``loss="absolute"``: ``(P(λᵢ) − Pᵢ)/max|P|``). Every law is linear
in its moduli, so for each deterministic start of the nonlinear parameters (Ogden α's on a grid of
distinct exponents, Gent Jm, Arruda–Boyce N) the moduli come from a linear least-squares solve
(variable projection); the ``refine`` best starts are optimised over the nonlinear parameters with the
moduli eliminated that way, and the best result is polished over all parameters jointly. No randomness: the same data give the same parameters.
"""
from __future__ import annotations

import itertools
import logging
import math
import re

import numpy as np
import torch
from scipy.optimize import least_squares, minimize_scalar
from torch import nn

from fem.core.errors import NoStiffnessBound
from lipmat.errors import CertificateError, LipmatError
from lipmat.models._common import StressAlias, check_strain

log = logging.getLogger(__name__)


class NoGlobalBound(CertificateError, NoStiffnessBound):
    """The law's tangent dP/dλ is unbounded over its domain: there is no global stiffness certificate.

    Also fem's :class:`~fem.core.errors.NoStiffnessBound`, the way a material tells the solver it has no bound.
    """


def _stretch_of(curve) -> tuple[np.ndarray, np.ndarray]:
    """A UniaxialCurve (or a pair (stretch, stress)) -> (λ (n,), P (n,) Pa)."""
    if isinstance(curve, tuple):
        lam, p = (np.asarray(a, dtype=np.float64).ravel() for a in curve)
    else:
        case = getattr(curve, "load_case", "uniaxial")
        if case != "uniaxial":
            raise LipmatError(f"classical baselines fit uniaxial-stress curves; received load case {case!r} "
                              f"(file {curve.provenance.get('file', '?')})")
        lam, p = 1.0 + np.asarray(curve.strain, dtype=np.float64), np.asarray(curve.stress, dtype=np.float64)
    if lam.shape != p.shape or lam.size < 1:
        raise LipmatError(f"expected stretch and stress of the same shape (n,), received {lam.shape} and {p.shape}")
    return lam, p


def _inside(b: np.ndarray, side: int) -> np.ndarray:
    """Bounds moved strictly inside by a relative 1e-9 (infinite bounds unchanged): least_squares needs
    a start strictly within its bounds."""
    return np.where(np.isfinite(b), b + side * 1e-9 * (np.abs(np.where(np.isfinite(b), b, 0.0)) + 1.0), b)


class ClassicalUniaxial(StressAlias, nn.Module):
    """Base class: parameters in one float64 buffer ``params`` (SI), formulas written once for numpy and
    torch (``xp`` is the array module). Subclasses define ``param_names``, ``n_linear`` (the first
    parameters, moduli in Pa, in which P is linear), ``_nominal``, ``_energy``, ``shear_modulus``."""

    name = "classical"
    kinematics = "uniaxial"
    has_global_bound = False
    param_names: tuple[str, ...] = ()
    n_linear = 1

    def __init__(self, *params: float) -> None:
        super().__init__()
        if len(params) != len(self.param_names):
            raise LipmatError(f"{type(self).__name__}: expected {len(self.param_names)} parameters "
                              f"{self.param_names}, received {len(params)}")
        self.register_buffer("params", torch.tensor([float(p) for p in params], dtype=torch.float64))
        self.fit_info: dict = {}

    # -- the law ------------------------------------------------------------------------------
    def _nominal(self, p, lam, xp):
        raise NotImplementedError

    def _energy(self, p, lam, xp):
        raise NotImplementedError

    def _domain(self, p, lam, xp):
        """Boolean mask of stretches where the law is defined (λ > 0 by default)."""
        return lam > 0

    def _p(self) -> list[float]:
        return [float(v) for v in self.params]

    def shear_modulus(self) -> float:
        """Initial shear modulus μ0 = (dP/dλ at λ = 1)/3, Pa."""
        raise NotImplementedError

    def nominal_stress(self, stretch) -> np.ndarray:
        """Nominal stress P (Pa) at stretches λ: numpy, any shape -> same shape; NaN outside the domain."""
        lam = np.asarray(stretch, dtype=np.float64)
        p = self._p()
        ok = self._domain(p, lam, np)
        safe = np.where(ok, lam, 1.0)
        with np.errstate(all="ignore"):
            return np.where(ok, self._nominal(p, safe, np), np.nan)

    def forward(self, strain: torch.Tensor) -> torch.Tensor:
        """(..., 1) engineering strain λ − 1 -> (..., 1) nominal stress Pa (NaN outside the domain)."""
        return self._on_domain(self._nominal, strain, "stress")

    def energy(self, strain: torch.Tensor) -> torch.Tensor:
        """(..., 1) -> (...): strain-energy density W(λ) per undeformed volume, J/m³ (W(1) = 0)."""
        return self._on_domain(self._energy, strain, "energy")[..., 0]

    def _on_domain(self, law, strain: torch.Tensor, what: str) -> torch.Tensor:
        """``law(params, λ, torch)`` at λ = 1 + strain where λ is in the domain, NaN elsewhere (the
        law is evaluated at λ = 1 there, so no inf/NaN reaches autograd)."""
        check_strain(strain, 1, f"{type(self).__name__}.{what}")
        lam = 1.0 + strain
        p = list(self.params.to(strain.dtype))
        ok = self._domain(p, lam, torch)
        safe = torch.where(ok, lam, torch.ones_like(lam))
        return torch.where(ok, law(p, safe, torch), torch.full_like(lam, math.nan))

    def tangent(self, strain: torch.Tensor) -> torch.Tensor:
        """(..., 1) -> (..., 1): dP/dλ = dP/dε by autograd (no graph kept)."""
        x = strain.detach().clone().requires_grad_(True)
        with torch.enable_grad():
            y = self(x)
            (g,) = torch.autograd.grad(y.sum(), x)
        return torch.where(torch.isnan(y.detach()), y.detach(), g)   # NaN outside the domain, not 0

    # -- stiffness ----------------------------------------------------------------------------
    def stiffness_bound(self) -> float:
        """Global bound on dP/dλ. Hyperelastic laws have none: raises :class:`NoGlobalBound`."""
        raise NoGlobalBound(
            f"{self.name}: dP/dλ is unbounded (→ ∞ as λ → 0⁺{self._unbounded_note()}), so there is no global "
            f"stiffness certificate; stiffness_bound_over(strain_min, strain_max) gives the largest tangent "
            f"over a strain range (an estimate, not a certificate)")

    def _unbounded_note(self) -> str:
        return ""

    def stiffness_bound_over(self, strain_min: float, strain_max: float, *, points: int = 4001) -> float:
        """max dP/dλ over strain ∈ [strain_min, strain_max], Pa: an estimate of that maximum (dense grid
        including both ends, then a bounded local refinement around the best grid point). Not a certificate,
        and only for that range. Raises LipmatError for an empty range or one leaving the law's domain."""
        a, b = float(strain_min), float(strain_max)
        if not (b >= a and math.isfinite(a) and math.isfinite(b)):
            raise LipmatError(f"stiffness_bound_over: expected finite strain_min <= strain_max, received {a}, {b}")
        grid = torch.linspace(a, b, points, dtype=torch.float64).unsqueeze(-1)
        t = self.tangent(grid)[:, 0].numpy()
        if not np.isfinite(t).all():
            raise LipmatError(f"stiffness_bound_over: {self.name} is undefined or infinitely stiff somewhere in "
                              f"strain [{a}, {b}] (domain: {self.domain_text()})")
        k = int(np.argmax(t))
        best = float(t[k])
        lo, hi = grid[max(k - 1, 0), 0].item(), grid[min(k + 1, points - 1), 0].item()
        if hi > lo:
            f = lambda e: -float(self.tangent(torch.tensor([[e]], dtype=torch.float64))[0, 0])  # noqa: E731
            r = minimize_scalar(f, bounds=(lo, hi), method="bounded", options={"xatol": 1e-12 * (1 + abs(hi))})
            best = max(best, -float(r.fun))
        return best

    def stiffness_over_data(self, curve) -> float:
        """:meth:`stiffness_bound_over` the strain range of ``curve`` extended to 0 (the unloaded state)."""
        lam, _ = _stretch_of(curve)
        e = lam - 1.0
        return self.stiffness_bound_over(min(0.0, e.min()), max(0.0, e.max()))

    def domain_text(self) -> str:
        return "λ > 0 (strain > −1)"

    # -- fitting ------------------------------------------------------------------------------
    @classmethod
    def _starts(cls, lam: np.ndarray, n_terms: int | None) -> list[list[float]]:
        """Deterministic starts of the nonlinear parameters (empty list entry for linear laws)."""
        return [[]]

    @classmethod
    def _bounds(cls, lam: np.ndarray, n_terms: int | None):
        """(lower, upper) for all parameters in scaled units (moduli / stress scale)."""
        n = len(cls.param_names) if n_terms is None else 2 * n_terms
        return [-np.inf] * n, [np.inf] * n

    @classmethod
    def _make(cls, params, n_terms: int | None):
        return cls(*params)

    @classmethod
    def fit(cls, curve, *, loss: str = "relative", n_terms: int | None = None, refine: int = 4,
            max_nfev: int = 400) -> "ClassicalUniaxial":
        """Least-squares fit to a uniaxial curve (UniaxialCurve, or a tuple (stretch (n,), stress (n,) Pa)).

        loss: "relative" (default) or "absolute" (see the module docstring). refine: how many of the best
        starts are refined. Returns a fitted model with ``fit_info`` (loss, cost = Σ residual², starts,
        refined, nfev, success, message, at_bounds: parameters that ended on a bound).
        """
        if loss not in ("relative", "absolute"):
            raise LipmatError(f"loss must be 'relative' or 'absolute', received {loss!r}")
        lam, y = _stretch_of(curve)
        scale = float(np.max(np.abs(y)))
        if not scale > 0:
            raise LipmatError("fit: every stress is zero; nothing to fit")
        ys = y / scale
        w = 1.0 / np.maximum(np.abs(ys), 1e-3) if loss == "relative" else np.ones_like(ys)
        proto = cls._make([1.0] * (len(cls.param_names) if n_terms is None else 2 * n_terms), n_terms)
        nl = proto.n_linear
        lower, upper = (np.asarray(b, dtype=np.float64) for b in cls._bounds(lam, n_terms))

        def residual(theta):
            with np.errstate(all="ignore"):
                r = w * (proto._nominal(list(theta), lam, np) - ys)
            return np.where(np.isfinite(r), r, 1e6)

        nq = len(lower) - nl

        def moduli(q):
            """Best moduli for fixed nonlinear parameters q (P is linear in them): (nl,) or None."""
            with np.errstate(all="ignore"):
                cols = [proto._nominal([1.0 if i == k else 0.0 for i in range(nl)] + list(q), lam, np)
                        for k in range(nl)]
            a = np.stack(cols, axis=1) * w[:, None]
            if not np.isfinite(a).all():
                return None
            return np.clip(np.linalg.lstsq(a, w * ys, rcond=None)[0], _inside(lower[:nl], +1), _inside(upper[:nl], -1))

        def projected(q):            # variable projection: residual as a function of q alone
            mod = moduli(q)
            return residual(np.r_[mod, q]) if mod is not None else np.full_like(ys, 1e6)

        candidates = []
        for q in cls._starts(lam, n_terms):
            q = np.clip(np.asarray(q, dtype=np.float64), _inside(lower[nl:], +1), _inside(upper[nl:], -1))
            if moduli(q) is not None:
                candidates.append((float(np.sum(projected(q) ** 2)), q))
        if not candidates:
            raise LipmatError(f"{cls.name}: no start gave finite stresses on the data")
        candidates.sort(key=lambda c: c[0])
        nfev, starts = 0, []
        for cost, q in candidates[:refine]:
            if nq:
                r = least_squares(projected, q, bounds=(lower[nl:], upper[nl:]), method="trf", max_nfev=max_nfev,
                                  xtol=1e-12, ftol=1e-12, gtol=1e-12)
                nfev += r.nfev
                q, cost = r.x, 2 * r.cost
            starts.append((cost, np.r_[moduli(q), q]))
        theta0 = min(starts, key=lambda c: c[0])[1]
        best = least_squares(residual, theta0, bounds=(lower, upper), method="trf", x_scale="jac",
                             max_nfev=max_nfev, xtol=1e-14, ftol=1e-14, gtol=1e-14)
        nfev += best.nfev
        theta = best.x.copy()
        theta[:nl] *= scale
        model = cls._make(list(theta), n_terms)
        model.fit_info = {"loss": loss, "cost": float(2 * best.cost), "starts": len(candidates),
                          "refined": min(refine, len(candidates)), "nfev": int(nfev),
                          "success": bool(best.success), "message": str(best.message),
                          "at_bounds": [model.param_names[i] for i in np.flatnonzero(best.active_mask)]}
        log.info("%s fit: cost %.3g after %d starts (%d refined)", model.name, best.cost, len(candidates),
                 model.fit_info["refined"])
        return model

    # -- files --------------------------------------------------------------------------------
    def parameters_dict(self) -> dict[str, float]:
        """{parameter name: value}, moduli in Pa."""
        return dict(zip(self.param_names, self._p()))

    def config(self) -> dict:
        """Plain data that rebuilds the model: ``{"name", "params": {name: value}}``."""
        return {"name": self.name, "params": self.parameters_dict()}

    @classmethod
    def from_config(cls, cfg: dict) -> "ClassicalUniaxial":
        names = cls._names_for(cfg)
        missing = [n for n in names if n not in cfg.get("params", {})]
        if missing:
            raise LipmatError(f"{cls.__name__}.from_config: missing parameters {missing}; received {cfg}")
        return cls._make([cfg["params"][n] for n in names], cls._terms_for(cfg))

    @classmethod
    def _names_for(cls, cfg) -> tuple[str, ...]:
        return cls.param_names

    @classmethod
    def _terms_for(cls, cfg):
        return None

    def extra_repr(self) -> str:
        return ", ".join(f"{k}={v:.6g}" for k, v in self.parameters_dict().items())


def _i1(lam, xp=None):
    return lam ** 2 + 2.0 / lam


class LinearElastic1D(ClassicalUniaxial):
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


class NeoHookean(ClassicalUniaxial):
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


class MooneyRivlin(ClassicalUniaxial):
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


class Yeoh(ClassicalUniaxial):
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


class Ogden(ClassicalUniaxial):
    """``W = Σₚ μₚ/αₚ (λ^αₚ + 2 λ^(−αₚ/2) − 3)``, p = 1..N; μ0 = ½ Σ μₚ αₚ. Parameters mu1..muN, alpha1..alphaN.

    Not constrained to μₚαₚ > 0 (the usual stability condition); ``fit_info`` does not check it either —
    see :meth:`is_stable_params`.
    """
    name = "ogden3"

    def __init__(self, *params: float, n_terms: int | None = None) -> None:
        n = len(params) // 2 if n_terms is None else int(n_terms)
        if n < 1 or len(params) != 2 * n:
            raise LipmatError(f"Ogden: expected 2·n_terms parameters (mu1..muN, alpha1..alphaN), received {len(params)}")
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
    def fit(cls, curve, *, n_terms: int = 3, **kw) -> "Ogden":
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


class Gent(ClassicalUniaxial):
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


class ArrudaBoyce(ClassicalUniaxial):
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


#: Baselines by name. ``ogdenN`` for any N ≥ 1 is also accepted by :func:`fit_baseline` and
#: :func:`baseline_from_config`.
BASELINES: dict[str, type] = {
    "linear": LinearElastic1D, "neohookean": NeoHookean, "mooney_rivlin": MooneyRivlin, "yeoh": Yeoh,
    "ogden3": Ogden, "gent": Gent, "arruda_boyce": ArrudaBoyce,
}


def _parse(name: str) -> tuple[type, dict]:
    m = re.fullmatch(r"ogden(\d+)", name)
    if m and int(m.group(1)) >= 1:
        return Ogden, {"n_terms": int(m.group(1))}
    if name in BASELINES:
        return BASELINES[name], {}
    raise LipmatError(f"unknown classical baseline {name!r}; expected one of {sorted(BASELINES)} or 'ogdenN'")


def fit_baseline(name: str, curve, **kw) -> ClassicalUniaxial:
    """Fit the baseline called ``name`` (``"ogden5"`` etc. allowed) to a uniaxial curve; see ``fit``."""
    cls, extra = _parse(name)
    return cls.fit(curve, **{**extra, **kw})


def baseline_from_config(cfg: dict) -> ClassicalUniaxial:
    """Rebuild a baseline from :meth:`ClassicalUniaxial.config` output."""
    cls, extra = _parse(str(cfg.get("name")))
    return cls.from_config({**extra, **cfg})
