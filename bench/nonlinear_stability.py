"""Nonlinear stability at the certified step: scenarios × (bulk viscosity off / on) × step fraction.

Every run is a :func:`fem.solve` (its one step loop and checks: NaN/inf and, in 1D, inversion every step;
the scheme's energy error (:mod:`fem.stability.discrete_energy`, the energy guard) and, in 2D, inversion at
the energy rows, every 10 steps; the balance check off). Columns:

- status: ``completed``, ``unstable`` (the energy guard tripped: the scheme created more than
  ``guard_tol`` of the energy in motion), ``inverted`` (an element turned inside out) or ``nan``;
- ratio: the largest ``(kinetic + internal − Ψ₀)/(kinetic₀ + external work)`` over the run, with the
  scheme's kinetic energy ``½v_{n−½}ᵀMv_{n+½}`` (``internal − Ψ₀``: the stored energy put in motion, so
  a body pre-stretched and held compares its vibration with the vibration it was given);
- dissipated: the energy taken by mass damping + viscosity, as a fraction of ``kinetic₀ + external work``;
- guard: the largest relative energy error of the scheme (``R_n/S_n``);
- steps run, dt/dt_cert (``dt_cert``: the damping-aware certified step of the run's settings).

Scenarios (docs/stability.md):
- ``treloar``: Treloar-fitted 1D bar, 10 cm, 50 elements, ρ = 1100, pre-stretched to λ₀, both ends held,
  ``v₀ = a c_t(λ₀)(sin(πX/L) + ½ sign(X − L/2) sin(2πX/L) + 5 % noise)``, 20 000 undamped-certified steps
  of time;
- ``nlbar``: free 1D bar, ``fem.NonlinearBar`` E1 = 1e6 → E2, ε0 = 0.02, ρ = 1000, v₀ = ±sin(πx),
  20 000 steps (as ``bench/timestep_nonlinear.py``);
- ``strip``: the demo strip (200 elements, λ = 7.5) pulled with a *linear* ramp over 0.1 s, held 0.05 s;
- ``plate2d``: plane-strain strip 40 × 10 mm, 40 × 10 Q4, :class:`fem.materials.stiffening.StiffeningElastic`
  (E = 10 MPa, ν = 0.3, 5× stiffer past 2 % strain), left edge held, right edge pulled at 0.1 c₀.

    python bench/nonlinear_stability.py                  # everything (a few minutes)
    python bench/nonlinear_stability.py --quick          # 4000-step runs, fewer rows
    python bench/nonlinear_stability.py --only treloar --model /tmp/r.pt
    python bench/nonlinear_stability.py --settings on --model /tmp/r.pt   # the default table only
"""
from __future__ import annotations

import argparse
import math
import time
from dataclasses import dataclass, field

import numpy as np
import torch

import fem
from fem.stability.viscosity import BulkViscosity

FRACTIONS = (1.0, 0.9, 0.7)


@dataclass
class Case:
    """One scenario: a problem, how long to run (s), a name and a label."""

    name: str
    label: str
    problem: object
    t_end: float | None = None
    steps_at_cert: int | None = None   # run for this many undamped certified steps of time instead
    extra: dict = field(default_factory=dict)


def run_case(case: Case, fraction: float, viscosity: BulkViscosity, *, guard_tol: float = 1e-2,
             stop_on_guard: bool = True, max_steps: int | None = None, check_every: int = 10) -> dict:
    """Run ``case`` at ``fraction`` × its default certified step (damping-aware when viscosity is on):
    :func:`fem.solve` (its loop and checks; energy rows every ``check_every`` steps, the balance check off)."""
    p = case.problem
    step = fem.run_time_step(p, "certified", viscosity=viscosity, certified="element")
    dt_cert = step.dt_certified
    undamped = step.setup.timestep.details.get("undamped_dt", dt_cert)
    t_end = case.t_end if case.t_end is not None else case.steps_at_cert * undamped
    n_steps = max(1, math.ceil(t_end / (fraction * dt_cert) - 1e-9))
    dt = t_end / n_steps
    if max_steps and n_steps > max_steps:
        n_steps, t_end = max_steps, max_steps * dt
    mass = fem.Assembly(p.mesh, thickness=p.thickness, area=p.area).lumped_mass(p.density)
    rows, ratio = [], [1.0]

    def at_row(s) -> None:
        """At a row: the largest (kinetic + internal − Ψ₀)/(kinetic₀ + external work), with the scheme's
        kinetic energy ½v_{n−½}ᵀMv_{n+½} = ½vᵀMv − (Δt²/8)aᵀMa."""
        row = rows[-1]
        if s.step != row["step"] or s.step < 10:
            return
        kin_h = row["kinetic"] - dt * dt / 8 * float(torch.dot(mass * s.a, s.a))
        denom = rows[0]["kinetic"] + row["external"]
        if denom > 0:
            ratio[0] = max(ratio[0], (kin_h + row["internal"] - rows[0]["internal"]) / denom)

    wall = time.perf_counter()
    res = fem.solve(p, t_end, dt, viscosity=viscosity, certified="element", check_every=1, progress=False,
                    energy=fem.EnergyCheck(every=check_every, tol=None, guard=guard_tol if stop_on_guard else None,
                                           on_row=rows.append),
                    save=fem.SaveAt(every=check_every, keep=False), monitor=fem.Monitor(every=0), callback=at_row)
    scheme = np.array([r["scheme_error"] for r in rows])
    trips = [r["step"] for r in rows if r["scheme_error"] > guard_tol]
    status = str(res.status)
    if res.fault is not None and res.fault.kind == fem.Status.UNSTABLE and "NaN" in res.fault.detail:
        status = "nan"
    denom = rows[0]["kinetic"] + rows[-1]["external"]
    return {"case": case.name, "label": case.label, "viscosity": viscosity.active, "fraction": fraction,
            "status": status, "ratio": ratio[0], "dissipated": rows[-1]["damping"] / denom if denom > 0 else math.nan,
            "guard": float(np.nanmax(scheme, initial=0.0)), "first_trip": trips[0] if trips else None,
            "steps": res.steps, "n_steps": n_steps, "dt": dt, "dt_cert": dt_cert, "dt_cert_undamped": undamped,
            "wall": time.perf_counter() - wall}


# ---------------------------------------------------------------------------------------------------
# scenarios
def treloar_model(path: str | None = None, quick: bool = False):
    """The Treloar-fitted uniaxial law: from a model file, or fitted here (``lipmat fit``'s defaults)."""
    if path:
        from lipmat.io import load

        return load(path)
    from lipmat.demo import bar as demo_bar

    return demo_bar.fit_rubber(quick=quick).model


def treloar_bar(model, lam0: float, amp: float, *, n_el: int = 50, length: float = 0.1, rho: float = 1100.0,
                seed: int = 0) -> fem.Problem:
    """Pre-stretched Treloar bar held at both ends with the issue's initial velocity."""
    eps0 = lam0 - 1.0
    with torch.enable_grad():
        x = torch.tensor([[eps0]], dtype=torch.float64, requires_grad=True)
        (tangent,) = torch.autograd.grad(model.stress(x).sum(), x)
    c_t = math.sqrt(float(tangent) / rho)
    mesh = fem.bar(length, n_el)
    noise = np.random.default_rng(seed).standard_normal(n_el + 1)

    def v0(pts):
        X = pts[:, 0] / length
        shape = np.sin(np.pi * X) + 0.5 * np.sign(X - 0.5) * np.sin(2 * np.pi * X) + 0.05 * noise
        v = amp * c_t * shape
        v[0] = v[-1] = 0.0
        return v[:, None]

    return fem.Problem(mesh, model, rho, bcs=(fem.Fixed("left"), fem.Fixed("right", value=eps0 * length)),
                       u0=lambda pts: eps0 * pts, v0=v0, area=1e-4)


def nonlinear_bar(e2_over_e1: float) -> fem.Problem:
    mat = fem.NonlinearBar(E1=1.0e6, E2=1.0e6 * e2_over_e1, eps0=0.02)
    mesh = fem.bar(1.0, 50)
    return fem.Problem(mesh, mat, 1000.0,
                       v0=lambda pts: (np.where(pts[:, 0] > 0.5, 1.0, -1.0) * np.sin(np.pi * pts[:, 0]))[:, None])


def pulled_strip(model, *, n_el: int = 200, stretch: float = 7.5, ramp: float = 0.1, hold: float = 0.05):
    """The demo strip pulled with a linear ramp (velocity jumps at 0 and at ``ramp``)."""
    length = 0.1
    total = (stretch - 1.0) * length

    def g(t):
        return total * min(max(t, 0.0) / ramp, 1.0)

    mesh = fem.bar(length, n_el)
    p = fem.Problem(mesh, model, 1100.0, bcs=(fem.Fixed("left"), fem.Prescribed("right", "x", displacement=g)),
                    area=1e-4)
    return p, ramp + hold


def stiff_plate(*, nx: int = 40, ny: int = 10, pull: float = 0.1, k: float = 5.0):
    """Plane-strain stiffening strip pulled at its right edge with ``pull`` × the small-strain P-wave speed."""
    from fem.materials.stiffening import StiffeningElastic

    E, nu, rho, lx, ly = 10e6, 0.3, 1000.0, 0.04, 0.01
    mat = StiffeningElastic.from_young(E, nu, k_vol=k, k_dev=k, x0_vol=0.02, x0_dev=0.02)
    c0 = math.sqrt(E * (1 - nu) / ((1 + nu) * (1 - 2 * nu)) / rho)
    v = pull * c0
    mesh = fem.rectangle(lx, ly, nx, ny, cell="quad")
    p = fem.Problem(mesh, mat, rho, bcs=(fem.Fixed("left"), fem.Prescribed("right", "x", velocity=lambda t: v)))
    return p, 2.0 * lx / c0 * 1.5


def cases(model, quick: bool = False, only: str | None = None, lambdas=None) -> list[Case]:
    steps = 4000 if quick else 20000
    out: list[Case] = []
    if only in (None, "treloar"):
        lams = lambdas or ((7.0, 7.5) if quick else (6.5, 7.0, 7.5))
        for lam in lams:
            for amp in (0.02, 0.2):
                out.append(Case("treloar", f"Treloar bar λ₀={lam:g}, a={amp:g}", treloar_bar(model, lam, amp),
                                steps_at_cert=steps))
    if only in (None, "nlbar"):
        for r in (2.0, 5.0, 10.0):
            out.append(Case("nlbar", f"NonlinearBar E2/E1={r:g}", nonlinear_bar(r), steps_at_cert=steps))
    if only in (None, "strip"):
        p, t_end = pulled_strip(model, n_el=50 if quick else 200)
        out.append(Case("strip", "demo strip, linear-ramp pull to λ=7.5", p, t_end=t_end))
    if only in (None, "plate2d"):
        p, t_end = stiff_plate(nx=20 if quick else 40, ny=5 if quick else 10)
        out.append(Case("plate2d", "plane-strain stiffening strip, fast pull (Q4)", p, t_end=t_end))
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--only", choices=("treloar", "nlbar", "strip", "plate2d"))
    ap.add_argument("--model", help="Treloar model file (lipmat fit data/treloar_uniaxial.csv --out FILE)")
    ap.add_argument("--fractions", default=",".join(str(f) for f in FRACTIONS))
    ap.add_argument("--settings", default="off,on", help="bulk viscosity settings to run: off, on (the defaults), linear (quadratic=0), "
                    "quadratic (quadratic=1.2)")
    ap.add_argument("--lambdas", default=None, help="pre-stretches of the Treloar bar, e.g. 7.5 (default 6.5,7,7.5)")
    ap.add_argument("--no-stop", action="store_true", help="do not stop at the energy guard (to see what follows)")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    torch.set_default_dtype(torch.float64)
    model = treloar_model(args.model, args.quick) if args.only in (None, "treloar", "strip") else None
    fractions = tuple(float(f) for f in args.fractions.split(","))
    settings = {"off": BulkViscosity.off(), "on": BulkViscosity(), "linear": BulkViscosity(quadratic=0.0),
                "quadratic": BulkViscosity(quadratic=1.2)}
    print("| scenario | viscosity | dt/dt_cert | status | max ratio | dissipated | guard max | steps | dt/dt_cert(undamped) "
          "| guard > tol at step |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    lambdas = tuple(float(x) for x in args.lambdas.split(",")) if args.lambdas else None
    for case in cases(model, args.quick, args.only, lambdas):
        for name in args.settings.split(","):
            for f in fractions:
                r = run_case(case, f, settings[name], stop_on_guard=not args.no_stop)
                print(f"| {r['label']} | {name} | {f:g} | {r['status']} | {r['ratio']:.4f} | {r['dissipated']:.3g} | "
                      f"{r['guard']:.2g} | {r['steps']}/{r['n_steps']} | {r['dt'] / r['dt_cert_undamped']:.3f} | "
                      f"{r['first_trip'] or '–'} |",
                      flush=True)


if __name__ == "__main__":
    main()
