"""Certified and measured stable time steps for a mesh and a material.

Prints the certified step (element form, and the global form unless --method element), the
measured critical step at the reference state u = 0 (an estimate: top eigenvalue of M⁻¹K(0) by
Lanczos), their ratio, and the controlling element (id and centroid).

MESH is a mesh file (anything meshio reads: .msh, .vtu, .inp, ...) or a generator spec
``KIND:key=value,...``:
  bar:L=1,n=100                              1D bar (L length, n elements; area does not change dt)
  rect:lx=1,ly=1,nx=10,ny=10,cell=triangle   2D plane strain; cell triangle | quad
  box:lx=1,ly=1,lz=1,nx=4,ny=4,nz=4,cell=hexahedron   3D; cell hexahedron | tetra
every spec also takes distort=AMOUNT[,seed=S] (interior nodes jittered by AMOUNT × local h).

MODEL is ``linear:E=...,nu=...`` (isotropic linear elasticity; nu omitted = 0), ``nonlinear-bar:
E1=...,E2=...,eps0=...`` (fem.NonlinearBar, 1D), or a model file written by lipmat (.pt).

Example:
  lipmat dt --mesh rect:lx=0.2,ly=0.05,nx=40,ny=10 --model linear:E=2e9,nu=0.45 --density 1100
"""
from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

HELP = "certified and measured stable time steps for a mesh and a material"

_GENERATORS = {
    "bar": {"L": 1.0, "n": 10},
    "rect": {"lx": 1.0, "ly": 1.0, "nx": 10, "ny": 10, "cell": "triangle"},
    "box": {"lx": 1.0, "ly": 1.0, "lz": 1.0, "nx": 4, "ny": 4, "nz": 4, "cell": "hexahedron"},
}
_COMMON = {"distort": 0.0, "seed": 0}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--mesh", required=True, metavar="MESH", help="mesh file or generator spec (see above)")
    parser.add_argument("--model", required=True, metavar="MODEL",
                        help="linear:E=..,nu=.. | nonlinear-bar:E1=..,E2=..,eps0=.. | file.pt")
    parser.add_argument("--density", required=True, type=float, metavar="RHO", help="mass density, kg/m^3 (> 0)")
    parser.add_argument("--method", choices=("element", "global", "both"), default="both",
                        help="certified bound(s) to compute (default both; the element form is always reported)")
    parser.add_argument("--damping", type=float, default=0.0, metavar="XI",
                        help="fraction of critical damping in the top mode (default 0)")
    parser.add_argument("--safety", type=float, default=1.0, help="factor in (0, 1] applied to the certified step")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")


def _parse_kv(spec: str, text: str, defaults: dict, what: str) -> dict:
    out = dict(defaults)
    for item in filter(None, (t.strip() for t in text.split(","))):
        key, eq, value = item.partition("=")
        key = key.strip()
        if not eq or key not in defaults:
            raise ValueError(f"{what} {spec!r}: expected key=value with keys {sorted(defaults)}, got {item!r}")
        try:
            out[key] = type(defaults[key])(value) if not isinstance(defaults[key], int) else int(float(value))
        except ValueError:
            kind = type(defaults[key]).__name__
            raise ValueError(f"{what} {spec!r}: {key} must be a {kind}, got {value!r}") from None
    return out


def load_mesh(spec: str):
    """A fem.Mesh from a file path or a generator spec (module docstring)."""
    import fem

    kind, colon, rest = spec.partition(":")
    if colon and kind in _GENERATORS and not Path(spec).exists():
        p = _parse_kv(spec, rest, {**_GENERATORS[kind], **_COMMON}, "mesh spec")
        if kind == "bar":
            mesh = fem.bar(p["L"], p["n"])
        elif kind == "rect":
            mesh = fem.rectangle(p["lx"], p["ly"], p["nx"], p["ny"], cell=p["cell"])
        else:
            mesh = fem.box(p["lx"], p["ly"], p["lz"], p["nx"], p["ny"], p["nz"], cell=p["cell"])
        return fem.distort(mesh, p["distort"], seed=p["seed"]) if p["distort"] else mesh
    path = Path(spec)
    if not path.is_file():
        raise FileNotFoundError(f"mesh file {spec!r} not found (or use a generator spec: "
                                f"{', '.join(k + ':...' for k in _GENERATORS)})")
    return fem.Mesh.read(path)


def load_material(spec: str, kinematics: str):
    """A fem material from ``linear:...``, ``nonlinear-bar:...`` or a lipmat model file."""
    import fem

    kind, colon, rest = spec.partition(":")
    if colon and kind == "linear":
        p = _parse_kv(spec, rest, {"E": float("nan"), "nu": 0.0}, "model spec")
        if math.isnan(p["E"]):
            raise ValueError(f"model spec {spec!r}: E is required (e.g. linear:E=2e9,nu=0.3)")
        return fem.LinearElastic(p["E"], p["nu"], kinematics)
    if colon and kind == "nonlinear-bar":
        p = _parse_kv(spec, rest, {"E1": 1.0, "E2": 3.0, "eps0": 0.1}, "model spec")
        return fem.NonlinearBar(p["E1"], p["E2"], p["eps0"])
    path = Path(spec)
    if not path.is_file():
        if colon and not path.suffix:
            raise ValueError(f"unknown model spec {spec!r}: expected linear:E=..,nu=.., "
                             f"nonlinear-bar:E1=..,E2=..,eps0=.., or a model file (.pt)")
        raise FileNotFoundError(f"model file {spec!r} not found")
    try:
        from lipmat.io import load
    except ImportError as exc:
        raise ValueError(f"reading model file {spec!r} needs lipmat.io, which this install lacks ({exc})") from None
    return load(path)


def compute(mesh, material, density: float, *, method: str = "both", damping: float = 0.0,
            safety: float = 1.0) -> dict:
    """Every number ``lipmat dt`` reports, as a JSON-ready dict (see ``run``)."""
    import fem
    from fem.timestep import certified_time_step, critical_time_step

    if not (density > 0 and math.isfinite(density)):
        raise ValueError(f"--density must be a positive number (kg/m^3), got {density}")
    asm = fem.Assembly(mesh)
    fem.check_material(material, asm.kinematics)
    bound = material.stiffness_bound()
    elem = certified_time_step(asm, bound, density, method="element", damping=damping, safety=safety)
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
        "damping": damping, "safety": safety, "density": density,
        "cell_type": mesh.cell_type, "n_cells": asm.n_cells, "n_dofs": asm.n_dofs,
        "kinematics": asm.kinematics, "material": _describe(material),
    }


def _describe(material) -> str:
    text = repr(material)
    return text if "\n" not in text else type(material).__name__


def run(args: argparse.Namespace) -> int:
    if not (args.density > 0 and math.isfinite(args.density)):
        raise ValueError(f"--density must be a positive number (kg/m^3), got {args.density}")
    mesh = load_mesh(args.mesh)
    from fem.assembly import KINEMATICS_OF_DIM

    material = load_material(args.model, KINEMATICS_OF_DIM[mesh.dim])
    r = compute(mesh, material, args.density, method=args.method, damping=args.damping, safety=args.safety)
    if args.json:
        print(json.dumps(r, indent=2))
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
    if r["damping"] or r["safety"] != 1.0:
        print(f"(damping xi = {r['damping']:g}, safety = {r['safety']:g} applied)")
    return 0
