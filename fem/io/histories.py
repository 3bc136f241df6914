"""Histories of an explicit run: the energy and probe CSVs and the energy plot.

:func:`write_energy_csv` (columns ``time_s, step, kinetic_J, internal_J, external_J, damping_J,
balance_error``), :func:`write_probes_csv` (``time_s, NAME_ux_m, NAME_uy_m, …, NAME_Rx_N, …``),
:func:`plot_energies` (PNG/PDF/SVG by suffix, matplotlib's Agg backend). Every file is written
atomically (:mod:`fem.io.atomic`): a crash leaves the previous version or the new one.
:func:`append_energy_csv` adds rows to such a file instead (a run that writes its history as it goes:
rewriting it in full each time cost rows × writes), each call one ``write`` of whole lines.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from fem.core.errors import FemError
from fem.io.atomic import atomic_write, atomic_write_text

__all__ = ["write_energy_csv", "append_energy_csv", "energy_csv_text", "write_probes_csv", "plot_energies"]

_AXES = "xyz"

#: energy columns and the units of their CSV headers
_ENERGY_COLUMNS = (("time", "time_s"), ("step", "step"), ("kinetic", "kinetic_J"), ("internal", "internal_J"),
                   ("external", "external_J"), ("damping", "damping_J"), ("balance_error", "balance_error"))
_EXTRA_COLUMNS = {"dt_critical": "dt_critical_s", "dt_margin": "dt_margin"}  # with monitor_every


def _csv(header: list[str] | None, columns: list[np.ndarray]) -> str:
    rows = [] if header is None else [",".join(header)]
    for values in zip(*columns):
        rows.append(",".join(str(int(v)) if isinstance(v, (np.integer, int)) else repr(float(v)) for v in values))
    return "\n".join(rows) + "\n" if rows else ""


def write_energy_csv(path, energies: dict) -> Path:
    """Write the energy history atomically; returns the path.

    energies : ``Result.energies``, name -> (n_rows,) arrays with names ``time, step, kinetic,
    internal, external, damping, balance_error`` (extra names are appended as further columns;
    ``dt_critical`` and ``dt_margin`` from ``solve(monitor=Monitor(every=...))`` as ``dt_critical_s, dt_margin``).
    Header ``time_s,step,kinetic_J,internal_J,external_J,damping_J,balance_error``; values are
    written with full float64 precision.
    """
    return atomic_write_text(path, energy_csv_text(energies))


def append_energy_csv(path, energies: dict) -> Path:
    """Append rows (``energies`` as for :func:`write_energy_csv`, the same columns as the file's header)
    to an energy CSV that :func:`write_energy_csv` created; returns the path.

    The lines are written with one ``os.write`` on a file opened for appending, then fsynced: a process
    killed at any moment leaves whole lines (the rows before or after this call), never part of one.
    """
    text = energy_csv_text(energies, header=False)
    if text:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND)
        try:
            data = text.encode()
            while data:   # a regular file takes it in one write; loop only for a short write
                data = data[os.write(fd, data):]
            os.fsync(fd)
        finally:
            os.close(fd)
    return Path(path)


def energy_csv_text(energies: dict, header: bool = True) -> str:
    """The lines :func:`write_energy_csv` writes (``header`` False: the rows only)."""
    missing = [k for k, _ in _ENERGY_COLUMNS if k not in energies]
    if missing:
        raise FemError(f"energies lack {missing}; expected the keys {[k for k, _ in _ENERGY_COLUMNS]}")
    n = len(energies["time"])
    keys = [k for k, _ in _ENERGY_COLUMNS] + [k for k in energies if k not in dict(_ENERGY_COLUMNS)]
    names = [dict(_ENERGY_COLUMNS).get(k, _EXTRA_COLUMNS.get(k, k)) for k in keys]
    cols = []
    for k in keys:
        a = np.asarray(energies[k]).reshape(-1)
        if len(a) != n:
            raise FemError(f"energies[{k!r}] has {len(a)} rows, energies['time'] has {n}")
        cols.append(a.astype(np.int64) if k == "step" else a.astype(np.float64))
    return _csv(names if header else None, cols)


def write_probes_csv(path, probes: dict) -> Path:
    """Write probe histories atomically; returns the path.

    probes : ``Result.probes``, ``{"time": (m,), NAME: (m, dim), ..., "reactions": {NAME: (m, dim)}}``
    (mean displacement of the probe's nodes; the optional ``"reactions"`` the force (N) of each reaction
    probe). Columns ``time_s, NAME_ux_m, NAME_uy_m, ...`` in the order of ``probes``, then
    ``NAME_Rx_N, NAME_Ry_N, ...`` of each reaction probe.
    """
    if "time" not in probes:
        raise FemError(f"probes must have a 'time' entry, got keys {sorted(probes)}")
    t = np.asarray(probes["time"], dtype=np.float64).reshape(-1)
    header, cols = ["time_s"], [t]
    series = [(name, u, "u", "m") for name, u in probes.items() if name not in ("time", "reactions")]
    series += [(name, r, "R", "N") for name, r in (probes.get("reactions") or {}).items()]
    for name, u, sym, unit in series:
        u = np.asarray(u, dtype=np.float64)
        u = u[:, None] if u.ndim == 1 else u
        if u.shape[0] != len(t):
            raise FemError(f"probe {name!r} has {u.shape[0]} rows, time has {len(t)}")
        for c in range(u.shape[1]):
            header.append(f"{name}_{sym}{_AXES[c]}_{unit}")
            cols.append(u[:, c])
    return atomic_write_text(path, _csv(header, cols))


def plot_energies(path, energies: dict, *, title: str | None = None) -> Path:
    """Plot the energy history (matplotlib Agg) and save it atomically; returns the path.

    energies: rows as (n,) sequences ``time`` (s), ``kinetic``, ``internal``, ``external``, ``damping`` (J).
    Top panel (linear): kinetic, internal, external work and damping dissipation (J) against time (s, ms
    or µs by the span). Bottom panel (log): the terms that are small beside the energies and would lie on
    zero in the top panel — the dissipation and the balance residual
    ``|kinetic + internal − external + damping − E_0|`` (J) — with the run's peak energy as a reference
    line, so the residual's size relative to it reads off directly. The format follows the suffix.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    t = np.asarray(energies["time"], dtype=np.float64)
    span = float(np.max(np.abs(t))) if len(t) else 1.0
    unit, scale = next(((u, f) for u, f in (("s", 1.0), ("ms", 1e3), ("µs", 1e6)) if span * f >= 1.0), ("ns", 1e9))
    t = t * scale
    fig = Figure(figsize=(7.0, 6.0), constrained_layout=True)
    ax, ax_log = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 2]})
    # external work is drawn wide and pale underneath, internal dashed on top: in a quasi-static run the
    # two coincide, and both stay visible
    curves = [("external", "external work", dict(color="tab:green", lw=4.0, alpha=0.35)),
              ("internal", "internal (stored)", dict(color="tab:orange", lw=1.6, ls="--")),
              ("kinetic", "kinetic", dict(color="tab:blue", lw=1.4)),
              ("damping", "damping dissipation", dict(color="tab:red", lw=1.4, ls=":"))]
    for key, label, style in curves:
        if key in energies:
            ax.plot(t, energies[key], label=label, **style)
    ax.set_ylabel("energy (J)")
    ax.legend(loc="best", fontsize="small")
    ax.grid(True, alpha=0.3)
    if title:
        ax.set_title(title)
    k, i, x, d = (np.asarray(energies[key], dtype=np.float64) for key in ("kinetic", "internal", "external", "damping"))
    residual = np.abs(k + i - x + d - (k[0] + i[0])) if len(k) else k
    peak = max([float(np.max(np.abs(a))) for a in (k, i, x, d) if len(a)] + [0.0])
    positive = lambda a: np.where(np.isfinite(a) & (a > 0), a, np.nan)  # noqa: E731 - log scale: no zeros
    drawn = False
    if np.any(d > 0):
        ax_log.plot(t, positive(d), color="tab:red", lw=1.4, ls=":", label="damping dissipation")
        drawn = True
    if np.any(residual > 0):
        ax_log.plot(t, positive(residual), color="tab:purple", lw=1.2, label="|balance residual|")
        drawn = True
    if peak > 0 and np.isfinite(peak):
        ax_log.axhline(peak, color="0.4", lw=0.8, ls="--", label=f"peak energy of the run ({peak:.3g} J)")
        drawn = True
    if drawn:
        ax_log.set_yscale("log")
        ax_log.legend(loc="best", fontsize="small")
    else:
        ax_log.text(0.5, 0.5, "no dissipation and a zero residual", ha="center", va="center",
                    transform=ax_log.transAxes)
    ax_log.set_ylabel("J (log scale)")
    ax_log.set_xlabel(f"time ({unit})")
    ax_log.grid(True, alpha=0.3, which="both")
    fmt = Path(path).suffix.lstrip(".") or "png"
    return atomic_write(path, lambda tmp: fig.savefig(tmp, format=fmt, dpi=120))
