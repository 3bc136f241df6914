"""What one explicit step costs below the solver loop, path by path, timed interleaved (issue 16 item 2).

Sections (``--sections``, comma-separated; all by default):

- ``kernels``: ``K @ u`` on a 12k-dof T3 and a 5.6k-dof Tet4 stiffness: scipy's CSR kernel
  (``_sparsetools.csr_matvec`` into a zeroed buffer, the bare loop's product), torch's CSR product and
  ``InternalForce`` on the linear path (what ``fem.solve`` calls), in µs per product;
- ``loop``: steps/s of a bare scipy loop (``f = K u; v -= dt f/m; u += dt v``) against ``fem.solve`` lean
  (no energy rows, frames or monitor) and with its defaults, on the same two meshes; the loop time is
  taken between the callbacks of steps 1 and n − 1 (set-up excluded);
- ``rows``: what an energy row adds on the linear path: the displacement gradient for the inversion
  check, by the sparse B₀ product against the batched-matmul reference, and ``inverted_cells``;
- ``finite``: the finite-strain internal force on a plane-strain Q4 sheet (1e5 dofs) with
  ``fem.NeoHookean``, stage by stage (B₀u; F = I + H and P(F), by the closed form of
  :mod:`fem.materials.hyperelastic.closed_form` and by the tensor formula it replaced; Bᵀ(wP); the
  per-step checks det F > 0 and ``in_domain``), then the same P(F) for Mooney–Rivlin and, when lipmat
  is importable, the neural law (its own ``stress`` and the closed form fed by its W₁, W₂, V');
- ``neural-run``: ``fem.solve`` on that Q4 sheet (plane strain, 1e5 dofs), the neural law of the demo
  (lipmat's ``NeuralHyperelastic``) and Neo-Hookean, lean and with the defaults at the cadence of a
  20 000-step run (a row every 20 steps, a frame every 200, kept in memory; checks every step), in µs
  per cell per step between the callbacks of steps 1 and n − 1 (runs alternate);
- ``finite-step``: the whole step of ``fem.solve``'s loop (``stepper.step`` + the per-step checks, as
  ``bench/explicit_step.py --finite`` times it) with the default bulk viscosity, Neo-Hookean with the
  closed form against the same law forced onto the tensor formula, in µs per cell per step.

Every table alternates its variants (A, B, A, B, ...), reports the median and the minimum of the
repeats, and prints the load average beside it: on a shared machine the median moves with the load,
the minimum is the nearest to the hardware, and the ratios of interleaved variants are what to compare.
One torch thread (``OMP_NUM_THREADS=1`` is set here before torch loads).

    python bench/step_paths.py                                   # everything (about 5 min)
    python bench/step_paths.py --sections kernels,rows,finite    # the quick ones (about 1 min)
    python bench/step_paths.py --sections loop --steps 20000     # the issue's run length
"""
from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from scipy.sparse import _sparsetools  # noqa: E402

import fem  # noqa: E402
from fem.discretisation.forces import InternalForce  # noqa: E402

torch.set_num_threads(1)


def load() -> str:
    return "load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


def interleaved(fns: dict, repeats: int, inner: int = 1) -> dict:
    """{name: seconds per call (list over repeats)}, the variants called in turn, ``inner`` calls per sample."""
    out = {k: [] for k in fns}
    for _ in range(repeats):
        for k, fn in fns.items():
            t0 = time.perf_counter()
            for _ in range(inner):
                fn()
            out[k].append((time.perf_counter() - t0) / inner)
    return out


def table(title: str, times: dict, unit: float, unit_name: str, base: str | None = None) -> None:
    print(f"\n{title}   ({load()})")
    print(f"| variant | median {unit_name} | min {unit_name} |" + (f" median / {base} |" if base else ""))
    print("|---|---|---|" + ("---|" if base else ""))
    ref = np.median(times[base]) if base else None
    for k, v in times.items():
        row = f"| {k} | {np.median(v) / unit:.4g} | {min(v) / unit:.4g} |"
        print(row + (f" {np.median(v) / ref:.3f} |" if base else ""))


def meshes() -> dict:
    return {"T3 12k dofs": fem.rectangle(1.0, 1.0, 76, 76, cell="triangle"),
            "Tet4 5.6k dofs": fem.box(1.0, 1.0, 1.0, 11, 11, 12, cell="tetra")}


def linear_problem(mesh):
    mat = fem.LinearElastic(1.0, 0.3, fem.Assembly(mesh).kinematics)
    return fem.Problem(mesh, mat, 1.0, bcs=[fem.Fixed("left")], u0=1e-4 * np.sin(np.pi * mesh.points))


# -- kernels -----------------------------------------------------------------------------------------
def section_kernels(repeats: int) -> None:
    for name, mesh in meshes().items():
        a = fem.Assembly(mesh)
        forces = InternalForce(a, linear_problem(mesh).material)
        k = a.stiffness_matrix(forces.material.linear_stiffness()).tocsr()
        k.sort_indices()
        u = torch.randn(a.n_dofs, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
        un, buf = u.numpy(), np.zeros(a.n_dofs)

        def scipy_kernel():
            buf[:] = 0.0
            _sparsetools.csr_matvec(k.shape[0], k.shape[1], k.indptr, k.indices, k.data, un, buf)

        ref = k @ un
        assert np.allclose(forces(u)[0].numpy(), ref, rtol=0, atol=1e-12 * np.abs(ref).max())
        t = interleaved({"scipy csr_matvec": scipy_kernel, "scipy K @ u": lambda: k @ un,
                         "torch CSR K @ u": lambda: forces.K @ u, "InternalForce (linear path)": lambda: forces(u)},
                        repeats, inner=20)
        table(f"K @ u, {name}, nnz {k.nnz}", t, 1e-6, "µs", base="scipy csr_matvec")


# -- loop --------------------------------------------------------------------------------------------
def bare_loop(mesh, steps: int, dt: float) -> float:
    a = fem.Assembly(mesh)
    k = a.stiffness_matrix(fem.LinearElastic(1.0, 0.3, a.kinematics).linear_stiffness()).tocsr()
    minv = 1.0 / a.lumped_mass(1.0).numpy()
    u = 1e-4 * np.sin(np.pi * mesh.points).ravel()
    v = np.zeros_like(u)
    t0 = time.perf_counter()
    for _ in range(steps):
        f = k @ u
        v -= dt * (f * minv)
        u += dt * v
    return (time.perf_counter() - t0) / steps


def solve_loop(mesh, steps: int, dt: float, lean: bool) -> float:
    stamps = {}
    last = steps - 1

    def cb(s):
        if s.step in (1, last):
            stamps[s.step] = time.perf_counter()

    kw = dict(energy=fem.EnergyCheck(every=10**9, tol=None), save=fem.SaveAt(every=10**9, keep=False),
              monitor=fem.Monitor(every=0)) if lean else {}
    res = fem.solve(linear_problem(mesh), steps * dt, dt, callback=cb, progress=False, allow_unsafe_dt=True, **kw)
    assert res.completed, res.message
    return (stamps[last] - stamps[1]) / (last - 1)


def section_loop(repeats: int, steps: int) -> None:
    for name, mesh in meshes().items():
        span = mesh.points.max(axis=0) - mesh.points.min(axis=0)
        dt = 0.2 * float(np.prod(span) / mesh.n_cells) ** (1 / mesh.dim)
        t = {"bare scipy loop": [], "fem.solve lean": [], "fem.solve defaults": []}
        for _ in range(repeats):
            t["bare scipy loop"].append(bare_loop(mesh, steps, dt))
            t["fem.solve lean"].append(solve_loop(mesh, steps, dt, lean=True))
            t["fem.solve defaults"].append(solve_loop(mesh, steps, dt, lean=False))
        table(f"Loop, {name}, {steps} steps (seconds per step as µs; steps/s ratio = bare / variant)", t, 1e-6,
              "µs/step", base="bare scipy loop")
        bare = np.median(t["bare scipy loop"])
        print("steps/s relative to the bare loop (targets: lean >= 1.0x, defaults >= 0.9x): " + ", ".join(
            f"{k} {bare / np.median(v):.2f}x" for k, v in t.items() if k != "bare scipy loop"))


# -- rows --------------------------------------------------------------------------------------------
def section_rows(repeats: int) -> None:
    for name, mesh in meshes().items():
        a = fem.Assembly(mesh)
        u = 1e-3 * torch.randn(a.n_dofs, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
        a.displacement_gradient(u), a.displacement_gradient_dense(u)      # build both caches
        t = interleaved({"gradient, batched matmul (before)": lambda: a.displacement_gradient_dense(u),
                         "gradient, sparse B0 (now)": lambda: a.displacement_gradient(u),
                         "inverted_cells (now, whole check)": lambda: a.inverted_cells(u)}, repeats, inner=5)
        table(f"Inversion check of an energy row, linear path, {name}", t, 1e-6, "µs",
              base="gradient, batched matmul (before)")


# -- finite ------------------------------------------------------------------------------------------
def q4_sheet():
    return fem.rectangle(1.0, 1.0, 223, 223, cell="quad")      # 224² nodes = 100 352 dofs


def section_finite(repeats: int) -> None:
    mesh = q4_sheet()
    law = fem.NeoHookean(1.0, nu=0.3)
    a = fem.Assembly.for_material(mesh, law)
    forces = InternalForce(a, law)
    nc = a.n_cells
    x = mesh.points        # a smooth field inside the certified domain (stretches ~0.8-1.2) plus noise
    u = torch.as_tensor(0.02 * np.sin(np.pi * x) * np.cos(np.pi * x[:, ::-1]), dtype=torch.float64).reshape(-1)
    u += 1e-5 * torch.randn(a.n_dofs, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    eye = torch.eye(2, dtype=torch.float64)
    with torch.no_grad():
        h = a.strain(u)
        F = h.reshape(nc, a.nq, 2, 2) + eye
        P = forces.stress(h)
        a.Bt                                                    # the plain transpose, for the "before" row
        assert bool(law.in_domain(F).all())
        assert float((law.stress_by_tensors(F).reshape(P.shape) - P).abs().max()) <= 1e-12 * float(P.abs().max())
        stages = {
            "B0 u (torch CSR)": lambda: a.strain(u),
            "F = I + H, P(F) closed form (now)": lambda: forces.stress(h),
            "F = I + H, P(F) tensor formula (before)":
                lambda: law.stress_by_tensors(h.reshape(nc, a.nq, 2, 2) + eye),
            "Btw P, weights folded in Bt (now)": lambda: a.internal_force(P),
            "Bt (w P) (before)": lambda: a.Bt @ (P * a.qp_weights[..., None]).reshape(-1),
            "check det F > 0": lambda: bool((a.volume_ratio(h) <= 0).any()),
            "check in_domain(F)": lambda: bool(law.in_domain(h.reshape(nc, a.nq, 2, 2) + eye).all()),
            "InternalForce (whole, now)": lambda: forces(u),
        }
        t = interleaved(stages, repeats)
    table(f"Finite strain, plane-strain Q4, {a.n_dofs} dofs, {nc} cells, Neo-Hookean, by stage", t, nc * 1e-6,
          "µs/cell")

    laws = {"Mooney-Rivlin": fem.MooneyRivlin(0.4, 0.1, nu=0.3)}
    try:
        from lipmat.models.hyperelastic import NeuralHyperelastic
        laws["neural (lipmat)"] = NeuralHyperelastic(1.0, domain=fem.materials.hyperelastic.DEFAULT_DOMAIN)
    except ImportError:
        pass
    hyper = fem.materials.hyperelastic
    with torch.no_grad():
        for name, m in laws.items():
            fns = {"tensor formula (before)": lambda m=m: hyper.InvariantLaw.stress_by_tensors(m, F),
                   "closed form, law's first_derivatives": lambda m=m: hyper.InvariantLaw.stress(m, F)}
            if name.startswith("neural"):
                vol = m.volumetric()
                fns["law's own stress (lipmat)"] = lambda m=m: m.stress(F)
                fns["closed form, W1, W2, V' only"] = lambda m=m, vol=vol: hyper.closed_form.invariant_stress(
                    F, lambda I1, I2, J: (*m.w(I1, I2), vol.d1(J)))
            t = interleaved(fns, repeats)
            table(f"P(F) of {name}, same states", t, nc * 1e-6, "µs/cell", base="tensor formula (before)")


class _TensorFormulaNeoHookean(fem.NeoHookean):
    """Neo-Hookean forced onto the tensor formula: the step as it was before the closed form."""

    def stress(self, F):
        return self.stress_by_tensors(F)


def section_finite_step(repeats: int, steps: int) -> None:
    from fem.solver.checks import RunChecks
    from fem.solver.setup import RunSetup

    mesh = q4_sheet()
    u0 = 0.01 * np.sin(np.pi * mesh.points[:, :1]) * np.ones((1, 2))     # zero on the fixed left edge
    span = mesh.points.max(axis=0) - mesh.points.min(axis=0)
    dt = 0.2 * float(np.prod(span) / mesh.n_cells) ** 0.5
    runs = {}
    for k, m in {"closed form (now)": fem.NeoHookean(1.0, nu=0.3),
                 "tensor formula (before)": _TensorFormulaNeoHookean(1.0, nu=0.3)}.items():
        setup = RunSetup(fem.Problem(mesh, m, 1.0, bcs=[fem.Fixed("left")], u0=u0), dt, allow_unsafe_dt=True)
        stepper = setup.stepper(dt)
        with torch.no_grad():
            runs[k] = [RunChecks(setup, dt), stepper, setup.initial_state(stepper)]
    t = {k: [] for k in runs}
    with torch.no_grad():
        for _ in range(repeats * steps):
            for k, run in runs.items():
                checks, stepper, s = run
                t0 = time.perf_counter()
                new = stepper.step(s)
                fault = checks.finite(new, s)
                t[k].append(time.perf_counter() - t0)
                assert fault is None, fault.message
                run[2] = new
    table(f"Finite-strain step of fem.solve's loop (step + per-step checks, default bulk viscosity), "
          f"Q4 {mesh.n_points * 2} dofs, Neo-Hookean", t, mesh.n_cells * 1e-6, "µs/cell/step",
          base="tensor formula (before)")


def section_neural_run(repeats: int, steps: int) -> None:
    mesh = q4_sheet()
    laws = {"Neo-Hookean": lambda: fem.NeoHookean(1.0, nu=0.3)}
    try:
        from lipmat.models.hyperelastic import NeuralHyperelastic
        laws["neural (lipmat)"] = lambda: NeuralHyperelastic(1.0, domain=fem.materials.hyperelastic.DEFAULT_DOMAIN)
    except ImportError:
        pass
    u0 = 0.01 * np.sin(np.pi * mesh.points[:, :1]) * np.ones((1, 2))     # zero on the fixed left edge
    lean = dict(energy=fem.EnergyCheck(every=10**9, tol=None), save=fem.SaveAt(every=10**9, keep=False),
                monitor=fem.Monitor(every=0))
    cadence = dict(energy=fem.EnergyCheck(every=20), save=fem.SaveAt(every=200))   # n = 20 000's defaults
    runs = {}
    for name, make in laws.items():
        p = fem.Problem(mesh, make(), 1.0, bcs=[fem.Fixed("left")], u0=u0)
        step = fem.run_time_step(p, "certified", t_end=1.0, certified="element")   # the proof once, here
        dt = step.dt
        runs[f"{name}, lean"] = (p, step, lean)
        runs[f"{name}, defaults (20k-step cadence)"] = (p, step, cadence)
    t = {k: [] for k in runs}
    for _ in range(repeats):
        for k, (p, step, kw) in runs.items():
            stamps = {}

            def cb(s):
                if s.step in (1, steps - 1):
                    stamps[s.step] = time.perf_counter()

            res = fem.solve(p, steps * step.dt, step, callback=cb, progress=False, **kw)
            assert res.completed, res.message
            t[k].append((stamps[steps - 1] - stamps[1]) / (steps - 2))
    table(f"fem.solve, plane-strain Q4 {mesh.n_points * 2} dofs, {mesh.n_cells} cells, {steps} steps", t,
          mesh.n_cells * 1e-6, "µs/cell/step")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sections", default="kernels,rows,finite,finite-step,loop")
    p.add_argument("--repeats", type=int, default=15, help="samples per variant (loop: runs per variant, 3)")
    p.add_argument("--steps", type=int, default=20000, help="steps per loop run")
    p.add_argument("--finite-steps", type=int, default=10, help="finite-step samples per repeat")
    p.add_argument("--neural-steps", type=int, default=100, help="steps per neural-run run")
    args = p.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s); {load()}")
    for s in args.sections.split(","):
        if s == "kernels":
            section_kernels(args.repeats)
        elif s == "rows":
            section_rows(args.repeats)
        elif s == "finite":
            section_finite(args.repeats)
        elif s == "finite-step":
            section_finite_step(max(1, args.repeats // 5), args.finite_steps)
        elif s == "neural-run":
            section_neural_run(max(1, min(args.repeats, 3)), args.neural_steps)
        elif s == "loop":
            section_loop(max(1, min(args.repeats, 3)), args.steps)
        else:
            raise SystemExit(f"unknown section {s!r}")


if __name__ == "__main__":
    main()
