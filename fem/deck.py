"""TOML input decks: a whole explicit simulation in one file.

``load_deck(path, material_loader=None) -> Deck`` reads and checks a deck and builds the
:class:`fem.explicit.Problem` and the solve settings; :func:`run_deck` runs it and writes the outputs.
Everything is checked before anything runs: unknown keys (at any level) are errors that name the
table and suggest the nearest valid key; wrong types, missing keys, unknown set names, selectors that
select nothing, missing files and a material whose kinematics does not match the mesh each raise a
:class:`~fem.errors.DeckError` that says where (file and table) and what was expected. Relative paths
in the deck are relative to the deck's folder.

Schema (``*`` = required; units SI)::

    title = "text"                              # optional

    [mesh]                                      # exactly one of file / generator
    file = "part.msh"                           # anything meshio reads; Gmsh physical groups -> sets
    generator = "bar" | "rectangle" | "box"
    lx, ly, lz = 1.0                            # generator sizes (m): bar lx; rectangle lx ly; box lx ly lz
    nx, ny, nz = 10                             # elements per direction (same pattern)
    cell = "triangle" | "quad" | "tetra" | "hexahedron"   # rectangle (triangle) / box (hexahedron)
    thickness = 1.0                             # 2D only (m)
    area = 1.0                                  # 1D only (m²)
    tol = 1e-9                                  # selector tolerance × mesh size (default 1e-9)
    [mesh.sets]                                 # extra named node/facet sets from selectors
    clamp = "x == 0 and y < 0.1"

    [material]                                  # exactly one of type / model
    type = "linear_elastic"                     # E*, nu (default 0), kinematics (default: the mesh's)
    type = "nonlinear_bar"                      # E1*, E2*, eps0* (1D)
    model = "rubber.pt"                         # a model file, loaded by the material_loader (lipmat)
    density = 1000.0                            # * kg/m³

    [[bc]]                                      # any number
    type = "fixed" | "displacement" | "velocity"    # default "fixed"
    where = "left"                              # * set name or selector "x == 0", "x == 0 and y < 1"
    tol = 1e-9                                  # this selector's tolerance (× mesh size)
    components = ["x", "y"]                     # fixed: which (default all); value = 0.0 (m)
    component = "x"                             # displacement / velocity: one component
    value = 1.0                                 # displacement (m) / velocity (m/s), × amplitude(t)
    amplitude = <amplitude>                     # default 1

    [[load]]
    type = "nodal" | "traction" | "body"        # *
    where = "right"                             # * nodal / traction
    force = [0.0, -10.0]                        # nodal: N per node
    traction = [0.0, -1e5]                      # traction: Pa (× thickness in 2D, × area in 1D)
    acceleration = [0.0, -9.81]                 # body: m/s² (per unit mass)
    amplitude = <amplitude>

    [initial]                                   # per component: number or expression in x, y, z
    displacement = [0.0, "1e-3 * sin(pi * x)"]
    velocity = ["10 * (x < 0.1)", 0.0]          # a bare number is allowed on a 1D mesh

    [time]
    end = 1e-3                                  # * s
    dt = "certified"                            # * s, or "certified" (the proven stable step)
    damping = 0.0                               # mass-proportional alpha (1/s)
    allow_unsafe_dt = false                     # run a dt above the certified step (with a warning)

    [solver]
    energy_tol = 0.5                            # stop when the energy balance error exceeds it; false: never
    device = "cpu"                              # torch device
    dtype = "float64"                           # or "float32"
    threads = 1                                 # torch CPU threads (default: automatic)
    monitor_every = 500                         # measure the critical step (an estimate) every N steps;
                                                # energy.csv gains dt_critical_s and dt_margin columns

    [output]
    dir = "bar_out"                             # default "<deck stem>_out" beside the deck
    format = "vtu" | "xdmf"                     # vtu: .vtu files + .pvd index
    compression = "zlib"                        # vtu data: "zlib" | "lzma" | "none" (3x faster to write)
    prefix = "fields"
    fields = true                               # false: no field files
    every = 10                                  # steps between frames (default: about 100 frames)
    energy_every = 1                            # steps between energy rows (default: about 1000 rows)
    energy_csv = "energy.csv"                   # relative to dir; false: none
    probes_csv = "probes.csv"
    plot = "energy.png"
    probe_every = 1
    [output.probes]                             # name = set or selector; mean displacement recorded
    tip = "right"

    <amplitude> = 2.0                                          # constant
                | { type = "ramp", t1 = 1e-4, t0 = 0.0 }       # 0 -> 1 over [t0, t1]
                | { type = "step", t0 = 0.0, t1 = 1e-4 }       # 1 on [t0, t1) (t1 optional)
                | { type = "table", points = [[0, 0], [1e-4, 1], [2e-4, 0]] }
                | { type = "sine", frequency = 1e3, phase = 0.0 }
"""
from __future__ import annotations

import difflib
import logging
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from fem import mandel
from fem.bc import BodyForce, Fixed, NodalForce, Prescribed, Traction
from fem.errors import DeckError, FemError
from fem.expressions import Constant, Expression, Ramp, Sine, Step, Table
from fem.material import LinearElastic, NonlinearBar, check_material
from fem.mesh import Mesh, bar, box, rectangle

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = ["Deck", "OutputSettings", "DeckRun", "load_deck", "parse_deck", "run_deck", "MATERIALS"]

log = logging.getLogger(__name__)

_REQUIRED = object()
_KINEMATICS_OF_DIM = {d: k for k, d in mandel.DIM.items()}

#: inline classical materials: type -> (class, {parameter: default or _REQUIRED})
MATERIALS: dict[str, tuple[type, dict[str, Any]]] = {
    "linear_elastic": (LinearElastic, {"E": _REQUIRED, "nu": 0.0}),
    "nonlinear_bar": (NonlinearBar, {"E1": _REQUIRED, "E2": _REQUIRED, "eps0": _REQUIRED}),
}
_GENERATORS = {"bar": ("lx", "nx"), "rectangle": ("lx", "ly", "nx", "ny", "cell"),
               "box": ("lx", "ly", "lz", "nx", "ny", "nz", "cell")}
_AMPLITUDES = {"constant": {"value": 1.0}, "ramp": {"t1": _REQUIRED, "t0": 0.0},
               "step": {"t0": _REQUIRED, "t1": None}, "table": {"points": _REQUIRED},
               "sine": {"frequency": _REQUIRED, "phase": 0.0}}
_TOP = ("title", "mesh", "material", "bc", "load", "initial", "time", "solver", "output")


# ---------------------------------------------------------------------------------------------
# the result of reading a deck
@dataclass
class OutputSettings:
    """Where and what a deck run writes (paths absolute; None = not written)."""

    dir: Path
    format: str = "vtu"
    prefix: str = "fields"
    fields: bool = True
    every: int | None = None
    energy_every: int | None = None
    energy_csv: Path | None = None
    probes_csv: Path | None = None
    plot: Path | None = None
    probes: dict = field(default_factory=dict)
    probe_every: int = 1
    compression: str | None = "zlib"

    def moved_to(self, directory) -> "OutputSettings":
        """The same settings with every file moved into ``directory`` (same names)."""
        d = Path(directory).resolve()

        def move(p):
            return None if p is None else d / p.relative_to(self.dir) if p.is_relative_to(self.dir) else d / p.name

        return OutputSettings(d, self.format, self.prefix, self.fields, self.every, self.energy_every,
                              move(self.energy_csv), move(self.probes_csv), move(self.plot), dict(self.probes),
                              self.probe_every, self.compression)


@dataclass
class Deck:
    """A checked deck: the problem, the time settings, solver options and output settings.

    ``problem`` is a :class:`fem.explicit.Problem`; ``dt`` a float (s) or ``"certified"``;
    ``material_source`` says where the material came from (``"linear_elastic"`` or the model path).
    """

    path: Path
    title: str
    problem: Any
    t_end: float
    dt: float | str
    allow_unsafe_dt: bool
    energy_tol: float | None
    output: OutputSettings
    material_source: str
    device: str = "cpu"
    dtype: str = "float64"
    threads: int | None = None
    raw: dict = field(default_factory=dict, repr=False)
    monitor_every: int | None = None

    def solve_kwargs(self, *, writer=None, on_row=None) -> dict:
        """Keyword arguments of :func:`fem.solve`; ``writer`` gets the frames, ``on_row`` the energy rows."""
        import torch

        from fem.solve_options import Compute, EnergyCheck, Monitor, Probes, SaveAt

        o = self.output
        return {"t_end": self.t_end, "dt": self.dt, "allow_unsafe_dt": self.allow_unsafe_dt,
                "save": SaveAt(every=o.every, writer=writer),
                "energy": EnergyCheck(every=o.energy_every, tol=self.energy_tol, on_row=on_row),
                "probes": Probes(dict(o.probes), every=o.probe_every) if o.probes else None,
                "monitor": Monitor(every=self.monitor_every),
                "compute": Compute(dtype=getattr(torch, self.dtype), device=self.device, num_threads=self.threads)}


# ---------------------------------------------------------------------------------------------
# typed access to one table, with errors that say where
class _Table:
    def __init__(self, data: dict, where: str, deck: "_Reader"):
        self.data, self.where, self.deck = data, where, deck

    def error(self, message: str) -> DeckError:
        return DeckError(f"{self.deck.name}: {self.where}: {message}")

    def check(self, allowed) -> None:
        """DeckError for the first key not in ``allowed``, with the nearest valid key."""
        allowed = list(allowed)
        for key in self.data:
            if key not in allowed:
                near = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
                hint = f" (did you mean {near[0]!r}?)" if near else ""
                raise self.error(f"unknown key {key!r}{hint}; valid keys here: {', '.join(sorted(allowed))}")

    def has(self, key: str) -> bool:
        return key in self.data

    def _get(self, key, default):
        if key in self.data:
            return self.data[key]
        if default is _REQUIRED:
            raise self.error(f"missing required key {key!r}")
        return default

    def _type_error(self, key, expected: str, value) -> DeckError:
        return self.error(f"{key} must be {expected}, got {type(value).__name__} {value!r}")

    def number(self, key, default=_REQUIRED, *, positive=False, nonnegative=False):
        v = self._get(key, default)
        if v is default and key not in self.data:
            return v
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise self._type_error(key, "a finite number", v)
        if positive and not v > 0:
            raise self.error(f"{key} must be > 0, got {v!r}")
        if nonnegative and not v >= 0:
            raise self.error(f"{key} must be >= 0, got {v!r}")
        return float(v)

    def integer(self, key, default=_REQUIRED, *, minimum=1):
        v = self._get(key, default)
        if v is default and key not in self.data:
            return v
        if isinstance(v, bool) or not isinstance(v, int):
            raise self._type_error(key, "an integer", v)
        if v < minimum:
            raise self.error(f"{key} must be >= {minimum}, got {v}")
        return v

    def string(self, key, default=_REQUIRED, *, choices=None):
        v = self._get(key, default)
        if v is default and key not in self.data:
            return v
        if not isinstance(v, str):
            raise self._type_error(key, "a string", v)
        if choices is not None and v not in choices:
            near = difflib.get_close_matches(v, list(choices), n=1, cutoff=0.5)
            hint = f" (did you mean {near[0]!r}?)" if near else ""
            raise self.error(f"{key} = {v!r} is not one of {', '.join(map(repr, choices))}{hint}")
        return v

    def boolean(self, key, default=_REQUIRED):
        v = self._get(key, default)
        if not isinstance(v, bool):
            raise self._type_error(key, "true or false", v)
        return v

    def vector(self, key, n: int, default=_REQUIRED) -> np.ndarray:
        v = self._get(key, default)
        ok = isinstance(v, list) and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in v)
        if not ok or len(v) != n:
            raise self.error(f"{key} must be a list of {n} numbers (one per direction of the {n}D mesh), "
                             f"got {v!r}")
        return np.asarray(v, dtype=np.float64)

    def path_or_false(self, key, default: str, base: Path) -> Path | None:
        v = self._get(key, default)
        if v is False:
            return None
        if not isinstance(v, str) or not v:
            raise self._type_error(key, "a file name or false", v)
        return (base / v).resolve()

    def table(self, key) -> "_Table | None":
        if key not in self.data:
            return None
        v = self.data[key]
        if not isinstance(v, dict):
            raise self._type_error(key, f"a table ([{self._sub(key)}])", v)
        return _Table(v, f"[{self._sub(key)}]", self.deck)

    def tables(self, key) -> list["_Table"]:
        v = self.data.get(key, [])
        if isinstance(v, dict):
            v = [v]
        if not isinstance(v, list) or not all(isinstance(x, dict) for x in v):
            raise self._type_error(key, f"an array of tables ([[{key}]])", v)
        return [_Table(x, f"[[{key}]] #{i + 1}", self.deck) for i, x in enumerate(v)]

    def _sub(self, key) -> str:
        base = self.where.strip("[]")
        return key if base == "top level" else f"{base}.{key}"


# ---------------------------------------------------------------------------------------------
# reading
class _Reader:
    """Builds a Deck from the parsed TOML (one method per table)."""

    def __init__(self, data: dict, path: Path, material_loader):
        self.path, self.name, self.base = path, path.name, path.parent
        self.data, self.material_loader = data, material_loader

    def read(self) -> Deck:
        from fem.explicit import Problem

        top = _Table(self.data, "[top level]", self)
        top.check(_TOP)
        title = top.string("title", self.path.stem)
        for key in ("mesh", "material", "time"):
            if key not in self.data:
                raise DeckError(f"{self.name}: missing required table [{key}]")
        mesh, section = self.mesh(top.table("mesh"))
        self.mesh_ = mesh
        material, density, source = self.material(top.table("material"), mesh)
        bcs = [self.bc(t) for t in top.tables("bc")]
        loads = [self.load(t) for t in top.tables("load")]
        u0, v0 = self.initial(top.table("initial"), mesh)
        t_end, dt, damping, unsafe = self.time(top.table("time"))
        energy_tol, device, dtype, threads, monitor_every = self.solver(top.table("solver"))
        output = self.output(top.table("output"), mesh)
        problem = Problem(mesh, material, density, bcs=tuple(bcs), loads=tuple(loads), u0=u0, v0=v0,
                          damping=damping, **section)
        return Deck(self.path, title, problem, t_end, dt, unsafe, energy_tol, output, source,
                    device, dtype, threads, raw=self.data, monitor_every=monitor_every)

    # -- [mesh] -----------------------------------------------------------------------------------
    def mesh(self, t: _Table):
        has_file, has_gen = t.has("file"), t.has("generator")
        common = ("thickness", "area", "tol", "sets")
        if not (has_file or has_gen):   # a misspelt key first: its suggestion is the better message
            t.check({"file", "generator", *common, *(k for ks in _GENERATORS.values() for k in ks)})
        if has_file == has_gen:
            raise t.error("give exactly one of file = \"mesh.msh\" or generator = \"bar\"|\"rectangle\"|\"box\"")
        if has_file:
            t.check(("file", *common))
            path = self.resolve(t, "file")
            try:
                mesh = Mesh.read(path)
            except FemError as exc:
                raise t.error(str(exc)) from None
        else:
            gen = t.string("generator", choices=tuple(_GENERATORS))
            t.check(("generator", *_GENERATORS[gen], *common))
            mesh = self.generate(t, gen)
        self.tol = t.number("tol", 1e-9, positive=True)
        section = {}
        if t.has("thickness"):
            if mesh.dim != 2:
                raise t.error(f"thickness applies to 2D meshes; this mesh is {mesh.dim}D"
                              + (" (use area for a bar)" if mesh.dim == 1 else ""))
            section["thickness"] = t.number("thickness", positive=True)
        if t.has("area"):
            if mesh.dim != 1:
                raise t.error(f"area (cross-section) applies to 1D meshes; this mesh is {mesh.dim}D")
            section["area"] = t.number("area", positive=True)
        sets = t.table("sets")
        if sets is not None:
            for name, sel in sets.data.items():
                if not isinstance(sel, str):
                    raise sets._type_error(name, "a selector string such as \"x == 0\"", sel)
                ids = self.select(sets, sel, self.tol, mesh, what=f"set {name!r}")
                mesh.node_sets[name] = ids
                mesh.facet_sets[name] = mesh.facets(sel, self.tol)
        return mesh, section

    def generate(self, t: _Table, gen: str) -> Mesh:
        try:
            if gen == "bar":
                return bar(t.number("lx", positive=True), t.integer("nx"))
            if gen == "rectangle":
                return rectangle(t.number("lx", positive=True), t.number("ly", positive=True),
                                 t.integer("nx"), t.integer("ny"),
                                 cell=t.string("cell", "triangle", choices=("triangle", "quad")))
            return box(t.number("lx", positive=True), t.number("ly", positive=True), t.number("lz", positive=True),
                       t.integer("nx"), t.integer("ny"), t.integer("nz"),
                       cell=t.string("cell", "hexahedron", choices=("hexahedron", "tetra")))
        except FemError as exc:
            if isinstance(exc, DeckError):
                raise
            raise t.error(str(exc)) from None

    def resolve(self, t: _Table, key: str) -> Path:
        rel = t.string(key)
        path = (self.base / rel).resolve()
        if not path.is_file():
            raise t.error(f"{key} = {rel!r}: file not found (looked for {path})")
        return path

    # -- selections -------------------------------------------------------------------------------
    def select(self, t: _Table, where: str, tol: float, mesh: Mesh, *, what: str, facets: bool = False):
        """Node ids (or boundary facets) of ``where``; DeckError naming the table if unknown or empty."""
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
                          f"(bounding box {self.bbox(mesh)}; tolerance {tol:g} × mesh size)")
        return ids

    @staticmethod
    def bbox(mesh: Mesh) -> str:
        lo, hi = mesh.points.min(axis=0), mesh.points.max(axis=0)
        return " × ".join(f"[{a:g}, {b:g}]" for a, b in zip(lo, hi))

    def where(self, t: _Table, what: str, *, facets: bool = False) -> str:
        """Check the entry's ``where`` (+ ``tol``) and return the name the solver should use."""
        where = t.string("where")
        tol = t.number("tol", self.tol, positive=True)
        ids = self.select(t, where, tol, self.mesh_, what=what, facets=facets)
        if tol != 1e-9 and where not in self.mesh_.node_sets and where not in self.mesh_.facet_sets:
            # the solver selects with the default tolerance: register the selection under a named set
            name = f"{where} [tol={tol:g}]"
            self.mesh_.node_sets[name] = self.mesh_.nodes(where, tol) if facets else ids
            self.mesh_.facet_sets[name] = ids if facets else self.mesh_.facets(where, tol)
            return name
        return where

    # -- [material] -------------------------------------------------------------------------------
    def material(self, t: _Table, mesh: Mesh):
        kinematics = _KINEMATICS_OF_DIM[mesh.dim]
        has_type, has_model = t.has("type"), t.has("model")
        if not (has_type or has_model):
            t.check({"type", "model", "density", "kinematics", *(k for _, ps in MATERIALS.values() for k in ps)})
        if has_type == has_model:
            raise t.error(f"give exactly one of type = {' | '.join(map(repr, MATERIALS))} "
                          f"or model = \"file.pt\"")
        density = None
        if has_model:
            t.check(("model", "density"))
            density = t.number("density", positive=True)
            path = self.resolve(t, "model")
            if self.material_loader is None:
                raise t.error(f"model = {t.data['model']!r} needs a material loader: run this deck with "
                              f"`lipmat run` (fem alone knows only {', '.join(MATERIALS)})")
            try:
                material = self.material_loader(str(path))
            except (ValueError, OSError, KeyError) as exc:
                raise t.error(f"cannot load model {path}: {exc}") from None
            source = str(path)
        else:
            kind = t.string("type", choices=tuple(MATERIALS))
            cls, params = MATERIALS[kind]
            extra = ("kinematics",) if kind == "linear_elastic" else ()
            t.check(("type", "density", *params, *extra))
            density = t.number("density", positive=True)
            kw = {p: t.number(p, d) for p, d in params.items()}
            if extra:
                kw["kinematics"] = t.string("kinematics", kinematics, choices=mandel.KINEMATICS)
            try:
                material = cls(**kw)
            except (FemError, ValueError) as exc:
                raise t.error(str(exc)) from None
            source = kind
        try:
            check_material(material, kinematics)
        except FemError as exc:
            raise t.error(f"{exc}; the mesh is {mesh.dim}D ({mesh.cell_type})") from None
        return material, density, source

    # -- [[bc]] -----------------------------------------------------------------------------------
    def bc(self, t: _Table):
        kind = t.string("type", "fixed", choices=("fixed", "displacement", "velocity"))
        dim = self.mesh_.dim
        if kind == "fixed":
            t.check(("type", "where", "tol", "components", "value"))
            where = self.where(t, "fixed")
            comps = t._get("components", "all")
            comps = self.components(t, "components", [comps] if isinstance(comps, (str, int)) else comps, dim)
            return Fixed(where, comps, t.number("value", 0.0))
        t.check(("type", "where", "tol", "component", "value", "amplitude"))
        where = self.where(t, kind)
        comp = t._get("component", _REQUIRED)
        (comp,) = self.components(t, "component", [comp], dim, allow_all=False)
        value = t.number("value")
        amp = self.amplitude(t)
        history = _Scaled(value, amp)
        if kind == "displacement":
            return Prescribed(where, comp, displacement=history)
        return Prescribed(where, comp, velocity=history)

    @staticmethod
    def components(t: _Table, key: str, comps, dim: int, allow_all: bool = True):
        axes = "xyz"[:dim]
        if allow_all and comps == ["all"]:
            return None
        ok = isinstance(comps, list) and comps and all(
            (isinstance(c, str) and c in axes) or (isinstance(c, int) and not isinstance(c, bool) and 0 <= c < dim)
            for c in comps)
        if not ok:
            allowed = (['"all"'] if allow_all else []) + [f'"{a}"' for a in axes]
            raise t.error(f"{key} must be {' or '.join(allowed)}" + (" or a list of them" if allow_all else "")
                          + f" on this {dim}D mesh, got {comps if len(comps) > 1 or allow_all else comps[0]!r}")
        return [axes[c] if isinstance(c, int) else c for c in comps]

    def amplitude(self, t: _Table):
        v = t.data.get("amplitude")
        if v is None:
            return None
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return Constant(float(v))
        if not isinstance(v, dict):
            raise t._type_error("amplitude", "a number or a table {type = \"ramp\", ...}", v)
        a = _Table(v, f"{t.where} amplitude", self)
        kind = a.string("type", choices=tuple(_AMPLITUDES))
        params = _AMPLITUDES[kind]
        a.check(("type", *params))
        try:
            if kind == "table":
                pts = a._get("points", _REQUIRED)
                return Table(tuple(map(tuple, pts)) if isinstance(pts, list) and all(
                    isinstance(p, list) for p in pts) else pts)
            kw = {p: (a.number(p, d) if d is not None or a.has(p) else None) for p, d in params.items()}
            return {"constant": Constant, "ramp": Ramp, "step": Step, "sine": Sine}[kind](**kw)
        except FemError as exc:
            if isinstance(exc, DeckError):
                raise
            raise a.error(str(exc)) from None

    # -- [[load]] ---------------------------------------------------------------------------------
    def load(self, t: _Table):
        kind = t.string("type", choices=("nodal", "traction", "body"))
        dim = self.mesh_.dim
        if kind == "body":
            t.check(("type", "acceleration", "amplitude"))
            return BodyForce(t.vector("acceleration", dim), self.amplitude(t))
        key = "force" if kind == "nodal" else "traction"
        t.check(("type", "where", "tol", key, "amplitude"))
        where = self.where(t, kind, facets=kind == "traction")
        vec = t.vector(key, dim)
        amp = self.amplitude(t)
        return NodalForce(where, vec, amp) if kind == "nodal" else Traction(where, vec, amp)

    # -- [initial] --------------------------------------------------------------------------------
    def initial(self, t: _Table | None, mesh: Mesh):
        if t is None:
            return None, None
        t.check(("displacement", "velocity"))
        return self.field(t, "displacement", mesh), self.field(t, "velocity", mesh)

    def field(self, t: _Table, key: str, mesh: Mesh) -> np.ndarray | None:
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
                    out[:, c] = Expression(item, dim)(mesh.points)
                except FemError as exc:
                    raise t.error(f"{key}[{c}]: {exc}") from None
            else:
                raise t.error(f"{key}[{c}] must be a number or an expression string, got {item!r}")
        bad = ~np.isfinite(out)
        if bad.any():
            i, c = np.argwhere(bad)[0]
            raise t.error(f"{key}[{c}] is not finite at node {i} ({mesh.points[i].tolist()})")
        return out

    # -- [time], [solver] -------------------------------------------------------------------------
    def time(self, t: _Table):
        t.check(("end", "dt", "damping", "allow_unsafe_dt"))
        end = t.number("end", positive=True)
        dt = t._get("dt", _REQUIRED)
        if isinstance(dt, str):
            if dt != "certified":
                raise t.error(f"dt must be a number (s) or \"certified\", got {dt!r}")
        else:
            dt = t.number("dt", positive=True)
        return end, dt, t.number("damping", 0.0, nonnegative=True), t.boolean("allow_unsafe_dt", False)

    def solver(self, t: _Table | None):
        if t is None:
            return 0.5, "cpu", "float64", None, None
        t.check(("energy_tol", "device", "dtype", "threads", "monitor_every"))
        tol = t.data.get("energy_tol", 0.5)
        tol = None if tol is False else t.number("energy_tol", 0.5, positive=True)
        threads = t.integer("threads", None) if t.has("threads") else None
        monitor = t.integer("monitor_every", None) if t.has("monitor_every") else None
        return (tol, t.string("device", "cpu"), t.string("dtype", "float64", choices=("float64", "float32")),
                threads, monitor)

    # -- [output] ---------------------------------------------------------------------------------
    def output(self, t: _Table | None, mesh: Mesh) -> OutputSettings:
        default_dir = self.base / f"{self.path.stem}_out"
        if t is None:
            d = default_dir.resolve()
            return OutputSettings(d, energy_csv=d / "energy.csv", probes_csv=d / "probes.csv", plot=d / "energy.png")
        t.check(("dir", "format", "prefix", "fields", "every", "energy_every", "energy_csv", "probes_csv",
                 "plot", "probes", "probe_every", "compression"))
        d = (self.base / t.string("dir")).resolve() if t.has("dir") else default_dir.resolve()
        probes = {}
        p = t.table("probes")
        if p is not None:
            for name, sel in p.data.items():
                if not isinstance(sel, str):
                    raise p._type_error(name, "a set name or selector string", sel)
                tol = self.tol
                self.select(p, sel, tol, mesh, what=f"probe {name!r}")
                probes[name] = sel
        return OutputSettings(
            d, format=t.string("format", "vtu", choices=("vtu", "xdmf")), prefix=t.string("prefix", "fields"),
            fields=t.boolean("fields", True), every=t.integer("every", None) if t.has("every") else None,
            energy_every=t.integer("energy_every", None) if t.has("energy_every") else None,
            energy_csv=t.path_or_false("energy_csv", "energy.csv", d),
            probes_csv=t.path_or_false("probes_csv", "probes.csv", d),
            plot=t.path_or_false("plot", "energy.png", d), probes=probes,
            probe_every=t.integer("probe_every", 1),
            compression=_none(t.string("compression", "zlib", choices=("zlib", "lzma", "none"))))


def _none(v: str) -> str | None:
    return None if v == "none" else v


@dataclass(frozen=True)
class _Scaled:
    """``value × amplitude(t)`` (amplitude None = 1): a prescribed displacement/velocity history."""

    value: float
    amplitude: Callable[[float], float] | None = None

    def __call__(self, t: float) -> float:
        return self.value if self.amplitude is None else self.value * float(self.amplitude(t))


# ---------------------------------------------------------------------------------------------
# public entry points
def parse_deck(text: str, *, path="deck.toml", material_loader=None) -> Deck:
    """Build a :class:`Deck` from TOML ``text``; ``path`` names the deck in messages and is the base of
    relative paths (its folder)."""
    path = Path(path).resolve()
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise DeckError(f"{path.name}: not valid TOML: {exc}") from None
    return _Reader(data, path, material_loader).read()


def load_deck(path, *, material_loader: Callable[[str], Any] | None = None) -> Deck:
    """Read and check the deck at ``path`` (see the module docstring for the schema).

    material_loader : ``str path -> material`` for ``model = "file.pt"`` (lipmat's CLI supplies
    ``lipmat.load``); fem itself knows only the inline laws in :data:`MATERIALS`.
    Raises FileNotFoundError when the deck is missing and DeckError for everything wrong inside it.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"deck not found: {path}")
    return parse_deck(path.read_text(encoding="utf-8"), path=path, material_loader=material_loader)


@dataclass
class DeckRun:
    """What :func:`run_deck` produced: the solver's Result and the files written (name -> Path)."""

    result: Any
    files: dict
    frames: int = 0


class _SeriesWithEnergy:
    """Field writer wrapper: after every frame it also rewrites the energy CSV, so a run that dies
    keeps its energy history up to its last frame."""

    def __init__(self, writer, rows: list, path: Path | None):
        self.writer, self.rows, self.path = writer, rows, path

    def write(self, t, point_data, cell_data=None):
        if self.writer is not None:
            self.writer.write(t, point_data, cell_data)
        self.flush()

    def flush(self):
        from fem.output import write_energy_csv

        if self.path is not None and self.rows:
            write_energy_csv(self.path, {k: np.array([r[k] for r in self.rows]) for k in self.rows[0]})

    def close(self):
        if self.writer is not None:
            self.writer.close()


def run_deck(deck: Deck, *, out_dir=None, progress: bool | None = None) -> DeckRun:
    """Run ``deck`` with :func:`fem.explicit.solve` and write its outputs.

    out_dir : overrides ``[output] dir``. progress : tqdm bar (None: when stderr is a terminal).
    Writes the field series (if ``fields``), the energy CSV (also after every frame), the probes CSV
    and the energy plot; everything atomically. Returns a :class:`DeckRun` whatever the run's status
    (a stopped run keeps what it wrote); bad settings raise FemError before anything runs.
    """
    from fem.explicit import solve
    from fem.output import FieldWriter, plot_energies, write_energy_csv, write_probes_csv

    out = deck.output if out_dir is None else deck.output.moved_to(out_dir)
    out.dir.mkdir(parents=True, exist_ok=True)
    for p in (out.energy_csv, out.probes_csv, out.plot):
        if p is not None:
            p.parent.mkdir(parents=True, exist_ok=True)
    writer = (FieldWriter(out.dir, deck.problem.mesh, format=out.format, prefix=out.prefix,
                          compression=out.compression) if out.fields else None)
    rows: list[dict] = []
    series = _SeriesWithEnergy(writer, rows, out.energy_csv)
    result = solve(deck.problem, progress=progress, **deck.solve_kwargs(writer=series, on_row=rows.append))
    files = {}
    if writer is not None:
        files["fields"] = writer.index
    if out.energy_csv is not None and len(result.energies.get("time", ())):
        files["energy_csv"] = write_energy_csv(out.energy_csv, result.energies)
    if out.probes_csv is not None and result.probes:
        files["probes_csv"] = write_probes_csv(out.probes_csv, result.probes)
    if out.plot is not None and len(result.energies.get("time", ())):
        files["plot"] = plot_energies(out.plot, result.energies, title=deck.title)
    return DeckRun(result, files, 0 if writer is None else len(writer.times))
