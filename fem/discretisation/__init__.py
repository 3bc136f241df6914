"""Discretisation: from a mesh to the operators the time loop applies.

- :mod:`fem.discretisation.mesh` — :class:`Mesh` (points, cells, named sets, node and facet selectors).
- :mod:`fem.discretisation.mesh_reading` — any file meshio reads, to a Mesh with named sets.
- :mod:`fem.discretisation.generators` — :func:`bar`, :func:`rectangle`, :func:`box`, :func:`distort`.
- :mod:`fem.discretisation.elements` — reference elements: shape functions and quadrature.
- :mod:`fem.discretisation.assembly` — :class:`Assembly`: B operators (Mandel strain or the gradient),
  lumped mass, stiffness matrices.
- :mod:`fem.discretisation.sparse` — the sparse-matrix conversions the assembly uses.
- :mod:`fem.discretisation.forces` — :class:`InternalForce`: strain (or F) -> stress -> nodal forces.
- :mod:`fem.discretisation.bc` — boundary conditions and loads, compiled to index sets.

May import: fem.core, fem.materials.
"""
from fem.discretisation.mesh import Mesh
from fem.discretisation.generators import bar, box, distort, rectangle
from fem.discretisation.mesh_reading import from_meshio, read_mesh
from fem.discretisation.elements import Element, element_for
from fem.discretisation.assembly import Assembly
from fem.discretisation.forces import InternalForce
from fem.discretisation.bc import BodyForce, Fixed, NodalForce, Prescribed, Traction

__all__ = ["Mesh", "bar", "box", "distort", "rectangle", "from_meshio", "read_mesh", "Element", "element_for",
           "Assembly", "InternalForce", "BodyForce", "Fixed", "NodalForce", "Prescribed", "Traction"]
