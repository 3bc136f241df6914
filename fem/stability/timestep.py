"""Stable time steps for the central-difference scheme: certified, measured and exact.

- :func:`certified_time_step` — a **proven** stable step from a material's stiffness certificate
  (``C ⪯ C_b`` at every strain, or a scalar ``L`` used as ``C_b = L·I``). Since the tangent
  stiffness at any state obeys ``K(u) ⪯ K_b = Σ_e ∫ Bᵀ C_b B dV``, ``ω_max(u)² ≤ λ_max(M⁻¹K_b)``
  for every state the body can reach, and the step below holds for the whole run. Two ways to bound
  ``λ_max(M⁻¹K_b)`` (:mod:`fem.stability.eigenbounds`): ``"element"`` (``max_e λ_max(M_e⁻¹K_b,e)``, cheap,
  reports the controlling element) and ``"global"`` (Lanczos once, then proven by an LDLᵀ inertia
  count, :mod:`fem.stability.inertia`; tight; falls back to the element form — and says so in ``details`` —
  when the proof does not go through).
- :func:`choose_certified_step` — what ``fem.solve(..., dt="certified")`` uses: the global form when
  its one-off cost is small against the run (under ``budget`` = 5 % of the estimated run time, or
  under ``always_s`` = 1 s whatever the run, or — Lanczos being cheap — when the proof costs at most
  half the run time the tighter step saves), the element form otherwise; ``TimeStep.reason`` says
  which and why in one line. Cost and run time are *estimates* (:mod:`fem.stability.stepcost`) used for the
  decision only; both forms are proven, so a wrong estimate costs time, never safety.
- :func:`critical_time_step` — the critical step *now*, at a state u: top eigenvalue of
  ``M⁻¹K(u)`` matrix-free from Jacobian-vector products (:mod:`fem.stability.tangent`). An **estimate**.
- :func:`exact_time_step` — dense generalized eigen-solve for a constant C: the oracle for tests and
  benchmarks (small meshes only).

Step from a frequency (:func:`stable_step`): ``Δt = safety · (2/ω) (√(1+ξ²) − ξ)``, ξ the fraction of
critical damping in the top mode. ξ > 0 applies to a damping force lagged by half a step (``v_{n−½}``;
Belytschko, Liu & Moran, Box 6.1). The solver (:mod:`fem.solver.central_difference`) treats the two
dampings it has differently: the mass-proportional damping ``C = αM`` (``ξ = α / (2ω)``) is centred,
where the limit stays ``2/ω`` for any ξ ≥ 0, so it adds nothing to ξ; the bulk viscosity
(:mod:`fem.stability.viscosity`, on by default) is lagged, so the solver makes the certified step
damping-aware with its proven top-mode ratio ξ_b (:func:`fem.stability.viscosity.damped_time_step`:
``√(1+ξ_b²) − ξ_b`` = 0.942 of the undamped step at the default ``linear = 0.06``).

Safety: the default ``safety = 1.0`` returns the certificate itself (the proven limit). Anything
below 1 is a choice of the caller (0.9 is common, to absorb what the model leaves out — contact,
element distortion during the run in a finite-strain code); a value above 1 is refused, since the
result would no longer be certified.

What "certified" means — and does not. Proven: ``λ_max(M⁻¹K(u)) ≤ λ_bound`` at every state u, so
the central-difference scheme *linearised about any state* (frozen tangent) is stable at the step
returned, up to the floating-point caveat of :mod:`fem.stability.eigenbounds` (the bound is proven for the
matrices as computed in float64, with a relative slack of 1e-12). Not proven: energy stability of
the *nonlinear* iteration. A stiffening law in the top (period-2) mode sees an alternating tangent,
and Verlet's nonlinear resonances (ωΔt = √2, √3) can pump energy below the linear limit: a bar with
tangent 1e6 → 2e6 Pa blows up at 0.7× the certified step within 12k steps
(``bench/timestep_nonlinear.py``). Keep the solver's energy-balance check on for nonlinear laws.

Fixed degrees of freedom only lower the top eigenvalue (Cauchy interlacing: the constrained
``M⁻¹K`` is a principal submatrix of the symmetric ``M^-½ K M^-½``), so computing on the free
mesh, as done here, is conservative.
"""
from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from functools import partial

import numpy as np
import torch

from fem.stability.decision import SAVINGS_SHARE, StepDecision, render_reason, seconds
from fem.stability.eigenbounds import element_eigen_upper, global_eigen_upper
from fem.materials.protocol import bound_matrix
from fem.stability.tangent import TangentOperator, top_eigenvalue

__all__ = ["TimeStep", "CertifiedStep", "stable_step", "certified_time_step", "choose_certified_step",
           "critical_time_step", "exact_time_step", "CERTIFIED_METHODS"]

log = logging.getLogger(__name__)

#: Largest number of dofs :func:`exact_time_step` accepts by default (a dense n×n eigen-solve).
EXACT_MAX_DOFS = 8000
#: what :func:`choose_certified_step` accepts as ``method``
CERTIFIED_METHODS = ("auto", "global", "element")
#: defaults of the automatic choice: global form when it costs < BUDGET × the run, or < ALWAYS_S seconds
BUDGET = 0.05
ALWAYS_S = 1.0
#: ... or, over those, when its proof costs at most SAVINGS_SHARE of the run time its step saves (predicted by
#: Lanczos; :mod:`fem.stability.decision`)


@dataclass
class TimeStep:
    """A stable-step computation.

    dt : the step (s); omega_max : the bound or estimate of the top frequency (rad/s) it comes from.
    method : ``"element" | "global"`` (certified) or ``"lanczos" | "power"`` (measured).
    certified : True only for proven bounds. controlling_element : cell id (element form: the cell
    with the largest element eigenvalue; global/measured: the cell holding the largest share of the
    top mode's strain energy, when known), controlling_centroid : its centroid (tuple).
    damping : ξ used; safety : factor applied; details : how it was obtained (dict of plain values).
    reason : one readable line saying which form was used and why (:func:`choose_certified_step`;
    empty for the other functions). decision : the :class:`~fem.stability.decision.StepDecision` that
    line renders (:func:`choose_certified_step` only; None otherwise).
    """

    dt: float
    omega_max: float
    method: str
    certified: bool
    controlling_element: int | None = None
    controlling_centroid: tuple | None = None
    damping: float = 0.0
    safety: float = 1.0
    details: dict = field(default_factory=dict)
    reason: str = ""
    decision: StepDecision | None = None

    def __str__(self) -> str:
        kind = "certified" if self.certified else "estimate"
        where = "" if self.controlling_element is None else (
            f", element {self.controlling_element} at ({', '.join(f'{c:.4g}' for c in self.controlling_centroid)})")
        return f"dt = {self.dt:.6g} s ({kind}, {self.method}; omega_max = {self.omega_max:.6g} rad/s{where})"


@dataclass(frozen=True)
class CertifiedStep:
    """How ``fem.solve`` chooses the form of the certified step (:func:`choose_certified_step`).

    method : ``"auto"`` (default: the global form when it is cheap against the run), ``"global"`` or
    ``"element"``. budget : fraction of the estimated run time the global form may take (0.05).
    always_s : seconds the global form may always take, whatever the run (1.0).
    ``CertifiedStep.coerce("global")`` makes one from a method name; None gives the defaults.
    """

    method: str = "auto"
    budget: float = BUDGET
    always_s: float = ALWAYS_S

    def __post_init__(self):
        if self.method not in CERTIFIED_METHODS:
            raise ValueError(f"certified step method must be one of {CERTIFIED_METHODS}, got {self.method!r}")
        for name in ("budget", "always_s"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not (v >= 0 and math.isfinite(v)):
                raise ValueError(f"CertifiedStep({name}=...) must be a finite number >= 0, got {v!r}")

    @classmethod
    def coerce(cls, value) -> "CertifiedStep":
        """A CertifiedStep from None (defaults), a method name, or itself."""
        if value is None:
            return cls()
        if isinstance(value, cls):
            return value
        if isinstance(value, str):
            return cls(method=value)
        raise ValueError(f"certified must be None, one of {CERTIFIED_METHODS} or a CertifiedStep, got {value!r}")


def stable_step(omega: float, damping: float = 0.0, safety: float = 1.0) -> float:
    """``safety · (2/ω)(√(1+ξ²) − ξ)`` (s); ``inf`` for ω = 0. ω ≥ 0 rad/s, ξ ≥ 0, 0 < safety ≤ 1."""
    _check_damping_safety(damping, safety)
    if not omega >= 0:
        raise ValueError(f"omega must be >= 0, got {omega}")
    if omega == 0.0:
        return math.inf
    xi = float(damping)
    # 1/(√(1+ξ²) + ξ) == √(1+ξ²) − ξ without cancellation for large ξ
    return safety * (2.0 / omega) / (math.sqrt(1.0 + xi * xi) + xi)


def _check_damping_safety(damping, safety) -> None:
    if not (damping >= 0 and math.isfinite(damping)):
        raise ValueError(f"damping (fraction of critical, xi) must be a finite number >= 0, got {damping!r}")
    if not 0 < safety <= 1:
        raise ValueError(f"safety must lie in (0, 1] (above 1 the step is no longer certified), got {safety!r}")


def _centroid(assembly, e: int | None):
    return None if e is None else tuple(float(c) for c in assembly.cell_centroids()[e])


def _energy_share_cell(assembly, c_mat, x: np.ndarray) -> int:
    """Cell with the largest strain energy ``x_eᵀ K_e x_e`` in the mode x (n_dofs,)."""
    k = assembly.cell_stiffness(c_mat)
    xe = torch.as_tensor(x, dtype=k.dtype, device=k.device)[assembly.cell_dofs]
    return int(torch.argmax(torch.einsum("ci,cij,cj->c", xe, k, xe)).item())


def certified_time_step(assembly, bound, density, *, method: str = "element", damping: float = 0.0,
                        safety: float = 1.0, delta: float = 1e-6, max_delta: float = 1e-2) -> TimeStep:
    """A proven stable step for every state, from a stiffness certificate (module docstring).

    assembly : :class:`fem.discretisation.assembly.Assembly`. bound : (n, n) symmetric ``C_b`` (tensor) or a float
    ``L`` (→ ``L·I``), n = ``assembly.n_strain``. density : scalar or (n_cells,) kg/m³ (> 0).
    method : ``"element"`` or ``"global"``. damping : ξ ≥ 0. safety : (0, 1], default 1.0 (the bound).
    delta, max_delta : relative margins tried by the global proof (:func:`fem.stability.eigenbounds.global_eigen_upper`).

    Returns a :class:`TimeStep` with ``certified=True``. ``details`` holds ``lambda_element`` (and for
    the global form ``lambda_ritz``, ``delta``, ``proof``, or ``fallback`` with the reason), and the
    wall times ``element_s`` (and ``global_s``).
    """
    if method not in ("element", "global"):
        raise ValueError(f"method must be 'element' or 'global', got {method!r}")
    _check_damping_safety(damping, safety)
    c_b, elem, details = _element_form(assembly, bound, density)
    if method == "element":
        return _timestep(assembly, elem.value, "element", elem.worst, damping, safety, details)
    g = _global_form(assembly, c_b, density, elem, details, delta=delta, max_delta=max_delta)
    return _timestep(assembly, *_pick(assembly, c_b, elem, g), damping, safety, details)


def _element_form(assembly, bound, density):
    """(C_b tensor, ElementBound, details dict) — the element form, always computed first (it is cheap,
    it caps the global proof and it is the fallback)."""
    t0 = time.perf_counter()
    c_b = bound_matrix(bound, assembly.n_strain, dtype=torch.float64)
    elem = element_eigen_upper(assembly.cell_stiffness(c_b), assembly.cell_lumped_mass(density))
    details = {"lambda_element": elem.value, "bound": "scalar" if _is_scalar(bound) else "matrix",
               "n_dofs": assembly.n_dofs, "n_cells": assembly.n_cells, "element_s": time.perf_counter() - t0}
    return c_b, elem, details


def _global_form(assembly, c_b, density, elem, details, *, delta, max_delta, deadline=None, before_proof=None):
    """Run :func:`fem.stability.eigenbounds.global_eigen_upper` (capped at the element bound) and record what it
    did in ``details``; returns its :class:`~fem.stability.eigenbounds.GlobalBound`."""
    t0 = time.perf_counter()
    g = global_eigen_upper(assembly.stiffness_matrix(c_b), assembly.lumped_mass(density).cpu().numpy(),
                           delta=delta, max_delta=max_delta, cap=elem.value, deadline=deadline,
                           before_proof=before_proof)
    details.update(lambda_ritz=g.ritz, tried=[(d, r) for d, r in g.tried], global_s=time.perf_counter() - t0,
                   lanczos_products=g.products, lanczos_s=g.lanczos_s, proof_s=g.proof_s)
    if g.proven:
        p = g.proof
        details.update(delta=g.delta, proof={"method": p.method, "shift": p.shift, "residual_bound": p.residual_bound,
                                             "extra": p.extra, "min_pivot": p.min_pivot})
    elif g.capped:  # the element bound is within δ of the Lanczos estimate: nothing to gain
        details["fallback"] = f"element form used: it is already as tight ({g.tried[-1][1]})"
        log.info("certified_time_step: %s", details["fallback"])
    elif g.declined:
        details["fallback"] = f"element form used: {g.tried[-1][1]}"
        log.info("certified_time_step: %s", details["fallback"])
    else:
        reason = g.tried[-1][1] if g.tried else "no proof attempted"
        details["fallback"] = f"global bound not proven ({reason}); element form used"
        (log.info if g.timed_out else log.warning)("certified_time_step: %s", details["fallback"])
    return g


def _pick(assembly, c_b, elem, g):
    """(λ, method, controlling cell) from the global result, or the element form when it is not proven."""
    if g.proven:
        return g.upper, "global", _energy_share_cell(assembly, c_b, g.vector)
    return elem.value, "element", elem.worst


def _timestep(assembly, lam, used, cell, damping, safety, details, decision=None) -> TimeStep:
    omega = math.sqrt(max(lam, 0.0))
    return TimeStep(stable_step(omega, damping, safety), omega, used, True, cell, _centroid(assembly, cell),
                    float(damping), float(safety), details, "" if decision is None else render_reason(decision),
                    decision)


def _pays_for_itself(proof_s, run_s, dt_elem, damping, safety, delta, choice):
    """``θ -> None | reason`` for :func:`fem.stability.eigenbounds.global_eigen_upper`: from the Lanczos estimate θ,
    the global step ``dt_g`` and the run time it saves, ``run_s · (1 − dt_elem/dt_g)``; go on with the
    proof only when its estimated cost is at most ``SAVINGS_SHARE`` of that saving."""
    def decide(theta: float):
        dt_g = stable_step(math.sqrt(theta * (1.0 + delta)), damping, safety)
        saved = run_s * max(0.0, 1.0 - dt_elem / dt_g)
        choice.update(saved_s=saved, dt_predicted=dt_g)
        if proof_s <= SAVINGS_SHARE * saved:
            return None
        return (f"the global form is over the budget and its proof would take an estimated {seconds(proof_s)}, "
                f"more than {100 * SAVINGS_SHARE:g} % of the {seconds(saved)} its step would save")
    return decide


def _check_choice(method, damping, safety, budget, always_s, t_end, n_steps) -> None:
    """ValueError naming the first argument of :func:`choose_certified_step` out of its range."""
    if method not in CERTIFIED_METHODS:
        raise ValueError(f"method must be one of {CERTIFIED_METHODS}, got {method!r}")
    _check_damping_safety(damping, safety)
    for name, v in (("budget", budget), ("always_s", always_s)):
        if not (v >= 0 and math.isfinite(v)):
            raise ValueError(f"{name} must be a finite number >= 0, got {v!r}")
    if t_end is not None and n_steps is not None:
        raise ValueError(f"give t_end or n_steps, not both (got t_end={t_end!r}, n_steps={n_steps!r})")
    if t_end is not None and not (t_end > 0 and math.isfinite(t_end)):
        raise ValueError(f"t_end must be a positive finite time (s), got {t_end!r}")
    if n_steps is not None and not n_steps >= 0:
        raise ValueError(f"n_steps must be >= 0, got {n_steps!r}")


def _auto_allowance(assembly, elem, details, choice, *, t_end, n_steps, step_cost_s, damping, safety, budget,
                    always_s):
    """The cost side of ``"auto"``: (estimate dict, dt_elem, run_s or None, allowed_s), recorded in ``choice``."""
    from fem.stability.stepcost import global_cost_estimate, run_cost_estimate

    est = global_cost_estimate(assembly, element_s=details["element_s"])
    dt_elem = stable_step(math.sqrt(max(elem.value, 0.0)), damping, safety)
    steps = n_steps if n_steps is not None else (None if t_end is None else math.ceil(t_end / dt_elem))
    if callable(step_cost_s):
        step_cost_s = None if steps is None else float(step_cost_s(dt_elem, max(int(steps), 1)))
    run_s = None if steps is None else run_cost_estimate(steps, step_cost_s=step_cost_s, spmv_s=est["spmv_s"])
    allowed = max(always_s, 0.0 if run_s is None else budget * run_s)
    choice.update(estimated_global_s=est["total_s"], estimated_proof_s=est["proof_s"], run_s_estimate=run_s,
                  n_steps_estimate=steps, step_cost_s=(step_cost_s if step_cost_s is not None or run_s is None
                                                       else run_s / max(steps, 1)), allowed_s=allowed)
    return est, dt_elem, run_s, allowed


def _case_after_global(g, requested: str, saved: bool) -> str:
    """The :data:`~fem.stability.decision.CASES` key once the global form has run."""
    if g.proven:
        return "asked" if requested == "global" else ("pays_for_itself" if saved else "within_budget")
    if g.capped:
        return "as_tight"
    if g.declined:
        return "declined"
    return "timed_out" if g.timed_out else "not_proven"


def choose_certified_step(assembly, bound, density, *, t_end: float | None = None, n_steps: int | None = None,
                          step_cost_s: float | None = None, method: str = "auto", damping: float = 0.0,
                          safety: float = 1.0, budget: float = BUDGET, always_s: float = ALWAYS_S,
                          delta: float = 1e-6, max_delta: float = 1e-2) -> TimeStep:
    """The certified step a run should use: the tightest proven step whose one-off cost the run can bear.

    assembly, bound, density, damping, safety, delta, max_delta : as :func:`certified_time_step`.
    t_end : simulated time of the run (s), or n_steps : its number of steps at the element step
        (at most one of them; neither: the run length is unknown and only ``always_s`` applies).
    step_cost_s : wall time of one step of the run (s), or a callable ``(dt, n_steps) -> s`` (the mean
        cost of a step in a run of n_steps steps of dt; called with the element step, only when the
        choice needs it); None: estimated from a sparse product (:data:`fem.stability.stepcost.STEP_PRODUCTS`)
        and a fixed loop overhead, which undercounts nonlinear laws and short runs.
    method : ``"auto"`` (default), ``"global"`` (always try it; no time limit) or ``"element"``.
    budget : the global form is used when its estimated cost is at most ``budget`` × the estimated run
        time (the run at the element step: ``n_steps × step_cost_s``) ...
    always_s : ... or at most ``always_s`` seconds whatever the run (below a second it is smaller than
        reading the input; default 1 s) ...
        ... or, when only its cheap part (assembly + Lanczos) fits that allowance, when the proof's
        estimated cost is at most ``SAVINGS_SHARE`` (1/2) of the run time the global step saves, as
        predicted from the Lanczos estimate θ: ``run · (1 − dt_element / dt_global(θ))``.

    The global form in ``"auto"`` mode gets a time limit of twice what it is allowed (Lanczos is stopped
    there, no second δ is tried after it); when it is not proven in time, or not proven at all, the
    element form is used. Both forms are proven bounds, so the choice changes the step, never its
    certificate. Returns a :class:`TimeStep` (``certified=True``) whose ``method`` is ``"element"``
    or ``"global"``; ``decision`` is the :class:`~fem.stability.decision.StepDecision` (the case and
    the numbers behind it) and ``reason`` its one-line rendering
    (:func:`~fem.stability.decision.render_reason`). ``details["choice"]`` holds the numbers as a dict
    (``requested``, ``estimated_global_s``, ``estimated_proof_s``, ``global_s``, ``run_s_estimate``,
    ``n_steps_estimate``, ``step_cost_s``, ``allowed_s``, ``budget``, ``always_s``; ``saved_s`` and
    ``dt_predicted`` when the saving was weighed).
    """
    _check_choice(method, damping, safety, budget, always_s, t_end, n_steps)
    c_b, elem, details = _element_form(assembly, bound, density)
    choice = details["choice"] = {"requested": method, "budget": float(budget), "always_s": float(always_s)}
    decided = partial(StepDecision, requested=method, budget=float(budget), always_s=float(always_s))
    if method == "element":
        return _timestep(assembly, elem.value, "element", elem.worst, damping, safety, details,
                         decision=decided(method="element", case="asked"))
    deadline, run_s, before_proof, est = None, None, None, {}
    if method == "auto":
        est, dt_elem, run_s, allowed = _auto_allowance(assembly, elem, details, choice, t_end=t_end, n_steps=n_steps,
                                                       step_cost_s=step_cost_s, damping=damping, safety=safety,
                                                       budget=budget, always_s=always_s)
        decided = partial(decided, run_s=run_s, estimated_global_s=est["total_s"], estimated_proof_s=est["proof_s"])
        if est["total_s"] > allowed:
            if run_s is None or est["assembly_s"] + est["lanczos_s"] > allowed:
                case = "run_length_unknown" if run_s is None else "over_budget"
                return _timestep(assembly, elem.value, "element", elem.worst, damping, safety, details,
                                 decision=decided(method="element", case=case))
            before_proof = _pays_for_itself(est["proof_s"], run_s, dt_elem, damping, safety, delta, choice)
        deadline = time.perf_counter() + 2.0 * allowed
    g = _global_form(assembly, c_b, density, elem, details, delta=delta, max_delta=max_delta, deadline=deadline,
                     before_proof=before_proof)
    choice["global_s"] = details["global_s"]
    lam, used, cell = _pick(assembly, c_b, elem, g)
    case = _case_after_global(g, method, "saved_s" in choice)
    decision = decided(method=used, case=case, global_s=details["global_s"], saved_s=choice.get("saved_s"),
                       note="" if g.proven or not g.tried else g.tried[-1][1])
    return _timestep(assembly, lam, used, cell, damping, safety, details, decision=decision)


def _is_scalar(bound) -> bool:
    return not (isinstance(bound, torch.Tensor) and bound.ndim == 2)


def critical_time_step(assembly, material, density, u=None, *, damping: float = 0.0, method: str = "lanczos",
                       tol: float = 1e-10) -> TimeStep:
    """Estimate of the critical step at state u: ``2/√λ_max(M⁻¹K(u))`` (× the damping factor).

    assembly : :class:`fem.discretisation.assembly.Assembly`; material : fem material (``stress`` differentiable by
    torch); density : scalar or (n_cells,); u : (n_dofs,) tensor, None for the reference state.
    method : ``"lanczos"`` (eigsh, or eigs for a non-symmetric tangent) or ``"power"``.
    Returns a :class:`TimeStep` with ``certified=False``; ``details`` says which solver ran, whether
    the tangent is symmetric, how many tangent products it took, and the controlling element when the
    top mode is available (Lanczos, symmetric tangent).
    """
    _check_damping_safety(damping, 1.0)
    op = TangentOperator(assembly, material, u)
    mass = assembly.lumped_mass(density).cpu().numpy()
    lam, info = top_eigenvalue(op, mass, method=method, tol=tol)
    if not info["symmetric"]:
        info["note"] = ("non-symmetric tangent: 2/sqrt(spectral radius) is not a stability guarantee "
                        "(complex modes can grow at any step)")
    omega = math.sqrt(max(lam, 0.0))
    return TimeStep(stable_step(omega, damping), omega, method, False, None, None, float(damping), 1.0,
                    {"lambda": lam, **info})


def exact_time_step(assembly, C, density, *, max_dofs: int = EXACT_MAX_DOFS) -> float:
    """``2/√λ_max`` of the dense generalized problem ``K x = λ M x`` (K from the constant C, M lumped).

    C : (n, n) constant tangent; density : scalar or (n_cells,). Only for ≤ ``max_dofs`` dofs
    (default ``EXACT_MAX_DOFS``: tests and benchmarks; memory 8·n² bytes, time ∝ n³); ValueError otherwise.
    """
    import scipy.linalg

    if assembly.n_dofs > max_dofs:
        raise ValueError(f"exact_time_step is a dense eigen-solve for <= {max_dofs} dofs, got {assembly.n_dofs}")
    c = bound_matrix(C, assembly.n_strain, dtype=torch.float64)
    k = assembly.stiffness_matrix(c).toarray()
    d = 1.0 / np.sqrt(assembly.lumped_mass(density).cpu().numpy())
    a = d[:, None] * k * d[None, :]
    lam = float(scipy.linalg.eigh(0.5 * (a + a.T), eigvals_only=True, subset_by_index=[len(d) - 1, len(d) - 1])[0])
    return math.inf if lam <= 0 else 2.0 / math.sqrt(lam)
