"""1-Lipschitz sorting activations and the Lipschitz constants of common activations.

``GroupSort`` and ``MaxMin`` permute their input (which permutation depends on the input), so they are
1-Lipschitz in the Euclidean norm *and* preserve gradient norms: a product-of-norms bound of a
GroupSort network can be nearly tight, whereas a tanh network loses slope wherever tanh' < 1.
"""
from __future__ import annotations

import torch
from torch import nn

from lipmat.errors import CertificateError, LipmatError
from lipmat.lipschitz._checks import check_count


class GroupSort(nn.Module):
    """Sort the features in consecutive groups of ``group_size``: (..., n) -> (..., n), n % group_size == 0.

    ``group_size=2`` sorts pairs (the MaxMin of Anil et al. 2019 up to a fixed permutation);
    ``group_size=n`` is FullSort. Lipschitz constant 1.
    """

    lipschitz_constant = 1.0

    def __init__(self, group_size: int = 2) -> None:
        super().__init__()
        self.group_size = check_count(group_size, "GroupSort(group_size)", minimum=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n = x.shape[-1]
        if n % self.group_size:
            raise LipmatError(f"GroupSort: expected a last dimension divisible by group_size="
                              f"{self.group_size}, received shape {tuple(x.shape)}")
        grouped = x.reshape(*x.shape[:-1], n // self.group_size, self.group_size)
        return grouped.sort(dim=-1, descending=True).values.reshape(x.shape)

    def extra_repr(self) -> str:
        return f"group_size={self.group_size}"


class MaxMin(nn.Module):
    """Split the features in halves a, b and return [max(a, b), min(a, b)]: (..., 2m) -> (..., 2m).

    Lipschitz constant 1.
    """

    lipschitz_constant = 1.0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n = x.shape[-1]
        if n % 2:
            raise LipmatError(f"MaxMin: expected an even last dimension, received shape {tuple(x.shape)}")
        a, b = x[..., : n // 2], x[..., n // 2:]
        return torch.cat([torch.maximum(a, b), torch.minimum(a, b)], dim=-1)


def _leaky_relu(m: nn.LeakyReLU) -> float:
    return max(1.0, abs(m.negative_slope))


def _elu(m: nn.ELU) -> float:          # derivative alpha·e^x < alpha for x < 0, 1 for x > 0
    return max(1.0, abs(m.alpha))


def _gelu(m: nn.GELU) -> float:
    if m.approximate != "none":
        raise CertificateError(f"GELU(approximate={m.approximate!r}): expected approximate='none' "
                               f"(the exact form has a proven constant), received {m.approximate!r}")
    return 1.129      # max of Φ(x) + xφ(x) at x = √2: 1.12890..., rounded up


# Constants for the sup of |f'| over the real line (rounded up where not exact). Softplus: torch
# switches to the identity above beta·x = threshold, a jump of about e^-threshold/beta (2e-9 at the
# default) which no Lipschitz constant covers; the constant 1 holds on either side of it.
#: activation name -> sup of |f'| over the real line (its Lipschitz constant, rounded up where not exact)
ACTIVATION_CONSTANTS = {
    nn.Identity: 1.0,
    nn.ReLU: 1.0,
    nn.ReLU6: 1.0,
    nn.Tanh: 1.0,
    nn.Hardtanh: 1.0,
    nn.Softplus: 1.0,
    nn.CELU: 1.0,          # derivative e^(x/alpha) ≤ 1 for x < 0
    nn.Softsign: 1.0,
    nn.Sigmoid: 0.25,
    nn.LogSigmoid: 1.0,
    nn.Hardsigmoid: 1.0 / 6.0,
    nn.SiLU: 1.0999,       # max of σ(x)(1 + x(1 − σ(x))), 1.09984... at x ≈ 2.40, rounded up
    nn.SELU: 1.0507009873554805 * 1.6732632423543772 + 1e-12,   # scale·alpha, the x → 0⁻ slope
    nn.GELU: _gelu,
    nn.LeakyReLU: _leaky_relu,
    nn.ELU: _elu,
    nn.Flatten: 1.0,       # a reshape: an isometry
}


def activation_constant(module: nn.Module) -> float | None:
    """Lipschitz constant of an activation module, or None if it is not a known activation.

    Known: the types in :data:`ACTIVATION_CONSTANTS` and any module with a class attribute
    ``lipschitz_constant`` (GroupSort, MaxMin).
    """
    declared = getattr(type(module), "lipschitz_constant", None)
    if declared is not None:
        return float(declared)
    entry = ACTIVATION_CONSTANTS.get(type(module))
    if entry is None:
        return None
    return float(entry(module) if callable(entry) else entry)

