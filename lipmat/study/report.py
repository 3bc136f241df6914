"""A study's results: ``study.csv`` (one row per case), ``study.png`` and, over a fitted-law ensemble,
``ensemble.csv`` and ``ensemble_probes.png``.

study.csv columns: ``case``, ``folder``, the varied keys (files as paths relative to the study file),
``status``, ``steps``, ``t_s``, ``dt_s``, ``dt_form`` (``certified (global|element)`` or ``deck``),
``dt_certified_s``, ``wall_time_s`` (of the last start; a resumed case counts only what it ran after
the restart), one column per ``[output.scalars]`` entry of the deck, ``resumed``, ``attempts``, ``message``.

Over an ensemble (``"material.model" = { ensemble = ... }``) the members of each combination of the
other keys form a group; ensemble.csv gives per group and output the mean, min and max over the members
that completed, and the spread of their certified steps (each member's step is its own: its certificate
is its own). ensemble_probes.png draws each probe's history as the members' mean with a min–max band.
"""
from __future__ import annotations

import csv
import io
import math
from pathlib import Path

import numpy as np

__all__ = ["write_reports", "table_rows", "FIXED_COLUMNS"]

FIXED_COLUMNS = ("status", "steps", "t_s", "dt_s", "dt_form", "dt_certified_s", "wall_time_s")


def _shown(study, key: str, v):
    if isinstance(v, str) and key in ("mesh.file", "material.model"):
        p = Path(v)
        try:
            return str(p.relative_to(study.path.parent))
        except ValueError:
            return str(p)
    return v


def scalar_names(rows) -> list[str]:
    """The declared scalar outputs found in the cases' result rows, in first-seen order."""
    names: list[str] = []
    for r in rows:
        for k in r.get("scalars") or {}:
            if k not in names:
                names.append(k)
    return names


def table_rows(study, cases, rows: dict) -> tuple[list[str], list[dict]]:
    """(columns, one dict per case in case order) of study.csv."""
    names = scalar_names(rows.values())
    cols = ["case", "folder", *study.keys, *FIXED_COLUMNS, *names, "resumed", "attempts", "message"]
    out = []
    for c in cases:
        r = rows.get(c.index, {"status": "not_run", "message": "not run (study stopped)"})
        d = {"case": c.index, "folder": f"cases/{c.folder}", **{k: _shown(study, k, c.values[k]) for k in study.keys}}
        d.update({k: r.get(k) for k in FIXED_COLUMNS})
        d.update({k: (r.get("scalars") or {}).get(k) for k in names})
        d.update(resumed=r.get("resumed"), attempts=r.get("attempts"), message=r.get("message", ""))
        out.append(d)
    return cols, out


def _csv_text(cols, rows) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=cols, lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({k: ("" if r.get(k) is None else (repr(r[k]) if isinstance(r[k], float) else r[k])) for k in cols})
    return buf.getvalue()


def _write(path: Path, text: str) -> Path:
    from fem.io.atomic import atomic_write

    return atomic_write(path, lambda tmp: Path(tmp).write_text(text))


def _label(v) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


def _number(v) -> float:
    try:
        return float(v)
    except (TypeError, ValueError):
        return math.nan


def write_reports(study, cases, rows: dict) -> dict:
    """Write study.csv, study.png (and the ensemble files); returns name -> Path."""
    out = Path(study.out)
    cols, table = table_rows(study, cases, rows)
    files = {"table": _write(out / "study.csv", _csv_text(cols, table))}
    names = scalar_names(rows.values()) or ["dt_s"]
    files["plot"] = plot_study(out / "study.png", study, table, names)
    if study.ensemble:
        files.update(write_ensemble(study, cases, rows, table, names))
    return files


def _axis_key(study) -> str | None:
    """The varied key on the x axis: the first numeric one that is not the ensemble's."""
    for k in study.keys:
        if k in study.ensemble:
            continue
        if all(isinstance(v, (int, float)) for axis in study.axes if k in axis for v in axis[k]):
            return k
    return None


def plot_study(path: Path, study, table: list[dict], names: list[str]) -> Path:
    """Each declared output against the varied parameter; one line per combination of the other keys
    (over an ensemble: the members' mean and a min–max band)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    xkey = _axis_key(study)
    others = [k for k in study.keys if k != xkey and k not in study.ensemble]
    fig, axes = plt.subplots(1, len(names), figsize=(4.2 * len(names), 3.4), squeeze=False)
    for ax, name in zip(axes[0], names):
        groups: dict[tuple, list] = {}
        for r in table:
            groups.setdefault(tuple(r[k] for k in others), []).append(r)
        for label, rs in groups.items():
            xs = sorted({r[xkey] for r in rs}) if xkey else [r["case"] for r in rs]
            ys = [[_number(r[name]) for r in rs if (r[xkey] if xkey else r["case"]) == x and r["status"] == "completed"]
                  for x in xs]
            mean = [np.mean(y) if y else math.nan for y in ys]
            text = ", ".join(f"{k}={_label(v)}" for k, v in zip(others, label)) or None
            line, = ax.plot(xs, mean, "o-", label=text)
            if study.ensemble:
                lo = [min(y) if y else math.nan for y in ys]
                hi = [max(y) if y else math.nan for y in ys]
                ax.fill_between(xs, lo, hi, color=line.get_color(), alpha=0.25, label="ensemble min–max")
        ax.set_xlabel(xkey or "case")
        ax.set_ylabel(name)
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7)
    fig.suptitle(f"{study.path.name}: {len(table)} cases", fontsize=9)
    fig.tight_layout()
    from fem.io.atomic import atomic_write

    atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=110, format="png"))
    plt.close(fig)
    return path


def write_ensemble(study, cases, rows: dict, table: list[dict], names: list[str]) -> dict:
    """ensemble.csv (mean, min, max per output and group; the certified steps' spread) and the probe bands."""
    others = [k for k in study.keys if k not in study.ensemble]
    groups: dict[tuple, list[dict]] = {}
    for r in table:
        groups.setdefault(tuple(r[k] for k in others), []).append(r)
    cols = [*others, "members", "completed"]
    for n in [*names, "dt_certified_s"]:
        cols += [f"{n}_mean", f"{n}_min", f"{n}_max"]
    cols.append("dt_certified_max_over_min")
    out_rows = []
    for label, rs in groups.items():
        ok = [r for r in rs if r["status"] == "completed"]
        d = dict(zip(others, label), members=len(rs), completed=len(ok))
        for n in [*names, "dt_certified_s"]:
            v = np.array([_number(r[n]) for r in ok])
            v = v[np.isfinite(v)]
            d.update({f"{n}_mean": float(v.mean()) if v.size else None, f"{n}_min": float(v.min()) if v.size else None,
                      f"{n}_max": float(v.max()) if v.size else None})
        lo, hi = d["dt_certified_s_min"], d["dt_certified_s_max"]
        d["dt_certified_max_over_min"] = hi / lo if lo else None
        out_rows.append(d)
    out = Path(study.out)
    files = {"ensemble_table": _write(out / "ensemble.csv", _csv_text(cols, out_rows))}
    files["ensemble_probes"] = _probe_bands(out / "ensemble_probes.png", out, groups, others)
    return files


def _probe_bands(path: Path, out: Path, groups: dict, others: list[str]) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    # top: the histories (mean and min–max band); bottom: the band about the mean, which stays readable when
    # the members differ by far less than the motion itself (a displacement-controlled pull)
    fig, (ax, dev) = plt.subplots(2, 1, figsize=(6.4, 5.6), sharex=True, height_ratios=(3, 2))
    for label, rs in groups.items():
        hist = []
        for r in rs:
            p = out / r["folder"] / "probes.csv"
            if r["status"] == "completed" and p.is_file():
                hist.append(np.genfromtxt(p, delimiter=",", names=True))
        if not hist:
            continue
        t = np.linspace(0.0, min(h["time_s"][-1] for h in hist), 400)
        for col in [c for c in hist[0].dtype.names if c != "time_s"]:
            ys = np.array([np.interp(t, h["time_s"], h[col]) for h in hist])
            tag = ", ".join(f"{k}={_label(v)}" for k, v in zip(others, label))
            mean = ys.mean(axis=0)
            line, = ax.plot(t, mean, label=f"{col} {tag} (mean of {len(hist)})".replace(" ()", ""))
            ax.fill_between(t, ys.min(axis=0), ys.max(axis=0), color=line.get_color(), alpha=0.25)
            dev.fill_between(t, 1e3 * (ys.min(axis=0) - mean), 1e3 * (ys.max(axis=0) - mean),
                             color=line.get_color(), alpha=0.35)
            dev.plot(t, 0 * t, color=line.get_color(), lw=0.8)
    ax.set_ylabel("probe displacement (m)")
    dev.set_xlabel("time (s)")
    dev.set_ylabel("min / max − mean (mm)")
    for a in (ax, dev):
        a.grid(alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7)
    ax.set_title("probe histories over the ensemble: mean and min–max band", fontsize=9)
    fig.tight_layout()
    from fem.io.atomic import atomic_write

    atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=110, format="png"))
    plt.close(fig)
    return path
