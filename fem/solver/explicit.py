"""Explicit dynamics: the one entry point :func:`solve` and the generator :func:`iterate`.

``solve(problem, t_end, dt)`` runs the central-difference scheme of :mod:`fem.solver.central_difference`
from ``t = 0`` to ``t_end`` and returns a :class:`~fem.solver.result.Result` (times, energies, probes, final
state, status, message). It never loses work: on a fault (NaN/inf, energy balance error above
``EnergyCheck.tol``, the scheme's energy error above ``EnergyCheck.guard``, an element turned inside out
or out of its law's certified domain) or Ctrl-C it stops, keeps the last good state and everything
recorded so far, and says what happened where (step, time, element id and centroid).

Per step the material is called once, batched over every quadrature point, under ``torch.no_grad``;
a material with ``linear_stiffness()`` takes the sparse ``K @ u`` path instead (:mod:`fem.discretisation.forces`).

Time step: a float, ``"certified"``, or the :class:`~fem.solver.run_step.RunStep` of
:func:`fem.solver.run_step.run_time_step` (the step decided once, before the run). When the material has a
stiffness certificate the certified step (a proven bound) is computed once, in the form chosen by
:func:`fem.stability.timestep.choose_certified_step` (element or global; ``Result.dt_method`` and
``dt_reason`` say which and why); a float above it is refused unless ``allow_unsafe_dt=True`` (then a
:class:`~fem.core.errors.FemWarning`); see :class:`fem.solver.setup.RunSetup`. The step is shortened to
``t_end / ceil(t_end/dt)`` so the run ends exactly at ``t_end`` (:func:`fem.solver.plan.plan_run`).

Both functions run the one step loop of :mod:`fem.solver.loop`, which only steps and checks; recording,
monitoring, frames, checkpoints and progress are observers (:mod:`fem.solver.observers`), configured by
the option groups of :mod:`fem.solver.solve_options`.
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

from fem.core.errors import FemError, SimulationError
from fem.core.limits import Limits
from fem.io.checkpoint import load_checkpoint
from fem.solver.central_difference import State
from fem.solver.checks import RunChecks
from fem.solver.energy import BALANCE_GRACE_STEPS
from fem.solver.loop import LoopEnd, StepLoop
from fem.solver.observers import (CallbackObserver, CheckpointWriter, EnergyRecorder, FrameRecorder, MonitorRecorder,
                                  ProbeRecorder, ProgressBar, state_from_payload)
from fem.solver.plan import UNSAFE_MONITORS, RunPlan, plan_run
from fem.solver.problem import Problem
from fem.solver.result import Fault, Result, Status
from fem.solver.run_step import RunStep, run_time_step
from fem.solver.setup import SMALL_PROBLEM_DOFS, RunSetup, torch_threads
from fem.solver.solve_options import Checkpoint, Compute, EnergyCheck, Monitor, Probes, SaveAt
from fem.stability.timestep import CertifiedStep
from fem.stability.viscosity import BulkViscosity

__all__ = ["Problem", "Result", "State", "Status", "Fault", "RunStep", "solve", "iterate", "run_time_step",
           "BALANCE_GRACE_STEPS", "SMALL_PROBLEM_DOFS", "UNSAFE_MONITORS", "ITERATE_ROW_EVERY"]

log = logging.getLogger(__name__)

#: steps between the energy rows and row checks of :func:`iterate` (an open-ended run)
ITERATE_ROW_EVERY = 100


def _setup(problem: Problem, dt, t_end, *, compute, allow_unsafe_dt, viscosity, certified) -> RunSetup:
    """The run's set-up: the one of a :class:`RunStep` (its proof reused), else a new one."""
    if isinstance(dt, RunStep):
        return dt.setup_for(problem, compute=compute, viscosity=viscosity, certified=certified)
    # a t_end that is not a positive number is reported by plan_run; the certified form's choice needs none
    known = not isinstance(t_end, bool) and isinstance(t_end, (int, float)) and t_end > 0 and math.isfinite(t_end)
    return RunSetup(problem, dt, compute=compute, allow_unsafe_dt=allow_unsafe_dt, viscosity=viscosity,
                    certified=certified, t_end=t_end if known else None)


# ---------------------------------------------------------------------------------------------
# iterate
def iterate(problem: Problem, dt, *, allow_unsafe_dt: bool = False, compute: Compute = Compute(),
            viscosity: BulkViscosity | None = None, certified: CertifiedStep | str | None = None,
            energy: EnergyCheck = EnergyCheck(), check_every: int = 1) -> Iterator[State]:
    """Yield the initial :class:`State` then one state per step, forever (take what you need).

    The loop of :func:`solve` with its checks: NaN/inf (and 1D inversion) every ``check_every`` steps;
    every ``ITERATE_ROW_EVERY`` steps (or ``energy.every``) an energy row with the balance and guard
    checks of ``energy`` and the 2D/3D inversion check. On a fault raises
    :class:`~fem.core.errors.SimulationError` whose ``.result`` is a :class:`Result` holding the last
    good state; Ctrl-C raises KeyboardInterrupt. dt : as for :func:`solve` (not shortened: no t_end).
    """
    _check_every(check_every)
    n_dofs = problem.mesh.n_points * problem.mesh.dim
    with torch_threads(compute.num_threads, n_dofs, compute.device):
        setup = _setup(problem, dt, None, compute=compute, allow_unsafe_dt=allow_unsafe_dt, viscosity=viscosity,
                       certified=certified)
        plan = RunPlan.open_ended(setup.dt, energy.every or ITERATE_ROW_EVERY)
        stepper = setup.stepper(plan.dt)
        state = setup.initial_state(stepper)
        rec = EnergyRecorder(setup, plan.dt, energy, keep_rows=False)
        rec.start(state)
    yield state
    loop = StepLoop(plan, stepper, RunChecks(setup, plan.dt), state, check_every=check_every, energy=rec,
                    recorders=[rec], consumers=[])
    for state in _threaded(loop, compute, n_dofs):
        yield state
    end = loop.end
    if end.interrupted:
        raise KeyboardInterrupt
    if end.fault is not None:
        res = Result(end.fault.kind, end.fault.message, end.final.step, end.final.t, plan.dt, np.zeros(0), {},
                     end.final, dt_certified=setup.dt_certified, fault=end.fault, dt_method=setup.dt_method,
                     dt_reason=setup.dt_reason)
        raise SimulationError(end.fault.message, res)


def _threaded(loop: StepLoop, compute: Compute, n_dofs: int) -> Iterator[State]:
    """The loop's states, each step run with the run's torch threads (the caller's setting between them)."""
    it = iter(loop)
    while True:
        with torch_threads(compute.num_threads, n_dofs, compute.device):
            state = next(it, None)
        if state is None:
            return
        yield state


def _check_every(check_every) -> None:
    if isinstance(check_every, bool) or not isinstance(check_every, numbers.Integral) or check_every < 1:
        raise FemError(f"check_every must be a whole number of steps >= 1, got {check_every!r}")


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
    t_end : end time (s). dt : a float (s), ``"certified"`` (see the module docstring), or the
        :class:`~fem.solver.run_step.RunStep` of :func:`fem.run_time_step` for this problem (its proof and
        set-up are reused; ``viscosity``, ``certified``, ``compute`` must then be the step's or None).
    allow_unsafe_dt : run a float dt above the certified step (with a FemWarning) instead of refusing;
        such a run is monitored (about ``UNSAFE_MONITORS`` measurements) unless ``Monitor(every=0)``.
    save : :class:`~fem.solver.solve_options.SaveAt`, frames (every, writer, keep). ``solve`` closes the writer.
    energy : :class:`~fem.solver.solve_options.EnergyCheck`, energy rows (every, on_row) and the balance check
        (tol; not applied in the first ``BALANCE_GRACE_STEPS`` steps; NaN/inf and inversion are checked
        from step 1).
    probes : :class:`~fem.solver.solve_options.Probes`, node groups whose mean displacement or reaction force
        is recorded.
    monitor : :class:`~fem.solver.solve_options.Monitor`, measured critical steps (an estimate).
    checkpoint : :class:`~fem.solver.solve_options.Checkpoint`, restart files every N steps and on Ctrl-C.
    restart : a checkpoint path to continue from (same problem and dt); the result equals that of an
        uninterrupted run.
    compute : :class:`~fem.solver.solve_options.Compute`, dtype, device, threads, sparse linear path.
    check_every : steps between NaN/inf (and 1D inversion) checks; 2D/3D inversion is checked at rows.
    callback : called with every new state (after checks).
    progress : tqdm bar with ETA; None = only when stderr is a terminal.
    raise_on_fault : raise :class:`~fem.core.errors.SimulationError` (with ``.result``) instead of returning
        a Result whose status is not ``"completed"`` (:class:`~fem.solver.result.Status`).
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
        _check_every(check_every)
        if restart is not None and not isinstance(dt, RunStep):
            certified = _restart_form(restart, certified)
        setup = _setup(problem, dt, t_end, compute=compute, allow_unsafe_dt=allow_unsafe_dt, viscosity=viscosity,
                       certified=certified)
        plan = plan_run(setup, t_end, save, energy, monitor, limits=limits,
                        n_probes=0 if probes is None else len(probes),
                        probe_every=1 if probes is None else probes.every)
        stepper = setup.stepper(plan.dt)
        obs = _Observers(setup, plan, t_end, save, energy, probes, checkpoint, callback, stepper)
        state = _restart(restart, setup, plan, obs.histories) if restart is not None else obs.start(stepper)
        obs.consumers.append(ProgressBar(progress, plan.n_steps, state.step))
        loop = StepLoop(plan, stepper, RunChecks(setup, plan.dt), state, check_every=check_every, energy=obs.energy,
                        recorders=obs.recorders, consumers=obs.consumers)
        for _ in loop:
            pass
        end = _Ending.of(loop.end, plan, checkpoint)
        result = obs.result(end, time.perf_counter() - wall0)
    if end.fault is not None and raise_on_fault:
        raise SimulationError(end.message, result)
    return result


@dataclasses.dataclass(frozen=True)
class _Ending:
    """How a run ended, decided once: status, message, the final good state and the fault (or None)."""

    status: Status
    message: str
    final: State
    fault: Fault | None

    @classmethod
    def of(cls, end: LoopEnd, plan: RunPlan, checkpoint: Checkpoint | None) -> "_Ending":
        if end.fault is not None:
            log.error(end.fault.message)
            return cls(end.fault.kind, end.fault.message, end.final, end.fault)
        s = end.last
        if end.interrupted:
            return cls(Status.INTERRUPTED, f"interrupted by the user at step {s.step} (t = {s.t:.6g} s); state and "
                       f"output so far kept" + (f", checkpoint {checkpoint.path}" if checkpoint is not None else ""),
                       s, None)
        return cls(Status.COMPLETED, f"completed {plan.n_steps} steps of dt = {plan.dt:.6g} s to t = {s.t:.6g} s",
                   end.final, None)


class _Observers:
    """The observers of one :func:`solve`: recorders (monitor, energy, probes) and consumers (frames,
    checkpoint, callback; the progress bar is added once the first step is known)."""

    def __init__(self, setup: RunSetup, plan: RunPlan, t_end, save, energy, probes, checkpoint, callback, stepper):
        self.setup, self.plan = setup, plan
        keep = (save.writer is None) if save.keep is None else save.keep
        self.monitor = MonitorRecorder(setup, plan.dt, plan.monitor_every)
        self.energy = EnergyRecorder(setup, plan.dt, energy, self.monitor)
        self.probes = ProbeRecorder(setup, None if probes is None else probes.nodes,
                                    1 if probes is None else probes.every,
                                    reactions=None if probes is None else probes.reactions, stepper=stepper)
        self.frames = FrameRecorder(setup, plan, save.writer, keep)
        self.recorders = [self.monitor, self.energy, self.probes]
        #: the observers whose state a checkpoint keeps
        self.histories = [self.energy, self.probes, self.frames, self.monitor]
        self.consumers = [self.frames]
        if checkpoint is not None:
            self.consumers.append(CheckpointWriter(setup, plan, t_end, checkpoint, self.histories))
        if callback is not None:
            self.consumers.append(CallbackObserver(callback))

    def start(self, stepper) -> State:
        """The initial state of a fresh run, handed to every observer."""
        state = self.setup.initial_state(stepper)
        for obs in self.recorders + self.consumers:
            obs.start(state)
        return state

    def result(self, end: _Ending, wall_time: float) -> Result:
        setup, plan, frames = self.setup, self.plan, self.frames
        return Result(end.status, end.message, end.final.step, end.final.t, plan.dt,
                      np.asarray(frames.times, dtype=np.float64), self.energy.energies(), end.final,
                      self.probes.probes(), wall_time, setup.dt_certified, self.monitor.entries,
                      {k: np.stack(v) for k, v in frames.fields.items()}, end.fault,
                      dt_method=setup.dt_method, dt_reason=setup.dt_reason)


def _restart_form(path, certified) -> CertifiedStep:
    """The certified step's form for a restart: with ``"auto"``, the form the checkpointed run used (the
    automatic choice depends on measured times, so a second choice could differ and change dt)."""
    choice = CertifiedStep.coerce(certified)
    if choice.method != "auto":
        return choice
    method = load_checkpoint(path).get("dt_method")
    return dataclasses.replace(choice, method=method) if method in ("element", "global") else choice


def _restart(path, setup: RunSetup, plan: RunPlan, histories) -> State:
    """The state of checkpoint ``path``, with the histories loaded into ``histories``; FemError on mismatch."""
    ck = load_checkpoint(path)
    if ck["n_dofs"] != setup.assembly.n_dofs or abs(ck["dt"] - plan.dt) > 1e-12 * plan.dt:
        raise FemError(f"checkpoint {path} does not match this run: it has {ck['n_dofs']} dofs and "
                       f"dt = {ck['dt']:.9g} s, this run {setup.assembly.n_dofs} dofs and dt = {plan.dt:.9g} s")
    state = state_from_payload(ck["state"], setup.mass.device)
    if state.f_int is not None and not setup.forces.linear:
        with torch.no_grad():
            _, strain, stress = setup.forces(state.u)
        state = dataclasses.replace(state, strain=strain, stress=stress)
    for obs in histories:
        obs.load_state_dict(ck["recorder"])
    log.info("restarting from %s at step %d (t = %.6g s)", path, state.step, state.t)
    return state
