"""The run: one explicit central-difference loop, its set-up, its observers and its result.

- :mod:`fem.solver.explicit` — :func:`solve` (the entry point) and :func:`iterate`.
- :mod:`fem.solver.run_step` — :func:`run_time_step`: the step a run takes, decided once (a :class:`RunStep`).
- :mod:`fem.solver.loop` — the one step loop (step, check, observe) both run.
- :mod:`fem.solver.problem` — :class:`Problem`: mesh, material, conditions, density.
- :mod:`fem.solver.solve_options` — the grouped options (:class:`SaveAt`, :class:`Monitor`, ...).
- :mod:`fem.solver.setup`, :mod:`fem.solver.plan` — what a run needs before its first step.
- :mod:`fem.solver.central_difference` — the scheme and its :class:`State`.
- :mod:`fem.solver.observers` — rows, frames, probes, checkpoints, progress.
- :mod:`fem.solver.checks`, :mod:`fem.solver.faults`, :mod:`fem.solver.energy`, :mod:`fem.solver.result` —
  the checks and what went wrong, the energy account, and what a run returns (:class:`Status`, :class:`Fault`).

May import: fem.core, fem.materials, fem.discretisation, fem.stability, fem.io.
"""
from fem.solver.explicit import Fault, Problem, Result, RunStep, State, Status, iterate, run_time_step, solve
from fem.solver.solve_options import Checkpoint, Compute, EnergyCheck, Monitor, Probes, SaveAt

__all__ = ["Problem", "Result", "State", "Status", "Fault", "RunStep", "iterate", "solve", "run_time_step",
           "Checkpoint", "Compute", "EnergyCheck", "Monitor", "Probes", "SaveAt"]
