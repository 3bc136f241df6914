"""Building blocks whose Lipschitz constants the certificate knows: residual blocks and constant scalings."""
from __future__ import annotations

import math

import torch
from torch import nn

from lipmat.errors import LipmatError


class Residual(nn.Module):
    """``x + branch(x)``: (..., n) -> (..., n); Lipschitz constant ≤ 1 + Lip(branch)."""

    def __init__(self, branch: nn.Module) -> None:
        super().__init__()
        if not isinstance(branch, nn.Module):
            raise LipmatError(f"Residual(branch): expected an nn.Module, received {type(branch).__name__}")
        self.branch = branch

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.branch(x)


class Scale(nn.Module):
    """Multiply by a fixed constant ``c``: (...) -> (...); Lipschitz constant |c|."""

    def __init__(self, c: float) -> None:
        super().__init__()
        if isinstance(c, bool) or not isinstance(c, (int, float)) or not math.isfinite(c):
            raise LipmatError(f"Scale(c): expected a finite number, received {c!r}")
        self.c = float(c)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.c

    def extra_repr(self) -> str:
        return f"c={self.c}"
