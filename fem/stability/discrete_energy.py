"""The central-difference scheme's own energy, and a guard that stops a run when the scheme creates energy.

For the velocity-Verlet form of :mod:`fem.solver.central_difference` (whole-step ``v_n``, ``a_n``) define ::

    E_n = ½ v_{n−½}ᵀ M v_{n+½} + Ψ(u_n) = ½ v_nᵀ M v_n − (Δt²/8) a_nᵀ M a_n + Ψ(u_n)

(``v_{n±½} = v_n ± (Δt/2) a_n``). From ``M(v_{n+½} − v_{n−½}) = Δt (g_n − f_n)`` at every dof — ``f`` the
elastic internal force ``∇Ψ``, ``g`` everything else: loads, reactions, mass damping, viscosity —
one finds, for any Ψ, loads, constraints and damping,

    E_{n+1} − E_n = ½Δu·(g_n + g_{n+1}) − [½Δu·(f_n + f_{n+1}) − (Ψ(u_{n+1}) − Ψ(u_n))],   Δu = u_{n+1} − u_n.

The first term is the trapezoid work the solver already accumulates (external work, minus dissipation:
:mod:`fem.solver.energy`). So the **scheme's energy error** ::

    R_n = E_n − E_0 − W_ext,n + W_diss,n = −Σ_k [trapezoid rule error of ∫ f·du over step k]

is exactly the energy the scheme created. For a quadratic Ψ the trapezoid rule is exact and ``R_n = 0``
to round-off (the modified energy ``½ v_{n+½}ᵀMv_{n+½} + ½ u_nᵀKu_{n+1}`` of the linear theory is the
same quantity, shifted by half a step). For a nonlinear potential the per-step error is
``(1/12) Δuᵀ(K(u_{n+1}) − K(u_n)) Δu + …`` — set by how fast the tangent varies along a step, not by
the tangent's bound: tiny in smooth motion, and it is precisely the energy a stiffening law pumps
into the top modes. A guard on ``R_n`` is therefore silent in linear and smooth runs and fires as soon
as that pumping starts, long before an element inverts (``docs/stability.md``).

Scale: ``R_n`` is compared with the largest energy in motion seen so far,
``S_n = max_{k≤n} max(K_k, |Ψ_k − Ψ_0|, |W_ext,k|, W_diss,k)`` (a body pre-stretched and held has a
large Ψ_0 that never moves; comparing with it would hide a 10× growth of the vibration).
"""
from __future__ import annotations

import math

import torch

__all__ = ["scheme_energy", "EnergyGuard", "DEFAULT_GUARD_TOL", "TINY"]

#: Default relative tolerance of :class:`EnergyGuard`: stop when the scheme created more than 1 % of the
#: energy in motion. Measured (docs/stability.md): linear runs stay at round-off (1e-13), smooth nonlinear
#: runs below 2e-3; the unstable runs pass 1 % hundreds of steps before an element inverts.
DEFAULT_GUARD_TOL = 1e-2
TINY = 1e-300


def scheme_energy(v: torch.Tensor, a: torch.Tensor, mass: torch.Tensor, dt: float, internal: float) -> tuple[float, float]:
    """``(E_n, K_n)``: the scheme's energy ``½vᵀMv − (Δt²/8)aᵀMa + Ψ`` and the whole-step kinetic energy.

    v, a, mass : (n_dofs,) whole-step velocity, acceleration, lumped mass; dt : s; internal : Ψ(u_n) (J).
    """
    kin = 0.5 * float(torch.dot(mass * v, v))
    ama = float(torch.dot(mass * a, a))
    return kin - 0.125 * dt * dt * ama + float(internal), kin


class EnergyGuard:
    """Watches the scheme's energy error ``R_n`` (module docstring) and says when it passes ``tol``.

    tol : relative tolerance (> 0), or None to record without a limit; ``check`` returns the relative
    error ``R_n / S_n`` (signed: > 0 means energy was created) and ``tripped`` tells whether the latest
    one exceeded ``tol`` (the one trip test: :mod:`fem.solver.energy` asks it at every row). Call :meth:`check` with the
    state's whole-step fields, Ψ(u_n), and the accumulated external work and dissipation (trapezoid sums
    from the step increments, :class:`fem.solver.energy.EnergyAccount`).
    """

    def __init__(self, tol: float | None = DEFAULT_GUARD_TOL):
        if tol is not None and not (tol > 0 and math.isfinite(tol)):
            raise ValueError(f"energy guard tolerance must be a finite number > 0 or None, got {tol!r}")
        self.tol = None if tol is None else float(tol)
        self.e0 = self.psi0 = None
        self.scale = 0.0
        self.worst = 0.0
        self.last = 0.0

    def check(self, v, a, mass, dt: float, internal: float, w_ext: float, w_diss: float) -> float:
        """Relative energy created by the scheme so far (float); also updates ``worst``/``last``."""
        e, kin = scheme_energy(v, a, mass, dt, internal)
        return self.update(e, kin, internal, w_ext, w_diss)

    def update(self, e: float, kin: float, internal: float, w_ext: float, w_diss: float) -> float:
        """As :meth:`check`, from the scheme energy ``e`` and kinetic energy ``kin`` (floats, J)."""
        if self.e0 is None:
            self.e0, self.psi0 = e, float(internal)
        self.scale = max(self.scale, kin, abs(float(internal) - self.psi0), abs(w_ext), abs(w_diss))
        r = e - self.e0 - w_ext + w_diss
        rel = r / max(self.scale, TINY) if math.isfinite(r) else math.inf
        self.last = rel
        self.worst = max(self.worst, rel)
        return rel

    @property
    def tripped(self) -> bool:
        """The latest relative error exceeded ``tol`` (never with ``tol`` None; an infinite error trips)."""
        return self.tol is not None and not self.last <= self.tol

    def state_dict(self) -> dict:
        return {"tol": self.tol, "e0": self.e0, "psi0": self.psi0, "scale": self.scale, "worst": self.worst,
                "last": self.last}

    def load_state_dict(self, d: dict) -> None:
        """The history of ``d``; ``tol`` is this guard's setting, not history, and stays."""
        self.e0, self.psi0 = d["e0"], d["psi0"]
        self.scale, self.worst, self.last = d["scale"], d["worst"], d["last"]
