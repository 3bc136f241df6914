"""A finite-strain viscoelastic law: the neural hyperelastic law in equilibrium plus Maxwell branches
with a multiplicative split, a convex variational update and a certified incremental tangent.

The law (per reference volume; F the deformation gradient, C = FᵀF, J = det F)::

    Ψ(F, G₁..G_N) = ψ_eq(F) + Σₖ μₖ/2 (tr Cₑₖ − 3 − ln det Cₑₖ),     Cₑₖ = F Gₖ Fᵀ

ψ_eq is :class:`~lipmat.models.hyperelastic.NeuralHyperelastic`. The internal variable of branch k is
Gₖ = Cᵥₖ⁻¹ (the inverse viscous right Cauchy–Green tensor of a split F = Fₑ·Fᵥ, so Fₑ Fₑᵀ = F Gₖ Fᵀ),
symmetric positive definite, Gₖ = I in the virgin state. Each branch energy is a compressible
neo-Hookean energy of Fₑ: ≥ 0 and zero exactly at Cₑ = I. Written in G it is
μ/2 (C : G − ln det G) − μ ln J − 3μ/2: linear plus convex in G.

Flow (a generalised standard material): dissipation potential φₖ(Ġ) = ηₖ/4 |Ġ|² (Frobenius),
ηₖ = μₖτₖ(state), so −∂Ψ/∂Gₖ = ∂φₖ/∂Ġₖ gives Ġ = −(C − G⁻¹)/τₖ and the dissipation rate
D = Σ ηₖ/2 |Ġₖ|² ≥ 0 for every state and rate. The relaxation times depend on the state at the start
of the step, τₖ(I1ₙ/3)^aₖ (learned τₖ > 0, aₖ; :meth:`NeuralViscoelastic.relaxation_times`), and are
frozen over the step. At small strain a branch is a linear Maxwell element of shear modulus μₖ and
relaxation time τₖ.

Update over a step (backward Euler, the minimiser of the incremental potential)::

    G_{n+1} = argmin_G  Φ(G),  Φ(G) = Ψ(F_{n+1}, G) + ηₖ/(4Δt) |G − Gₙ|²

Φ is strictly convex in G (linear + −ln det + quadratic), so the minimiser is unique. Its stationarity
condition G − r G⁻¹ = Gₙ − r C (r = Δt/τ) says G is the isotropic matrix function g = h(x) of
X = Gₙ − r C with h the positive root of g − r/g = x (:func:`branch_root`): one symmetric eigen-problem,
no iteration, any Δt ≥ 0 (Δt → ∞ gives G = C⁻¹, the relaxed branch). The stress is P = ∂W/∂F of the
incremental potential W(F) = min_G [Ψ + ηΔt-term] (envelope theorem):

    P_{n+1} = P_eq(F) + Σₖ μₖ (F Gₖ − F⁻ᵀ)          (Gₖ = G_{k,n+1})

Certificate (docs/viscoelastic.md gives the proof): the algorithmic tangent A_alg = d²W/dF² =
Φ_FF − Φ_FG Φ_GG⁻¹ Φ_GF is symmetric and ⪯ Φ_FF = Ψ_FF(F, G_{n+1}) (Schur complement with Φ_GG ≻ 0),
for every F, Gₙ and Δt. And Ψ_FF = A_iso(F) + Σ μₖ (I ⊗ Gₖ), where A_iso is the tangent of the
isotropic law ψ_eq − (Σμₖ) ln J, whose sup over the stretch domain fem's ``certify_isotropic`` proves,
and λ_max(I ⊗ G) = λ_max(G) ≤ 1/λ_lo² for every state reachable from G = I with F in the domain
(the update keeps λ_max(G_{n+1}) ≤ max(λ_max(Gₙ), 1/λ_min(C))). So

    λ_max(A_alg) ≤ a_iso + (Σₖ μₖ)/λ_lo²  =: the certified bound.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from fem.core.interval import Interval
from fem.materials.hyperelastic.domain import StretchDomain
from fem.materials.hyperelastic.invariant import Derivatives, InvariantLaw
from fem.materials.hyperelastic.kinematics import check_F, cofactor, determinant
from fem.materials.hyperelastic.separable import symmetric_matrix_function
from lipmat.errors import CertificateError, LipmatError
from lipmat.models._scan import BranchScan
from lipmat.models.hyperelastic import NeuralHyperelastic

__all__ = ["NeuralViscoelastic", "branch_root", "GlassyIsotropic"]

#: Default bulk modulus of the glassy law as a multiple of its small-strain shear modulus.
DEFAULT_BULK_RATIO = 50.0


def branch_root(x: torch.Tensor, r: torch.Tensor) -> torch.Tensor:
    """The positive root g of g − r/g = x (g² − x g − r = 0), r >= 0: (...), (...) -> (...).

    Evaluated without cancellation: (x + s)/2 for x >= 0, 2r/(s − x) for x < 0, s = √(x² + 4r).
    With r = 0 and x > 0 it is x (no flow over a zero step)."""
    s = torch.sqrt(x * x + 4.0 * r)
    neg = x < 0
    safe = torch.where(neg, s - x, torch.ones_like(x))
    return torch.where(neg, 2.0 * r / safe, 0.5 * (x + s))


def branch_update(G_n: torch.Tensor, C: torch.Tensor, r: torch.Tensor) -> torch.Tensor:
    """G_{n+1} = h(Gₙ − r C) (module docstring): (..., d, d), (..., d, d), (...) -> (..., d, d).

    The derivative (for the algorithmic tangent) is exact also at repeated eigenvalues (Daleckii–Krein,
    :func:`fem.materials.hyperelastic.separable.symmetric_matrix_function`); h'(x) = g²/(g² + r)."""
    rr = r[..., None, None] if isinstance(r, torch.Tensor) and r.ndim else r
    X = G_n - rr * C
    X = 0.5 * (X + X.transpose(-1, -2))
    rv = torch.as_tensor(r, dtype=C.dtype).expand(X.shape[:-2])

    def rate(x):        # eigenvalues (..., d) or Daleckii–Krein midpoints (..., d, d)
        return rv[..., None] if x.dim() == X.dim() - 1 else rv[..., None, None]

    def h(x):
        return branch_root(x, rate(x))

    def hprime(x):
        g = branch_root(x, rate(x))
        return g * g / (g * g + rate(x))

    return symmetric_matrix_function(X, h, hprime)


class GlassyIsotropic(InvariantLaw):
    """The isotropic part of the glassy law: ψ_eq(F) − μ_v ln J (μ_v = Σ μₖ), for the certificate.

    Its derivatives are those of ``equilibrium`` with W_J − μ_v/J and W_JJ + μ_v/J² (−μ_v/J increases
    and μ_v/J² decreases in J > 0, so their interval enclosures are the end values)."""

    def __init__(self, equilibrium: NeuralHyperelastic, mu_v: float, domain: StretchDomain):
        self.eq, self.mu_v, self.domain = equilibrium, float(mu_v), domain

    def energy_invariants(self, I1, I2, J):
        return self.eq.energy_invariants(I1, I2, J) - self.mu_v * torch.log(J)

    def derivatives(self, I1, I2, J):
        d = self.eq.derivatives(I1, I2, J)
        return d._replace(WJ=d.WJ - self.mu_v / J, WJJ=d.WJJ + self.mu_v / J**2)

    def derivative_bounds(self, I1: Interval, I2: Interval, J: Interval) -> Derivatives:
        d = self.eq.derivative_bounds(I1, I2, J)
        m = self.mu_v
        return d._replace(WJ=d.WJ + J.monotone(lambda j: -m / j, increasing=True),
                          WJJ=d.WJJ + J.monotone(lambda j: m / j**2, increasing=False))


class NeuralViscoelastic(nn.Module):
    """Equilibrium neural law + N Maxwell branches (module docstring).

    Args:
        equilibrium: the equilibrium law (its ``domain`` is the certified domain; may be None for fitting).
        mu: (N,) initial branch moduli μₖ > 0 (Pa); tau: (N,) initial relaxation times τₖ > 0 (s).

    State: G of shape (..., N, d, d), :meth:`initial_state`. One step: :meth:`update`. Fitting and
    prediction of uniaxial incompressible histories: :meth:`uniaxial_history` (same branch update).
    """

    name = "viscoelastic"
    finite_strain = True
    kinematics = ("plane_strain", "3d")
    has_potential = True            # the incremental potential W: symmetric algorithmic tangent

    def __init__(self, equilibrium: NeuralHyperelastic, mu, tau) -> None:
        super().__init__()
        mu = torch.as_tensor(mu, dtype=torch.float64).flatten()
        tau = torch.as_tensor(tau, dtype=torch.float64).flatten()
        if mu.shape != tau.shape or not mu.numel() or not bool((mu > 0).all() & (tau > 0).all()) \
                or not bool(torch.isfinite(mu).all() & torch.isfinite(tau).all()):
            raise LipmatError(f"NeuralViscoelastic: expected N >= 1 finite branch moduli mu > 0 and times tau > 0 of "
                              f"the same length, received mu={mu.tolist()}, tau={tau.tolist()}")
        self.equilibrium = equilibrium
        self.log_mu = nn.Parameter(mu.log())
        self.log_tau = nn.Parameter(tau.log())
        self.raw_exponent = nn.Parameter(torch.full_like(mu, -4.0))   # aₖ = softplus(raw) ≈ 0.018 at the start

    @property
    def n_branches(self) -> int:
        return int(self.log_mu.numel())

    def mu(self) -> torch.Tensor:
        """(N,) branch shear moduli μₖ (Pa), differentiable."""
        return self.log_mu.exp()

    def tau(self) -> torch.Tensor:
        """(N,) relaxation times τₖ = ηₖ/μₖ (s), differentiable."""
        return self.log_tau.exp()

    def relaxation_times(self, I1_n: torch.Tensor) -> torch.Tensor:
        """τₖ(state) = τₖ·(I1ₙ/3)^aₖ (s): (...) -> (..., N); I1ₙ = tr Cₙ at the start of the step, aₖ learned.
        Positive for every state; frozen over a step, so the step stays a convex minimisation."""
        return self.tau() * torch.exp(self.stretch_exponent() * torch.log(I1_n / 3.0)[..., None])

    def stretch_exponent(self) -> torch.Tensor:
        """(N,) aₖ = softplus(raw) ≥ 0: a branch relaxes no faster when stretched further (a negative aₖ let
        the fitted stress fall during a monotone ramp)."""
        return torch.nn.functional.softplus(self.raw_exponent)

    @property
    def domain(self) -> StretchDomain | None:
        return self.equilibrium.domain

    def in_domain(self, F: torch.Tensor) -> torch.Tensor:
        """(..., d, d) -> (...) bool: F inside the certified domain."""
        return self.equilibrium.in_domain(F)

    # -- 3D (and plane strain) ---------------------------------------------------------------------
    def initial_state(self, batch_shape=(), d: int = 3) -> torch.Tensor:
        """The virgin state Gₖ = I: ``(*batch_shape, N, d, d)`` float64."""
        eye = torch.eye(d, dtype=torch.float64)
        return eye.expand(*batch_shape, self.n_branches, d, d).clone()

    def update(self, F: torch.Tensor, G_n: torch.Tensor, dt, F_n: torch.Tensor | None = None
               ) -> tuple[torch.Tensor, torch.Tensor]:
        """One step: (F_{n+1} (..., d, d), Gₙ (..., N, d, d), Δt float or (...), Fₙ (..., d, d) or None = I)
        -> (P_{n+1} (..., d, d), G_{n+1} (..., N, d, d)). Backward Euler in G with the relaxation times
        of the state at the start of the step (module docstring), unconditionally stable."""
        d = check_F(F, "NeuralViscoelastic.update")
        if G_n.shape[-3:] != (self.n_branches, d, d):
            raise LipmatError(f"NeuralViscoelastic.update: expected G of shape (..., {self.n_branches}, {d}, {d}), "
                              f"received {tuple(G_n.shape)}")
        dt = torch.as_tensor(dt, dtype=F.dtype)
        if bool((dt < 0).any()):
            raise LipmatError(f"NeuralViscoelastic.update: expected a step dt >= 0, received {dt.min().item():.6g}")
        C = (F.transpose(-1, -2) @ F).unsqueeze(-3)
        if F_n is None:
            I1_n = torch.full(F.shape[:-2], 3.0, dtype=F.dtype)
        else:
            I1_n = (F_n * F_n).sum((-1, -2)) + (1.0 if d == 2 else 0.0)
        r = dt[..., None] / self.relaxation_times(I1_n)
        G = branch_update(G_n, C, r)
        return self.glassy_stress(F, G), G

    def glassy_stress(self, F: torch.Tensor, G: torch.Tensor) -> torch.Tensor:
        """P = P_eq(F) + Σ μₖ (F Gₖ − F⁻ᵀ) at frozen G: (..., d, d), (..., N, d, d) -> (..., d, d) Pa."""
        mu = self.mu()
        cof = cofactor(F)
        finv_t = cof / determinant(F, cof)[..., None, None]
        branch = (mu[:, None, None] * (F.unsqueeze(-3) @ G)).sum(-3) - mu.sum() * finv_t
        return self.equilibrium.stress(F) + branch

    def energy(self, F: torch.Tensor, G: torch.Tensor) -> torch.Tensor:
        """Ψ(F, G): (..., d, d), (..., N, d, d) -> (...) J/m³ (plane strain: in-plane block, Cₑ33 = G33 = 1)."""
        Ce = F.unsqueeze(-3) @ G @ F.transpose(-1, -2).unsqueeze(-3)
        tr = torch.diagonal(Ce, dim1=-2, dim2=-1).sum(-1)
        branch = 0.5 * self.mu() * (tr - Ce.shape[-1] - torch.logdet(Ce))
        return self.equilibrium.energy(F) + branch.sum(-1)

    def dissipation(self, G_n: torch.Tensor, G: torch.Tensor, dt, F_n: torch.Tensor | None = None) -> torch.Tensor:
        """Energy dissipated over a step, Σ ηₖ/(2Δt) |G_{n+1} − Gₙ|² = −Σ ∂Ψ/∂Gₖ : ΔGₖ ≥ 0 (J/m³), with
        ηₖ = μₖτₖ(state at Fₙ): (..., N, d, d) twice, Δt > 0 (...), Fₙ (..., d, d) or None -> (...)."""
        d = G.shape[-1]
        I1_n = torch.full(G.shape[:-3], 3.0, dtype=G.dtype) if F_n is None else \
            (F_n * F_n).sum((-1, -2)) + (1.0 if d == 2 else 0.0)
        eta = self.mu() * self.relaxation_times(I1_n)
        dt = torch.as_tensor(dt, dtype=G.dtype)
        return (eta / (2.0 * dt[..., None]) * ((G - G_n) ** 2).sum((-1, -2))).sum(-1)

    # -- uniaxial incompressible histories (fitting, prediction) -----------------------------------
    def uniaxial_history(self, lam: torch.Tensor, dt: torch.Tensor, *, return_state: bool = False,
                         scan: bool = True):
        """Nominal stress P₁ (Pa) along uniaxial incompressible histories.

        lam: (T, B) stretch λ(tₙ) of B histories; dt: (T, B) step to tₙ (dt[0] ignored: virgin state at t₀).
        Returns (T, B); with ``return_state`` also (g₁, g₂) of shape (T, B, N). F = diag(λ, λ^(-1/2), λ^(-1/2))
        is coaxial with G = diag(g₁, g₂, g₂), so the matrix update is the scalar :func:`branch_root` per
        eigenvalue — the same function :meth:`update` applies to the eigenvalues of Gₙ − rC. ``scan``: run
        the recursion in :class:`lipmat.models._scan.BranchScan` (numpy, exact adjoint; default) or as a
        plain torch loop.
        """
        lam = torch.as_tensor(lam, dtype=torch.float64)
        dt = torch.as_tensor(dt, dtype=torch.float64)
        if lam.ndim != 2 or dt.shape != lam.shape:
            raise LipmatError(f"uniaxial_history: expected lam and dt of the same shape (T, B), received "
                              f"{tuple(lam.shape)} and {tuple(dt.shape)}")
        c1, c2 = lam**2, 1.0 / lam
        lam_prev = torch.cat([lam[:1], lam[:-1]])
        r_all = dt[..., None] / self.relaxation_times(lam_prev**2 + 2.0 / lam_prev)
        if scan:
            g = BranchScan.apply(torch.stack([c1, c2], -1), r_all)
            g1, g2 = g[..., 0], g[..., 1]
        else:                                   # the plain torch loop (reference for the scan's adjoint)
            g1 = torch.ones(lam.shape[1], self.n_branches, dtype=torch.float64)
            g2 = torch.ones_like(g1)
            s1, s2 = [g1], [g2]
            for n in range(1, lam.shape[0]):
                r = r_all[n]
                g1 = branch_root(g1 - r * c1[n, :, None], r)
                g2 = branch_root(g2 - r * c2[n, :, None], r)
                s1.append(g1)
                s2.append(g2)
            g1, g2 = torch.stack(s1), torch.stack(s2)
        P = (self.equilibrium_cauchy_uniaxial(lam) + self.branch_cauchy_uniaxial(lam, g1, g2)) / lam
        return (P, (g1, g2)) if return_state else P

    def equilibrium_cauchy_uniaxial(self, lam: torch.Tensor) -> torch.Tensor:
        """σ₁ − σ₃ = 2(λ² − λ⁻¹)(W1 + W2/λ) of the incompressible equilibrium law (Pa): (...) -> (...)."""
        I1, I2 = lam**2 + 2.0 / lam, 2.0 * lam + lam**-2
        w1, w2 = self.equilibrium.w(I1, I2)
        return 2.0 * (lam**2 - 1.0 / lam) * (w1 + w2 / lam)

    def branch_cauchy_uniaxial(self, lam, g1, g2):
        """σ₁ − σ₃ of the branches (Pa): (...), (..., N), (..., N) -> (...)."""
        mu = self.mu()
        return (mu * (lam[..., None] ** 2 * g1 - g2 / lam[..., None])).sum(-1)

    # -- certificate -----------------------------------------------------------------------------------
    def glassy_isotropic(self) -> GlassyIsotropic:
        if self.domain is None:
            raise CertificateError("NeuralViscoelastic has no certified domain (its equilibrium law has domain=None)")
        return GlassyIsotropic(self.equilibrium, float(self.mu().detach().sum()), self.domain)

    def certificate(self, kinematics: str = "3d") -> dict:
        """{bound, isotropic, branches, ...}: bound ≥ λ_max(∂P_{n+1}/∂F_{n+1}) for every F in the domain,
        every reachable G and every Δt ≥ 0 (module docstring). Cached per parameter version."""
        key = (kinematics, tuple((p.data_ptr(), p._version) for p in self.parameters()))
        cached = self.__dict__.get("_cert")
        if cached is not None and cached[0] == key:
            return cached[1]
        iso = self.glassy_isotropic().certificate(kinematics)
        mu_v = float(self.mu().detach().sum())
        branches = mu_v / self.domain.lam_lo ** 2
        out = {"bound": iso.bound + branches, "isotropic": iso.bound, "isotropic_found": iso.found,
               "isotropic_at": list(iso.at), "branches": branches, "mu_v": mu_v, "kinematics": kinematics,
               "domain": self.domain.as_dict()}
        self.__dict__["_cert"] = (key, out)
        return out

    def stiffness_bound(self, kinematics: str | None = None) -> float:
        """Certified a_b (Pa) ≥ λ_max of the algorithmic tangent ∂P_{n+1}/∂F_{n+1} (module docstring)."""
        return self.certificate(kinematics or "3d")["bound"]

    # -- files ------------------------------------------------------------------------------------------
    def config(self) -> dict:
        return {"name": self.name, "equilibrium": self.equilibrium.config(), "branches": self.n_branches}

    @classmethod
    def from_config(cls, cfg: dict) -> "NeuralViscoelastic":
        eq = NeuralHyperelastic.from_config(cfg["equilibrium"])
        n = int(cfg["branches"])
        law = cls(eq, [1.0] * n, [1.0] * n)
        for p in law.parameters():
            p.requires_grad_(False)
        return law

    def extra_repr(self) -> str:
        return f"branches={self.n_branches}, domain=({self.domain})"
