"""Running a deck: :func:`run_deck` solves it and writes fields, energy CSV, probes CSV and the plot."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["DeckRun", "run_deck"]


@dataclass
class DeckRun:
    """What :func:`run_deck` produced: the solver's Result and the files written (name -> Path)."""

    result: Any
    files: dict
    frames: int = 0


class _SeriesWithEnergy:
    """Field writer wrapper: after every frame it also rewrites the energy CSV, so a run that dies
    keeps its energy history up to its last frame."""

    def __init__(self, writer, rows: list, path: Path | None):
        self.writer, self.rows, self.path = writer, rows, path

    def write(self, t, point_data, cell_data=None):
        if self.writer is not None:
            self.writer.write(t, point_data, cell_data)
        self.flush()

    def flush(self):
        from fem.io.output import write_energy_csv

        if self.path is not None and self.rows:
            write_energy_csv(self.path, {k: np.array([r[k] for r in self.rows]) for k in self.rows[0]})

    def close(self):
        if self.writer is not None:
            self.writer.close()


def run_deck(deck, *, out_dir=None, progress: bool | None = None) -> DeckRun:
    """Run ``deck`` (a :class:`~fem.deck.Deck`) with :func:`fem.solve` and write its outputs.

    out_dir : overrides ``[output] dir``. progress : tqdm bar (None: when stderr is a terminal).
    Writes the field series (if ``fields``), the energy CSV (also after every frame), the probes CSV
    and the energy plot; everything atomically. Returns a :class:`DeckRun` whatever the run's status
    (a stopped run keeps what it wrote); bad settings raise FemError before anything runs.
    """
    from fem.core.errors import LimitError
    from fem.solver.explicit import solve
    from fem.io.output import (FieldWriter, check_target, plot_energies, prepare_output_dir, write_energy_csv,
                            write_probes_csv)

    out = deck.output if out_dir is None else deck.output.moved_to(out_dir)
    what = "output folder (--out)" if out_dir is not None else "[output] dir"
    prepare_output_dir(out.dir, what, create=False)
    for p, key in ((out.energy_csv, "energy_csv"), (out.probes_csv, "probes_csv"), (out.plot, "plot")):
        if p is not None:   # every path checked before anything is created or run
            prepare_output_dir(p.parent, f"[output] {key} folder", create=False)
            check_target(p, f"[output] {key}")
    prepare_output_dir(out.dir, what)
    for p in (out.energy_csv, out.probes_csv, out.plot):
        if p is not None:
            prepare_output_dir(p.parent, "output folder")
    writer = (FieldWriter(out.dir, deck.problem.mesh, format=out.format, prefix=out.prefix,
                          compression=out.compression) if out.fields else None)
    rows: list[dict] = []
    series = _SeriesWithEnergy(writer, rows, out.energy_csv)
    try:
        result = solve(deck.problem, progress=progress, **deck.solve_kwargs(writer=series, on_row=rows.append))
    except LimitError as exc:   # dt = "certified": the run is sized only once the step is known
        raise LimitError(f"{deck.path.name}: [time] end = {deck.t_end!r} s, dt = {deck.dt!r}: {exc}") from None
    files = {}
    if writer is not None:
        files["fields"] = writer.index
    if out.energy_csv is not None and len(result.energies.get("time", ())):
        files["energy_csv"] = write_energy_csv(out.energy_csv, result.energies)
    if out.probes_csv is not None and result.probes:
        files["probes_csv"] = write_probes_csv(out.probes_csv, result.probes)
    if out.plot is not None and len(result.energies.get("time", ())):
        files["plot"] = plot_energies(out.plot, result.energies, title=deck.title)
    return DeckRun(result, files, 0 if writer is None else len(writer.times))
