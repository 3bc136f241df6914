"""Time-stamped tests (histories) for laws with memory: reading, batching, and per-curve metrics.

File format (the conventions of :mod:`lipmat.fitting.data`: comma/semicolon/tab separated, one header
line, ``#`` comments, plain decimal cells, every problem a DataError naming file, line and column)::

    time_s,stretch,nominal_stress_kPa
    0.000,1.00000,-0.0545
    0.260,1.00214,0.7409

- time: ``time_s`` (or ``time_ms``, ``time_min``, ``time_h``; converted to seconds). A time column
  without a unit is refused, as is a time that does not strictly increase (a history is ordered).
- deformation: ``stretch`` λ, or ``strain`` (engineering, λ − 1).
- stress: ``nominal_stress_<unit>`` (_Pa/_kPa/_MPa/_GPa, or the ``stress_unit=`` option), the nominal
  (first Piola–Kirchhoff) stress. Two stress columns carrying different units in one file are refused
  (mixed units). The stress may be negative (a slack strip): such points drive the history but are not
  data for the law (:attr:`History.fit_mask`, P > 0 only).
- mode: uniaxial tension of an incompressible solid (the one kind of history read today; a
  ``# load_case:`` line or ``mode=`` naming another mode is refused with what is supported).

Metrics (:func:`curve_metrics`) over the points with measured P > 0: R², MAPE (%), RMSE (Pa) and the
peak-stress error ``100·(max P̂ − max P)/max P`` (%), P̂ the prediction.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from lipmat.errors import DataError, LipmatError
from lipmat.fitting import metrics

#: Time unit suffix -> factor to seconds.
TIME_UNITS = {"s": 1.0, "ms": 1e-3, "min": 60.0, "h": 3600.0}
#: The columns a history file must have (one of each group).
COLUMNS = ("time_s", "stretch", "nominal_stress_<unit>")


@dataclass
class History:
    """One uniaxial test history.

    time: (n,) s, strictly increasing; stretch: (n,) λ > 0; stress: (n,) Pa nominal P₁.
    mode: "uniaxial"; kind: "relaxation" (the last half of the time holds the stretch) or "cyclic".
    provenance: {file, sha256, columns, unit, time_unit, rows, mode, kind}.
    """
    time: np.ndarray
    stretch: np.ndarray
    stress: np.ndarray
    mode: str = "uniaxial"
    kind: str = "cyclic"
    provenance: dict = field(default_factory=dict)

    @property
    def name(self) -> str:
        return str(self.provenance.get("file", "history"))

    @property
    def fit_mask(self) -> np.ndarray:
        """(n,) bool: the points that are data for the law (P > 0; a slack strip carries no stress)."""
        return self.stress > 0

    def __len__(self) -> int:
        return int(self.time.shape[0])


def _columns(raw):
    from lipmat.fitting import data

    found: dict[str, tuple[int, str | None]] = {}
    for j, name in enumerate(raw.header):
        low = name.lower()
        if low.startswith("time"):
            unit = low[5:] if low.startswith("time_") else None
            if unit is None or unit not in TIME_UNITS:
                raise DataError(f"{data._where(raw, raw.header_line, j)}: the time column needs a unit, e.g. time_s "
                                f"(one of {', '.join('time_' + u for u in TIME_UNITS)}); received {name!r}")
            key = "time"
        elif low in ("stretch", "strain"):
            key, unit = low, None
        elif low.startswith("nominal_stress"):
            base, unit = data._split_unit(name)
            if base != "nominal_stress":
                raise DataError(f"{data._where(raw, raw.header_line, j)}: unknown column {name!r}; expected "
                                f"nominal_stress with a unit suffix _Pa/_kPa/_MPa/_GPa")
            key = f"stress{len([k for k in found if k.startswith('stress')])}"
        else:
            raise DataError(f"{data._where(raw, raw.header_line, j)}: unknown column {name!r} in a history; "
                            f"expected {', '.join(COLUMNS)}")
        if key in found or (key in ("stretch", "strain") and ({"stretch", "strain"} & set(found))):
            raise DataError(f"{data._where(raw, raw.header_line, j)}: a second {key} column {name!r}")
        found[key] = (j, unit)
    return found


def load_history(path, *, stress_unit: str | None = None, mode: str | None = None) -> History:
    """Read one history file (module docstring). Raises DataError (file, line, column) or FileNotFoundError."""
    from lipmat.fitting import data

    raw = data._read(path)
    where = data._where(raw, raw.header_line)
    requested = mode or raw.directives.get("load_case")
    if requested is not None and str(requested).lower() not in ("uniaxial", "ut"):
        raise DataError(f"{where}: histories of mode {requested!r} are not supported; expected uniaxial tension "
                        f"(columns {', '.join(COLUMNS)})")
    cols = _columns(raw)
    missing = [c for c, ok in (("time_s", "time" in cols), ("stretch", {"stretch", "strain"} & set(cols)),
                               ("nominal_stress_<unit>", "stress0" in cols)) if not ok]
    if missing:
        raise DataError(f"{where}: a history needs the columns {', '.join(COLUMNS)}; missing {missing}, "
                        f"received {raw.header}")
    option = data._check_unit_option(stress_unit, raw)
    stress_cols = [cols[k] for k in sorted(cols) if k.startswith("stress")]
    units = [data._unit_of(raw, j, suf, option)[0] for j, suf in stress_cols]
    if len(set(units)) > 1:
        raise DataError(f"{where}: mixed units: the stress columns {[raw.header[j] for j, _ in stress_cols]} carry "
                        f"{units}; expected one unit per file")
    if len(stress_cols) > 1:
        raise DataError(f"{data._where(raw, raw.header_line, stress_cols[1][0])}: a uniaxial history has one "
                        f"stress column; received {len(stress_cols)}")
    tcol, tunit = cols["time"]
    t = data._numbers(raw, tcol) * TIME_UNITS[tunit]
    bad = np.flatnonzero(np.diff(t) <= 0)
    if bad.size:
        k = int(bad[0])
        raise DataError(f"{data._where(raw, raw.rows[k + 1][0], tcol)}: time must strictly increase along a history; "
                        f"{raw.rows[k + 1][1][tcol]!r} follows {raw.rows[k][1][tcol]!r} (line {raw.rows[k][0]})")
    dkey = "stretch" if "stretch" in cols else "strain"
    lam = data._numbers(raw, cols[dkey][0]) + (0.0 if dkey == "stretch" else 1.0)
    nonpos = np.flatnonzero(lam <= 0)
    if nonpos.size:
        line, cells = raw.rows[int(nonpos[0])]
        raise DataError(f"{data._where(raw, line, cols[dkey][0])}: expected a stretch > 0, received {cells[cols[dkey][0]]!r}")
    scol = stress_cols[0][0]
    p = data._numbers(raw, scol) * data.UNITS[units[0]]
    data._check_scaled(raw, p, scol, units[0])
    data._check_count(raw, len(t))
    if not (p > 0).any():
        raise DataError(f"{raw.path}: no point with a positive stress; expected a tension test")
    kind = _kind(t, lam)
    prov = data._provenance(raw, unit=units[0], time_unit=tunit, rows=int(len(t)), mode="uniaxial", kind=kind)
    return History(t - t[0], lam, p, "uniaxial", kind, prov)


def _kind(t: np.ndarray, lam: np.ndarray) -> str:
    """'relaxation' when the stretch holds still over the last half of the test, else 'cyclic'."""
    late = lam[t >= t[0] + 0.5 * (t[-1] - t[0])]
    span = float(lam.max() - lam.min())
    return "relaxation" if late.size > 2 and float(late.max() - late.min()) <= 1e-3 * max(span, 1e-12) else "cyclic"


def load_histories(paths, *, stress_unit: str | None = None) -> list[History]:
    """Several files -> [History]; DataError at the first bad one."""
    paths = list(paths) if isinstance(paths, (list, tuple)) else [paths]
    if not paths:
        raise LipmatError("expected at least one history file, received none")
    return [p if isinstance(p, History) else load_history(p, stress_unit=stress_unit) for p in paths]


def is_history_file(path) -> bool:
    """True when the file's header has a time column (so it is a history, not a curve)."""
    from lipmat.fitting import data

    raw = data._read(path)
    return any(h.lower().startswith("time") for h in raw.header)


class HistoryBatch:
    """B histories padded to a common length T: ``lam`` (T, B), ``dt`` (T, B) (0 on padding, which holds
    the last stretch: a zero step changes nothing), targets and masks (T, B), for one batched integration."""

    def __init__(self, histories: list[History]):
        self.histories = histories
        T, B = max(len(h) for h in histories), len(histories)
        lam, dt = np.ones((T, B)), np.zeros((T, B))
        y, mask = np.zeros((T, B)), np.zeros((T, B), dtype=bool)
        for b, h in enumerate(histories):
            n = len(h)
            lam[:n, b], lam[n:, b] = h.stretch, h.stretch[-1]
            dt[1:n, b] = np.diff(h.time)
            y[:n, b], mask[:n, b] = h.stress, h.fit_mask
        self.lam, self.dt = torch.as_tensor(lam), torch.as_tensor(dt)
        self.y, self.mask = torch.as_tensor(y), torch.as_tensor(mask)
        counts = self.mask.sum(0).clamp_min(1).to(torch.float64)
        scale = torch.stack([self.y[:, b][self.mask[:, b]].max() for b in range(B)])
        self.abs_scale = scale
        self.weight = self.mask / (counts * B)

    def loss(self, pred: torch.Tensor) -> torch.Tensor:
        """Mean over histories of the mean over their data points of ((P̂ − P)/|P|)² + ((P̂ − P)/max P)²
        (relative plus absolute, as the hyperelastic fit): (T, B) -> ()."""
        r = torch.where(self.mask, pred - self.y, torch.zeros_like(pred))
        rel = r / torch.where(self.mask, self.y.abs() + 1e-3 * self.abs_scale, torch.ones_like(pred))
        return (self.weight * (rel**2 + (r / self.abs_scale) ** 2)).sum()

    def split(self, pred: torch.Tensor) -> list[np.ndarray]:
        """(T, B) -> per history (n,) arrays (padding removed)."""
        p = pred.detach().numpy()
        return [p[:len(h), b] for b, h in enumerate(self.histories)]


def curve_metrics(y: np.ndarray, p: np.ndarray) -> dict:
    """Over the points with y > 0: r2, mape (%), rmse (Pa), peak_error (%, signed), points."""
    keep = y > 0
    yk, pk = y[keep], p[keep]
    peak = float(yk.max())
    return {"points": int(keep.sum()), "r2": float(metrics.r2(yk, pk)), "mape": float(metrics.mape(yk, pk)),
            "rmse": float(metrics.rmse(yk, pk)), "peak_error": float(100.0 * (pk.max() - peak) / peak)}


def evaluate(model, histories: list[History]) -> list[dict]:
    """Per-history metrics of a model with ``uniaxial_history(lam (T, B), dt (T, B)) -> P (T, B)``:
    [{file, mode, kind, points, r2, mape, rmse, peak_error}]."""
    batch = HistoryBatch(histories)
    with torch.no_grad():
        preds = batch.split(model.uniaxial_history(batch.lam, batch.dt))
    return [{"file": h.name, "mode": h.mode, "kind": h.kind, **curve_metrics(h.stress, p)}
            for h, p in zip(histories, preds)]
