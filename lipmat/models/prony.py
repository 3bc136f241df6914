"""The classical baseline for rate-dependent rubber: Prony relaxation of an instantaneous Ogden response.

This is the form of Abaqus' ``*HYPERELASTIC, OGDEN`` with ``*VISCOELASTIC, TIME=PRONY`` (quasi-linear
viscoelasticity), written for uniaxial tension of an incompressible solid. The instantaneous Cauchy
stress difference is Ogden's

    σ₀(λ) = σ₁ − σ₃ = Σₚ μₚ (λ^αₚ − λ^(−αₚ/2))

and the stress at time t is its hereditary integral with the normalised relaxation function
g(t) = g_∞ + Σᵢ gᵢ e^(−t/τᵢ) (g_∞ + Σ gᵢ = 1, all ≥ 0; parameterised by a softmax):

    σ(t) = g_∞ σ₀(t) + Σᵢ gᵢ qᵢ(t),     qᵢ(t) = ∫₀ᵗ e^(−(t−s)/τᵢ) σ̇₀(s) ds

Each qᵢ is integrated exactly for σ₀ linear in time over a step (the standard recursive update),
qᵢ ← e^(−x) qᵢ + (1 − e^(−x))/x · Δσ₀ with x = Δt/τᵢ. The nominal stress is P = σ/λ.

A one-dimensional baseline: it has no finite-strain certificate (``stiffness_bound`` raises
CertificateError, so a model file records "none").
"""
from __future__ import annotations

import math

import torch
from torch import nn

from lipmat.errors import CertificateError, LipmatError
from lipmat.models._scan import LinearScan

__all__ = ["PronyOgden"]

#: Bound of the Ogden exponents' magnitude.
ALPHA_MAX = 12.0


class PronyOgden(nn.Module):
    """Ogden-``ogden_terms`` instantaneous law relaxed by ``terms`` Prony terms (module docstring).

    Args: mu (Pa) and alpha: initial Ogden constants (sequences of the same length); tau: initial
    relaxation times (s), one per Prony term.
    """

    name = "prony_ogden"
    kinematics = "uniaxial"

    def __init__(self, mu, alpha, tau) -> None:
        super().__init__()
        mu, alpha = torch.as_tensor(mu, dtype=torch.float64), torch.as_tensor(alpha, dtype=torch.float64)
        tau = torch.as_tensor(tau, dtype=torch.float64)
        if mu.shape != alpha.shape or mu.ndim != 1 or tau.ndim != 1 or not bool((tau > 0).all()):
            raise LipmatError(f"PronyOgden: expected mu, alpha of one length and tau > 0, received mu={mu.tolist()}, "
                              f"alpha={alpha.tolist()}, tau={tau.tolist()}")
        self.mu = nn.Parameter(mu.clone())
        if not bool((alpha.abs() < ALPHA_MAX).all()):
            raise LipmatError(f"PronyOgden: expected |alpha| < {ALPHA_MAX}, received {alpha.tolist()}")
        self.raw_alpha = nn.Parameter(ALPHA_MAX * torch.atanh(alpha / ALPHA_MAX))
        self.log_tau = nn.Parameter(tau.log())
        self.logits = nn.Parameter(torch.zeros(len(tau) + 1, dtype=torch.float64))

    @property
    def alpha(self) -> torch.Tensor:
        """(ogden_terms,) exponents αₚ = A·tanh(raw/A), |αₚ| < A = ALPHA_MAX (keeps λ^α finite in training)."""
        return ALPHA_MAX * torch.tanh(self.raw_alpha / ALPHA_MAX)

    @property
    def terms(self) -> int:
        return int(self.log_tau.numel())

    def weights(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(gᵢ (terms,), g_∞ ()) — non-negative, summing to 1."""
        s = torch.softmax(self.logits, 0)
        return s[:-1], s[-1]

    def instantaneous(self, lam: torch.Tensor) -> torch.Tensor:
        """σ₀(λ) = Σ μₚ(λ^αₚ − λ^(−αₚ/2)) (Pa): (...) -> (...)."""
        x = lam[..., None]
        return (self.mu * (x ** self.alpha - x ** (-0.5 * self.alpha))).sum(-1)

    def uniaxial_history(self, lam: torch.Tensor, dt: torch.Tensor) -> torch.Tensor:
        """Nominal stress P (Pa) along histories: lam, dt (T, B) -> (T, B) (dt[0] ignored)."""
        lam = torch.as_tensor(lam, dtype=torch.float64)
        dt = torch.as_tensor(dt, dtype=torch.float64)
        g, g_inf = self.weights()
        s0 = self.instantaneous(lam)
        x = dt[..., None] / self.log_tau.exp()
        decay = torch.exp(-x)
        safe = torch.where(x > 1e-12, x, torch.ones_like(x))
        avg = torch.where(x > 1e-12, -torch.expm1(-x) / safe, 1.0 - 0.5 * x)
        ds = torch.diff(s0, dim=0, prepend=torch.zeros_like(s0[:1]))
        q = LinearScan.apply(decay, avg * ds[..., None])
        return (g_inf * s0 + (g * q).sum(-1)) / lam

    def stiffness_bound(self, kinematics=None):
        raise CertificateError("PronyOgden is a uniaxial baseline without a finite-strain certificate")

    def config(self) -> dict:
        return {"name": self.name, "ogden_terms": int(self.mu.numel()), "terms": self.terms}

    @classmethod
    def from_config(cls, cfg: dict) -> "PronyOgden":
        n, m = int(cfg["ogden_terms"]), int(cfg["terms"])
        law = cls([1.0] * n, [1.0] * n, [1.0] * m)
        for p in law.parameters():
            p.requires_grad_(False)
        return law

    def extra_repr(self) -> str:
        return f"ogden_terms={int(self.mu.numel())}, terms={self.terms}"


def log_spaced(lo: float, hi: float, n: int) -> list[float]:
    """n times log-spaced in [lo, hi] (s)."""
    return [math.exp(math.log(lo) + (math.log(hi) - math.log(lo)) * k / max(n - 1, 1)) for k in range(n)]
