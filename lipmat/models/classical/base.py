"""The base of the classical 1D baselines: one parameter buffer, formulas written once for numpy and
torch, NaN outside the law's domain, the stiffness estimate over a strain range, and the deterministic
least-squares fit (variable projection over the moduli). The laws themselves are in
:mod:`lipmat.models.classical.laws`; the package docstring has the table and the reasoning.
"""
from __future__ import annotations

import logging
import math

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
