"""The rubber sheet of ``lipmat demo`` and ``examples/rubber_sheet.py``: a sheet with a hole, pulled to λ ≈ 3.

A square sheet of natural rubber (side ``side``, central hole of radius ``radius``, plane strain, depth
``thickness``) is pulled along x by its two edges: the left edge is held (u_x = 0), the right edge
follows ``u_x(t) = (stretch − 1)·side·(1 − cos πt/T)/2`` (a smooth ramp over ``ramp_time`` T, zero
velocity at both ends), then is held for ``hold_time``. The grips let the edges contract sideways
(only u_x is prescribed; u_y is held at the two edge midpoints, on the symmetry line, to remove the
rigid motion), so without the hole the sheet would deform homogeneously: λ₁ = λ, λ₂ free, λ₃ = 1 —
Treloar's pure-shear state. :func:`homogeneous_force` gives that state's force for the same law (the
compressible law, σ₂₂ = 0 solved by Newton), the reference the measured reaction is compared with.

The material is the neural hyperelastic law fitted jointly to Treloar's uniaxial, equibiaxial and
pure-shear curves (:func:`fit_treloar`, :mod:`lipmat.fitting.hyperelastic`), with a small-strain bulk
modulus ``bulk_ratio``·G and a certified stretch domain chosen to contain every state the pull reaches
(the hole concentrates the stretch: λ_max ≈ 1.6–1.8× the nominal stretch at its equator). The run uses
``dt = "certified"``: the tangent ∂P/∂F is proven ≤ a_b on that domain, the solver checks every
quadrature point against it at every step, and the step is the global (or element) form of the
certificate on the mesh (``Result.dt_method``, ``dt_reason``). The critical step of the *current*
state (Lanczos on the tangent K(u), an estimate) is measured along the run (``fem.Monitor``), so the
certified step can be compared with what each state allows.

Bulk modulus and time step: K/G = 10 (ν ≈ 0.45) by default. The certified bound a_b grows about
linearly with K (the volumetric stiffness along the thinned direction ≈ K·(J/λ_min)²), so Δt ∝ 1/√K;
:func:`bulk_ratio_table` measures it on the sheet. At K/G = 10 the plane-strain J stays in [0.9, 1.2]
during the pull (measured); a larger K keeps J closer to 1 at a smaller step.

The set-up, mesh, law and pull are in :mod:`lipmat.demo.sheet_problem` (their names are importable from
here too); this module runs the pull and reports on it (summary, tables, frames, plots).

Shapes: ``Result.fields`` as :func:`fem.solve` keeps them ((n_saves, n_points, 2) displacements,
(n_saves, n_cells, 3) Green–Lagrange strain / Cauchy stress components xx, yy, xy, (n_saves, n_cells) J).
"""
from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field

import numpy as np
import torch

from fem.solver.energy import run_balance_error
from lipmat.demo.sheet_problem import (FIT_FULL, FIT_QUICK, QUICK_SETUP, RUBBER_DENSITY, TRELOAR_FILES,  # noqa: F401
                                       SheetSetup, edge_displacement, fit_treloar, homogeneous_force, sheet_mesh,
                                       sheet_problem)

log = logging.getLogger(__name__)


# -- the run --------------------------------------------------------------------------------------
@dataclass
class SheetRun:
    """A pulled sheet: the :class:`fem.Result` and the edge forces recorded along it.

    force : {"time": (k,), "stretch": (k,) nominal, "right": (k,), "left": (k,)} — the x-resultants of
    the internal forces at the two gripped edges (N; right pulls +, left −; their mean magnitude is
    the force through the sheet, inertia of the edge nodes aside).
    """
    result: object
    setup: SheetSetup
    mesh: object
    force: dict = field(default_factory=dict)
    wall_time: float = 0.0

    @property
    def mean_force(self) -> np.ndarray:
        return 0.5 * (self.force["right"] - self.force["left"])


def run_sheet(law, setup: SheetSetup = SheetSetup(), *, frames: int = 40, rows: int = 200, monitors: int = 8,
              writer=None, progress: bool | None = False, force_samples: int = 400, mesh=None) -> SheetRun:
    """Pull the sheet at the certified step; returns a :class:`SheetRun`.

    frames : about how many frames to keep (and pass to ``writer``, e.g. a :class:`fem.io.output.FieldWriter`).
    rows : about how many energy rows (each evaluates the law's energy, several times a stress call).
    monitors : about how many critical-step measurements (Lanczos on K(u); 0: none).
    mesh : another mesh of the sheet (default :func:`sheet_mesh`) with node sets left, right, mid_left, mid_right.
    """
    import fem

    mesh = sheet_mesh(setup) if mesh is None else mesh
    problem = sheet_problem(law, setup, mesh)
    g = edge_displacement(setup)
    dofs = {side: torch.as_tensor(mesh.nodes(side) * 2) for side in ("left", "right")}
    force = {"time": [], "stretch": [], "right": [], "left": []}
    wall0 = time.perf_counter()
    # the step is decided before the run (and handed to solve, which reuses its proof), so the intervals
    # are exact
    step = fem.run_time_step(problem, "certified", t_end=setup.t_end)
    n_steps = step.n_steps
    every = lambda k: max(1, n_steps // k) if k else 0  # noqa: E731
    f_every = every(force_samples)

    def record(state) -> None:
        if state.step % f_every == 0 or state.step == n_steps:
            f = state.f_int
            force["time"].append(state.t)
            force["stretch"].append(1.0 + g(state.t) / setup.side)
            force["right"].append(float(f[dofs["right"]].sum()))
            force["left"].append(float(f[dofs["left"]].sum()))

    result = fem.solve(problem, setup.t_end, step, save=fem.SaveAt(every=every(frames), writer=writer,
                       keep=True), energy=fem.EnergyCheck(every=every(rows)), monitor=fem.Monitor(every(monitors)),
                       callback=record, progress=progress)
    run = SheetRun(result, setup, mesh, {k: np.asarray(v) for k, v in force.items()},
                   time.perf_counter() - wall0)
    return run


def principal_stretches(green: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """In-plane principal stretches (λ_min, λ_max) from Green–Lagrange components (..., 3) [xx, yy, xy]."""
    c11, c22, c12 = 2 * green[..., 0] + 1, 2 * green[..., 1] + 1, 2 * green[..., 2]
    mean, rad = 0.5 * (c11 + c22), np.sqrt(0.25 * (c11 - c22) ** 2 + c12 ** 2)
    return np.sqrt(np.maximum(mean - rad, 0.0)), np.sqrt(mean + rad)


def step_table(run: SheetRun) -> list[dict]:
    """The measured critical step along the run beside the certified one: [{t, stretch, dt_critical,
    dt_certified, dt, ratio}] with ratio = dt (the certified step in use) / dt_critical (≤ 1 expected)."""
    g = edge_displacement(run.setup)
    res = run.result
    return [{"t": e["t"], "stretch": 1.0 + g(e["t"]) / run.setup.side, "dt_critical": e["dt_critical"],
             "dt_certified": res.dt_certified, "dt": e["dt"], "ratio": e["dt"] / e["dt_critical"]}
            for e in res.monitor]


def _or_nan(x):
    return math.nan if x is None else x


def summary(run: SheetRun, law=None) -> dict:
    """JSON-ready numbers of a run (see the module docstring)."""
    res, setup = run.result, run.setup
    lam_min, lam_max = principal_stretches(res.fields["green_lagrange_strain"])
    J = res.fields["volume_ratio"]
    table = step_table(run)
    out = {
        "status": res.status, "message": res.message, "steps": res.steps, "t_end_s": res.t,
        "n_cells": run.mesh.n_cells, "cell_type": run.mesh.cell_type, "n_dofs": 2 * run.mesh.n_points,
        "dt_s": res.dt, "dt_certified_s": res.dt_certified, "dt_method": res.dt_method, "dt_reason": res.dt_reason,
        "nominal_stretch": 1.0 + edge_displacement(setup)(res.t) / setup.side,
        "max_principal_stretch": float(lam_max.max()), "min_principal_stretch": float(lam_min.min()),
        "J_range": [float(J.min()), float(J.max())], "domain": list(setup.domain), "bulk_ratio": setup.bulk_ratio,
        "max_balance_error": _or_nan(run_balance_error(res.energies)[0]),
        "dt_critical_min_s": min((r["dt_critical"] for r in table), default=math.nan),
        "certified_over_critical_max": max((r["ratio"] for r in table), default=math.nan),
        "final_force_N": float(run.mean_force[-1]) if len(run.force["time"]) else math.nan,
        "solve_wall_time_s": res.wall_time, "wall_time_s": run.wall_time,
    }
    if law is not None:
        out["stiffness_bound_plane_strain_Pa"] = float(law.stiffness_bound("plane_strain"))
        out["homogeneous_force_N"] = float(homogeneous_force(law, [out["nominal_stretch"]], setup)[0])
        out["shear_modulus_Pa"], out["bulk_modulus_Pa"] = law.shear_modulus, law.bulk_modulus
    return out


def bulk_ratio_table(law, setup: SheetSetup = SheetSetup(), ratios=(5.0, 10.0, 20.0, 50.0)) -> list[dict]:
    """The certified step on the sheet's mesh for the same learned W1, W2 at other bulk moduli K = r·G
    (same certified domain): [{bulk_ratio, nu, a_b (Pa, plane strain), dt_certified (s, global form),
    dt_critical_rest (s, measured at u = 0, an estimate)}]."""
    import fem
    from fem.materials.hyperelastic import StretchDomain
    from fem.stability.timestep import certified_time_step, critical_time_step

    mesh = sheet_mesh(setup)
    rows = []
    for r in ratios:
        other = law.with_options(bulk_ratio=float(r), domain=StretchDomain(*setup.domain))
        asm = fem.Assembly.for_material(mesh, other, thickness=setup.thickness)
        a_b = float(other.stiffness_bound("plane_strain"))
        cert = certified_time_step(asm, a_b, setup.density, method="global")
        crit = critical_time_step(asm, other, setup.density)
        rows.append({"bulk_ratio": float(r), "nu": other.poisson_ratio, "a_b": a_b, "dt_certified": cert.dt,
                     "dt_critical_rest": crit.dt})
    return rows


def step_table_text(rows: list[dict]) -> str:
    """The table of :func:`step_table` as aligned text (µs)."""
    lines = [f"{'t (ms)':>8} {'stretch':>8} {'dt_critical (µs)':>17} {'certified dt (µs)':>18} {'ratio':>7}"]
    lines += [f"{r['t'] * 1e3:8.2f} {r['stretch']:8.3f} {r['dt_critical'] * 1e6:17.4g} {r['dt_certified'] * 1e6:18.4g} "
              f"{r['ratio']:7.3f}" for r in rows]
    return "\n".join(lines)


# -- output ---------------------------------------------------------------------------------------
def frame_fields(run: SheetRun, i: int) -> tuple[dict, dict]:
    """(point_data, cell_data) of kept frame ``i``: displacement, velocity; Green–Lagrange strain, Cauchy
    stress (xx, yy, xy), J and the largest in-plane principal stretch per cell."""
    f = run.result.fields
    _, lam_max = principal_stretches(f["green_lagrange_strain"][i])
    return ({"displacement": f["displacement"][i], "velocity": f["velocity"][i]},
            {"green_lagrange_strain": f["green_lagrange_strain"][i], "cauchy_stress": f["cauchy_stress"][i],
             "volume_ratio": f["volume_ratio"][i], "max_principal_stretch": lam_max})


def write_frames(run: SheetRun, directory, *, prefix: str = "sheet"):
    """Write the run's kept frames as an XDMF series (``directory/prefix.xdmf`` + .h5); returns its path."""
    from fem.io.output import FieldWriter

    writer = FieldWriter(directory, run.mesh, format="xdmf", prefix=prefix)
    with writer:
        for i, t in enumerate(run.result.times):
            writer.write(float(t), *frame_fields(run, i))
    return writer.index


def read_xdmf(index) -> dict:
    """Read an XDMF series with VTK's own XDMF reader (what ParaView uses): {"times" (k,), "n_cells",
    "displacement" (n_points, 3) and "max_principal_stretch" (n_cells,) of the last frame}."""
    from fem.io.output import read_xdmf_last_frame

    return read_xdmf_last_frame(index, point=("displacement",), cell=("max_principal_stretch",))


def plot_sheet(path, run: SheetRun, law, *, title: str | None = None):
    """Three panels: the deformed sheet coloured by the largest principal stretch; the edge force against
    the stretch beside the homogeneous plane-strain prediction (and Treloar's pure-shear data scaled to
    the sheet); the measured critical step along the run against the certified step. Returns the path."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    from matplotlib.collections import PolyCollection

    from fem.io.output import atomic_write

    res, setup, mesh = run.result, run.setup, run.mesh
    fig = plt.figure(figsize=(13, 8.2))
    grid_spec = fig.add_gridspec(2, 2, height_ratios=[0.8, 1])
    ax = fig.add_subplot(grid_spec[0, :])
    axf, axt = fig.add_subplot(grid_spec[1, 0]), fig.add_subplot(grid_spec[1, 1])
    x0 = mesh.points * 1e3
    ax.add_collection(PolyCollection(x0[mesh.cells], facecolors="none", edgecolors="0.75", linewidths=0.3))
    x = (mesh.points + res.fields["displacement"][-1]) * 1e3
    _, lam_max = principal_stretches(res.fields["green_lagrange_strain"][-1])
    polys = PolyCollection(x[mesh.cells], array=lam_max, cmap="viridis", edgecolors="k", linewidths=0.15)
    ax.add_collection(polys)
    ax.autoscale_view()
    ax.set_aspect("equal")
    fig.colorbar(polys, ax=ax, fraction=0.03, pad=0.01).set_label("largest principal stretch λ₁")
    ax.set_xlabel("x (mm)")
    ax.set_ylabel("y (mm)")
    nominal = 1.0 + edge_displacement(setup)(res.t) / setup.side
    ax.set_anchor("C")
    ax.set_title(f"t = {res.t * 1e3:.3g} ms: nominal stretch {nominal:.2f}, λ₁ up to {lam_max.max():.2f} (grey: at rest)")

    lam = run.force["stretch"]
    axf.plot(lam, run.mean_force, label="sheet with the hole (FE, mean of the two edges)")
    grid = np.linspace(1.0, max(float(lam.max()), 1.0 + 1e-6), 60)
    axf.plot(grid, homogeneous_force(law, grid, setup), "--",
             label="no hole: homogeneous plane strain (same law)")
    try:
        from lipmat._paths import shipped_data
        from lipmat.fitting.data import load_uniaxial

        ps = load_uniaxial(shipped_data("treloar_pureshear.csv"))
        keep = ps.stretch <= grid[-1] * 1.02
        axf.plot(ps.stretch[keep], ps.stress[keep] * setup.side * setup.thickness, "o", ms=4, mfc="none",
                 label="Treloar pure shear × sheet section")
    except Exception as exc:   # the plot without the data points is still the plot
        log.debug("no Treloar pure-shear points on the force plot: %s", exc)
    axf.set_xlabel("nominal stretch λ of the sheet")
    axf.set_ylabel(f"edge force (N per {setup.thickness * 1e3:g} mm depth)")
    axf.set_title("force on the pulled edge")
    axf.legend(fontsize=8)
    axf.grid(alpha=0.3)

    rows = step_table(run)
    if rows:
        st = np.array([r["stretch"] for r in rows])
        axt.plot(st, [r["dt_critical"] * 1e6 for r in rows], "o-", label="measured critical step of the state")
        axt.axhline(res.dt * 1e6, color="C3", label=f"certified step in use ({res.dt_method} form)")
        axt.set_xlabel("nominal stretch λ of the sheet")
        axt.set_ylabel("time step (µs)")
        axt.set_ylim(bottom=0)
        worst = max(r["ratio"] for r in rows)
        axt.set_title(f"certified / critical ≤ {worst:.2f} along the run")
        axt.legend(fontsize=8)
        axt.grid(alpha=0.3)
    fig.suptitle(title or f"plane-strain rubber sheet with a hole, neural law fitted to Treloar UT+ET+PS (K = "
                 f"{setup.bulk_ratio:g} G): certified step {res.dt * 1e6:.3g} µs, {res.steps} steps, {res.status}")
    fig.tight_layout()
    atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=110, format=str(path).rsplit(".", 1)[-1]))
    plt.close(fig)
    return path


def plot_energy(path, run: SheetRun):
    """fem's energy plot of the run (energies and the balance residual); returns the path."""
    from fem.io.output import plot_energies

    return plot_energies(path, run.result.energies,
                         title=f"rubber sheet at the certified step ({run.result.dt * 1e6:.3g} µs)")


# -- the demo's 2D part -----------------------------------------------------------------------------
#: Fit settings of ``lipmat demo`` (Adam, L-BFGS): the full fit (≈ 26 s of CPU), the one the example uses, so
#: the demo's sheet is the example's run. A short fit (600 + 400) was tried and is not enough: its law
#: (R² 0.998 / 0.995 / 0.994) lets J reach 1.2 at a nominal stretch of 2 and the run stops, correctly, as
#: out_of_domain. ``--quick`` (coarse sheet pulled to 1.5) uses 300 + 150.
DEMO_FIT, DEMO_FIT_QUICK = FIT_FULL, (300, 150)


def demo(out, *, quick: bool = False, progress: bool | None = False) -> dict:
    """The 2D part of ``lipmat demo``: fit (short), pull the sheet, write into ``out``; the summary dict.

    Files: ``sheet.png`` (:func:`plot_sheet`), ``sheet_energy.png``, ``sheet/sheet.xdmf`` (+ .h5),
    ``treloar_hyperelastic.pt`` (the fitted law; ``lipmat dt`` and decks load it).
    """
    from pathlib import Path

    from lipmat._paths import shipped_data
    from lipmat.fitting.hyperelastic import fit_hyperelastic
    from lipmat.io import save

    out = Path(out)
    setup = QUICK_SETUP if quick else SheetSetup()
    epochs, lbfgs = DEMO_FIT_QUICK if quick else DEMO_FIT
    t0 = time.perf_counter()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)        # a fit on ~60 data points: more threads only spin (and cost on a busy machine)
    try:
        fit = fit_hyperelastic([shipped_data(f) for f in TRELOAR_FILES], bulk_ratio=setup.bulk_ratio,
                               domain=setup.domain, epochs=epochs, lbfgs_steps=lbfgs, certify=False)
    finally:
        torch.set_num_threads(threads)
    fit_seconds = time.perf_counter() - t0
    law = fit.model
    log.info("sheet: Treloar UT+ET+PS fit R² %s in %.1f s; plane-strain certificate %.4g MPa on %s",
             ", ".join(f"{c['r2']:.4f}" for c in fit.report["curves"]), fit_seconds,
             law.stiffness_bound("plane_strain") / 1e6, setup.domain)
    save(law, out / "treloar_hyperelastic.pt", report=fit.report)
    log.info("sheet: pulling a %g mm sheet with a hole to λ = %g at the certified step", setup.side * 1e3,
             setup.stretch)
    run = run_sheet(law, setup, frames=10 if quick else 40, monitors=3 if quick else 8, progress=progress)
    write_frames(run, out / "sheet")
    plot_sheet(out / "sheet.png", run, law)
    plot_energy(out / "sheet_energy.png", run)
    s = summary(run, law)
    s.update({"fit_r2": {c["mode"]: c["r2"] for c in fit.report["curves"]},
              "fit_mape_percent": {c["mode"]: c["mape"] for c in fit.report["curves"]},
              "fit_seconds": fit_seconds, "fit_steps": [epochs, lbfgs], "setup": setup.to_dict(),
              "steps_table": step_table(run)})
    return s


def summary_lines(s: dict) -> list[str]:
    """The demo summary's lines for the sheet (see :func:`demo`)."""
    r2 = ", ".join(f"{k} {v:.4f}" for k, v in s["fit_r2"].items())
    return [
        f"  sheet (2D)       plane-strain sheet with a hole, {s['n_cells']} {s['cell_type']} cells, neural law fitted "
        f"to Treloar UT+ET+PS (R² {r2}) in {s['fit_seconds']:.1f} s",
        f"                   certified step {s['dt_s'] * 1e6:.4g} µs ({s['dt_method']} form, a_b "
        f"{s['stiffness_bound_plane_strain_Pa'] / 1e6:.4g} MPa on stretches {s['domain'][0]:g}–{s['domain'][1]:g}, "
        f"J {s['domain'][2]:g}–{s['domain'][3]:g}); measured critical along the run ≥ "
        f"{s['dt_critical_min_s'] * 1e6:.4g} µs (certified/critical ≤ {s['certified_over_critical_max']:.3f})",
        f"                   {s['status']}, {s['steps']} steps to nominal stretch {s['nominal_stretch']:.3g} "
        f"(largest principal stretch {s['max_principal_stretch']:.3g}, J {s['J_range'][0]:.3f}–{s['J_range'][1]:.3f}), "
        f"edge force {s['final_force_N']:.4g} N vs {s['homogeneous_force_N']:.4g} N without the hole, "
        f"energy error {s['max_balance_error']:.1e}, {s['wall_time_s']:.1f} s",
    ]
