"""The checks of a run's states and the :class:`~fem.solver.result.Fault` each one reports.

NaN/inf (read from the step's work, which sums over every dof), inversion (1D every check, 2D/3D at
rows, after a screen that proves most states cannot have inverted, :meth:`RunChecks.cannot_invert`;
finite strain every check, as ``det F > 0``, so its rows reuse that answer), the finite-strain checks
(``det F ≤ 0`` → ``inverted``, before the NaN check since a law's ``ln J`` turns inversion into NaN;
``material.in_domain(F)`` False → ``out_of_domain``) and the energy checks (balance and guard, decided
by the energy recorder, reported here). A fault names the step, time, element and centroid, and the
likely cause when the step is above the proven one.
"""
from __future__ import annotations

import math

import numpy as np
import torch

from fem.solver.central_difference import State
from fem.solver.energy import EnergyBreach
from fem.solver.faults import describe_cell, inverted_cells, out_of_domain, worst_cell
from fem.solver.result import Fault, Status

__all__ = ["RunChecks"]


class RunChecks:
    """The checks of one run: ``setup`` (a :class:`fem.solver.setup.RunSetup`) stepped at ``dt`` (s).

    Each check returns a :class:`Fault` (``good`` is the last state that passed it, named in the
    message) or None.
    """

    def __init__(self, setup, dt: float):
        self.setup, self.assembly, self.dt = setup, setup.assembly, float(dt)
        cert = setup.dt_certified
        self.unsafe = bool(cert) and self.dt > cert * (1 + 1e-12)
        self._grad_bound = None    # G of cannot_invert, made on first use

    def cannot_invert(self, u: torch.Tensor) -> bool:
        """True when no element of ``u`` can have ``det(I + ∇u) ≤ 0`` at a quadrature point (2D/3D).

        A proof, one pass over u: with Σ_a ∇N_a = 0 (the shape functions sum to 1), at every quadrature
        point ``H = Σ_a (u_a − w) ⊗ ∇N_a`` for any constant w; with every component of w the midpoint of
        u's range [lo, hi] (over all dofs: one contiguous reduction, 8x cheaper than per component),
        ``|u_a − w| ≤ r = √dim (hi − lo)/2``, so ``‖H‖₂ ≤ r G`` with
        ``G = max over cells and points of Σ_a |∇N_a|``. While ``‖H‖₂ < 1`` every ``I + tH``, t ∈ [0, 1],
        is nonsingular, so ``det(I + H)`` keeps the sign it has at t = 0: positive. The test asks
        ``r G < 1/2`` to leave room for round-off. False (check in full) for NaN and large motions.
        """
        a = self.assembly
        if self._grad_bound is None:
            self._grad_bound = _gradient_bound(a)
        lo, hi = torch.aminmax(u)
        r = 0.5 * math.sqrt(a.dim) * float(hi - lo)
        return r * self._grad_bound < 0.5

    def finite(self, new: State, good: State) -> Fault | None:
        """NaN/inf in ``new`` (or, in 1D, a stretch ≤ 0; finite strain: inverted or out of domain)."""
        # the step's internal work ½Δt v_{n+½}·(f_n + f_{n+1}) sums over every dof: NaN/inf anywhere
        # shows up in it, at no extra cost
        a = self.assembly
        finite = all(math.isfinite(x) for x in new.scheme.increments)
        if finite and new.step == 0:
            finite = bool(torch.isfinite(new.f_int).all() and torch.isfinite(new.a).all())
        if self.setup.forces.finite:
            fault = self.finite_strain(new, good, finite)
            if fault is not None:
                return fault
        if not finite:
            cell, why = worst_cell(a, new.u, new.stress)
            return self.fault(Status.UNSTABLE, new, good, cell, f"NaN or inf in the solution ({why})")
        if a.dim == 1:
            eps = new.strain if new.strain is not None else a.strain(new.u)
            if not float(eps.min()) > -1.0:
                return self.inverted(new, good, new.strain)
        return None

    def finite_strain(self, new: State, good: State, finite: bool = True) -> Fault | None:
        """Finite strain: an element with ``det F ≤ 0`` (inverted) or, in a finite state, one that has
        left the material's certified domain (``out_of_domain``)."""
        a = self.assembly
        h = new.strain if new.strain is not None else a.strain(new.u)
        # det F ≤ 0 somewhere (NaN does not count: a NaN gradient is the NaN check's business)
        ids = inverted_cells(a, new.u, h) if bool((a.volume_ratio(h) <= 0).any()) else ()
        if len(ids):
            ids = ids[torch.isfinite(h[torch.as_tensor(ids, device=h.device)]).flatten(1).all(1).cpu().numpy()]
        if len(ids):
            return self.fault(Status.INVERTED, new, good, int(ids[0]),
                              f"{len(ids)} element(s) turned inside out (det F <= 0), first")
        if not finite:
            return None
        out = out_of_domain(a, self.setup.problem.material, h)
        if out is None:
            return None
        ids, detail = out
        return self.fault(Status.OUT_OF_DOMAIN, new, good, int(ids[0]), detail)

    def inverted(self, new: State, good: State, strain=None) -> Fault | None:
        """An element turned inside out (``1 + du/dX ≤ 0`` in 1D, ``det(I + ∇u) ≤ 0`` above)."""
        ids = inverted_cells(self.assembly, new.u, strain)
        if len(ids) == 0:
            return None
        what = "stretch 1 + du/dX <= 0" if self.assembly.dim == 1 else "det(I + grad u) <= 0"
        return self.fault(Status.INVERTED, new, good, int(ids[0]),
                          f"{len(ids)} element(s) turned inside out ({what}), first")

    def row(self, state: State, good: State, breach: EnergyBreach | None) -> Fault | None:
        """The checks of a row step: the energy breach the recorder found, else (2D/3D) inversion.

        Finite strain checks ``det F > 0`` at every checked step, rows included (the loop runs
        :meth:`finite` at every row), so the row does not derive J again; small strain checks unless
        :meth:`cannot_invert` proves there is nothing to find."""
        if breach is not None:
            return self.energy(state, good, breach)
        if self.assembly.dim > 1 and not self.setup.forces.finite and not self.cannot_invert(state.u):
            return self.inverted(state, good)
        return None

    def energy(self, state: State, good: State, breach: EnergyBreach) -> Fault:
        """The energy guard tripped (the scheme created energy, :mod:`fem.stability.discrete_energy`) or
        the balance error passed its tolerance."""
        cell, why = worst_cell(self.assembly, state.u, state.stress)
        if breach.check == "guard":
            # fault() appends dt and the certified step to every "unstable" message
            detail = (f"the scheme created energy ({breach.error:.3g} of the energy in motion > energy_guard "
                      f"{breach.tol:g}): a numerical instability of the nonlinear iteration at this step size ({why})")
        else:
            detail = f"energy balance error {breach.error:.3g} > energy_tol {breach.tol:g} ({why})"
        return self.fault(Status.UNSTABLE, state, good, cell, detail)

    def fault(self, kind: Status, new: State, good: State, cell: int, detail: str) -> Fault:
        """The :class:`Fault` of ``new`` at ``cell``, its message ending with the step's advice."""
        where = describe_cell(self.assembly, cell)
        centroid = tuple(float(x) for x in self.assembly.cell_centroids()[cell])
        msg = (f"{kind}: {detail} {where} at step {new.step} (t = {new.t:.6g} s); "
               f"kept the last good state, step {good.step} (t = {good.t:.6g} s)")
        cert = self.setup.dt_certified
        if self.unsafe:
            # above the proven step any fault (a growing oscillation often inverts an element a few
            # steps before the energy check trips) is most likely the numerical instability itself
            msg += (f"; dt = {self.dt:.6g} s is {self.dt / cert:.3g}x the certified stable step "
                    f"{cert:.6g} s: likely a numerical instability, use dt = 'certified'")
        elif kind == Status.UNSTABLE:
            cert_s = f", certified stable step {cert:.6g} s" if cert else ""
            msg += f"; dt = {self.dt:.6g} s{cert_s}: reduce dt or check the material"
        return Fault(kind, new.step, new.t, cell, centroid, detail, msg)


def _gradient_bound(assembly, chunk: int = 65536) -> float:
    """``max over cells and quadrature points of Σ_a |∇N_a|`` (1/m), the G of
    :meth:`RunChecks.cannot_invert`, in chunks of cells (the gradients of a whole large mesh are big)."""
    g = 0.0
    pts = assembly.element.points
    for i in range(0, assembly.n_cells, chunk):
        dndx, _ = assembly._gradients(pts, slice(i, i + chunk))   # (nc, nq, nn, dim)
        g = max(g, float(np.linalg.norm(dndx, axis=-1).sum(axis=-1).max()))
    return g
