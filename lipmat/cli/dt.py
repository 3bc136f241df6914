"""Certified and measured stable time steps for a mesh and a material.

Prints the certified step (element form, and the global form unless --method element), the
measured critical step at the reference state u = 0 (an estimate: top eigenvalue of M⁻¹K(0) by
Lanczos), their ratio, and the controlling element (id and centroid).

MESH is a mesh file (anything meshio reads: .msh, .vtu, .inp, ...) or a generator spec
``KIND:key=value,...``:
  bar:L=1,n=100                              1D bar (L length, n elements; area does not change dt)
  rect:lx=1,ly=1,nx=10,ny=10,cell=triangle   2D plane strain; cell triangle | quad
  box:lx=1,ly=1,lz=1,nx=4,ny=4,nz=4,cell=hexahedron   3D; cell hexahedron | tetra
every spec also takes distort=AMOUNT[,seed=S] (interior nodes jittered by AMOUNT × local h, AMOUNT in
[0, 0.4]). Counts are integers (2.7 is refused, not truncated); a spec may ask for at most 2e6 cells.

MODEL is ``linear:E=...,nu=...`` (isotropic linear elasticity; nu omitted = 0), ``nonlinear-bar:
E1=...,E2=...,eps0=...`` (fem.NonlinearBar, 1D), or a model file written by lipmat (.pt).
Accepted ranges (SI units; outside them is almost surely a unit slip): density 1e-6 to 1e6 kg/m^3,
E, E1, E2 1e-6 to 1e15 Pa, --damping-ratio (fraction of critical, xi) 0 to 1, --safety in (0, 1].

Example:
  lipmat dt --mesh rect:lx=0.2,ly=0.05,nx=40,ny=10 --model linear:E=2e9,nu=0.45 --density 1100
"""
from __future__ import annotations

import argparse
import math
from pathlib import Path

from lipmat.errors import LipmatError

HELP = "certified and measured stable time steps for a mesh and a material"

_GENERATORS = {
    "bar": {"L": 1.0, "n": 10},
    "rect": {"lx": 1.0, "ly": 1.0, "nx": 10, "ny": 10, "cell": "triangle"},
    "box": {"lx": 1.0, "ly": 1.0, "lz": 1.0, "nx": 4, "ny": 4, "nz": 4, "cell": "hexahedron"},
}
_COMMON = {"distort": 0.0, "seed": 0}
_CELLS = {"rect": ("triangle", "quad"), "box": ("hexahedron", "tetra")}
#: Largest mesh a generator spec may ask for (cells); larger meshes: write a mesh file.
MAX_GENERATED_CELLS = 2_000_000
#: Accepted ranges of the physical inputs (SI units). Values outside are almost surely a unit slip, and
#: far outside they overflow or underflow the eigenvalue bounds (1e-300 kg/m^3 or E = 1e300 Pa).
DENSITY_RANGE = (1e-6, 1e6)          # kg/m^3
MODULUS_RANGE = (1e-6, 1e15)         # Pa (E, E1, E2)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--mesh", required=True, metavar="MESH", help="mesh file or generator spec (see above)")
    parser.add_argument("--model", required=True, metavar="MODEL",
                        help="linear:E=..,nu=.. | nonlinear-bar:E1=..,E2=..,eps0=.. | file.pt")
    parser.add_argument("--density", required=True, type=float, metavar="RHO",
                        help=f"mass density, kg/m^3, in [{DENSITY_RANGE[0]:g}, {DENSITY_RANGE[1]:g}]")
    parser.add_argument("--method", choices=("element", "global", "both"), default="both",
                        help="certified bound(s) to compute (default both; the element form is always reported)")
    parser.add_argument("--damping-ratio", type=float, default=0.0, metavar="XI", dest="damping_ratio",
                        help="damping as a fraction of critical in the top mode, xi in [0, 1] (default 0)")
    parser.add_argument("--damping", action=_Renamed, nargs="?", help=argparse.SUPPRESS)
    parser.add_argument("--safety", type=float, default=1.0, help="factor in (0, 1] applied to the certified step")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")


class _Renamed(argparse.Action):
    """The old ``--damping`` option: one name per meaning (a deck's damping is a rate alpha in 1/s)."""

    def __call__(self, parser, namespace, values, option_string=None):
        parser.error("--damping was renamed --damping-ratio (a fraction of critical damping, xi); "
                     "a deck's [time] mass_damping is a rate alpha in 1/s")


def _parse_kv(spec: str, text: str, defaults: dict, what: str) -> dict:
    """Parse ``key=value,...`` against ``defaults`` (types from the defaults: int, float, str)."""
    out = dict(defaults)
    seen = set()
    for item in (t.strip() for t in text.split(",")):
        if not item:
            continue
        key, eq, value = item.partition("=")
        key, value = key.strip(), value.strip()
        if not eq or key not in defaults:
            raise LipmatError(f"{what} {spec!r}: expected key=value with keys {sorted(defaults)}, received {item!r}")
        if key in seen:
            raise LipmatError(f"{what} {spec!r}: key {key!r} given twice")
        seen.add(key)
        out[key] = _typed(spec, what, key, value, defaults[key])
    return out


def _typed(spec: str, what: str, key: str, value: str, default):
    if isinstance(default, str):
        return value
    if "_" in value:
        raise LipmatError(f"{what} {spec!r}: {key} must be a plain number, received {value!r} (no underscores)")
    try:
        number = float(value)
    except ValueError:
        kind = "an integer" if isinstance(default, int) else "a number"
        raise LipmatError(f"{what} {spec!r}: {key} must be {kind}, received {value!r}") from None
    if not math.isfinite(number):
        raise LipmatError(f"{what} {spec!r}: {key} must be a finite number, received {value!r}")
    if isinstance(default, int):
        if number != int(number):
            raise LipmatError(f"{what} {spec!r}: {key} must be an integer, received {value!r}")
        return int(number)
    return number


def _check_range(spec: str, key: str, value: float, lo: float, hi: float, unit: str, what="model spec") -> None:
    if not lo <= value <= hi:
        raise LipmatError(f"{what} {spec!r}: {key} = {value:g} {unit} is outside the accepted range "
                          f"[{lo:g}, {hi:g}] {unit}")


def _check_generator(spec: str, kind: str, p: dict) -> None:
    lengths = {"bar": ("L",), "rect": ("lx", "ly"), "box": ("lx", "ly", "lz")}[kind]
    counts = {"bar": ("n",), "rect": ("nx", "ny"), "box": ("nx", "ny", "nz")}[kind]
    for key in lengths:
        if not p[key] > 0:
            raise LipmatError(f"mesh spec {spec!r}: {key} must be a length > 0, received {p[key]:g}")
    for key in counts:
        if p[key] < 1:
            raise LipmatError(f"mesh spec {spec!r}: {key} must be an element count >= 1, received {p[key]}")
    if kind in _CELLS and p["cell"] not in _CELLS[kind]:
        raise LipmatError(f"mesh spec {spec!r}: cell must be one of {list(_CELLS[kind])}, received {p['cell']!r}")
    cells = math.prod(p[k] for k in counts) * (2 if p.get("cell") == "triangle" else 6 if p.get("cell") == "tetra"
                                              else 1)
    if cells > MAX_GENERATED_CELLS:
        raise LipmatError(f"mesh spec {spec!r}: {cells:.3g} cells exceed the generator limit "
                          f"{MAX_GENERATED_CELLS:.3g}; use fewer elements or a mesh file")
    if not 0.0 <= p["distort"] <= 0.4:
        raise LipmatError(f"mesh spec {spec!r}: distort must lie in [0, 0.4] (fraction of the local cell size), "
                          f"received {p['distort']:g}")
    if p["seed"] < 0:
        raise LipmatError(f"mesh spec {spec!r}: seed must be an integer >= 0, received {p['seed']}")


def load_mesh(spec: str):
    """A fem.Mesh from a file path or a generator spec (module docstring)."""
    import fem

    kind, colon, rest = spec.partition(":")
    if colon and kind in _GENERATORS and not Path(spec).exists():
        p = _parse_kv(spec, rest, {**_GENERATORS[kind], **_COMMON}, "mesh spec")
        _check_generator(spec, kind, p)
        if kind == "bar":
            mesh = fem.bar(p["L"], p["n"])
        elif kind == "rect":
            mesh = fem.rectangle(p["lx"], p["ly"], p["nx"], p["ny"], cell=p["cell"])
        else:
            mesh = fem.box(p["lx"], p["ly"], p["lz"], p["nx"], p["ny"], p["nz"], cell=p["cell"])
        return fem.distort(mesh, p["distort"], seed=p["seed"]) if p["distort"] else mesh
    path = Path(spec)
    if not path.is_file():
        if path.is_dir():
            raise LipmatError(f"--mesh {spec!r} is a folder; expected a mesh file or a generator spec")
        hint = f" (generator kinds: {', '.join(_GENERATORS)})" if colon else ""
        raise FileNotFoundError(f"mesh file {spec!r} not found{hint}; expected a mesh file (.msh, .vtu, .inp, ...) "
                                f"or a generator spec such as bar:L=1,n=100")
    return fem.Mesh.read(path)


def load_material(spec: str, kinematics: str):
    """A fem material from ``linear:...``, ``nonlinear-bar:...`` or a lipmat model file."""
    import fem

    kind, colon, rest = spec.partition(":")
    if colon and kind == "linear":
        p = _parse_kv(spec, rest, {"E": math.nan, "nu": 0.0}, "model spec")
        if math.isnan(p["E"]):
            raise LipmatError(f"model spec {spec!r}: E is required (e.g. linear:E=2e9,nu=0.3)")
        _check_range(spec, "E", p["E"], *MODULUS_RANGE, "Pa")
        if not -1.0 < p["nu"] < 0.5:
            raise LipmatError(f"model spec {spec!r}: nu (Poisson's ratio) must lie in (-1, 0.5), received {p['nu']:g}")
        return fem.LinearElastic(p["E"], p["nu"], kinematics)
    if colon and kind == "nonlinear-bar":
        p = _parse_kv(spec, rest, {"E1": 1.0, "E2": 3.0, "eps0": 0.1}, "model spec")
        _check_range(spec, "E1", p["E1"], *MODULUS_RANGE, "Pa")
        _check_range(spec, "E2", p["E2"], *MODULUS_RANGE, "Pa")
        if not 0 < p["eps0"] <= 10:
            raise LipmatError(f"model spec {spec!r}: eps0 must lie in (0, 10] (a strain), received {p['eps0']:g}")
        return fem.NonlinearBar(p["E1"], p["E2"], p["eps0"])
    path = Path(spec)
    if not path.is_file():
        if colon and not path.suffix:
            raise LipmatError(f"unknown model spec {spec!r}: expected linear:E=..,nu=.., "
                              f"nonlinear-bar:E1=..,E2=..,eps0=.., or a model file (.pt)")
        raise FileNotFoundError(f"model file {spec!r} not found; expected a model file written by lipmat fit, "
                                f"linear:E=..,nu=.. or nonlinear-bar:E1=..,E2=..,eps0=..")
    from lipmat.io import load

    return load(path)


def compute(mesh, material, density: float, *, method: str = "both", damping_ratio: float = 0.0,
            safety: float = 1.0) -> dict:
    """Every number ``lipmat dt`` reports, as a JSON-ready dict (see ``run``)."""
    import fem
    from fem.core.limits import check_certified_step, check_stiffness_bound
    from fem.materials.protocol import stiffness_bound_for
    from fem.stability.timestep import certified_time_step, critical_time_step

    check_options(density, damping_ratio, safety)
    damping = damping_ratio
    asm = fem.Assembly.for_material(mesh, material)   # gradient mode (B0) for a finite-strain law
    fem.check_material(material, asm.kinematics)
    bound = stiffness_bound_for(material, asm.kinematics)
    check_stiffness_bound(bound, material)
    elem = certified_time_step(asm, bound, density, method="element", damping=damping, safety=safety)
    check_certified_step(elem, material)
    glob = None
    if method in ("global", "both"):
        glob = certified_time_step(asm, bound, density, method="global", damping=damping, safety=safety)
    crit = critical_time_step(asm, material, density, damping=damping)
    best = glob if glob is not None and glob.method == "global" else elem
    return {
        "dt_certified": best.dt, "method": best.method,
        "dt_certified_element": elem.dt,
        "dt_certified_global": None if glob is None or glob.method != "global" else glob.dt,
        "global_fallback": None if glob is None else glob.details.get("fallback"),
        "dt_critical": crit.dt, "ratio": best.dt / crit.dt,
        "controlling_element": elem.controlling_element,
        "controlling_centroid": list(elem.controlling_centroid),
        "top_mode_element": None if glob is None or glob.method != "global" else glob.controlling_element,
        "omega_certified": best.omega_max, "omega_critical": crit.omega_max,
        "critical_solver": crit.details.get("solver"), "symmetric_tangent": crit.details.get("symmetric"),
        "damping_ratio": damping, "safety": safety, "density": density,
        "cell_type": mesh.cell_type, "n_cells": asm.n_cells, "n_dofs": asm.n_dofs,
        "kinematics": asm.kinematics, "material": _describe(material),
        "run_viscosity_factor": _run_viscosity_factor(),
    }


def _run_viscosity_factor() -> float:
    """The factor ``fem.solve``'s default bulk viscosity applies to a certified step (its proven ξ_b)."""
    from fem.stability.viscosity import BulkViscosity, damping_ratio_bound, step_factor

    return step_factor(damping_ratio_bound(BulkViscosity()))


def check_options(density: float, damping_ratio: float, safety: float) -> None:
    """LipmatError unless density, damping ratio and safety factor lie in their documented ranges."""
    if not (math.isfinite(density) and DENSITY_RANGE[0] <= density <= DENSITY_RANGE[1]):
        raise LipmatError(f"--density {density:g}: expected a mass density in [{DENSITY_RANGE[0]:g}, "
                          f"{DENSITY_RANGE[1]:g}] kg/m^3")
    if not (math.isfinite(damping_ratio) and 0.0 <= damping_ratio <= 1.0):
        raise LipmatError(f"--damping-ratio {damping_ratio:g}: expected a fraction of critical damping in [0, 1]")
    if not (math.isfinite(safety) and 0.0 < safety <= 1.0):
        raise LipmatError(f"--safety {safety:g}: expected a factor in (0, 1] (above 1 the step is not certified)")


def _bound_text(bound) -> str:
    try:
        return f"{float(bound):.4g}"
    except (TypeError, ValueError):
        import torch
        return f"lambda_max(C_b) = {float(torch.linalg.eigvalsh(torch.as_tensor(bound, dtype=torch.float64)).max()):.4g}"


def _describe(material) -> str:
    text = repr(material)
    return text if "\n" not in text else type(material).__name__


def run(args: argparse.Namespace) -> int:
    from lipmat.cli._output import dumps

    check_options(args.density, args.damping_ratio, args.safety)
    mesh = load_mesh(args.mesh)
    from fem.discretisation.assembly import KINEMATICS_OF_DIM

    material = load_material(args.model, KINEMATICS_OF_DIM[mesh.dim])
    r = compute(mesh, material, args.density, method=args.method, damping_ratio=args.damping_ratio, safety=args.safety)
    if args.json:
        print(dumps(r, indent=2))
        return 0
    cen = ", ".join(f"{c:.4g}" for c in r["controlling_centroid"])
    print(f"mesh: {r['n_cells']} {r['cell_type']} cells, {r['n_dofs']} dofs ({r['kinematics']}); "
          f"material: {r['material']}; density {r['density']:g} kg/m^3")
    print(f"certified dt (element form):  {r['dt_certified_element']:.6g} s   "
          f"controlling element {r['controlling_element']} at ({cen})")
    if r["dt_certified_global"] is not None:
        print(f"certified dt (global form):   {r['dt_certified_global']:.6g} s   "
              f"(Lanczos + LDL^T inertia proof)")
    elif r["global_fallback"]:
        print(f"certified dt (global form):   {r['global_fallback']}")
    print(f"critical dt at u = 0 (estimate): {r['dt_critical']:.6g} s   ({r['critical_solver']})")
    print(f"ratio certified / critical:   {r['ratio']:.4f}")
    if r["damping_ratio"] or r["safety"] != 1.0:
        print(f"(damping ratio xi = {r['damping_ratio']:g}, safety = {r['safety']:g} applied)")
    print(f"(a run with dt = \"certified\" and the default bulk viscosity uses {r['run_viscosity_factor']:.4f}x "
          f"the certified form it chooses)")
    return 0
