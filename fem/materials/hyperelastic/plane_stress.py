"""Plane stress at finite strain: a 3D isotropic law on a 2D mesh, with F33 solved so that P33 = 0.

A membrane (a rubber sheet, a VHB specimen) is free on its faces: P33 = 0, not F33 = 1. Given the
in-plane block F₂ (the 2D mesh's F = I + ∇₀u) the thickness stretch λ₃ = F33 is the root of

    g(λ₃) = P33(F₂ ⊕ λ₃) = ∂ψ/∂λ₃ = 0,         F₂ ⊕ λ₃ = [[F₂, 0], [0, λ₃]]

(e₃ is a principal direction of F₂ ⊕ λ₃, so P33 is the derivative of ψ(λ₁, λ₂, λ₃) in the third stretch
and g' = A33 = ∂²ψ/∂λ₃²). :class:`PlaneStress` solves it at every point by a safeguarded Newton
iteration (vectorised; Newton inside the bracket [lo, hi] of the signs of g seen so far, bisection or
doubling/halving otherwise; converged when the step is below ``tol``·λ₃, default 1e-13), started from
λ₃ = J₂^(−r), J₂ = det F₂, r = A33,11/A33,33 at F = I (the law's own small-strain ratio ν/(1 − ν): the
exact linearised plane-stress thickness strain; r → 1, λ₃ → 1/J₂ as the law becomes incompressible).
No state is kept between calls: the result depends on F₂ only (a restarted run repeats it bit for bit).

Stress and energy: ``P₂ = P(F₂ ⊕ λ₃)[:2, :2]`` and ``ψ₂(F₂) = ψ(F₂ ⊕ λ₃(F₂))``; since P33 = 0,
∂ψ₂/∂F₂ = P₂ + P33 ∂λ₃/∂F₂ = P₂, so P₂ has a potential and a symmetric tangent.

Consistent tangent (implicit-function theorem). Where A33 > 0, λ₃(F₂) is differentiable with
∂λ₃/∂F₂ = −A33⁻¹ A3p, and with p the four in-plane entries of F,

    A_ps = ∂P₂/∂F₂ = A_pp − A_p3 A33⁻¹ A_3p,

the Schur complement of A33 in the 5×5 principal submatrix of the 3D tangent A = ∂P/∂F at F₂ ⊕ λ₃.
:meth:`PlaneStress.stress` returns it to autograd (and to forward mode) exactly: after the solve, one
more Newton step ``λ₃ − g(F₂, λ₃)/A33`` is taken with F₂ live and λ₃, A33 held fixed, so the derivative
of the returned λ₃ is −A3p/A33 at the solved state.

What is certified. Let a_b be the law's 3D certificate: λ_max(A(F)) ≤ a_b for every F in its domain D.
If F₂ ⊕ λ₃ ∈ D and A33 > 0 there, then

    λ_max(A_ps) ≤ λ_max(A_pp) ≤ λ_max(A) ≤ a_b.

Proof: A33 > 0 makes A_p3 A33⁻¹ A_3p = A33⁻¹ vvᵀ (v = A_p3) positive semi-definite, so A_ps ⪯ A_pp
(Loewner order) and λ_max(A_ps) ≤ λ_max(A_pp); A_pp is a principal submatrix of the symmetric A, so
by Cauchy interlacing λ_max(A_pp) ≤ λ_max(A); and λ_max(A) ≤ a_b on D. Hence K(u) = Σ w B₀ᵀ A_ps B₀ ⪯
a_b Σ w B₀ᵀB₀ = K_b at every such state, and the certified step of :mod:`fem.stability.timestep` holds.
:meth:`PlaneStress.in_domain` is exactly this condition (λ₁, λ₂, λ₃ in the stretch box, J = J₂λ₃ in the
J range, A33 > 0, the solve converged), and the solver checks it, so a run that leaves it stops.
For every classical law here A33 = ψ₃₃ > 0 everywhere (e.g. Neo-Hookean: μ + V''(J)(λ₁λ₂)², V'' > 0).
The 3D bound keeps the bulk stiffness the plane-stress tangent does not feel; a tighter one, proven
over the plane-stress states themselves (P33 = 0), is
:func:`fem.materials.hyperelastic.plane_stress_certificate.certify_plane_stress`, and
:meth:`PlaneStress.stiffness_bound` returns the smaller of the two (measured in
docs/finite_strain_laws.md).
"""
from __future__ import annotations

import logging

import torch

from fem.core.errors import FemError, NoStiffnessBound
from fem.core.kinematics import determinant, principal_stretches
from fem.materials.hyperelastic.kinematics import check_F, tangent_by_autograd

__all__ = ["PlaneStress", "embed", "schur_tangent"]

log = logging.getLogger(__name__)

#: indices of the in-plane entries of F (3×3 row-major flattening) and of F33
_PLANE = (0, 1, 3, 4)
_THIRD = 8


def embed(F2: torch.Tensor, lam3: torch.Tensor) -> torch.Tensor:
    """F₂ ⊕ λ₃: (..., 2, 2) and (...) -> (..., 3, 3), zeros in the out-of-plane shear entries."""
    z = torch.zeros_like(lam3)
    rows = [torch.stack([F2[..., 0, 0], F2[..., 0, 1], z], -1),
            torch.stack([F2[..., 1, 0], F2[..., 1, 1], z], -1),
            torch.stack([z, z, lam3], -1)]
    return torch.stack(rows, -2)


def schur_tangent(A3: torch.Tensor) -> torch.Tensor:
    """The plane-stress tangent from a 3D one: (..., 9, 9) -> (..., 4, 4), A_pp − A_p3 A_3p / A33
    (p = in-plane entries F11, F12, F21, F22, row-major)."""
    p = list(_PLANE)
    App = A3[..., p, :][..., :, p]
    Ap3, A3p, A33 = A3[..., p, _THIRD], A3[..., _THIRD, p], A3[..., _THIRD, _THIRD]
    return App - Ap3[..., :, None] * A3p[..., None, :] / A33[..., None, None]


class PlaneStress:
    """A 3D isotropic finite-strain law in plane stress (module docstring): F₂ in, P₂ out, P33 = 0.

    Protocol (:mod:`fem.materials.protocol`): ``finite_strain = True``, ``plane_stress = True``,
    ``kinematics = ("plane_strain",)`` (fem's name of every 2D mesh: F is the 2×2 in-plane block),
    ``stress(F)`` (..., 2, 2) -> (..., 2, 2), ``energy(F)`` (..., 2, 2) -> (...), ``in_domain(F)``
    (..., 2, 2) -> (...) bool, ``stiffness_bound(kinematics=None)`` -> float (the smaller of the law's 3D certificate and
    the plane-stress one), ``domain`` (the law's).

    Args:
        law: a 3D isotropic law of the finite-strain protocol that supports ``"3d"`` (an
            :class:`~fem.materials.hyperelastic.InvariantLaw`, a
            :class:`~fem.materials.hyperelastic.SeparableLaw`, a learned one); its ``eigen_parts`` give
            A33 in closed form when it has them, autograd otherwise.
        tol: relative step |Δλ₃|/λ₃ at which the Newton iteration stops (default 1e-13).
        max_iter: iterations before the points not yet converged are given up (λ₃ = NaN: their
            stress is NaN and ``in_domain`` False, which stops a run).
        tight: also certify the plane-stress tangent itself (2–3× below the 3D bound for moderately
            compressible laws; a few seconds, once); off, or where that certifier gives up, the 3D bound.
    """

    finite_strain = True
    plane_stress = True
    kinematics = ("plane_strain",)

    def __init__(self, law, *, tol: float = 1e-13, max_iter: int = 80, tight: bool = True):
        if getattr(law, "plane_stress", False):
            raise FemError("PlaneStress: the law is already a plane-stress law")
        kin = getattr(law, "kinematics", ())
        kin = (kin,) if isinstance(kin, str) else tuple(kin)
        if not (getattr(law, "finite_strain", False) and "3d" in kin):
            raise FemError(f"PlaneStress: expected a 3D finite-strain law (finite_strain = True, kinematics "
                           f"including '3d'), received {type(law).__name__} with kinematics {kin!r}")
        if not (0.0 < tol < 1e-3 and int(max_iter) >= 1):
            raise FemError(f"PlaneStress: expected 0 < tol < 1e-3 and max_iter >= 1, received tol={tol}, "
                           f"max_iter={max_iter}")
        self.law, self.tol, self.max_iter, self.tight = law, float(tol), int(max_iter), bool(tight)
        self._certificate = None
        one = torch.ones((), dtype=torch.float64)
        with torch.no_grad():
            h33 = self._residual(torch.eye(2, dtype=torch.float64), one, one, one)[1]
        h31 = self._a31_at_identity()
        #: exponent of the starting guess λ₃ = J₂^(−ratio): A33,11/A33,33 at F = I
        self.ratio = float(h31 / h33) if float(h33) > 0 else 1.0

    def __repr__(self) -> str:
        return f"PlaneStress({self.law!r})"

    # -- the protocol ----------------------------------------------------------------------
    @property
    def domain(self):
        """The law's certified domain (a StretchDomain), or None."""
        return getattr(self.law, "domain", None)

    def stiffness_bound(self, kinematics: str | None = None) -> float:
        """a_b ≥ λ_max(A_ps(F₂)) at every F₂ with :meth:`in_domain` True (module docstring): the smaller of
        the law's 3D certificate and, when ``tight``, the plane-stress one of
        :func:`~fem.materials.hyperelastic.plane_stress_certificate.certify_plane_stress` (cached; both are
        proven). kinematics: None, ``"plane_strain"`` (a 2D mesh) or ``"plane_stress"``."""
        if kinematics not in (None, "plane_strain", "plane_stress"):
            raise FemError(f"PlaneStress.stiffness_bound: a plane-stress law runs on 2D meshes (kinematics "
                           f"'plane_strain' or 'plane_stress'), received {kinematics!r}")
        bound = self.law.stiffness_bound(kinematics="3d")
        tight = self.certificate()
        return bound if tight is None else min(bound, tight["bound"])

    def certificate(self) -> dict | None:
        """The plane-stress certificate ({"bound", "found", "ratio", "boxes", "rounds"}), None when ``tight``
        is off or the certifier gave up (then only the 3D bound holds); cached per domain."""
        from fem.materials.hyperelastic.plane_stress_certificate import certify_plane_stress

        if not self.tight:
            return None
        key = (self.domain, getattr(self.law, "_version", lambda: None)())
        if self._certificate is None or self._certificate[0] != key:
            try:
                cert = certify_plane_stress(self)
            except NoStiffnessBound as exc:
                log.info("%s; using the 3D bound", exc)
                cert = None
            self._certificate = (key, cert)
        return self._certificate[1]

    def stress(self, F: torch.Tensor) -> torch.Tensor:
        """In-plane first Piola–Kirchhoff stress at P33 = 0: (..., 2, 2) -> (..., 2, 2). Differentiable
        (reverse and forward mode): its derivative is the Schur complement A_ps (module docstring)."""
        self._check(F, "stress")
        lam3, h33, P = self._solve(F.detach())
        if not (_tracked(F) or self._learning()):
            return P[..., :2, :2].to(F.dtype)
        g = self.law.stress(embed(F, lam3))[..., 2, 2]
        lam3_live = lam3 - g / h33          # = λ₃ in value; derivative −A3p/A33 (implicit function)
        return self.law.stress(embed(F, lam3_live))[..., :2, :2]

    def energy(self, F: torch.Tensor) -> torch.Tensor:
        """ψ(F₂ ⊕ λ₃) per reference volume: (..., 2, 2) -> (...); its gradient in F₂ is :meth:`stress`."""
        self._check(F, "energy")
        lam3 = self._solve(F.detach())[0]
        return self.law.energy(embed(F, lam3))

    def in_domain(self, F: torch.Tensor) -> torch.Tensor:
        """(..., 2, 2) -> (...) bool: the solved 3D state F₂ ⊕ λ₃ is in the law's domain and A33 > 0 there
        (where the certificate is proven for the plane-stress tangent; module docstring)."""
        self._check(F, "in_domain")
        lam3, h33, _ = self._solve(F.detach())
        ok = torch.isfinite(lam3) & (h33 > 0)
        check = getattr(self.law, "in_domain", None)
        if callable(check):
            ok &= check(embed(F.detach(), torch.where(ok, lam3, torch.ones_like(lam3))))
        return ok

    # -- extras ----------------------------------------------------------------------------
    def thickness_stretch(self, F: torch.Tensor) -> torch.Tensor:
        """λ₃ = F33 with P33 = 0: (..., 2, 2) -> (...) (NaN where the solve failed or J₂ ≤ 0)."""
        self._check(F, "thickness_stretch")
        return self._solve(F.detach())[0]

    def tangent(self, F: torch.Tensor) -> torch.Tensor:
        """A_ps = ∂P₂/∂F₂ by autograd through the solve: (..., 2, 2) -> (..., 4, 4), row-major."""
        self._check(F, "tangent")
        return tangent_by_autograd(self.stress, F)

    def tangent_by_schur(self, F: torch.Tensor) -> torch.Tensor:
        """A_ps from the 3D tangent at the solved state, by the Schur formula: (..., 2, 2) -> (..., 4, 4)."""
        self._check(F, "tangent_by_schur")
        lam3 = self._solve(F.detach())[0]
        return schur_tangent(tangent_by_autograd(self.law.stress, embed(F.detach(), lam3)))

    def _learning(self) -> bool:
        """Whether the law's own parameters want gradients (fitting through plane stress): then the
        differentiable step runs too, and ∂λ₃/∂θ = −(∂P33/∂θ)/A33 comes with it."""
        params = getattr(self.law, "parameters", None)
        return torch.is_grad_enabled() and callable(params) and any(p.requires_grad for p in params())

    # -- the solve -------------------------------------------------------------------------
    def _check(self, F, what: str) -> None:
        if check_F(F, f"PlaneStress.{what}") != 2:
            raise FemError(f"PlaneStress.{what}: expected the in-plane F of a 2D mesh, shape (..., 2, 2), "
                           f"received {tuple(F.shape)}")

    def _residual(self, F2, lam3, l1, l2):
        """(g = P33, A33, P (..., 3, 3)) at F₂ ⊕ λ₃; l1, l2 the in-plane stretches (for eigen_parts)."""
        F3 = embed(F2, lam3)
        P = self.law.stress(F3)
        parts = getattr(self.law, "eigen_parts", None)
        if callable(parts):
            try:
                h = parts(l1, l2, lam3).hessian[2][2]
                return P[..., 2, 2], torch.as_tensor(h, dtype=lam3.dtype).expand_as(lam3), P
            except NotImplementedError:
                pass
        x = lam3.detach().clone().requires_grad_(True)
        with torch.enable_grad():     # points are independent: the gradient of the sum is A33 per point
            (h,) = torch.autograd.grad(self.law.stress(embed(F2, x))[..., 2, 2].sum(), x)
        return P[..., 2, 2], h, P

    def _a31_at_identity(self) -> torch.Tensor:
        return tangent_by_autograd(self.law.stress, torch.eye(3, dtype=torch.float64))[_THIRD, 0]

    @torch.no_grad()
    def _solve(self, F2: torch.Tensor):
        """(λ₃ (...), A33 (...), P (..., 3, 3) at the last iterate) for F₂ (..., 2, 2), no graph."""
        shape = F2.shape[:-2]
        F2 = F2.reshape(-1, 2, 2)
        J2 = determinant(F2)
        good = torch.isfinite(F2).all(-1).all(-1) & (J2 > 0)
        F2 = torch.where(good[:, None, None], F2, torch.eye(2, dtype=F2.dtype, device=F2.device))
        lam = principal_stretches(F2)
        l1, l2 = lam[:, 0], lam[:, 1]
        x = torch.where(good, J2, torch.ones_like(J2)).pow(-self.ratio)
        lo, hi = torch.zeros_like(x), torch.full_like(x, float("inf"))
        eps = torch.finfo(x.dtype).eps
        tol = max(self.tol, 8.0 * eps)       # float32 runs: as close as the precision allows
        done = False
        for _ in range(self.max_iter):
            g, h, P = self._residual(F2, x, l1, l2)
            lo = torch.where(g < 0, torch.maximum(lo, x), lo)
            hi = torch.where(g > 0, torch.minimum(hi, x), hi)
            newton = x - g / h
            ok = (h > 0) & (newton >= lo) & (newton <= hi) & torch.isfinite(newton)
            fallback = torch.where(torch.isinf(hi), 2.0 * x, torch.where(lo == 0, 0.5 * x, 0.5 * (lo + hi)))
            new = torch.where(g == 0, x, torch.where(ok, newton, fallback))
            step = (new - x).abs()
            x = new
            if bool((step <= tol * x).all()):
                done = True
                break
        g, h, P = self._residual(F2, x, l1, l2)
        fail = ~good
        if not done:
            fail = fail | ~(g.abs() <= self._scale(P) * max(1e-10, 1e3 * eps))
            log.warning("PlaneStress: the thickness-stretch solve did not converge in %d iterations at %d "
                        "point(s)", self.max_iter, int(fail.sum()))
        nan = torch.full_like(x, float("nan"))
        x, h = torch.where(fail, nan, x), torch.where(fail, nan, h)
        P = torch.where(fail[:, None, None], nan[:, None, None], P)
        return x.reshape(shape), h.reshape(shape), P.reshape(*shape, 3, 3)

    @staticmethod
    def _scale(P: torch.Tensor) -> torch.Tensor:
        return P.abs().amax((-1, -2)).clamp_min(1e-300)


def _tracked(F: torch.Tensor) -> bool:
    """Whether F carries a derivative (autograd graph or a torch.func transform's tangent)."""
    if F.requires_grad:
        return True
    try:
        return bool(torch._C._functorch.is_functorch_wrapped_tensor(F))
    except AttributeError:     # an older torch: take the differentiable path always
        return True
