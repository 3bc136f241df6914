"""Goodness-of-fit numbers for fit reports and comparison tables (numpy in, float out).

All take ``y`` (measured) and ``yhat`` (predicted) of the same shape (any shape; flattened), at least
one element, finite values. A shape mismatch or non-finite value raises LipmatError.
"""
from __future__ import annotations

import numpy as np

from lipmat.errors import LipmatError


def _pair(y, yhat, where: str) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y, dtype=np.float64)
    yhat = np.asarray(yhat, dtype=np.float64)
    if y.shape != yhat.shape:
        raise LipmatError(f"{where}: expected y and yhat of the same shape, received {y.shape} and {yhat.shape}")
    if y.size == 0:
        raise LipmatError(f"{where}: expected at least one value, received an empty array")
    if not (np.isfinite(y).all() and np.isfinite(yhat).all()):
        raise LipmatError(f"{where}: expected finite values, received NaN or inf")
    return y.ravel(), yhat.ravel()


def r2(y, yhat) -> float:
    """Coefficient of determination ``1 − Σ(y − ŷ)² / Σ(y − ȳ)²``.

    1 for a perfect fit, 0 for predicting the mean, negative when worse than the mean. When ``y`` is
    constant the denominator is 0: returns 1.0 if the fit is exact, else −inf.
    """
    y, yhat = _pair(y, yhat, "r2")
    ss_res = float(np.sum((y - yhat) ** 2))
    ss_tot = float(np.sum((y - y.mean()) ** 2))
    if ss_tot == 0.0:
        return 1.0 if ss_res == 0.0 else float("-inf")
    return 1.0 - ss_res / ss_tot


def rmse(y, yhat) -> float:
    """Root-mean-square error ``sqrt(mean((y − ŷ)²))``, in the units of y."""
    y, yhat = _pair(y, yhat, "rmse")
    return float(np.sqrt(np.mean((y - yhat) ** 2)))


def mape(y, yhat) -> float:
    """Mean absolute percentage error ``100 · mean(|y − ŷ| / |y|)`` in percent.

    Points where ``y == 0`` exactly are left out of the mean (a relative error is undefined there; an
    origin point (0, 0) is common in stress–strain files). If every ``y`` is zero, raises LipmatError.
    Near-zero ``y`` is kept and can dominate the result — report RMSE alongside.
    """
    y, yhat = _pair(y, yhat, "mape")
    keep = y != 0.0
    if not keep.any():
        raise LipmatError("mape: every measured value is zero; a percentage error is undefined")
    return float(100.0 * np.mean(np.abs(y[keep] - yhat[keep]) / np.abs(y[keep])))
