"""An analytic isotropic small-strain law that stiffens in volume and in shear, with a proven bound.

With the Mandel identity ``i`` (``i·ε = tr ε``), ``d = i·i`` (2 in plane strain, 3 in 3D, 1 uniaxial),
``θ = i·ε``, ``e = ε − (θ/d) i`` and ``r = |e|`` ::

    ψ(ε) = K Φ_v(θ) + G Φ_d(r),   Φ(x) = x²/2 + (k − 1)(x²/2 − x0² log cosh(x/x0))

(``Φ`` is the energy of :class:`fem.NonlinearBar` with E1 = 1, E2 = k: ``Φ'' = 1 + (k−1) tanh²(x/x0)``
rises from 1 to k, in tension and compression alike). Stress ``σ = K Φ_v'(θ) i + G (Φ_d'(r)/r) e``.

Bound: the tangent is ``K Φ_v''(θ) i⊗i + G [Φ_d''(r) n⊗n + (Φ_d'(r)/r)(P_d − n⊗n)]`` with ``n = e/r``
and ``P_d = I − i⊗i/d``. Since ``Φ'' ∈ [1, k]`` and ``Φ'(r)/r`` is the mean of ``Φ''`` over [0, r],
also in [1, k], it is ⪯ ``C_b = K k_v i⊗i + G k_d P_d`` (Loewner; the two parts act on orthogonal
subspaces), which :meth:`StiffeningElastic.stiffness_bound` returns. The bound is attained at large
strain, so the certified step is as tight as for a linear law.

At small strain the law is linear with bulk term ``K i⊗i`` and shear term ``G P_d``: in 3D ``K = κ``
(bulk modulus) and ``G = 2μ``; :meth:`from_young` builds it from E, ν.
"""
from __future__ import annotations

import math

import torch

from fem.core import mandel
from fem.core.errors import FemError

__all__ = ["StiffeningElastic"]


def _phi(x, k, x0):
    a = (x / x0).abs()
    logcosh = a + torch.log1p(torch.exp(-2.0 * a)) - math.log(2.0)
    return 0.5 * x * x + (k - 1.0) * (0.5 * x * x - x0 * x0 * logcosh)


def _dphi(x, k, x0):
    return x + (k - 1.0) * (x - x0 * torch.tanh(x / x0))


def _dphi_over_x(r, k, x0):
    """Φ'(r)/r for r ≥ 0, = 1 + (k−1)(1 − tanh(r/x0)/(r/x0)); series below r/x0 = 1e-4."""
    z = r / x0
    small = z < 1e-4
    zs = torch.where(small, torch.ones_like(z), z)
    ratio = torch.where(small, 1.0 - z * z / 3.0, torch.tanh(zs) / zs)
    return 1.0 + (k - 1.0) * (1.0 - ratio)


class StiffeningElastic:
    """Stiffening isotropic potential law (module docstring); a :class:`fem.Material`.

    K, G > 0 (Pa): small-strain bulk and shear coefficients; k_vol, k_dev ≥ 1: how many times stiffer
    the volumetric and deviatoric tangents become; x0_vol, x0_dev > 0: the strains over which they do.
    kinematics: ``"plane_strain" | "3d" | "uniaxial"``.
    """

    def __init__(self, K: float, G: float, k_vol: float = 5.0, k_dev: float = 5.0, x0_vol: float = 0.02,
                 x0_dev: float = 0.02, kinematics: str = "plane_strain"):
        mandel.check_kinematics(kinematics)
        if not (K > 0 and G > 0 and k_vol >= 1 and k_dev >= 1 and x0_vol > 0 and x0_dev > 0):
            raise FemError("StiffeningElastic needs K, G > 0, k_vol, k_dev >= 1, x0_vol, x0_dev > 0; got "
                           f"{K}, {G}, {k_vol}, {k_dev}, {x0_vol}, {x0_dev}")
        self.K, self.G, self.k_vol, self.k_dev = float(K), float(G), float(k_vol), float(k_dev)
        self.x0_vol, self.x0_dev, self.kinematics = float(x0_vol), float(x0_dev), kinematics
        self._i = mandel.identity(kinematics, dtype=torch.float64)
        self._d = float(self._i @ self._i)

    @classmethod
    def from_young(cls, E: float, nu: float, **kw) -> "StiffeningElastic":
        """Small-strain behaviour of isotropic linear elasticity (E, ν): K = E/(3(1−2ν)), G = 2μ (3D)."""
        mu = E / (2 * (1 + nu))
        return cls(E / (3 * (1 - 2 * nu)), 2 * mu, **kw)

    def _split(self, strain):
        i = self._i.to(dtype=strain.dtype, device=strain.device)
        theta = strain @ i
        e = strain - (theta / self._d).unsqueeze(-1) * i
        return i, theta, e

    def stress(self, strain: torch.Tensor) -> torch.Tensor:
        """(..., n) -> (..., n)."""
        i, theta, e = self._split(strain)
        r = e.norm(dim=-1)
        s = self.K * _dphi(theta, self.k_vol, self.x0_vol).unsqueeze(-1) * i
        return s + (self.G * _dphi_over_x(r, self.k_dev, self.x0_dev)).unsqueeze(-1) * e

    def energy(self, strain: torch.Tensor) -> torch.Tensor:
        """(..., n) -> (...)."""
        _, theta, e = self._split(strain)
        return (self.K * _phi(theta, self.k_vol, self.x0_vol)
                + self.G * _phi(e.norm(dim=-1), self.k_dev, self.x0_dev))

    def stiffness_bound(self) -> torch.Tensor:
        """(n, n) ``K k_vol i⊗i + G k_dev (I − i⊗i/d)`` ⪰ the tangent at every strain."""
        i = self._i
        n = len(i)
        pv = torch.outer(i, i)
        return self.K * self.k_vol * pv + self.G * self.k_dev * (torch.eye(n, dtype=torch.float64) - pv / self._d)

    def __repr__(self) -> str:
        return (f"StiffeningElastic(K={self.K:g}, G={self.G:g}, k_vol={self.k_vol:g}, k_dev={self.k_dev:g}, "
                f"x0_vol={self.x0_vol:g}, x0_dev={self.x0_dev:g}, kinematics={self.kinematics!r})")
