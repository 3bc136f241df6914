"""fem: a small explicit-dynamics finite element solver that meets materials through a protocol.

The house, floor by floor (each sub-package imports only the floors below it; ``tests/test_layering.py``
checks the "May import:" line of each):

- :mod:`fem.core` — errors, run limits, Mandel notation, interval arithmetic;
- :mod:`fem.materials` — the material protocol, classical and hyperelastic laws;
- :mod:`fem.discretisation` — mesh, elements, assembly, internal force, boundary conditions;
- :mod:`fem.stability` — certified and measured time steps, bulk viscosity, the scheme's energy;
- :mod:`fem.io` — field series, CSV histories, checkpoints, atomic writes;
- :mod:`fem.solver` — :func:`solve`: the central-difference loop, its set-up, observers and result;
- :mod:`fem.deck` — TOML decks: a whole simulation in one file.

fem never imports lipmat. The names below are the public API; import them from ``fem``.
"""
from fem.core import (DeckError, FemError, FemWarning, Interval, LimitError, Limits, MeshError, NoStiffnessBound,
                      SimulationError, mandel)
from fem.materials import (LinearElastic, Material, NonlinearBar, StiffeningElastic, bound_matrix, check_material,
                           hyperelastic, is_finite_strain, stiffness_bound_for)
from fem.materials.hyperelastic import (ArrudaBoyce, Certificate, Gent, InvariantLaw, MooneyRivlin, NeoHookean,
                                        Ogden, PlaneStress, SeparableLaw, StretchDomain, Yeoh, certify_isotropic)
from fem.discretisation import (Assembly, BodyForce, Element, Fixed, Mesh, NodalForce, Prescribed, Traction, bar,
                                box, distort, element_for, rectangle)
from fem.stability import (BulkViscosity, CertifiedStep, EnergyGuard, StepDecision, TimeStep, certified_time_step,
                           choose_certified_step, critical_time_step, damping_ratio_bound, exact_time_step,
                           stable_step)
from fem.io import FieldWriter, atomic_write, plot_energies, read_pvd, write_energy_csv, write_probes_csv
from fem.solver import (Checkpoint, Compute, EnergyCheck, Fault, Monitor, Problem, Probes, Result, RunStep, SaveAt,
                        State, Status, iterate, run_time_step, solve)
from fem.deck import Deck, load_deck, parse_deck, run_deck

__all__ = ["mandel", "FemError", "MeshError", "DeckError", "SimulationError", "FemWarning", "NoStiffnessBound",
           "LimitError", "Limits", "Interval",
           "Material", "bound_matrix", "LinearElastic", "NonlinearBar", "check_material", "is_finite_strain",
           "stiffness_bound_for", "StiffeningElastic",
           "StretchDomain", "InvariantLaw", "SeparableLaw", "NeoHookean", "MooneyRivlin", "Yeoh", "Ogden", "Gent",
           "ArrudaBoyce", "Certificate", "certify_isotropic", "PlaneStress",
           "Mesh", "bar", "rectangle", "box", "distort", "Element", "element_for", "Assembly",
           "Fixed", "Prescribed", "NodalForce", "Traction", "BodyForce",
           "TimeStep", "certified_time_step", "critical_time_step", "exact_time_step", "stable_step",
           "CertifiedStep", "choose_certified_step", "StepDecision", "BulkViscosity", "damping_ratio_bound",
           "EnergyGuard",
           "FieldWriter", "atomic_write", "write_energy_csv", "write_probes_csv", "plot_energies", "read_pvd",
           "Problem", "Result", "State", "Status", "Fault", "RunStep", "solve", "iterate", "run_time_step", "SaveAt", "EnergyCheck", "Probes", "Monitor",
           "Checkpoint", "Compute",
           "Deck", "load_deck", "parse_deck", "run_deck"]
