"""What every isotropic finite-strain law here shares: the fem protocol around a certified domain.

A subclass supplies ``stress``, ``energy`` and the closed-form *eigen parts* of A = ∂P/∂F in principal
stretches (:meth:`HyperelasticLaw.eigen_parts`, for tensors and for :class:`fem.core.interval.Interval`
boxes); this base adds ``tangent`` (autograd), ``in_domain``, the cached certificate and
``stiffness_bound``. See :mod:`fem.materials.hyperelastic.certificate` for what is proven.
"""
from __future__ import annotations

import math

import torch

from fem.core.errors import FemError, NoStiffnessBound
from fem.materials.hyperelastic.domain import StretchDomain, _stretch_count
from fem.materials.hyperelastic.kinematics import check_F, tangent_by_autograd

__all__ = ["HyperelasticLaw", "NoCertifiedDomain", "EigenParts", "eigenvalues_from_parts", "bulk_from"]


class NoCertifiedDomain(NoStiffnessBound):
    """The law has no certified domain, so it has no stiffness bound (and no certified time step)."""


class EigenParts:
    """The closed-form pieces of the spectrum of A at principal stretches (Smith, de Goes & Kim 2019).

    ``hessian[i][j]`` = ∂²ψ/∂λᵢ∂λⱼ (3×3, symmetric, entries tensors (...) or Intervals);
    ``pairs[(i, j)]`` = ((ψᵢ − ψⱼ)/(λᵢ − λⱼ), (ψᵢ + ψⱼ)/(λᵢ + λⱼ)) for i < j.
    3D: eigenvalues of A = eig(hessian) ∪ all six pair values. Plane strain (λ₃ = 1): eig of the
    upper-left 2×2 block of hessian ∪ the two values of pair (0, 1).
    """

    __slots__ = ("hessian", "pairs")

    def __init__(self, hessian, pairs):
        self.hessian, self.pairs = hessian, pairs


def eigenvalues_from_parts(parts: EigenParts, kinematics: str) -> torch.Tensor:
    """Tensor EigenParts -> (..., 9) (3D) or (..., 4) (plane strain) eigenvalues of A: the Hessian's
    (ascending) first, then the pair values (minus, plus) of pairs (0, 1), (0, 2), (1, 2) (not sorted)."""
    k = _stretch_count(kinematics)
    pair_keys = [(0, 1), (0, 2), (1, 2)] if k == 3 else [(0, 1)]
    entries = [parts.hessian[i][j] for i in range(k) for j in range(k)]
    vals = [v for key in pair_keys for v in parts.pairs[key]]
    everything = torch.broadcast_tensors(*[torch.as_tensor(v, dtype=torch.float64) for v in entries + vals])
    H = torch.stack(everything[:k * k], -1).unflatten(-1, (k, k))
    return torch.cat([torch.linalg.eigvalsh(H), torch.stack(everything[k * k:], -1)], -1)


class SmallStrainModuli:
    """``shear_modulus``, ``bulk_modulus`` and ``poisson_ratio`` of a law that sets ``_G`` and ``_K`` (Pa)."""

    @property
    def shear_modulus(self) -> float:
        """Small-strain shear modulus G (Pa)."""
        return self._G

    @property
    def bulk_modulus(self) -> float:
        """Small-strain bulk modulus K (Pa)."""
        return self._K

    @property
    def poisson_ratio(self) -> float:
        """Small-strain ν = (3K − 2G)/(2(3K + G))."""
        K, G = self._K, self._G
        return (3 * K - 2 * G) / (2 * (3 * K + G))


def bulk_from(shear: float, K: float | None, nu: float | None, who: str) -> float:
    """The small-strain bulk modulus from exactly one of K or ν (K = 2G(1+ν)/(3(1−2ν)))."""
    if (K is None) == (nu is None):
        raise FemError(f"{who}: choose the bulk modulus with exactly one of K (Pa) or nu (small-strain Poisson "
                       f"ratio); received K={K!r}, nu={nu!r}. Near-incompressible values (nu -> 0.5) shrink the "
                       f"certified time step roughly like sqrt(G/K)")
    if nu is not None:
        if not (isinstance(nu, (int, float)) and -1.0 < nu < 0.5):
            raise FemError(f"{who}: expected -1 < nu < 0.5, received nu={nu!r}")
        return 2.0 * shear * (1.0 + nu) / (3.0 * (1.0 - 2.0 * nu))
    if not (isinstance(K, (int, float)) and math.isfinite(K) and K > 0):
        raise FemError(f"{who}: expected a finite bulk modulus K > 0, received K={K!r}")
    return float(K)


class HyperelasticLaw:
    """Base of the isotropic finite-strain laws: P = ∂ψ/∂F, A = ∂P/∂F, certified on ``domain``.

    Protocol (fem.materials.protocol): ``finite_strain = True``, ``kinematics = ("plane_strain", "3d")``,
    ``stress(F)`` (..., d, d) -> (..., d, d), ``energy(F)`` (..., d, d) -> (...),
    ``stiffness_bound(kinematics=None)`` -> float, ``domain`` (StretchDomain or None),
    ``in_domain(F)`` (..., d, d) -> (...) bool. d = 2 is plane strain (F33 = 1), d = 3 is 3D.
    """

    finite_strain = True
    kinematics = ("plane_strain", "3d")
    domain: StretchDomain | None = None
    #: bisection tolerance of the certificate computed by :meth:`stiffness_bound`
    certificate_rtol = 0.02

    # -- to be supplied by subclasses ------------------------------------------------------
    def stress(self, F: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def energy(self, F: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def eigen_parts(self, lam1, lam2, lam3, J=None, I1_max=None) -> EigenParts:
        """Closed-form eigen parts at stretches (tensors (...)) or over boxes (Intervals); ``J`` may be
        passed as a tighter enclosure of λ₁λ₂λ₃ (the domain's J range intersected), ``I1_max`` as an
        upper bound of I1 over the domain (both only cut the boxes to points of the domain)."""
        raise NotImplementedError

    # -- provided --------------------------------------------------------------------------
    def tangent(self, F: torch.Tensor) -> torch.Tensor:
        """A = ∂P/∂F by autograd: (..., d, d) -> (..., d², d²), row-major flattening of F and P."""
        check_F(F, f"{type(self).__name__}.tangent")
        return tangent_by_autograd(self.stress, F)

    def tangent_eigenvalues(self, stretches: torch.Tensor) -> torch.Tensor:
        """Closed-form eigenvalues of A at principal stretches: (..., 3) -> (..., 9) in 3D, or
        (..., 2) -> (..., 4) in plane strain (λ₃ = 1). Needs no division by λᵢ − λⱼ."""
        lam = stretches.to(torch.float64)
        if lam.shape[-1] == 2:
            parts = self.eigen_parts(lam[..., 0], lam[..., 1], torch.ones_like(lam[..., 0]))
            return eigenvalues_from_parts(parts, "plane_strain")
        if lam.shape[-1] != 3:
            raise FemError(f"tangent_eigenvalues: expected stretches (..., 2) or (..., 3), received {tuple(lam.shape)}")
        return eigenvalues_from_parts(self.eigen_parts(lam[..., 0], lam[..., 1], lam[..., 2]), "3d")

    def in_domain(self, F: torch.Tensor) -> torch.Tensor:
        """(..., d, d) -> (...) bool: F inside the certified domain (all True when there is none)."""
        check_F(F, f"{type(self).__name__}.in_domain")
        if self.domain is None:
            return torch.ones(F.shape[:-2], dtype=torch.bool, device=F.device)
        return self.domain.contains(F)

    def certificate(self, kinematics: str = "3d", rtol: float | None = None):
        """The :class:`~fem.materials.hyperelastic.certificate.Certificate` of sup λ_max(A) over ``domain`` (cached)."""
        from fem.materials.hyperelastic.certificate import certify_isotropic

        if self.domain is None:
            raise NoCertifiedDomain(f"{type(self).__name__} has no certified domain (domain=None), so no stiffness "
                                    f"bound: pass domain=StretchDomain(lam_lo, lam_hi, J_lo, J_hi)")
        _stretch_count(kinematics)
        rtol = self.certificate_rtol if rtol is None else float(rtol)
        cache = self.__dict__.setdefault("_certificates", {})
        key = (kinematics, rtol, self.domain)
        if key not in cache:
            cache[key] = certify_isotropic(self, self.domain, kinematics=kinematics, rtol=rtol)
        return cache[key]

    def stiffness_bound(self, kinematics: str | None = None) -> float:
        """a_b (Pa) with λ_max(A(F)) <= a_b for every F in ``domain``; proven (see the certificate module).

        kinematics None or "3d": the 3D bound, valid for plane strain too; "plane_strain": the (tighter)
        bound over plane-strain states. Raises :class:`NoCertifiedDomain` when ``domain`` is None.
        """
        return self.certificate(kinematics or "3d").bound

    def clear_certificates(self) -> None:
        """Forget cached certificates (call after changing parameters in place)."""
        self.__dict__.pop("_certificates", None)
