"""Mandel notation: strain/stress tensors as vectors whose Euclidean norm is the Frobenius norm.

Orderings (the only ones used anywhere in lipmat and fem):

- ``"uniaxial"``     n = 1: ``[e]``
- ``"plane_strain"`` n = 3: ``[e11, e22, √2 e12]``
- ``"3d"``           n = 6: ``[e11, e22, e33, √2 e23, √2 e13, √2 e12]``

With these, ``s·e`` is the work density and ``‖e‖₂ = ‖ε‖_F``, so a stiffness certificate on the
Mandel tangent is a certificate on the tensor tangent. Conversions happen at the edges (CSV input,
user output) only.
"""
from __future__ import annotations

import math

import torch

#: the kinematics names; their Mandel vectors have 1, 3 and 6 components
KINEMATICS = ("uniaxial", "plane_strain", "3d")
SIZE = {"uniaxial": 1, "plane_strain": 3, "3d": 6}
#: Spatial dimension of the mesh that goes with each kinematics.
DIM = {"uniaxial": 1, "plane_strain": 2, "3d": 3}
#: The small-strain kinematics of a mesh of each dimension (the inverse of DIM).
KINEMATICS_OF_DIM = {d: k for k, d in DIM.items()}
SQRT2 = math.sqrt(2.0)
# (i, j) tensor index of each Mandel component; components with i != j carry a factor √2.
_PAIRS = {
    "uniaxial": [(0, 0)],
    "plane_strain": [(0, 0), (1, 1), (0, 1)],
    "3d": [(0, 0), (1, 1), (2, 2), (1, 2), (0, 2), (0, 1)],
}


def check_kinematics(kinematics: str) -> str:
    """Return ``kinematics`` if it is one of :data:`KINEMATICS`, else raise ValueError naming both."""
    if kinematics not in SIZE:
        raise ValueError(f"kinematics must be one of {KINEMATICS}, got {kinematics!r}")
    return kinematics


def size(kinematics: str) -> int:
    """Length n of a Mandel vector for ``kinematics`` (1, 3 or 6)."""
    return SIZE[check_kinematics(kinematics)]


def from_tensor(t: torch.Tensor, kinematics: str) -> torch.Tensor:
    """Symmetric tensors (..., d, d) -> Mandel vectors (..., n); d = 1, 2 or 3 as kinematics."""
    pairs = _PAIRS[check_kinematics(kinematics)]
    cols = [t[..., i, j] * (SQRT2 if i != j else 1.0) for i, j in pairs]
    return torch.stack(cols, dim=-1)


def to_tensor(v: torch.Tensor, kinematics: str) -> torch.Tensor:
    """Mandel vectors (..., n) -> symmetric tensors (..., d, d)."""
    kin = check_kinematics(kinematics)
    d = DIM[kin]
    out = v.new_zeros(v.shape[:-1] + (d, d))
    for k, (i, j) in enumerate(_PAIRS[kin]):
        if i == j:
            out[..., i, i] = v[..., k]
        else:
            out[..., i, j] = v[..., k] / SQRT2
            out[..., j, i] = v[..., k] / SQRT2
    return out


def identity(kinematics: str, dtype=None, device=None) -> torch.Tensor:
    """(n,) Mandel vector of the 3D identity tensor restricted to the kinematics' components.

    For plane strain this is ``[1, 1, 0]``: the out-of-plane strain is zero by assumption, so
    ``tr ε = e11 + e22``.
    """
    kin = check_kinematics(kinematics)
    return torch.tensor([1.0 if i == j else 0.0 for i, j in _PAIRS[kin]], dtype=dtype, device=device)


def projectors(kinematics: str, dtype=None, device=None) -> tuple[torch.Tensor, torch.Tensor]:
    """(n, n) volumetric and deviatoric projectors ``P_vol = I⊗I/3``, ``P_dev = Id − P_vol``.

    They are those of 3D space restricted to the kinematics' components (plane strain: ε33 = 0, so
    ``tr ε = e11 + e22`` and ``dev`` is taken in 3D). Linear elasticity is ``C = 3K P_vol + 2G P_dev``.
    Both are symmetric and positive semi-definite in every kinematics, so
    ``C_b = 3K_max P_vol + 2G_max P_dev`` is a Loewner bound whenever ``K ≤ K_max`` and ``G ≤ G_max``.
    For ``"uniaxial"`` these are 1×1 and not used by the 1D models (which certify dσ/dε directly).
    """
    n = size(kinematics)
    i = identity(kinematics, dtype=dtype, device=device)
    p_vol = torch.outer(i, i) / 3.0
    p_dev = torch.eye(n, dtype=p_vol.dtype, device=device) - p_vol
    return p_vol, p_dev
