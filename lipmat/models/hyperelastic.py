"""A neural isotropic hyperelastic law, certified on a stretch domain, for finite-strain decks.

    ψ(F) = Ŵ₁(I1 − 3) + Ŵ₂(I2 − 3) + V(J),     I1 = tr C, I2 = ½(I1² − tr C²), J = det F

(non-isochoric invariants; objective and isotropic by construction: F enters through I1, I2, J only).
The two *derivatives* are learned, each from :class:`~lipmat.models.response.MonotoneResponse` parts
(r(0) = 0, 0 ≤ r' ≤ cap, closed-form value, slope and primitive):

    W1 = ∂ψ/∂I1 = a₁ + r₁(I1 − 3)                    (non-decreasing in I1: W11 = r₁' ≥ 0)
    W2 = ∂ψ/∂I2 = a₂ + r₂(I2 − 3) − r₃(I2 − 3)        (rising and falling parts)

and Ŵ₁, Ŵ₂ are their closed-form primitives. The falling part matters for Treloar's data (Carroll's
W = aI1 + bI1⁴ + c√I2, whose W2 = c/(2√I2) decreases, fits all three modes); a₁ > 0 and a₂ are free.

Volumetric term: V(J) = −p₀ ln J + κ/4 (J² − 1 − 2 ln J) (:mod:`fem.materials.hyperelastic.volumetric`, shared with
the classical laws) with p₀ = 2W1(0) + 4W2(0), so P(I) = 2W1 + 4W2 + V'(1) = 0 (stress-free at F = I),
and κ chosen so the small-strain bulk modulus is the user's K:

    G = 2(W1 + W2),   K = κ + 2G/3 + 4W2 + 4W11 + 16W22     (all at I1 = I2 = 3)

At J = 1 the invariants equal the isochoric ones, so the law restricted to incompressible states *is*
the incompressible law W(I1, I2) fitted to the test data (:mod:`lipmat.fitting.multiaxial`); K only sets how
close to J = 1 a deck's states stay. A larger K means a larger certified stiffness and a smaller
certified time step, Δt ∝ 1/√a_b (docs/hyperelastic.md measures it).

Certificate: ``stiffness_bound(kinematics)`` is fem's :func:`~fem.materials.hyperelastic.certify_isotropic` over
``domain`` (principal stretches in [λ_lo, λ_hi], J in [J_lo, J_hi]); this module supplies
:meth:`derivative_bounds`: interval enclosures of W1, W2, V', W11, W22, V'' over boxes of (I1, I2, J):

- values (``MonotoneResponse.value_bounds``): every r is non-decreasing, so r([x, y]) = [r(x), r(y)] (ends
  evaluated in float64, widened by 1e-12 of the sum of the absolute values of their terms, far above
  float64 rounding);
- slopes (``MonotoneResponse.tangent_bounds``): r' = cap·s with s = w₀ + Σ wₖ σ(aₖ(x − bₖ)), every term monotone, so
  ``s([x, y]) ⊆ [w₀ + Σ_rising wₖσₖ(x) + Σ_falling wₖσₖ(y), w₀ + Σ_rising wₖσₖ(y) + Σ_falling wₖσₖ(x)]``
  — the bound ``MonotoneResponse.sup_tangent`` refines on a line, and its lower analogue — widened by
  1e-12·cap.

The solver checks ``in_domain`` at every step, so the certificate holds at every state a run reaches.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from fem.materials.hyperelastic.base import bulk_from
from fem.materials.hyperelastic.domain import StretchDomain
from fem.materials.hyperelastic.invariant import Derivatives, InvariantLaw
from fem.materials.hyperelastic.volumetric import Volumetric, kappa_for
from fem.core.interval import Interval
from lipmat.errors import LipmatError
from lipmat.models.response import MonotoneResponse

#: Default bulk modulus as a multiple of the small-strain shear modulus: K/G = 50 (ν ≈ 0.490).
DEFAULT_BULK_RATIO = 50.0


def value_interval(resp: MonotoneResponse, x: Interval) -> Interval:
    """Enclosure of r over the intervals x (r non-decreasing): Interval (...) -> Interval (...)."""
    return Interval(*resp.value_bounds(x.lo, x.hi), check=False)


def slope_interval(resp: MonotoneResponse, x: Interval) -> Interval:
    """Enclosure of r' over the intervals x, by monotonicity of each sigmoid term: Interval -> Interval."""
    return Interval(*resp.tangent_bounds(x.lo, x.hi), check=False)


class NeuralHyperelastic(nn.Module, InvariantLaw):
    """The learned law of the module docstring, a fem finite-strain material (plane strain and 3D).

    Args:
        scale: stress scale (Pa), about the small-strain shear modulus; a₁ = scale·exp(θ₁), a₂ = scale·θ₂.
        caps: (cap₁, cap₂, cap₃) slope caps of r₁, r₂, r₃ (Pa; W11 ≤ cap₁, |W22| ≤ max(cap₂, cap₃)).
        spans: (span₁, span₂, span₃): the ranges [0, spanᵢ] of I − 3 where the responses' sigmoids start.
        terms: (n_rising, n_falling) sigmoid terms per response.
        K: small-strain bulk modulus (Pa) or None (then ``bulk_ratio``·G); exactly one of K, bulk_ratio, nu
            may be given (default: K = 50·G).
        domain: the certified StretchDomain (None: no certificate; stiffness_bound raises).

    Protocol (fem finite strain): ``finite_strain = True``, ``kinematics = ("plane_strain", "3d")``,
    ``stress(F)`` (..., d, d) -> (..., d, d), ``energy(F)`` (..., d, d) -> (...), ``stiffness_bound(kinematics)``,
    ``domain``, ``in_domain(F)`` (..., d, d) -> (...) bool. Calling the module is ``stress``.
    """

    name = "hyperelastic"
    has_potential = True

    def __init__(self, scale: float, caps=(1.0, 1.0, 1.0), spans=(1.0, 1.0, 1.0), terms=(6, 2), *,
                 K: float | None = None, bulk_ratio: float | None = None, nu: float | None = None,
                 domain: StretchDomain | None = None) -> None:
        super().__init__()
        for label, v in (("scale", scale), *((f"caps[{i}]", c) for i, c in enumerate(caps)),
                         *((f"spans[{i}]", s) for i, s in enumerate(spans))):
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not (math.isfinite(v) and v > 0):
                raise LipmatError(f"NeuralHyperelastic({label}): expected a finite number > 0, received {v!r}")
        if len(caps) != 3 or len(spans) != 3 or len(terms) != 2:
            raise LipmatError(f"NeuralHyperelastic: expected 3 caps, 3 spans and 2 term counts, received "
                              f"{caps!r}, {spans!r}, {terms!r}")
        if sum(x is not None for x in (K, bulk_ratio, nu)) > 1:
            raise LipmatError(f"NeuralHyperelastic: give at most one of K, bulk_ratio, nu; received K={K!r}, "
                              f"bulk_ratio={bulk_ratio!r}, nu={nu!r}")
        if bulk_ratio is not None and not (isinstance(bulk_ratio, (int, float)) and bulk_ratio > 2.0 / 3.0):
            raise LipmatError(f"NeuralHyperelastic(bulk_ratio): expected K/G > 2/3, received {bulk_ratio!r}")
        self.scale, self.caps, self.spans = float(scale), tuple(map(float, caps)), tuple(map(float, spans))
        self.terms = (int(terms[0]), int(terms[1]))
        self.theta1 = nn.Parameter(torch.tensor(math.log(0.4), dtype=torch.float64))
        self.theta2 = nn.Parameter(torch.tensor(0.1, dtype=torch.float64))
        self.r1 = MonotoneResponse(self.caps[0], *self.terms, span=(0.0, self.spans[0]))
        self.r2 = MonotoneResponse(self.caps[1], *self.terms, span=(0.0, self.spans[1]))
        self.r3 = MonotoneResponse(self.caps[2], *self.terms, span=(0.0, self.spans[2]))
        with torch.no_grad():           # start from nearly linear parts (the "zero" slot dominates)
            for r in (self.r1, self.r2, self.r3):
                r.logits[-1] = 4.0
        self._K_spec = {"K": K, "bulk_ratio": bulk_ratio, "nu": nu}
        self.domain = domain

    # -- the learned parts ---------------------------------------------------------------------
    def constants(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(a₁, a₂) in Pa, tensors (differentiable)."""
        return self.scale * torch.exp(self.theta1), self.scale * self.theta2

    def w(self, I1: torch.Tensor, I2: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(W1, W2) = (∂ψ/∂I1, ∂ψ/∂I2) at invariants (...): Pa, differentiable in the parameters."""
        a1, a2 = self.constants()
        x2 = I2 - 3.0
        return a1 + self.r1(I1 - 3.0), a2 + self.r2(x2) - self.r3(x2)

    def reference(self) -> dict:
        """W1, W2, W11, W22 at I1 = I2 = 3 (floats, Pa)."""
        with torch.no_grad():
            a1, a2 = self.constants()
            z = torch.zeros((), dtype=torch.float64)
            return {"W1": float(a1), "W2": float(a2), "W11": float(self.r1.tangent(z)),
                    "W22": float(self.r2.tangent(z) - self.r3.tangent(z))}

    @property
    def shear_modulus(self) -> float:
        """Small-strain shear modulus G = 2(W1 + W2) at F = I (Pa)."""
        ref = self.reference()
        return 2.0 * (ref["W1"] + ref["W2"])

    @property
    def bulk_modulus(self) -> float:
        """Small-strain bulk modulus K (Pa): the K given, or bulk_ratio·G / from ν (default 50·G)."""
        spec, G = self._K_spec, self.shear_modulus
        if spec["K"] is not None:
            return bulk_from(G, float(spec["K"]), None, "NeuralHyperelastic")
        if spec["nu"] is not None:
            return bulk_from(G, None, float(spec["nu"]), "NeuralHyperelastic")
        return (DEFAULT_BULK_RATIO if spec["bulk_ratio"] is None else float(spec["bulk_ratio"])) * G

    @property
    def poisson_ratio(self) -> float:
        K, G = self.bulk_modulus, self.shear_modulus
        return (3 * K - 2 * G) / (2 * (3 * K + G))

    def _version(self) -> tuple:
        """Changes whenever a parameter is replaced or modified in place (optimiser steps, load_state_dict)."""
        return tuple((p.data_ptr(), p._version) for p in self.parameters())

    def volumetric(self) -> Volumetric:
        """V(J) for the current parameters: p₀ = 2W1 + 4W2 at F = I, κ from K (module docstring).
        Cached until a parameter changes (the solver calls stress once per step)."""
        key = (self._version(), tuple(sorted(self._K_spec.items())))
        cached = self.__dict__.get("_vol_cache")
        if cached is None or cached[0] != key:
            cached = (key, self._make_volumetric())
            self.__dict__["_vol_cache"] = cached
        return cached[1]

    def _make_volumetric(self) -> Volumetric:
        ref = self.reference()
        G = 2.0 * (ref["W1"] + ref["W2"])
        if not G > 0:
            raise LipmatError(f"NeuralHyperelastic: the small-strain shear modulus 2(W1 + W2) must be > 0, found {G:.6g} Pa")
        extra = 4 * ref["W2"] + 4 * ref["W11"] + 16 * ref["W22"]
        kappa = kappa_for(self.bulk_modulus, G, extra, "NeuralHyperelastic")
        return Volumetric(2 * ref["W1"] + 4 * ref["W2"], kappa)

    # -- InvariantLaw ----------------------------------------------------------------------------
    def energy_invariants(self, I1: torch.Tensor, I2: torch.Tensor, J: torch.Tensor) -> torch.Tensor:
        """ψ at invariants (...) -> (...) J/m³ (closed form; ψ(I) = 0)."""
        a1, a2 = self.constants()
        x1, x2 = I1 - 3.0, I2 - 3.0
        dev = a1 * x1 + self.r1.primitive(x1) + a2 * x2 + self.r2.primitive(x2) - self.r3.primitive(x2)
        return dev + self.volumetric().value(J)

    def derivatives(self, I1: torch.Tensor, I2: torch.Tensor, J: torch.Tensor) -> Derivatives:
        w1, w2 = self.w(I1, I2)
        x2 = I2 - 3.0
        vol = self.volumetric()
        return Derivatives(w1, w2, vol.d1(J), self.r1.tangent(I1 - 3.0),
                           self.r2.tangent(x2) - self.r3.tangent(x2), vol.d2(J), 0.0, 0.0, 0.0)

    @torch.no_grad()
    def derivative_bounds(self, I1: Interval, I2: Interval, J: Interval) -> Derivatives:
        """Enclosures over boxes (module docstring): the nine derivatives as Intervals / exact zeros."""
        a1, a2 = (float(v) for v in self.constants())
        x1, x2 = I1 - 3.0, I2 - 3.0
        w1 = value_interval(self.r1, x1) + a1
        w2 = value_interval(self.r2, x2) - value_interval(self.r3, x2) + a2
        w11 = slope_interval(self.r1, x1)
        w22 = slope_interval(self.r2, x2) - slope_interval(self.r3, x2)
        vol = self.volumetric()
        return Derivatives(w1, w2, vol.d1_bounds(J), w11, w22, vol.d2_bounds(J), 0.0, 0.0, 0.0)

    def first_derivatives(self, I1: torch.Tensor, I2: torch.Tensor, J: torch.Tensor):
        """(W1, W2, V'(J)) at invariants (...): what :meth:`InvariantLaw.stress` needs every step, without
        the second derivatives (those are for the tangent and the certificate)."""
        w1, w2 = self.w(I1, I2)
        return w1, w2, self.volumetric().d1(J)

    def forward(self, F: torch.Tensor) -> torch.Tensor:
        """P(F): (..., d, d) -> (..., d, d) Pa (same as :meth:`stress`, fem's
        :meth:`InvariantLaw.stress` with :meth:`first_derivatives`)."""
        return self.stress(F)

    def certificate(self, kinematics: str = "3d", rtol: float | None = None):
        """fem's certificate of sup λ_max(A) over ``domain``; recomputed when the parameters changed."""
        version = self._version()
        if self.__dict__.get("_cert_version") != version:
            self.clear_certificates()
            self.__dict__["_cert_version"] = version
        return InvariantLaw.certificate(self, kinematics, rtol)

    # -- files ---------------------------------------------------------------------------------
    def config(self) -> dict:
        d = self.domain
        return {"name": self.name, "scale": self.scale, "caps": list(self.caps), "spans": list(self.spans),
                "terms": list(self.terms), "K": self.bulk_modulus,
                "domain": None if d is None else [d.lam_lo, d.lam_hi, d.J_lo, d.J_hi]}

    @classmethod
    def from_config(cls, cfg: dict) -> "NeuralHyperelastic":
        dom = cfg.get("domain")
        law = cls(cfg["scale"], tuple(cfg["caps"]), tuple(cfg["spans"]), tuple(cfg["terms"]), K=cfg["K"],
                  domain=None if dom is None else StretchDomain(*dom))
        for p in law.parameters():          # a loaded law is a material, not a model in training
            p.requires_grad_(False)
        return law

    def with_options(self, *, K: float | None = None, bulk_ratio: float | None = None, nu: float | None = None,
                     domain: StretchDomain | None = None) -> "NeuralHyperelastic":
        """A copy with the same learned W1, W2 and another bulk modulus (one of K, bulk_ratio, nu) and/or
        certified domain; what is not given is kept. The copy's certificate is computed afresh."""
        cfg = self.config()
        law = type(self)(cfg["scale"], tuple(cfg["caps"]), tuple(cfg["spans"]), tuple(cfg["terms"]),
                         **({"K": K, "bulk_ratio": bulk_ratio, "nu": nu}
                            if (K, bulk_ratio, nu) != (None, None, None) else {"K": cfg["K"]}),
                         domain=self.domain if domain is None else domain)
        law.load_state_dict(self.state_dict())
        for p in law.parameters():
            p.requires_grad_(False)
        return law.train(self.training)

    def extra_repr(self) -> str:
        return f"scale={self.scale:.4g}, terms={self.terms}, domain=({self.domain})"
