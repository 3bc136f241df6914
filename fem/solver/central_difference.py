"""The central-difference (leapfrog) step with lumped mass, constraints and mass-proportional damping.

Written in velocity-Verlet form, which is algebraically the half-step-velocity leapfrog
(Belytschko, Liu & Moran, *Nonlinear Finite Elements*, Box 6.1) with velocities also kept at whole
steps. With ``M`` the lumped mass, ``C = αM`` and ``F(t, u, v) = f_ext(t) − f_int(u) − αMv``::

    v_{n+½} = v_n + (Δt/2) a_n
    u_{n+1} = u_n + Δt v_{n+½}
    a'      = M⁻¹ (f_ext(t_{n+1}) − f_int(u_{n+1}))
    v_{n+1} = (v_{n+½} + (Δt/2) a') / (1 + αΔt/2),    a_{n+1} = a' − α v_{n+1}

The damping force is taken at the *whole-step* velocity ``v_{n+1} = (v_{n+½} + v_{n+3/2})/2``
(centred), which is explicit because ``C`` is diagonal. This keeps second order, and the stability
limit stays ``Δt ≤ 2/ω_max`` for every α ≥ 0: the characteristic polynomial of a mode is
``(1+c) z² − (2 − ω²Δt²) z + (1−c)``, ``c = αΔt/2``, whose roots lie in the unit disc iff
``ωΔt ≤ 2``. (The smaller ``(2/ω)(√(1+ξ²) − ξ)`` limit belongs to the variant that lags the damping
force by half a step.)

Constrained dofs (fixed / prescribed) take their half-step velocity from the prescription,
``v_{n+½} = (g(t_{n+1}) − g(t_n))/Δt`` (displacement, hit exactly: u is then set to ``g(t_{n+1})``)
or ``h(t_{n+½})`` (velocity), their whole-step velocity is the mean of the two neighbouring half
steps and their acceleration the difference quotient. The reaction that enforces the motion is
``r = M(a + αv) − (f_ext − f_int)`` there, so ``M a = f_ext − f_int − αMv + r`` holds at every dof.

Bulk viscosity (optional, :mod:`fem.stability.viscosity`): with its quadratic term (material path), a viscous stress
``σ_v`` from the half-step strain rate ``(ε_{n+1} − ε_n)/Δt`` is added to the stress before ``Bᵀ`` (one
SpMV as before; ``State.f_int`` then holds the elastic + viscous force); the linear term alone (a linear material, or ``quadratic=0``) is the force
``(τ b1/Δt)(f_int(u_{n+1}) − f_int(u_n))``, one fused update. It is lagged by half a step,
so the stable step becomes ``(2/ω)(√(1+ξ²) − ξ)`` (:func:`fem.stability.viscosity.damping_ratio_bound`). Its
work goes into the dissipation increment ``ΔW_damp``.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch

__all__ = ["State", "SchemeState", "CentralDifference"]


@dataclass(slots=True)
class SchemeState:
    """The scheme's bookkeeping at one step: what the next step needs besides the solution.

    f_ext : (n_dofs,) external force at ``t`` or None (no loads); reaction : (k,) the reaction at the
    moving constrained dofs (None without them); vh_c : (k,) their next half-step velocity;
    increments : floats ``(ΔW_int, ΔW_ext, ΔW_damp)``, the trapezoid work of the step that led here
    (ΔW_damp: mass damping + viscosity). Bulk viscosity: ``viscous`` is the memo of
    :meth:`fem.stability.viscosity.ViscousTerm.stress`, ``(Δε, Δσ, scal)`` of the step that led here
    (quadratic term, material path), and ``f_prev`` (n_dofs,) the previous step's internal force (linear
    term: its force is ``(τ b1/Δt)(f_int − f_prev)``); None otherwise.
    """

    f_ext: torch.Tensor | None
    reaction: torch.Tensor | None
    vh_c: torch.Tensor | None
    increments: tuple
    viscous: tuple | None = None
    f_prev: torch.Tensor | None = None


@dataclass
class State:
    """The solution at one time step (tensors of the solver's dtype/device), and the scheme's bookkeeping.

    step, t : step number and time (s); u, v, a : (n_dofs,) displacement, velocity, acceleration at ``t``.
    f_int : (n_dofs,) the internal force the scheme applied at ``u``: ``f_int(u)``, plus the viscous
    force when the bulk viscosity's quadratic term is on (material path); the linear term's force is
    kept apart (``scheme.f_prev``). strain, stress : (n_cells, nq, n_strain) at the quadrature points on
    the material path (finite strain: H = ∇₀u and P), None on the linear (sparse K) path.
    scheme : :class:`SchemeState`, what the next step needs (not part of the solution).
    """

    step: int
    t: float
    u: torch.Tensor
    v: torch.Tensor
    a: torch.Tensor
    f_int: torch.Tensor | None = field(default=None, repr=False)
    strain: torch.Tensor | None = field(default=None, repr=False)
    stress: torch.Tensor | None = field(default=None, repr=False)
    scheme: SchemeState | None = field(default=None, repr=False)

    def displacement(self, dim: int) -> torch.Tensor:
        """(n_points, dim) view of u."""
        return self.u.reshape(-1, dim)


class CentralDifference:
    """One explicit step ``State_n -> State_{n+1}`` (see the module docstring).

    forces: an :class:`~fem.discretisation.forces.InternalForce`; mass (n_dofs,) lumped; conditions: a
    :class:`~fem.discretisation.bc.Conditions`; dt > 0; alpha ≥ 0 mass-proportional damping (1/s); viscous: a
    :class:`fem.stability.viscosity.ViscousTerm` (resolved for this dt) or None (no bulk viscosity).
    """

    order = 2

    def __init__(self, forces, mass: torch.Tensor, conditions, dt: float, alpha: float = 0.0, viscous=None):
        self.forces, self.mass, self.cond = forces, mass, conditions
        self.dt, self.alpha = float(dt), float(alpha)
        if viscous is not None and (not viscous.viscosity.active or abs(viscous.dt - self.dt) > 1e-12 * self.dt):
            if viscous.viscosity.active:
                raise ValueError(f"viscous term resolved for dt = {viscous.dt:.9g} s, stepper dt = {self.dt:.9g} s")
            viscous = None
        self.viscous = viscous
        # the quadratic term needs the quadrature points (material path); the linear term alone is a force
        # (τ b1/Δt)(f_int(u_{n+1}) − f_int(u_n)) on either path: one fused update, work from dot products
        self.visc_material = viscous is not None and not forces.linear and viscous.quadratic
        self.visc_linear = viscous is not None and not self.visc_material and viscous.b1 > 0
        if self.visc_material:
            self._assembly = forces.assembly
        c = conditions
        self.c_idx = c.constrained
        self.n_fixed = len(c.fixed_dofs)
        self.moving = self.c_idx[self.n_fixed:]      # displacement- then velocity-prescribed dofs
        self.m_moving = mass[self.moving]
        self.has_c, self.has_moving = len(self.c_idx) > 0, len(self.moving) > 0
        # M⁻¹ with zeros on constrained dofs: fixed dofs then keep a = v = 0 and u unchanged with no
        # per-step indexing (the cheapest way to hold them exactly); moving ones are overwritten.
        self.inv_mass = 1.0 / mass
        self.inv_mass[self.c_idx] = 0.0
        self.neg_inv_mass = -self.inv_mass
        if self.visc_linear:
            self.neg_inv_mass_visc = self.neg_inv_mass * (1.0 + viscous.force_factor)

    # -- start ----------------------------------------------------------------------------------
    def init(self, u0: torch.Tensor, v0: torch.Tensor, t0: float = 0.0, step0: int = 0) -> State:
        """State at t0 from initial fields (n_dofs,); constraints override u0/v0 on their dofs."""
        c = self.cond
        u, v = u0.clone(), v0.clone()
        if self.n_fixed:
            u[c.fixed_dofs] = c.fixed_values
            v[c.fixed_dofs] = 0.0
        if len(c.disp_dofs):
            u[c.disp_dofs] = c.prescribed_displacement(t0)
        vh_c = c.moving_half_step_velocity(t0, t0 + self.dt) if self.has_moving else None
        if self.has_moving:
            v[self.moving] = vh_c       # starts at its first half-step velocity, so a = 0 there at t0
        f_int, eps, sig = self.forces(u)
        f_ext = c.external_force(t0)
        f = -f_int if f_ext is None else f_ext - f_int
        a = f * self.inv_mass - self.alpha * v
        reaction = None
        if self.has_moving:
            a[self.moving] = 0.0
            reaction = self._reaction(a, v, f)
        scheme = SchemeState(f_ext=f_ext, reaction=reaction, vh_c=vh_c, increments=(0.0, 0.0, 0.0))
        return State(step=step0, t=t0, u=u, v=v, a=a, f_int=f_int, strain=eps, stress=sig, scheme=scheme)

    def _reaction(self, a, v, f):
        if not self.has_moving:
            return None
        mv = self.moving
        return self.m_moving * (a[mv] + self.alpha * v[mv]) - f[mv]

    def constraint_force(self, s: State, dofs: torch.Tensor) -> torch.Tensor:
        """(k,) force the constraints apply to the body at ``dofs`` (k,) in the state ``s``:
        ``M(a + αv) + f_int − f_ext`` there, ``f_int`` with the bulk viscosity's force (the linear term's
        ``c(f_int − f_prev)`` added). Equals ``s.scheme.reaction`` on the moving dofs; ``f_int − f_ext``
        on fixed ones (``a = v = 0``); on a free dof it is the residual of ``M a = f_ext − f_int − αMv``, 0
        to round-off."""
        f = s.f_int[dofs]
        f_prev = s.scheme.f_prev if s.scheme is not None else None
        if self.visc_linear and f_prev is not None:
            f = f + self.viscous.force_factor * (f - f_prev[dofs])
        r = self.mass[dofs] * (s.a[dofs] + self.alpha * s.v[dofs]) + f
        f_ext = s.scheme.f_ext if s.scheme is not None else None
        return r if f_ext is None else r - f_ext[dofs]

    # -- one step -------------------------------------------------------------------------------
    def step(self, s: State) -> State:
        """State_{n+1} from State_n; tensors of ``s`` are not modified."""
        dt, c = self.dt, self.cond
        n1 = s.step + 1
        t1 = n1 * dt
        vh = torch.add(s.v, s.a, alpha=0.5 * dt)
        if self.has_moving:
            vh[self.moving] = s.scheme.vh_c
        u1 = torch.add(s.u, vh, alpha=dt)
        if len(c.disp_dofs):
            u1[c.disp_dofs] = c.prescribed_displacement(t1)
        memo = None
        if self.visc_material:
            eps, sig = self.forces.strain_stress(u1)
            sv, w_visc, memo = self.viscous.stress(s.strain, s.stress, eps, sig, self._assembly.qp_weights,
                                                   s.scheme.viscous)
            f_int = self._assembly.internal_force(sig + sv)
        else:
            f_int, eps, sig = self.forces(u1)
        f_ext = c.external_force(t1)
        if self.visc_linear:
            # total force (1+c) K u_{n+1} − c K u_n, c = τ b1/Δt, in one fused op; f_int stays K u
            cf = self.viscous.force_factor
            if f_ext is None:
                a1 = torch.add(f_int, s.f_int, alpha=-cf / (1.0 + cf)).mul_(self.neg_inv_mass_visc)
            else:
                a1 = torch.add(f_ext, f_int, alpha=-(1.0 + cf)).add_(s.f_int, alpha=cf).mul_(self.inv_mass)
        elif f_ext is None:
            a1 = f_int * self.neg_inv_mass
        else:
            a1 = (f_ext - f_int).mul_(self.inv_mass)
        v1 = torch.add(vh, a1, alpha=0.5 * dt)
        if self.alpha:
            v1.mul_(1.0 / (1.0 + 0.5 * self.alpha * dt))
            a1.sub_(v1, alpha=self.alpha)
        vh_c, reaction = None, None
        if self.has_moving:
            vh_c = c.moving_half_step_velocity(t1, t1 + dt)
            vm = vh[self.moving]
            v1[self.moving] = 0.5 * (vm + vh_c)
            a1[self.moving] = (vh_c - vm) / dt
            f_m = f_int[self.moving]
            if self.visc_linear:
                f_m = f_m + self.viscous.force_factor * (f_m - s.f_int[self.moving])
            f = -f_m if f_ext is None else f_ext[self.moving] - f_m
            reaction = self.m_moving * (a1[self.moving] + self.alpha * v1[self.moving]) - f
        inc = self._increments(s, vh, f_int, f_ext, v1, reaction)
        if self.visc_material:   # f_int held elastic + viscous: split the trapezoid work
            inc = (inc[0] - w_visc, inc[1], inc[2] + w_visc)
        scheme = SchemeState(f_ext=f_ext, reaction=reaction, vh_c=vh_c, increments=inc, viscous=memo,
                             f_prev=s.f_int if self.visc_linear else None)
        return State(step=n1, t=t1, u=u1, v=v1, a=a1, f_int=f_int, strain=eps, stress=sig, scheme=scheme)

    def _increments(self, s, vh, f_int, f_ext, v1, reaction) -> tuple[float, float, float]:
        """Trapezoid work of the step ``½ Δu·(f_n + f_{n+1})`` for internal, external (loads and
        reactions) and damping forces, with ``Δu = Δt v_{n+½}``: floats (ΔW_int, ΔW_ext, ΔW_damp);
        ΔW_damp includes the viscous force's work (linear path: ``f_v,n+1 = c(f_{n+1} − f_n)``, so
        ``½Δu·(f_v,n + f_v,n+1) = ½Δt c v_{n+½}·(f_{n+1} − f_{n−1})``, from dot products alone)."""
        h = 0.5 * self.dt
        w_ext, w_damp = self._other_work(s, vh, f_ext, v1, reaction)
        if not self.visc_linear:
            # two dot products instead of one of the sum: no (n_dofs,) temporary f_n + f_{n+1}
            return (h * (float(torch.dot(vh, s.f_int)) + float(torch.dot(vh, f_int))), w_ext, w_damp)
        d1, d0 = float(torch.dot(vh, f_int)), float(torch.dot(vh, s.f_int))
        d2 = d0 if s.scheme.f_prev is None else float(torch.dot(vh, s.scheme.f_prev))
        return (h * (d0 + d1), w_ext, w_damp + h * self.viscous.force_factor * (d1 - d2))

    def _other_work(self, s, vh, f_ext, v1, reaction) -> tuple[float, float]:
        h = 0.5 * self.dt
        w_ext = w_damp = 0.0
        f_ext0 = s.scheme.f_ext
        if f_ext is not None or f_ext0 is not None:
            fe = f_ext0 if f_ext is None else (f_ext if f_ext0 is None else f_ext0 + f_ext)
            w_ext = h * float(torch.dot(vh, fe))
        if reaction is not None:
            w_ext += h * float(torch.dot(vh[self.moving], s.scheme.reaction + reaction))
        if self.alpha:
            w_damp = h * self.alpha * float(torch.dot(vh, self.mass * (s.v + v1)))
        return w_ext, w_damp
