"""The rubber bar of ``lipmat demo`` and ``examples/rubber_bar_blowup.py``: Treloar's rubber, pulled.

A strip of natural rubber (length ``length``, 1D bar, lumped mass) is held at x = 0 and its end
x = ``length`` is pulled to the stretch ``stretch`` with a smooth ramp ``(1 − cos πt/T)/2`` over
``ramp_time``, then held for ``hold_time`` while the waves run up and down the stretched strip. The
material is the certified uniaxial law fitted to Treloar's curve (:func:`fit_rubber`): in 1D,
engineering strain ``λ − 1`` and nominal stress are an exact finite-strain work pair, so the bar is
an exact finite-strain model of the strip in uniaxial stress.

Treloar's rubber softens (tangent 1.3 MPa at λ = 1, 0.3 MPa at λ ≈ 2.5) and then stiffens sharply
(≈ 7 MPa near λ = 7.6). A time step derived from the initial modulus, ``Δt₀ = h/c₀`` with
``c₀ = √(σ'(0)/ρ)`` — the exact critical step of the unstrained bar, and what codes derive from a
material's initial stiffness — is about 2.3× the step the stiff part allows: the run blows up as soon
as the strain passes λ ≈ 6.2 (where σ' > σ'(0)). The certified step ``h/√(L/ρ)`` (L the model's
certified slope bound) holds at every strain the bar can reach.

Shapes: fields are (n_points,) displacements and (n_cells,) strains (1D, one component).
"""
from __future__ import annotations

import contextlib
import logging
import math
from dataclasses import asdict, dataclass

import numpy as np
import torch

log = logging.getLogger(__name__)

#: Density of natural rubber, kg/m³.
RUBBER_DENSITY = 1100.0
#: Treloar's uniaxial curve, in ``data/``.
TRELOAR_UNIAXIAL = "treloar_uniaxial.csv"


@dataclass(frozen=True)
class BarSetup:
    """The pulled strip. Lengths in m, times in s, density kg/m³, area m².

    stretch : λ the end is pulled to (end displacement ``(stretch − 1)·length``).
    ramp_time : duration of the smooth pull; hold_time : time held afterwards.
    """

    length: float = 0.1
    n_elements: int = 200
    area: float = 1e-4
    density: float = RUBBER_DENSITY
    stretch: float = 7.5
    ramp_time: float = 0.1
    hold_time: float = 0.05

    @property
    def h(self) -> float:
        """Element length (m)."""
        return self.length / self.n_elements

    @property
    def t_end(self) -> float:
        return self.ramp_time + self.hold_time

    def to_dict(self) -> dict:
        return asdict(self)


def fit_rubber(*, quick: bool = False, seed: int = 0, progress: bool | None = False):
    """Fit the certified uniaxial law to Treloar's uniaxial curve; a :class:`lipmat.fitting.stress_strain.FitResult`.

    quick : 600 Adam epochs and 60 L-BFGS steps (≈ 1 s, R² ≈ 0.998) instead of the defaults
    (4000 + 300, ≈ 10 s, R² ≈ 0.9999).
    """
    from lipmat._paths import shipped_data
    from lipmat.fitting.stress_strain import fit

    epochs, lbfgs = (600, 60) if quick else (None, None)
    return fit("uniaxial", shipped_data(TRELOAR_UNIAXIAL), epochs=epochs, lbfgs_steps=lbfgs, seed=seed,
               progress=progress)


def initial_tangent(model) -> float:
    """σ'(0) of a 1D model (Pa), by autograd of its stress at zero strain."""
    x = torch.zeros(1, 1, dtype=torch.float64, requires_grad=True)
    with torch.enable_grad():
        (g,) = torch.autograd.grad(model.stress(x).sum(), x)
    return float(g)


def initial_modulus_step(model, setup: BarSetup) -> float:
    """``h/c₀``, ``c₀ = √(σ'(0)/ρ)``: the step an initial-stiffness estimate gives (s)."""
    return setup.h / math.sqrt(initial_tangent(model) / setup.density)


def end_displacement(setup: BarSetup):
    """The pulled end's displacement history ``g(t)`` (m), smooth (zero velocity at 0 and at T)."""
    total, ramp = (setup.stretch - 1.0) * setup.length, setup.ramp_time

    def g(t: float) -> float:
        if t >= ramp:
            return total
        return total * 0.5 * (1.0 - math.cos(math.pi * max(t, 0.0) / ramp))

    return g


def bar_problem(model, setup: BarSetup):
    """The :class:`fem.Problem` of the pulled strip with ``model`` as its material."""
    import fem

    mesh = fem.bar(setup.length, setup.n_elements)
    return fem.Problem(mesh, model, setup.density, bcs=(fem.Fixed("left"),
                       fem.Prescribed("right", "x", displacement=end_displacement(setup))), area=setup.area)


def run_bar(model, setup: BarSetup, dt, *, frames: int = 300, rows: int = 300, output=None, monitor: int = 0,
            allow_unsafe_dt: bool = False, progress: bool | None = False, viscosity=None):
    """Run the strip to ``setup.t_end`` at step ``dt`` (s or ``"certified"``); a :class:`fem.Result`.

    frames : about how many frames to keep in ``Result.fields`` (and write to ``output``).
    rows : about how many energy rows (each evaluates the model's energy, ~10× a stress call).
    monitor : measure the critical step (an estimate, Lanczos on the tangent) about this many times.
    allow_unsafe_dt : run a step above the certified one (fem then warns with a FemWarning).
    viscosity : fem's bulk viscosity (None: its defaults; False: the plain undamped scheme).
    """
    import fem

    problem = bar_problem(model, setup)
    step = certified_step(model, setup).dt if dt == "certified" else float(dt)
    n_steps = max(1, math.ceil(setup.t_end / step))
    with frozen_parameters(model):      # the run needs no parameter gradients (and energies stay plain floats)
        return fem.solve(problem, setup.t_end, dt,
                         save=fem.SaveAt(every=max(1, n_steps // frames), writer=output, keep=True),
                         energy=fem.EnergyCheck(every=max(1, n_steps // rows)),
                         monitor=fem.Monitor(every=max(1, n_steps // monitor) if monitor else None),
                         allow_unsafe_dt=allow_unsafe_dt, progress=progress, viscosity=viscosity)


@contextlib.contextmanager
def frozen_parameters(model):
    """``model``'s parameters do not require grad inside; each gets its own flag back afterwards."""
    flags = [(p, p.requires_grad) for p in model.parameters()]
    model.requires_grad_(False)
    try:
        yield model
    finally:
        for p, flag in flags:
            p.requires_grad_(flag)


@contextlib.contextmanager
def quiet_loggers(*names: str, level: int = logging.CRITICAL):
    """The loggers ``names`` drop records below ``level`` inside; their own levels are restored afterwards."""
    loggers = [logging.getLogger(n) for n in names]
    saved = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(level)
    try:
        yield
    finally:
        for lg, old in zip(loggers, saved):
            lg.setLevel(old)


def certified_step(model, setup: BarSetup):
    """:class:`fem.stability.timestep.TimeStep` certified from ``model.stiffness_bound()`` on the bar mesh."""
    from fem.discretisation.assembly import Assembly
    from fem.stability.timestep import certified_time_step

    mesh = bar_problem(model, setup).mesh
    return certified_time_step(Assembly(mesh, area=setup.area), model.stiffness_bound(), setup.density)


def reference_critical_step(model, setup: BarSetup) -> float:
    """Measured critical step (an estimate) of the unstrained bar (s), from fem.stability.timestep."""
    from fem.discretisation.assembly import Assembly
    from fem.stability.timestep import critical_time_step

    mesh = bar_problem(model, setup).mesh
    return critical_time_step(Assembly(mesh, area=setup.area), model, setup.density).dt


def plot_space_time(path, result, setup: BarSetup, *, title: str | None = None) -> None:
    """Two images over (t, X) from the kept frames (PNG): the stretch λ = 1 + ε, and the waves,
    λ minus its mean along the bar at that time (a diverging colour map), each with a colorbar."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    t = np.asarray(result.times) * 1e3
    lam = 1.0 + np.asarray(result.fields["strain"])[..., 0]          # (frames, cells)
    waves = lam - lam.mean(axis=1, keepdims=True)
    extent = (t[0], t[-1], 0.0, setup.length * 1e3)
    fig = Figure(figsize=(11.0, 4.4), constrained_layout=True)
    ax_lam, ax_wave = fig.subplots(1, 2, sharey=True)
    im = ax_lam.imshow(lam.T, origin="lower", aspect="auto", cmap="viridis", extent=extent,
                       interpolation="nearest")
    fig.colorbar(im, ax=ax_lam).set_label("stretch λ = 1 + ε (−)")
    ax_lam.set_title("stretch")
    top = float(np.max(np.abs(waves))) or 1.0
    im = ax_wave.imshow(waves.T, origin="lower", aspect="auto", cmap="RdBu_r", vmin=-top, vmax=top,
                        extent=extent, interpolation="nearest")
    fig.colorbar(im, ax=ax_wave).set_label("λ − mean of λ along the bar (−)")
    ax_wave.set_title("waves: stretch minus its mean along the bar")
    for ax in (ax_lam, ax_wave):
        ax.axvline(setup.ramp_time * 1e3, color="k", lw=0.8, ls="--")
        ax.set_xlabel("time t (ms)   (dashed: end reaches λ = %g and is held)" % setup.stretch)
    ax_lam.set_ylabel("position along the unstretched bar X (mm)")
    fig.suptitle(title or f"rubber strip pulled at X = {setup.length * 1e3:g} mm to λ = {setup.stretch:g} "
                 f"over {setup.ramp_time * 1e3:g} ms, then held")
    fig.savefig(path, dpi=120)


def stiffening_stretch(model, *, lo: float = 1.0, hi: float = 20.0) -> float:
    """Smallest stretch above the softening range where σ'(ε) exceeds σ'(0) again (NaN if none in [lo, hi])."""
    e = torch.linspace(lo - 1.0, hi - 1.0, 20001, dtype=torch.float64).unsqueeze(-1).requires_grad_(True)
    with torch.enable_grad():
        (g,) = torch.autograd.grad(model.stress(e).sum(), e)
    g, e = g[:, 0].detach(), e.detach()
    above = g > initial_tangent(model)
    below = (~above).nonzero()
    if not below.numel():
        return math.nan
    later = above[int(below[0]):].nonzero()
    return 1.0 + float(e[int(below[0]) + int(later[0]), 0]) if later.numel() else math.nan


def plot_max_stretch(path, comparison) -> None:
    """Largest stretch in the strip over time for both runs of a :class:`Comparison` (PNG)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    c = comparison
    fig = Figure(figsize=(7.5, 4.4), constrained_layout=True)
    ax = fig.subplots()
    for run, name, dt, style in ((c.certified, "certified step", c.dt_certified, "-"),
                                 (c.initial, "initial-modulus step h/c₀", c.dt_initial, "--")):
        lam = 1.0 + np.asarray(run.fields["strain"])[..., 0]
        t = np.asarray(run.times) * 1e3
        state = "completed" if run.completed else f"{run.status} at t = {run.t * 1e3:.3g} ms"
        ax.plot(t, lam.max(axis=1), style, lw=1.8, label=f"{name} {dt * 1e6:.3g} µs: {state}")
        if not run.completed:
            ax.plot([run.t * 1e3], [lam.max(axis=1)[-1]], "rx", ms=9)
    lam_s = c.stiffening_stretch
    if math.isfinite(lam_s):
        ax.axhline(lam_s, color="0.5", lw=0.8, ls=":")
        ax.text(0.02, lam_s, f"σ'(ε) > σ'(0) above λ = {lam_s:.2f}", color="0.3", fontsize=8, va="bottom",
                transform=ax.get_yaxis_transform())
    ax.set_xlabel("time t (ms)")
    ax.set_ylabel("largest stretch in the strip (−)")
    ax.set_title(f"strip pulled to λ = {c.setup.stretch:g}: initial-modulus vs certified time step")
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(alpha=0.3)
    fig.savefig(path, dpi=120)


def max_balance_error(result) -> float:
    """Largest energy balance residual of the run over its peak energy (:func:`fem.solver.energy.run_balance_error`)."""
    from fem.solver.energy import run_balance_error

    worst, _ = run_balance_error(result.energies)
    return math.nan if worst is None else worst


class ThinnedWriter:
    """A field writer that passes on every ``every``-th frame (and always the last) to ``writer``.

    Lets a run keep many frames in memory (for a space–time plot) and write fewer to disk.
    """

    def __init__(self, writer, every: int):
        self.writer, self.every = writer, max(1, int(every))
        self._count, self._pending = 0, None

    def write(self, t, point_data, cell_data=None):
        if self._count % self.every == 0:
            self.writer.write(t, point_data, cell_data)
            self._pending = None
        else:
            self._pending = (t, point_data, cell_data)
        self._count += 1

    def close(self):
        if self._pending is not None:
            self.writer.write(*self._pending)
            self._pending = None
        self.writer.close()


@dataclass
class Comparison:
    """The two runs of the strip: at the initial-modulus step and at the certified step.

    dt_initial : h/c₀ (s); dt_certified : certified step (s); dt_reference : measured critical step of
    the unstrained bar (an estimate, s); dt_min_measured : smallest measured critical step over the
    certified run (an estimate, s; NaN without monitoring); initial, certified : the two :class:`fem.Result` objects;
    stiffening_stretch : λ above which σ' > σ'(0) (:func:`stiffening_stretch`).
    """

    setup: BarSetup
    stiffening_stretch: float
    dt_initial: float
    dt_certified: float
    dt_reference: float
    dt_min_measured: float
    initial: object
    certified: object

    def summary(self) -> dict:
        """Plain numbers (JSON-ready)."""
        c, i = self.certified, self.initial
        return {"dt_initial_modulus_s": self.dt_initial, "dt_certified_s": self.dt_certified,
                "dt_measured_reference_s": self.dt_reference, "dt_measured_min_s": self.dt_min_measured,
                "certified_over_measured_min": self.dt_certified / self.dt_min_measured,
                "initial_over_certified": self.dt_initial / self.dt_certified,
                "initial_status": i.status, "initial_message": i.message, "initial_steps": i.steps,
                "initial_t_s": i.t, "certified_status": c.status, "certified_steps": c.steps,
                "certified_max_balance_error": max_balance_error(c),
                "max_stretch": 1.0 + float(np.max(c.fields["strain"])),
                "stiffening_stretch": self.stiffening_stretch,
                "certified_wall_time_s": c.wall_time}


def compare_steps(model, setup: BarSetup, *, monitor: int = 30, output=None, frames: int = 300,
                  progress: bool | None = False) -> Comparison:
    """Run the strip at h/c₀ (allowed explicitly; fem's FemWarning is recorded to the log) and at the
    certified step (written to ``output`` when given, monitored ``monitor`` times)."""
    import warnings

    from fem.core.errors import FemWarning

    dt0 = initial_modulus_step(model, setup)
    # the fault of this run and the monitor's warnings are expected: reported below at INFO
    with quiet_loggers("fem.solver.explicit", "fem.solver.observers"), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", FemWarning)
        # the plain scheme, as a code without bulk viscosity would run h/c0 (with it, h/c0 is above the
        # damping-aware limit already at rest and the run stops before reaching the stiff range)
        initial = run_bar(model, setup, dt0, allow_unsafe_dt=True, frames=frames, progress=progress,
                          viscosity=False)
    for w in caught:
        log.info("initial-modulus run: %s", w.message)
    certified = run_bar(model, setup, "certified", output=output, monitor=monitor, frames=frames,
                        progress=progress)
    measured = [m["dt_critical"] for m in certified.monitor]
    return Comparison(setup, stiffening_stretch(model), dt0, float(certified.dt_certified),
                      reference_critical_step(model, setup),
                      min(measured) if measured else math.nan, initial, certified)


def fit_baselines(curve) -> dict:
    """Classical least-squares baselines on a uniaxial curve: name -> (model, r2, mape %).

    curve : :class:`lipmat.fitting.data.UniaxialCurve`; every law of :data:`lipmat.models.classical.BASELINES`.
    """
    from lipmat.fitting import metrics
    from lipmat.models.classical import BASELINES, fit_baseline

    out = {}
    for name in BASELINES:
        law = fit_baseline(name, curve)
        pred = law.nominal_stress(curve.stretch)
        out[name] = (law, float(metrics.r2(curve.stress, pred)), float(metrics.mape(curve.stress, pred)))
    return out


def plot_fits(path, curve, laws: dict, *, title: str | None = None) -> None:
    """Data, fitted laws and their extrapolation (λ from 0.3 to 9), and the relative error at the data.

    curve : :class:`lipmat.fitting.data.UniaxialCurve`; laws : label -> callable strain (k,) -> nominal stress
    (k,) Pa (numpy). The first laws are drawn thick (the neural ones, say); NaN (outside a law's
    domain) is left out. Writes a PNG (matplotlib Agg).
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    lam_data = np.asarray(curve.stretch, dtype=np.float64)
    p_data = np.asarray(curve.stress, dtype=np.float64) / 1e6
    lam = np.linspace(0.3, 9.0, 871)
    fig = Figure(figsize=(13.0, 5.0), constrained_layout=True)
    ax, ax_err = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.25, 1.0]})
    ax.axvspan(lam_data.min(), lam_data.max(), color="0.93", zorder=0)
    ax.text(0.5 * (lam_data.min() + lam_data.max()), 0.97, "data range", ha="center", va="top", fontsize=8,
            color="0.4", transform=ax.get_xaxis_transform())
    for i, (label, fn) in enumerate(laws.items()):
        neural = i < 2 and not label.startswith(("linear", "neohookean"))
        with np.errstate(all="ignore"):
            p = np.asarray(fn(lam - 1.0), dtype=np.float64) / 1e6
            p_at = np.asarray(fn(lam_data - 1.0), dtype=np.float64) / 1e6
        style = dict(lw=2.2 if neural else 1.0, color=f"C{i}" if i < 10 else "k", ls="-" if neural or i % 2 else "--")
        ax.plot(lam, p, label=label, **style)
        ax_err.plot(lam_data, 100 * (p_at - p_data) / p_data, marker="o" if neural else ".", ms=4, **style)
    ax.plot(lam_data, p_data, "ko", ms=4.5, label="Treloar (1944) data", zorder=5)
    top = float(p_data.max())
    ax.set_ylim(-0.6 * top, 1.6 * top)
    ax.set_xlim(0.3, 9.0)
    ax.axhline(0, color="0.6", lw=0.5)
    ax.set_xlabel("stretch λ (−)")
    ax.set_ylabel("nominal stress P (MPa)")
    ax.set_title("fits and extrapolation (compression to λ = 0.3, tension to λ = 9)")
    ax.grid(alpha=0.3)
    ax_err.axhline(0, color="0.4", lw=0.6)
    ax_err.set_ylim(-30, 30)
    ax_err.set_xlabel("stretch λ (−)")
    ax_err.set_ylabel("relative error at the data points (%)")
    ax_err.set_title("error at the data (clipped to ±30 %)")
    ax_err.grid(alpha=0.3)
    handles, labels = ax.get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside right center", fontsize=8)
    if title:
        fig.suptitle(title)
    fig.savefig(path, dpi=120)
