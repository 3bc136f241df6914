"""Certified stable steps against the exact critical step: what runs use, what it costs, where h/c fails.

Four tables (``--table gmsh|decks|cost|ratios``, default all):

- **gmsh** — what ``lipmat run`` with ``dt = "certified"`` uses on the shipped Gmsh meshes
  (``data/meshes``: plate with a hole in triangles and in quads, Tet4 beam), steel and a nearly
  incompressible rubber-like solid, a short run (5 P-wave transits): the run's certified step, the form
  the automatic choice took and why, divided by the factor the solver applies on top of the bound
  (damping-aware factor of the default bulk viscosity), as a ratio to the exact critical step (dense
  eigen-solve of the same matrices). Goal ≥ 0.98; a ratio > 1 would be a bug.
- **decks** — the certified step every shipped example deck (``examples/decks``) resolves to, through
  the solver's own setup (not run), against the exact step of the same bound matrices.
- **cost** — estimated (:mod:`fem.stability.stepcost`) against measured wall time of the global form, on
  T3/Q4/Tet4/Hex8 meshes up to 8e4 dofs: the numbers behind the automatic choice.
- **ratios** — for isotropic linear elasticity (E = 1, ρ = 1; the ratios do not depend on them) on T3,
  Q4, Tet4 and Hex8 meshes, ν ∈ {0.3, 0.49}, interior-node distortion ∈ {0, 0.2, 0.35}
  (``fem.distort``, seed 1), ratios to the exact critical step ``2/√λ_max(M⁻¹K)`` of:

  - element, scalar L : element form with the scalar bound ``L = ‖C‖₂`` (C_b = L·I)
  - element           : element form with the matrix bound C_b = C (:func:`fem.certified_time_step`)
  - global            : global form (Lanczos + LDLᵀ inertia proof)
  - 0.9 h_edge/c_p    : the common rule with h = the shortest element edge, c_p = √((λ+2μ)/ρ)
  - 0.9 h_alt/c_p     : the same with an altitude-type length (LS-DYNA style): triangle 2A/L_max,
                        quad A/L_max, tet 3V/A_max (smallest altitude), hex V/A_max

  A ratio > 1 means the step is *above* the stability limit (unsafe); certified ratios must be ≤ 1.

    python bench/timestep.py                  # all three, a few minutes on one core
    python bench/timestep.py --table gmsh     # the shipped meshes only (dense eigen-solves up to 9.2k dofs)
    python bench/timestep.py --quick          # smaller meshes, steel only
"""
from __future__ import annotations

import argparse
import itertools
import math
import time
from pathlib import Path

import numpy as np
import torch

import fem
from fem.materials.protocol import bound_matrix
from fem.stability.timestep import certified_time_step, exact_time_step

EDGES = {
    "triangle": [(0, 1), (1, 2), (2, 0)],
    "quad": [(0, 1), (1, 2), (2, 3), (3, 0)],
    "tetra": [(0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3)],
    "hexahedron": [(0, 1), (1, 2), (2, 3), (3, 0), (4, 5), (5, 6), (6, 7), (7, 4), (0, 4), (1, 5), (2, 6), (3, 7)],
}
FACES = {
    "tetra": [(0, 1, 2), (0, 1, 3), (0, 2, 3), (1, 2, 3)],
    "hexahedron": [(0, 1, 2, 3), (4, 5, 6, 7), (0, 1, 5, 4), (1, 2, 6, 5), (2, 3, 7, 6), (3, 0, 4, 7)],
}


def _face_area(x: np.ndarray) -> np.ndarray:
    """Area of planar-ish polygons (..., k, 3) by the vector area (fan from the first node)."""
    s = np.zeros(x.shape[:-2] + (3,))
    for i in range(1, x.shape[-2] - 1):
        s += np.cross(x[..., i, :] - x[..., 0, :], x[..., i + 1, :] - x[..., 0, :])
    return 0.5 * np.linalg.norm(s, axis=-1)


def lengths(assembly) -> tuple[np.ndarray, np.ndarray]:
    """(h_edge, h_alt) per cell, (n_cells,) each (see the module docstring)."""
    mesh = assembly.mesh
    x = mesh.points[mesh.cells]
    edge = np.stack([np.linalg.norm(x[:, i] - x[:, j], axis=1) for i, j in EDGES[mesh.cell_type]], axis=1)
    size = assembly.cell_volumes() / {2: assembly.thickness, 3: 1.0}[mesh.dim]
    if mesh.dim == 2:
        alt = (2.0 if mesh.cell_type == "triangle" else 1.0) * size / edge.max(axis=1)
    else:
        amax = np.max([_face_area(x[:, list(f)]) for f in FACES[mesh.cell_type]], axis=0)
        alt = (3.0 if mesh.cell_type == "tetra" else 1.0) * size / amax
    return edge.min(axis=1), alt


def meshes(quick: bool) -> dict:
    n2, n3 = (10, 3) if quick else (30, 8)
    return {
        "T3": lambda: fem.rectangle(1.0, 1.0, n2, n2),
        "Q4": lambda: fem.rectangle(1.0, 1.0, n2, n2, cell="quad"),
        "Tet4": lambda: fem.box(1.0, 1.0, 1.0, n3, n3, n3, cell="tetra"),
        "Hex8": lambda: fem.box(1.0, 1.0, 1.0, n3, n3, n3),
    }


def row(name, make, nu, distortion):
    mesh = make()
    if distortion:
        mesh = fem.distort(mesh, distortion, seed=1)
    try:
        a = fem.Assembly(mesh)
    except fem.MeshError:
        return None
    mat = fem.LinearElastic(1.0, nu, a.kinematics)
    c = mat.stiffness_bound()
    exact = exact_time_step(a, c, 1.0)
    scalar = certified_time_step(a, float(torch.linalg.eigvalsh(c)[-1]), 1.0).dt
    elem = certified_time_step(a, c, 1.0).dt
    t0 = time.perf_counter()
    glob = certified_time_step(a, c, 1.0, method="global")
    t_glob = time.perf_counter() - t0
    cp = math.sqrt(mat.lam + 2 * mat.mu)
    h_edge, h_alt = lengths(a)
    return {"mesh": name, "nu": nu, "distortion": distortion, "dofs": a.n_dofs,
            "scalar": scalar / exact, "element": elem / exact,
            "global": glob.dt / exact if glob.method == "global" else float("nan"),
            "edge": 0.9 * h_edge.min() / cp / exact, "alt": 0.9 * h_alt.min() / cp / exact, "t_glob": t_glob}


MESH_DIR = Path(__file__).resolve().parents[1] / "data" / "meshes"
GMSH_MESHES = {  # shipped Gmsh meshes (data/meshes) and the node set held fixed in their runs
    "plate_with_hole.msh": "left",
    "plate_with_hole_quad.msh": "left",
    "beam.msh": "fixed",
}
#: (name, E (Pa), ν, ρ (kg/m³), length the P-wave crosses (m) per mesh file)
GMSH_MATERIALS = [("steel", 210e9, 0.3, 7850.0), ("rubber-like", 5e6, 0.49, 1100.0)]
TRANSITS = 5  # t_end = TRANSITS × (longest side / P-wave speed): a short run, where the choice matters most


def _deck_text(mesh_file: Path, fixed: str, E: float, nu: float, rho: float, t_end: float, method: str) -> str:
    return f"""title = "certified step on {mesh_file.name}"
[mesh]
file = "{mesh_file}"
[material]
type = "linear_elastic"
E = {E!r}
nu = {nu!r}
density = {rho!r}
[[bc]]
type = "fixed"
where = "{fixed}"
[initial]
velocity = {"[0.0, '0.01 * x']" if "plate" in mesh_file.name else "[0.0, 0.0, '0.01 * x']"}
[time]
end = {t_end!r}
dt = "certified"
[solver]
certified_method = "{method}"
[output]
fields = false
plot = false
energy_csv = false
probes_csv = false
"""


def _lipmat_run(deck: Path, out: Path) -> dict:
    """``lipmat run DECK --json`` in this process; its summary."""
    import contextlib
    import io
    import json

    from lipmat.cli import main as lipmat_main

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        code = lipmat_main(["run", str(deck), "--out", str(out), "--json", "--no-progress"])
    summary = json.loads(buf.getvalue())
    summary["exit_code"] = code
    return summary


def _exact_and_certified(deck_path: Path):
    """(exact undamped critical step 2/√λ_max(M⁻¹K_b), the TimeStep the run's setup certifies, dofs)."""
    from fem.solver.setup import RunSetup

    deck = fem.load_deck(deck_path)
    p = deck.problem
    a = fem.Assembly(p.mesh, thickness=p.thickness, area=p.area)
    exact = oracle_step(a, p.material.stiffness_bound(), p.density)
    kw = deck.solve_kwargs()
    setup = RunSetup(p, "certified", certified=kw.get("certified"), t_end=deck.t_end,
                     **({"viscosity": kw["viscosity"]} if "viscosity" in kw else {}))
    return exact, setup.timestep, a.n_dofs


DENSE_MAX = 4000  # dofs up to which the oracle is a dense eigen-solve (n³ work: 6.4k dofs took 4.5 min here)


def oracle_step(a, C, density) -> float:
    """The critical step ``2/√λ_max(M⁻¹K)`` by exact linear algebra, independent of :mod:`fem.stability.eigenbounds`.

    Up to ``DENSE_MAX`` dofs: dense ``eigh`` (:func:`fem.stability.timestep.exact_time_step`). Above: ARPACK in
    shift-invert mode at σ = 1.1 × a Gershgorin bound (above the whole spectrum, so the eigenvalue
    nearest σ is λ_max), then the Rayleigh quotient ``ρ = xᵀAx / xᵀx`` of its vector, computed here.
    ρ ≤ λ_max for any x, so ``2/√ρ`` ≥ the exact step: a ratio ``certified / (2/√ρ)`` is a lower bound
    of the true ratio (it understates how tight the certificate is, never overstates it).
    """
    import scipy.sparse.linalg as sla

    from fem.stability.eigenbounds import symmetric_scaled

    if a.n_dofs <= DENSE_MAX:
        return exact_time_step(a, C, density, max_dofs=DENSE_MAX)
    A = symmetric_scaled(a.stiffness_matrix(bound_matrix(C, a.n_strain)), a.lumped_mass(density).cpu().numpy())
    sigma = 1.1 * float(abs(A).sum(axis=1).max())
    _, v = sla.eigsh(A, k=1, sigma=sigma, which="LM", tol=1e-14)
    x = v[:, 0]
    rho = float(x @ (A @ x)) / float(x @ x)
    return 2.0 / math.sqrt(rho)


def gmsh_table(quick: bool = False) -> list[dict]:
    """What ``lipmat run`` with ``dt = "certified"`` uses on the shipped Gmsh meshes, against the exact step.

    For each mesh and material a deck is written (held on its fixed node set, a small initial swing,
    t_end = TRANSITS P-wave transits) and run by ``lipmat run --json``. The exact critical step is
    ``2/√λ_max(M⁻¹K)`` of the same matrices (:func:`oracle_step`). The run's certified step includes
    what the solver applies on top of the bound (the damping-aware factor of the default bulk viscosity,
    ``f = dt·ω_b/2``, and any safety factor; f is the same for both forms, and is read from the step
    that ``fem.solver.setup.RunSetup`` certifies for the same deck), so the ratio is taken as
    ``(certified step / f) / exact`` = ``ω_exact / ω_b``: 1 means the proven bound is the exact top
    frequency. The form and its reason are the run's own (the choice depends on measured times).
    """
    import tempfile

    rows = []
    materials = GMSH_MATERIALS[:1] if quick else GMSH_MATERIALS
    print("\n| mesh | material | dofs | t_end (s) | exact dt (s) | certified dt (s) | factor f | ratio (÷ f) | "
          "element-form ratio | form | why (one-off cost vs estimated run) | solver (s) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for (fname, fixed), (mat, E, nu, rho) in itertools.product(GMSH_MESHES.items(), materials):
            mesh_file = MESH_DIR / fname
            mesh = fem.Mesh.read(mesh_file)
            lam, mu = E * nu / ((1 + nu) * (1 - 2 * nu)), E / (2 * (1 + nu))
            length = float(np.ptp(mesh.points, axis=0).max())
            t_end = TRANSITS * length / math.sqrt((lam + 2 * mu) / rho)
            deck = Path(tmp) / f"{Path(fname).stem}_{mat}.toml"
            deck.write_text(_deck_text(mesh_file, fixed, E, nu, rho, t_end, "auto"))
            exact, ts, dofs = _exact_and_certified(deck)
            s = _lipmat_run(deck, Path(tmp) / "out")
            factor = ts.dt * ts.omega_max / 2.0
            elem = certified_time_step(fem.Assembly(mesh), fem.LinearElastic(E, nu, "plane_strain" if mesh.dim == 2
                                                                             else "3d").stiffness_bound(), rho)
            r = {"mesh": fname, "material": mat, "dofs": dofs, "t_end": t_end, "exact": exact,
                 "certified": s["dt_certified"], "factor": factor, "ratio": s["dt_certified"] / factor / exact,
                 "element_ratio": elem.dt / exact, "form": s["dt_method"], "reason": s["dt_reason"],
                 "solve_s": s["solve_time_s"], "status": s["status"]}
            rows.append(r)
            print(f"| {fname} | {mat} (ν = {nu}) | {dofs} | {t_end:.3g} | {exact:.6g} | {r['certified']:.6g} | "
                  f"{factor:.4f} | {r['ratio']:.7f} | {r['element_ratio']:.3f} | {r['form']} | {r['reason']} | "
                  f"{r['solve_s']:.2f} |", flush=True)
    worst = min(r["ratio"] for r in rows)
    print(f"\nsmallest ratio: {worst:.7f} (goal >= 0.98); largest: {max(r['ratio'] for r in rows):.9f} (must be <= 1); "
          f"all runs completed: {all(r['status'] == 'completed' for r in rows)}")
    return rows


DECK_DIR = Path(__file__).resolve().parents[1] / "examples" / "decks"


def decks_table() -> list[dict]:
    """The certified step of every shipped example deck (``examples/decks/*.toml``) as ``fem.solve``
    resolves it (``fem.solver.setup.RunSetup`` with the deck's t_end and options: the same code path, without
    running the deck), against the exact critical step of the same bound matrices (:func:`oracle_step`).
    Ratio = ``ω_exact / ω_b`` (the damping-aware factor cancels)."""
    from fem.materials.protocol import stiffness_bound_for
    from fem.solver.setup import RunSetup

    rows = []
    print("\n| deck | mesh | dofs | exact dt (s) | certified dt (s) | ratio (÷ f) | form | why |")
    print("|---|---|---|---|---|---|---|---|")
    for path in sorted(DECK_DIR.glob("*.toml")):
        try:
            deck = fem.load_deck(path)
        except (fem.FemError, OSError) as exc:
            print(f"| {path.name} | – | | | | | | not loadable here: {exc} |")
            continue
        p = deck.problem
        kw = deck.solve_kwargs()
        setup = RunSetup(p, "certified", certified=kw.get("certified"), t_end=deck.t_end,
                         **({"viscosity": kw["viscosity"]} if "viscosity" in kw else {}))
        ts = setup.timestep
        if ts is None:
            print(f"| {path.name} | | | | | | | no certificate: {setup.no_certificate} |")
            continue
        exact = oracle_step(setup.assembly, stiffness_bound_for(p.material, setup.assembly.kinematics), p.density)
        ratio = 2.0 / ts.omega_max / exact
        rows.append({"deck": path.name, "ratio": ratio, "form": ts.method})
        print(f"| {path.name} | {p.mesh.n_cells} {p.mesh.cell_type} | {setup.assembly.n_dofs} | {exact:.6g} | "
              f"{ts.dt:.6g} | {ratio:.7f} | {ts.method} | {ts.reason} |", flush=True)
    return rows


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="smaller meshes")
    p.add_argument("--table", choices=("all", "ratios", "gmsh", "decks", "cost"), default="all",
                   help="which table (default all)")
    args = p.parse_args(argv)
    torch.set_default_dtype(torch.float64)
    torch.set_num_threads(1)
    if args.table in ("all", "gmsh"):
        gmsh_table(args.quick)
    if args.table in ("all", "decks"):
        decks_table()
    if args.table in ("all", "cost"):
        cost_table(args.quick)
    if args.table in ("all", "ratios"):
        ratio_table(args.quick)


def ratio_table(quick: bool) -> None:
    print("| mesh | ν | distortion | dofs | element, scalar L | element | global | 0.9 h_edge/c_p | 0.9 h_alt/c_p |")
    print("|---|---|---|---|---|---|---|---|---|")
    worst_cert = 0.0
    for (name, make), nu, dist in itertools.product(meshes(quick).items(), (0.3, 0.49), (0.0, 0.2, 0.35)):
        r = row(name, make, nu, dist)
        if r is None:
            print(f"| {name} | {nu} | {dist} | – | inverted cells | | | | |")
            continue
        worst_cert = max(worst_cert, r["scalar"], r["element"], r["global"])

        def flag(v):
            return f"**{v:.3f}**" if v > 1 else f"{v:.3f}"

        print(f"| {name} | {nu} | {dist} | {r['dofs']} | {r['scalar']:.3f} | {r['element']:.3f} | "
              f"{r['global']:.6f} | {flag(r['edge'])} | {flag(r['alt'])} |")
    print(f"\nlargest certified/exact ratio: {worst_cert:.9f} (must be <= 1); bold = h/c rule above the limit")


def cost_table(quick: bool = False) -> None:
    """Estimated (:func:`fem.stability.stepcost.global_cost_estimate`) against measured wall time of the global
    form — the numbers behind the automatic choice of ``dt = "certified"`` (ν = 0.3; generated meshes
    distorted by 0.2, and the shipped Gmsh meshes)."""
    from fem.stability.stepcost import global_cost_estimate

    sizes2, sizes3 = ((20, 60), (4, 8)) if quick else ((40, 100, 200), (8, 12, 16, 20))
    cases = [(f"Gmsh {f}", lambda f=f: fem.Mesh.read(MESH_DIR / f)) for f in GMSH_MESHES]
    cases += [(f"T3 {n}×{n}", lambda n=n: fem.distort(fem.rectangle(1, 1, n, n), 0.2, seed=1)) for n in sizes2]
    cases += [(f"Q4 {n}×{n}", lambda n=n: fem.distort(fem.rectangle(1, 1, n, n, cell="quad"), 0.2, seed=1))
              for n in sizes2]
    cases += [(f"Tet4 {n}³", lambda n=n: fem.distort(fem.box(1, 1, 1, n, n, n, cell="tetra"), 0.2, seed=1))
              for n in sizes3[:-1]]
    cases += [(f"Hex8 {n}³", lambda n=n: fem.distort(fem.box(1, 1, 1, n, n, n), 0.2, seed=1)) for n in sizes3]
    print("\n| mesh | dofs | element (s) | estimate: assembly + Lanczos + proof (s) | measured: Lanczos (products) "
          "| proof (s) | global est. (s) | global (s) | measured / estimated |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, make in cases:
        a = fem.Assembly(make())
        c = fem.LinearElastic(1.0, 0.3, a.kinematics).stiffness_bound()
        g = certified_time_step(a, c, 1.0, method="global")
        d = g.details
        est = global_cost_estimate(a, element_s=d["element_s"])
        print(f"| {name} | {a.n_dofs} | {d['element_s']:.3f} | {est['assembly_s']:.3f} + {est['lanczos_s']:.3f} + "
              f"{est['proof_s']:.3f} | {d['lanczos_s']:.3f} ({d['lanczos_products']}) | {d['proof_s']:.3f} | "
              f"{est['total_s']:.3f} | {d['global_s']:.3f} | {d['global_s'] / est['total_s']:.2f} |", flush=True)


if __name__ == "__main__":
    main()
