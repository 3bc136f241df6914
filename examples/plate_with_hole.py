"""A plate with a hole under a suddenly applied traction, with a certified neural material; XDMF output.

Mesh: ``data/meshes/plate_with_hole.msh`` (Gmsh, 0.2 × 0.1 m, hole radius 20 mm, 2474 triangles,
plane strain, thickness 10 mm). Material: the isotropic neural potential of lipmat
(ψ_vol(tr ε) + ψ_dev(‖dev ε‖), matrix certificate ``C_b = 3K_c P_vol + 2G_c P_dev``), fitted in a few
seconds to a synthetic compressible, shear-stiffening solid (K = 8.33 MPa, G = 3.85 MPa at rest, i.e.
E = 10 MPa, ν = 0.3; the deviatoric stress grows as ``2G(1 + (r/r₀)²)·dev ε``, r = ‖dev ε‖, r₀ = 0.1)
sampled at 400 random strains of size ~2 %. Density 1100 kg/m³.

The left edge is clamped; a traction of 0.3 MPa (x direction) is applied suddenly on the right edge at
t = 0 and held. The stress wave crosses the plate, wraps around the hole and reflects. The run uses
the certified step (element form of the certificate). Frames go to an XDMF series that ParaView opens
(``plate/plate.xdmf``); :func:`read_back` reads it with VTK's own XDMF reader, as ParaView would.

    python examples/plate_with_hole.py [OUT_DIR]     # figure + plate/plate.xdmf (default out/examples)

Size: ``LIPMAT_EXAMPLES_QUICK=1`` fits briefly and runs 0.4 ms instead of 4 ms (what the tests do).
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import torch

import fem
from fem.core import mandel
from fem.stability.timestep import certified_time_step
from lipmat._paths import shipped_data
from lipmat.fitting.data import TensorTable
from lipmat.fitting.stress_strain import fit

QUICK = os.environ.get("LIPMAT_EXAMPLES_QUICK", "") not in ("", "0")
K, G, R0 = 8.33e6, 3.85e6, 0.1           # Pa, Pa, (−)
DENSITY, THICKNESS, TRACTION = 1100.0, 0.01, 0.3e6
T_END = 4e-4 if QUICK else 4e-3          # s
FRAMES = 10 if QUICK else 80

torch.set_default_dtype(torch.float64)


def synthetic_table(n: int = 400, scale: float = 0.02, seed: int = 0) -> TensorTable:
    """Strain/stress pairs (n, 3) Mandel of the synthetic shear-stiffening solid (plane strain)."""
    gen = torch.Generator().manual_seed(seed)
    e = torch.randn(n, 3, generator=gen, dtype=torch.float64) * scale
    eye = mandel.identity("plane_strain", dtype=torch.float64)
    _, p_dev = mandel.projectors("plane_strain", dtype=torch.float64)
    pe = e @ p_dev
    r = (e * pe).sum(-1).clamp_min(0).sqrt()
    s = K * (e @ eye)[:, None] * eye + 2 * G * (1 + (r / R0) ** 2)[:, None] * pe
    return TensorTable(e.numpy(), s.numpy(), "plane_strain", {"file": "synthetic shear-stiffening solid"})


FIT = fit("isotropic", synthetic_table(), epochs=150 if QUICK else 800, lbfgs_steps=15 if QUICK else 100,
          progress=False)
MATERIAL = FIT.model.requires_grad_(False)
MESH = fem.Mesh.read(shipped_data("meshes/plate_with_hole.msh"))
PROBLEM = fem.Problem(MESH, MATERIAL, DENSITY, bcs=(fem.Fixed("left"),),
                      loads=(fem.Traction("right", [TRACTION, 0.0]),), thickness=THICKNESS)
DT = certified_time_step(fem.Assembly(MESH, thickness=THICKNESS), MATERIAL.stiffness_bound(), DENSITY)
N_STEPS = int(np.ceil(T_END / DT.dt))
RESULT = fem.solve(PROBLEM, T_END, "certified", save=fem.SaveAt(every=max(1, N_STEPS // FRAMES), keep=True),
                   energy=fem.EnergyCheck(every=max(1, N_STEPS // 50)), progress=False,
                   probes=fem.Probes({"hole_top": "x > 0.099 and x < 0.101 and y > 0.069 and y < 0.071",
                                      "right_edge": "right"}, every=max(1, N_STEPS // 400)))
BALANCE = float(np.max(RESULT.energies["balance_error"]))


def write_xdmf(out: Path) -> Path:
    """Write the kept frames as an XDMF series (``out/plate/plate.xdmf`` + .h5 files); returns its path."""
    writer = fem.io.output.FieldWriter(out / "plate", MESH, format="xdmf", prefix="plate")
    with writer:
        for i in range(len(RESULT.times)):
            writer.write(RESULT.times[i], {k: RESULT.fields[k][i] for k in ("displacement", "velocity")},
                         {k: RESULT.fields[k][i] for k in ("strain", "stress")})
    return writer.index


def read_back(index: Path) -> dict:
    """Read an XDMF series with VTK's XDMF reader: times and the last frame's displacement (n_points, 3)."""
    from fem.io.output import read_xdmf_last_frame

    return read_xdmf_last_frame(index, point=("displacement",), cell=("stress_xx",))


def summary() -> dict:
    c = FIT.report
    return {"fit_r2": c.r2, "fit_mape_percent": c.mape, "lambda_max_Cb_Pa": c.stiffness_bound,
            "certificate_tightness": c.ratio, "status": RESULT.status, "steps": RESULT.steps,
            "dt_certified_s": RESULT.dt_certified, "controlling_element": DT.controlling_element,
            "dt_s": RESULT.dt, "max_balance_error": BALANCE,
            "max_displacement_m": float(np.abs(RESULT.fields["displacement"]).max()),
            "wall_time_s": RESULT.wall_time}


def plot(out: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.tri import Triangulation

    out.mkdir(parents=True, exist_ok=True)
    fig, (ax, ax_p) = plt.subplots(1, 2, figsize=(13, 4.6), gridspec_kw={"width_ratios": [1.4, 1]})
    u = RESULT.fields["displacement"][-1]
    scale = 0.1 * 0.2 / max(float(np.abs(u).max()), 1e-30)     # largest displacement drawn as 10 % of the length
    x = (MESH.points + scale * u) * 1e3
    tri = Triangulation(x[:, 0], x[:, 1], MESH.cells)
    sxx = RESULT.fields["stress"][-1][:, 0] / 1e6
    pc = ax.tripcolor(tri, facecolors=sxx, cmap="RdBu_r", vmin=-np.abs(sxx).max(), vmax=np.abs(sxx).max())
    fig.colorbar(pc, ax=ax).set_label("stress σ_xx (MPa)")
    ax.set_aspect("equal")
    ax.set_xlabel("x (mm)")
    ax.set_ylabel("y (mm)")
    ax.set_title(f"t = {RESULT.times[-1] * 1e3:.3g} ms, displacements ×{scale:.3g}")
    t = RESULT.probes["time"] * 1e3
    for name, label in (("right_edge", "loaded edge (mean)"), ("hole_top", "top of the hole")):
        ax_p.plot(t, RESULT.probes[name][:, 0] * 1e3, label=f"{label}, u_x")
        ax_p.plot(t, RESULT.probes[name][:, 1] * 1e3, "--", label=f"{label}, u_y")
    ax_p.set_xlabel("time t (ms)")
    ax_p.set_ylabel("displacement (mm)")
    ax_p.set_title(f"certified step {RESULT.dt * 1e6:.3g} µs, {RESULT.steps} steps, "
                   f"energy error {BALANCE:.1e}")
    ax_p.legend(fontsize=8)
    ax_p.grid(alpha=0.3)
    fig.suptitle("plate with a hole (isotropic neural material) under a suddenly applied traction of "
                 f"{TRACTION / 1e6:g} MPa")
    fig.tight_layout()
    path = out / "plate_with_hole.png"
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


if __name__ == "__main__":
    out_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("out/examples")
    for k, v in summary().items():
        print(f"{k:24s} {v}")
    index = write_xdmf(out_dir)
    back = read_back(index)
    print(f"wrote {index} ({len(back['times'])} frames; VTK reads {back['n_cells']} cells, "
          f"max |u| {np.abs(back['displacement']).max():.4g} m at t = {back['times'][-1]:.4g} s)")
    print("wrote", plot(out_dir))
