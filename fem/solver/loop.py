"""The one step loop of an explicit run: step, check, observe. :func:`fem.solve` and :func:`fem.iterate`
(and the benches) all go through :class:`StepLoop`.

Per step: the finite check (every ``check_every`` steps and at rows), the step's work into the energy
account, then the recorders, then at rows the energy checks (decided by the energy account,
:meth:`fem.solver.energy.EnergyAccount.breach`) and the (2D/3D) inversion check, then the consumers;
then the state is yielded. A fault keeps the last state that passed the same check: ``good`` for the
finite check, ``good_row`` for the row checks.

An observer is called only at the steps it asked for (:meth:`fem.solver.observers.Observer.next_step`),
so a lean run (no rows, frames, monitor, probes) pays one integer comparison per step for all of them;
the checks run at the same steps as before (their cadence is the plan's, not the observers').
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Iterator

import torch

from fem.solver.central_difference import CentralDifference, State
from fem.solver.checks import RunChecks
from fem.solver.observers import EnergyRecorder
from fem.solver.plan import RunPlan
from fem.solver.result import Fault

__all__ = ["StepLoop", "LoopEnd"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LoopEnd:
    """How a loop ended: last (the last state stepped), final (the last good state; None when
    interrupted), fault (the :class:`~fem.solver.result.Fault` that stopped it, or None)."""

    last: State
    final: State | None
    fault: Fault | None

    @property
    def interrupted(self) -> bool:
        return self.final is None


_NEVER = float("inf")


def _first(due: list) -> float:
    """The earliest of the observers' due steps (None: never)."""
    return min((d for d in due if d is not None), default=_NEVER)


def _dispatch(observers: list, due: list, state: State, row: bool, plan: RunPlan) -> float:
    """``update`` the observers due at ``state.step``, ask each for its next step; the earliest one."""
    n = state.step
    for i, obs in enumerate(observers):
        d = due[i]
        if d is not None and d <= n:
            obs.update(state, row)
            due[i] = obs.next_step(n, plan)
    return _first(due)


class StepLoop:
    """Steps ``state`` with ``stepper`` to ``plan.n_steps`` (forever when None), yielding each state that
    passed its checks; ``end`` says how it ended once the iteration stops.

    checks : :class:`~fem.solver.checks.RunChecks`; energy : the :class:`~fem.solver.observers.EnergyRecorder`
    among ``recorders`` (observers that see every accepted state, before the row checks); consumers :
    observers that see the states that passed every check due at their step. Ctrl-C ends the loop
    (``end.interrupted``) after telling the observers; every consumer is closed when the loop ends.
    """

    def __init__(self, plan: RunPlan, stepper: CentralDifference, checks: RunChecks, state: State, *,
                 check_every: int, energy: EnergyRecorder, recorders, consumers):
        self.plan, self.stepper, self.checks, self.state = plan, stepper, checks, state
        self.check_every, self.energy = check_every, energy
        self.recorders, self.consumers = list(recorders), list(consumers)
        self.end: LoopEnd | None = None

    def __iter__(self) -> Iterator[State]:
        plan, stepper, checks, check_every = self.plan, self.stepper, self.checks, self.check_every
        recorders, consumers, account = self.recorders, self.consumers, self.energy.account
        add_work = account.add
        n_end = plan.n_steps
        state = good = good_row = self.state
        final, fault = state, None
        n0 = state.step
        next_row = plan.next_row(n0)
        due_rec = [obs.next_step(n0, plan) for obs in recorders]
        due_con = [obs.next_step(n0, plan) for obs in consumers]
        next_rec, next_con = _first(due_rec), _first(due_con)
        try:
            with torch.no_grad():
                while n_end is None or state.step < n_end:
                    new = stepper.step(state)
                    n = new.step
                    row = n >= next_row
                    if row:
                        next_row = plan.next_row(n)
                    if row or n % check_every == 0:
                        fault = checks.finite(new, good)
                        if fault is not None:
                            final = good
                            break
                        good = new
                    state = new
                    add_work(new.scheme.increments)
                    if n >= next_rec:
                        next_rec = _dispatch(recorders, due_rec, state, row, plan)
                    if row:
                        fault = checks.row(state, good_row, account.breach(n))
                        if fault is not None:
                            final = good_row
                            break
                        good_row = state
                    if n >= next_con:
                        next_con = _dispatch(consumers, due_con, state, row, plan)
                    yield state
                else:
                    final = state
        except KeyboardInterrupt:
            final = None
            # the checkpoint before the extra energy row, so that a restart matches an uninterrupted run
            for obs in consumers + recorders:
                obs.interrupted(state)
            log.warning("interrupted at step %d (t = %.6g s)", state.step, state.t)
        finally:
            self.end = LoopEnd(state, final, fault)
            for obs in reversed(consumers):
                obs.close()
