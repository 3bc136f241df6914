"""Classical small-strain materials of the :mod:`fem.materials.protocol`: isotropic linear elasticity
(3D, plane strain, a bar) and an analytic 1D law whose tangent moves from E1 to E2.

Both give an exact stiffness bound, so the solver's certified step is tight for them; fem's own tests
use them as the analytic oracle.
"""
from __future__ import annotations

import math

import torch

from fem.core import mandel
from fem.core.errors import FemError


def _to(c: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    return c.to(dtype=like.dtype, device=like.device)


class LinearElastic:
    """Isotropic linear elasticity ``σ = C ε`` in Mandel form.

    ``"3d"`` and ``"plane_strain"``: ``C = 3K P_vol + 2G P_dev = λ 1⊗1 + 2μ I`` (Lamé); plane strain
    keeps ε33 = 0. ``"uniaxial"``: ``σ = E ε`` (a bar in uniaxial stress, not uniaxial strain).

    Parameters: E > 0 (Pa), −1 < nu < 0.5, kinematics. ``stiffness_bound()`` returns the exact
    tangent C (n, n), which is also ``linear_stiffness()``.
    """

    def __init__(self, E: float, nu: float = 0.0, kinematics: str = "3d"):
        mandel.check_kinematics(kinematics)
        if not E > 0:
            raise FemError(f"Young's modulus E must be > 0, got {E}")
        if not -1.0 < nu < 0.5:
            raise FemError(f"Poisson's ratio nu must lie in (-1, 0.5), got {nu}")
        self.E, self.nu, self.kinematics = float(E), float(nu), kinematics
        self.lam = E * nu / ((1 + nu) * (1 - 2 * nu))
        self.mu = E / (2 * (1 + nu))
        n = mandel.size(kinematics)
        if kinematics == "uniaxial":
            self._C = torch.full((1, 1), self.E, dtype=torch.float64)
        else:
            i = mandel.identity(kinematics, dtype=torch.float64)
            self._C = self.lam * torch.outer(i, i) + 2 * self.mu * torch.eye(n, dtype=torch.float64)

    def stress(self, strain: torch.Tensor) -> torch.Tensor:
        """(..., n) -> (..., n)."""
        return strain @ _to(self._C, strain)

    def energy(self, strain: torch.Tensor) -> torch.Tensor:
        """(..., n) -> (...): ``½ ε·Cε``."""
        return 0.5 * (strain * self.stress(strain)).sum(-1)

    def stiffness_bound(self) -> torch.Tensor:
        """(n, n) the exact (constant) tangent: a tight Loewner bound."""
        return self._C.clone()

    def linear_stiffness(self) -> torch.Tensor:
        """(n, n) the constant tangent C."""
        return self._C.clone()

    def __repr__(self) -> str:
        return f"LinearElastic(E={self.E:g}, nu={self.nu:g}, kinematics={self.kinematics!r})"


def _logcosh(x: torch.Tensor) -> torch.Tensor:
    a = x.abs()
    return a + torch.log1p(torch.exp(-2.0 * a)) - math.log(2.0)


class NonlinearBar:
    """An analytic 1D law with a bounded tangent that moves smoothly from E1 (small strain) to E2.

    ``dσ/dε = E1 + (E2 − E1) tanh²(ε/ε0)``, so
    ``σ = E1 ε + (E2 − E1)(ε − ε0 tanh(ε/ε0))`` and
    ``ψ = E1 ε²/2 + (E2 − E1)(ε²/2 − ε0² log cosh(ε/ε0))``.
    E2 > E1 stiffens, E2 < E1 softens; both > 0 keep it monotone. The global tangent bound is
    ``max(E1, E2)`` (exact supremum). Kinematics ``"uniaxial"``.
    """

    kinematics = "uniaxial"

    def __init__(self, E1: float = 1.0, E2: float = 3.0, eps0: float = 0.1):
        if not (E1 > 0 and E2 > 0 and eps0 > 0):
            raise FemError(f"NonlinearBar needs E1, E2, eps0 > 0, got {E1}, {E2}, {eps0}")
        self.E1, self.E2, self.eps0 = float(E1), float(E2), float(eps0)

    def stress(self, strain: torch.Tensor) -> torch.Tensor:
        """(..., 1) -> (..., 1)."""
        e, e0 = strain, self.eps0
        return self.E1 * e + (self.E2 - self.E1) * (e - e0 * torch.tanh(e / e0))

    def tangent(self, strain: torch.Tensor) -> torch.Tensor:
        """(..., 1) -> (..., 1): dσ/dε."""
        return self.E1 + (self.E2 - self.E1) * torch.tanh(strain / self.eps0) ** 2

    def energy(self, strain: torch.Tensor) -> torch.Tensor:
        """(..., 1) -> (...)."""
        e, e0 = strain[..., 0], self.eps0
        return 0.5 * self.E1 * e**2 + (self.E2 - self.E1) * (0.5 * e**2 - e0**2 * _logcosh(e / e0))

    def stiffness_bound(self) -> torch.Tensor:
        """(1, 1) ``[[max(E1, E2)]]`` ≥ dσ/dε for every strain."""
        return torch.tensor([[max(self.E1, self.E2)]], dtype=torch.float64)

    def __repr__(self) -> str:
        return f"NonlinearBar(E1={self.E1:g}, E2={self.E2:g}, eps0={self.eps0:g})"
