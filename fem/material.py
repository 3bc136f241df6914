"""What fem needs from a material, and classical materials.

fem talks to every material, classical or learned, through :class:`Material`. Strain and stress are
Mandel vectors (see :mod:`fem.mandel`) of length n = 1 (``"uniaxial"``), 3 (``"plane_strain"``) or
6 (``"3d"``).

Protocol
--------
``kinematics``         str, one of ``"uniaxial" | "plane_strain" | "3d"``; must match the mesh.
``stress(strain)``     (..., n) -> (..., n). Called once per time step with every quadrature point of
                       the mesh batched, shape (n_cells, n_qp, n).
``stiffness_bound()``  the certificate: a symmetric (n, n) tensor ``C_b`` with ``C(e) ⪯ C_b`` for every
                       strain ``e`` (needs a symmetric tangent), or a float ``L ≥ sup_e ‖C(e)‖₂``.
``energy(strain)``     optional, (..., n) -> (...): strain-energy density with ``stress = ∇energy``.
``linear_stiffness()`` optional, returns the constant (n, n) tangent of a *linear* material (or None);
                       the solver then uses one sparse K @ u per step instead of the material call.
"""
from __future__ import annotations

from typing import Protocol, Union, runtime_checkable

import torch

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

    Raises ValueError for a matrix of the wrong shape, a non-symmetric matrix or a negative/NaN L.
    """
    if isinstance(bound, torch.Tensor) and bound.ndim == 2:
        if bound.shape != (n, n):
            raise ValueError(f"stiffness bound must be ({n}, {n}), got {tuple(bound.shape)}")
        c = bound.to(dtype=dtype, device=device)
        if not torch.allclose(c, c.T, rtol=1e-12, atol=1e-12 * float(c.abs().max())):
            raise ValueError("stiffness bound matrix must be symmetric (a Loewner bound needs a symmetric C_b)")
        return c
    lip = float(bound)
    if not lip >= 0.0 or lip != lip:
        raise ValueError(f"scalar stiffness bound L must be a finite number >= 0, got {bound!r}")
    return lip * torch.eye(n, dtype=dtype, device=device)
