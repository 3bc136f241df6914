"""Running a deck: :func:`run_deck` solves it and writes fields, energy CSV, probes CSV and the plot; with a
``[checkpoint]`` table it writes restart files, and ``restart=`` continues from one (:mod:`fem.deck.restart`)."""
from __future__ import annotations

import contextlib
import signal
import threading
from dataclasses import dataclass, field
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
    scalars: dict = field(default_factory=dict)   # [output.scalars]: name -> float
    restarted_from: Any = None                    # the checkpoint a restarted run continued from


class _SeriesWithEnergy:
    """Field writer wrapper: after every frame it also brings the energy CSV up to date, so a run that
    dies keeps its energy history up to its last frame. The first time it writes the file whole and
    atomically (a restart replaces the stopped run's rows after its checkpoint), then it appends the
    rows since (whole lines, :func:`fem.io.histories.append_energy_csv`): rewriting every row at every
    frame cost frames × rows. :func:`run_deck` rewrites the file atomically once more at the end."""

    def __init__(self, writer, rows: list, path: Path | None):
        self.writer, self.rows, self.path = writer, rows, path
        self.written = None     # rows in the file, None before the first (atomic) write

    def write(self, t, point_data, cell_data=None):
        if self.writer is not None:
            self.writer.write(t, point_data, cell_data)
        self.flush()

    def flush(self):
        from fem.io.histories import append_energy_csv, write_energy_csv

        rows, done = self.rows, self.written
        if self.path is None or not rows or done == len(rows):
            return
        keys = list(rows[0])
        if done is None or done > len(rows) or list(rows[-1]) != keys:
            write_energy_csv(self.path, {k: np.array([r[k] for r in rows]) for k in keys})
        else:
            append_energy_csv(self.path, {k: np.array([r[k] for r in rows[done:]]) for k in keys})
        self.written = len(rows)

    def close(self):
        if self.writer is not None:
            self.writer.close()


class _StopRequest:
    """Ctrl-C and SIGTERM, deferred to the end of a step (main thread only).

    A KeyboardInterrupt raised wherever the signal lands can fall between a step and its recording (the
    state of step n with the probes of step n-1), and the checkpoint written then would not continue
    exactly. Here the handler only sets a flag; :meth:`check`, the solver's per-step callback, raises
    KeyboardInterrupt once the step's recorders, frames and periodic checkpoint are done, and the solver
    stops as on Ctrl-C, writing its checkpoint of that step. A second signal stops at once.
    """

    def __init__(self):
        self.signal = None

    def check(self, state) -> None:
        if self.signal is not None:
            raise KeyboardInterrupt(f"signal {self.signal}")

    def _handler(self, signum, frame):
        if self.signal is not None:
            raise KeyboardInterrupt(f"signal {signum}")
        self.signal = signum

    @contextlib.contextmanager
    def installed(self):
        if threading.current_thread() is not threading.main_thread():
            yield self
            return
        old = {s: signal.signal(s, self._handler) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield self
        finally:
            for s, h in old.items():
                signal.signal(s, h)


def run_deck(deck, *, out_dir=None, progress: bool | None = None, restart=None) -> DeckRun:
    """Run ``deck`` (a :class:`~fem.deck.Deck`) with :func:`fem.solve` and write its outputs.

    out_dir : overrides ``[output] dir``. progress : tqdm bar (None: when stderr is a terminal).
    restart : None (a fresh run; an old checkpoint in the output folder is removed), True (continue from
    the deck's checkpoint in the output folder) or a checkpoint path. The file must have been written by
    a run of the same deck (:func:`fem.deck.restart.fingerprint`): anything else raises DeckError (a
    missing file FileNotFoundError) before anything is written. The restarted run's fields, energy CSV
    and probes CSV equal those of an uninterrupted run; frames written after the checkpoint by the
    stopped run are replaced, not duplicated.

    Writes the field series (if ``fields``), the energy CSV (also after every frame), the probes CSV
    and the energy plot; everything atomically. Returns a :class:`DeckRun` whatever the run's status
    (a stopped run keeps what it wrote); bad settings raise FemError before anything runs.
    """
    from fem.core.errors import LimitError
    from fem.deck.restart import restart_file
    from fem.deck.scalars import evaluate_scalars
    from fem.io.checkpoint import load_checkpoint
    from fem.solver.explicit import solve
    from fem.solver.solve_options import Checkpoint
    from fem.io.output import (FieldWriter, check_target, plot_energies, prepare_output_dir, write_energy_csv,
                            write_probes_csv)

    out = deck.output if out_dir is None else deck.output.moved_to(out_dir)
    what = "output folder (--out)" if out_dir is not None else "[output] dir"
    prepare_output_dir(out.dir, what, create=False)
    for p, key in ((out.energy_csv, "energy_csv"), (out.probes_csv, "probes_csv"), (out.plot, "plot")):
        if p is not None:   # every path checked before anything is created or run
            prepare_output_dir(p.parent, f"[output] {key} folder", create=False)
            check_target(p, f"[output] {key}")
    ck_path = out.dir / deck.checkpoint_file
    source = None if restart is None or restart is False else restart_file(deck, out.dir, restart)
    prepare_output_dir(out.dir, what)
    for p in (out.energy_csv, out.probes_csv, out.plot):
        if p is not None:
            prepare_output_dir(p.parent, "output folder")
    writer = (FieldWriter(out.dir, deck.problem.mesh, format=out.format, prefix=out.prefix,
                          compression=out.compression, resume=source is not None) if out.fields else None)
    rows: list[dict] = [] if source is None else list(load_checkpoint(source)["recorder"]["rows"])
    if source is None and deck.checkpoint_every is not None:
        ck_path.unlink(missing_ok=True)   # a fresh run: an older run's checkpoint must not be resumed later
    series = _SeriesWithEnergy(writer, rows, out.energy_csv)
    kw = deck.solve_kwargs(writer=series, on_row=rows.append)
    if deck.checkpoint_every is not None:
        kw["checkpoint"] = Checkpoint(ck_path, every=deck.checkpoint_every or None,
                                      meta={"deck_fingerprint": deck.fingerprint, "deck": str(deck.path)})
    stop = _StopRequest()
    try:
        with stop.installed():
            result = solve(deck.problem, progress=progress, restart=None if source is None else str(source),
                           callback=stop.check, **kw)
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
    scalars = evaluate_scalars(out.scalars, result, None if writer is None else writer.index, deck.problem.mesh.dim)
    return DeckRun(result, files, 0 if writer is None else len(writer.times), scalars, source)
