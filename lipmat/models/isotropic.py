"""Isotropic small-strain potential ψ(ε) = ψ_vol(tr ε) + ψ_dev(‖dev ε‖) with a matrix certificate.

Notation (Mandel vectors, :mod:`fem.core.mandel`): ``i`` the identity's components, ``θ = iᵀe = tr ε``,
``P = P_dev``, ``r = √(eᵀPe) = ‖dev ε‖_F`` (the 3D deviator; in plane strain ε33 = 0 enters it). Two
scalar monotone responses (:class:`~lipmat.models.response.MonotoneResponse`) give

    ψ_vol' = p(θ),  0 ≤ p' ≤ K_cap;        ψ_dev' = q(r),  0 ≤ q' ≤ 2G_cap,  p(0) = q(0) = 0,
    σ = ∂ψ/∂e = p(θ)·i + h(r)·Pe,          h(r) = q(r)/r  (h(0) = q'(0), computed without 0/0).

For ``p = Kθ``, ``q = 2Gr``: σ = Kθ i + 2G Pe, i.e. exactly linear elasticity ``C = 3K P_vol + 2G P_dev``
(:meth:`IsotropicPotential.linear`).

Tangent and certificate. With ``m = Pe/r`` (r > 0),

    C(e) = p'(θ)·i iᵀ + q'(r)·m mᵀ + h(r)·(P − m mᵀ),

symmetric (it is a Hessian). For any v, Cauchy–Schwarz in the inner product of the PSD matrix P gives
``(vᵀPe)² ≤ (vᵀPv)(eᵀPe)``, i.e. ``0 ⪯ m mᵀ ⪯ P``; hence ``P − m mᵀ ⪰ 0`` and

    C(e) ⪯ p'(θ)·i iᵀ + max(q'(r), h(r))·P.

The radial part is bounded by ``q' ≤ sup q'``. The tangential part needs the *secant* bound:
``h(r) = q(r)/r = (1/r)∫₀ʳ q'(t) dt ≤ sup_{t≥0} q'(t)`` — this uses q(0) = 0 (true by construction);
a bound on q' at the current r alone would not give it. With ``i iᵀ = 3P_vol``:

    C(e) ⪯ C_b = 3K_c·P_vol + 2G_c·P_dev,    K_c ≥ sup_θ p'(θ),   2G_c ≥ sup_{r≥0} q'(r),

with K_c, G_c the certified suprema of the responses (interval arithmetic, ≤ the caps). At r = 0 the
tangent is p' i iᵀ + q'(0) P (the limit of the formula above), also ⪯ C_b. Since p', q', h ≥ 0 the
tangent is also ⪰ 0 (ψ convex).
"""
from __future__ import annotations

import math

import torch
from torch import nn

from fem.core import mandel
from lipmat.errors import LipmatError
from lipmat.models._common import StressAlias, check_strain
from lipmat.models.response import MonotoneResponse, SupBound


class IsotropicPotential(StressAlias, nn.Module):
    """Isotropic potential law for ``"plane_strain"`` (n = 3) or ``"3d"`` (n = 6); see the module docstring.

    Args:
        kinematics: "plane_strain" or "3d".
        bulk_cap: K_cap in Pa, the cap of p' (so 3K_c ≤ 3·bulk_cap).
        shear_cap: G_cap in Pa, the cap of q'/2.
        n_rising, n_falling: sigmoid terms per response.
        strain_span: typical strain magnitude s > 0; p is initialised over [−s, s], q over [0, s].
    """

    name = "isotropic"
    has_potential = True

    def __init__(self, kinematics: str, bulk_cap: float, shear_cap: float, n_rising: int = 4,
                 n_falling: int = 2, *, strain_span: float = 0.01) -> None:
        super().__init__()
        if kinematics not in ("plane_strain", "3d"):
            raise LipmatError(f"IsotropicPotential(kinematics): expected 'plane_strain' or '3d', received {kinematics!r}")
        for label, v in (("bulk_cap", bulk_cap), ("shear_cap", shear_cap), ("strain_span", strain_span)):
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not (math.isfinite(v) and v > 0):
                raise LipmatError(f"IsotropicPotential({label}): expected a finite number > 0, received {v!r}")
        self.kinematics = kinematics
        self.n = mandel.size(kinematics)
        self.vol = MonotoneResponse(float(bulk_cap), n_rising, n_falling, span=(-strain_span, strain_span))
        self.dev = MonotoneResponse(2.0 * float(shear_cap), n_rising, n_falling, span=(0.0, strain_span))
        p_vol, p_dev = mandel.projectors(kinematics, dtype=torch.float64)
        self.register_buffer("eye", mandel.identity(kinematics, dtype=torch.float64))
        self.register_buffer("p_vol", p_vol)
        self.register_buffer("p_dev", p_dev)

    @classmethod
    def linear(cls, kinematics: str, bulk: float, shear: float) -> "IsotropicPotential":
        """Linear elasticity with bulk modulus K and shear modulus G (Pa), exactly: C = 3K P_vol + 2G P_dev."""
        model = cls(kinematics, bulk, shear, 0, 0)
        model.vol = MonotoneResponse.linear(float(bulk))
        model.dev = MonotoneResponse.linear(2.0 * float(shear))
        return model

    def _invariants(self, strain: torch.Tensor):
        theta = strain @ self.eye.to(strain)
        pe = strain @ self.p_dev.to(strain)
        r2 = (strain * pe).sum(-1).clamp_min(0.0)
        pos = r2 > 0
        # sqrt has an infinite derivative at 0: take it of 1 there and mask, so gradients stay finite.
        r = torch.where(pos, torch.sqrt(torch.where(pos, r2, torch.ones_like(r2))), torch.zeros_like(r2))
        return theta, pe, r

    def forward(self, strain: torch.Tensor) -> torch.Tensor:
        """σ(e): (..., n) -> (..., n) Pa, Mandel."""
        check_strain(strain, self.n, f"IsotropicPotential[{self.kinematics}].stress")
        theta, pe, r = self._invariants(strain)
        return self.vol(theta).unsqueeze(-1) * self.eye.to(strain) + self.dev.secant(r).unsqueeze(-1) * pe

    def energy(self, strain: torch.Tensor) -> torch.Tensor:
        """ψ(e): (..., n) -> (...) J/m³ (closed form)."""
        check_strain(strain, self.n, f"IsotropicPotential[{self.kinematics}].energy")
        theta, _, r = self._invariants(strain)
        return self.vol.primitive(theta) + self.dev.primitive(r)

    def moduli_bounds(self) -> tuple[SupBound, SupBound]:
        """Certified sup p' over ℝ (K_c) and sup q' over r ≥ 0 (2G_c), each a :class:`SupBound`."""
        return self.vol.sup_tangent(), self.dev.sup_tangent((0.0, math.inf))

    def stiffness_bound(self) -> torch.Tensor:
        """(n, n) C_b = 3K_c P_vol + 2G_c P_dev with C(e) ⪯ C_b for every strain e (certified)."""
        k, g2 = self.moduli_bounds()
        return 3.0 * k.value * self.p_vol + g2.value * self.p_dev

    def lipschitz_bound(self) -> float:
        """λ_max(C_b) (rounded up): a scalar bound of ‖C(e)‖₂, as C(e) is symmetric and 0 ⪯ C ⪯ C_b."""
        return float(torch.linalg.eigvalsh(self.stiffness_bound()).max()) * (1 + 1e-12)

    def config(self) -> dict:
        return {"name": self.name, "kinematics": self.kinematics, "vol": self.vol.config(), "dev": self.dev.config()}

    @classmethod
    def from_config(cls, cfg: dict) -> "IsotropicPotential":
        model = cls(cfg["kinematics"], 1.0, 1.0, 0, 0)
        model.vol = MonotoneResponse.from_config(cfg["vol"])
        model.dev = MonotoneResponse.from_config(cfg["dev"])
        return model
