"""Small, safe functions of space and time for input decks: field expressions and load amplitudes.

:class:`Expression` evaluates a text such as ``"10 * (1 - x) * (y < 0.5)"`` on every mesh point
without ``eval``: the text is parsed with :mod:`ast` and only a whitelist of nodes is interpreted —
numbers, the coordinates ``x, y, z``, the constants ``pi, e``, ``+ - * / ** %``, comparisons
(true = 1.0, false = 0.0), ``a if cond else b`` and the functions in :data:`FUNCTIONS`. Anything else
(attributes, subscripts, other names, keywords, lambdas, strings) is refused with a message.

Amplitudes ``t -> float`` multiply loads and prescribed histories: :class:`Constant`, :class:`Ramp`,
:class:`Step`, :class:`Table` (piecewise linear) and :class:`Sine`. They are plain picklable objects.
"""
from __future__ import annotations

import ast
import difflib
import math
from dataclasses import dataclass

import numpy as np

from fem.errors import FemError

__all__ = ["Expression", "FUNCTIONS", "Constant", "Ramp", "Step", "Table", "Sine"]

#: functions an expression may call (numpy ufuncs, elementwise)
FUNCTIONS = {"sin": np.sin, "cos": np.cos, "tan": np.tan, "asin": np.arcsin, "acos": np.arccos,
             "atan": np.arctan, "atan2": np.arctan2, "sinh": np.sinh, "cosh": np.cosh, "tanh": np.tanh,
             "exp": np.exp, "log": np.log, "log10": np.log10, "sqrt": np.sqrt, "abs": np.abs,
             "min": np.minimum, "max": np.maximum, "floor": np.floor, "ceil": np.ceil, "sign": np.sign}
CONSTANTS = {"pi": math.pi, "e": math.e}
_BINOPS = {ast.Add: np.add, ast.Sub: np.subtract, ast.Mult: np.multiply, ast.Div: np.divide,
           ast.Pow: np.power, ast.Mod: np.mod}
_CMPOPS = {ast.Lt: np.less, ast.LtE: np.less_equal, ast.Gt: np.greater, ast.GtE: np.greater_equal,
           ast.Eq: np.equal, ast.NotEq: np.not_equal}


class Expression:
    """A scalar field ``f(x, y, z)`` given as text; ``expr(points)`` -> (n_points,) float64.

    ``dim`` limits the coordinates the text may use (1: x; 2: x, y; 3: x, y, z). Raises FemError
    naming the offending part for syntax errors, unknown names/functions and forbidden constructs.
    """

    def __init__(self, text: str, dim: int = 3):
        self.text, self.dim = str(text), int(dim)
        try:
            self._tree = ast.parse(self.text.strip(), mode="eval").body
        except SyntaxError as exc:
            raise FemError(f"expression {self.text!r} is not valid: {exc.msg}") from None
        self._coords = "xyz"[: self.dim]
        self._check(self._tree)

    def __call__(self, points: np.ndarray) -> np.ndarray:
        """points (n, dim) -> (n,) values."""
        pts = np.asarray(points, dtype=np.float64).reshape(len(points), -1)
        env = {c: pts[:, i] for i, c in enumerate(self._coords)}
        with np.errstate(all="ignore"):
            out = self._eval(self._tree, env)
        return np.broadcast_to(np.asarray(out, dtype=np.float64), (len(pts),)).copy()

    def __repr__(self) -> str:
        return f"Expression({self.text!r})"

    # -- validation ---------------------------------------------------------------------------------
    def _fail(self, what: str):
        raise FemError(f"expression {self.text!r}: {what}; allowed: numbers, {', '.join(self._coords)}, "
                       f"pi, e, + - * / ** %, comparisons, 'a if c else b', functions {sorted(FUNCTIONS)}")

    def _check(self, node) -> None:
        if isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
                self._fail(f"{node.value!r} is not a number")
        elif isinstance(node, ast.Name):
            if node.id not in self._coords and node.id not in CONSTANTS:
                near = difflib.get_close_matches(node.id, [*self._coords, *CONSTANTS, *FUNCTIONS], n=1)
                hint = f" (did you mean {near[0]!r}?)" if near else ""
                extra = f" on a {self.dim}D mesh" if node.id in "xyz" else ""
                self._fail(f"unknown name {node.id!r}{extra}{hint}")
        elif isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
            self._check(node.left)
            self._check(node.right)
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.UAdd, ast.USub)):
            self._check(node.operand)
        elif isinstance(node, ast.Compare) and all(type(op) in _CMPOPS for op in node.ops):
            for n in (node.left, *node.comparators):
                self._check(n)
        elif isinstance(node, ast.IfExp):
            for n in (node.test, node.body, node.orelse):
                self._check(n)
        elif isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
                name = node.func.id if isinstance(node.func, ast.Name) else ast.unparse(node.func)
                near = difflib.get_close_matches(name, list(FUNCTIONS), n=1)
                self._fail(f"unknown function {name!r}" + (f" (did you mean {near[0]!r}?)" if near else ""))
            if node.keywords:
                self._fail("keyword arguments are not allowed")
            for n in node.args:
                self._check(n)
        else:
            self._fail(f"{ast.unparse(node)!r} is not allowed")

    # -- evaluation (only the nodes _check accepted) -----------------------------------------------
    def _eval(self, node, env):
        if isinstance(node, ast.Constant):
            return float(node.value)
        if isinstance(node, ast.Name):
            return env[node.id] if node.id in env else CONSTANTS[node.id]
        if isinstance(node, ast.BinOp):
            return _BINOPS[type(node.op)](self._eval(node.left, env), self._eval(node.right, env))
        if isinstance(node, ast.UnaryOp):
            v = self._eval(node.operand, env)
            return -v if isinstance(node.op, ast.USub) else v
        if isinstance(node, ast.Compare):
            left, result = self._eval(node.left, env), True
            for op, right in zip(node.ops, node.comparators):
                r = self._eval(right, env)
                result = np.logical_and(result, _CMPOPS[type(op)](left, r))
                left = r
            return np.asarray(result, dtype=np.float64)
        if isinstance(node, ast.IfExp):
            return np.where(self._eval(node.test, env) != 0, self._eval(node.body, env), self._eval(node.orelse, env))
        args = [self._eval(a, env) for a in node.args]
        try:
            return FUNCTIONS[node.func.id](*args)
        except TypeError as exc:
            raise FemError(f"expression {self.text!r}: {node.func.id}() {exc}") from None


# ---------------------------------------------------------------------------------------------
# amplitudes t -> float
@dataclass(frozen=True)
class Constant:
    """``a(t) = value``."""

    value: float = 1.0

    def __call__(self, t: float) -> float:
        return self.value


@dataclass(frozen=True)
class Ramp:
    """0 until ``t0``, linear to 1 at ``t1``, then 1."""

    t1: float
    t0: float = 0.0

    def __post_init__(self):
        if not self.t1 > self.t0:
            raise FemError(f"ramp needs t1 > t0, got t0 = {self.t0}, t1 = {self.t1}")

    def __call__(self, t: float) -> float:
        return min(1.0, max(0.0, (t - self.t0) / (self.t1 - self.t0)))


@dataclass(frozen=True)
class Step:
    """1 on ``[t0, t1)`` (``t1`` None: for ever after ``t0``), 0 elsewhere."""

    t0: float
    t1: float | None = None

    def __post_init__(self):
        if self.t1 is not None and not self.t1 > self.t0:
            raise FemError(f"step needs t1 > t0, got t0 = {self.t0}, t1 = {self.t1}")

    def __call__(self, t: float) -> float:
        return 1.0 if t >= self.t0 and (self.t1 is None or t < self.t1) else 0.0


@dataclass(frozen=True)
class Table:
    """Piecewise linear through ``points`` ``((t, a), ...)`` (times increasing); constant beyond the ends."""

    points: tuple

    def __post_init__(self):
        try:
            p = np.asarray(self.points, dtype=np.float64)
        except (TypeError, ValueError):
            p = np.zeros(0)
        if p.ndim != 2 or p.shape[1] != 2 or len(p) < 1 or not np.all(np.isfinite(p)):
            raise FemError(f"table needs points [[t, a], ...] (finite numbers), got {self.points!r}")
        if np.any(np.diff(p[:, 0]) <= 0):
            raise FemError(f"table times must increase strictly, got {p[:, 0].tolist()}")
        object.__setattr__(self, "points", tuple(map(tuple, p.tolist())))

    def __call__(self, t: float) -> float:
        p = np.asarray(self.points)
        return float(np.interp(t, p[:, 0], p[:, 1]))


@dataclass(frozen=True)
class Sine:
    """``sin(2π f t + phase)``; frequency f in Hz, phase in rad."""

    frequency: float
    phase: float = 0.0

    def __post_init__(self):
        if not self.frequency > 0:
            raise FemError(f"sine needs frequency > 0 (Hz), got {self.frequency}")

    def __call__(self, t: float) -> float:
        return math.sin(2.0 * math.pi * self.frequency * t + self.phase)
