"""Reading a deck: TOML text -> checked :class:`~fem.deck.Deck` (one method per table).

:func:`parse_deck` / :func:`load_deck` are the entry points. The typed access and the located
errors are :class:`fem.deck.table.Table`'s; the rules of conditions, loads and initial fields are in
:mod:`fem.deck.conditions`; here are the mesh, material, time, solver and output tables.
"""
from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any, Callable

from fem.core import mandel
from fem.deck.conditions import read_bc, read_initial, read_load, read_reactions, select
from fem.deck.restart import fingerprint, read_checkpoint
from fem.deck.scalars import read_scalars
from fem.deck.settings import Deck, OutputSettings
from fem.deck.table import REQUIRED, Table
from fem.materials import hyperelastic
from fem.core.errors import DeckError, FemError
from fem.core.limits import Limits, check_device, check_threads, check_modulus, check_poisson, check_run, count_steps, estimate_output
from fem.materials.classical import LinearElastic, NonlinearBar
from fem.materials.protocol import check_material, is_finite_strain
from fem.discretisation.mesh import Mesh, bar, box, rectangle

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = ["parse_deck", "load_deck", "MATERIALS", "GENERATORS"]

log = logging.getLogger(__name__)


#: inline classical materials: type -> (class, {parameter: default or REQUIRED})
MATERIALS: dict[str, tuple[type, dict[str, Any]]] = {
    "linear_elastic": (LinearElastic, {"E": REQUIRED, "nu": 0.0}),
    "nonlinear_bar": (NonlinearBar, {"E1": REQUIRED, "E2": REQUIRED, "eps0": REQUIRED}),
    # finite strain (plane strain and 3D meshes), fem.materials.hyperelastic: + exactly one of K, nu; optional domain
    "neo_hookean": (hyperelastic.NeoHookean, {"mu": REQUIRED}),
    "mooney_rivlin": (hyperelastic.MooneyRivlin, {"C10": REQUIRED, "C01": REQUIRED}),
    "yeoh": (hyperelastic.Yeoh, {"C1": REQUIRED, "C2": 0.0, "C3": 0.0}),
    "ogden": (hyperelastic.Ogden, {"mu": REQUIRED, "alpha": REQUIRED}),
    "gent": (hyperelastic.Gent, {"mu": REQUIRED, "Jm": REQUIRED}),
    "arruda_boyce": (hyperelastic.ArrudaBoyce, {"mu": REQUIRED, "N": REQUIRED}),
}
#: keys every finite-strain inline law takes besides its own (bulk modulus or Poisson ratio, certified domain)
FINITE_STRAIN_KEYS = ("K", "nu", "domain")
_FINITE_STRAIN_TYPES = ("neo_hookean", "mooney_rivlin", "yeoh", "ogden", "gent", "arruda_boyce")
_LIST_PARAMS = {"ogden": ("mu", "alpha")}
#: mesh generators: name -> their keys in [mesh]
GENERATORS = {"bar": ("lx", "nx"), "rectangle": ("lx", "ly", "nx", "ny", "cell"),
              "box": ("lx", "ly", "lz", "nx", "ny", "nz", "cell")}
_TOP = ("title", "mesh", "material", "bc", "load", "initial", "time", "solver", "output", "checkpoint")
DEFAULT_TOL = 1e-9


def _numbers(t: Table, key) -> list[float]:
    """A non-empty list of numbers (Ogden's mu and alpha)."""
    v = t.get(key, REQUIRED)
    if not (isinstance(v, list) and v and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in v)):
        raise t.type_error(key, "a non-empty list of numbers", v)
    return [float(x) for x in v]


def _finite_strain_options(t: Table) -> dict:
    """K or nu (exactly one; the law checks) and the certified domain of a finite-strain inline law.

    ``domain = [lam_lo, lam_hi, J_lo, J_hi]`` (principal stretches and J = det F), ``false`` for no
    certified domain (no certified dt: give dt as a number), absent for the law's default domain.
    """
    kw = {}
    if t.has("K"):
        kw["K"] = t.number("K", positive=True)
    if t.has("nu"):
        kw["nu"] = t.number("nu")
    if t.has("domain"):
        v = t.get("domain", REQUIRED)
        if v is False:
            kw["domain"] = False
        else:
            lo_hi = t.vector("domain", 4) if isinstance(v, list) and len(v) == 4 else None
            if lo_hi is None:
                raise t.type_error("domain", "[lam_lo, lam_hi, J_lo, J_hi] or false", v)
            try:
                kw["domain"] = hyperelastic.StretchDomain(*(float(x) for x in lo_hi))
            except FemError as exc:
                raise t.error(str(exc)) from None
    return kw


def _plane_stress(t: Table, material, mesh: Mesh):
    """``plane_stress = true``: the finite-strain law in plane stress on a 2D mesh (F33 solved so that P33 = 0,
    :class:`fem.materials.hyperelastic.PlaneStress`); a located DeckError for a 1D/3D mesh or a law without F."""
    if mesh.dim != 2:
        raise t.error(f"plane_stress = true applies to 2D meshes (a sheet); this mesh is {mesh.dim}D "
                      f"({mesh.cell_type})")
    if not is_finite_strain(material):
        raise t.error(f"plane_stress = true needs a finite-strain law (F in, P out: neo_hookean, ..., or a "
                      f"finite-strain model file); received {type(material).__name__}, a small-strain law")
    try:
        return hyperelastic.PlaneStress(material)
    except FemError as exc:
        raise t.error(str(exc)) from None


#: [solver] keys of the stability options (:mod:`fem.stability.viscosity`, :mod:`fem.stability.discrete_energy`)
STABILITY_KEYS = ("bulk_viscosity", "bulk_viscosity_linear", "bulk_viscosity_quadratic", "bulk_viscosity_cap",
                  "energy_guard")


class _Reader:
    """Builds a Deck from the parsed TOML."""

    def __init__(self, data: dict, path: Path, material_loader, limits: Limits | None = None):
        self.limits_override = limits
        self.path, self.name, self.base = path, path.name, path.parent
        self.data, self.material_loader = data, material_loader
        self.tol = DEFAULT_TOL

    def read(self) -> Deck:
        from fem.solver.problem import Problem

        top = Table(self.data, "[top level]", self.name)
        top.check(_TOP)
        title = top.string("title", self.path.stem)
        for key in ("mesh", "material", "time"):
            if key not in self.data:
                raise DeckError(f"{self.name}: missing required table [{key}]")
        mesh, section = self.mesh(top.table("mesh"))
        material, density, source = self.material(top.table("material"), mesh)
        bcs = [read_bc(t, mesh, self.tol) for t in top.tables("bc")]
        loads = [read_load(t, mesh, self.tol) for t in top.tables("load")]
        u0, v0 = read_initial(top.table("initial"), mesh)
        t_end, dt, damping, unsafe = self.time(top.table("time"))
        energy_tol, device, dtype, threads, monitor_every = self.solver(top.table("solver"))
        output = self.output(top.table("output"), mesh, bcs)
        limits = self.limits_override or self.limits(top.table("solver"), top.table("output"))
        self.size_run(top.table("time"), mesh, t_end, dt, output, limits)
        every, ck_file = read_checkpoint(top.table("checkpoint"))
        problem = Problem(mesh, material, density, bcs=tuple(bcs), loads=tuple(loads), u0=u0, v0=v0,
                          damping=damping, **section)
        return Deck(self.path, title, problem, t_end, dt, unsafe, energy_tol, output, source,
                    device, dtype, threads, raw=self.data, monitor_every=monitor_every, limits=limits,
                    certified_method=self.certified_method(top.table("solver")),
                    checkpoint_every=every, checkpoint_file=ck_file, fingerprint=fingerprint(self.data, self.base),
                    **self.stability(top.table("solver")))

    # -- [mesh] -----------------------------------------------------------------------------------
    def mesh(self, t: Table):
        has_file, has_gen = t.has("file"), t.has("generator")
        common = ("thickness", "area", "tol", "sets")
        if not (has_file or has_gen):   # a misspelt key first: its suggestion is the better message
            t.check({"file", "generator", *common, *(k for ks in GENERATORS.values() for k in ks)})
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
            gen = t.string("generator", choices=tuple(GENERATORS))
            t.check(("generator", *GENERATORS[gen], *common))
            mesh = self.generate(t, gen)
        self.tol = t.number("tol", DEFAULT_TOL, positive=True)
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
                    raise sets.type_error(name, "a selector string such as \"x == 0\"", sel)
                ids = select(sets, sel, self.tol, mesh, what=f"set {name!r}")
                mesh.node_sets[name] = ids
                mesh.facet_sets[name] = mesh.facets(sel, self.tol)
        return mesh, section

    def generate(self, t: Table, gen: str) -> Mesh:
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

    def resolve(self, t: Table, key: str) -> Path:
        rel = t.string(key)
        path = (self.base / rel).resolve()
        if path.exists() and not path.is_file():
            raise t.error(f"{key} = {rel!r}: {path} is not a regular file (a folder, FIFO or device); expected a file")
        if not path.is_file():
            raise t.error(f"{key} = {rel!r}: file not found (looked for {path})")
        return path

    # -- [material] -------------------------------------------------------------------------------
    def material(self, t: Table, mesh: Mesh):
        kinematics = mandel.KINEMATICS_OF_DIM[mesh.dim]
        has_type, has_model = t.has("type"), t.has("model")
        if not (has_type or has_model):
            t.check({"type", "model", "density", "kinematics", "plane_stress", *FINITE_STRAIN_KEYS,
                     *(k for _, ps in MATERIALS.values() for k in ps)})
        if has_type == has_model:
            raise t.error(f"give exactly one of type = {' | '.join(map(repr, MATERIALS))} "
                          f"or model = \"file.pt\"")
        density = None
        if has_model:
            t.check(("model", "density", "plane_stress"))
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
            extra += FINITE_STRAIN_KEYS if kind in _FINITE_STRAIN_TYPES else ()
            t.check(("type", "density", "plane_stress", *params, *extra))
            density = t.number("density", positive=True)
            lists = _LIST_PARAMS.get(kind, ())
            kw = {p: (_numbers(t, p) if p in lists else t.number(p, d)) for p, d in params.items()}
            if kind in _FINITE_STRAIN_TYPES:
                kw.update(_finite_strain_options(t))
            elif extra:
                kw["kinematics"] = t.string("kinematics", kinematics, choices=mandel.KINEMATICS)
            try:
                material = cls(**kw)   # its own checks first (E > 0, -1 < nu < 0.5), then float-safe ranges
                for p in ("E", "E1", "E2"):
                    if p in kw:
                        check_modulus(kw[p], p, kind)
                if kind == "linear_elastic":
                    check_poisson(kw["nu"], kind)
            except (FemError, ValueError) as exc:
                raise t.error(str(exc)) from None
            source = kind
        if t.boolean("plane_stress", False):
            material = _plane_stress(t, material, mesh)
        try:
            check_material(material, kinematics)
        except FemError as exc:
            raise t.error(f"{exc}; the mesh is {mesh.dim}D ({mesh.cell_type})") from None
        return material, density, source

    # -- [time], [solver] -------------------------------------------------------------------------
    def time(self, t: Table):
        if t.has("damping"):      # renamed: one name per meaning (`lipmat dt --damping-ratio` is xi)
            raise t.error("'damping' was renamed 'mass_damping' (mass-proportional alpha in 1/s, C = alpha*M); "
                          "a fraction of critical damping xi is not a deck key")
        t.check(("end", "dt", "mass_damping", "allow_unsafe_dt"))
        end = t.number("end", positive=True)
        dt = t.get("dt", REQUIRED)
        if isinstance(dt, str):
            if dt != "certified":
                raise t.error(f"dt must be a number (s) or \"certified\", got {dt!r}")
        else:
            dt = t.number("dt", positive=True)
        return end, dt, t.number("mass_damping", 0.0, nonnegative=True), t.boolean("allow_unsafe_dt", False)

    def solver(self, t: Table | None):
        if t is None:
            return 0.5, "cpu", "float64", None, None
        t.check(("energy_tol", "device", "dtype", "threads", "monitor_every", "certified_method", "max_steps")
                + STABILITY_KEYS)
        tol = t.data.get("energy_tol", 0.5)
        tol = None if tol is False else t.number("energy_tol", 0.5, positive=True)
        threads = t.integer("threads", None) if t.has("threads") else None
        monitor = t.integer("monitor_every", None) if t.has("monitor_every") else None
        device = t.string("device", "cpu")
        try:
            check_device(device)
            check_threads(threads, "threads")
        except FemError as exc:
            raise t.error(str(exc)) from None
        return (tol, device, t.string("dtype", "float64", choices=("float64", "float32")), threads, monitor)

    @staticmethod
    def limits(solver: Table | None, output: Table | None) -> Limits:
        """[solver] max_steps, [output] max_frames / max_bytes: a number >= 1, or false for no limit."""
        kw = {}
        for t, key in ((solver, "max_steps"), (output, "max_frames"), (output, "max_bytes")):
            if t is not None and t.has(key):
                kw[key] = None if t.data[key] is False else t.number(key, positive=True)
                if kw[key] is not None and kw[key] < 1:
                    raise t.error(f"{key} must be a number >= 1 or false (no limit), got {t.data[key]!r}")
        return Limits(**kw)

    def size_run(self, t: Table, mesh: Mesh, t_end: float, dt, output: OutputSettings, limits: Limits) -> None:
        """With a numeric dt the run is sized here (a located error); with "certified" fem.solve does it."""
        if isinstance(dt, str):
            return
        try:
            n = count_steps(t_end, dt)
            check_run(n, None, limits)
            check_run(n, estimate_output(mesh, int(n), save_every=output.every, energy_every=output.energy_every,
                                         fields=output.fields,
                                         n_probes=len(output.probes) + len(output.reactions),
                                         probe_every=output.probe_every), limits)
        except FemError as exc:
            raise t.error(f"end = {t_end!r} s, dt = {dt!r} s: {exc}") from None

    @staticmethod
    def stability(t: Table | None) -> dict:
        """[solver] bulk_viscosity (true/false), bulk_viscosity_linear / _quadratic / _cap (numbers >= 0) and
        energy_guard (a number > 0 or false): the Deck's ``viscosity`` and ``energy_guard``."""
        from fem.stability.discrete_energy import DEFAULT_GUARD_TOL
        from fem.stability.viscosity import BulkViscosity

        if t is None:
            return {"viscosity": BulkViscosity(), "energy_guard": DEFAULT_GUARD_TOL}
        d = BulkViscosity()
        kw = {"enabled": t.boolean("bulk_viscosity", True),
              "linear": t.number("bulk_viscosity_linear", d.linear, nonnegative=True),
              "quadratic": t.number("bulk_viscosity_quadratic", d.quadratic, nonnegative=True),
              "cap": t.number("bulk_viscosity_cap", d.cap, nonnegative=True)}
        guard = t.data.get("energy_guard", DEFAULT_GUARD_TOL)
        guard = None if guard is False else t.number("energy_guard", DEFAULT_GUARD_TOL, positive=True)
        try:
            return {"viscosity": BulkViscosity(**kw), "energy_guard": guard}
        except ValueError as exc:
            raise t.error(str(exc)) from None

    def certified_method(self, t: Table | None) -> str:
        """[solver] certified_method: the form of dt = "certified" (:class:`fem.stability.timestep.CertifiedStep`)."""
        from fem.stability.timestep import CERTIFIED_METHODS

        return "auto" if t is None else t.string("certified_method", "auto", choices=CERTIFIED_METHODS)

    # -- [output] ---------------------------------------------------------------------------------
    def output(self, t: Table | None, mesh: Mesh, bcs=()) -> OutputSettings:
        default_dir = self.base / f"{self.path.stem}_out"
        if t is None:
            d = default_dir.resolve()
            return OutputSettings(d, energy_csv=d / "energy.csv", probes_csv=d / "probes.csv", plot=d / "energy.png")
        t.check(("dir", "format", "prefix", "fields", "every", "energy_every", "energy_csv", "probes_csv",
                 "plot", "probes", "probe_every", "compression", "max_frames", "max_bytes", "scalars",
                 "reactions"))
        d = (self.base / t.string("dir")).resolve() if t.has("dir") else default_dir.resolve()
        probes, probe_nodes = {}, {}
        p = t.table("probes")
        if p is not None:
            for name, sel in p.data.items():
                if not isinstance(sel, str):
                    raise p.type_error(name, "a set name or selector string", sel)
                probe_nodes[name] = select(p, sel, self.tol, mesh, what=f"probe {name!r}")
                probes[name] = sel
        reactions, reaction_nodes = read_reactions(t.table("reactions"), self.tol, mesh, bcs, probes)
        fmt, fields = t.string("format", "vtu", choices=("vtu", "xdmf")), t.boolean("fields", True)
        return OutputSettings(
            d, format=fmt, prefix=t.string("prefix", "fields"),
            fields=fields, scalars=read_scalars(t.table("scalars"), {**probes, **reactions}, fields=fields, format=fmt),
            every=t.integer("every", None) if t.has("every") else None,
            energy_every=t.integer("energy_every", None) if t.has("energy_every") else None,
            energy_csv=t.path_or_false("energy_csv", "energy.csv", d),
            probes_csv=t.path_or_false("probes_csv", "probes.csv", d),
            plot=t.path_or_false("plot", "energy.png", d), probes=probes,
            probe_every=t.integer("probe_every", 1),
            compression=_none(t.string("compression", "zlib", choices=("zlib", "lzma", "none"))),
            probe_nodes=probe_nodes, reactions=reactions, reaction_nodes=reaction_nodes)


def _none(v: str) -> str | None:
    return None if v == "none" else v


# ---------------------------------------------------------------------------------------------
# entry points
def parse_deck(text: str, *, path="deck.toml", material_loader=None, limits: Limits | None = None) -> Deck:
    """Build a :class:`Deck` from TOML ``text``; ``path`` names the deck in messages and is the base of
    relative paths (its folder). ``limits`` replaces the deck's own run-size limits (``Limits.off()``:
    none, as ``lipmat run --force``)."""
    path = Path(path).resolve()
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise DeckError(f"{path.name}: not valid TOML: {exc}") from None
    return _Reader(data, path, material_loader, limits).read()


def load_deck(path, *, material_loader: Callable[[str], Any] | None = None, limits: Limits | None = None) -> Deck:
    """Read and check the deck at ``path`` (see :mod:`fem.deck` for the schema).

    material_loader : ``str path -> material`` for ``model = "file.pt"`` (lipmat's CLI supplies
    ``lipmat.load``); fem itself knows only the inline laws in :data:`MATERIALS`.
    Raises FileNotFoundError when the deck is missing and DeckError for everything wrong inside it.
    """
    path = Path(path)
    if path.exists() and not path.is_file():   # a folder, FIFO or device: reading it would fail or block
        raise DeckError(f"{path}: not a regular file; expected a TOML deck")
    if not path.is_file():
        raise FileNotFoundError(f"deck not found: {path}")
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise DeckError(f"{path}: not a text deck: byte {exc.start} (line {line}) is not UTF-8 "
                        f"({data[exc.start:exc.start + 1]!r}); expected a TOML file in UTF-8") from None
    return parse_deck(text, path=path, material_loader=material_loader, limits=limits)
