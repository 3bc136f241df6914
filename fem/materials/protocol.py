"""What fem needs from a material, and classical materials.

fem talks to every material, classical or learned, through :class:`Material`. Strain and stress are
Mandel vectors (see :mod:`fem.core.mandel`) of length n = 1 (``"uniaxial"``), 3 (``"plane_strain"``) or
6 (``"3d"``).

Protocol
--------
``kinematics``         str, one of ``"uniaxial" | "plane_strain" | "3d"``; must match the mesh.
``stress(strain)``     (..., n) -> (..., n). Called once per time step with every quadrature point of
                       the mesh batched, shape (n_cells, n_qp, n).
``stiffness_bound()``  the certificate: a symmetric (n, n) tensor ``C_b`` with ``C(e) ⪯ C_b`` for every
                       strain ``e`` (needs a symmetric tangent), or a float ``L ≥ sup_e ‖C(e)‖₂``;
                       finite entries only. A material with no global bound raises
                       :class:`~fem.core.errors.NoStiffnessBound` saying why (the one way to say so; the
                       solver then runs only with a numeric dt). Any other exception is a bug and
                       propagates; returning None is an error.
``energy(strain)``     optional, (..., n) -> (...): strain-energy density with ``stress = ∇energy``.
``linear_stiffness()`` optional, returns the constant (n, n) tangent of a *linear* material (or None);
                       the solver then uses one sparse K @ u per step instead of the material call.

Finite-strain protocol (total Lagrangian)
-----------------------------------------
A material with the class attribute ``finite_strain = True`` is driven by the deformation gradient
``F = I + ∇₀u`` (d × d; row i = component, column j = ∂/∂X_j) instead of a strain, and runs on an
:class:`~fem.discretisation.assembly.Assembly` in ``"gradient"`` mode. Plane strain: d = 2, F is the in-plane block
and F33 = 1 (so J = det F₂ₓ₂, I1 = tr(F₂ᵀF₂) + 1); 3D: d = 3. Small-strain materials lack the
attribute or set it False.

``finite_strain``      True.
``kinematics``         ``"plane_strain" | "3d"``, or a tuple of those the law supports (an isotropic 3D
                       law supports both: plane strain is its F33 = 1 restriction).
``stress(F)``          (..., d, d) -> (..., d, d): the first Piola–Kirchhoff stress ``P = ∂ψ/∂F``.
                       Called once per step with every quadrature point batched, (n_cells, n_qp, d, d);
                       d is read from F's shape.
``energy(F)``          optional, (..., d, d) -> (...): strain energy per reference volume, P = ∂ψ/∂F.
``stiffness_bound(kinematics=None)``
                       the certificate: a float ``a_b ≥ λ_max(A(F))``, ``A = ∂P/∂F`` (d² × d², material
                       plus geometric part, row-major pairs), for *every* F in the law's certified
                       domain. With ``kinematics="plane_strain"`` a law may return a tighter value; the
                       3D value is always valid in plane strain (A₂ᴰ is a principal submatrix of A₃ᴰ at
                       F33 = 1, a 3D state). A law with no certified domain raises
                       :class:`~fem.core.errors.NoStiffnessBound` saying why (the solver then needs a numeric dt).
``domain``             the certified domain, e.g. a ``StretchDomain(lam_lo, lam_hi, J_lo, J_hi)``
                       (principal stretches of F in [lam_lo, lam_hi], J = det F in [J_lo, J_hi]), or None.
``in_domain(F)``       (..., d, d) -> (...) bool: True where F lies inside ``domain``. The solver calls it
                       at every check and stops with status ``"out_of_domain"`` (last good state kept),
                       naming the element, the stretches and J found and the domain, so the
                       certificate holds at every state a run reaches.

Plane stress on a 2D mesh: a finite-strain material with ``plane_stress = True`` (see
:class:`fem.materials.hyperelastic.PlaneStress`) takes the same in-plane F (..., 2, 2) but solves F33 per
point so that P33 = 0 (a membrane) instead of fixing F33 = 1; it declares ``kinematics = ("plane_strain",)``,
fem's name of every 2D mesh, and its ``stress`` is the in-plane P with the consistent (Schur-complement)
tangent. Its ``stiffness_bound`` bounds that tangent wherever its ``in_domain`` is True.

Since ``A(F) ⪯ a_b·I`` on the domain, ``K(u) = Σ w B₀ᵀ A B₀ ⪯ a_b Σ w B₀ᵀB₀ = K_b`` at every state in
it: :func:`fem.stability.timestep.certified_time_step` with the scalar ``a_b`` on the gradient-mode assembly
gives the proven step, exactly as for a small-strain certificate.
"""
from __future__ import annotations

import math
from typing import Protocol, Union, runtime_checkable

import torch

from fem.core.errors import FemError

Bound = Union[torch.Tensor, float]


@runtime_checkable
class Material(Protocol):
    """The protocol a material satisfies to be used by fem (see the module docstring)."""

    kinematics: str

    def stress(self, strain: torch.Tensor) -> torch.Tensor:  # (..., n) -> (..., n)
        ...

    def stiffness_bound(self) -> Bound:
        ...


def bound_matrix(bound: Bound, n: int, dtype=torch.float64, device=None) -> torch.Tensor:
    """Certificate as an (n, n) matrix: a matrix is returned as is (checked), a scalar L as ``L·I``.

    Raises ValueError for a matrix of the wrong shape, with NaN/inf entries or not symmetric, and for a
    negative, NaN or infinite L (an infinite bound certifies nothing: raise NoStiffnessBound instead).
    """
    if isinstance(bound, torch.Tensor) and bound.ndim == 2:
        if bound.shape != (n, n):
            raise ValueError(f"stiffness bound must be ({n}, {n}), got {tuple(bound.shape)}")
        c = bound.to(dtype=dtype, device=device)
        if not bool(torch.isfinite(c).all()):
            raise ValueError(f"stiffness bound matrix must be finite, got {c.tolist()}")
        if not torch.allclose(c, c.T, rtol=1e-12, atol=1e-12 * float(c.abs().max())):
            raise ValueError("stiffness bound matrix must be symmetric (a Loewner bound needs a symmetric C_b)")
        return c
    lip = float(bound)
    if not (math.isfinite(lip) and lip >= 0.0):
        raise ValueError(f"scalar stiffness bound L must be a finite number >= 0, got {bound!r}")
    return lip * torch.eye(n, dtype=dtype, device=device)


def is_finite_strain(material) -> bool:
    """True for a material of the finite-strain protocol (``finite_strain = True``; module docstring)."""
    return bool(getattr(material, "finite_strain", False))


def supported_kinematics(material) -> tuple[str, ...]:
    """The kinematics a material declares, as a tuple (a single string becomes a 1-tuple)."""
    kin = getattr(material, "kinematics", ())
    return (kin,) if isinstance(kin, str) else tuple(kin)


def stiffness_bound_for(material, kinematics: str):
    """The material's certificate for a mesh of ``kinematics``: ``stiffness_bound(kinematics=...)`` for a
    finite-strain law (which may be tighter in plane strain), ``stiffness_bound()`` otherwise. Whatever
    the material raises (:class:`~fem.core.errors.NoStiffnessBound`: no certified bound) propagates."""
    if is_finite_strain(material):
        return material.stiffness_bound(kinematics=kinematics)
    return material.stiffness_bound()


#: what a mesh of each kinematics needs, said in fem's own terms (where a law comes from, fitted or
#: classical, is not fem's business)
_NEEDS = {
    "uniaxial": "a 1D mesh needs a uniaxial law (nominal stress vs du/dX = stretch - 1)",
    "plane_strain": "a 2D mesh needs a plane-strain or a finite-strain law (F in, P out): fit or choose one of those",
    "3d": "a 3D mesh needs a 3D or a finite-strain law (F in, P out): fit or choose one of those",
}


def check_material(material, kinematics: str) -> None:
    """FemError unless ``material`` has ``stress``/``stiffness_bound`` and supports the mesh's ``kinematics``.

    ``material.kinematics`` may be one string or a tuple of those the law supports. A finite-strain
    material (``finite_strain = True``) runs in plane strain and 3D only: a 1D bar is already exact at
    any stretch with a uniaxial (nominal stress vs du/dX) law. The message names the material's
    kinematics and the mesh's.
    """
    missing = [a for a in ("stress", "stiffness_bound", "kinematics") if not hasattr(material, a)]
    if missing:
        raise FemError(f"{type(material).__name__} is not a fem material: missing {missing} "
                       f"(see fem.materials.protocol.Material)")
    supported = supported_kinematics(material)
    shown = supported[0] if len(supported) == 1 else supported
    if is_finite_strain(material) and kinematics == "uniaxial":
        raise FemError(f"{type(material).__name__} is a finite-strain law (F in, P out) and runs on plane-strain "
                       "or 3D meshes; a 1D bar is exact at any stretch with a uniaxial law (nominal stress vs "
                       "du/dX = stretch - 1)")
    if kinematics not in supported:
        raise FemError(f"kinematics mismatch: material's {shown!r} vs mesh's {kinematics!r} "
                       f"({_NEEDS.get(kinematics, f'the mesh needs a {kinematics!r} law')})")
