"""Certified monotone 1D laws: 0 ≤ dσ/dε ≤ L on the whole real line, σ(0) = 0, by construction.

Two forms, both strain (..., 1) -> stress (..., 1) (engineering strain λ − 1, nominal stress in Pa — an
exact work pair for a bar in uniaxial stress):

- :class:`UniaxialTangent` (``"uniaxial"``, the default): the tangent itself is parametrised,
  ``σ'(ε) = L·s(ε)`` with ``0 < s < 1`` a softmax-weighted mixture of rising and falling sigmoids, and
  σ its closed-form integral (:class:`~lipmat.models.response.MonotoneResponse`). The certificate is
  the supremum of that tangent over ℝ by interval arithmetic, within ~1e-7 of the exact value; it
  bounds the autograd tangent of :meth:`UniaxialTangent.stress` (no quadrature between them). The
  energy is closed form too.
- :class:`UniaxialSN` (``"uniaxial_sn"``): ``σ(ε) = (L/2)·[ε + γ·ℓ·(g(ε/ℓ) − g(0))]`` with ``g`` a
  GroupSort network of spectrally normalised layers and ``γ = 1/max(1, Lip_cert(g))``, so
  ``σ' ∈ [0, L]``. Its certificate is the product of exact layer norms. Kept for comparison; on
  Treloar's curve it fits worse at a looser certificate (docs/notes/models-fit.md).
"""
from __future__ import annotations

import math

import torch
from torch import nn

from lipmat.errors import LipmatError
from lipmat.lipschitz import GroupSort, lipschitz_bound, refine_estimates, spectral_norm
from lipmat.models._common import StressAlias, check_strain
from lipmat.models.response import MonotoneResponse, SupBound


def _check_stiffness(value, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (math.isfinite(value) and value > 0):
        raise LipmatError(f"{where}: expected max_stiffness a finite number > 0 (Pa), received {value!r}")
    return float(value)


class UniaxialTangent(StressAlias, nn.Module):
    """Tangent-parametrised monotone 1D law; see the module docstring.

    Args:
        max_stiffness: L in Pa, the cap of dσ/dε (the certificate never exceeds it).
        n_rising, n_falling: sigmoid terms of the tangent that rise / fall with strain.
        strain_span: (lo, hi) strain range of the data, used to initialise the terms.
    """

    name = "uniaxial"
    kinematics = "uniaxial"
    has_potential = True

    def __init__(self, max_stiffness: float, n_rising: int = 8, n_falling: int = 4, *,
                 strain_span: tuple[float, float] = (0.0, 1.0)) -> None:
        super().__init__()
        L = _check_stiffness(max_stiffness, "UniaxialTangent")
        self.response = MonotoneResponse(L, n_rising, n_falling, span=strain_span)

    def forward(self, strain: torch.Tensor) -> torch.Tensor:
        """σ(ε): (..., 1) -> (..., 1) Pa."""
        check_strain(strain, 1, "UniaxialTangent.stress")
        return self.response(strain[..., 0]).unsqueeze(-1)

    def tangent(self, strain: torch.Tensor) -> torch.Tensor:
        """dσ/dε: (..., 1) -> (..., 1) Pa (closed form; equals autograd of :meth:`stress`)."""
        check_strain(strain, 1, "UniaxialTangent.tangent")
        return self.response.tangent(strain[..., 0]).unsqueeze(-1)

    def energy(self, strain: torch.Tensor) -> torch.Tensor:
        """ψ(ε) = ∫₀^ε σ: (..., 1) -> (...) J/m³ (closed form)."""
        check_strain(strain, 1, "UniaxialTangent.energy")
        return self.response.primitive(strain[..., 0])

    def certificate(self) -> SupBound:
        """Certified sup of dσ/dε over ℝ, the best point value found, and where (:class:`SupBound`)."""
        return self.response.sup_tangent()

    def stiffness_bound(self) -> float:
        """Certified L_c ≥ sup_ε dσ/dε (Pa), as a float (the fem protocol's scalar form)."""
        return self.certificate().value

    def lipschitz_bound(self) -> float:
        """Same as :meth:`stiffness_bound` (σ' ≥ 0, so sup |σ'| = sup σ')."""
        return self.stiffness_bound()

    @property
    def max_stiffness(self) -> float:
        return float(self.response.max_slope)

    def config(self) -> dict:
        """Plain-data constructor arguments (model files)."""
        r = self.response
        return {"name": self.name, "max_stiffness": self.max_stiffness, "n_rising": r.n_rising,
                "n_falling": r.n_falling, "strain_span": list(r.span)}

    @classmethod
    def from_config(cls, cfg: dict) -> "UniaxialTangent":
        return cls(cfg["max_stiffness"], cfg["n_rising"], cfg["n_falling"], strain_span=tuple(cfg["strain_span"]))


class UniaxialSN(StressAlias, nn.Module):
    """Monotone 1D law from a spectrally normalised GroupSort network; see the module docstring.

    Args:
        max_stiffness: L in Pa; dσ/dε ∈ [0, L] once :meth:`finalize` has run (the fit calls it).
        width, depth: hidden width (even) and number of linear layers (≥ 2) of g.
        strain_scale: ℓ, the input scale of g (the data's strain range).
    """

    name = "uniaxial_sn"
    kinematics = "uniaxial"
    has_potential = False       # σ is a potential's derivative in 1D, but no closed-form energy is offered

    def __init__(self, max_stiffness: float, width: int = 32, depth: int = 3, *, strain_scale: float = 1.0) -> None:
        super().__init__()
        L = _check_stiffness(max_stiffness, "UniaxialSN")
        if width < 2 or width % 2 or depth < 2:
            raise LipmatError(f"UniaxialSN: expected an even width >= 2 and depth >= 2, received {width}, {depth}")
        if not strain_scale > 0:
            raise LipmatError(f"UniaxialSN(strain_scale): expected > 0, received {strain_scale!r}")
        self.width, self.depth, self.strain_scale = int(width), int(depth), float(strain_scale)
        sizes = [1] + [width] * (depth - 1) + [1]
        layers: list[nn.Module] = []
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(spectral_norm(nn.Linear(n_in, n_out, dtype=torch.float64), 1.0))
            if i < depth - 1:
                layers.append(GroupSort(2))
        self.g = nn.Sequential(*layers)
        self.register_buffer("max_stiffness_", torch.tensor(L, dtype=torch.float64))
        self.register_buffer("gain", torch.tensor(1.0, dtype=torch.float64))

    @property
    def max_stiffness(self) -> float:
        return float(self.max_stiffness_)

    def forward(self, strain: torch.Tensor) -> torch.Tensor:
        """σ(ε): (..., 1) -> (..., 1) Pa."""
        check_strain(strain, 1, "UniaxialSN.stress")
        ell = self.strain_scale
        g = self.g(strain / ell) - self.g(strain.new_zeros((1, 1)))
        return 0.5 * self.max_stiffness_ * (strain + self.gain * ell * g)

    @torch.no_grad()
    def finalize(self) -> "UniaxialSN":
        """Converge the power iterations and set γ = 1/max(1, Lip_cert(g)): then 0 ≤ σ' ≤ L exactly."""
        refine_estimates(self.g)
        was = self.g.training
        self.g.eval()
        self.gain.fill_(1.0 / max(1.0, lipschitz_bound(self.g)))
        self.g.train(was)
        return self

    def stiffness_bound(self) -> float:
        """Certified (L/2)·(1 + γ·Π‖W_k‖₂) ≥ sup dσ/dε (Pa) of the eval-mode function."""
        return 0.5 * self.max_stiffness * (1.0 + float(self.gain) * lipschitz_bound(self.g))

    def lipschitz_bound(self) -> float:
        return self.stiffness_bound()

    def config(self) -> dict:
        return {"name": self.name, "max_stiffness": self.max_stiffness, "width": self.width,
                "depth": self.depth, "strain_scale": self.strain_scale}

    @classmethod
    def from_config(cls, cfg: dict) -> "UniaxialSN":
        return cls(cfg["max_stiffness"], cfg["width"], cfg["depth"], strain_scale=cfg["strain_scale"])
