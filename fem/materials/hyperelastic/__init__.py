"""Isotropic finite-strain (hyperelastic) laws with a certified tangent bound on a stretch domain.

- :class:`StretchDomain` — principal stretches in [lam_lo, lam_hi], J in [J_lo, J_hi].
- :class:`InvariantLaw` (ψ = W(I1, I2, J)) and :class:`SeparableLaw` (ψ = Σ w(λᵢ) + V(J)): bases with
  closed-form stress, energy, tangent (autograd) and eigen parts of A = ∂P/∂F.
- Classical laws: :class:`NeoHookean`, :class:`MooneyRivlin`, :class:`Yeoh`, :class:`Ogden`,
  :class:`Gent`, :class:`ArrudaBoyce` — compressible, stress-free at F = I, small-strain K and G.
- :func:`certify_isotropic` -> :class:`Certificate`: the proven sup of λ_max(A) over the domain.
- :class:`PlaneStress` — any of these laws on a 2D mesh in plane stress (F33 solved so that P33 = 0),
  its tangent bounded by the 3D certificate.

See docs/finite_strain_laws.md.

May import: fem.core.
"""
from fem.core.kinematics import principal_stretches  # re-exported: the stretches the domain is cut by
from fem.materials.hyperelastic.domain import StretchDomain
from fem.materials.hyperelastic.base import HyperelasticLaw, NoCertifiedDomain
from fem.materials.hyperelastic.invariant import Derivatives, InvariantLaw
from fem.materials.hyperelastic.separable import SeparableLaw
from fem.materials.hyperelastic.volumetric import Volumetric
from fem.materials.hyperelastic.laws import DEFAULT_DOMAIN, ArrudaBoyce, Gent, MooneyRivlin, NeoHookean, Yeoh
from fem.materials.hyperelastic.ogden import Ogden
from fem.materials.hyperelastic.certificate import Certificate, certify_isotropic
from fem.materials.hyperelastic.plane_stress import PlaneStress

__all__ = ["StretchDomain", "principal_stretches", "HyperelasticLaw", "NoCertifiedDomain", "Derivatives",
           "InvariantLaw", "SeparableLaw", "Volumetric", "DEFAULT_DOMAIN", "NeoHookean", "MooneyRivlin", "Yeoh",
           "Ogden", "Gent", "ArrudaBoyce", "Certificate", "certify_isotropic", "PlaneStress"]
