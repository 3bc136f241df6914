"""fem: a small explicit-dynamics finite element solver that meets materials through a protocol.

fem never imports lipmat. See :mod:`fem.material` for the material protocol and :mod:`fem.mandel`
for the strain/stress notation.
"""
from fem import mandel
from fem.errors import DeckError, FemError, FemWarning, MeshError, NoStiffnessBound, SimulationError
from fem.material import Material, bound_matrix
from fem.material import LinearElastic, NonlinearBar, check_material
from fem.material import is_finite_strain, stiffness_bound_for
from fem.elements import Element, element_for
from fem.mesh import Mesh, bar, box, distort, rectangle
from fem.assembly import Assembly

__all__ = ["mandel", "FemError", "MeshError", "DeckError", "SimulationError", "FemWarning", "NoStiffnessBound",
           "Material", "bound_matrix"]
__all__ += ["Mesh", "bar", "rectangle", "box", "distort", "Element", "element_for", "Assembly",
            "LinearElastic", "NonlinearBar", "check_material", "is_finite_strain", "stiffness_bound_for"]
from fem.bc import BodyForce, Fixed, NodalForce, Prescribed, Traction
from fem.explicit import Problem, Result, State, iterate, solve
from fem.solve_options import Checkpoint, Compute, EnergyCheck, Monitor, Probes, SaveAt

__all__ += ["Fixed", "Prescribed", "NodalForce", "Traction", "BodyForce", "Problem", "Result", "State",
            "solve", "iterate", "SaveAt", "EnergyCheck", "Probes", "Monitor", "Checkpoint", "Compute"]
from fem.output import FieldWriter, atomic_write, plot_energies, read_pvd, write_energy_csv, write_probes_csv
from fem.deck import Deck, load_deck, parse_deck, run_deck

__all__ += ["FieldWriter", "atomic_write", "write_energy_csv", "write_probes_csv", "plot_energies", "read_pvd",
            "Deck", "load_deck", "parse_deck", "run_deck"]
from fem.timestep import TimeStep, certified_time_step, critical_time_step, exact_time_step, stable_step
from fem.timestep import CertifiedStep, choose_certified_step

__all__ += ["TimeStep", "certified_time_step", "critical_time_step", "exact_time_step", "stable_step",
            "CertifiedStep", "choose_certified_step"]
from fem.viscosity import BulkViscosity, damping_ratio_bound
from fem.discrete_energy import EnergyGuard
from fem.stiffening import StiffeningElastic

__all__ += ["BulkViscosity", "damping_ratio_bound", "EnergyGuard", "StiffeningElastic"]
from fem.errors import LimitError
from fem.limits import Limits

__all__ += ["LimitError", "Limits"]
from fem.interval import Interval
from fem.hyperelastic import (ArrudaBoyce, Certificate, Gent, InvariantLaw, MooneyRivlin, NeoHookean, Ogden,
                              SeparableLaw, StretchDomain, Yeoh, certify_isotropic)

__all__ += ["Interval", "StretchDomain", "InvariantLaw", "SeparableLaw", "NeoHookean", "MooneyRivlin", "Yeoh",
            "Ogden", "Gent", "ArrudaBoyce", "Certificate", "certify_isotropic"]
