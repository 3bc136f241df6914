"""The plain Lipschitz MLP of the literature: strain -> stress through spectrally normalised layers.

    σ(e) = f(e) − f(0),    f = Scale(L·ℓ) ∘ W_K ∘ GroupSort ∘ … ∘ GroupSort ∘ W_1 ∘ Scale(1/ℓ)

with every ``W_k`` spectrally normalised to 1 (:func:`lipmat.lipschitz.spectral_norm`) and ℓ the
data's strain scale, so ``Lip(σ) ≤ L·Π‖W_k‖₂`` — the scalar certificate
(:func:`lipmat.lipschitz.lipschitz_bound`, exact SVD norms of the eval-mode weights).

**Its tangent is not symmetric.** ``C(e) = ∂σ/∂e`` of a generic network is not a Hessian: there is no
strain energy, and the work ``∮ σ·de`` around a closed strain cycle is not zero. In explicit dynamics
that means the discrete system is not conservative: the internal forces can feed energy into the
motion (flutter-like growth) at *any* time step, and an energy balance cannot be checked (``energy`` is
not defined). The scalar certificate still bounds ‖C(e)‖₂ ≤ L, hence the spectral radius of M⁻¹K
through ``C_b = L·I`` — but for a non-symmetric C that bounds the frequencies, not the energy growth.
Use it for comparison; the potential models (:mod:`~lipmat.models.uniaxial`,
:mod:`~lipmat.models.isotropic`) are the defaults.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from fem.core import mandel
from lipmat.errors import LipmatError
from lipmat.lipschitz import GroupSort, Scale, lipschitz_bound, refine_estimates, spectral_norm
from lipmat.models._common import StressAlias, check_strain


class LipschitzMLP(StressAlias, nn.Module):
    """Spectrally normalised GroupSort MLP strain (..., n) -> stress (..., n); see the module docstring.

    Args:
        kinematics: "uniaxial", "plane_strain" or "3d".
        max_stiffness: L in Pa (the certificate is L·Π‖W_k‖₂ ≈ L after :meth:`finalize`).
        width: hidden width (even); depth: number of linear layers (≥ 2).
        strain_scale: ℓ > 0, the typical strain magnitude of the data.
    """

    name = "mlp"
    has_potential = False

    def __init__(self, kinematics: str, max_stiffness: float, width: int = 64, depth: int = 3, *,
                 strain_scale: float = 1.0) -> None:
        super().__init__()
        n = mandel.size(kinematics)
        for label, v in (("max_stiffness", max_stiffness), ("strain_scale", strain_scale)):
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not (math.isfinite(v) and v > 0):
                raise LipmatError(f"LipschitzMLP({label}): expected a finite number > 0, received {v!r}")
        if width < 2 or width % 2 or depth < 2:
            raise LipmatError(f"LipschitzMLP: expected an even width >= 2 and depth >= 2, received {width}, {depth}")
        self.kinematics, self.n = kinematics, n
        self.max_stiffness, self.width, self.depth = float(max_stiffness), int(width), int(depth)
        self.strain_scale = float(strain_scale)
        sizes = [n] + [width] * (depth - 1) + [n]
        layers: list[nn.Module] = [Scale(1.0 / self.strain_scale)]
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(spectral_norm(nn.Linear(n_in, n_out, dtype=torch.float64), 1.0))
            if i < depth - 1:
                layers.append(GroupSort(2))
        layers.append(Scale(self.max_stiffness * self.strain_scale))
        self.net = nn.Sequential(*layers)

    def forward(self, strain: torch.Tensor) -> torch.Tensor:
        """σ(e) = f(e) − f(0): (..., n) -> (..., n) Pa, Mandel."""
        check_strain(strain, self.n, f"LipschitzMLP[{self.kinematics}].stress")
        return self.net(strain) - self.net(strain.new_zeros((1, self.n)))

    @torch.no_grad()
    def finalize(self) -> "LipschitzMLP":
        """Converge the power iterations (‖W_k‖₂ → 1) so the certificate is close to L."""
        refine_estimates(self.net)
        return self

    def stiffness_bound(self) -> float:
        """Certified scalar L_c ≥ sup_e ‖∂σ/∂e‖₂ (Pa) of the eval-mode network."""
        return lipschitz_bound(self.net)

    def lipschitz_bound(self) -> float:
        return self.stiffness_bound()

    def config(self) -> dict:
        return {"name": self.name, "kinematics": self.kinematics, "max_stiffness": self.max_stiffness,
                "width": self.width, "depth": self.depth, "strain_scale": self.strain_scale}

    @classmethod
    def from_config(cls, cfg: dict) -> "LipschitzMLP":
        return cls(cfg["kinematics"], cfg["max_stiffness"], cfg["width"], cfg["depth"],
                   strain_scale=cfg["strain_scale"])
