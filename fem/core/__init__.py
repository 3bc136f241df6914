"""The ground floor of fem: errors, run limits, Mandel notation, kinematics and interval arithmetic.

- :mod:`fem.core.errors` — the exception classes every other package raises.
- :mod:`fem.core.limits` — :class:`Limits` and the checks of sizes, moduli, steps and threads a run
  must pass before it starts.
- :mod:`fem.core.mandel` — the strain/stress vector notation (Euclidean norm = Frobenius norm).
- :mod:`fem.core.kinematics` — closed-form determinant, cofactor, J = det(I + H), principal stretches.
- :mod:`fem.core.interval` — :class:`Interval`, the outward-rounded arithmetic behind the certificates.

May import: nothing else in fem.
"""
from fem.core import kinematics, mandel
from fem.core.errors import (DeckError, FemError, FemWarning, LimitError, MeshError, NoStiffnessBound,
                             SimulationError)
from fem.core.interval import Interval
from fem.core.limits import Limits

__all__ = ["mandel", "kinematics", "FemError", "MeshError", "DeckError", "LimitError", "NoStiffnessBound",
           "SimulationError", "FemWarning", "Interval", "Limits"]
