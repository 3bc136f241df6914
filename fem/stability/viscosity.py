"""Bulk viscosity for the explicit scheme: a linear + quadratic viscous stress aimed at the top modes.

Why (``docs/stability.md``): the certificate proves the *linearised* scheme stable at every state, but a
law that stiffens along the motion steepens waves into shocks, and the undamped central-difference
scheme feeds that energy into the top (period ≈ 2 steps) modes, where an alternating tangent pumps it
further. Explicit codes carry bulk viscosity for this reason.

Conventions of the codes (1D, element length ℓ, wave speed c, strain rate ε̇):

- Abaqus/Explicit: ``p = b1 ρ c ℓ ε̇_vol + ρ (b2 ℓ)² ε̇_vol min(0, ε̇_vol)``, defaults b1 = 0.06,
  b2 = 1.2; the top mode then has the damping ratio ``ξ = b1 − b2² (ℓ/c) min(0, ε̇_vol)`` and the
  stable step becomes ``(2/ω)(√(1+ξ²) − ξ)``.
- LS-DYNA (``*CONTROL_BULK_VISCOSITY``): ``q = ρ ℓ (Q1 ℓ ε̇_kk² − Q2 c ε̇_kk)`` for ε̇_kk < 0, Q1 = 1.5
  (quadratic), Q2 = 0.06 (linear). Q1 is the *square* of Abaqus's b2 (1.5 ≈ 1.2² = 1.44).

Here (Abaqus's names; defaults ``linear = 0.06``, ``quadratic = 0.0``: the linear term only, see
"Defaults" below; ``BulkViscosity(quadratic=1.2)`` is Abaqus's b2), with ``τ = 2/ω_b`` —
ω_b the certified bound of the top frequency, which is ``2c/ℓ`` for a uniform bar, so ``τ = ℓ/c`` —
the viscous stress at a quadrature point is ::

    σ_v = (τ/Δt) (b1 + q·s) Δσ,    q = min(q_max, b2² τ |ε̇|),    Δσ = σ(ε_{n+1}) − σ(ε_n)

where ``Δσ/Δt = C̄ ε̇`` with ``C̄ = ∫₀¹ C(ε_n + θΔε) dθ`` the material's own secant tangent along the step
(so the viscous stress is ``τ(b1 + q s) C̄ ε̇``: Rayleigh stiffness-proportional damping with the
current stiffness; in 1D at the stiffest state it is Abaqus's ``b1 ρ c ℓ ε̇`` and ``ρ (b2 ℓ)² |ε̇| ε̇``),
``|ε̇|`` the Mandel norm of ``Δε/Δt``, and ``s ∈ {0, 1}`` switches the quadratic term on where the
material **stiffens along the motion**: in 1D, the secant modulus along the step ``k = Δε·Δσ/|Δε|²`` is
larger than the previous step's; in general ``(Δε₁·Δε₀)·Δε₀·(C̄₁ − C̄₀)Δε₁ > 0``, computed from the two
steps' increments alone (:meth:`ViscousTerm.stiffening`). That is where a wave steepens: in compression
for an ordinary solid (as the codes' ``min(0, ε̇_vol)``), in *tension* for a rubber past its inflection
(λ ≳ 2.5 for Treloar's). A linear law never stiffens (the test is exactly 0 for any symmetric constant
C), so it gets the linear term only, and the linear (sparse K) path and the material path agree. The rate is the half-step one
``ε̇_{n+½} = (ε_{n+1} − ε_n)/Δt``: the viscous force at ``t_{n+1}`` is lagged by half a step, as in
the codes, which keeps the scheme explicit.

What is proven (the linearisation, viscous coefficients frozen). For a potential law ``C̄ ⪯ C_b``, so
the viscous force is ``D v`` with ``0 ⪯ D ⪯ β_max K_b``, ``β_max = τ (b1 + q_max)``. For
``M ü + D u̇ + K u = 0`` with the damping force lagged (``M(v_{n+½} − v_{n−½}) = −Δt(K u_n + D v_{n−½})``)
the quantity ``½ v_{n+½}ᵀ(M − Δt²K/4 − Δt D/2) v_{n+½} + ½ ūᵀ K ū`` (``ū`` the mid-step displacement)
never increases (its change is ``−(Δt/4)(v_{n−½}+v_{n+½})ᵀD(v_{n−½}+v_{n+½})``), so the scheme is
stable when ``M − Δt²K/4 − ΔtD/2 ⪰ 0``. With ``K ⪯ ω_b² M`` and ``D ⪯ β_max ω_b² M`` that holds for
``Δt ≤ (2/ω_b)(√(1+ξ_b²) − ξ_b)``, ``ξ_b = β_max ω_b/2 = b1 + q_max`` — :func:`damping_ratio_bound`.
This is why the quadratic coefficient is **capped** (``q_max``, default 0.1): uncapped, ``q`` grows with
the strain rate and no step would be proven. The damping costs ``√(1+ξ_b²) − ξ_b``: 0.942 of the undamped
certified step at the defaults (ξ_b = 0.06, linear term only), 0.853 with the quadratic term on
(``quadratic > 0``: ξ_b = b1 + cap = 0.16).

Defaults: the linear term alone (b1 = 0.06, quadratic 0). Measured (``bench/nonlinear_stability.py``,
docs/stability.md) it completes every stiff scenario; it is damping aimed at the highest frequencies
(ξ = b1 ω/ω_b, stiffness-proportional with the law's own secant stiffness, so it acts in tension too);
it costs 0–15 % per step (≤ 10 % from 1e4 dofs: a force-level update, no per-point passes) where the
quadratic term costs +26–150 %; and its proven ξ_b = 0.06 leaves 0.942× the undamped certified step
instead of 0.853× (fewer steps). Turn the quadratic term on (``BulkViscosity(quadratic=1.2)``, deck
``[solver] bulk_viscosity_quadratic = 1.2``; LS-DYNA's Q1 = 1.5 is ``quadratic = √1.5 ≈ 1.22``) for
shock-dominated runs — impacts, fast pulls of a stiffening law — where a front should be spread over a
few elements regardless of the linear term's ω-proportional damping.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

__all__ = ["BulkViscosity", "ViscousTerm", "damping_ratio_bound", "damped_time_step", "step_factor",
           "DEFAULT_BULK_VISCOSITY"]


def step_factor(xi: float) -> float:
    """``√(1+ξ²) − ξ``: the fraction of ``2/ω`` left by a damping ratio ξ ≥ 0 (lagged damping force)."""
    if not (xi >= 0 and math.isfinite(xi)):
        raise ValueError(f"damping ratio xi must be a finite number >= 0, got {xi!r}")
    return 1.0 / (math.sqrt(1.0 + xi * xi) + xi)


@dataclass(frozen=True)
class BulkViscosity:
    """Coefficients of the bulk viscosity (module docstring). All dimensionless.

    linear : b1 ≥ 0 (Abaqus b1, LS-DYNA Q2), the damping ratio it gives the top certified mode.
    quadratic : b2 ≥ 0 (Abaqus b2, its default 1.2; LS-DYNA's Q1 = b2², its default 1.5), acts where the
        law stiffens along the motion; default 0 (off: the linear term alone, module docstring "Defaults").
    cap : q_max ≥ 0, the largest damping ratio the quadratic term may add (keeps the step proven); counts
        in ξ_b only when ``quadratic > 0``.
    enabled : False turns the whole thing off (the plain undamped scheme).
    """

    linear: float = 0.06
    quadratic: float = 0.0
    cap: float = 0.1
    enabled: bool = True

    def __post_init__(self):
        for name in ("linear", "quadratic", "cap"):
            v = getattr(self, name)
            if isinstance(v, bool) or not (isinstance(v, (int, float)) and v >= 0 and math.isfinite(v)):
                raise ValueError(f"bulk viscosity {name} must be a finite number >= 0, got {v!r}")
        if not isinstance(self.enabled, bool):
            raise ValueError(f"bulk viscosity enabled must be true or false, got {self.enabled!r}")

    @property
    def active(self) -> bool:
        """True when it adds any force."""
        return self.enabled and (self.linear > 0 or (self.quadratic > 0 and self.cap > 0))

    @classmethod
    def off(cls) -> "BulkViscosity":
        return cls(enabled=False)

    @classmethod
    def coerce(cls, value) -> "BulkViscosity":
        """A BulkViscosity from None/True (defaults), False (off), a dict of fields, or itself."""
        if value is None or value is True:
            return cls()
        if value is False:
            return cls.off()
        if isinstance(value, cls):
            return value
        if isinstance(value, dict):
            unknown = set(value) - {"linear", "quadratic", "cap", "enabled"}
            if unknown:
                raise ValueError(f"bulk viscosity keys are linear, quadratic, cap, enabled; got {sorted(unknown)}")
            return cls(**value)
        raise ValueError(f"bulk_viscosity must be True/False/None, a dict or a BulkViscosity, got {value!r}")


DEFAULT_BULK_VISCOSITY = BulkViscosity()


def damping_ratio_bound(viscosity: BulkViscosity | None) -> float:
    """ξ_b: a proven upper bound of the damping ratio the viscosity gives any mode of the linearisation,
    relative to the certified top frequency ω_b (module docstring): ``b1 + q_max`` with the quadratic term,
    ``b1`` without it (``quadratic == 0``: 0.06 at the defaults), 0 when off/None.

    Pass it as ``damping=`` to :func:`fem.stability.timestep.certified_time_step` (or multiply ``2/ω_b`` by
    :func:`step_factor`) to get the damping-aware certified step.
    """
    if viscosity is None or not viscosity.active:
        return 0.0
    q = viscosity.cap if viscosity.quadratic > 0 else 0.0
    return float(viscosity.linear + q)


def damped_time_step(timestep, viscosity: BulkViscosity | None):
    """The certified :class:`fem.stability.timestep.TimeStep` made damping-aware: ``dt = safety·(2/ω_b)(√(1+ξ_b²) − ξ_b)``
    with ξ_b = :func:`damping_ratio_bound` (a new TimeStep; ``details["undamped_dt"]`` keeps the old step,
    ``details["bulk_viscosity"]`` the coefficients). Unchanged when the viscosity is off or None."""
    from dataclasses import replace

    from fem.stability.timestep import stable_step

    xi = damping_ratio_bound(viscosity)
    if xi == 0.0:
        return timestep
    # a lagged damping the step already carried adds: λ_max(M⁻¹(D₁ + D₂)) ≤ λ_max(M⁻¹D₁) + λ_max(M⁻¹D₂)
    total = xi + float(timestep.damping)
    dt = stable_step(timestep.omega_max, total, timestep.safety)
    v = viscosity
    details = {**timestep.details, "undamped_dt": timestep.dt,
               "bulk_viscosity": {"linear": v.linear, "quadratic": v.quadratic, "cap": v.cap, "xi_bound": xi}}
    extra = {}
    if getattr(timestep, "reason", ""):
        extra["reason"] = (f"{timestep.reason}; x{step_factor(total):.3f} for the bulk viscosity "
                           f"(proven damping ratio {total:.3g})")
    return replace(timestep, dt=dt, damping=total, details=details, **extra)


class ViscousTerm:
    """The viscous stress of one run: coefficients resolved against ω_b and Δt.

    viscosity : :class:`BulkViscosity`; omega : ω_b (rad/s) the certified top-frequency bound (τ = 2/ω_b;
    without a certificate pass ``2/dt``); dt : the step (s).

    :meth:`stress` gives the viscous stress of a step with the quadratic term on (material path).
    ``force_factor`` = τ b1/Δt, the factor of ``f_int(u_{n+1}) − f_int(u_n)`` that is the linear term's
    force when it acts alone (either path: the scheme applies it as a force, not a stress).
    """

    def __init__(self, viscosity: BulkViscosity, omega: float, dt: float):
        if not (omega > 0 and math.isfinite(omega)):
            raise ValueError(f"ViscousTerm needs a finite top frequency omega > 0, got {omega!r}")
        self.viscosity = v = viscosity
        self.omega, self.dt = float(omega), float(dt)
        self.tau = 2.0 / self.omega
        self.b1 = float(v.linear) if v.active else 0.0
        self.b2sq = float(v.quadratic) ** 2 if v.active else 0.0
        self.cap = float(v.cap)
        self.quadratic = self.b2sq > 0 and self.cap > 0
        self.force_factor = self.tau * self.b1 / self.dt

    @property
    def xi_bound(self) -> float:
        return damping_ratio_bound(self.viscosity)

    def stress(self, eps0, sig0, eps1, sig1, w, memo=None):
        """One step ``n → n+1`` at the quadrature points, with the quadratic term on (``self.quadratic``;
        the linear term alone is a force, ``force_factor``; ValueError otherwise).

        eps0, sig0, eps1, sig1 : (n_cells, nq, n) strain and (elastic) stress at t_n and t_{n+1};
        w : (n_cells, nq) quadrature weights; memo : what this method returned for the previous step
        (None at the first step). Returns ``(σ_v, work, memo)``: the viscous stress (n_cells, nq, n) at
        t_{n+1}, the trapezoid work ``½ Σ w Δε·(σ_v,n + σ_v,n+1)`` of the viscous stress over the step
        (float, exact: ``Δu·Bᵀ(wσ) = Σ w Δε·σ``), and ``memo = (Δε, Δσ, scal)`` with scal
        (n_cells, nq, 3) = ``[γ, |Δε|², Δε·Δσ]`` (``σ_v = γ Δσ``), the viscous state a checkpoint keeps.
        """
        if not self.quadratic:
            raise ValueError("ViscousTerm.stress is the quadratic term's stress; the linear term alone is the "
                             f"force force_factor * (f_int(u_n+1) - f_int(u_n)) (quadratic={self.viscosity.quadratic:g}, "
                             f"cap={self.cap:g})")
        dsig = sig1 - sig0
        de = eps1 - eps0
        r2 = (de * de).sum(-1)
        p11 = (de * dsig).sum(-1)
        # q = min(cap, b2² τ |ε̇|), |ε̇| = |Δε|/Δt; on where the law stiffened along the motion
        q = r2.sqrt().mul_(self.b2sq * self.tau / self.dt).clamp_max_(self.cap)
        if memo is None:
            q.zero_()
            c10 = None
        else:
            de0, ds0, scal0 = memo
            a = (de * de0).sum(-1)
            c10 = (de * ds0).sum(-1)
            cross = (de0 * dsig).sum(-1) - c10
            q.mul_(a * cross > 1e-9 * (r2 * scal0[..., 2].abs() + scal0[..., 1] * p11.abs()))
        gamma = q.add_(self.b1).mul_(self.tau / self.dt)
        # Δε₁·σ_v,n = γ₀ (Δε₁·Δσ₀); Δε₁·σ_v,n+1 = γ₁ (Δε₁·Δσ₁)
        wv = gamma * p11 if c10 is None else gamma * p11 + memo[2][..., 0] * c10
        work = 0.5 * float((wv * w).sum())
        return dsig * gamma.unsqueeze(-1), work, (de, dsig, torch.stack((gamma, r2, p11), dim=-1))

    @staticmethod
    def stiffening(de0, ds0, de1, ds1):
        """(n_cells, nq) bool: the law stiffened from step 0 to step 1 along the motion.

        ``S = (Δε₁·Δε₀)(Δε₀·Δσ₁ − Δε₁·Δσ₀) > 0``. With ``Δσᵢ = C̄ᵢΔεᵢ`` (secant tangents),
        ``Δε₀·Δσ₁ − Δε₁·Δσ₀ = Δε₀·(C̄₁ − C̄₀)Δε₁``, exactly 0 for a linear law (symmetric C, any
        directions); for collinear steps ``Δε₁ = αΔε₀`` it is ``α|Δε₀|²``× the growth of the secant
        modulus, so in 1D ``S > 0`` ⇔ ``k₁ > k₀``, ``k = ΔεΔσ/Δε²``. A relative threshold of 1e-9
        (against ``|Δε₁|²|Δε₀·Δσ₀| + |Δε₀|²|Δε₁·Δσ₁|``) keeps round-off from switching it on.
        :meth:`stress` evaluates the same test from the dot products it needs anyway.
        """
        a = (de1 * de0).sum(-1)
        cross = (de0 * ds1).sum(-1) - (de1 * ds0).sum(-1)
        size = (de1 * de1).sum(-1) * (de0 * ds0).sum(-1).abs() + (de0 * de0).sum(-1) * (de1 * ds1).sum(-1).abs()
        return a * cross > 1e-9 * size

    def __repr__(self) -> str:
        v = self.viscosity
        return (f"ViscousTerm(linear={v.linear:g}, quadratic={v.quadratic:g}, cap={v.cap:g}, "
                f"tau={self.tau:.4g} s, xi_bound={self.xi_bound:g})")
