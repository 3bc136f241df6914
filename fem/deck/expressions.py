"""Small, safe functions of space and time for input decks: field expressions and load amplitudes.

:class:`Expression` evaluates a text such as ``"10 * (1 - x) * (y < 0.5)"`` on every mesh point
without ``eval``: the text is parsed with :mod:`ast` and only a whitelist of nodes is interpreted —
numbers, the coordinates ``x, y, z``, the constants ``pi, e``, ``+ - * / ** %``, comparisons
(true = 1.0, false = 0.0), ``a if cond else b`` and the functions in :data:`FUNCTIONS`, each called
with exactly its number of arguments (:data:`ARITY`). Anything else (attributes, subscripts, other
names, keyword arguments, lambdas, strings) is refused with a message, and so is a text longer than
:data:`MAX_LENGTH` characters or nested deeper than :data:`MAX_DEPTH` levels (checked before the
parser or the evaluator could run out of memory or recursion).

The functions only ever see arrays the evaluator made: the coordinates are copies of the points, and
a function is called with its positional arguments alone (numpy's ``sin(x, out)`` would otherwise
write into ``out``).

Amplitudes ``t -> float`` multiply loads and prescribed histories: :class:`Constant`, :class:`Ramp`,
:class:`Step`, :class:`Table` (piecewise linear) and :class:`Sine`. They are plain picklable objects.
"""
from __future__ import annotations

import ast
import difflib
import math
from dataclasses import dataclass

import numpy as np

from fem.core.errors import FemError

__all__ = ["Expression", "FUNCTIONS", "ARITY", "MAX_LENGTH", "MAX_DEPTH", "Constant", "Ramp", "Step", "Table",
           "Sine"]

#: functions an expression may call (numpy ufuncs, elementwise)
FUNCTIONS = {"sin": np.sin, "cos": np.cos, "tan": np.tan, "asin": np.arcsin, "acos": np.arccos,
             "atan": np.arctan, "atan2": np.arctan2, "sinh": np.sinh, "cosh": np.cosh, "tanh": np.tanh,
             "exp": np.exp, "log": np.log, "log10": np.log10, "sqrt": np.sqrt, "abs": np.abs,
             "min": np.minimum, "max": np.maximum, "floor": np.floor, "ceil": np.ceil, "sign": np.sign}
#: number of arguments of each function (all others take one)
ARITY = {name: 1 for name in FUNCTIONS} | {"atan2": 2, "min": 2, "max": 2}
CONSTANTS = {"pi": math.pi, "e": math.e}
#: longest expression text (characters) and deepest nesting (brackets, operators, calls) accepted
MAX_LENGTH = 2000
#: deepest nesting (brackets, operators, calls) accepted
MAX_DEPTH = 100
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
        self._coords = "xyz"[: self.dim]
        self._check_size()
        try:
            self._tree = ast.parse(self.text.strip(), mode="eval").body
        except SyntaxError as exc:
            raise FemError(f"expression {self._short()!r} is not valid: {exc.msg}") from None
        except (RecursionError, MemoryError):  # pragma: no cover - the size checks come first
            raise FemError(f"expression {self._short()!r} is too deeply nested to parse "
                           f"(at most {MAX_DEPTH} levels)") from None
        self._check_depth(self._tree)
        self._check(self._tree)

    def __call__(self, points: np.ndarray) -> np.ndarray:
        """points (n, dim) -> (n,) values. ``points`` is copied: nothing the expression calls can change it."""
        pts = np.array(points, dtype=np.float64, copy=True).reshape(len(points), -1)
        if pts.shape[1] < self.dim:
            raise FemError(f"expression {self._short()!r} needs points with {self.dim} coordinates, "
                           f"got shape {pts.shape}")
        env = {c: pts[:, i].copy() for i, c in enumerate(self._coords)}
        with np.errstate(all="ignore"):
            out = self._eval(self._tree, env)
        return np.broadcast_to(np.asarray(out, dtype=np.float64), (len(pts),)).copy()

    def __repr__(self) -> str:
        return f"Expression({self.text!r})"

    # -- validation ---------------------------------------------------------------------------------
    def _short(self) -> str:
        return self.text if len(self.text) <= 80 else f"{self.text[:60]}...{self.text[-12:]}"

    def _check_size(self) -> None:
        """Length and bracket depth before parsing (the parser itself could exhaust memory)."""
        if len(self.text) > MAX_LENGTH:
            raise FemError(f"expression {self._short()!r} is {len(self.text)} characters long; expected at "
                           f"most {MAX_LENGTH} (write a shorter formula)")
        depth = deepest = 0
        for ch in self.text:
            depth += (ch == "(") - (ch == ")")
            deepest = max(deepest, depth)
        if deepest > MAX_DEPTH:
            raise FemError(f"expression {self._short()!r} nests brackets {deepest} deep; expected at most {MAX_DEPTH}")

    def _check_depth(self, tree) -> None:
        """Depth of the syntax tree, without recursion (a chain 'x+x+...' or '---x' nests too)."""
        stack = [(tree, 1)]
        while stack:
            node, d = stack.pop()
            if d > MAX_DEPTH:
                raise FemError(f"expression {self._short()!r} nests operations more than {MAX_DEPTH} deep; "
                               f"expected at most {MAX_DEPTH} (split it, or use fewer chained operators)")
            stack.extend((child, d + 1) for child in ast.iter_child_nodes(node))

    def _fail(self, what: str):
        raise FemError(f"expression {self._short()!r}: {what}; allowed: numbers, {', '.join(self._coords)}, "
                       f"pi, e, + - * / ** %, comparisons, 'a if c else b', functions {sorted(FUNCTIONS)}")

    def _check(self, node) -> None:
        if isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
                self._fail(f"{node.value!r} is not a number")
            try:
                float(node.value)
            except OverflowError:
                self._fail(f"the number {str(node.value)[:20]}... is too large for a float")
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
                self._fail(f"{node.func.id}(): keyword arguments are not allowed")
            if any(isinstance(a, ast.Starred) for a in node.args):
                self._fail(f"{node.func.id}(): unpacking (*) is not allowed")
            n_args = ARITY[node.func.id]
            if len(node.args) != n_args:
                self._fail(f"{node.func.id}() takes exactly {n_args} argument{'s' if n_args > 1 else ''}, "
                           f"got {len(node.args)}")
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
        args = [self._eval(a, env) for a in node.args]  # exactly ARITY[name] values (checked): no out=
        return FUNCTIONS[node.func.id](*args)


# ---------------------------------------------------------------------------------------------
# amplitudes t -> float
def _finite(kind: str, **values) -> None:
    for name, v in values.items():
        if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)) or not math.isfinite(v):
            raise FemError(f"{kind} amplitude: {name} must be a finite number, got {v!r}")


@dataclass(frozen=True)
class Constant:
    """``a(t) = value``."""

    value: float = 1.0

    def __post_init__(self):
        _finite("constant", value=self.value)

    def __call__(self, t: float) -> float:
        return self.value


@dataclass(frozen=True)
class Ramp:
    """0 until ``t0``, linear to 1 at ``t1``, then 1."""

    t1: float
    t0: float = 0.0

    def __post_init__(self):
        _finite("ramp", t1=self.t1, t0=self.t0)
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
        _finite("step", t0=self.t0, **({} if self.t1 is None else {"t1": self.t1}))
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
        _finite("sine", frequency=self.frequency, phase=self.phase)
        if not self.frequency > 0:
            raise FemError(f"sine needs frequency > 0 (Hz), got {self.frequency}")

    def __call__(self, t: float) -> float:
        return math.sin(2.0 * math.pi * self.frequency * t + self.phase)
