"""Figures of a fit: data, fitted law, baselines, and the law's extrapolation (matplotlib, Agg)."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch

#: Extrapolation range of curve plots, as stretch λ: into compression and out to λ = 9.
STRETCH_RANGE = (0.3, 9.0)


def plot_fit(path, model, sets, *, baselines: dict | None = None, title: str | None = None) -> None:
    """Write a PNG of each curve in ``sets`` (lipmat.fit data sets) with ``model``'s prediction.

    Curves: stress (MPa) against stretch λ = 1 + ε (shear strain γ for simple shear), the model over
    λ ∈ [0.3, 9] (dashed outside the data), ``baselines`` (name -> callable strain (k,) -> stress (k,)
    Pa) thin. Tables: predicted against measured components (parity plot).
    """
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from lipmat.fit import predict

    n = len(sets)
    fig, axes = plt.subplots(1, n, figsize=(6 * n, 4.5), squeeze=False)
    for ax, s in zip(axes[0], sets):
        if s.kind == "table":
            with torch.no_grad():
                p = predict(model, s).numpy().ravel() / 1e6
            y = s.y.numpy().ravel() / 1e6
            ax.plot(y, p, ".", ms=3)
            lim = [min(y.min(), p.min()), max(y.max(), p.max())]
            ax.plot(lim, lim, "k-", lw=0.8)
            ax.set_xlabel("measured stress component (MPa)")
            ax.set_ylabel("predicted stress component (MPa)")
            ax.set_title(Path(str(s.name)).name)
            continue
        shear = s.load_case == "simple_shear"
        x_data = s.x.numpy()
        lo, hi = (min(-1.0, x_data.min()), max(3.0, x_data.max() * 1.5)) if shear else \
            (STRETCH_RANGE[0] - 1.0, STRETCH_RANGE[1] - 1.0)
        grid = torch.linspace(lo, hi, 600, dtype=torch.float64)
        sub = type(s)(s.kind, grid, torch.zeros_like(grid), s.name, s.provenance, s.kinematics, s.load_case)
        with torch.no_grad():
            fitted = predict(model, sub).numpy() / 1e6
        xs = grid.numpy() if shear else 1.0 + grid.numpy()
        inside = (grid.numpy() >= min(0.0, x_data.min())) & (grid.numpy() <= x_data.max())
        label = getattr(model, "name", "model")
        ax.plot(xs, np.where(inside, fitted, np.nan), "C0-", lw=2, label=f"{label} (fit)")
        ax.plot(xs, np.where(inside, np.nan, fitted), "C0--", lw=1.5, label=f"{label} (extrapolation)")
        for i, (name, fn) in enumerate((baselines or {}).items()):
            try:
                values = np.asarray(fn(grid.numpy()), dtype=float) / 1e6
            except Exception:          # a baseline undefined in compression: show what exists
                continue
            ax.plot(xs, values, f"C{i + 2}-", lw=0.8, label=name)
        ax.plot(x_data if shear else 1.0 + x_data, s.y.numpy() / 1e6, "ko", ms=4, label="data")
        top = float(s.y.max()) / 1e6
        ax.set_ylim(-1.5 * top if not math.isnan(top) else None, 2.0 * top)
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
