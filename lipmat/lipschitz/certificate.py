"""Certified Lipschitz constant (Euclidean norms in and out) of a network built from known parts.

The bound composes exact facts: Lip(g∘f) ≤ Lip(g)·Lip(f), Lip(x + b(x)) ≤ 1 + Lip(b), Lip(c·x) = |c|,
Lip(x ↦ Wx + b) = ‖W‖₂ (exact SVD of the effective weight, :func:`exact_norm`), and the declared
constants of activations (:data:`ACTIVATION_CONSTANTS`). It certifies the function the model computes
in **eval mode** (spectral-normalisation vectors frozen). The traversal:

1. a module with a ``lipschitz_bound()`` method: that method's value is used (models define it to
   certify themselves; the method may call :func:`lipschitz_bound` on its own submodules, never on
   ``self``);
2. ``nn.Sequential``: the product over its children (empty: 1);
3. ``nn.Linear`` (any weight parametrization): :func:`exact_norm`;
4. :class:`Residual`: 1 + the branch's bound; :class:`Scale`: |c|; ``nn.Dropout``: 1 (identity in eval);
5. a known activation: its constant.

Anything else raises :class:`~lipmat.errors.CertificateError` naming the module's path and type —
the certificate never guesses.
"""
from __future__ import annotations

import math

from torch import nn

from lipmat.errors import CertificateError
from lipmat.lipschitz.activations import ACTIVATION_CONSTANTS, activation_constant
from lipmat.lipschitz.blocks import Residual, Scale
from lipmat.lipschitz.norms import exact_norm

_DROPOUT = (nn.Dropout, nn.AlphaDropout)


def lipschitz_bound(model: nn.Module) -> float:
    """Certified upper bound of sup ‖f(x) − f(y)‖₂ / ‖x − y‖₂ for ``model`` in eval mode (a float).

    Raises CertificateError naming the first module (dotted path and type) it cannot certify.
    """
    return _bound(model, type(model).__name__)


def _bound(module: nn.Module, path: str) -> float:
    method = getattr(module, "lipschitz_bound", None)
    if callable(method):
        try:
            value = float(method())
        except CertificateError as exc:
            raise CertificateError(f"{path} ({type(module).__name__}).lipschitz_bound(): {exc}") from exc
        if not (math.isfinite(value) and value >= 0):
            raise CertificateError(f"{path} ({type(module).__name__}).lipschitz_bound(): expected a finite "
                                   f"number >= 0, received {value!r}")
        return value
    if isinstance(module, nn.Sequential):
        bound = 1.0
        for name, child in module.named_children():
            bound *= _bound(child, f"{path}.{name}")
        return bound
    if isinstance(module, nn.Linear):
        return exact_norm(module)
    if isinstance(module, Residual):
        return 1.0 + _bound(module.branch, f"{path}.branch")
    if isinstance(module, Scale):
        return abs(module.c)
    if isinstance(module, _DROPOUT):
        return 1.0
    try:
        constant = activation_constant(module)
    except CertificateError as exc:
        raise CertificateError(f"{path}: {exc}") from exc
    if constant is not None:
        return constant
    raise CertificateError(
        f"cannot certify module {path} ({type(module).__name__}): expected nn.Sequential, nn.Linear, "
        f"Residual, Scale, an activation among {', '.join(sorted(t.__name__ for t in ACTIVATION_CONSTANTS))}, "
        f"GroupSort, MaxMin, or a module defining lipschitz_bound(); received {type(module).__name__}"
    )
