"""Spectral normalisation of ``nn.Linear`` as a torch parametrization.

The layer's stored weight ``W`` (``module.parametrizations.weight.original``) is replaced in every
forward by the *effective* weight

    W_eff = c · W / σ̂,      σ̂ = uᵀ W v,

where ``u``, ``v`` are power-iteration estimates of the top singular vectors of ``W`` and ``c`` is the
target constant ``k`` (or ``k·sigmoid(s)`` with a learnable ``s``, see ``learnable_scale``).

What this guarantees, and what not:

- ``σ̂ = uᵀWv ≤ σ(W)`` for unit ``u``, ``v`` (Cauchy–Schwarz), so ``‖W_eff‖₂ = c·σ/σ̂ ≥ c``: power
  iteration approaches σ from *below* and the normalised layer is slightly *above* its target until it
  converges. The estimate is therefore never used as a certificate; :func:`lipmat.lipschitz.exact_norm`
  takes the SVD of ``W_eff``.
- In training mode each forward runs ``n_power_iterations`` steps under ``no_grad`` and updates the
  ``_u``, ``_v`` buffers; the gradient flows through ``σ̂ = uᵀWv`` with ``u``, ``v`` held constant,
  which is the exact gradient of σ once the iteration has converged (∂σ/∂W = u vᵀ).
- In eval mode ``u``, ``v`` are frozen: the forward is a deterministic function of the weights, the
  function :func:`lipmat.lipschitz.lipschitz_bound` certifies.
- ``_u`` and ``_v`` are persistent buffers: saved in ``state_dict``, moved by ``.to()``.
"""
from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn.utils import parametrize

from lipmat.errors import LipmatError
from lipmat.lipschitz._checks import check_count, check_linear, check_positive

#: Initial value of sigmoid(s) for a learnable scale: the layer starts at 0.9·k.
SCALE_INIT_FRACTION = 0.9


def power_iteration(weight: torch.Tensor, u: torch.Tensor, v: torch.Tensor, n: int, eps: float) -> None:
    """Run ``n`` power-iteration steps on ``weight`` (out, in), updating ``u`` (out,), ``v`` (in,) in place.

    Call under ``torch.no_grad()``. Each step is ``v ← Wᵀu/‖Wᵀu‖``, ``u ← Wv/‖Wv‖``; the error of
    ``uᵀWv`` against σ shrinks like ``(σ₂/σ₁)^(2n)``.
    """
    for _ in range(n):
        v.copy_(nn.functional.normalize(weight.mT @ u, dim=0, eps=eps))
        u.copy_(nn.functional.normalize(weight @ v, dim=0, eps=eps))


class SpectralNorm(nn.Module):
    """The parametrization ``W -> c · W / (uᵀWv)`` for a weight of shape (out, in).

    Built by :func:`spectral_norm`; use that. Attributes: ``k`` (target constant),
    ``n_power_iterations``, ``eps``, buffers ``_u`` (out,) and ``_v`` (in,), and with a learnable
    scale the parameter ``scale_logit`` (a scalar ``s``, scale ``k·sigmoid(s)``).
    """

    def __init__(self, weight: torch.Tensor, k: float, n_power_iterations: int, warmup: int,
                 eps: float, learnable_scale: bool) -> None:
        super().__init__()
        self.k = k
        self.n_power_iterations = n_power_iterations
        self.eps = eps
        out_features, in_features = weight.shape
        w = weight.detach()
        u = nn.functional.normalize(w.new_empty(out_features).normal_(), dim=0, eps=eps)
        v = nn.functional.normalize(w.new_empty(in_features).normal_(), dim=0, eps=eps)
        self.register_buffer("_u", u)
        self.register_buffer("_v", v)
        with torch.no_grad():
            power_iteration(w, self._u, self._v, warmup, eps)
        if learnable_scale:
            logit = math.log(SCALE_INIT_FRACTION / (1.0 - SCALE_INIT_FRACTION))
            self.scale_logit = nn.Parameter(w.new_tensor(logit))
        else:
            self.scale_logit = None

    def scale(self) -> torch.Tensor:
        """The factor ``c`` the normalised weight is scaled to: ``k`` or ``k·sigmoid(s)`` (scalar tensor)."""
        if self.scale_logit is None:
            return self._u.new_tensor(self.k)
        return self.k * torch.sigmoid(self.scale_logit)

    def sigma_estimate(self, weight: torch.Tensor) -> torch.Tensor:
        """The power-iteration estimate ``uᵀWv`` (scalar, ≤ σ(W)) with the current, frozen ``u``, ``v``."""
        return torch.dot(self._u, weight @ self._v)

    def forward(self, weight: torch.Tensor) -> torch.Tensor:
        """(out, in) stored weight -> (out, in) effective weight ``c·W/σ̂``."""
        if self.training:
            with torch.no_grad():
                power_iteration(weight, self._u, self._v, self.n_power_iterations, self.eps)
        # The buffers are updated in place by the next training forward. Autograd keeps references to
        # the u, v used here until backward runs, so two forwards before one backward (gradient
        # accumulation, a penalty evaluated twice) would otherwise fail with "modified by an inplace
        # operation" — or, worse, differentiate with vectors the forward did not use. Clone them.
        u = self._u.clone(memory_format=torch.contiguous_format)
        v = self._v.clone(memory_format=torch.contiguous_format)
        sigma = torch.dot(u, weight @ v)
        return weight * (self.scale() / sigma)

    def extra_repr(self) -> str:
        learnable = self.scale_logit is not None
        return f"k={self.k}, n_power_iterations={self.n_power_iterations}, learnable_scale={learnable}"


def spectral_norm(module: nn.Linear, k: float = 1.0, n_power_iterations: int = 1, *, warmup: int = 15,
                  eps: float = 1e-12, learnable_scale: bool = False) -> nn.Linear:
    """Spectrally normalise ``module.weight`` (out, in) in place and return ``module``.

    Args:
        module: an ``nn.Linear``; its forward keeps shapes (..., in) -> (..., out).
        k: target constant, > 0: the effective weight is ``k·W/σ̂`` (≥ k exactly, → k as σ̂ → σ).
        n_power_iterations: power-iteration steps per training forward, ≥ 1.
        warmup: steps run once now, ≥ 0, so the first forward is already close to the target.
        eps: floor of the vector norms in the normalisations, > 0.
        learnable_scale: when True the scale is ``k·sigmoid(s)`` with a trained scalar ``s``
            (started at sigmoid(s) = 0.9), so each layer may shrink below ``k`` but never exceed it
            (beyond the power-iteration excess). Certification needs nothing special: the exact
            norm of the effective weight already contains the scale's current value.

    Raises:
        LipmatError: (a ValueError) naming the bad argument, what was expected and what was received.

    Example (the power-iteration estimate is below σ, so W_eff is above k; float64, seed 0)::

        >>> layer = spectral_norm(nn.Linear(64, 64), k=1.0, warmup=1)
        >>> power_estimate(layer), exact_norm(layer)       # estimate of σ(W) = 1.1012; certified norm
        (1.0209..., 1.0786...)
    """
    check_linear(module, "spectral_norm(module)")
    k = check_positive(k, "spectral_norm(k)")
    n_power_iterations = check_count(n_power_iterations, "spectral_norm(n_power_iterations)", minimum=1)
    warmup = check_count(warmup, "spectral_norm(warmup)", minimum=0)
    eps = check_positive(eps, "spectral_norm(eps)")
    if not isinstance(learnable_scale, bool):
        raise LipmatError(f"spectral_norm(learnable_scale): expected a bool, received {learnable_scale!r}")
    param = SpectralNorm(module.weight, k, n_power_iterations, warmup, eps, learnable_scale)
    parametrize.register_parametrization(module, "weight", param)
    return module


def spectral_parametrization(module: nn.Module) -> SpectralNorm | None:
    """The :class:`SpectralNorm` registered on ``module.weight``, or None."""
    if not parametrize.is_parametrized(module, "weight"):
        return None
    for p in module.parametrizations.weight:
        if isinstance(p, SpectralNorm):
            return p
    return None


def refine_estimates(model: nn.Module, n_iterations: int = 500) -> nn.Module:
    """Run ``n_iterations`` power-iteration steps on every spectrally normalised layer of ``model``.

    Training equalises the top singular values of normalised weights (measured: σ₂/σ₁ ≈ 0.95–0.99
    after a few dozen Adam steps), so one or five steps per forward can leave ‖W_eff‖₂ a few per cent
    above k. Call this after training (and before certifying or saving): it changes the eval-mode
    function so that ‖W_eff‖₂ → k. Returns ``model``.
    """
    n_iterations = check_count(n_iterations, "refine_estimates(n_iterations)", minimum=1)
    with torch.no_grad():
        for module in model.modules():
            if not parametrize.is_parametrized(module, "weight"):
                continue
            weight = module.parametrizations.weight.original
            for param in module.parametrizations.weight:
                if isinstance(param, SpectralNorm):
                    power_iteration(weight, param._u, param._v, n_iterations, param.eps)
                mode, param.training = param.training, False
                weight = param(weight)
                param.training = mode
    return model
