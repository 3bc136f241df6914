"""Grouped options of :func:`fem.solve`: small frozen dataclasses, one per concern.

====================  ==========================================================================
:class:`SaveAt`       which states become frames, where they go, whether the result keeps them
:class:`EnergyCheck`  energy rows and the balance check that stops an unstable run
:class:`Probes`       node groups whose mean displacement is recorded
:class:`Monitor`      measurements of the critical step (an estimate) during the run
:class:`Checkpoint`   restart files written during the run (and on Ctrl-C)
:class:`Compute`      dtype, device, CPU threads, and whether the sparse linear path may be used
====================  ==========================================================================

Every step count is a whole number of steps; a bad value raises :class:`~fem.core.errors.FemError` when
the option is built, naming the option and what was expected.
"""
from __future__ import annotations

import numbers
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import torch

from fem.core.errors import FemError
from fem.core.limits import check_device, check_threads

__all__ = ["SaveAt", "EnergyCheck", "Probes", "Monitor", "Checkpoint", "Compute"]


def _check_steps(owner: str, name: str, value, low: int) -> None:
    """FemError unless ``value`` is None or a whole number of steps >= low (bools are refused)."""
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        raise FemError(f"{owner}: {name} must be a whole number of steps >= {low}"
                       f"{' (0 or None: default/off)' if low == 0 else ''}, got {value!r}")


@dataclass(frozen=True)
class SaveAt:
    """Frames: the state at step 0, every ``every`` steps and at the end.

    every : steps between frames; None or 0: about 100 frames per run.
    writer : receives each frame, ``write(t, point_data, cell_data)`` then ``close()`` when the run ends
        (e.g. :class:`fem.io.output.FieldWriter`); point data ``displacement``, ``velocity``
        (n_points, dim), cell data ``strain``, ``stress`` (n_cells, k) averaged over each cell's
        quadrature points, in tensor components (:func:`fem.discretisation.forces.symmetric_components`); for a
        finite-strain law ``green_lagrange_strain``, ``cauchy_stress`` and ``volume_ratio`` instead
        (:meth:`fem.discretisation.forces.InternalForce.cell_fields`).
    keep : keep the frames in ``Result.fields``; None: only when there is no writer.
    """

    every: int | None = None
    writer: Any = None
    keep: bool | None = None

    def __post_init__(self):
        _check_steps("SaveAt(every=...)", "save_every", self.every, 0)


@dataclass(frozen=True)
class EnergyCheck:
    """Energy rows (:mod:`fem.solver.energy`) and the balance check.

    every : steps between rows; None or 0: about 1000 rows per run, at least 10 steps apart
        (``fem.solver.plan.ROW_EVERY_MIN``; a row is also taken at every frame and at the last step).
    tol : stop as ``"unstable"`` when a row's relative balance error exceeds it (None: never). 0.5 by
        default: a stable linear run stays below ``(ω_max Δt)²/4`` (:mod:`fem.solver.energy`), an unstable one
        passes any threshold within a few dozen steps of the one it would pass first. Not checked in
        the first ``fem.solver.energy.BALANCE_GRACE_STEPS`` steps: for a load applied from rest the scheme's
        exact defect ``(Δt²/8) aᵀMa`` equals the kinetic energy at step 1 (error 1) and decays like 1/n².
    on_row : called with every row (a dict) as the run goes (e.g. to append a CSV).
    guard : stop as ``"unstable"`` when a row's ``scheme_error`` — the energy the central-difference
        scheme itself created, relative to the energy in motion (:mod:`fem.stability.discrete_energy`) — exceeds
        it (None: never). 0.01 by default: 0 to round-off for a linear body, below 2e-3 in the smooth
        nonlinear runs measured, and passed well before an element inverts when a stiffening law pumps
        energy into the top modes (``docs/stability.md``). Needs the material's ``energy``.
    """

    every: int | None = None
    tol: float | None = 0.5
    on_row: Callable[[dict], None] | None = None
    guard: float | None = 0.01

    def __post_init__(self):
        _check_steps("EnergyCheck(every=...)", "energy_every", self.every, 0)
        tol = self.tol
        if tol is not None and (isinstance(tol, bool) or not isinstance(tol, numbers.Real) or not tol >= 0):
            raise FemError(f"EnergyCheck(tol=...): energy_tol must be a number >= 0 or None, got {tol!r}")
        g = self.guard
        if g is not None and (isinstance(g, bool) or not isinstance(g, numbers.Real) or not g > 0):
            raise FemError(f"EnergyCheck(guard=...): energy_guard must be a number > 0 or None, got {g!r}")


@dataclass(frozen=True)
class Probes:
    """Mean displacement and reaction force of node groups, every ``every`` steps, in ``Result.probes``.

    nodes : name -> node ids (array-like of ints) or a selector / set name (:meth:`fem.discretisation.mesh.Mesh.nodes`,
        default tolerance): the mean displacement (dim,) of those nodes (m).
    reactions : name -> node ids or a selector / set name, as ``nodes``: the total force (dim,) that the
        constraints apply to the body on those nodes' constrained dofs, ``Σ (M a + C v + f_int − f_ext)``
        (N; in 2D per the thickness, in 1D per the area, as the internal forces;
        :mod:`fem.solver.reactions`). A set without a constrained dof is a FemError when the run starts.
    every : steps between samples (>= 1). Names are unique across ``nodes`` and ``reactions`` and are
        neither ``"time"`` nor ``"reactions"``.
    """

    nodes: Mapping[str, Any] = field(default_factory=dict)
    every: int = 1
    reactions: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        _check_steps("Probes(every=...)", "probe_every", self.every, 1)
        names = list(self.nodes or {}) + list(self.reactions or {})
        bad = sorted({n for n in names if names.count(n) > 1} | {n for n in names if n in ("time", "reactions")})
        if bad:
            raise FemError(f"Probes: probe names must be unique across nodes= and reactions= and not 'time' or "
                           f"'reactions', got {bad}")

    def __len__(self) -> int:
        """Number of probes (displacement and reaction)."""
        return len(self.nodes or {}) + len(self.reactions or {})


@dataclass(frozen=True)
class Monitor:
    """Measure the critical step (``fem.stability.timestep.critical_time_step``, an estimate) at the current state.

    every : at the start and every N steps, recorded in ``Result.monitor``; the energy rows then also
    carry ``dt_critical`` (latest measurement, s) and ``dt_margin`` = dt_critical / dt (below 1: the
    step is above the measured limit). None: only when a dt above the certified step was allowed (then
    about ``fem.solver.plan.UNSAFE_MONITORS`` measurements per run); 0: never.
    """

    every: int | None = None

    def __post_init__(self):
        _check_steps("Monitor(every=...)", "monitor_every", self.every, 0)


@dataclass(frozen=True)
class Checkpoint:
    """Write a restart file to ``path`` every ``every`` steps (None or 0: only on Ctrl-C).

    ``solve(..., restart=path)`` continues from it; the result equals that of an uninterrupted run.
    meta : plain data (strings, numbers, lists, dicts) stored in the file under ``"meta"`` for the caller,
        e.g. a fingerprint of the input that a restart checks (``fem.deck`` does).
    """

    path: Any
    every: int | None = None
    meta: Mapping[str, Any] | None = None

    def __post_init__(self):
        if self.path is None:
            raise FemError("Checkpoint(path=...): a checkpoint needs a file path, got None")
        _check_steps("Checkpoint(every=...)", "checkpoint_every", self.every, 0)


@dataclass(frozen=True)
class Compute:
    """Where and how the arithmetic runs.

    dtype, device : of every tensor (float64, CPU by default; device ``"cpu"`` or, where CUDA is
    available, ``"cuda[:N]"``, anything else is a FemError). num_threads : torch CPU threads during
    the run (restored after); None = 1 below ``fem.solver.setup.SMALL_PROBLEM_DOFS`` dofs, torch's setting
    above. use_linear : allow the sparse ``K @ u`` path for linear materials (False forces the
    material call).
    """

    dtype: torch.dtype = torch.float64
    device: Any = "cpu"
    num_threads: int | None = None
    use_linear: bool = True

    def __post_init__(self):
        check_device(self.device)  # one clear line for "cuda" without CUDA, "meta", typos
        n = self.num_threads
        if n is not None and (isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1):
            raise FemError(f"Compute(num_threads=...): num_threads must be a whole number >= 1 or None, got {n!r}")
        check_threads(n, "Compute(num_threads=...): num_threads")  # torch accepts 100000 threads, then segfaults
