"""Figures of history fits: stress–stretch loops per rate and relaxation on a log time axis.

:func:`plot_histories` draws, for the measured histories and one or two models' predictions (arrays
from :meth:`HistoryBatch.split`), one panel per loading rate of the cyclic tests (nominal stress vs
stretch) and one panel of the relaxation tests (nominal stress vs time, log axis). Slack points
(P ≤ 0) are drawn grey: they are not data for the law.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np


def _rate(name: str) -> str:
    m = re.search(r"rate(\d+)p(\d+)", name)
    return f"{m.group(1)}.{m.group(2)} /s" if m else "cyclic"


def plot_histories(path, histories, predictions: dict[str, list[np.ndarray]], *, title: str = "") -> Path:
    """Write the figure to ``path`` (PNG/PDF by suffix). ``predictions``: label -> per-history arrays (Pa)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cyclic = {}
    for k, h in enumerate(histories):
        if h.kind != "relaxation":
            cyclic.setdefault(_rate(Path(h.name).name), []).append(k)
    relax = [k for k, h in enumerate(histories) if h.kind == "relaxation"]
    panels = [(f"loading–unloading, λ̇ = {r}", ks, False) for r, ks in sorted(cyclic.items())]
    if relax:
        panels.append(("ramp (0.25 /s) and hold", relax, True))
    fig, axes = plt.subplots(1, len(panels), figsize=(5.2 * len(panels), 4.2), squeeze=False)
    styles = ["-", "--", ":"]
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for ax, (label, ks, is_relax) in zip(axes[0], panels):
        for j, k in enumerate(ks):
            h, c = histories[k], colours[j % len(colours)]
            x = h.time if is_relax else h.stretch
            keep = h.fit_mask
            tag = f"λ = {h.stretch.max():.1f}"
            xs = np.where(x > 0, x, np.nan) if is_relax else x
            ax.plot(xs[keep], h.stress[keep] / 1e3, "o", ms=2.5, color=c, alpha=0.45, label=f"data {tag}")
            ax.plot(xs[~keep], h.stress[~keep] / 1e3, "o", ms=2.5, color="0.6")
            for s, (name, preds) in zip(styles, predictions.items()):
                ax.plot(xs, preds[k] / 1e3, s, color=c, lw=1.4, label=f"{name}" if j == 0 else None)
        if is_relax:
            ax.set_xscale("log")
            ax.set_xlabel("time t (s)")
        else:
            ax.set_xlabel("stretch λ")
        ax.set_ylabel("nominal stress P (kPa)")
        ax.set_title(label, fontsize=10)
        ax.legend(fontsize=7)
        ax.grid(alpha=0.3)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
