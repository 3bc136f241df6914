"""Scalar outputs a deck declares (``[output.scalars]``): one number per run, for summaries and studies.

Each entry is ``name = { <source> = ..., component = ..., reduce = ... }`` with exactly one source:

``probe = "tip"``      a probe of ``[output.probes]`` (mean displacement, m) or ``[output.reactions]``
                       (reaction force, N); component ``"x"|"y"|"z"`` (default ``"x"``)
``energy = "kinetic"`` an energy.csv column (:data:`fem.solver.energy.ENERGY_KEYS`)
``field = "strain"``   a field of the written frames (point data ``displacement``, ``velocity``; cell data
                       ``strain``, ``stress``, ``green_lagrange_strain``, ``cauchy_stress``,
                       ``volume_ratio``); component ``"x"``.., ``"magnitude"`` (vectors) or ``"XX"``,
                       ``"YY"``, ``"XY"``.. (tensors); reduced over every point or cell of every frame

``reduce`` is ``"max"``, ``"min"``, ``"max_abs"``, ``"final"`` or ``"mean"`` (default ``"max"``; fields
take max, min and max_abs). Field scalars read the frames back from the VTU files, so they need
``fields = true`` and ``format = "vtu"``; a restarted run reads the frames of both parts.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from fem.deck.table import Table

__all__ = ["read_scalars", "evaluate_scalars", "REDUCTIONS"]

REDUCTIONS = ("max", "min", "max_abs", "final", "mean")
_SOURCES = ("probe", "energy", "field")
_AXES = "xyz"
_FIELDS = ("displacement", "velocity", "strain", "stress", "green_lagrange_strain", "cauchy_stress", "volume_ratio")


def read_scalars(t: Table | None, probes: dict, *, fields: bool, format: str) -> dict:
    """name -> {"source", "name", "component", "reduce"} from ``[output.scalars]`` (checked; located errors)."""
    from fem.solver.energy import ENERGY_KEYS

    out = {}
    if t is None:
        return out
    for name in t.data:
        s = t.table(name) if isinstance(t.data[name], dict) else None
        if s is None:
            raise t.type_error(name, '{ probe = "tip", component = "x", reduce = "max_abs" } (an inline table)',
                               t.data[name])
        s.check(("probe", "energy", "field", "component", "reduce"))
        given = [k for k in _SOURCES if s.has(k)]
        if len(given) != 1:
            raise s.error(f"give exactly one of {', '.join(_SOURCES)}, got {given or 'none'}")
        src = given[0]
        what = s.string(src)
        comp = s.string("component", {"probe": "x", "energy": None, "field": None}[src])
        reduce = s.string("reduce", "max", choices=REDUCTIONS if src != "field" else ("max", "min", "max_abs"))
        if src == "probe":
            if what not in probes:
                raise s.error(f"probe = {what!r}: no such probe in [output.probes] or [output.reactions] "
                              f"(have {sorted(probes) or 'none'})")
            if comp not in _AXES:
                raise s.error(f"component = {comp!r}: a probe component is one of 'x', 'y', 'z'")
        elif src == "energy" and what not in ENERGY_KEYS:
            raise s.error(f"energy = {what!r}: expected an energy.csv column, one of {', '.join(ENERGY_KEYS)}")
        elif src == "field":
            if what not in _FIELDS:
                raise s.error(f"field = {what!r}: expected one of {', '.join(_FIELDS)}")
            if not fields or format != "vtu":
                raise s.error(f"field = {what!r} reads the written frames: it needs [output] fields = true and "
                              f"format = \"vtu\"")
        out[name] = {"source": src, "name": what, "component": comp, "reduce": reduce}
    return out


def _reduce(values: np.ndarray, how: str) -> float:
    v = np.asarray(values, dtype=np.float64).ravel()
    if v.size == 0:
        return float("nan")
    return float({"max": np.max, "min": np.min, "mean": np.mean, "final": lambda a: a[-1],
                  "max_abs": lambda a: np.max(np.abs(a))}[how](v))


def _component(a: np.ndarray, comp: str | None, dim: int, where: str) -> np.ndarray:
    from fem.io.output import TENSOR_COMPONENTS, TENSOR_FIELDS

    if a.ndim == 1:
        return a
    if comp is None:   # a vector's magnitude, a tensor's first component
        comp = "XX" if where in TENSOR_FIELDS else "magnitude"
    if comp == "magnitude":
        return np.linalg.norm(a, axis=1)
    if comp in _AXES and where not in TENSOR_FIELDS:
        return a[:, _AXES.index(comp)]
    names = TENSOR_COMPONENTS.get(a.shape[1], ())
    if comp.upper() in names:
        return a[:, names.index(comp.upper())]
    raise ValueError(f"[output.scalars]: component {comp!r} of {where!r} (shape {a.shape}); expected one of "
                     f"{list(names) or list(_AXES[:dim]) + ['magnitude']}")


def evaluate_scalars(specs: dict, result, index: Path | None, dim: int) -> dict:
    """name -> float for a finished run (NaN where the run recorded nothing, e.g. stopped at step 0)."""
    out = {}
    frames = None
    for name, sp in specs.items():
        if sp["source"] == "probe":
            rec = result.probes or {}
            p = rec.get(sp["name"], (rec.get("reactions") or {}).get(sp["name"]))
            vals = np.zeros(0) if p is None or len(p) == 0 else np.asarray(p)[:, _AXES.index(sp["component"])]
        elif sp["source"] == "energy":
            vals = np.asarray(result.energies.get(sp["name"], np.zeros(0)))
        else:
            if frames is None:
                frames = _read_frames(index)
            parts = [_component(f[sp["name"]], sp["component"], dim, sp["name"]) for f in frames if sp["name"] in f]
            vals = np.concatenate(parts) if parts else np.zeros(0)
        out[name] = _reduce(vals, sp["reduce"])
    return out


def _read_frames(index: Path | None) -> list[dict]:
    """Every frame of a VTU series as {name: array} (point and cell data together)."""
    import meshio

    from fem.io.output import read_pvd

    if index is None or not Path(index).exists():
        return []
    frames = []
    for _, path in read_pvd(index):
        m = meshio.read(path)
        data = {k: np.asarray(v) for k, v in m.point_data.items()}
        data.update({k: np.asarray(v[0]) for k, v in m.cell_data.items()})
        frames.append(data)
    return frames
