"""Small helpers shared by the model modules (shape checks, the stress alias)."""
from __future__ import annotations

import torch

from lipmat.errors import LipmatError


def check_strain(strain, n: int, where: str) -> torch.Tensor:
    """Return ``strain`` if it is a floating tensor of shape (..., n); else LipmatError naming ``where``."""
    if not isinstance(strain, torch.Tensor):
        raise LipmatError(f"{where}: expected a torch tensor of shape (..., {n}), received {type(strain).__name__}")
    if strain.dim() == 0 or strain.shape[-1] != n:
        raise LipmatError(f"{where}: expected strain of shape (..., {n}) (Mandel), received {tuple(strain.shape)}")
    if not strain.is_floating_point():
        raise LipmatError(f"{where}: expected a floating-point strain tensor, received dtype {strain.dtype}")
    return strain


class StressAlias:
    """Mixin: ``stress(strain)`` is the module call (hooks included), as the fem protocol expects."""

    def stress(self, strain: torch.Tensor) -> torch.Tensor:
        """(..., n) -> (..., n): the same as calling the model."""
        return self(strain)
