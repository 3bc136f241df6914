"""One case of a study, as a worker runs it: the case deck in its folder, resumed from its checkpoint.

:func:`run_case` never raises for a case that fails: bad input, a stopped run or a bug in a case becomes
a row with its status and message, so the study goes on. Its row is also written to ``result.json`` in
the case folder (atomically, last), which is how a re-run knows the case is done. A worker killed
mid-case leaves the case's last checkpoint behind; the scheduler gives the case to another worker and
:func:`run_case` continues from that checkpoint (``attempts`` in the row counts the starts).
"""
from __future__ import annotations

import json
import math
import os
import socket
import time
import traceback
from pathlib import Path

__all__ = ["run_case", "read_result", "RESULT_FILE", "CASE_DECK"]

RESULT_FILE = "result.json"
CASE_DECK = "case.toml"
_RUNNING = "running.json"


def _finite(x):
    return float(x) if x is not None and math.isfinite(float(x)) else None


def dt_form(deck, result) -> str:
    """How the case's step was chosen: ``certified (global)`` / ``certified (element)`` or ``deck``."""
    if deck.dt == "certified":
        return f"certified ({getattr(result, 'dt_method', None) or 'element'})"
    return "deck"


def read_result(folder) -> dict | None:
    """The row in ``folder/result.json``, or None when the case has not finished (or the file is unreadable)."""
    try:
        return json.loads((Path(folder) / RESULT_FILE).read_text())
    except (OSError, ValueError):
        return None


def _load_model(path: str):
    from lipmat.io import load

    return load(path)


def _attempt(folder: Path) -> int:
    """Count this start in ``running.json`` (pid and host of the worker that has the case now)."""
    try:
        n = int(json.loads((folder / _RUNNING).read_text()).get("attempts", 0))
    except (OSError, ValueError):
        n = 0
    info = {"pid": os.getpid(), "host": socket.gethostname(), "attempts": n + 1, "started": time.time()}
    _write_json(folder / _RUNNING, info)
    return n + 1


def _write_json(path: Path, obj) -> None:
    from fem.io.atomic import atomic_write

    atomic_write(path, lambda tmp: Path(tmp).write_text(json.dumps(obj, indent=1, allow_nan=False)))


def run_case(folder: str, key: str = "") -> dict:
    """Run the case deck in ``folder`` (resuming from its checkpoint if one is there) and return its row."""
    from fem.core.errors import FemError
    from fem.deck import load_deck, run_deck
    from lipmat.errors import LipmatError

    folder = Path(folder)
    wall0, cpu0 = time.perf_counter(), time.process_time()
    attempts = _attempt(folder)
    row = {"key": key, "status": "error", "message": "", "steps": None, "t_s": None, "dt_s": None,
           "dt_form": None, "dt_certified_s": None, "wall_time_s": None, "scalars": {}, "resumed": False,
           "attempts": attempts, "pid": os.getpid()}
    try:
        deck = load_deck(folder / CASE_DECK, material_loader=_load_model)
        restart = True if (folder / deck.checkpoint_file).exists() else None
        try:
            done = run_deck(deck, out_dir=folder, progress=False, restart=restart)
        except FemError:
            if restart is None:
                raise
            (folder / deck.checkpoint_file).unlink(missing_ok=True)   # an unusable checkpoint: start afresh
            done = run_deck(deck, out_dir=folder, progress=False)
        r = done.result
        row.update(status=r.status, message=r.message, steps=int(r.steps), t_s=float(r.t), dt_s=float(r.dt),
                   dt_form=dt_form(deck, r), dt_certified_s=_finite(r.dt_certified),
                   scalars={k: _finite(v) for k, v in done.scalars.items()},
                   resumed=done.restarted_from is not None)
    except (FemError, LipmatError, OSError) as exc:
        row.update(status="bad_input", message=" ".join(str(exc).split()))
    except Exception as exc:   # a bug in one case must not end the study: it becomes a row
        tb = traceback.extract_tb(exc.__traceback__)
        where = f" at {os.path.basename(tb[-1].filename)}:{tb[-1].lineno}" if tb else ""
        row.update(status="error", message=f"internal error {type(exc).__name__}: {exc}{where}")
    row["wall_time_s"] = time.perf_counter() - wall0
    row["cpu_time_s"] = time.process_time() - cpu0   # the worker process's CPU time over the case
    if row["status"] != "interrupted":
        _write_json(folder / RESULT_FILE, row)
    return row
