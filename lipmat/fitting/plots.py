"""Figures of a fit: data, fitted law, baselines, and the law's extrapolation (matplotlib, Agg).

The axes follow the data: a curve is drawn over its strain range widened by half its span on the
extension side and a quarter of it into compression (a small-strain curve gets a small-strain axis), and
the stress axis over the data's range with a margin. Every legend entry carries its R² on the data."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

#: Widening of the data's strain span drawn on each side (compression side, extension side).
EXTRAPOLATE = (0.25, 0.5)


def plot_range(strain, shear: bool = False) -> tuple[float, float]:
    """(lo, hi) strain range of a curve plot: the data's range (origin included) widened by EXTRAPOLATE;
    for tension-type curves never below a stretch of 0.05 (λ > 0)."""
    x = np.asarray(strain, dtype=float)
    lo, hi = min(0.0, float(x.min())), max(0.0, float(x.max()))
    span = (hi - lo) or 1.0
    lo, hi = lo - EXTRAPOLATE[0] * span, hi + EXTRAPOLATE[1] * span
    return (lo, hi) if shear else (max(lo, -0.95), hi)


def _r2(y, p) -> float:
    from lipmat.fitting import metrics
    return float(metrics.r2(np.asarray(y, dtype=float), np.asarray(p, dtype=float)))


def plot_fit(path, model, sets, *, baselines: dict | None = None, title: str | None = None) -> None:
    """Write a PNG of each curve in ``sets`` (lipmat.fitting.stress_strain data sets) with ``model``'s prediction.

    Curves: stress (MPa) against stretch λ = 1 + ε (shear strain γ for simple shear), the model over
    :func:`plot_range` (dashed outside the data), ``baselines`` (name -> callable strain (k,) -> stress
    (k,) Pa) thin; every label carries its R² on that curve. Tables: predicted against measured
    components (parity plot) with the R² over all components.
    """
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from lipmat.fitting.stress_strain import predict

    n = len(sets)
    fig, axes = plt.subplots(1, n, figsize=(6 * n, 4.5), squeeze=False)
    for ax, s in zip(axes[0], sets):
        if s.kind == "table":
            with torch.no_grad():
                p = predict(model, s).numpy().ravel() / 1e6
            y = s.y.numpy().ravel() / 1e6
            ax.plot(y, p, ".", ms=3, label=f"{getattr(model, 'name', 'model')} (R² {_r2(y, p):.4f})")
            ax.legend(fontsize=8, loc="upper left")
            lim = [min(y.min(), p.min()), max(y.max(), p.max())]
            ax.plot(lim, lim, "k-", lw=0.8)
            ax.set_xlabel("measured stress component (MPa)")
            ax.set_ylabel("predicted stress component (MPa)")
            ax.set_title(Path(str(s.name)).name)
            continue
        shear = s.load_case == "simple_shear"
        x_data = s.x.numpy()
        lo, hi = plot_range(x_data, shear)
        grid = torch.linspace(lo, hi, 600, dtype=torch.float64)
        sub = type(s)(s.kind, grid, torch.zeros_like(grid), s.name, s.provenance, s.kinematics, s.load_case)
        with torch.no_grad():
            fitted = predict(model, sub).numpy() / 1e6
        xs = grid.numpy() if shear else 1.0 + grid.numpy()
        inside = (grid.numpy() >= min(0.0, x_data.min())) & (grid.numpy() <= x_data.max())
        label = getattr(model, "name", "model")
        with torch.no_grad():
            at_data = predict(model, s).numpy()
        y_data = s.y.numpy()
        ax.plot(xs, np.where(inside, fitted, np.nan), "C0-", lw=2, label=f"{label} (fit, R² {_r2(y_data, at_data):.4f})")
        ax.plot(xs, np.where(inside, np.nan, fitted), "C0--", lw=1.5, label=f"{label} (extrapolation)")
        for i, (name, fn) in enumerate((baselines or {}).items()):
            with np.errstate(all="ignore"):    # a law undefined in deep compression: NaN, not drawn
                values = np.asarray(fn(grid.numpy()), dtype=float) / 1e6
                r2 = _r2(y_data, np.asarray(fn(x_data), dtype=float))
            ax.plot(xs, values, f"C{i + 2}-", lw=0.8, label=f"{name} (R² {r2:.4f})")
        ax.plot(x_data if shear else 1.0 + x_data, s.y.numpy() / 1e6, "ko", ms=4, label="data")
        y_lo, y_hi = min(0.0, float(y_data.min())) / 1e6, max(0.0, float(y_data.max())) / 1e6
        pad = 0.35 * ((y_hi - y_lo) or 1.0)
        ax.set_xlim(xs[0], xs[-1])
        ax.set_ylim(y_lo - pad, y_hi + pad)
        ax.axhline(0, color="0.6", lw=0.5)
        ax.set_xlabel("shear strain γ (−)" if shear else "stretch λ (−)")
        ax.set_ylabel("shear stress τ (MPa)" if shear else "nominal stress P (MPa)")
        ax.set_title(f"{Path(str(s.name)).name} ({s.load_case})")
        ax.legend(fontsize=8, loc="upper left")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
