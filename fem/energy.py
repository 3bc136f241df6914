"""Energy bookkeeping of an explicit run: kinetic, internal, external work, damping, balance error.

Per step the solver adds the trapezoid work ``½ Δu·(f_n + f_{n+1})`` of the internal, external
(loads *and* reactions at prescribed dofs) and damping forces (:meth:`CentralDifference._increments`).
At a row it reports

- ``kinetic``  ``½ vᵀ M v`` with the whole-step velocity,
- ``internal`` the stored energy ``Σ w ψ(ε)`` when the material has ``energy`` (``½ uᵀ K u`` on the
  linear path), else the accumulated internal work (measured from the initial state),
- ``external`` the accumulated external work, ``damping`` the accumulated dissipation, and
- ``balance_error = |K + W_int − W_ext + W_damp − E_0| / max(|W_ext|, K, |W_int|, W_damp, E_0, tiny)``
  with ``E_0 = K_0 + W_int,0`` the initial energy (zero for a body starting at rest, unstrained).

With the trapezoid internal work the residual is exactly ``(Δt²/8)(aₙᵀMaₙ − a₀ᵀMa₀)`` (velocity-Verlet
algebra, for any material, loads, constraints and damping). For a linear body ``aᵀMa ≤ 2 ω_max² U``,
so a stable run (``ω_max Δt ≤ 2``) keeps the balance error below ``(ω_max Δt)²/4 ≤ 1`` — far lower
unless the highest modes carry the energy — while an unstable one grows geometrically past any bound.
"""
from __future__ import annotations

import math

__all__ = ["EnergyAccount", "ENERGY_KEYS", "TINY"]

ENERGY_KEYS = ("time", "step", "kinetic", "internal", "external", "damping", "balance_error")
TINY = 1e-300


class EnergyAccount:
    """Accumulators (Python floats, float64) of external work, damping and internal work; rows on demand."""

    def __init__(self):
        self.work = [0.0, 0.0, 0.0]  # [W_int, W_ext, W_damp], float64 sums
        self.initial = None      # E_0 = K_0 + W_int,0 (float), set by the first row
        self.internal0 = 0.0

    def add(self, increments) -> None:
        """Add one step's ``(ΔW_int, ΔW_ext, ΔW_damp)``."""
        w = self.work
        w[0] += increments[0]
        w[1] += increments[1]
        w[2] += increments[2]

    def row(self, t: float, step: int, kinetic: float, internal: float | None) -> dict:
        """One energy row (see the module docstring). ``internal`` None: use the accumulated work."""
        w_int, w_ext, w_damp = self.work
        if internal is None:
            internal = self.internal0 + w_int
        if self.initial is None:
            self.initial = kinetic + internal
        residual = kinetic + internal - w_ext + w_damp - self.initial
        scale = max(abs(w_ext), abs(kinetic), abs(internal), abs(w_damp), abs(self.initial), TINY)
        err = abs(residual) / scale if math.isfinite(residual) else math.inf
        return {"time": t, "step": step, "kinetic": kinetic, "internal": internal, "external": w_ext,
                "damping": w_damp, "balance_error": err}

    def state_dict(self) -> dict:
        return {"work": list(self.work), "initial": self.initial, "internal0": self.internal0}

    def load_state_dict(self, d: dict) -> None:
        self.work = list(d["work"])
        self.initial, self.internal0 = d["initial"], d["internal0"]
