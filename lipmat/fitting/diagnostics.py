"""Checks of a finished 1D fit that the metrics alone do not explain: is the law held below the data?

A stiffening curve (rubber near its limit stretch, soft tissue) ends steeper than any of its chords. The
law's slope is capped (``max_stiffness``, by default 1.1 × the largest chord) and the certified bound
is what the fit actually reached; when that is below the slope the data end with, the law bends away
under the last points and the fit is poor with nothing in the report saying why. :func:`end_tangent`
estimates the slope the data end with; :func:`stiffening_warnings` turns a shortfall at an end of a
curve into a message that names the numbers and a ``max_stiffness`` to try.
"""
from __future__ import annotations

import math

import numpy as np

#: Relative shortfall of the law at a curve's end point (below the data, toward zero) that counts as
#: "held below": smaller misses are the fit's ordinary error.
SHORTFALL = 0.02
#: The suggested cap is this multiple of the data's end tangent (so the law's slope fraction need not
#: saturate near 1, which the fit reaches slowly).
SUGGEST_FACTOR = 2.0


def end_tangent(x, y) -> tuple[float, int]:
    """Slope the data end with, and the index of that end: sorted strains x (k,), stresses y (k,) Pa.

    At each end, the derivative of the parabola through the three outermost points (one-sided) or the
    outermost chord, whichever is larger: for a stiffening curve the parabola sees the upturn that the
    chord averages away. The steeper end is returned (the tension end for ties).
    """
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    best = (0.0, len(x) - 1)
    for idx in ((len(x) - 1, len(x) - 2, len(x) - 3), (0, 1, 2)):
        x0, x1, x2 = x[list(idx)]
        y0, y1, y2 = y[list(idx)]
        if not (x0 != x1 and x1 != x2 and x0 != x2):
            continue
        m_out, m_in = (y0 - y1) / (x0 - x1), (y1 - y2) / (x1 - x2)
        parabola = m_out + (m_out - m_in) * (x0 - x1) / (x0 - x2)
        slope = max(m_out, parabola)
        if slope > best[0]:
            best = (float(slope), idx[0])
    return best


def stiffening_warnings(curves, predictions, bound: float, cap: float) -> list[str]:
    """Messages for curves whose end the law misses because its slope is held below the data's.

    curves: (name, strain (k,), stress (k,) Pa) of each 1D curve, strains sorted; predictions: the
    law's stresses (k,) Pa at those strains (the same predictions the metrics use); bound: the certified
    slope bound (Pa); cap: the slope cap of the fit (Pa). A curve is reported when the law ends more
    than :data:`SHORTFALL` short of its end point (toward zero) and min(bound, cap) is below
    :func:`end_tangent`; the message suggests ``max_stiffness`` = :data:`SUGGEST_FACTOR` × that tangent.
    """
    out = []
    limit = min(bound, cap)
    for (name, x, y), p in zip(curves, predictions):
        x, y, p = (np.asarray(a, dtype=np.float64).reshape(-1) for a in (x, y, p))
        if len(x) < 3:
            continue
        tangent, k = end_tangent(x, y)
        if y[k] == 0 or not tangent > limit:
            continue
        short = (y[k] - p[k]) / y[k]          # > 0: the law lies between zero and the data there
        if not short > SHORTFALL:
            continue
        suggest = _round_up(SUGGEST_FACTOR * tangent)
        out.append(f"{name}: the law ends {100 * short:.0f} % below the data (stress {y[k]:.4g} Pa at strain "
                   f"{x[k]:.4g}): its slope is held to {limit:.4g} Pa (cap {cap:.4g} Pa, certified {bound:.4g} Pa) "
                   f"while the data end with a slope of about {tangent:.4g} Pa; refit with a higher cap, e.g. "
                   f"--max-stiffness {suggest:.2g} (max_stiffness={suggest:.2g})")
    return out


def _round_up(value: float) -> float:
    """``value`` rounded up to two significant digits (a number a user can type)."""
    if not (math.isfinite(value) and value > 0):
        return value
    scale = 10.0 ** (math.floor(math.log10(value)) - 1)
    return math.ceil(value / scale) * scale
