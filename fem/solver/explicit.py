"""Explicit dynamics: the one entry point :func:`solve` and the generator :func:`iterate`.

``solve(problem, t_end, dt)`` runs the central-difference scheme of :mod:`fem.solver.central_difference`
from ``t = 0`` to ``t_end`` and returns a :class:`~fem.solver.result.Result` (times, energies, probes, final
state, status, message). It never loses work: on a fault (NaN/inf, energy balance error above
``EnergyCheck.tol``, an element turned inside out) or Ctrl-C it stops, keeps the last good state and
everything recorded so far, and says what happened where (step, time, element id and centroid).

Per step the material is called once, batched over every quadrature point, under ``torch.no_grad``;
a material with ``linear_stiffness()`` takes the sparse ``K @ u`` path instead (:mod:`fem.discretisation.forces`).

Time step: a float, or ``"certified"``. When the material has ``stiffness_bound()`` the certified
step of :func:`fem.stability.timestep.certified_time_step` (element method; a proven bound) is computed once; a
float above it is refused unless ``allow_unsafe_dt=True`` (then a :class:`~fem.core.errors.FemWarning`);
see :class:`fem.solver.setup.RunSetup`. The step is shortened to ``t_end / ceil(t_end/dt)`` so the run ends
exactly at ``t_end`` (:func:`fem.solver.plan.plan_run`).

The loop here only steps and checks; recording, monitoring, frames, checkpoints and progress are
observers (:mod:`fem.solver.observers`), configured by the option groups of :mod:`fem.solver.solve_options`.
"""
from __future__ import annotations

import dataclasses
import logging
import math
import numbers
import time
from typing import Callable, Iterator

import numpy as np
import torch

from fem.solver.central_difference import State
from fem.io.checkpoint import load_checkpoint
from fem.core.errors import FemError, SimulationError
from fem.core.limits import Limits
from fem.solver.observers import (CallbackObserver, CheckpointWriter, EnergyRecorder, FrameRecorder, MonitorRecorder,
                           ProbeRecorder, ProgressBar, state_from_payload, tensor_components)
from fem.solver.plan import UNSAFE_MONITORS, plan_run
from fem.solver.problem import Problem
from fem.solver.result import Result
from fem.solver.setup import SMALL_PROBLEM_DOFS, RunSetup, torch_threads
from fem.solver.solve_options import Checkpoint, Compute, EnergyCheck, Monitor, Probes, SaveAt
from fem.stability.timestep import CertifiedStep
from fem.stability.viscosity import BulkViscosity

__all__ = ["Problem", "Result", "State", "solve", "iterate", "tensor_components", "BALANCE_GRACE_STEPS",
           "SMALL_PROBLEM_DOFS", "UNSAFE_MONITORS"]

log = logging.getLogger(__name__)

#: steps at the start of a run in which the energy balance is not held to EnergyCheck.tol (see solve)
BALANCE_GRACE_STEPS = 10


def _positive(x) -> bool:
    """x is a positive finite number (plan_run reports any other t_end)."""
    return not isinstance(x, bool) and isinstance(x, (int, float)) and x > 0 and math.isfinite(x)


# ---------------------------------------------------------------------------------------------
# iterate
def iterate(problem: Problem, dt, *, allow_unsafe_dt: bool = False, compute: Compute = Compute(),
            viscosity: BulkViscosity | None = None, certified: CertifiedStep | str | None = None) -> Iterator[State]:
    """Yield the initial :class:`State` then one state per step, forever (take what you need).

    Checks every step for NaN/inf (and 1D inversion); on a fault raises
    :class:`~fem.core.errors.SimulationError` whose ``.result`` is a :class:`Result` holding the last
    good state. Energies are not tracked here; use :func:`solve` for that.
    """
    n_dofs = problem.mesh.n_points * problem.mesh.dim
    with torch_threads(compute.num_threads, n_dofs, compute.device):
        setup = RunSetup(problem, dt, compute=compute, allow_unsafe_dt=allow_unsafe_dt, viscosity=viscosity,
                         certified=certified)
        stepper = setup.stepper(setup.dt)
        state = setup.initial_state(stepper)
    yield state
    while True:
        with torch.no_grad(), torch_threads(compute.num_threads, n_dofs, compute.device):
            new = stepper.step(state)
        fault = setup.finite_fault(new, state)
        if fault is not None:
            res = Result(fault["kind"], fault["message"], state.step, state.t, setup.dt, np.zeros(0), {},
                         state, dt_certified=setup.dt_certified, fault=fault, dt_method=setup.dt_method,
                         dt_reason=setup.dt_reason)
            raise SimulationError(fault["message"], res)
        state = new
        yield state


# ---------------------------------------------------------------------------------------------
# solve
def solve(problem: Problem, t_end: float, dt, *, allow_unsafe_dt: bool = False, save: SaveAt = SaveAt(),
          energy: EnergyCheck = EnergyCheck(), probes: Probes | None = None, monitor: Monitor = Monitor(),
          checkpoint: Checkpoint | None = None, restart=None, compute: Compute = Compute(),
          check_every: int = 1, callback: Callable[[State], None] | None = None, progress: bool | None = None,
          raise_on_fault: bool = False, limits: Limits | None = None,
          viscosity: BulkViscosity | None = None, certified: CertifiedStep | str | None = None) -> Result:
    """Run ``problem`` from t = 0 to ``t_end`` with the central-difference scheme.

    Parameters
    ----------
    t_end : end time (s). dt : a float (s) or ``"certified"`` (see the module docstring).
    allow_unsafe_dt : run a float dt above the certified step (with a FemWarning) instead of refusing;
        such a run is monitored (about ``UNSAFE_MONITORS`` measurements) unless ``Monitor(every=0)``.
    save : :class:`~fem.solver.solve_options.SaveAt`, frames (every, writer, keep). ``solve`` closes the writer.
    energy : :class:`~fem.solver.solve_options.EnergyCheck`, energy rows (every, on_row) and the balance check
        (tol; not applied in the first ``BALANCE_GRACE_STEPS`` steps; NaN/inf and inversion are checked
        from step 1).
    probes : :class:`~fem.solver.solve_options.Probes`, node groups whose mean displacement is recorded.
    monitor : :class:`~fem.solver.solve_options.Monitor`, measured critical steps (an estimate).
    checkpoint : :class:`~fem.solver.solve_options.Checkpoint`, restart files every N steps and on Ctrl-C.
    restart : a checkpoint path to continue from (same problem and dt); the result equals that of an
        uninterrupted run.
    compute : :class:`~fem.solver.solve_options.Compute`, dtype, device, threads, sparse linear path.
    check_every : steps between NaN/inf (and 1D inversion) checks; 2D/3D inversion is checked at rows.
    callback : called with every new state (after checks).
    progress : tqdm bar with ETA; None = only when stderr is a terminal.
    raise_on_fault : raise :class:`~fem.core.errors.SimulationError` (with ``.result``) instead of returning
        a Result whose status is not ``"completed"``.
    limits : :class:`~fem.core.limits.Limits` on steps, frames and estimated bytes, checked before the first
        step (None: the defaults, 1e8 steps, 1e4 frames, 20 GB; ``Limits.off()``: none). A run above one
        raises :class:`~fem.core.errors.LimitError` with the numbers.
    viscosity : :class:`~fem.stability.viscosity.BulkViscosity` (linear 0.06, quadratic 0.0, cap 0.1: the linear
        term only; None: these defaults; ``BulkViscosity(quadratic=1.2)`` adds Abaqus's quadratic term),
        ``BulkViscosity.off()`` or False for the plain undamped scheme. On, ``dt="certified"`` is the
        damping-aware step ``(2/ω_b)(√(1+ξ_b²) − ξ_b)``, ξ_b = linear (+ cap with the quadratic term):
        0.942× the undamped certified step at the defaults, 0.853× with the quadratic term; see
        ``docs/stability.md``.
    certified : how ``dt="certified"`` is bounded, :class:`~fem.stability.timestep.CertifiedStep` or a method name:
        ``"auto"`` (default: the global form, tight, when its one-off cost is under 5 % of the run
        estimated from ``t_end`` and a measured step, or under 1 s; else the element form), ``"global"``
        or ``"element"``. ``Result.dt_method`` / ``dt_reason`` say which form was used and why.

    Returns a :class:`Result`.
    """
    n_dofs = problem.mesh.n_points * problem.mesh.dim
    with torch_threads(compute.num_threads, n_dofs, compute.device):
        wall0 = time.perf_counter()
        if isinstance(check_every, bool) or not isinstance(check_every, numbers.Integral) or check_every < 1:
            raise FemError(f"check_every must be a whole number of steps >= 1, got {check_every!r}")
        if restart is not None:
            certified = _restart_form(restart, certified)
        setup = RunSetup(problem, dt, compute=compute, allow_unsafe_dt=allow_unsafe_dt, viscosity=viscosity,
                         certified=certified, t_end=t_end if _positive(t_end) else None)
        plan = plan_run(setup, t_end, save, energy, monitor, limits=limits,
                        n_probes=0 if probes is None else len(probes.nodes),
                        probe_every=1 if probes is None else probes.every)
        stepper = setup.stepper(plan.dt)
        keep = (save.writer is None) if save.keep is None else save.keep
        mon = MonitorRecorder(setup, plan.monitor_every)
        rec = EnergyRecorder(setup, energy.on_row, mon)
        prb = ProbeRecorder(setup, None if probes is None else probes.nodes, 1 if probes is None else probes.every)
        frames = FrameRecorder(setup, plan, save.writer, keep)
        recorders = [mon, rec, prb]
        consumers = [frames]
        if checkpoint is not None:
            consumers.append(CheckpointWriter(setup, plan, t_end, checkpoint, [rec, prb, frames, mon]))
        if callback is not None:
            consumers.append(CallbackObserver(callback))

        if restart is not None:
            state = _restart(restart, setup, plan, [rec, prb, frames, mon])
        else:
            state = setup.initial_state(stepper)
            for obs in recorders + consumers:
                obs.start(state)
        consumers.append(ProgressBar(progress, plan.n_steps, state.step))
        state, final, fault = _loop(setup, plan, stepper, state, energy.tol, check_every, recorders, consumers,
                                    energy.guard)

        status = "completed" if fault is None else fault["kind"]
        if fault is not None:
            message = fault["message"]
            log.error(message)
        elif final is None:
            status, final = "interrupted", state
            message = (f"interrupted by the user at step {state.step} (t = {state.t:.6g} s); state and output so "
                       f"far kept" + (f", checkpoint {checkpoint.path}" if checkpoint is not None else ""))
        else:
            message = f"completed {plan.n_steps} steps of dt = {plan.dt:.6g} s to t = {state.t:.6g} s"
        result = Result(status, message, final.step, final.t, plan.dt, np.asarray(frames.times, dtype=np.float64),
                        rec.energies(), final, prb.probes(), time.perf_counter() - wall0, setup.dt_certified,
                        mon.entries, {k: np.stack(v) for k, v in frames.fields.items()}, fault,
                        dt_method=setup.dt_method, dt_reason=setup.dt_reason)
    if fault is not None and raise_on_fault:
        raise SimulationError(message, result)
    return result


def _restart_form(path, certified) -> CertifiedStep:
    """The certified step's form for a restart: with ``"auto"``, the form the checkpointed run used (the
    automatic choice depends on measured times, so a second choice could differ and change dt)."""
    choice = CertifiedStep.coerce(certified)
    if choice.method != "auto":
        return choice
    method = load_checkpoint(path).get("dt_method")
    return dataclasses.replace(choice, method=method) if method in ("element", "global") else choice


def _restart(path, setup: RunSetup, plan, histories) -> State:
    """The state of checkpoint ``path``, with the histories loaded into ``histories``; FemError on mismatch."""
    ck = load_checkpoint(path)
    if ck["n_dofs"] != setup.assembly.n_dofs or abs(ck["dt"] - plan.dt) > 1e-12 * plan.dt:
        raise FemError(f"checkpoint {path} does not match this run: it has {ck['n_dofs']} dofs and "
                       f"dt = {ck['dt']:.9g} s, this run {setup.assembly.n_dofs} dofs and dt = {plan.dt:.9g} s")
    state = state_from_payload(ck["state"], setup.mass.device)
    if state.f_int is not None and not setup.forces.linear:
        with torch.no_grad():
            _, state.strain, state.stress = setup.forces(state.u)
    for obs in histories:
        obs.load_state_dict(ck["recorder"])
    log.info("restarting from %s at step %d (t = %.6g s)", path, state.step, state.t)
    return state


def _loop(setup: RunSetup, plan, stepper, state: State, energy_tol, check_every: int, recorders, consumers,
          guard=None):
    """Step to ``plan.n_steps``; returns (last state, final good state or None if interrupted, fault or None).

    Per step: the finite check (every ``check_every`` steps and at rows), the recorders, then at rows the
    balance and (2D/3D) inversion checks, then the consumers. A fault keeps the last state that passed
    the same check: ``good`` for the finite check, ``good_row`` for the row checks.
    """
    good, good_row = state, state
    rec = next(o for o in recorders if isinstance(o, EnergyRecorder))
    fault, final = None, state
    try:
        with torch.no_grad():
            while state.step < plan.n_steps:
                new = stepper.step(state)
                n = new.step
                row = plan.is_row(n)
                if n % check_every == 0 or row:
                    fault = setup.finite_fault(new, good)
                    if fault is not None:
                        final = good
                        break
                    good = new
                state = new
                for obs in recorders:
                    obs.update(state, row)
                if row:
                    err = rec.rows[-1]["balance_error"]
                    created = rec.rows[-1]["scheme_error"]   # NaN without a stored energy: never trips
                    if guard is not None and created > guard:
                        fault = setup.guard_fault(state, good_row, created, guard)
                    elif energy_tol is not None and n >= BALANCE_GRACE_STEPS and err > energy_tol:
                        fault = setup.balance_fault(state, good_row, err, energy_tol)
                    elif setup.assembly.dim > 1:
                        fault = setup.inverted_fault(state, good_row)
                    if fault is not None:
                        final = good_row
                        break
                    good_row = state
                for obs in consumers:
                    obs.update(state, row)
            else:
                final = state
    except KeyboardInterrupt:
        final = None
        # the checkpoint before the extra energy row, so that a restart matches an uninterrupted run
        for obs in consumers + recorders:
            obs.interrupted(state)
        log.warning("interrupted at step %d (t = %.6g s)", state.step, state.t)
    finally:
        for obs in reversed(consumers):
            obs.close()
    return state, final, fault
