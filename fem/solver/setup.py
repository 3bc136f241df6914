"""What an explicit run builds once: assembly, mass, conditions, forces, the certified and the asked dt.

:class:`RunSetup` is shared by :func:`fem.solve`, :func:`fem.iterate` and :func:`fem.run_time_step` (whose
answer carries it to a later solve). The time step is resolved
here (:meth:`RunSetup.resolve_dt`): ``"certified"`` takes the step of
:func:`fem.stability.timestep.choose_certified_step` (a proven bound: the global form when its one-off cost is
small against the run, whose length comes from ``t_end`` and a measured step, else the element form;
``dt_method`` / ``dt_reason`` say which and why) for a material with a global stiffness bound; a
float above it is refused unless ``allow_unsafe_dt`` (then a :class:`~fem.core.errors.FemWarning`). The checks of
the states and the faults they report are in :mod:`fem.solver.checks`.

A finite-strain material (``finite_strain = True``, :mod:`fem.materials.protocol`) gets a gradient-mode
assembly (total Lagrangian, :mod:`fem.discretisation.assembly`) and its certificate ``a_b`` for the mesh's kinematics
(a scalar bound on ``∂P/∂F``, proven on the law's certified domain). Because that proof holds only
inside the domain, every check also asks ``material.in_domain(F)`` at every quadrature point
(:mod:`fem.solver.checks`).
"""
from __future__ import annotations

import contextlib
import logging
import math
import os
import sys
import time
import warnings

import numpy as np
import torch

from fem.discretisation.assembly import Assembly
from fem.discretisation.bc import compile_conditions
from fem.solver.central_difference import CentralDifference, State
from fem.core.errors import FemError, FemWarning, NoStiffnessBound
from fem.solver.checks import RunChecks
from fem.solver.faults import inverted_cells
from fem.discretisation.forces import InternalForce
from fem.core.limits import check_certified_step, check_stiffness_bound
from fem.materials.protocol import check_material, stiffness_bound_for
from fem.solver.solve_options import Compute
from fem.stability.viscosity import BulkViscosity, ViscousTerm, damped_time_step

__all__ = ["RunSetup", "SMALL_PROBLEM_DOFS", "torch_threads"]

log = logging.getLogger(__name__)

#: below this many dofs a run uses one CPU thread: torch's parallel regions cost more than they save on
#: small vectors, and on a loaded machine a spinning OpenMP team made a 100-dof run 120x slower (measured)
SMALL_PROBLEM_DOFS = 20_000


@contextlib.contextmanager
def torch_threads(n: int | None, n_dofs: int, device):
    """Run with ``n`` torch CPU threads (None: 1 below SMALL_PROBLEM_DOFS, else unchanged); restore."""
    if n is None and (torch.device(device).type != "cpu" or n_dofs >= SMALL_PROBLEM_DOFS):
        yield
        return
    old = torch.get_num_threads()
    torch.set_num_threads(1 if n is None else int(n))
    try:
        yield
    finally:
        torch.set_num_threads(old)


def initial_field(value, mesh, name: str, like: torch.Tensor) -> torch.Tensor:
    """(n_dofs,) initial field from None, an array (n_points, dim) / (n_dofs,), or a callable."""
    n_dofs = mesh.n_points * mesh.dim
    if value is None:
        return torch.zeros_like(like)
    if callable(value):
        value = value(mesh.points.copy())
    a = np.asarray(value.detach().cpu() if isinstance(value, torch.Tensor) else value, dtype=np.float64)
    if a.size != n_dofs or a.shape not in ((n_dofs,), (mesh.n_points, mesh.dim)):
        raise FemError(f"{name} must be ({mesh.n_points}, {mesh.dim}) or ({n_dofs},), got {a.shape}")
    if not np.all(np.isfinite(a)):
        raise FemError(f"{name} contains NaN or inf")
    return torch.as_tensor(a.reshape(-1), dtype=like.dtype, device=like.device)


def certified_step(assembly, material, density, *, certified=None, t_end: float | None = None, step_cost=None,
                   given_dt: float | None = None):
    """(TimeStep, None) from the material's certificate, or (None, reason) without one.

    The form (element or global) is chosen by :func:`fem.stability.timestep.choose_certified_step` from
    ``certified`` (a :class:`~fem.stability.timestep.CertifiedStep` or a method name; None: ``"auto"``), the run
    length ``t_end`` (s, None: unknown) and ``step_cost`` (s per step, or a callable
    ``(dt, n_steps) -> s`` measured only when needed). With a numeric ``given_dt`` and ``"auto"``, the
    element form is enough when the given step is below it (no tighter bound is needed to accept it).

    A material declares that it has no global stiffness bound by raising
    :class:`~fem.core.errors.NoStiffnessBound` from ``stiffness_bound()`` (the stiffening rubber laws do:
    their tangent is unbounded as the stretch goes to 0). Such a material runs only with a numeric dt.
    Any other exception propagates (a bug is not "no bound"); returning None is a FemError.
    """
    from fem.stability.timestep import CertifiedStep, choose_certified_step

    name = type(material).__name__
    try:
        # a finite-strain law may return a tighter bound for plane strain (the 3D one is valid too)
        bound = stiffness_bound_for(material, assembly.kinematics)
    except NoStiffnessBound as exc:
        return None, f"{name} has no global stiffness bound ({exc})"
    if bound is None:
        raise FemError(f"{name}.stiffness_bound() returned None; a material without a global bound raises "
                       "fem.core.errors.NoStiffnessBound saying why")
    check_stiffness_bound(bound, material)  # NaN/inf or beyond float range: one clear error, before any use
    # damping=0: the centred damping of fem.solver.central_difference does not lower the limit 2/ω_max
    choice = CertifiedStep.coerce(certified)
    kw = {"budget": choice.budget, "always_s": choice.always_s}
    timestep = None
    if given_dt is not None and choice.method == "auto":
        timestep = choose_certified_step(assembly, bound, density, method="element", **kw)
        if given_dt <= timestep.dt * (1 + 1e-12):
            timestep.reason = "element form: the given dt is below it, no tighter bound is needed"
        else:
            timestep = None
    if timestep is None:
        timestep = choose_certified_step(assembly, bound, density, t_end=t_end, step_cost_s=step_cost,
                                         method=choice.method, **kw)
    check_certified_step(timestep, material)  # 0 s or NaN (a bound beyond float range) is an error
    return timestep, None


def _caller_level() -> int:
    """The ``stacklevel`` that points a warning raised by this module's caller at the first frame outside
    the fem package: fem.solve, fem.iterate and fem.run_time_step reach here through different depths."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
    frame, level = sys._getframe(2), 2
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(root):
        frame, level = frame.f_back, level + 1
    return level


def _number_or_none(dt) -> float | None:
    """``dt`` as a float when it is a positive finite number (else None: resolve_dt says what is wrong)."""
    try:
        x = float(dt)
    except (TypeError, ValueError):
        return None
    return x if x > 0 and math.isfinite(x) else None


class RunSetup:
    """Everything built once per run: assembly, mass, conditions, forces, the stepper and dt.

    Attributes: problem, compute, viscosity, assembly, mass (n_dofs,), conditions, forces, timestep
    (TimeStep or None), no_certificate (why there is none, or None), dt_certified (s or None), dt (s, the
    step asked for, checked; the run's plan shortens it so that whole steps end at t_end,
    :func:`fem.solver.plan.plan_run`). Nothing here changes after construction, so one set-up serves
    several runs (:func:`fem.solver.run_step.run_time_step` hands it to :func:`fem.solve`).
    """

    def __init__(self, problem, dt, *, compute: Compute = Compute(), allow_unsafe_dt: bool = False,
                 viscosity: BulkViscosity | None = None, certified=None, t_end: float | None = None):
        p = problem
        # bulk viscosity (fem.stability.viscosity): on by default; it lowers the certified step by √(1+ξ_b²) − ξ_b
        self.viscosity = BulkViscosity.coerce(viscosity)
        self.problem, self.compute = p, compute
        self.assembly = a = Assembly.for_material(p.mesh, p.material, dtype=compute.dtype, device=compute.device,
                                                  thickness=p.thickness, area=p.area)
        check_material(p.material, a.kinematics)
        if not float(p.damping) >= 0.0:
            raise FemError(f"damping (mass-proportional alpha, 1/s) must be >= 0, got {p.damping}")
        self.mass = a.lumped_mass(p.density)
        self.conditions = compile_conditions(p, a, self.mass)
        self.forces = InternalForce(a, p.material, use_linear=compute.use_linear)
        given = None if isinstance(dt, str) else _number_or_none(dt)
        self.timestep, self.no_certificate = certified_step(a, p.material, p.density, certified=certified,
                                                            t_end=t_end, step_cost=self.measure_step_cost,
                                                            given_dt=given)
        if self.timestep is not None:
            self.timestep = damped_time_step(self.timestep, self.viscosity)
        self.dt_certified = None if self.timestep is None else float(self.timestep.dt)
        #: "element" | "global" (the certified step's form) and why, one line; None / "" without a certificate
        self.dt_method = None if self.timestep is None else self.timestep.method
        self.dt_reason = "" if self.timestep is None else self.timestep.reason
        self.dt = self.resolve_dt(dt, allow_unsafe_dt)

    def measure_step_cost(self, dt: float, n_steps: int = 10**6, steps: int = 3) -> float:
        """Estimated mean wall time (s) of a step in a run of ``n_steps`` steps of ``dt``: the best of
        ``steps`` bare steps of the scheme from rest (no viscosity) × :data:`fem.stability.stepcost.LOOP_FACTOR`
        + :data:`fem.stability.stepcost.LOOP_OVERHEAD_S`, plus the row checks (2D/3D inversion check, best of
        two) at the rows and frames of ``fem.solve``'s default intervals (about 1000 + 100 per run)."""
        from fem.stability.stepcost import LOOP_FACTOR, LOOP_OVERHEAD_S

        stepper = CentralDifference(self.forces, self.mass, self.conditions, dt, float(self.problem.damping))
        zero = torch.zeros_like(self.mass)
        best = math.inf
        with torch.no_grad():
            state = stepper.init(zero, zero)
            for _ in range(steps):
                t0 = time.perf_counter()
                state = stepper.step(state)
                best = min(best, time.perf_counter() - t0)
            row = math.inf
            for _ in range(2 if self.assembly.dim > 1 else 0):  # the first call builds the gradient cache
                t0 = time.perf_counter()
                inverted_cells(self.assembly, state.u)
                row = min(row, time.perf_counter() - t0)
            row = 0.0 if math.isinf(row) else row
        rows = min(n_steps, 1000) + min(n_steps, 100)
        return LOOP_FACTOR * best + LOOP_OVERHEAD_S + row * rows / max(n_steps, 1)

    def resolve_dt(self, dt, allow_unsafe: bool) -> float:
        """The step asked for, checked against the certified one (see the module docstring)."""
        cert = self.dt_certified
        if isinstance(dt, str):
            if dt != "certified":
                raise FemError(f"dt must be a positive number or 'certified', got {dt!r}")
            if cert is None:
                raise FemError(f"dt='certified' needs a stiffness certificate: {self.no_certificate}; "
                               "give dt as a number")
            return cert
        dt = float(dt)
        if not (dt > 0 and math.isfinite(dt)):
            raise FemError(f"dt must be a positive finite number or 'certified', got {dt!r}")
        if cert is None:
            log.warning("dt = %.6g s is not checked against a certified step: %s", dt, self.no_certificate)
        elif dt > cert * (1 + 1e-12):
            msg = (f"dt = {dt:.6g} s exceeds the certified stable step {cert:.6g} s "
                   f"({dt / cert:.3f}x; {self.timestep.method} form, controlling element "
                   f"{getattr(self.timestep, 'controlling_element', None)})")
            if not allow_unsafe:
                # a deck spells the switch [solver] allow_unsafe_dt = true (fem.deck reads it)
                raise FemError(msg + "; use dt='certified', a smaller dt, or allow_unsafe_dt=True (in a deck: "
                               "[solver] allow_unsafe_dt = true)")
            warnings.warn(msg + "; running anyway (allow_unsafe_dt=True) and measuring the critical step as it "
                          "goes (Monitor(every=...); 0 turns it off)", FemWarning, stacklevel=_caller_level())
        return dt

    def stepper(self, dt: float) -> CentralDifference:
        """The central-difference scheme of this set-up at ``dt`` (s), with its bulk viscosity."""
        viscous = None
        if self.viscosity.active:
            # τ = 2/ω_b from the certificate; without one, from the step itself (τ = dt, no proof then)
            omega = self.timestep.omega_max if self.timestep is not None else 2.0 / dt
            viscous = ViscousTerm(self.viscosity, omega, dt)
        return CentralDifference(self.forces, self.mass, self.conditions, dt, float(self.problem.damping), viscous)

    def initial_state(self, stepper: CentralDifference) -> State:
        """The checked state at t = 0 (the problem's u0, v0; FemError when it is not finite)."""
        like = self.mass
        u0 = initial_field(self.problem.u0, self.problem.mesh, "u0", like)
        v0 = initial_field(self.problem.v0, self.problem.mesh, "v0", like)
        with torch.no_grad():
            s = stepper.init(u0, v0)
        fault = RunChecks(self, stepper.dt).finite(s, s)
        if fault is not None:
            raise FemError(f"the initial state is not usable: {fault.message}")
        return s
