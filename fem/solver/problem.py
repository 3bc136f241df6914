"""What an explicit run simulates: the :class:`Problem` (mesh, material, density, conditions, initial state)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["Problem"]


@dataclass
class Problem:
    """What to simulate.

    mesh : :class:`~fem.discretisation.mesh.Mesh`; material : a :class:`~fem.materials.protocol.Material` of the mesh's
    kinematics; density : kg/m³, scalar or (n_cells,); bcs : Fixed / Prescribed; loads : NodalForce /
    Traction / BodyForce (:mod:`fem.discretisation.bc`); u0, v0 : initial displacement/velocity, (n_points, dim) or
    (n_dofs,) arrays, or callables ``points (n_points, dim) -> (n_points, dim)``, None = 0;
    thickness (2D) / area (1D) : m; damping : mass-proportional ``α`` (1/s), damping matrix ``αM``.
    """

    mesh: Any
    material: Any
    density: Any
    bcs: tuple = ()
    loads: tuple = ()
    u0: Any = None
    v0: Any = None
    thickness: float = 1.0
    area: float = 1.0
    damping: float = 0.0
