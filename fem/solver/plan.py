"""How long a run is and what it records, fixed before the first step: the :class:`RunPlan`.

The step asked for is shortened to ``t_end / ceil(t_end / dt)`` so that whole steps end exactly at
``t_end``; the frame, energy-row and monitor intervals get their defaults here. Checks on the size of
a run (steps, frames, bytes) belong in :func:`plan_run`, which every :func:`fem.solve` goes through
before anything is stepped or written.
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass

from fem.core.errors import FemError
from fem.core.limits import Limits, check_run, check_time_step, count_steps, estimate_output
from fem.solver.solve_options import EnergyCheck, Monitor, SaveAt

__all__ = ["RunPlan", "plan_run", "whole_steps", "UNSAFE_MONITORS", "ROW_EVERY_MIN"]

log = logging.getLogger(__name__)

#: measurements of the critical step in a run at an allowed unsafe dt (when Monitor.every is None)
UNSAFE_MONITORS = 20

#: the fewest steps between the default energy rows: a row (energies, balance and guard, the 2D/3D
#: inversion check) is bookkeeping that no proof needs at every step, and at one row per step it cost
#: more than the step itself on a 12k-dof linear mesh (measured, bench/step_paths.py --sections loop)
ROW_EVERY_MIN = 10


@dataclass(frozen=True)
class RunPlan:
    """n_steps : steps to t_end (None: open-ended, :meth:`open_ended`); dt : the step used (s);
    save_every, energy_every : steps between frames / energy rows; monitor_every : steps between
    critical-step measurements (0: none)."""

    n_steps: int | None
    dt: float
    save_every: int
    energy_every: int
    monitor_every: int

    def is_row(self, n: int) -> bool:
        """True at the steps that get an energy row and the row checks (also every frame and the last)."""
        return n % self.energy_every == 0 or n % self.save_every == 0 or n == self.n_steps

    def is_frame(self, n: int) -> bool:
        """True when step ``n`` writes a frame (every ``save_every`` steps, and the last step)."""
        return n % self.save_every == 0 or n == self.n_steps

    def next_row(self, n: int) -> int:
        """The first row step after step ``n`` (:meth:`is_row`), so that the loop tests one integer per step."""
        return self.cap(n, min(_next_multiple(n, self.energy_every), _next_multiple(n, self.save_every)))

    def next_frame(self, n: int) -> int:
        """The first frame step after step ``n`` (:meth:`is_frame`)."""
        return self.cap(n, _next_multiple(n, self.save_every))

    def cap(self, n: int, k: int) -> int:
        """Step ``k`` (a step after ``n``), or the last step when it comes first (an observer's due step)."""
        end = self.n_steps
        return k if end is None or n >= end else min(k, end)

    @classmethod
    def open_ended(cls, dt: float, every: int) -> "RunPlan":
        """A run without an end (:func:`fem.iterate`): a row every ``every`` steps, no frames, no monitor."""
        return cls(None, float(dt), every, every, 0)


def _next_multiple(n: int, every: int) -> int:
    return (n // every + 1) * every


def whole_steps(t_end: float, dt: float, limits: Limits | None = None) -> tuple[int, float]:
    """``(n, t_end / n)`` with ``n = ceil(t_end / dt)`` (to round-off): the whole steps that end at
    ``t_end``. FemError for a t_end or dt that is not a positive finite time; LimitError above the
    step limit of ``limits``."""
    if isinstance(t_end, bool) or not isinstance(t_end, (int, float)) or not (t_end > 0 and math.isfinite(t_end)):
        raise FemError(f"t_end must be a positive finite time (s), got {t_end!r}")
    check_time_step(dt, "the time step")
    n_float = count_steps(t_end, dt)
    check_run(n_float, None, limits)
    n_steps = int(n_float)
    return n_steps, t_end / n_steps


def plan_run(setup, t_end: float, save: SaveAt, energy: EnergyCheck, monitor: Monitor, *, n_probes: int = 0,
             probe_every: int = 1, limits: Limits | None = None) -> RunPlan:
    """The :class:`RunPlan` of a run of ``setup`` (a :class:`fem.solver.setup.RunSetup`) to ``t_end``: its
    step ``setup.dt`` shortened so that whole steps end at ``t_end`` (the set-up is not changed).

    Sizes the run first (:mod:`fem.core.limits`): LimitError when its steps, frames or estimated bytes
    (frames written or kept, energy and probe rows) exceed ``limits`` (None: the defaults).
    """
    n_steps, dt = whole_steps(t_end, setup.dt, limits)
    if dt < setup.dt * (1 - 1e-12):
        log.info("dt shortened from %.6g to %.6g s so that %d steps end at t_end = %.6g s",
                 setup.dt, dt, n_steps, t_end)
    monitor_every = monitor.every
    if monitor_every is None:
        monitor_every = 0
        if setup.dt_certified is not None and dt > setup.dt_certified * (1 + 1e-12):
            # an unsafe step the user allowed: watch the measured limit (about UNSAFE_MONITORS times per run)
            monitor_every = max(1, n_steps // UNSAFE_MONITORS)
            log.info("dt above the certified step: measuring the critical step every %d steps", monitor_every)
    writes = save.writer is not None or (save.keep is None or save.keep)   # frames written or kept in memory
    estimate = estimate_output(setup.problem.mesh, n_steps, save_every=save.every, energy_every=energy.every,
                               fields=writes, n_probes=n_probes, probe_every=probe_every)
    check_run(n_steps, estimate, limits)
    # default rows: about 1000 per run, at least ROW_EVERY_MIN steps apart (the last step is always one)
    return RunPlan(n_steps, dt, save.every or max(1, n_steps // 100),
                   energy.every or max(ROW_EVERY_MIN, n_steps // 1000), monitor_every)
