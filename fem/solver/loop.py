"""The one step loop of an explicit run: step, check, observe. :func:`fem.solve` and :func:`fem.iterate`
(and the benches) all go through :class:`StepLoop`.

Per step: the finite check (every ``check_every`` steps and at rows), the recorders, then at rows the
energy checks (decided by the energy account, :meth:`fem.solver.energy.EnergyAccount.breach`) and the
(2D/3D) inversion check, then the consumers; then the state is yielded. A fault keeps the last state
that passed the same check: ``good`` for the finite check, ``good_row`` for the row checks.
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
        n_end = plan.n_steps
        state = good = good_row = self.state
        final, fault = state, None
        try:
            with torch.no_grad():
                while n_end is None or state.step < n_end:
                    new = stepper.step(state)
                    n = new.step
                    row = plan.is_row(n)
                    if n % check_every == 0 or row:
                        fault = checks.finite(new, good)
                        if fault is not None:
                            final = good
                            break
                        good = new
                    state = new
                    for obs in recorders:
                        obs.update(state, row)
                    if row:
                        fault = checks.row(state, good_row, account.breach(n))
                        if fault is not None:
                            final = good_row
                            break
                        good_row = state
                    for obs in consumers:
                        obs.update(state, row)
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
