"""Figures of a fit: data, fitted law, baselines, and the law's extrapolation (matplotlib, Agg).

Every fitted line is drawn from the same prediction function the fit's metrics use
(:func:`lipmat.fitting.stress_strain.predict` for σ(ε) laws, :func:`lipmat.fitting.hyperelastic.predict_curve`
for finite-strain tests), so a figure cannot disagree with the R² printed beside it.
:func:`fit_figure` and :func:`tests_figure` return the figure (tests read its lines back);
:func:`plot_fit` and :func:`plot_tests` write it to a file.

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
    """Write :func:`fit_figure` to ``path`` (PNG, PDF or SVG by suffix)."""
    _save(fit_figure(model, sets, baselines=baselines, title=title), path)


def _save(fig, path) -> None:
    import matplotlib.pyplot as plt

    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _pyplot():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def fit_figure(model, sets, *, baselines: dict | None = None, title: str | None = None):
    """A figure of each curve in ``sets`` (lipmat.fitting.stress_strain data sets) with ``model``'s prediction.

    Curves: stress (MPa) against stretch λ = 1 + ε (shear strain γ for simple shear), the model over
    :func:`plot_range` (dashed outside the data), ``baselines`` (name -> callable strain (k,) -> stress
    (k,) Pa) thin; every label carries its R² on that curve. Tables: predicted against measured
    components (parity plot) with the R² over all components. Returns the matplotlib Figure.
    """
    plt = _pyplot()
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
    return fig


#: Points of the drawn path of a one-parameter finite-strain test (the data's stretches are added).
PATH_POINTS = 200


def plot_tests(path, law, curves) -> None:
    """Write :func:`tests_figure` to ``path`` (PNG, PDF or SVG by suffix)."""
    _save(tests_figure(law, curves), path)


def tests_figure(law, curves):
    """Data (markers) and the fitted law (lines) of every finite-strain test: nominal stress (MPa) against
    stretch. Returns the matplotlib Figure.

    ``curves``: lipmat.fitting.multiaxial.MultiaxialCurve objects; ``law``: anything with ``w(I1, I2)``.
    A one-parameter test (uniaxial, equibiaxial, pure shear) is drawn through the prediction at its data
    rows — the very array its R² is computed from — and between them along its own kinematics
    (``curve.along``: uniaxial λ₂ = λ₁^(−1/2), never a straight line between end points), from λ = 1 to
    its last stretch; a general biaxial test through its rows (P₁ against λ₁, P₂ against λ₂). The R² in
    each label is the fit report's.
    """
    plt = _pyplot()
    from lipmat.fitting.hyperelastic import curve_metrics, predict_curve

    fig, ax = plt.subplots(figsize=(6, 4.5))
    for c in curves:
        with torch.no_grad():
            at_data = predict_curve(law, c).numpy()
            if c.mode == "biaxial":
                path, between = c.stretch, at_data[:0]
            else:
                lam = c.stretch[:, 0]
                grid = np.linspace(min(1.0, float(lam.min())), max(1.0, float(lam.max())), PATH_POINTS)
                grid = grid[~np.isin(grid, lam)]
                path = np.concatenate([c.stretch, c.along(grid).stretch])
                between = predict_curve(law, c.along(grid)).numpy()
        r2 = curve_metrics(c.targets(), at_data)["r2"]
        measured = [k for k in range(2) if c.measured[k]]
        for k, mine, extra in zip(measured, np.split(at_data, len(measured)), np.split(between, len(measured))):
            order = np.argsort(path[:, k], kind="stable")
            tag = c.mode if c.mode != "biaxial" else f"biaxial P{k + 1}"
            line, = ax.plot(path[order, k], np.concatenate([mine, extra])[order] / 1e6, "-",
                            label=f"{tag} (fit, R² {r2:.6f})")
            ax.plot(c.stretch[:, k], c.stress[:, k] / 1e6, "o", color=line.get_color(), ms=4, label=f"{tag} (data)")
    ax.set_xlabel("stretch λ₁ (λ₂ for P₂ of a biaxial test)" if any(c.mode == "biaxial" for c in curves)
                  else "stretch λ₁")
    ax.set_ylabel("nominal stress P (MPa)")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return fig
