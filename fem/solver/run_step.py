"""What step would this run take: :func:`run_time_step`, decided once and reusable by :func:`fem.solve`.

The certified step costs a proof (the element form, or the global form's Lanczos and LDLᵀ with trial
steps to choose between them, :func:`fem.stability.timestep.choose_certified_step`). A caller that needs
the step before the run (to size its output, to print it) gets it here, and hands the answer to
:func:`fem.solve` as ``dt``: the run then takes that step and the set-up already built, without a second
proof. ::

    step = fem.run_time_step(problem, "certified", t_end=0.1)
    every = max(1, step.n_steps // 40)
    result = fem.solve(problem, 0.1, step, save=fem.SaveAt(every=every))
"""
from __future__ import annotations

from dataclasses import dataclass, field

from fem.core.errors import FemError
from fem.core.limits import Limits
from fem.solver.plan import whole_steps
from fem.solver.setup import RunSetup, torch_threads
from fem.solver.solve_options import Compute
from fem.stability.timestep import CertifiedStep
from fem.stability.viscosity import BulkViscosity

__all__ = ["RunStep", "run_time_step"]


@dataclass(frozen=True)
class RunStep:
    """The step a run takes, decided once (:func:`run_time_step`); pass it to :func:`fem.solve` as ``dt``.

    dt : the step the run takes (s): the step asked for, shortened to ``t_end / n_steps`` when ``t_end``
    was given; n_steps : whole steps to ``t_end`` (None without it); dt_asked : the step asked for,
    checked (s: the certified one for ``"certified"``); dt_certified : the certified step (s, None without
    a certificate); method, reason : its form (``"element" | "global"``) and why; unsafe : dt is above
    the certified step (allowed with ``allow_unsafe_dt``); t_end : s or None; certified : the
    :class:`~fem.stability.timestep.CertifiedStep` asked for. setup : the run's
    :class:`~fem.solver.setup.RunSetup` (assembly, mass, forces, certificate), reused by :func:`fem.solve`.
    """

    dt: float
    n_steps: int | None
    dt_asked: float
    dt_certified: float | None
    method: str | None
    reason: str
    unsafe: bool
    t_end: float | None
    certified: CertifiedStep
    setup: RunSetup = field(repr=False, compare=False)

    @property
    def problem(self):
        return self.setup.problem

    def setup_for(self, problem, *, compute: Compute, viscosity=None, certified=None) -> RunSetup:
        """The set-up for a run of ``problem`` with these options; FemError when they are not the ones this
        step was decided for (``viscosity``, ``certified`` None: this step's)."""
        setup = self.setup
        if problem is not setup.problem:
            raise FemError("this RunStep was decided for another Problem object; call "
                           "fem.run_time_step(problem, ...) with the problem you solve")
        if compute != setup.compute:
            raise FemError(f"this RunStep was decided with {setup.compute}, the run asks for {compute}; pass the "
                           "same Compute to fem.run_time_step and fem.solve")
        if viscosity is not None and BulkViscosity.coerce(viscosity) != setup.viscosity:
            raise FemError(f"this RunStep was decided with {setup.viscosity}, the run asks for "
                           f"{BulkViscosity.coerce(viscosity)}; the viscosity changes the certified step")
        if certified is not None and CertifiedStep.coerce(certified) != self.certified:
            raise FemError(f"this RunStep was decided with {self.certified}, the run asks for "
                           f"{CertifiedStep.coerce(certified)}")
        return setup


def run_time_step(problem, dt="certified", *, t_end: float | None = None, allow_unsafe_dt: bool = False,
                  viscosity: BulkViscosity | None = None, certified: CertifiedStep | str | None = None,
                  compute: Compute = Compute()) -> RunStep:
    """The step a :func:`fem.solve` of ``problem`` with these options would take, as a :class:`RunStep`.

    dt : a float (s) or ``"certified"``; the options are those of :func:`fem.solve` (``t_end`` also feeds
    the automatic choice of the certified form). The proof runs once, here; ``fem.solve(problem, t_end,
    step)`` reuses it. Raises as :func:`fem.solve` would for a dt above the certified step (unless
    ``allow_unsafe_dt``) or without a certificate for ``"certified"``.
    """
    ok_end = (t_end is not None and not isinstance(t_end, bool) and isinstance(t_end, (int, float))
              and t_end > 0)
    n_dofs = problem.mesh.n_points * problem.mesh.dim
    with torch_threads(compute.num_threads, n_dofs, compute.device):
        setup = RunSetup(problem, dt, compute=compute, allow_unsafe_dt=allow_unsafe_dt, viscosity=viscosity,
                         certified=certified, t_end=t_end if ok_end else None)
    n_steps, used = None, setup.dt
    if t_end is not None:
        n_steps, used = whole_steps(t_end, setup.dt, Limits.off())   # fem.solve applies the run's limits
    cert = setup.dt_certified
    return RunStep(used, n_steps, setup.dt, cert, setup.dt_method, setup.dt_reason,
                   bool(cert) and used > cert * (1 + 1e-12), None if t_end is None else float(t_end),
                   CertifiedStep.coerce(certified), setup)
