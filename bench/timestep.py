"""Certified stable steps against the exact critical step, and where the common h/c rule is unsafe.

For isotropic linear elasticity (E = 1, ρ = 1; the ratios do not depend on them) on T3, Q4, Tet4 and
Hex8 meshes, ν ∈ {0.3, 0.49} and interior-node distortion ∈ {0, 0.2, 0.35} (``fem.distort``, seed 1),
prints a markdown table of ratios to the exact critical step ``2/√λ_max(M⁻¹K)`` (dense eigen-solve):

- element, scalar L : element form with the scalar bound ``L = ‖C‖₂`` (C_b = L·I)
- element           : element form with the matrix bound C_b = C (:func:`fem.certified_time_step`)
- global            : global form (Lanczos + LDLᵀ inertia proof)
- 0.9 h_edge/c_p    : the common rule with h = the shortest element edge, c_p = √((λ+2μ)/ρ)
- 0.9 h_alt/c_p     : the same with an altitude-type length (LS-DYNA style): triangle 2A/L_max,
                      quad A/L_max, tet 3V/A_max (smallest altitude), hex V/A_max
A ratio > 1 means the step is *above* the stability limit (unsafe); certified ratios must be ≤ 1.

    python bench/timestep.py            # ~1 min on one core; adds a cost table on larger meshes
    python bench/timestep.py --quick    # smaller meshes, a few seconds
"""
from __future__ import annotations

import argparse
import itertools
import math
import time

import numpy as np
import torch

import fem
from fem.timestep import certified_time_step, exact_time_step

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


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="smaller meshes")
    args = p.parse_args(argv)
    torch.set_default_dtype(torch.float64)
    print("| mesh | ν | distortion | dofs | element, scalar L | element | global | 0.9 h_edge/c_p | 0.9 h_alt/c_p |")
    print("|---|---|---|---|---|---|---|---|---|")
    worst_cert = 0.0
    for (name, make), nu, dist in itertools.product(meshes(args.quick).items(), (0.3, 0.49), (0.0, 0.2, 0.35)):
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
    if not args.quick:
        cost_table()


def cost_table(quick: bool = False) -> None:
    """Estimated (:func:`fem.stepcost.global_cost_estimate`) against measured wall time of the global
    form — the numbers behind the automatic choice of ``dt = "certified"`` (ν = 0.3, distortion 0.2)."""
    from fem.stepcost import global_cost_estimate

    sizes2, sizes3 = ((20, 60), (4, 8)) if quick else ((40, 100, 200), (8, 12, 16, 20))
    cases = [(f"T3 {n}×{n}", lambda n=n: fem.rectangle(1, 1, n, n)) for n in sizes2]
    cases += [(f"Q4 {n}×{n}", lambda n=n: fem.rectangle(1, 1, n, n, cell="quad")) for n in sizes2]
    cases += [(f"Tet4 {n}³", lambda n=n: fem.box(1, 1, 1, n, n, n, cell="tetra")) for n in sizes3[:-1]]
    cases += [(f"Hex8 {n}³", lambda n=n: fem.box(1, 1, 1, n, n, n)) for n in sizes3]
    print("\n| mesh | dofs | element (s) | Lanczos est. (s) | Lanczos (s) | products | proof est. (s) | proof (s) "
          "| global est. (s) | global (s) | measured / estimated |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for name, make in cases:
        a = fem.Assembly(fem.distort(make(), 0.2, seed=1))
        c = fem.LinearElastic(1.0, 0.3, a.kinematics).stiffness_bound()
        est = global_cost_estimate(a)
        g = certified_time_step(a, c, 1.0, method="global")
        d = g.details
        print(f"| {name} | {a.n_dofs} | {d['element_s']:.3f} | {est['lanczos_s']:.3f} | {d['lanczos_s']:.3f} | "
              f"{d['lanczos_products']} | {est['proof_s']:.3f} | {d['proof_s']:.3f} | {est['total_s']:.3f} | "
              f"{d['global_s']:.3f} | {d['global_s'] / est['total_s']:.2f} |", flush=True)


if __name__ == "__main__":
    main()
