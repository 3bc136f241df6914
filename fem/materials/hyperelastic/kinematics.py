"""Kinematic quantities of F shared by the finite-strain laws (plane strain: d = 2 with F33 = 1).

All functions take F of shape (..., d, d), d = 2 (plane strain, F the in-plane block, F33 = 1) or
d = 3, and are written with plain tensor operations so autograd differentiates them everywhere.
The determinant and cofactor are fem's one closed form (:mod:`fem.core.kinematics`), re-exported here.
"""
from __future__ import annotations

import torch

from fem.core.errors import FemError
from fem.core.kinematics import cofactor, determinant

__all__ = ["check_F", "cofactor", "determinant", "invariants", "tangent_by_autograd"]


def check_F(F: torch.Tensor, where: str) -> int:
    """d of F (..., d, d), d in (2, 3); FemError naming ``where`` otherwise."""
    if not isinstance(F, torch.Tensor) or F.ndim < 2 or F.shape[-1] != F.shape[-2] or F.shape[-1] not in (2, 3):
        shape = tuple(F.shape) if isinstance(F, torch.Tensor) else type(F).__name__
        raise FemError(f"{where}: expected F of shape (..., d, d) with d = 2 (plane strain) or 3, received {shape}")
    return F.shape[-1]


def invariants(F: torch.Tensor):
    """(..., d, d) -> (I1, I2, J, C, cof), I's and J of shape (...), C = FᵀF and cof F of shape (..., d, d).

    I1 = tr C, I2 = ½(I1² − tr C²), J = det F of the 3D deformation (plane strain: C33 = 1 added).
    """
    C = F.transpose(-1, -2) @ F
    trC = torch.diagonal(C, dim1=-2, dim2=-1).sum(-1)
    trC2 = (C * C).sum((-1, -2))
    if F.shape[-1] == 2:
        trC, trC2 = trC + 1.0, trC2 + 1.0
    cof = cofactor(F)
    J = determinant(F, cof)
    return trC, 0.5 * (trC * trC - trC2), J, C, cof


def tangent_by_autograd(stress, F: torch.Tensor) -> torch.Tensor:
    """A = ∂P/∂F by autograd of ``stress``: (..., d, d) -> (..., d², d²), row-major flattening
    (index i·d + j of F_ij), A[..., a, b] = ∂P_a/∂F_b. No graph is kept."""
    d = F.shape[-1]
    x = F.detach().clone().requires_grad_(True)
    with torch.enable_grad():
        P = stress(x).reshape(*F.shape[:-2], d * d)
        rows = []
        for a in range(d * d):
            (g,) = torch.autograd.grad(P[..., a].sum(), x, retain_graph=a < d * d - 1)
            rows.append(g.reshape(*F.shape[:-2], d * d))
    return torch.stack(rows, -2)
