"""Energy bookkeeping of an explicit run: kinetic, internal, external work, damping, balance error.

Per step the solver adds the trapezoid work ``½ Δu·(f_n + f_{n+1})`` of the internal, external
(loads *and* reactions at prescribed dofs) and damping forces (:meth:`CentralDifference._increments`).
At a row it reports

- ``kinetic``  ``½ vᵀ M v`` with the whole-step velocity,
- ``internal`` the stored energy ``Σ w ψ(ε)`` when the material has ``energy`` (``½ uᵀ K u`` on the
  linear path), else the accumulated internal work (measured from the initial state),
- ``external`` the accumulated external work, ``damping`` the accumulated dissipation, and
- ``balance_error = |K + W_int − W_ext + W_damp − E_0| / max(|W_ext|, K, |W_int|, W_damp, E_0, tiny)``
  with ``E_0 = K_0 + W_int,0`` the initial energy (zero for a body starting at rest, unstrained);
- ``scheme_error`` (when the row is given the scheme's defect ``(Δt²/8) aᵀMa`` and the stored energy
  is known): the energy the *scheme* created so far relative to the energy in motion, signed
  (:mod:`fem.stability.discrete_energy`; 0 to round-off for a linear body, > 0 when a nonlinear law pumps
  energy into the top modes). NaN when unknown. ``damping`` holds all dissipation: mass damping and
  bulk viscosity (:mod:`fem.stability.viscosity`).

With the trapezoid internal work the residual is exactly ``(Δt²/8)(aₙᵀMaₙ − a₀ᵀMa₀)`` (velocity-Verlet
algebra, for any material, loads, constraints and damping). For a linear body ``aᵀMa ≤ 2 ω_max² U``,
so a stable run (``ω_max Δt ≤ 2``) keeps the balance error below ``(ω_max Δt)²/4 ≤ 1`` — far lower
unless the highest modes carry the energy — while an unstable one grows geometrically past any bound.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from fem.stability.discrete_energy import EnergyGuard

__all__ = ["EnergyAccount", "EnergyBreach", "ENERGY_KEYS", "TINY", "BALANCE_GRACE_STEPS", "run_balance_error"]

#: the keys of an energy row, in the column order of ``energy.csv``
ENERGY_KEYS = ("time", "step", "kinetic", "internal", "external", "damping", "balance_error", "scheme_error")
TINY = 1e-300

#: steps at the start of a run in which the energy balance is not held to EnergyCheck.tol: for a load
#: applied from rest the scheme's exact defect (Δt²/8) aᵀMa equals the kinetic energy at step 1
BALANCE_GRACE_STEPS = 10


@dataclass(frozen=True)
class EnergyBreach:
    """A row's energy check failed: check ``"guard"`` (the scheme created energy) or ``"balance"``;
    error : the relative error found; tol : the tolerance it passed."""

    check: str
    error: float
    tol: float


class EnergyAccount:
    """Accumulators (Python floats, float64) of external work, damping and internal work; rows on demand.

    tol : the balance error's tolerance (None: never checked), held from step ``BALANCE_GRACE_STEPS``;
    guard : the tolerance of the scheme's energy error (:class:`~fem.stability.discrete_energy.EnergyGuard`,
    None: recorded, never checked). :meth:`breach` applies both to the latest row.
    """

    def __init__(self, tol: float | None = None, guard: float | None = None):
        self.work = [0.0, 0.0, 0.0]  # [W_int, W_ext, W_damp], float64 sums
        self.initial = None      # E_0 = K_0 + W_int,0 (float), set by the first row
        self.internal0 = 0.0
        self.tol = tol
        self.scheme = EnergyGuard(guard)   # the scheme's own energy (fem.stability.discrete_energy)
        self.balance = 0.0       # the latest row's balance error

    def add(self, increments) -> None:
        """Add one step's ``(ΔW_int, ΔW_ext, ΔW_damp)``."""
        w = self.work
        w[0] += increments[0]
        w[1] += increments[1]
        w[2] += increments[2]

    def row(self, t: float, step: int, kinetic: float, internal: float | None, defect: float | None = None) -> dict:
        """One energy row (see the module docstring). ``internal`` None: use the accumulated work.
        ``defect``: ``(Δt²/8) aᵀMa`` of the row's state, for ``scheme_error`` (None: NaN there)."""
        w_int, w_ext, w_damp = self.work
        scheme = math.nan
        if defect is not None and internal is not None:
            scheme = self.scheme.update(kinetic - defect + internal, kinetic, internal, w_ext, w_damp)
        if internal is None:
            internal = self.internal0 + w_int
        if self.initial is None:
            self.initial = kinetic + internal
        residual = kinetic + internal - w_ext + w_damp - self.initial
        scale = max(abs(w_ext), abs(kinetic), abs(internal), abs(w_damp), abs(self.initial), TINY)
        err = abs(residual) / scale if math.isfinite(residual) else math.inf
        self.balance = err
        return {"time": t, "step": step, "kinetic": kinetic, "internal": internal, "external": w_ext,
                "damping": w_damp, "balance_error": err, "scheme_error": scheme}

    def breach(self, step: int) -> EnergyBreach | None:
        """The energy check the latest row (at ``step``) failed: the guard first, then the balance."""
        guard = self.scheme
        if guard.tripped:    # a row without a stored energy never updates the guard: it never trips
            return EnergyBreach("guard", guard.last, guard.tol)
        if self.tol is not None and step >= BALANCE_GRACE_STEPS and self.balance > self.tol:
            return EnergyBreach("balance", self.balance, self.tol)
        return None

    def state_dict(self) -> dict:
        return {"work": list(self.work), "initial": self.initial, "internal0": self.internal0,
                "scheme": self.scheme.state_dict()}

    def load_state_dict(self, d: dict) -> None:
        self.work = list(d["work"])
        self.initial, self.internal0 = d["initial"], d["internal0"]
        if "scheme" in d:
            self.scheme.load_state_dict(d["scheme"])


def run_balance_error(energies: dict) -> tuple[float | None, float | None]:
    """(max, final) of ``|K + W_int − W_ext + W_damp − E_0|`` over the run's peak energy: the figure a run
    summary reports, meaningful from the first row (a row's own ``balance_error`` divides by that row's
    energies, which are tiny at the first steps of a load from rest).

    energies: a :attr:`Result.energies`-like dict of (n,) sequences with keys kinetic, internal, external,
    damping. None, None when there are no rows or every energy is zero.
    """
    import numpy as np

    try:
        k, i, x, d = (np.asarray(energies[key], dtype=np.float64) for key in ("kinetic", "internal", "external",
                                                                              "damping"))
    except KeyError:
        return None, None
    if not len(k):
        return None, None
    e0 = k[0] + i[0]
    residual = np.abs(k + i - x + d - e0)
    scale = max(max(float(np.max(np.abs(a))) for a in (k, i, x, d)), abs(float(e0)))
    if not scale > 0 or not math.isfinite(scale):
        return None, None
    return float(np.max(residual)) / scale, float(residual[-1]) / scale
