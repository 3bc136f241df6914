"""Reaction-force probes: the total force that the constraints apply to the body on a node set.

For a set of nodes, its reaction is the sum, over the set's *constrained* dofs (fixed, displacement-
or velocity-prescribed), of the force the constraint applies to the body there, per component::

    R_set[c] = Σ_{d ∈ set, constrained, component c}  ( M a + C v + f_int − f_ext )_d     (N)

with the lumped mass ``M``, ``C = αM`` (mass damping), ``f_int`` the internal force the scheme applied
(elastic, plus the bulk viscosity's force: the quadratic term's stress is inside ``State.f_int``, the
linear term's ``(τ b1/Δt)(f_int(u_n) − f_int(u_{n−1}))`` is added) and ``f_ext`` the loads at ``t``.
On a moving (prescribed) dof this is exactly the scheme's ``SchemeState.reaction``
(:mod:`fem.solver.central_difference`), the force that makes ``M a = f_ext − f_int − C v + R`` hold;
on a fixed dof ``a = v = 0`` and it is ``f_int − f_ext``. A free dof of the set contributes nothing.
The sign is that of a force *on the body*: a bar pulled at its right end by ``+u`` feels ``R_x > 0``
there and ``R_x < 0`` at its fixed left end. Units follow the internal forces: N, in 2D per the mesh's
thickness and in 1D per its cross-section area (both are inside ``f_int``).

Cost: one gather over the probe's constrained dofs per sample, at the probe cadence only.
"""
from __future__ import annotations

import numpy as np
import torch

from fem.core.errors import FemError

__all__ = ["constrained_components", "ReactionSums"]


def constrained_components(nodes, constrained, dim: int) -> tuple[np.ndarray, np.ndarray]:
    """The constrained dofs on ``nodes``: ``(dofs (k,), components (k,))`` int64, in dof order.

    nodes : (n,) node ids; constrained : (m,) constrained dof ids (``node·dim + component``); dim : 1-3.
    """
    nodes = np.asarray(nodes, dtype=np.int64).reshape(-1)
    c = np.asarray(constrained, dtype=np.int64).reshape(-1)
    dofs = np.unique(c[np.isin(c // dim, nodes)])
    return dofs, dofs % dim


class ReactionSums:
    """Per-set reaction (dim,) of a running scheme (see the module docstring).

    stepper : the :class:`~fem.solver.central_difference.CentralDifference` of the run; sets : name -> (n,)
    node ids; dim : the mesh's dimension. Raises FemError, naming the set, when a set holds no constrained dof.
    """

    def __init__(self, stepper, sets: dict, dim: int):
        self.stepper, self.dim = stepper, int(dim)
        dev = stepper.mass.device
        self.sets = {}
        for name, nodes in sets.items():
            dofs, comps = constrained_components(nodes, stepper.c_idx.cpu().numpy(), self.dim)
            if len(dofs) == 0:
                raise FemError(f"reaction probe {name!r}: its {len(np.atleast_1d(nodes))} node(s) carry no "
                               f"constrained dof; expected nodes of a Fixed or Prescribed condition")
            self.sets[name] = (torch.as_tensor(dofs, device=dev), torch.as_tensor(comps, device=dev))

    def __call__(self, s) -> dict:
        """name -> (dim,) reaction (N) at the state ``s``."""
        out = {}
        for name, (dofs, comps) in self.sets.items():
            r = self.stepper.constraint_force(s, dofs)
            out[name] = torch.zeros(self.dim, dtype=r.dtype, device=r.device).index_add_(0, comps, r)
        return out
