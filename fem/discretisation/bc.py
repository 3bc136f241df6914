"""Boundary conditions and loads, and their compiled per-dof form used by the explicit solver.

Declarations (what a user writes; ``where`` is a node/facet set name or a selector such as
``"x == 0 and y < 1"``, see :meth:`fem.discretisation.mesh.Mesh.nodes`):

- :class:`Fixed` ``(where, components=None, value=0.0)``: constant displacement of some components.
- :class:`Prescribed` ``(where, component, displacement=None, velocity=None)``: a displacement
  history ``g(t)`` or a velocity history ``h(t)`` of one component (exactly one of the two).
- :class:`NodalForce` ``(where, force, amplitude=None)``: a force ``(dim,)`` on every selected node.
- :class:`Traction` ``(where, traction, amplitude=None)``: a traction ``(dim,)`` (force per unit
  area; per unit length × thickness in 2D; × cross-section area in 1D) on boundary facets, turned into
  consistent nodal forces ``∫ N_a t dA`` by a facet quadrature exact for linear facets.
- :class:`BodyForce` ``(acceleration, amplitude=None)``: a body force per unit mass ``(dim,)``; its
  consistent nodal forces ``∫ ρ N_a g dV`` equal the lumped mass times ``g`` exactly.

``amplitude`` is a callable ``t -> float`` (or a number) multiplying the load; None means 1.
Components are ``0, 1, 2`` or ``"x", "y", "z"``.

:func:`compile_conditions` turns these into :class:`Conditions`: index tensors of constrained dofs and
constant load vectors, so that ``f_ext(t) = Σ_i amplitude_i(t) F_i`` costs one axpy per amplitude.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Callable, Sequence, Union

import numpy as np
import torch

from fem.discretisation.elements import element_for
from fem.core.errors import FemError

__all__ = ["Fixed", "Prescribed", "NodalForce", "Traction", "BodyForce", "Conditions",
           "compile_conditions", "constrained_dofs", "facet_load_vector"]

log = logging.getLogger(__name__)

History = Union[Callable[[float], float], float, int]
_AXES = {"x": 0, "y": 1, "z": 2}


@dataclass
class Fixed:
    """Hold ``components`` (None = all) of the nodes ``where`` at the constant ``value``."""

    where: str
    components: Sequence[int | str] | int | str | None = None
    value: float = 0.0


@dataclass
class Prescribed:
    """One component of the nodes ``where`` follows ``displacement(t)`` or ``velocity(t)``."""

    where: str
    component: int | str
    displacement: History | None = None
    velocity: History | None = None


@dataclass
class NodalForce:
    """Force ``(dim,)`` (N) on every node of ``where``, times ``amplitude(t)``."""

    where: str
    force: Sequence[float]
    amplitude: History | None = None


@dataclass
class Traction:
    """Traction ``(dim,)`` (Pa) on the boundary facets ``where``, times ``amplitude(t)``."""

    where: str
    traction: Sequence[float]
    amplitude: History | None = None


@dataclass
class BodyForce:
    """Body force per unit mass ``(dim,)`` (m/s²) on the whole body, times ``amplitude(t)``."""

    acceleration: Sequence[float]
    amplitude: History | None = None


def _as_history(f: History | None, what: str) -> Callable[[float], float] | None:
    if f is None:
        return None
    if callable(f):
        return f
    try:
        c = float(f)
    except (TypeError, ValueError):
        raise FemError(f"{what} must be a callable t -> float or a number, got {f!r}") from None
    return lambda t: c


def _component(c: int | str, dim: int, where: str) -> int:
    k = _AXES.get(c, c) if isinstance(c, str) else c
    if not isinstance(k, (int, np.integer)) or not 0 <= k < dim:
        raise FemError(f"component {c!r} (for {where!r}) must be 0..{dim - 1} or one of "
                       f"{list(_AXES)[:dim]} on a {dim}D mesh")
    return int(k)


def _vector(v, dim: int, what: str) -> np.ndarray:
    a = np.asarray(v, dtype=np.float64).reshape(-1)
    if a.shape != (dim,) or not np.all(np.isfinite(a)):
        raise FemError(f"{what} must be {dim} finite numbers (one per direction), got {v!r}")
    return a


def _nodes(mesh, where: str, what: str) -> np.ndarray:
    ids = mesh.nodes(where)
    if len(ids) == 0:
        raise FemError(f"{what} on {where!r} selects no node of the mesh")
    return ids


def facet_load_vector(mesh, facets: np.ndarray, traction: np.ndarray, scale: float = 1.0) -> np.ndarray:
    """Consistent nodal forces ``∫_Γ N_a t dA`` of a constant traction on facets.

    facets (k, nodes_per_facet) node ids; traction (dim,); scale: thickness (2D) or area (1D).
    Returns (n_points·dim,). Exact for straight lines, flat triangles and bilinear quads (the facet
    mass rule integrates ``N_a |J|`` exactly there).
    """
    out = np.zeros((mesh.n_points, mesh.dim))
    if len(facets) == 0:
        return out.ravel()
    if mesh.dim == 1:  # a facet is a node: the force is traction × cross-section
        np.add.at(out, facets[:, 0], traction * scale)
        return out.ravel()
    fel = element_for(element_for(mesh.cell_type).facet_type)
    xi, w = fel.mass_points, fel.mass_weights
    n = fel.shape(xi)                                  # (m, nf)
    dn = fel.grad(xi)                                  # (m, nf, fdim)
    x = mesh.points[facets]                            # (k, nf, dim)
    tangents = np.einsum("kad,mas->kmds", x, dn)       # (k, m, dim, fdim)
    if mesh.dim == 2:
        measure = np.linalg.norm(tangents[..., 0], axis=-1)
    else:
        measure = np.linalg.norm(np.cross(tangents[..., 0], tangents[..., 1]), axis=-1)
    wa = np.einsum("km,m,ma->ka", measure, w, n) * scale   # (k, nf) = ∫ N_a dA per facet node
    np.add.at(out, facets.reshape(-1), (wa.reshape(-1, 1) * traction[None, :]))
    return out.ravel()


@dataclass
class Conditions:
    """Per-dof form of the boundary conditions and loads (torch tensors on the solver's device).

    ``fixed_dofs`` (kf,) long and ``fixed_values`` (kf,)
        constant displacements.
    ``disp_dofs`` (kd,) long, ``disp_funcs`` (list of callables ``g(t)``, one per Prescribed) and ``disp_group`` (kd,) long
        ``g = disp_funcs[disp_group[i]]`` drives ``disp_dofs[i]``.
    ``vel_dofs`` (kv,), ``vel_funcs``, ``vel_group``
        the same for velocity histories ``h(t)``.
    ``constrained`` (k,) long
        fixed, then displacement-, then velocity-prescribed dofs (no dof twice).
    ``loads``
        list of ``(F (n_dofs,), amplitude or None)``; constant loads are summed into one entry.
    """

    n_dofs: int
    fixed_dofs: torch.Tensor
    fixed_values: torch.Tensor
    disp_dofs: torch.Tensor
    disp_funcs: list
    disp_group: torch.Tensor
    vel_dofs: torch.Tensor
    vel_funcs: list
    vel_group: torch.Tensor
    loads: list

    def __post_init__(self):
        self.constrained = torch.cat([self.fixed_dofs, self.disp_dofs, self.vel_dofs])
        self._zeros = torch.zeros(len(self.fixed_dofs), dtype=self.fixed_values.dtype,
                                  device=self.fixed_values.device)

    def _eval(self, funcs, group, t: float) -> torch.Tensor:
        vals = torch.tensor([float(f(t)) for f in funcs], dtype=self.fixed_values.dtype)
        return vals.to(self.fixed_values.device)[group]

    def prescribed_displacement(self, t: float) -> torch.Tensor:
        """(kd,) ``g(t)`` of the displacement-prescribed dofs."""
        return self._eval(self.disp_funcs, self.disp_group, t)

    def half_step_velocity(self, t0: float, t1: float) -> torch.Tensor:
        """(k,) velocity of every constrained dof over [t0, t1], in the order of ``constrained``.

        Fixed: 0; displacement-prescribed: ``(g(t1) − g(t0)) / (t1 − t0)`` (so the displacement is
        hit exactly); velocity-prescribed: ``h((t0 + t1) / 2)`` (midpoint rule).
        """
        parts = [self._zeros]
        if self.disp_funcs:
            parts.append((self.prescribed_displacement(t1) - self.prescribed_displacement(t0)) / (t1 - t0))
        if self.vel_funcs:
            parts.append(self._eval(self.vel_funcs, self.vel_group, 0.5 * (t0 + t1)))
        return torch.cat(parts) if len(parts) > 1 else parts[0]

    def moving_half_step_velocity(self, t0: float, t1: float) -> torch.Tensor:
        """(kd + kv,) :meth:`half_step_velocity` of the displacement- and velocity-prescribed dofs only."""
        return self.half_step_velocity(t0, t1)[len(self.fixed_dofs):]

    def external_force(self, t: float) -> torch.Tensor | None:
        """(n_dofs,) ``Σ amplitude_i(t) F_i``, or None when there are no loads."""
        out = None
        for f, amp in self.loads:
            if amp is None:
                out = f if out is None else out + f
            else:
                out = f * float(amp(t)) if out is None else out.add(f, alpha=float(amp(t)))
        return out


def constrained_dofs(mesh, bcs) -> np.ndarray:
    """(k,) int64 sorted ids ``node·dim + component`` of the dofs that the :class:`Fixed` and
    :class:`Prescribed` conditions ``bcs`` constrain on ``mesh`` (no assembly needed; FemError as
    :func:`compile_conditions` for a bad component or an empty selection)."""
    dim, out = mesh.dim, []
    for bc in bcs:
        if isinstance(bc, Fixed):
            comps = range(dim) if bc.components is None else (
                [bc.components] if isinstance(bc.components, (int, str)) else bc.components)
            comps = [_component(c, dim, bc.where) for c in comps]
        elif isinstance(bc, Prescribed):
            comps = [_component(bc.component, dim, bc.where)]
        else:
            continue
        nodes = _nodes(mesh, bc.where, type(bc).__name__)
        out.append((nodes[:, None] * dim + np.asarray(comps)[None, :]).ravel())
    return np.unique(np.concatenate(out)).astype(np.int64) if out else np.zeros(0, dtype=np.int64)


def compile_conditions(problem, assembly, lumped_mass: torch.Tensor) -> Conditions:
    """Resolve a problem's ``bcs`` and ``loads`` on its mesh into a :class:`Conditions`.

    Raises FemError for an unknown kind, a selector matching nothing, a dof constrained twice
    (naming the node and component), wrong vector lengths, or a Prescribed with neither or both
    histories.
    """
    mesh, dim = assembly.mesh, assembly.dim
    owner: dict[int, str] = {}
    fixed, fixed_val, disp, disp_f, disp_g, vel, vel_f, vel_g = [], [], [], [], [], [], [], []

    def claim(dofs, label):
        for d in dofs.tolist():
            if d in owner:
                raise FemError(f"dof {d} (node {d // dim}, component {d % dim}) is constrained twice: "
                               f"by {owner[d]} and by {label}")
            owner[d] = label

    for i, bc in enumerate(problem.bcs):
        label = f"bcs[{i}] {type(bc).__name__}({bc.where!r})" if hasattr(bc, "where") else f"bcs[{i}]"
        if isinstance(bc, Fixed):
            comps = range(dim) if bc.components is None else (
                [bc.components] if isinstance(bc.components, (int, str)) else bc.components)
            comps = [_component(c, dim, bc.where) for c in comps]
            nodes = _nodes(mesh, bc.where, "Fixed")
            dofs = (nodes[:, None] * dim + np.asarray(comps)[None, :]).ravel()
            claim(dofs, label)
            fixed.append(dofs)
            fixed_val.append(np.full(len(dofs), float(bc.value)))
        elif isinstance(bc, Prescribed):
            if (bc.displacement is None) == (bc.velocity is None):
                raise FemError(f"{label}: give exactly one of displacement= or velocity= (a callable t -> float)")
            c = _component(bc.component, dim, bc.where)
            dofs = _nodes(mesh, bc.where, "Prescribed") * dim + c
            claim(dofs, label)
            if bc.displacement is not None:
                g = _as_history(bc.displacement, f"{label} displacement")
                disp.append(dofs)
                disp_g.append(np.full(len(dofs), len(disp_f)))
                disp_f.append(g)
            else:
                h = _as_history(bc.velocity, f"{label} velocity")
                vel.append(dofs)
                vel_g.append(np.full(len(dofs), len(vel_f)))
                vel_f.append(h)
        else:
            raise FemError(f"bcs[{i}] must be Fixed or Prescribed, got {type(bc).__name__} "
                           f"(loads such as NodalForce/Traction/BodyForce go in loads=)")

    def cat(parts, dtype):
        return torch.as_tensor(np.concatenate(parts) if parts else np.zeros(0), dtype=dtype, device=assembly.device)

    const = None
    loads = []
    for i, ld in enumerate(problem.loads):
        f = _load_vector(ld, i, problem, assembly, lumped_mass)
        amp = _as_history(ld.amplitude, f"loads[{i}] amplitude")
        if amp is None:
            const = f if const is None else const + f
        else:
            loads.append((f, amp))
    if const is not None:
        loads.insert(0, (const, None))
    return Conditions(assembly.n_dofs, cat(fixed, torch.long), cat(fixed_val, assembly.dtype),
                      cat(disp, torch.long), disp_f, cat(disp_g, torch.long),
                      cat(vel, torch.long), vel_f, cat(vel_g, torch.long), loads)


def _load_vector(ld, i, problem, assembly, lumped_mass) -> torch.Tensor:
    mesh, dim = assembly.mesh, assembly.dim
    kw = dict(dtype=assembly.dtype, device=assembly.device)
    if isinstance(ld, NodalForce):
        f = np.zeros((mesh.n_points, dim))
        f[_nodes(mesh, ld.where, "NodalForce")] += _vector(ld.force, dim, f"loads[{i}] NodalForce force")
        return torch.as_tensor(f.ravel(), **kw)
    if isinstance(ld, Traction):
        t = _vector(ld.traction, dim, f"loads[{i}] Traction traction")
        facets = mesh.facets(ld.where)
        if len(facets) == 0:
            raise FemError(f"loads[{i}] Traction on {ld.where!r} selects no boundary facet")
        scale = {1: assembly.area, 2: assembly.thickness, 3: 1.0}[dim]
        return torch.as_tensor(facet_load_vector(mesh, facets, t, scale), **kw)
    if isinstance(ld, BodyForce):
        g = torch.as_tensor(_vector(ld.acceleration, dim, f"loads[{i}] BodyForce acceleration"), **kw)
        return lumped_mass * g.repeat(mesh.n_points)
    raise FemError(f"loads[{i}] must be NodalForce, Traction or BodyForce, got {type(ld).__name__} "
                   f"(Fixed/Prescribed go in bcs=)")
