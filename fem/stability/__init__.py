"""Stability: the proven (certified) and the measured (critical) time steps, and what keeps a run stable.

- :mod:`fem.stability.timestep` — certified, critical and exact steps; the global/element choice.
- :mod:`fem.stability.decision` — :class:`StepDecision`, that choice as data, and its one-line rendering.
- :mod:`fem.stability.eigenbounds`, :mod:`fem.stability.inertia` — the element eigenvalue inequality and
  the Lanczos/LDLᵀ proof behind the global form.
- :mod:`fem.stability.tangent` — the tangent operator at a state, for measured critical steps.
- :mod:`fem.stability.stepcost` — what the global form costs, to choose between the forms.
- :mod:`fem.stability.viscosity` — bulk viscosity and the damping-aware certified step.
- :mod:`fem.stability.discrete_energy` — the scheme's own energy and the guard built on it.
- :mod:`fem.stability.resonance` — energy growth of the leapfrog iteration, for studies of instability.

May import: fem.core, fem.materials, fem.discretisation.
"""
from fem.stability.timestep import (CertifiedStep, TimeStep, certified_time_step, choose_certified_step,
                                    critical_time_step, exact_time_step, stable_step)
from fem.stability.decision import StepDecision, render_reason
from fem.stability.viscosity import BulkViscosity, damping_ratio_bound
from fem.stability.discrete_energy import EnergyGuard

__all__ = ["CertifiedStep", "TimeStep", "certified_time_step", "choose_certified_step", "critical_time_step",
           "exact_time_step", "stable_step", "StepDecision", "render_reason", "BulkViscosity", "damping_ratio_bound",
           "EnergyGuard"]
