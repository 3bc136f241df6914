"""Interval arithmetic on torch tensors (float64), rounded outward: the tool behind certified suprema.

An :class:`Interval` holds two tensors ``lo <= hi`` of one broadcast shape; every operation returns an
interval that contains ``f(x)`` for every ``x`` in the operands (the *inclusion property*), so a
formula evaluated on intervals bounds the formula over a box. Dependency is not tracked: ``x − x`` on
``[0, 1]`` gives ``[−1, 1]``, so bounds tighten only as the boxes shrink (bisection does that).

Rounding (float64, no directed rounding in torch):

- ``+ − × ÷`` are correctly rounded in IEEE 754, so the exact result lies within one ulp of the
  computed one; each result end is moved one ulp outward (``torch.nextafter``).
- ``exp, log, sqrt``, powers and user-supplied monotone functions go through the platform's libm
  (a few ulp); each end is moved outward by the relative margin :data:`FUNCTION_RTOL` (1e-14, about
  45 ulp) and then one more ulp.

So the bounds are proven for real arithmetic up to these documented margins; infinite ends are
allowed where the operation keeps them meaningful (no ``inf − inf``, no ``0 × inf``).
"""
from __future__ import annotations

import math
from typing import Callable, Union

import torch

__all__ = ["Interval", "FUNCTION_RTOL", "hull"]

#: Relative outward margin applied to the ends of exp/log/sqrt/pow/monotone-function results.
FUNCTION_RTOL = 1e-14

Operand = Union["Interval", torch.Tensor, float, int]

_INF = math.inf


def _down(x: torch.Tensor) -> torch.Tensor:
    return torch.nextafter(x, torch.full_like(x, -_INF))


def _up(x: torch.Tensor) -> torch.Tensor:
    return torch.nextafter(x, torch.full_like(x, _INF))


def _widen_down(x: torch.Tensor) -> torch.Tensor:
    """x moved outward (down) by FUNCTION_RTOL relative plus one ulp."""
    return _down(x - FUNCTION_RTOL * x.abs())


def _widen_up(x: torch.Tensor) -> torch.Tensor:
    return _up(x + FUNCTION_RTOL * x.abs())


def _tensor(x, like: torch.Tensor | None = None) -> torch.Tensor:
    if isinstance(x, torch.Tensor):
        return x.to(torch.float64) if x.dtype != torch.float64 else x
    return torch.as_tensor(float(x), dtype=torch.float64, device=None if like is None else like.device)


class Interval:
    """Closed intervals ``[lo, hi]`` elementwise: ``lo``, ``hi`` float64 tensors of one shape (...).

    Construct from tensors or floats (broadcast); ``Interval(x)`` is the point interval ``[x, x]``.
    Raises ValueError when some ``lo > hi`` (or a NaN end) unless ``check=False``.
    Operators accept another Interval, a tensor or a number (a point interval) on either side.
    """

    __slots__ = ("lo", "hi")
    __array_priority__ = 1000          # so tensor ⊕ Interval defers to the Interval's reflected op

    def __init__(self, lo, hi=None, *, check: bool = True) -> None:
        lo_t = _tensor(lo)
        hi_t = lo_t if hi is None else _tensor(hi, lo_t)
        lo_t, hi_t = torch.broadcast_tensors(lo_t, hi_t)
        if check and not bool((lo_t <= hi_t).all()):
            bad = int((~(lo_t <= hi_t)).sum())
            raise ValueError(f"Interval: expected lo <= hi everywhere (no NaN), found {bad} violating entries")
        self.lo, self.hi = lo_t, hi_t

    # -- basic properties -------------------------------------------------------------------
    @property
    def shape(self) -> torch.Size:
        return self.lo.shape

    @property
    def mid(self) -> torch.Tensor:
        """(...) midpoints (rounded to nearest: a point of the interval, not a bound)."""
        return 0.5 * self.lo + 0.5 * self.hi

    @property
    def rad(self) -> torch.Tensor:
        """(...) a radius r with [mid − r, mid + r] ⊇ [lo, hi] (rounded up)."""
        m = self.mid
        return _up(torch.maximum(self.hi - m, m - self.lo))

    @property
    def width(self) -> torch.Tensor:
        return self.hi - self.lo

    def contains(self, x) -> torch.Tensor:
        """(...) bool: lo <= x <= hi."""
        x = _tensor(x, self.lo)
        return (self.lo <= x) & (x <= self.hi)

    def is_empty(self) -> torch.Tensor:
        """(...) bool: lo > hi (only possible for results of :meth:`intersect`)."""
        return self.lo > self.hi

    def __getitem__(self, idx) -> "Interval":
        return Interval(self.lo[idx], self.hi[idx], check=False)

    def __repr__(self) -> str:
        return f"Interval(lo={self.lo}, hi={self.hi})"

    # -- set operations ---------------------------------------------------------------------
    def intersect(self, other: Operand) -> "Interval":
        """Elementwise intersection; may be empty (lo > hi) — test with :meth:`is_empty`."""
        o = _as_interval(other)
        return Interval(torch.maximum(self.lo, o.lo), torch.minimum(self.hi, o.hi), check=False)

    # -- arithmetic -------------------------------------------------------------------------
    def __neg__(self) -> "Interval":
        return Interval(-self.hi, -self.lo, check=False)

    def __add__(self, other: Operand) -> "Interval":
        o = _as_interval(other)
        return Interval(_down(self.lo + o.lo), _up(self.hi + o.hi), check=False)

    __radd__ = __add__

    def __sub__(self, other: Operand) -> "Interval":
        o = _as_interval(other)
        return Interval(_down(self.lo - o.hi), _up(self.hi - o.lo), check=False)

    def __rsub__(self, other: Operand) -> "Interval":
        return _as_interval(other) - self

    def __mul__(self, other: Operand) -> "Interval":
        if isinstance(other, (int, float)):
            a, b = self.lo * other, self.hi * other
            lo, hi = (a, b) if other >= 0 else (b, a)
            return Interval(_down(lo), _up(hi), check=False)
        o = _as_interval(other)
        p = torch.stack(torch.broadcast_tensors(self.lo * o.lo, self.lo * o.hi, self.hi * o.lo, self.hi * o.hi))
        return Interval(_down(p.amin(0)), _up(p.amax(0)), check=False)

    __rmul__ = __mul__

    def reciprocal(self) -> "Interval":
        """1/x for intervals that do not contain 0 (ValueError otherwise)."""
        if not bool(((self.lo > 0) | (self.hi < 0)).all()):
            raise ValueError("Interval.reciprocal: expected intervals not containing 0 (lo > 0 or hi < 0)")
        return Interval(_down(1.0 / self.hi), _up(1.0 / self.lo), check=False)

    def __truediv__(self, other: Operand) -> "Interval":
        if isinstance(other, (int, float)):
            if other == 0:
                raise ValueError("Interval division by 0")
            return self * _as_interval(other).reciprocal()
        return self * _as_interval(other).reciprocal()

    def __rtruediv__(self, other: Operand) -> "Interval":
        return _as_interval(other) * self.reciprocal()

    def __pow__(self, p: Union[int, float]) -> "Interval":
        """x**p: integer p for any interval (0 excluded for p < 0); real p for x >= 0 (x > 0 if p < 0)."""
        if isinstance(p, int) or (isinstance(p, float) and p.is_integer() and abs(p) < 2**31):
            n = int(p)
            if n == 0:
                return Interval(torch.ones_like(self.lo))
            if n < 0:
                return (self ** (-n)).reciprocal()
            a, b = self.lo ** n, self.hi ** n
            if n % 2:
                return Interval(_widen_down(a), _widen_up(b), check=False)
            lo = torch.where(self.lo >= 0, a, torch.where(self.hi <= 0, b, torch.zeros_like(a)))
            hi = torch.where(self.lo >= 0, b, torch.where(self.hi <= 0, a, torch.maximum(a, b)))
            return Interval(torch.clamp_min(_widen_down(lo), 0.0), _widen_up(hi), check=False)
        p = float(p)
        if p > 0:
            if not bool((self.lo >= 0).all()):
                raise ValueError(f"Interval ** {p}: expected intervals with lo >= 0")
            return self.monotone(lambda x: x ** p, increasing=True)
        if not bool((self.lo > 0).all()):
            raise ValueError(f"Interval ** {p}: expected intervals with lo > 0")
        return self.monotone(lambda x: x ** p, increasing=False)

    def square(self) -> "Interval":
        return self ** 2

    def sqrt(self) -> "Interval":
        if not bool((self.lo >= 0).all()):
            raise ValueError("Interval.sqrt: expected intervals with lo >= 0")
        return self.monotone(torch.sqrt, increasing=True)

    def exp(self) -> "Interval":
        return self.monotone(torch.exp, increasing=True)

    def log(self) -> "Interval":
        if not bool((self.lo > 0).all()):
            raise ValueError("Interval.log: expected intervals with lo > 0")
        return self.monotone(torch.log, increasing=True)

    def monotone(self, f: Callable[[torch.Tensor], torch.Tensor], increasing: bool = True) -> "Interval":
        """f over the interval for an elementwise f monotone on it: [f(lo), f(hi)] (or swapped),
        widened by FUNCTION_RTOL. The caller vouches for monotonicity on the whole interval."""
        a, b = f(self.lo), f(self.hi)
        lo, hi = (a, b) if increasing else (b, a)
        return Interval(_widen_down(lo), _widen_up(hi), check=False)

    def clamp_min(self, m: float) -> "Interval":
        """max(x, m) elementwise (monotone, exact)."""
        return Interval(torch.clamp_min(self.lo, m), torch.clamp_min(self.hi, m), check=False)


def _as_interval(x: Operand) -> Interval:
    if isinstance(x, Interval):
        return x
    return Interval(x, check=False)


def hull(*xs: Operand) -> Interval:
    """Smallest interval containing all the operands (elementwise, broadcast)."""
    ivs = [_as_interval(x) for x in xs]
    lo = torch.stack(torch.broadcast_tensors(*[i.lo for i in ivs])).amin(0)
    hi = torch.stack(torch.broadcast_tensors(*[i.hi for i in ivs])).amax(0)
    return Interval(lo, hi, check=False)
