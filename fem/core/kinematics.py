"""Closed-form kinematics of small matrices: determinant, cofactor, J = det(I + H), principal stretches.

Every function takes a batch of d × d matrices, shape (..., d, d) with d in (1, 2, 3), and works on
views of its entries, so it runs on any device, in any float dtype, and autograd differentiates it.
The closed forms replace ``torch.linalg.det`` (a batched LU, about ten times slower for 2×2 and 3×3
blocks, and not defined for a batch of 1×1 on every backend) on the paths that run every step: the
inversion check of the total-Lagrangian solver and the finite-strain laws' J.

The assembly, the finite-strain laws and their certified domain all read J and the stretches from
here, so there is one formula to trust.
"""
from __future__ import annotations

import torch

from fem.core.errors import FemError

__all__ = ["cofactor", "determinant", "volume_ratio", "principal_stretches"]


def _entries(M: torch.Tensor) -> list[list[torch.Tensor]]:
    """(..., d, d) -> nested lists of (...) views M[..., i, j] (``unbind``: two Python calls per row
    rather than one indexing call per entry, which is what a small mesh's step pays for)."""
    return [list(row.unbind(-1)) for row in M.unbind(-2)]


def _det_of_entries(a) -> torch.Tensor:
    """det of a d × d matrix given as nested lists of (...) tensors a[i][j], d ≤ 3 (Laplace expansion
    along the first row; one formula for :func:`determinant` and :func:`volume_ratio`)."""
    if len(a) == 1:
        return a[0][0]
    if len(a) == 2:
        return a[0][0] * a[1][1] - a[0][1] * a[1][0]
    return (a[0][0] * (a[1][1] * a[2][2] - a[1][2] * a[2][1])
            - a[0][1] * (a[1][0] * a[2][2] - a[1][2] * a[2][0])
            + a[0][2] * (a[1][0] * a[2][1] - a[1][1] * a[2][0]))


def _size(M: torch.Tensor, where: str) -> int:
    if M.ndim < 2 or M.shape[-1] != M.shape[-2] or M.shape[-1] not in (1, 2, 3):
        raise FemError(f"{where}: expected a tensor of shape (..., d, d) with d in (1, 2, 3), "
                         f"received {tuple(M.shape)}")
    return M.shape[-1]


def cofactor(F: torch.Tensor) -> torch.Tensor:
    """(..., d, d) -> (..., d, d) cof F = (det F) F⁻ᵀ, without inversion (defined for singular F too).

    d = 3: the columns are cross products of the columns of F; d = 2: ``[[F11, −F10], [−F01, F00]]``;
    d = 1: 1.
    """
    d = _size(F, "cofactor")
    if d == 1:
        return torch.ones_like(F)
    if d == 2:
        return torch.stack([torch.stack([F[..., 1, 1], -F[..., 1, 0]], -1),
                            torch.stack([-F[..., 0, 1], F[..., 0, 0]], -1)], -2)
    c0, c1, c2 = F[..., :, 0], F[..., :, 1], F[..., :, 2]
    return torch.stack([torch.linalg.cross(c1, c2), torch.linalg.cross(c2, c0), torch.linalg.cross(c0, c1)], -1)


def determinant(F: torch.Tensor, cof: torch.Tensor | None = None) -> torch.Tensor:
    """(..., d, d) -> (...) det F in closed form, d in (1, 2, 3).

    cof : optional (..., d, d) :func:`cofactor` of F, already formed by the caller; in 3D J is then its
    first column dotted with F's (three products instead of nine).
    """
    d = _size(F, "determinant")
    if cof is not None and d == 3:
        return (F[..., :, 0] * cof[..., :, 0]).sum(-1)
    return _det_of_entries(_entries(F))


def volume_ratio(H: torch.Tensor) -> torch.Tensor:
    """(..., d, d) displacement gradients H = ∂u/∂X -> (...) J = det(I + H), in closed form.

    F = I + H is never formed: only its d diagonal entries are (one temporary each), the rest are
    views of H. This is the per-step inversion check of the total-Lagrangian solver.
    """
    d = _size(H, "volume_ratio")
    a = _entries(H)
    for i in range(d):
        a[i][i] = a[i][i] + 1.0
    return _det_of_entries(a)


def principal_stretches(F: torch.Tensor, C: torch.Tensor | None = None) -> torch.Tensor:
    """(..., d, d) -> (..., d) principal stretches (singular values of F) in ascending order.

    Exact: the square roots of the eigenvalues of C = FᵀF (``eigvalsh``, clamped at 0 against
    rounding). C : optional (..., d, d) FᵀF already formed by the caller.
    """
    _size(F, "principal_stretches")
    C = F.transpose(-1, -2) @ F if C is None else C
    return torch.linalg.eigvalsh(C).clamp_min(0.0).sqrt()
