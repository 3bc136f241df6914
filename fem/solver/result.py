"""What an explicit run returns: the :class:`Result` (status, message, histories, final state)."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from fem.solver.central_difference import State

__all__ = ["Result"]


@dataclass
class Result:
    """What a run produced.

    status : ``"completed" | "unstable" | "inverted" | "out_of_domain" | "interrupted"``
    (``out_of_domain``: a finite-strain law left its certified domain); message : one readable line.
    steps, t : last good step and its time; dt : the step used; wall_time : s.
    times : (n_saves,) times of the saved frames; fields : name -> (n_saves, ...) arrays of the saved
    fields when kept (``displacement``/``velocity`` (n_points, dim), ``strain``/``stress`` (n_cells, k);
    finite strain: ``green_lagrange_strain``/``cauchy_stress`` (n_cells, k), ``volume_ratio`` (n_cells,)).
    energies : name -> (n_rows,) arrays, names ``time, step, kinetic, internal, external, damping,
    balance_error`` (:mod:`fem.solver.energy`). probes : ``{"time": (m,), name: (m, dim)}`` mean displacement of
    each probe's nodes. final : the last good :class:`State`. dt_certified : certified step or None.
    monitor : list of dicts (step, t, dt, dt_critical, omega_max, ratio). fault : None, or a dict
    (kind, step, t, element, centroid, detail) describing what stopped the run.
    dt_method : form of the certified step, ``"element" | "global"`` (None without a certificate);
    dt_reason : one line saying why that form (:func:`fem.stability.timestep.choose_certified_step`).
    """

    status: str
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
    fault: dict | None = None
    dt_method: str | None = None
    dt_reason: str = ""

    @property
    def completed(self) -> bool:
        return self.status == "completed"

    def __repr__(self) -> str:
        return (f"Result(status={self.status!r}, steps={self.steps}, t={self.t:.6g}, dt={self.dt:.6g}, "
                f"saves={len(self.times)}, energy rows={len(self.energies.get('time', ()))}, "
                f"wall_time={self.wall_time:.3g} s)")
