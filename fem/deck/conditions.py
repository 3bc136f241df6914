"""Domain rules of the deck's ``[[bc]]``, ``[[load]]`` and ``[initial]`` tables, and of every selection.

A ``where`` (a set name of the mesh or a selector such as ``"x == 0 and y < 1"``) is selected once,
here, with the deck's tolerance (``[mesh] tol`` or the entry's own ``tol``); a selection that finds
nothing is an error naming the table, the mesh's bounding box and the tolerance. A selector is then
registered in the mesh as a named set ``"<selector> [tol=<tol>]"`` (nodes and boundary facets), and
the condition names that set, so the solver uses exactly the nodes checked here.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Callable

import numpy as np

from fem.discretisation.bc import BodyForce, Fixed, NodalForce, Prescribed, Traction
from fem.core.errors import DeckError, FemError
from fem.deck.expressions import Constant, Expression, Ramp, Sine, Step, Table as TableAmplitude
from fem.deck.table import REQUIRED, Table

__all__ = ["select", "named_selection", "read_bc", "read_load", "read_amplitude", "read_initial", "AMPLITUDES"]

#: amplitude types -> {parameter: default or REQUIRED}
AMPLITUDES = {"constant": {"value": 1.0}, "ramp": {"t1": REQUIRED, "t0": 0.0},
              "step": {"t0": REQUIRED, "t1": None}, "table": {"points": REQUIRED},
              "sine": {"frequency": REQUIRED, "phase": 0.0}}


# ---------------------------------------------------------------------------------------------
# selections
#: a '=' that is not part of '==', '<=', '>=' or '!='
_LONE_EQUALS = re.compile(r"(?<![=<>!])=(?!=)")


def select(t: Table, where: str, tol: float, mesh, *, what: str, facets: bool = False) -> np.ndarray:
    """Node ids (k,) (or boundary facets (k, m)) of ``where``; DeckError naming the table if unknown or empty.

    A single ``=`` ("x = 0.05") is refused: it reads as an assignment, and taking it silently as ``==`` hides
    a typo in the one place that decides which nodes are held."""
    if where not in mesh.node_sets and where not in mesh.facet_sets and _LONE_EQUALS.search(where):
        fixed = _LONE_EQUALS.sub("==", where)
        raise t.error(f"{what}: where = {where!r} uses a single '=': a selector compares with '==' "
                      f"(did you mean {fixed!r}?)")
    try:
        ids = mesh.facets(where, tol) if facets else mesh.nodes(where, tol)
    except FemError:
        known = sorted(set(mesh.node_sets) | set(mesh.facet_sets))
        near = difflib.get_close_matches(where, known, n=1, cutoff=0.5)
        hint = f" (did you mean {near[0]!r}?)" if near else ""
        raise t.error(f"{what}: where = {where!r} is neither a set of the mesh nor a selector{hint}; "
                      f"known sets: {', '.join(known) or 'none'}; a selector looks like "
                      f"\"x == 0\" or \"x == 0 and y < 1\"") from None
    if len(ids) == 0:
        kind = "boundary facet" if facets else "node"
        raise t.error(f"{what}: where = {where!r} selects no {kind} of the mesh "
                      f"(bounding box {bbox(mesh)}; tolerance {tol:g} × mesh size)")
    return ids


def bbox(mesh) -> str:
    """The mesh's bounding box as text, ``[x0, x1] × [y0, y1] …``, for error messages."""
    lo, hi = mesh.points.min(axis=0), mesh.points.max(axis=0)
    return " × ".join(f"[{a:g}, {b:g}]" for a, b in zip(lo, hi))


def named_selection(t: Table, mesh, default_tol: float, what: str, *, facets: bool = False) -> str:
    """Check the entry's ``where`` (+ ``tol``, default ``default_tol``); the set name the solver uses."""
    where = t.string("where")
    tol = t.number("tol", default_tol, positive=True)
    ids = select(t, where, tol, mesh, what=what, facets=facets)
    if where in mesh.node_sets or where in mesh.facet_sets:
        return where
    # a selector: register what was selected here (a distinct name, so the selector text itself
    # still selects with any tolerance elsewhere)
    name = f"{where} [tol={tol:g}]"
    mesh.node_sets[name] = mesh.nodes(where, tol) if facets else ids
    mesh.facet_sets[name] = ids if facets else mesh.facets(where, tol)
    return name


# ---------------------------------------------------------------------------------------------
# [[bc]], [[load]]
@dataclass(frozen=True)
class _Scaled:
    """``value × amplitude(t)`` (amplitude None = 1): a prescribed displacement/velocity history."""

    value: float
    amplitude: Callable[[float], float] | None = None

    def __call__(self, t: float) -> float:
        return self.value if self.amplitude is None else self.value * float(self.amplitude(t))


def read_bc(t: Table, mesh, tol: float):
    """A :class:`~fem.discretisation.bc.Fixed` or :class:`~fem.discretisation.bc.Prescribed` from one ``[[bc]]`` table."""
    kind = t.string("type", "fixed", choices=("fixed", "displacement", "velocity"))
    dim = mesh.dim
    if kind == "fixed":
        t.check(("type", "where", "tol", "components", "value"))
        where = named_selection(t, mesh, tol, "fixed")
        comps = t.get("components", "all")
        comps = _components(t, "components", [comps] if isinstance(comps, (str, int)) else comps, dim)
        return Fixed(where, comps, t.number("value", 0.0))
    t.check(("type", "where", "tol", "component", "value", "amplitude"))
    where = named_selection(t, mesh, tol, kind)
    comp = t.get("component", REQUIRED)
    (comp,) = _components(t, "component", [comp], dim, allow_all=False)
    value = t.number("value")
    amp = read_amplitude(t)
    history = _Scaled(value, amp)
    if kind == "displacement":
        return Prescribed(where, comp, displacement=history)
    return Prescribed(where, comp, velocity=history)


def _components(t: Table, key: str, comps, dim: int, allow_all: bool = True):
    axes = "xyz"[:dim]
    if allow_all and comps == ["all"]:
        return None
    ok = isinstance(comps, list) and comps and all(
        (isinstance(c, str) and c in axes) or (isinstance(c, int) and not isinstance(c, bool) and 0 <= c < dim)
        for c in comps)
    if not ok:
        allowed = (['"all"'] if allow_all else []) + [f'"{a}"' for a in axes]
        raise t.error(f"{key} must be {' or '.join(allowed)}" + (" or a list of them" if allow_all else "")
                      + f" on this {dim}D mesh, got "
                      + repr(comps[0] if isinstance(comps, list) and len(comps) == 1 and not allow_all else comps))
    return [axes[c] if isinstance(c, int) else c for c in comps]


def read_amplitude(t: Table):
    """The entry's ``amplitude`` (None when absent): a number or a table ``{type = "ramp", ...}``."""
    v = t.data.get("amplitude")
    if v is None:
        return None
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return Constant(float(v))
    if not isinstance(v, dict):
        raise t.type_error("amplitude", "a number or a table {type = \"ramp\", ...}", v)
    a = Table(v, f"{t.where} amplitude", t.file)
    kind = a.string("type", choices=tuple(AMPLITUDES))
    params = AMPLITUDES[kind]
    a.check(("type", *params))
    try:
        if kind == "table":
            pts = a.get("points", REQUIRED)
            return TableAmplitude(tuple(map(tuple, pts)) if isinstance(pts, list) and all(
                isinstance(p, list) for p in pts) else pts)
        kw = {p: (a.number(p, d) if d is not None or a.has(p) else None) for p, d in params.items()}
        return {"constant": Constant, "ramp": Ramp, "step": Step, "sine": Sine}[kind](**kw)
    except FemError as exc:
        if isinstance(exc, DeckError):
            raise
        raise a.error(str(exc)) from None


def read_load(t: Table, mesh, tol: float):
    """A :class:`~fem.discretisation.bc.NodalForce`, :class:`~fem.discretisation.bc.Traction` or :class:`~fem.discretisation.bc.BodyForce` from ``[[load]]``."""
    kind = t.string("type", choices=("nodal", "traction", "body"))
    dim = mesh.dim
    if kind == "body":
        t.check(("type", "acceleration", "amplitude"))
        return BodyForce(t.vector("acceleration", dim), read_amplitude(t))
    key = "force" if kind == "nodal" else "traction"
    t.check(("type", "where", "tol", key, "amplitude"))
    where = named_selection(t, mesh, tol, kind, facets=kind == "traction")
    vec = t.vector(key, dim)
    amp = read_amplitude(t)
    return NodalForce(where, vec, amp) if kind == "nodal" else Traction(where, vec, amp)


# ---------------------------------------------------------------------------------------------
# [initial]
def read_initial(t: Table | None, mesh):
    """(u0, v0): (n_points, dim) arrays or None, from the ``[initial]`` table (None when absent)."""
    if t is None:
        return None, None
    t.check(("displacement", "velocity"))
    return _field(t, "displacement", mesh), _field(t, "velocity", mesh)


def _field(t: Table, key: str, mesh) -> np.ndarray | None:
    v = t.data.get(key)
    if v is None:
        return None
    dim = mesh.dim
    if dim == 1 and not isinstance(v, list):
        v = [v]
    if not isinstance(v, list) or len(v) != dim:
        raise t.error(f"{key} must be a list of {dim} entries (a number or an expression in "
                      f"{', '.join('xyz'[:dim])} each), got {v!r}")
    out = np.empty((mesh.n_points, dim))
    for c, item in enumerate(v):
        if isinstance(item, (int, float)) and not isinstance(item, bool):
            out[:, c] = float(item)
        elif isinstance(item, str):
            try:
                out[:, c] = Expression(item, dim)(mesh.points.copy())   # the mesh is never an output
            except FemError as exc:
                raise t.error(f"{key}[{c}]: {exc}") from None
        else:
            raise t.error(f"{key}[{c}] must be a number or an expression string, got {item!r}")
    bad = ~np.isfinite(out)
    if bad.any():
        i, c = np.argwhere(bad)[0]
        raise t.error(f"{key}[{c}] is not finite at node {i} ({mesh.points[i].tolist()})")
    return out


def read_reactions(t: Table | None, tol: float, mesh, bcs, probes: dict) -> tuple[dict, dict]:
    """``[output.reactions]`` (name = set or selector): ``(selectors, node ids)`` by name; DeckError
    (naming the table and key) for a non-string, a name already used by ``probes`` (``[output.probes]``)
    or reserved (``time``, ``reactions``), or a set that holds no dof constrained by ``bcs``."""
    from fem.discretisation.bc import constrained_dofs
    from fem.solver.reactions import constrained_components

    sels, nodes = {}, {}
    if t is None:
        return sels, nodes
    held = constrained_dofs(mesh, bcs)
    for name, sel in t.data.items():
        if not isinstance(sel, str):
            raise t.type_error(name, "a set name or selector string", sel)
        if name in probes or name in ("time", "reactions"):
            raise t.error(f"{name} = {sel!r}: the name is taken (by [output.probes] or reserved: time, reactions); "
                          f"expected a name unique across [output.probes] and [output.reactions]")
        ids = select(t, sel, tol, mesh, what=f"reaction {name!r}")
        if len(constrained_components(ids, held, mesh.dim)[0]) == 0:
            raise t.error(f"{name} = {sel!r}: its {len(ids)} node(s) carry no constrained dof; a reaction probe "
                          f"needs nodes of a [[bc]] (fixed, displacement or velocity)")
        sels[name], nodes[name] = sel, ids
    return sels, nodes
