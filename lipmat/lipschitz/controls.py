"""Four ways to control a dense layer's Lipschitz constant, interchangeable through one argument.

``apply_control(layer, mode, k)`` puts one control on an ``nn.Linear`` (or on every ``nn.Linear`` inside
a model). Whatever the control, the certificate is the same: :func:`lipmat.lipschitz.exact_norm` of the
weight the layer applies. The controls differ in what they *guarantee* about that number:

``"hard"`` — spectral normalisation, ``W_eff = k·W/σ̂`` (:func:`lipmat.lipschitz.spectral_norm`).
    Guarantees: ‖W_eff‖₂ = k·σ/σ̂ ≥ k, and → k as the power iteration converges. Does not guarantee
    ‖W_eff‖₂ ≤ k (σ̂ ≤ σ): training drives the top singular values together, so the per-forward
    iteration lags (measured: up to 12 % above k after 60 Adam steps with 5 iterations per forward);
    :func:`~lipmat.lipschitz.refine_estimates` after training brings it to k (within ~2e-6 measured).
    Nor does it guarantee that the trained net reaches its bound (the product of norms can be loose).
``"penalty"`` — soft spectral penalty, ``control_penalty`` adds ``strength·relu(σ̂ − k)²`` with
    ``σ̂ = uᵀWv`` from persistent power-iteration vectors, whose gradient is the analytic
    ``2·strength·relu(σ̂ − k)·u vᵀ``. Guarantees nothing by itself: it only pulls σ towards ≤ k as much
    as the loss allows; the certified norm can end anywhere, so read it off ``exact_norm``.
``"clip"`` — WGAN-style elementwise clipping ``|W_ij| ≤ c``, applied in place before every forward
    (a projection, as WGAN does after each optimiser step). Guarantees ‖W‖₂ ≤ ‖W‖_F ≤ c·√(out·in);
    the default ``c = k/√(out·in)`` makes that ≤ k. Does not keep capacity: the bound is reached only
    by rank-one sign patterns, so typical clipped layers sit far below k (a loose, weak layer).
``"frobenius"`` — soft Frobenius penalty ``strength·relu(‖W‖_F − k)²`` (weight decay switched on
    above k; plain weight decay is the optimiser's ``weight_decay``). Guarantees nothing by itself;
    when the penalty is zero, ‖W‖₂ ≤ ‖W‖_F ≤ k, a bound loose by up to √rank.
``"none"`` — records the choice and changes nothing: the certificate is the raw product of norms.

The penalties need the training loop to add ``control_penalty(model)`` to its loss; hard normalisation
and clipping act by themselves.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn.utils import parametrize

from lipmat.errors import LipmatError
from lipmat.lipschitz._checks import check_count, check_positive
from lipmat.lipschitz.spectral import power_iteration, spectral_norm

MODES = ("hard", "penalty", "clip", "frobenius", "none")
_OPTIONS = {
    "hard": {"n_power_iterations": 1, "warmup": 15, "eps": 1e-12, "learnable_scale": False},
    "penalty": {"strength": 1.0, "n_power_iterations": 1, "warmup": 15},
    "clip": {"clip_value": None},
    "frobenius": {"strength": 1.0},
    "none": {},
}


@dataclass
class Control:
    """The control on one layer: ``mode``, target ``k``, and the mode's options."""
    mode: str
    k: float
    strength: float = 0.0
    clip_value: float = math.inf
    n_power_iterations: int = 1


def control_of(module: nn.Module) -> Control | None:
    """The :class:`Control` applied to ``module`` by :func:`apply_control`, or None."""
    return getattr(module, "_lipschitz_control", None)


def apply_control(module: nn.Module, mode: str = "hard", k: float = 1.0, **options) -> nn.Module:
    """Put the control ``mode`` with target ``k`` on ``module`` (an nn.Linear, or every nn.Linear in it).

    Args:
        module: an ``nn.Linear``, or a model: then each ``nn.Linear`` inside gets the same control.
        mode: ``"hard" | "penalty" | "clip" | "frobenius" | "none"`` (see the module docstring).
        k: per-layer target constant, > 0.
        options: per mode — hard: ``n_power_iterations=1, warmup=15, eps=1e-12, learnable_scale=False``;
            penalty: ``strength=1.0, n_power_iterations=1, warmup=15``; clip: ``clip_value=None``
            (None: ``k/√(out·in)``); frobenius: ``strength=1.0``.

    Returns ``module``. Raises LipmatError naming the argument (or layer), expected and received.
    """
    if mode not in MODES:
        raise LipmatError(f"apply_control(mode): expected one of {', '.join(MODES)}, received {mode!r}")
    k = check_positive(k, "apply_control(k)")
    unknown = sorted(set(options) - set(_OPTIONS[mode]))
    if unknown:
        accepted = ", ".join(_OPTIONS[mode]) or "none"
        raise LipmatError(f"apply_control(mode={mode!r}): unknown option(s) {', '.join(unknown)}; "
                          f"expected only: {accepted}")
    opts = {**_OPTIONS[mode], **options}
    layers = [module] if isinstance(module, nn.Linear) else [m for m in module.modules() if isinstance(m, nn.Linear)]
    if not layers:
        raise LipmatError(f"apply_control(module): expected an nn.Linear or a model containing one, "
                          f"received {type(module).__name__} with no nn.Linear inside")
    for layer in layers:
        _apply_one(layer, mode, k, opts)
    return module


def _apply_one(layer: nn.Linear, mode: str, k: float, opts: dict) -> None:
    existing = control_of(layer)
    if existing is not None:
        raise LipmatError(f"apply_control: expected a layer without a control, received "
                          f"{layer!r} which already has mode {existing.mode!r}; build a fresh layer")
    control = Control(mode=mode, k=k)
    if mode == "hard":
        spectral_norm(layer, k, **opts)
    elif mode == "penalty":
        control.strength = check_positive(opts["strength"], "apply_control(strength)", allow_zero=True)
        control.n_power_iterations = check_count(opts["n_power_iterations"],
                                                 "apply_control(n_power_iterations)", minimum=1)
        _add_penalty_vectors(layer, check_count(opts["warmup"], "apply_control(warmup)", minimum=0))
    elif mode == "clip":
        _add_clipping(layer, control, k, opts["clip_value"])
    elif mode == "frobenius":
        control.strength = check_positive(opts["strength"], "apply_control(strength)", allow_zero=True)
    layer._lipschitz_control = control


def _add_penalty_vectors(layer: nn.Linear, warmup: int) -> None:
    weight = layer.weight.detach()
    out_features, in_features = weight.shape
    layer.register_buffer("_penalty_u", nn.functional.normalize(weight.new_empty(out_features).normal_(), dim=0))
    layer.register_buffer("_penalty_v", nn.functional.normalize(weight.new_empty(in_features).normal_(), dim=0))
    with torch.no_grad():
        power_iteration(weight, layer._penalty_u, layer._penalty_v, warmup, 1e-12)


def _add_clipping(layer: nn.Linear, control: Control, k: float, clip_value) -> None:
    if parametrize.is_parametrized(layer, "weight"):
        raise LipmatError(f"apply_control(mode='clip'): expected a plain weight to clip, received "
                          f"{layer!r} whose weight is parametrized")
    out_features, in_features = layer.weight.shape
    if clip_value is None:
        clip_value = k / math.sqrt(out_features * in_features)
    control.clip_value = check_positive(clip_value, "apply_control(clip_value)")
    layer.register_forward_pre_hook(_clip_hook)
    with torch.no_grad():
        layer.weight.clamp_(-control.clip_value, control.clip_value)


def _clip_hook(layer: nn.Linear, args):
    """Project the weight onto |W_ij| ≤ c before the forward; touch it only when needed, so repeated
    forwards between two optimiser steps do not bump the weight's version (autograd would complain)."""
    c = layer._lipschitz_control.clip_value
    with torch.no_grad():
        if layer.weight.abs().max() > c:
            layer.weight.clamp_(-c, c)


def layer_penalty(layer: nn.Linear) -> torch.Tensor | None:
    """The penalty term of one layer under ``"penalty"``/``"frobenius"`` (scalar tensor), else None.

    Under ``"penalty"`` in training mode this first runs ``n_power_iterations`` steps on the layer's
    ``_penalty_u``, ``_penalty_v`` buffers (no_grad); in eval mode they stay frozen.
    """
    control = control_of(layer)
    if control is None or control.mode not in ("penalty", "frobenius"):
        return None
    weight = layer.weight
    if control.mode == "frobenius":
        excess = torch.linalg.matrix_norm(weight, "fro") - control.k
    else:
        if layer.training:
            with torch.no_grad():
                power_iteration(weight, layer._penalty_u, layer._penalty_v, control.n_power_iterations, 1e-12)
        # Cloned for the same reason as in SpectralNorm.forward: the next call updates them in place.
        sigma = torch.dot(layer._penalty_u.clone(), weight @ layer._penalty_v.clone())
        excess = sigma - control.k
    return control.strength * torch.relu(excess) ** 2


def control_penalty(model: nn.Module) -> torch.Tensor:
    """Sum of the penalty terms of all layers of ``model`` under ``"penalty"``/``"frobenius"`` (scalar).

    Zero (a tensor in the model's dtype) when no layer has a penalty control. Add it to the loss.
    """
    terms = [t for t in (layer_penalty(m) for m in model.modules() if isinstance(m, nn.Linear)) if t is not None]
    if terms:
        return torch.stack(terms).sum()
    param = next(model.parameters(), None)
    return torch.zeros((), dtype=param.dtype if param is not None else torch.get_default_dtype())
