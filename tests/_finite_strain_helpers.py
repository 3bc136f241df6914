"""An analytic compressible Neo-Hookean law of the finite-strain protocol, the oracle of the finite-strain tests.

    ψ(F) = μ/2 (I1 − 3) − μ ln J + λ/2 (ln J)²,      P = μ (F − F⁻ᵀ) + λ ln J F⁻ᵀ,

I1 = tr(FᵀF) (+1 in plane strain, F33 = 1), J = det F. At F = I its tangent is the linear-elastic one
with Lamé constants (λ, μ), so K = λ + 2μ/3 and G = μ.

The stiffness bound on a stretch box (principal stretches in [lo, hi], J in [J_lo, J_hi]) is derived
from the closed-form eigenvalues of A = ∂²ψ/∂F² (Smith, de Goes & Kim 2019). With ψᵢ = ∂ψ/∂λᵢ
= μλᵢ − c/λᵢ, c = μ − λ ln J, the eigenvalues are

- those of the 3×3 Hessian ``diag(μ + c/λᵢ²) + λ v vᵀ``, v = (1/λᵢ): at most
  ``max_i(μ + c/λᵢ²) + λ Σ 1/λᵢ²`` (Weyl);
- per pair, ``(ψᵢ − ψⱼ)/(λᵢ − λⱼ) = μ + c/(λᵢλⱼ)`` and ``(ψᵢ + ψⱼ)/(λᵢ + λⱼ) = μ − c/(λᵢλⱼ)``.

Over the box, c ∈ [μ − λ ln J_hi, μ − λ ln J_lo], 1/λᵢ² ≤ 1/lo², so every eigenvalue is at most
``μ + max(c_max⁺/lo², c_max/hi²) + 3λ/lo²`` or ``μ + max|c|/lo²``: the bound returned (proven, loose
by the Weyl step; tests compare it with eigenvalues at sampled points).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch


@dataclass(frozen=True)
class Box:
    """Principal stretches in [lam_lo, lam_hi], J in [J_lo, J_hi]."""

    lam_lo: float
    lam_hi: float
    J_lo: float
    J_hi: float


class NeoHookean:
    """Compressible Neo-Hookean, finite-strain protocol (see the module docstring). mu, lam in Pa."""

    finite_strain = True
    kinematics = ("plane_strain", "3d")

    def __init__(self, mu: float = 1.0, lam: float = 2.0, domain: Box | None = Box(0.7, 1.5, 0.6, 1.6)):
        self.mu, self.lam, self.domain = float(mu), float(lam), domain

    @property
    def bulk(self) -> float:
        return self.lam + 2.0 * self.mu / 3.0

    def stress(self, f: torch.Tensor) -> torch.Tensor:
        """(..., d, d) -> (..., d, d) first Piola–Kirchhoff P."""
        finv_t = torch.linalg.inv(f).transpose(-1, -2)
        lnj = torch.log(torch.linalg.det(f))
        return self.mu * (f - finv_t) + self.lam * lnj[..., None, None] * finv_t

    def energy(self, f: torch.Tensor) -> torch.Tensor:
        """(..., d, d) -> (...) ψ per reference volume."""
        d = f.shape[-1]
        i1 = (f * f).sum(dim=(-1, -2)) + (3 - d)
        lnj = torch.log(torch.linalg.det(f))
        return 0.5 * self.mu * (i1 - 3.0) - self.mu * lnj + 0.5 * self.lam * lnj**2

    def tangent(self, f: torch.Tensor) -> torch.Tensor:
        """(..., d, d) -> (..., d, d, d, d) ``A_iJkL = ∂P_iJ/∂F_kL`` in closed form:
        ``μ δ_ik δ_JL + λ F⁻¹_Ji F⁻¹_Lk − (λ ln J − μ) F⁻¹_Jk F⁻¹_Li``."""
        d = f.shape[-1]
        fi = torch.linalg.inv(f)
        lnj = torch.log(torch.linalg.det(f))[..., None, None, None, None]
        eye = torch.eye(d, dtype=f.dtype, device=f.device)
        return (self.mu * torch.einsum("ik,JL->iJkL", eye, eye) + self.lam * torch.einsum("...Ji,...Lk->...iJkL", fi, fi)
                - (self.lam * lnj - self.mu) * torch.einsum("...Jk,...Li->...iJkL", fi, fi))

    def in_domain(self, f: torch.Tensor) -> torch.Tensor:
        """(..., d, d) -> (...) bool: stretches (with 1 out of plane in 2D) and J inside the box (all
        True without a domain)."""
        b = self.domain
        if b is None:
            return torch.ones(f.shape[:-2], dtype=torch.bool, device=f.device)
        lam = torch.linalg.eigvalsh(f.transpose(-1, -2) @ f).clamp_min(0).sqrt()
        j = torch.linalg.det(f)
        ok = (lam >= b.lam_lo).all(-1) & (lam <= b.lam_hi).all(-1) & (j >= b.J_lo) & (j <= b.J_hi)
        if f.shape[-1] == 2:
            ok = ok & (b.lam_lo <= 1.0 <= b.lam_hi)
        return ok

    def stiffness_bound(self, kinematics=None) -> float:
        """Proven a_b ≥ λ_max(∂P/∂F) on the box (module docstring); NoStiffnessBound without a domain."""
        from fem.core.errors import NoStiffnessBound

        b = self.domain
        if b is None:
            raise NoStiffnessBound("NeoHookean without a domain has no stiffness bound (its tangent grows as J -> 0)")
        mu, lam = self.mu, self.lam
        j_lo, j_hi = max(b.J_lo, b.lam_lo**3), min(b.J_hi, b.lam_hi**3)
        c_min, c_max = mu - lam * math.log(j_hi), mu - lam * math.log(j_lo)
        hess = mu + (c_max / b.lam_lo**2 if c_max >= 0 else c_max / b.lam_hi**2) + 3 * lam / b.lam_lo**2
        pair = mu + max(abs(c_min), abs(c_max)) / b.lam_lo**2
        return float(max(hess, pair))

    def small_strain_twin(self, kinematics: str):
        """fem.LinearElastic with the same K and G (E = 9KG/(3K+G), ν = (3K−2G)/(2(3K+G)))."""
        import fem

        k, g = self.bulk, self.mu
        return fem.LinearElastic(9 * k * g / (3 * k + g), (3 * k - 2 * g) / (2 * (3 * k + g)), kinematics)


def tangent_at(material, f: torch.Tensor) -> torch.Tensor:
    """(d², d²) A = ∂P/∂F at one F (d, d) by autograd, row-major pairs."""
    d = f.shape[-1]
    jac = torch.autograd.functional.jacobian(lambda x: material.stress(x.reshape(d, d)).reshape(-1), f.reshape(-1))
    return jac


def random_rotation(d: int, rng: np.random.Generator) -> np.ndarray:
    """(d, d) a random proper rotation (QR of a Gaussian matrix, det +1)."""
    q, r = np.linalg.qr(rng.normal(size=(d, d)))
    q = q * np.sign(np.diag(r))
    if np.linalg.det(q) < 0:
        q[:, 0] = -q[:, 0]
    return q


def random_stretch_state(d: int, rng: np.random.Generator, lo: float = 0.8, hi: float = 1.3) -> np.ndarray:
    """(d, d) F = R diag(λ) Qᵀ with λ uniform in [lo, hi] and random rotations R, Q."""
    return random_rotation(d, rng) @ np.diag(rng.uniform(lo, hi, size=d)) @ random_rotation(d, rng).T
