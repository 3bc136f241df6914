"""What an explicit run returns: the :class:`Result` (status, message, histories, final state), its
:class:`Status` and, when a check stopped it, the :class:`Fault`."""
from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field

import numpy as np

from fem.solver.central_difference import State

__all__ = ["Result", "Status", "Fault"]


class Status(enum.StrEnum):
    """How a run ended. A ``str``: ``Result.status == "completed"`` and JSON output keep working."""

    COMPLETED = "completed"
    UNSTABLE = "unstable"            # NaN/inf, the energy balance or the energy guard
    INVERTED = "inverted"            # an element turned inside out
    OUT_OF_DOMAIN = "out_of_domain"  # a finite-strain law left its certified domain
    INTERRUPTED = "interrupted"      # Ctrl-C


@dataclass(frozen=True)
class Fault:
    """What stopped a run: kind (a :class:`Status`), step and t (s) of the faulty state, element (cell
    id) and its centroid (dim floats), detail (what the check found), message (the whole readable line,
    with the last good state and the step's advice)."""

    kind: Status
    step: int
    t: float
    element: int
    centroid: tuple
    detail: str
    message: str

    def as_dict(self) -> dict:
        """The fault as plain JSON-ready values (``kind`` a str, ``centroid`` a list)."""
        d = asdict(self)
        d["kind"], d["centroid"] = str(self.kind), list(self.centroid)
        return d


@dataclass
class Result:
    """What a run produced.

    status : a :class:`Status` (a str: ``"completed" | "unstable" | "inverted" | "out_of_domain" |
    "interrupted"``; ``out_of_domain``: a finite-strain law left its certified domain); message : one
    readable line. steps, t : last good step and its time; dt : the step used; wall_time : s.
    times : (n_saves,) times of the saved frames; fields : name -> (n_saves, ...) arrays of the saved
    fields when kept (``displacement``/``velocity`` (n_points, dim), ``strain``/``stress`` (n_cells, k);
    finite strain: ``green_lagrange_strain``/``cauchy_stress`` (n_cells, k), ``volume_ratio`` (n_cells,)).
    energies : name -> (n_rows,) arrays, names ``time, step, kinetic, internal, external, damping,
    balance_error`` (:mod:`fem.solver.energy`). probes : ``{"time": (m,), name: (m, dim)}`` mean displacement of
    each probe's nodes, and with reaction probes ``"reactions": {name: (m, dim)}``, the force (N) the
    constraints apply to the body on each set (:mod:`fem.solver.reactions`). final : the last good :class:`State`. dt_certified : certified step or None.
    monitor : list of dicts (step, t, dt, dt_critical, omega_max, ratio). fault : None, or the
    :class:`Fault` that stopped the run.
    dt_method : form of the certified step, ``"element" | "global"`` (None without a certificate);
    dt_reason : one line saying why that form (:func:`fem.stability.timestep.choose_certified_step`).
    """

    status: Status
    message: str
    steps: int
    t: float
    dt: float
    times: np.ndarray
    energies: dict
    final: State
    probes: dict = field(default_factory=dict)
    wall_time: float = 0.0
    dt_certified: float | None = None
    monitor: list = field(default_factory=list)
    fields: dict = field(default_factory=dict)
    fault: Fault | None = None
    dt_method: str | None = None
    dt_reason: str = ""

    @property
    def completed(self) -> bool:
        return self.status == Status.COMPLETED

    def __repr__(self) -> str:
        return (f"Result(status={str(self.status)!r}, steps={self.steps}, t={self.t:.6g}, dt={self.dt:.6g}, "
                f"saves={len(self.times)}, energy rows={len(self.energies.get('time', ()))}, "
                f"wall_time={self.wall_time:.3g} s)")
