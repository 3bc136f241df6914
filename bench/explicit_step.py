"""Explicit step cost: fem.solve vs a bare scipy sparse loop, T3/Q4/Tet4/Hex8, 1e3 to 1e6 dofs.

For every mesh it times, per step:
- ``bare``: a bare scipy loop ``f = K @ u; v += dt·f/m; u += dt·v`` (one SpMV + vector updates),
- ``linear``: ``fem.solve`` with LinearElastic (sparse K path, all checks and energy work on),
- ``neural``: ``fem.solve`` with a small torch MLP material (n -> 32 -> n, tanh; material path:
  strain = B u, one batched MLP call, f = Bᵀ(wσ)),
SfePy is not compared: it is not installed here and no comparison was written (a comparison
belongs here, on the same meshes, if someone adds one).
It prints a markdown table (steps/s, element updates/s = cells·steps/s, ratio linear/bare) and the
fitted exponent of time per step against dofs (goal 1.0 ± 0.1). Timings exclude set-up; the loop
time is taken between the first and last step callbacks. Runs are undamped (no bulk viscosity) unless
``--viscosity default`` (the run's default bulk viscosity, as ``fem.solve`` uses it).

``--viscosity cost`` prints the cost of the default bulk viscosity instead: for each mesh and material
(``linear``, ``neural``) two set-ups of the same problem and step, undamped (``viscosity=False``) and with
the defaults (``viscosity=None``), stepped in turn (``time_interleaved``: per-step medians of interleaved
steps), and their ratio default / off (goal ≤ 1.10, issue 10).

``--finite`` prints the finite-strain table instead: the total-Lagrangian step (H = B₀u, F = I + H,
P = material(F), f = B₀ᵀ(wP), plus the per-step inversion check det F > 0) against the small-strain
step with the same material cost:
- ``small``: ``MLPMaterial`` (σ = Cε + s(g(ε) − g(0)), g an n -> 32 -> n tanh MLP, n = 3 / 6),
- ``finite``: ``FiniteMLPMaterial``, its finite-strain twin (P = C:H + s(g(H) − g(0)), g a
  d² -> 32 -> d² tanh MLP, d² = 4 / 9): the same linear part and network width,
- ``material`` columns: one batched material call over all quadrature points alone (ms), so the
  step difference that is not the material's shows,
- ``neo-hookean``: fem.materials.hyperelastic.NeoHookean (analytic, with its domain check every step).
The goal (issue 11): finite / small ≤ 2. These are per-step medians of interleaved steps (the step
and the per-step checks of fem.solve's loop, without set-up and energy rows; ``time_interleaved``).

    python bench/explicit_step.py            # 1e3 .. 1e6 dofs (needs ~8 GB for 1e6-dof Hex8)
    python bench/explicit_step.py --quick    # 1e3 .. 1e5 dofs
    python bench/explicit_step.py --cells hexahedron --sizes 1e6   # one row (4 min, peak memory 10 GB)
    python bench/explicit_step.py --finite --sizes 1e4,1e5         # finite vs small strain
    python bench/explicit_step.py --viscosity cost --sizes 1e4,1e5 --cells triangle,hexahedron
"""
from __future__ import annotations

import argparse
import inspect
import math
import time

import numpy as np
import torch

import fem

# the undamped step (the table's meaning before bulk viscosity existed); empty where fem.solve has no such option
UNDAMPED = {"viscosity": False} if "viscosity" in inspect.signature(fem.solve).parameters else {}

class MLPMaterial(torch.nn.Module):
    """A small neural stress(strain) law, float64: ``σ = C ε + s (g(ε) − g(0))`` with g an n -> 32 -> n tanh
    MLP and C isotropic (E = 1, ν = 0.3), so the run stays stable while the MLP sets the cost."""

    def __init__(self, kinematics: str, width: int = 32, scale: float = 0.01):
        super().__init__()
        self.C = fem.LinearElastic(1.0, 0.3, kinematics).linear_stiffness()
        n = fem.core.mandel.size(kinematics)
        self.kinematics = kinematics
        torch.manual_seed(0)
        self.net = torch.nn.Sequential(torch.nn.Linear(n, width), torch.nn.Tanh(), torch.nn.Linear(width, n)).double()
        self.scale = scale

    def stress(self, strain):
        zero = strain.new_zeros(strain.shape[-1])
        return strain @ self.C + self.scale * (self.net(strain) - self.net(zero))   # σ(0) = 0

    def stiffness_bound(self):
        w = [m.weight for m in self.net if isinstance(m, torch.nn.Linear)]
        lip = float(torch.linalg.matrix_norm(w[1].detach(), 2) * torch.linalg.matrix_norm(w[0].detach(), 2))
        return float(torch.linalg.matrix_norm(self.C, 2)) + self.scale * lip


class FiniteMLPMaterial(torch.nn.Module):
    """The finite-strain twin of :class:`MLPMaterial`: ``P = A₀ : H + s (g(H) − g(0))``, H = F − I, A₀ the
    linear-elastic tangent at F = I (E = 1, ν = 0.3; ``A₀ᵢⱼₖₗ = λδᵢⱼδₖₗ + μ(δᵢₖδⱼₗ + δᵢₗδⱼₖ)``) and g a
    d² -> 32 -> d² tanh MLP (float64). Not objective (a cost stand-in, like MLPMaterial): one matrix
    product and one MLP of the same width, so both steps carry (nearly) the same material work."""

    finite_strain = True

    def __init__(self, kinematics: str, width: int = 32, scale: float = 0.01):
        super().__init__()
        self.kinematics = kinematics
        self.d = d = fem.core.mandel.DIM[kinematics]
        lin = fem.LinearElastic(1.0, 0.3, kinematics)
        eye = torch.eye(d, dtype=torch.float64)
        a0 = (lin.lam * torch.einsum("ij,kl->ijkl", eye, eye) + lin.mu * (torch.einsum("ik,jl->ijkl", eye, eye)
                                                                         + torch.einsum("il,jk->ijkl", eye, eye)))
        self.register_buffer("A0", a0.reshape(d * d, d * d))
        self.register_buffer("eye", eye.reshape(d * d))
        torch.manual_seed(0)
        self.net = torch.nn.Sequential(torch.nn.Linear(d * d, width), torch.nn.Tanh(),
                                       torch.nn.Linear(width, d * d)).double()
        self.scale = scale

    def stress(self, f):
        d = self.d
        h = f.reshape(*f.shape[:-2], d * d) - self.eye
        p = h @ self.A0 + self.scale * (self.net(h) - self.net(h.new_zeros(d * d)))
        return p.reshape(f.shape)

    def stiffness_bound(self, kinematics=None):
        """λ_max(A₀) + s·Lip(g) ≥ λ_max(∂P/∂F) everywhere."""
        w = [m.weight for m in self.net if isinstance(m, torch.nn.Linear)]
        lip = float(torch.linalg.matrix_norm(w[1].detach(), 2) * torch.linalg.matrix_norm(w[0].detach(), 2))
        return float(torch.linalg.eigvalsh(self.A0)[-1]) + self.scale * lip


def make_mesh(cell: str, dofs: float):
    if cell in ("triangle", "quad"):
        n = max(2, int(round(math.sqrt(dofs / 2))) - 1)
        return fem.rectangle(1.0, 1.0, n, n, cell=cell)
    n = max(2, int(round((dofs / 3) ** (1 / 3))) - 1)
    return fem.box(1.0, 1.0, 1.0, n, n, n, cell=cell)


def time_solve(mesh, material, steps: int, viscosity: str = "off") -> float:
    """Seconds per step of fem.solve (loop only; ``viscosity="off"``: undamped, bulk viscosity off where
    fem has it; ``"default"``: fem.solve's default bulk viscosity)."""
    stamps = {}

    # stamps at steps 1 and steps - 1: the last step also computes the final energy row and the
    # inversion check, a once-per-row cost (about 0.1 s at 1e6 dofs) that is not the step's
    last = steps - 1

    def cb(s):
        if s.step == 1 or s.step == last:
            stamps[s.step] = time.perf_counter()

    span = mesh.points.max(axis=0) - mesh.points.min(axis=0)      # generator meshes: uniform cells
    h = float(np.prod(span) / mesh.n_cells) ** (1 / mesh.dim)      # (no Assembly here: at 1e6 Hex8 dofs
    dt = 0.2 * h                                                   # a second one costs ~4 GB)   # c ≤ ~2 for the materials used (E = 1, ν = 0.3, ρ = 1): stable
    u0 = 1e-4 * np.sin(np.pi * mesh.points)
    prob = fem.Problem(mesh, material, 1.0, bcs=[fem.Fixed("left")], u0=u0)
    res = fem.solve(prob, steps * dt, dt, callback=cb, compute=fem.Compute(num_threads=torch.get_num_threads()),
                    energy=fem.EnergyCheck(every=10**9, tol=None), save=fem.SaveAt(every=10**9, keep=False),
                    progress=False, allow_unsafe_dt=True, monitor=fem.Monitor(every=0),
                    **(UNDAMPED if viscosity == "off" else {}))
    assert res.completed, res.message
    return (stamps[last] - stamps[1]) / (last - 1)


def time_bare(mesh, steps: int) -> float:
    """Seconds per step of a bare scipy loop: one K @ u and the vector updates."""
    a = fem.Assembly(mesh)
    k = a.stiffness_matrix(fem.LinearElastic(1.0, 0.3, a.kinematics).linear_stiffness()).tocsr()
    minv = 1.0 / a.lumped_mass(1.0).numpy()
    u = 1e-4 * np.sin(np.pi * mesh.points).ravel()
    v = np.zeros_like(u)
    dt = 1e-3
    t0 = time.perf_counter()
    for _ in range(steps):
        f = k @ u
        v -= dt * (f * minv)
        u += dt * v
    return (time.perf_counter() - t0) / steps


def _material_call(material, strain, dim: int):
    """One batched stress call at the run's strain (n_cells, nq, n): Mandel ε, or H = F − I flattened."""
    if fem.is_finite_strain(material):
        f = strain.reshape(*strain.shape[:-1], dim, dim) + torch.eye(dim, dtype=strain.dtype)
        return material.stress(f)
    return material.stress(strain)


def time_interleaved(mesh, materials: dict, steps: int, setup_kwargs: dict | None = None) -> tuple[dict, dict]:
    """Median seconds per step, and per material call, of several materials on one mesh, stepped in turn.

    For each material a :func:`fem.iterate` (undamped, numeric dt; the step loop of ``fem.solve`` with
    ``check_every=1``, energy rows off); then the steps of all materials alternate, each timed alone: one
    state of the loop, which is the step plus the finite check (for a finite-strain law that includes the
    inversion check det F > 0 and the domain check). After each step, one batched material call at
    that state is timed too. Interleaving and medians make the ratios robust on a shared, loaded
    machine, where the load changes from second to second and hits every material alike.
    ``setup_kwargs``: per key, the run's options in place of the undamped default (e.g. ``{}``: the
    default bulk viscosity).
    """
    span = mesh.points.max(axis=0) - mesh.points.min(axis=0)
    dt = 0.2 * float(np.prod(span) / mesh.n_cells) ** (1 / mesh.dim)
    u0 = 1e-4 * np.sin(np.pi * mesh.points)
    quiet = fem.EnergyCheck(every=10**9, tol=None, guard=None)   # rows would be a once-per-row cost
    runs = {}
    for k, m in materials.items():
        kw = UNDAMPED if setup_kwargs is None or k not in setup_kwargs else setup_kwargs[k]
        problem = fem.Problem(mesh, m, 1.0, bcs=[fem.Fixed("left")], u0=u0)
        runs[k] = fem.iterate(problem, dt, allow_unsafe_dt=True, energy=quiet, **kw)
        next(runs[k])                                              # the initial state
    step_t = {k: [] for k in materials}
    mat_t = {k: [] for k in materials}
    with torch.no_grad():
        for i in range(steps + 3):
            for k, states in runs.items():
                t0 = time.perf_counter()
                new = next(states)
                t1 = time.perf_counter()
                if new.strain is not None:      # the linear (sparse K) path keeps no strain
                    _material_call(materials[k], new.strain, mesh.dim)
                t2 = time.perf_counter()
                if i >= 3:  # warm-up
                    step_t[k].append(t1 - t0)
                    mat_t[k].append(t2 - t1)
    return ({k: float(np.median(v)) for k, v in step_t.items()}, {k: float(np.median(v)) for k, v in mat_t.items()})


def run_finite(sizes, cells, out=print):
    """Rows of the finite-strain table (module docstring), timed by :func:`time_interleaved`."""
    rows = []
    try:
        from fem.materials.hyperelastic import NeoHookean
    except ImportError:
        NeoHookean = None
    for cell in cells:
        for target in sizes:
            mesh = make_mesh(cell, target)
            n_dofs = mesh.n_points * mesh.dim
            kin = {2: "plane_strain", 3: "3d"}[mesh.dim]
            steps = int(min(200, max(20, 2e6 / n_dofs)))
            mats = {"small": MLPMaterial(kin), "finite": FiniteMLPMaterial(kin)}
            if NeoHookean is not None:
                mats["neo_hookean"] = NeoHookean(1.0 / 2.6, nu=0.3)   # E = 1, ν = 0.3 at small strain
            step_t, mat_t = time_interleaved(mesh, mats, steps)
            row = {"cell": cell, "dofs": n_dofs, "cells": mesh.n_cells, "steps": steps, **step_t,
                   **{f"{k}_material": v for k, v in mat_t.items()}}
            rows.append(row)
            out(_finite_line(row))
    return rows


def run_viscosity_cost(sizes, cells, materials, out=print):
    """Rows of the viscosity-cost table (module docstring): per mesh and material, median ms per step
    undamped and with the default bulk viscosity, stepped in turn, and their ratio."""
    rows = []
    for cell in cells:
        for target in sizes:
            mesh = make_mesh(cell, target)
            n_dofs = mesh.n_points * mesh.dim
            kin = {2: "plane_strain", 3: "3d"}[mesh.dim]
            for name in materials:
                mat = fem.LinearElastic(1.0, 0.3, kin) if name == "linear" else MLPMaterial(kin)
                steps = int(min(400, max(40, (4e6 if name == "linear" else 1e6) / n_dofs)))
                step_t, _ = time_interleaved(mesh, {"off": mat, "default": mat}, steps,
                                             setup_kwargs={"off": UNDAMPED, "default": {}})
                row = {"cell": cell, "dofs": n_dofs, "material": name, "steps": steps, **step_t}
                rows.append(row)
                out(f"| {cell} | {n_dofs:,} | {name} | {steps} | {1e3 * row['off']:.3g} | {1e3 * row['default']:.3g} | "
                    f"{row['default'] / row['off']:.3f} |")
    return rows


VISCOSITY_HEADER = ("| cell | dofs | material | steps | off ms/step | default ms/step | default / off |\n"
                    "|---|---|---|---|---|---|---|")


def _finite_line(r):
    nh = r.get("neo_hookean")
    rest_small, rest_finite = r["small"] - r["small_material"], r["finite"] - r["finite_material"]
    return (f"| {r['cell']} | {r['dofs']:,} | {r['cells']:,} | {_sps(r['small'])} | {_sps(r['finite'])} | "
            f"{r['finite'] / r['small']:.2f} | {1e3 * r['small_material']:.3g} | {1e3 * r['finite_material']:.3g} | "
            f"{1e3 * rest_small:.3g} | {1e3 * rest_finite:.3g} | "
            f"{_sps(nh)} | {'–' if nh is None else format(1e3 * r['neo_hookean_material'], '.3g')} |")


FINITE_HEADER = ("| cell | dofs | cells | small-strain MLP steps/s | finite-strain MLP steps/s | finite / small (step time) | "
                 "small material ms | finite material ms | small step − material ms | finite step − material ms | "
                 "Neo-Hookean steps/s | Neo-Hookean material ms |\n" + "|---" * 12 + "|")


def steps_for(dofs: int) -> int:
    return int(min(2000, max(10, 2e7 / dofs)))


def run(sizes, cells, materials, out=print, viscosity: str = "off"):
    rows = []
    for cell in cells:
        for target in sizes:
            mesh = make_mesh(cell, target)
            n_dofs = mesh.n_points * mesh.dim
            kin = {2: "plane_strain", 3: "3d"}[mesh.dim]
            steps = steps_for(n_dofs)
            row = {"cell": cell, "dofs": n_dofs, "cells": mesh.n_cells, "steps": steps,
                   "bare": time_bare(mesh, steps)}
            if "linear" in materials:
                row["linear"] = time_solve(mesh, fem.LinearElastic(1.0, 0.3, kin), steps, viscosity)
            if "neural" in materials:
                row["neural"] = time_solve(mesh, MLPMaterial(kin), max(10, steps // 4), viscosity)
            rows.append(row)
            out(_line(row))
    return rows


def _sps(t):
    if t is None:
        return "–"
    return f"{1 / t:,.0f}" if 1 / t >= 100 else f"{1 / t:.3g}"   # 3 significant digits below 100


def _line(r):
    lin, neu, nc = r.get("linear"), r.get("neural"), r["cells"]
    eu_lin = "–" if lin is None else f"{nc / lin:.3g}"
    ratio = "–" if lin is None else f"{lin / r['bare']:.2f}"
    eu_neu = "–" if neu is None else f"{nc / neu:.3g}"
    return (f"| {r['cell']} | {r['dofs']:,} | {nc:,} | {_sps(r['bare'])} | {_sps(lin)} | {eu_lin} | {ratio} | "
            f"{_sps(neu)} | {eu_neu} |")


HEADER = ("| cell | dofs | cells | bare scipy steps/s | linear steps/s | linear elem-updates/s | linear / bare | "
          "neural steps/s | neural elem-updates/s |\n|---|---|---|---|---|---|---|---|---|")


def exponents(rows, key):
    out = {}
    for cell in dict.fromkeys(r["cell"] for r in rows):
        rs = [r for r in rows if r["cell"] == cell and r.get(key)]
        if len(rs) >= 2:
            out[cell] = float(np.polyfit(np.log([r["dofs"] for r in rs]), np.log([r[key] for r in rs]), 1)[0])
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="sizes 1e3..1e5 dofs")
    ap.add_argument("--sizes", default=None, help="comma-separated target dofs, e.g. 1e4,1e6 (overrides --quick)")
    ap.add_argument("--cells", default="triangle,quad,tetra,hexahedron")
    ap.add_argument("--materials", default="linear,neural")
    ap.add_argument("--finite", action="store_true", help="the finite- vs small-strain table (module docstring)")
    ap.add_argument("--viscosity", choices=("off", "default", "cost"), default="off",
                    help="bulk viscosity of the timed runs: off (undamped, the default), default (fem.solve's "
                         "defaults); cost: the table of default / off per step (module docstring)")
    ap.add_argument("--threads", type=int, default=1,
                    help="torch CPU threads (default 1, like scipy's single-threaded SpMV; on a shared "
                         "2-core machine 2 threads made some runs 40x slower through oversubscription)")
    args = ap.parse_args(argv)
    sizes = [1e3, 1e4, 1e5] if args.quick else [1e3, 1e4, 1e5, 1e6]
    if args.sizes:
        sizes = [float(x) for x in args.sizes.split(",")]
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, float64, CPU")
    if args.finite:
        print(FINITE_HEADER)
        return run_finite(sizes, [c for c in args.cells.split(",") if c != "line"])
    if args.viscosity == "cost":
        print(VISCOSITY_HEADER)
        return run_viscosity_cost(sizes, args.cells.split(","), args.materials.split(","))
    print(f"bulk viscosity: {args.viscosity}")
    print(HEADER)
    rows = run(sizes, args.cells.split(","), args.materials.split(","), viscosity=args.viscosity)
    print()
    print("| fitted exponent of time/step vs dofs | " + " | ".join(dict.fromkeys(r["cell"] for r in rows)) + " |")
    print("|---|" + "---|" * len(dict.fromkeys(r["cell"] for r in rows)))
    for key in ("bare", "linear", "neural"):
        e = exponents(rows, key)
        if e:
            print(f"| {key} | " + " | ".join(f"{v:.2f}" for v in e.values()) + " |")
    return rows


if __name__ == "__main__":
    main()
