"""Empirical *lower* bound of a network's Lipschitz constant: the largest Jacobian norm one can find.

For a differentiable (or piecewise-differentiable) ``f``, Lip(f) = sup_x ‖J(x)‖₂, so every ‖J(x)‖₂
evaluated is a lower bound. :func:`empirical_lipschitz` evaluates it at the given points, then refines
the best ones by gradient ascent on ‖J(x)‖₂ (an adversarial search). Reports put it next to the
certificate: ``empirical ≤ true ≤ certified``; their ratio measures how loose the certificate is.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass

import torch
from torch import nn

from lipmat.errors import LipmatError
from lipmat.lipschitz._checks import check_count, check_positive


@dataclass
class EmpiricalBound:
    """Result of :func:`empirical_lipschitz`.

    value: largest ‖J(x)‖₂ found (a lower bound of the Lipschitz constant).
    x: (d,) the point where it was found.
    sampled: the largest ‖J‖₂ over the given inputs alone, before the ascent.
    """
    value: float
    x: torch.Tensor
    sampled: float


@contextlib.contextmanager
def eval_mode(model: nn.Module):
    """Put every submodule in eval mode inside the block; restore each one's own mode after."""
    modes = [(m, m.training) for m in model.modules()]
    try:
        model.eval()
        yield
    finally:
        for m, mode in modes:
            m.training = mode


def jacobian(model: nn.Module, x: torch.Tensor, *, create_graph: bool = False) -> torch.Tensor:
    """Jacobians of a row-wise ``model`` at each row: x (m, d) -> (m, p, d); outputs (m,) count as p = 1."""
    x = x if x.requires_grad else x.detach().requires_grad_(True)
    y = model(x)
    y = y.unsqueeze(-1) if y.dim() == 1 else y
    if y.dim() != 2 or y.shape[0] != x.shape[0]:
        raise LipmatError(f"jacobian: expected the model to map (m, d) to (m, p) or (m,), received output "
                          f"shape {tuple(y.shape)} for input shape {tuple(x.shape)}")
    rows = [torch.autograd.grad(y[:, j].sum(), x, create_graph=create_graph, retain_graph=True)[0]
            for j in range(y.shape[1])]
    return torch.stack(rows, dim=1)


def empirical_lipschitz(model: nn.Module, inputs: torch.Tensor, *, steps: int = 50, lr: float = 0.02,
                        starts: int = 16) -> EmpiricalBound:
    """Largest ‖J(x)‖₂ over ``inputs`` (m, d), refined by ``steps`` Adam steps of gradient ascent.

    Args:
        model: maps a batch (m, d) to (m, p) or (m,), row by row; evaluated in eval mode.
        inputs: (m, d) sample points (e.g. the training inputs).
        steps: ascent steps (0: sampling only).
        lr: Adam step size as a fraction of the inputs' spread (mean per-dimension std; 1 if zero).
        starts: how many of the best sample points are refined.

    The ascent maximises ‖J(x) v‖ with v the top right singular vector of J(x) held fixed in each step;
    its gradient is that of ‖J(x)‖₂ where the top singular value is simple (no SVD derivative is taken,
    so repeated singular values cannot produce NaN). For piecewise-linear networks (ReLU, GroupSort) J
    is piecewise constant and has no gradient; there the points take random steps of size ``lr`` × spread
    instead, and the sampling carries most of the bound.
    """
    if not isinstance(inputs, torch.Tensor) or inputs.dim() != 2 or inputs.shape[0] == 0:
        shape = tuple(inputs.shape) if isinstance(inputs, torch.Tensor) else type(inputs).__name__
        raise LipmatError(f"empirical_lipschitz(inputs): expected a tensor of shape (m, d) with m >= 1, "
                          f"received {shape}")
    steps = check_count(steps, "empirical_lipschitz(steps)", minimum=0)
    starts = check_count(starts, "empirical_lipschitz(starts)", minimum=1)
    lr = check_positive(lr, "empirical_lipschitz(lr)")
    with eval_mode(model):
        norms = torch.linalg.matrix_norm(jacobian(model, inputs).detach(), 2)
        best = int(norms.argmax())
        sampled, best_x = float(norms[best]), inputs[best].detach().clone()
        value = sampled
        if steps:
            value, best_x = _ascend(model, inputs, norms, steps, lr, starts, value, best_x)
    return EmpiricalBound(value=value, x=best_x, sampled=sampled)


def _ascend(model, inputs, norms, steps, lr, starts, value, best_x):
    spread = float(inputs.std(dim=0).mean()) if inputs.shape[0] > 1 else 0.0
    scale = spread if spread > 0 else 1.0
    top = norms.topk(min(starts, norms.numel())).indices
    x = inputs[top].detach().clone().requires_grad_(True)
    optimizer = torch.optim.Adam([x], lr=lr * scale)
    for _ in range(steps):
        jac = jacobian(model, x, create_graph=True)
        with torch.no_grad():
            _, sigma, vh = torch.linalg.svd(jac, full_matrices=False)
        current = sigma[:, 0]
        i = int(current.argmax())
        if float(current[i]) > value:
            value, best_x = float(current[i]), x[i].detach().clone()
        objective = torch.linalg.vector_norm(jac @ vh[:, 0, :].unsqueeze(-1), dim=(1, 2)).sum()
        (grad,) = torch.autograd.grad(objective, x, allow_unused=True)
        if grad is None or not bool(grad.any()):
            # Piecewise-linear nets (ReLU, GroupSort): J is locally constant, so walk at random.
            with torch.no_grad():
                x.add_(torch.randn_like(x), alpha=lr * scale)
            continue
        optimizer.zero_grad()
        x.grad = -torch.nan_to_num(grad)
        optimizer.step()
    final = torch.linalg.matrix_norm(jacobian(model, x.detach()).detach(), 2)
    i = int(final.argmax())
    if float(final[i]) > value:
        value, best_x = float(final[i]), x[i].detach().clone()
    return value, best_x
