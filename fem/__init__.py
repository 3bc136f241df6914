"""fem: a small explicit-dynamics finite element solver that meets materials through a protocol.

fem never imports lipmat. See :mod:`fem.material` for the material protocol and :mod:`fem.mandel`
for the strain/stress notation.
"""
from fem import mandel
from fem.errors import DeckError, FemError, FemWarning, MeshError, SimulationError
from fem.material import Material, bound_matrix

__all__ = ["mandel", "FemError", "MeshError", "DeckError", "SimulationError", "FemWarning",
           "Material", "bound_matrix"]
