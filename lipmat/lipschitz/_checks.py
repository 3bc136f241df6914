"""Argument checks shared by the Lipschitz toolbox (errors say what was expected and received)."""
from __future__ import annotations

import math

from torch import nn

from lipmat.errors import LipmatError


def check_linear(module, name: str = "module") -> nn.Linear:
    """Return ``module`` if it is an ``nn.Linear``; else raise a LipmatError naming ``name``."""
    if not isinstance(module, nn.Linear):
        raise LipmatError(
            f"{name}: expected an nn.Linear (the toolbox normalises dense layers only), "
            f"received {type(module).__name__}"
        )
    return module


def check_positive(value, name: str, *, allow_zero: bool = False) -> float:
    """Return ``value`` as float if it is a finite number > 0 (>= 0 with ``allow_zero``)."""
    bad_type = isinstance(value, bool) or not isinstance(value, (int, float))
    if bad_type or not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        relation = ">= 0" if allow_zero else "> 0"
        raise LipmatError(f"{name}: expected a finite number {relation}, received {value!r}")
    return float(value)


def check_count(value, name: str, *, minimum: int) -> int:
    """Return ``value`` if it is an int >= ``minimum`` (bools refused)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise LipmatError(f"{name}: expected an integer >= {minimum}, received {value!r}")
    return value
