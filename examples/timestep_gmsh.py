"""Certified, measured, exact and rule-of-thumb time steps on the Gmsh plate-with-a-hole mesh.

Linear elasticity (E = 210 GPa, ρ = 7850 kg/m³, plane strain) on ``data/meshes/plate_with_hole.msh``
(2474 triangles, refined towards the hole), for Poisson's ratios 0.3, 0.45 and 0.49:

- certified, element form: ``2/√(max_e λ_max(M_e⁻¹K_e))`` — proven, cheap, names the controlling element;
- certified, global form: Lanczos on ``M⁻¹K`` once, proven by an LDLᵀ inertia count (``fem.stability.timestep``);
- measured: the critical step of the current tangent by Lanczos (an *estimate*, from above);
- exact: dense generalized eigen-solve of the same matrices (the oracle);
- rule of thumb: ``0.9·h_min/c_p`` with ``c_p = √((λ + 2μ)/ρ)`` (P-wave speed, plane strain) and
  ``h`` the smallest element altitude (2·area/longest edge), or the shortest edge — what many codes do.

All ratios are to the exact critical step: certified ≤ 1 always (proven), the rule of thumb is not
a bound and exceeds 1 (unstable) when the mesh or ν makes it so.

    python examples/timestep_gmsh.py [OUT_DIR]          # table + figure (default out/examples)

Size: ``LIPMAT_EXAMPLES_QUICK=1`` does ν = 0.3 only and skips the dense eigen-solve (what the tests do).
"""
from __future__ import annotations

import math
import os
import sys
from pathlib import Path

import numpy as np
import torch

import fem
from fem.discretisation.assembly import Assembly
from fem.stability.eigenbounds import element_eigen_upper
from fem.stability.timestep import certified_time_step, critical_time_step, exact_time_step
from lipmat._paths import shipped_data

QUICK = os.environ.get("LIPMAT_EXAMPLES_QUICK", "") not in ("", "0")
E, RHO = 210e9, 7850.0
POISSON = (0.3,) if QUICK else (0.3, 0.45, 0.49)
MESH = fem.Mesh.read(shipped_data("meshes/plate_with_hole.msh"))
ASSEMBLY = Assembly(MESH)


def element_lengths(mesh) -> tuple[float, float]:
    """(smallest altitude 2·area/longest edge, shortest edge) over the triangles (m)."""
    x = mesh.points[mesh.cells]                                  # (n_cells, 3, 2)
    e = np.stack([x[:, 1] - x[:, 0], x[:, 2] - x[:, 1], x[:, 0] - x[:, 2]], axis=1)
    area = 0.5 * np.abs(e[:, 0, 0] * e[:, 2, 1] - e[:, 0, 1] * e[:, 2, 0])
    length = np.linalg.norm(e, axis=2)
    return float(np.min(2 * area / length.max(axis=1))), float(length.min())


H_MIN, EDGE_MIN = element_lengths(MESH)


def steps(nu: float) -> dict:
    """All the steps (s) for Poisson's ratio ``nu``, and the controlling element of the element form."""
    material = fem.LinearElastic(E, nu, "plane_strain")
    c = material.stiffness_bound()
    lam, mu = E * nu / ((1 + nu) * (1 - 2 * nu)), E / (2 * (1 + nu))
    elem = certified_time_step(ASSEMBLY, c, RHO, method="element")
    glob = certified_time_step(ASSEMBLY, c, RHO, method="global")
    measured = critical_time_step(ASSEMBLY, material, RHO)
    row = {"nu": nu, "element": elem.dt, "global": glob.dt, "global_proven": glob.method == "global",
           "measured": measured.dt, "rule": 0.9 * H_MIN / math.sqrt((lam + 2 * mu) / RHO),
           "rule_edge": 0.9 * EDGE_MIN / math.sqrt((lam + 2 * mu) / RHO),
           "exact": math.nan if QUICK else exact_time_step(ASSEMBLY, c, RHO),
           "controlling_element": elem.controlling_element, "controlling_centroid": elem.controlling_centroid}
    return row


ROWS = [steps(nu) for nu in POISSON]


def element_steps(nu: float) -> np.ndarray:
    """Per-element certified steps 2/√λ_e (s), (n_cells,)."""
    c = fem.LinearElastic(E, nu, "plane_strain").stiffness_bound()
    b = element_eigen_upper(ASSEMBLY.cell_stiffness(c), ASSEMBLY.cell_lumped_mass(RHO))
    return 2.0 / np.sqrt(b.upper)


def table() -> str:
    ref = "exact" if not QUICK else "measured"
    lines = [f"| ν | exact (µs) | certified element / {ref} | certified global / {ref} | measured / {ref} | "
             f"0.9 h_alt/c_p / {ref} | 0.9 h_edge/c_p / {ref} | controlling element |",
             "|---|---|---|---|---|---|---|---|"]
    for r in ROWS:
        d = r[ref]
        cx, cy = r["controlling_centroid"]
        lines.append(f"| {r['nu']} | {r['exact'] * 1e6:.4g} | {r['element'] / d:.3f} | {r['global'] / d:.4f}"
                     f"{'' if r['global_proven'] else ' (fell back)'} | {r['measured'] / d:.4f} | "
                     f"{r['rule'] / d:.3f} | {r['rule_edge'] / d:.3f} | {r['controlling_element']} at "
                     f"({cx * 1e3:.1f}, {cy * 1e3:.1f}) mm |")
    return "\n".join(lines)


def plot(out: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.tri import Triangulation

    out.mkdir(parents=True, exist_ok=True)
    fig, (ax_mesh, ax_bar) = plt.subplots(1, 2, figsize=(13, 4.6), gridspec_kw={"width_ratios": [1.35, 1]})
    dts = element_steps(ROWS[0]["nu"]) * 1e6
    tri = Triangulation(MESH.points[:, 0] * 1e3, MESH.points[:, 1] * 1e3, MESH.cells)
    pc = ax_mesh.tripcolor(tri, facecolors=dts, cmap="viridis_r", edgecolors="w", linewidth=0.1)
    fig.colorbar(pc, ax=ax_mesh).set_label("element certified step 2/√λ_e (µs)")
    cx, cy = ROWS[0]["controlling_centroid"]
    ax_mesh.plot([cx * 1e3], [cy * 1e3], "r*", ms=12, label=f"controlling element {ROWS[0]['controlling_element']}")
    ax_mesh.set_aspect("equal")
    ax_mesh.set_xlabel("x (mm)")
    ax_mesh.set_ylabel("y (mm)")
    ax_mesh.set_title(f"plate_with_hole.msh, {MESH.n_cells} triangles, ν = {ROWS[0]['nu']}")
    ax_mesh.legend(loc="upper right", fontsize=8)
    ref = "exact" if not QUICK else "measured"
    methods = [("element", "certified, element"), ("global", "certified, global"), ("measured", "measured (estimate)"),
               ("rule", "0.9 h_alt/c_p (smallest altitude)"), ("rule_edge", "0.9 h_edge/c_p (shortest edge)")]
    pos = np.arange(len(ROWS))
    w = 0.8 / len(methods)
    for i, (key, label) in enumerate(methods):
        vals = [r[key] / r[ref] for r in ROWS]
        ax_bar.bar(pos + (i - (len(methods) - 1) / 2) * w, vals, w, label=label)
    ax_bar.axhline(1.0, color="k", lw=1.0, ls="--", label=f"{ref} critical step")
    ax_bar.set_xticks(pos, [f"ν = {r['nu']}" for r in ROWS])
    ax_bar.set_ylabel(f"time step / {ref} critical step (−)")
    ax_bar.set_title("above 1 is unstable")
    ax_bar.set_ylim(0, 1.6)
    ax_bar.legend(fontsize=8, loc="upper left", ncol=2)
    fig.tight_layout()
    path = out / "timestep_gmsh.png"
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


if __name__ == "__main__":
    torch.set_default_dtype(torch.float64)
    print(f"smallest altitude {H_MIN * 1e3:.4g} mm, shortest edge {EDGE_MIN * 1e3:.4g} mm, {MESH.n_cells} triangles, "
          f"{ASSEMBLY.n_dofs} dofs")
    print(table())
    print("wrote", plot(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("out/examples")))
