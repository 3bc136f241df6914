"""What reading a deck produces: the :class:`Deck` (problem, time, solver and output settings)."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["Deck", "OutputSettings"]


@dataclass
class OutputSettings:
    """Where and what a deck run writes (paths absolute; None = not written).

    probes : name -> the set name or selector as written in the deck; probe_nodes : name -> (k,) node
    ids, selected once at load with the deck's tolerance (``[mesh] tol``). reactions, reaction_nodes : the
    same for ``[output.reactions]`` (the force the constraints apply on each set, :mod:`fem.solver.reactions`).
    """

    dir: Path
    format: str = "vtu"
    prefix: str = "fields"
    fields: bool = True
    every: int | None = None
    energy_every: int | None = None
    energy_csv: Path | None = None
    probes_csv: Path | None = None
    plot: Path | None = None
    probes: dict = field(default_factory=dict)
    probe_every: int = 1
    compression: str | None = "zlib"
    probe_nodes: dict = field(default_factory=dict)
    scalars: dict = field(default_factory=dict)   # [output.scalars]: name -> spec (fem.deck.scalars)
    reactions: dict = field(default_factory=dict)
    reaction_nodes: dict = field(default_factory=dict)

    def moved_to(self, directory) -> "OutputSettings":
        """The same settings with every file moved into ``directory`` (same names)."""
        d = Path(directory).resolve()

        def move(p):
            return None if p is None else d / p.relative_to(self.dir) if p.is_relative_to(self.dir) else d / p.name

        return dataclasses.replace(self, dir=d, energy_csv=move(self.energy_csv), probes_csv=move(self.probes_csv),
                                   plot=move(self.plot), probes=dict(self.probes), probe_nodes=dict(self.probe_nodes),
                                   scalars=dict(self.scalars), reactions=dict(self.reactions),
                                   reaction_nodes=dict(self.reaction_nodes))


@dataclass
class Deck:
    """A checked deck: the problem, the time settings, solver options and output settings.

    ``problem`` is a :class:`fem.solver.problem.Problem` whose conditions name node/facet sets selected once at
    load (selectors are registered in the mesh under their own text, or ``"<selector> [tol=...]"`` for
    a non-default tolerance); ``dt`` a float (s) or ``"certified"``; ``material_source`` says where the
    material came from (``"linear_elastic"`` or the model path).
    """

    path: Path
    title: str
    problem: Any
    t_end: float
    dt: float | str
    allow_unsafe_dt: bool
    energy_tol: float | None
    output: OutputSettings
    material_source: str
    device: str = "cpu"
    dtype: str = "float64"
    threads: int | None = None
    raw: dict = field(default_factory=dict, repr=False)
    monitor_every: int | None = None
    limits: Any = None   # fem.core.limits.Limits of the run (None: the defaults)
    certified_method: str = "auto"
    viscosity: Any = None       # fem.stability.viscosity.BulkViscosity ([solver] bulk_viscosity*; None: the defaults)
    energy_guard: float | None = 0.01   # [solver] energy_guard (fem.stability.discrete_energy); None: off
    checkpoint_every: int | None = None  # [checkpoint] every (0: only on Ctrl-C / SIGTERM); None: no table
    checkpoint_file: str = "checkpoint.pt"   # [checkpoint] file, in the output folder
    fingerprint: str = ""       # fem.deck.restart.fingerprint: what a restart file must match

    def solve_kwargs(self, *, writer=None, on_row=None) -> dict:
        """Keyword arguments of :func:`fem.solve`; ``writer`` gets the frames, ``on_row`` the energy rows."""
        import torch

        from fem.solver.solve_options import Compute, EnergyCheck, Monitor, Probes, SaveAt

        o = self.output
        return {"t_end": self.t_end, "dt": self.dt, "allow_unsafe_dt": self.allow_unsafe_dt,
                "save": SaveAt(every=o.every, writer=writer),
                "energy": EnergyCheck(every=o.energy_every, tol=self.energy_tol, on_row=on_row,
                                      guard=self.energy_guard),
                "viscosity": self.viscosity,
                "probes": Probes(dict(o.probe_nodes), every=o.probe_every, reactions=dict(o.reaction_nodes))
                if o.probe_nodes or o.reaction_nodes else None,
                "monitor": Monitor(every=self.monitor_every), "certified": self.certified_method,
                "limits": self.limits,
                "compute": Compute(dtype=getattr(torch, self.dtype), device=self.device, num_threads=self.threads)}
