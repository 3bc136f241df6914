"""Run an explicit simulation from a TOML deck.

Reads SIM.toml (schema: `fem.deck`; a material may be inline, e.g. type = "linear_elastic", or a
model file written by `lipmat fit`, model = "rubber.pt"), checks all of it before anything runs,
runs the central-difference solver and writes into the deck's [output] dir (or --out):
  fields.pvd + fields_*.vtu   (or fields.xdmf + .h5 with format = "xdmf")   open in ParaView
  energy.csv                  kinetic, internal, external, damping energy and the balance error
  probes.csv                  [output.probes] displacements and [output.reactions] forces over time
  energy.png                  the energies, and on a log scale the dissipation and the balance residual
Every file is written atomically; a run that stops keeps everything written so far.

The summary's energy balance error is |kinetic + internal − external + damping − initial energy| at each
recorded row, divided by the largest energy the run reached (kinetic, internal, |external work|,
dissipation or the initial energy, over all rows): one scale for the whole run, so the figure means the
same from the first row on (a row-by-row ratio is ~1 in the first steps, when every energy is still tiny).

With a [checkpoint] table (every = N steps) the run also writes checkpoint.pt into the output folder,
every N steps and when it is stopped by Ctrl-C or SIGTERM; `--restart` continues from it (or
`--restart FILE` from a named one). The continued run's fields, energy.csv and probes.csv equal an
uninterrupted run's; a checkpoint of another deck or mesh is refused (exit 2) and nothing is written.
The scalars of [output.scalars] (e.g. the peak probe displacement) are printed and in --json.

Exit status: 0 completed; 1 the run stopped (unstable, inverted element, interrupted) — one line on
stderr says where; 2 bad input (deck, mesh, model file); 3 an internal error (see lipmat --help).

Example:
  lipmat run examples/decks/bar_impact.toml --out out/bar --json
  lipmat run SIM.toml --restart            # after a Ctrl-C, kill or crash
"""
from __future__ import annotations

import math
import sys
import time

HELP = "run an explicit simulation from a TOML deck"


def add_arguments(parser) -> None:
    parser.add_argument("deck", metavar="SIM.toml", help="input deck (TOML)")
    parser.add_argument("--out", metavar="DIR", help="output folder (overrides [output] dir)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar (default: on a terminal)")
    parser.add_argument("--restart", nargs="?", const=True, default=None, metavar="CHECKPOINT",
                        help="continue from the deck's checkpoint in the output folder, or from CHECKPOINT")
    parser.add_argument("--force", action="store_true",
                        help="run even above the run-size limits (1e8 steps, 1e4 frames, 20 GB; fem.core.limits)")


def load_model(path: str):
    """The material loader for ``model = "file.pt"``: :func:`lipmat.io.load`, imported only when used."""
    from lipmat.io import load

    return load(path)


def run(args) -> int:
    from fem.deck import load_deck, run_deck
    from lipmat.cli._output import dumps, output_dir

    if args.out is not None:
        output_dir(args.out, "--out", create=False)
    wall0 = time.perf_counter()
    from fem.core.limits import Limits

    deck = load_deck(args.deck, material_loader=load_model, limits=Limits.off() if args.force else None)
    progress = False if args.no_progress else None
    done = run_deck(deck, out_dir=args.out, progress=progress, restart=getattr(args, "restart", None))
    summary = _summary(deck, done, args.deck, time.perf_counter() - wall0)
    if args.json:
        print(dumps(summary, indent=2))
    else:
        print(_text(summary))
    if summary["status"] != "completed":
        print(f"lipmat run: {stopped_line(summary['status'], summary['message'])}", file=sys.stderr)
        return 1
    return 0


#: what to do when a run leaves the certified domain of a finite-strain law
DOMAIN_HINT = ("to widen the certified domain, fit the model again with a wider `lipmat fit ... --domain "
               "LAM_LO,LAM_HI,J_LO,J_HI` (and --bulk-ratio, which sets how far J may move), or for an inline "
               "law set domain = [lam_lo, lam_hi, J_lo, J_hi] in [material]; a wider domain proves a smaller step")


def stopped_line(status: str, message: str) -> str:
    """``status: message`` once (the solver's messages already start with their status), with a hint where
    the user can act: an ``out_of_domain`` stop names the fit options and the deck key that widen the domain."""
    text = message if message.startswith(f"{status}:") else f"{status}: {message}"
    if status == "out_of_domain":
        text += f"; {DOMAIN_HINT}"
    return text


def _finite(x):
    """A float for JSON: None for NaN/inf (JSON has no such numbers)."""
    return float(x) if x is not None and math.isfinite(float(x)) else None


def _dt_source(deck, result) -> str:
    cert = result.dt_certified
    if deck.dt == "certified":
        src = f"certified (proven stable step, {getattr(result, 'dt_method', None) or 'element'} form)"
    else:
        src = "from the deck"
        if cert is not None:
            src += f"; certified step {cert:.4g} s, ratio {float(deck.dt) / cert:.3f}"
            src += " (allow_unsafe_dt)" if float(deck.dt) > cert else ""
    requested = cert if deck.dt == "certified" else float(deck.dt)
    if requested is not None and result.dt < requested * (1 - 1e-9):
        src += f"; shortened from {requested:.4g} s to end exactly at t_end"
    return src


def _summary(deck, done, deck_arg: str, wall: float) -> dict:
    r = done.result
    from fem.solver.energy import run_balance_error

    err_max, err_final = run_balance_error(r.energies)
    mesh = deck.problem.mesh
    return {
        "status": r.status, "message": r.message, "deck": str(deck_arg), "title": deck.title,
        "material": deck.material_source,
        "mesh": {"cell_type": mesh.cell_type, "cells": int(mesh.n_cells), "points": int(mesh.n_points),
                 "dim": int(mesh.dim)},
        "steps": int(r.steps), "t": float(r.t), "t_end": float(deck.t_end), "dt": float(r.dt),
        "dt_source": _dt_source(deck, r), "dt_certified": _finite(r.dt_certified),
        "dt_method": getattr(r, "dt_method", None), "dt_reason": getattr(r, "dt_reason", "") or None,
        "energy_error_max": _finite(err_max), "energy_error_final": _finite(err_final),
        "energy_error_definition": "|K + W_int - W_ext + W_damp - E_0| / the run's peak energy",
        "dt_margin_min": _finite(min(m["dt_critical"] for m in r.monitor) / r.dt) if r.monitor else None,
        "frames": int(done.frames), "outputs": {k: str(v) for k, v in done.files.items()},
        "solve_time_s": float(r.wall_time), "wall_time_s": float(wall),
        "fault": None if r.fault is None else r.fault.as_dict(),
        "scalars": {k: _finite(v) for k, v in done.scalars.items()},
        "restarted_from": None if done.restarted_from is None else str(done.restarted_from),
    }


def _text(s: dict) -> str:
    def g(x, unit=""):
        return "n/a" if x is None else f"{x:.4g}{unit}"

    m = s["mesh"]
    lines = [f"lipmat run: {s['status']} — {s['title']} ({s['deck']})",
             f"  material     {s['material']}; {m['cells']} {m['cell_type']} cells, {m['points']} nodes ({m['dim']}D)",
             f"  steps        {s['steps']} × dt = {g(s['dt'], ' s')} ({s['dt_source']})",
             *([f"  certified    {s['dt_reason']}"] if s.get("dt_reason") else []),
             f"  time         t = {g(s['t'], ' s')} of {g(s['t_end'], ' s')}",
             *([f"  margin       measured critical step / dt >= {s['dt_margin_min']:.4g} "
                f"(estimate, monitor_every)"] if s.get("dt_margin_min") is not None else []),
             f"  energy       balance error max {g(s['energy_error_max'])}, final {g(s['energy_error_final'])} "
             f"(residual / the run's peak energy)"]
    outs = list(s["outputs"].items())
    for i, (k, v) in enumerate(outs):
        extra = f" ({s['frames']} frames)" if k == "fields" else ""
        lines.append(f"  {'outputs' if i == 0 else '':<12} {v}{extra}")
    if not outs:
        lines.append("  outputs      none")
    for i, (k, v) in enumerate(s["scalars"].items()):
        lines.append(f"  {'scalars' if i == 0 else '':<12} {k} = {g(v)}")
    if s["restarted_from"]:
        lines.append(f"  restarted    from {s['restarted_from']}")
    lines.append(f"  wall time    {s['wall_time_s']:.3g} s (solver {s['solve_time_s']:.3g} s)")
    if s["status"] != "completed":
        lines.append(f"  stopped      {stopped_line(s['status'], s['message'])}")
    return "\n".join(lines)
