"""Observers of an explicit run: everything :func:`fem.solve` records or writes besides stepping.

The step loop (:mod:`fem.solver.loop`) only steps and checks. It hands every accepted state to the
*recorders* (:class:`MonitorRecorder`, :class:`EnergyRecorder`, :class:`ProbeRecorder`), then runs the
row checks (energy guard and balance, as the energy account decides them; inversion) on row steps, then hands the state to the *consumers*
(:class:`FrameRecorder`, :class:`CheckpointWriter`, :class:`CallbackObserver`, :class:`ProgressBar`),
which therefore only see states that passed every check due at that step.

An observer has ``start(state)`` (the initial state of a fresh run; not called on a restart),
``next_step(n, plan)`` (the next step after ``n`` whose state it needs, None for none: the loop calls
``update`` only then, so an observer with nothing to do costs nothing per step; the default, ``n + 1``,
is every step), ``update(state, row)`` (``row``: the step is a row step of the
:class:`fem.solver.plan.RunPlan`),
``interrupted(state)`` (Ctrl-C), ``close()`` (always, when the loop ends) and, when it keeps a
history, ``state_dict()`` / ``load_state_dict(d)`` for checkpoints. None of them changes the state.
"""
from __future__ import annotations

import logging
import math
import sys

import numpy as np
import torch

from fem.solver.central_difference import SchemeState, State
from fem.io.checkpoint import save_checkpoint
from fem.solver.energy import ENERGY_KEYS, EnergyAccount
from fem.core.errors import FemError

__all__ = ["Observer", "MonitorRecorder", "EnergyRecorder", "ProbeRecorder", "FrameRecorder",
           "CheckpointWriter", "CallbackObserver", "ProgressBar", "probe_nodes",
           "state_payload", "state_from_payload"]

log = logging.getLogger(__name__)


def _next_every(n: int, every) -> int | None:
    """The first multiple of ``every`` after ``n`` (None when ``every`` is 0 or None: never)."""
    return (n // every + 1) * every if every else None


def probe_nodes(mesh, where) -> np.ndarray:
    """(k,) node ids of a probe: ids as given, or a set name / selector (default tolerance)."""
    if isinstance(where, str):
        ids = mesh.nodes(where)
    else:
        ids = np.atleast_1d(np.asarray(where, dtype=np.int64))
    if len(ids) == 0 or ids.min() < 0 or ids.max() >= mesh.n_points:
        raise FemError(f"probe {where!r} must select nodes in [0, {mesh.n_points - 1}], got {ids[:5]}")
    return ids


class Observer:
    """Base class: every hook does nothing (see the module docstring)."""

    def start(self, s: State) -> None:
        pass

    def next_step(self, n: int, plan) -> int | None:
        """The next step after ``n`` whose state this observer needs (None: none); the loop calls
        ``update`` only at those steps. The base class needs every step."""
        return n + 1

    def update(self, s: State, row: bool) -> None:
        pass

    def interrupted(self, s: State) -> None:
        pass

    def close(self) -> None:
        pass

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, d: dict) -> None:
        pass


# ---------------------------------------------------------------------------------------------
# recorders: every accepted state, before the row checks
class MonitorRecorder(Observer):
    """Critical-step measurements (an estimate) at the start and every ``every`` steps (0: off) of a run
    of ``setup`` at ``dt`` (s)."""

    def __init__(self, setup, dt: float, every: int):
        self.setup, self.dt, self.every = setup, float(dt), every
        self.entries: list[dict] = []

    @property
    def latest(self) -> float:
        """The latest measured critical step (s), NaN before the first."""
        return self.entries[-1]["dt_critical"] if self.entries else math.nan

    def start(self, s: State) -> None:
        if self.every:  # so that the first energy row already carries the margin
            self.measure(s)

    def next_step(self, n: int, plan) -> int | None:
        return _next_every(n, self.every)

    def update(self, s: State, row: bool) -> None:
        if self.every and s.step % self.every == 0:
            self.measure(s)

    def measure(self, s: State) -> None:
        from fem.stability.timestep import critical_time_step

        setup, dt = self.setup, self.dt
        ts = critical_time_step(setup.assembly, setup.problem.material, setup.problem.density, u=s.u)
        entry = {"step": s.step, "t": s.t, "dt": dt, "dt_critical": float(ts.dt),
                 "omega_max": float(ts.omega_max), "ratio": dt / float(ts.dt)}
        self.entries.append(entry)
        if entry["ratio"] > 1.0:
            log.warning("step %d: dt = %.6g s is above the measured critical step %.6g s", s.step, dt, ts.dt)

    def state_dict(self) -> dict:
        return {"monitor": list(self.entries)}

    def load_state_dict(self, d: dict) -> None:
        self.entries = list(d["monitor"])


class EnergyRecorder(Observer):
    """Energy accumulators and energy rows (row steps) of a run of ``setup`` at ``dt`` (s); see
    :mod:`fem.solver.energy`. The step loop adds every step's work to ``account`` itself (one call, no
    observer dispatch per step); ``update`` writes the rows.

    check : the :class:`~fem.solver.solve_options.EnergyCheck` (on_row, tol, guard; None: rows only).
    With a monitor that measures, each row also carries ``dt_critical`` (latest measurement, s) and
    ``dt_margin`` = dt_critical / dt. keep_rows False keeps only the latest row (an open-ended run).
    """

    def __init__(self, setup, dt: float, check=None, monitor: MonitorRecorder | None = None,
                 keep_rows: bool = True):
        self.setup, self.dt, self.keep_rows = setup, float(dt), keep_rows
        self.on_row = None if check is None else check.on_row
        self.monitor = monitor if monitor is not None and monitor.every else None
        self.account = EnergyAccount(None if check is None else check.tol, None if check is None else check.guard)
        self.rows: list[dict] = []

    def start(self, s: State) -> None:
        self.row(s)

    def next_step(self, n: int, plan) -> int | None:
        return plan.next_row(n)

    def update(self, s: State, row: bool) -> None:
        if row:
            self.row(s)

    def interrupted(self, s: State) -> None:
        if not self.rows or self.rows[-1]["step"] != s.step:
            self.row(s)

    def row(self, s: State) -> dict:
        f = self.setup.forces
        kinetic = float(0.5 * torch.dot(self.setup.mass * s.v, s.v))
        internal = f.energy(s.u, s.f_int, s.strain)
        if self.account.initial is None and internal is None:
            self.account.internal0 = 0.0
        dt = self.dt
        defect = 0.125 * dt * dt * float(torch.dot(self.setup.mass * s.a, s.a))  # scheme energy, fem.stability.discrete_energy
        row = self.account.row(s.t, s.step, kinetic, None if internal is None else float(internal), defect)
        if self.monitor is not None:
            last = self.monitor.latest
            row["dt_critical"], row["dt_margin"] = last, last / dt
        if not self.keep_rows:
            self.rows.clear()
        self.rows.append(row)
        if self.on_row is not None:
            self.on_row(dict(row))
        return row

    def energies(self) -> dict:
        """name -> (n_rows,) arrays, the :data:`fem.solver.energy.ENERGY_KEYS` (and the monitor columns)."""
        keys = ENERGY_KEYS + (("dt_critical", "dt_margin") if self.monitor is not None else ())
        return {k: np.array([r.get(k, math.nan) for r in self.rows], dtype=np.float64) for k in keys}

    def state_dict(self) -> dict:
        return {"account": self.account.state_dict(), "rows": list(self.rows)}

    def load_state_dict(self, d: dict) -> None:
        self.account.load_state_dict(d["account"])
        self.rows = list(d["rows"])


class ProbeRecorder(Observer):
    """Mean displacement (dim,) of each probe's nodes, and the reaction (dim,) of each reaction probe
    (:mod:`fem.solver.reactions`; needs ``stepper``), at the start and every ``every`` steps."""

    def __init__(self, setup, nodes: dict, every: int = 1, reactions: dict | None = None, stepper=None):
        from fem.solver.reactions import ReactionSums

        self.setup, self.every = setup, every
        mesh, dev = setup.problem.mesh, setup.mass.device
        self.nodes = {k: torch.as_tensor(probe_nodes(mesh, w), device=dev) for k, w in (nodes or {}).items()}
        self.reactions = None
        if reactions:
            sets = {k: probe_nodes(mesh, w) for k, w in reactions.items()}
            self.reactions = ReactionSums(stepper, sets, setup.assembly.dim)
        self.t: list[float] = []
        self.u: dict[str, list] = {k: [] for k in self.nodes}
        self.r: dict[str, list] = {k: [] for k in (reactions or {})}

    def start(self, s: State) -> None:
        self.sample(s)

    def next_step(self, n: int, plan) -> int | None:
        return _next_every(n, self.every) if self.nodes or self.r else None

    def update(self, s: State, row: bool) -> None:
        if (self.nodes or self.r) and s.step % self.every == 0:
            self.sample(s)

    def sample(self, s: State) -> None:
        if not self.nodes and not self.r:
            return
        u = s.u.reshape(-1, self.setup.assembly.dim)
        self.t.append(s.t)
        for k, ids in self.nodes.items():
            self.u[k].append(u[ids].mean(dim=0))
        if self.reactions is not None:
            for k, r in self.reactions(s).items():
                self.r[k].append(r)

    def probes(self) -> dict:
        """``{"time": (m,), name: (m, dim), ..., "reactions": {name: (m, dim)}}`` (the last only with
        reaction probes), or {} without probes."""
        if not self.nodes and not self.r:
            return {}
        dim = self.setup.assembly.dim

        def stack(v):
            return torch.stack(v).cpu().numpy() if v else np.zeros((0, dim))

        out = {"time": np.asarray(self.t)}
        out.update({k: stack(v) for k, v in self.u.items()})
        if self.r:
            out["reactions"] = {k: stack(v) for k, v in self.r.items()}
        return out

    def state_dict(self) -> dict:
        return {"probe_t": list(self.t), "probe_u": {k: [x.cpu() for x in v] for k, v in self.u.items()},
                "probe_r": {k: [x.cpu() for x in v] for k, v in self.r.items()}}

    def load_state_dict(self, d: dict) -> None:
        dev = self.setup.mass.device
        self.t = list(d["probe_t"])
        self.u = {k: [x.to(dev) for x in d["probe_u"].get(k, [])] for k in self.nodes}
        self.r = {k: [x.to(dev) for x in d.get("probe_r", {}).get(k, [])] for k in self.r}


# ---------------------------------------------------------------------------------------------
# consumers: states that passed the checks due at their step
class FrameRecorder(Observer):
    """Frames at the start and on frame steps: handed to ``writer`` and/or kept (``keep``)."""

    def __init__(self, setup, plan, writer=None, keep: bool = False):
        self.setup, self.plan, self.writer, self.keep = setup, plan, writer, keep
        self.times: list[float] = []
        self.fields: dict[str, list] = {}

    def start(self, s: State) -> None:
        self.save(s)

    def next_step(self, n: int, plan) -> int | None:
        return self.plan.next_frame(n) if self.writer is not None or self.keep else None

    def update(self, s: State, row: bool) -> None:
        if self.plan.is_frame(s.step):
            self.save(s)

    def save(self, s: State) -> None:
        if self.writer is None and not self.keep:
            return
        a = self.setup.assembly
        point = {"displacement": s.u.reshape(-1, a.dim).cpu().numpy().copy(),
                 "velocity": s.v.reshape(-1, a.dim).cpu().numpy().copy()}
        # small strain: strain, stress; finite strain: green_lagrange_strain, cauchy_stress, volume_ratio
        cell = self.setup.forces.cell_fields(s.u, s.strain, s.stress)
        self.times.append(s.t)
        if self.writer is not None:
            self.writer.write(s.t, point, cell)
        if self.keep:
            for k, v in {**point, **cell}.items():
                self.fields.setdefault(k, []).append(v)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()

    def state_dict(self) -> dict:
        return {"times": list(self.times), "fields": {k: list(v) for k, v in self.fields.items()}}

    def load_state_dict(self, d: dict) -> None:
        self.times = list(d["times"])
        self.fields = {k: list(v) for k, v in d["fields"].items()}


_STATE_TENSORS = ("u", "v", "a", "f_int")
_SCHEME_TENSORS = ("f_ext", "reaction", "vh_c", "f_prev")
_VISCOUS_TENSORS = ("dstrain", "dstress", "visc")     # the memo of ViscousTerm.stress


def _cpu(x):
    return None if x is None else x.cpu()


def state_payload(s: State) -> dict:
    """A :class:`State` as a checkpoint entry (tensors on the CPU; strain and stress are recomputed)."""
    sch = s.scheme
    memo = sch.viscous or (None, None, None)
    return {"step": s.step, "t": s.t, "increments": tuple(sch.increments),
            **{k: _cpu(getattr(s, k)) for k in _STATE_TENSORS}, **{k: _cpu(getattr(sch, k)) for k in _SCHEME_TENSORS},
            **{k: _cpu(x) for k, x in zip(_VISCOUS_TENSORS, memo)}}


def state_from_payload(d: dict, device) -> State:
    """The :class:`State` of a checkpoint entry, its tensors on ``device`` (strain, stress None)."""
    def get(k):
        return None if d.get(k) is None else d[k].to(device)

    memo = None if d.get("dstress") is None else tuple(get(k) for k in _VISCOUS_TENSORS)
    scheme = SchemeState(f_ext=get("f_ext"), reaction=get("reaction"), vh_c=get("vh_c"),
                         increments=tuple(d["increments"]), viscous=memo, f_prev=get("f_prev"))
    return State(step=d["step"], t=d["t"], u=get("u"), v=get("v"), a=get("a"), f_int=get("f_int"), scheme=scheme)


class CheckpointWriter(Observer):
    """A checkpoint every ``every`` steps (0/None: none) and on Ctrl-C; it holds the recorders' histories."""

    def __init__(self, setup, plan, t_end: float, checkpoint, histories):
        self.setup, self.plan, self.t_end = setup, plan, float(t_end)
        self.path = checkpoint.path
        self.every = checkpoint.every
        self.meta = dict(getattr(checkpoint, "meta", None) or {})
        self.histories = histories    # the observers whose state_dict a restart needs

    def next_step(self, n: int, plan) -> int | None:
        return _next_every(n, self.every)

    def update(self, s: State, row: bool) -> None:
        if self.every and s.step % self.every == 0:
            self.write(s)

    def interrupted(self, s: State) -> None:
        self.write(s)

    def write(self, s: State) -> None:
        recorder = {}
        for obs in self.histories:
            recorder.update(obs.state_dict())
        save_checkpoint(self.path, {"step": s.step, "dt": self.plan.dt, "t_end": self.t_end,
                                    "n_dofs": self.setup.assembly.n_dofs, "state": state_payload(s),
                                    "recorder": recorder, "dt_method": self.setup.dt_method,
                                    "meta": self.meta})


class CallbackObserver(Observer):
    """Calls ``fn(state)`` with every state that passed its checks."""

    def __init__(self, fn):
        self.fn = fn

    def update(self, s: State, row: bool) -> None:
        self.fn(s)


class ProgressBar(Observer):
    """A tqdm bar with ETA (``enabled`` None: only when stderr is a terminal), updated in ~1000 chunks."""

    def __init__(self, enabled, total: int, initial: int):
        if enabled is None:
            enabled = sys.stderr.isatty()
        self.bar = None
        if enabled:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=total, initial=initial, unit="step", dynamic_ncols=True, desc="explicit")
        self.chunk, self.shown = max(1, total // 1000), initial

    def next_step(self, n: int, plan) -> int | None:
        # the last step is always due, so a completed run shows n/n
        return None if self.bar is None else plan.cap(n, n + self.chunk)

    def update(self, s: State, row: bool) -> None:
        if self.bar is not None:
            self.bar.update(s.step - self.shown)
            self.shown = s.step

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
