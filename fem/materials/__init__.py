"""Materials: the protocol fem meets every law through, and the laws fem ships.

- :mod:`fem.materials.protocol` — :class:`Material` (small strain: Mandel strain in, stress out) and the
  finite-strain protocol (F in, P out, a certified stretch domain), with the checks the solver applies.
- :mod:`fem.materials.classical` — :class:`LinearElastic`, :class:`NonlinearBar` (exact bounds).
- :mod:`fem.materials.stiffening` — :class:`StiffeningElastic`, an analytic stiffening potential.
- :mod:`fem.materials.hyperelastic` — isotropic finite-strain laws and their certificates.

May import: fem.core.
"""
from fem.materials.protocol import (Material, bound_matrix, check_material, is_finite_strain, stiffness_bound_for,
                                    supported_kinematics)
from fem.materials.classical import LinearElastic, NonlinearBar
from fem.materials.stiffening import StiffeningElastic
from fem.materials import hyperelastic

__all__ = ["Material", "bound_matrix", "check_material", "is_finite_strain", "stiffness_bound_for",
           "supported_kinematics", "LinearElastic", "NonlinearBar", "StiffeningElastic", "hyperelastic"]
