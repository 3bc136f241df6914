"""Classical least-squares baselines for uniaxial rubber curves (nominal stress vs stretch).

Modules: :mod:`~lipmat.models.classical.base` (:class:`ClassicalUniaxial`: evaluation, stiffness estimate,
the fit), :mod:`~lipmat.models.classical.laws` (the laws). Classes: ``LinearElasticBar``, ``NeoHookeanBar``,
``MooneyRivlinBar``, ``YeohBar``, ``OgdenBar``, ``GentBar``, ``ArrudaBoyceBar`` — "Bar" because each is
the uniaxial-stress curve of a bar, not the finite-strain material of the same name in fem.

Every law is an incompressible hyperelastic solid (or linear elasticity) in **uniaxial stress**, written
as nominal (first Piola–Kirchhoff) stress ``P(λ)`` with ``I1 = λ² + 2/λ``, ``I2 = 2λ + 1/λ²``:

=================  ============================================================  =================
name               P(λ)                                                          initial shear μ0
=================  ============================================================  =================
``linear``         ``E (λ − 1)``                                                 E/3 (slope E)
``neohookean``     ``μ (λ − λ⁻²)``                                               μ
``mooney_rivlin``  ``2 (λ − λ⁻²)(C10 + C01/λ)``                                  2 (C10 + C01)
``yeoh``           ``2 (λ − λ⁻²) Σᵢ i Cᵢ (I1 − 3)^(i−1)``, i = 1..3              2 C1
``ogdenN``         ``Σₚ μₚ (λ^(αₚ−1) − λ^(−αₚ/2−1))``, p = 1..N (default N = 3)  ½ Σ μₚ αₚ
``gent``           ``μ (λ − λ⁻²) / (1 − (I1 − 3)/Jm)``                           μ
``arruda_boyce``   ``μ √N L⁻¹(λc/√N)/(3 λc) (λ − λ⁻²)``, ``λc = √(I1/3)``        μ (3N−1)/(3(N−1))
=================  ============================================================  =================

Arruda–Boyce (8-chain) uses Cohen's rounded Padé approximant of the inverse Langevin function,
``L⁻¹(x) ≈ x (3 − x²)/(1 − x²)`` (A. Cohen, Rheol. Acta 30 (1991) 270): exact slope 3 at 0 and the
exact pole at x = 1; its largest relative error on (0, 1) is 4.94 % at x ≈ 0.80 (measured in
tests/test_classical.py). The law *is* this approximant (the energy is its exact integral), so stress,
tangent and energy stay consistent. Its ``mu`` is not the initial shear modulus (see the table).

As 1D materials for fem (kinematics ``"uniaxial"``): strain = λ − 1 and stress = P, an exact finite-strain
work pair for a bar, shapes (..., 1) -> (..., 1); ``energy`` is the closed-form strain-energy density
W(λ) per undeformed volume, (..., 1) -> (...). Outside the law's domain the stress is NaN: λ ≤ 0
(strain ≤ −1) for every law but ``linear``, and beyond the locking stretch of Gent (I1 − 3 ≥ Jm) and
Arruda–Boyce (I1 ≥ 3N) — both lock in compression too, since I1 → ∞ as λ → 0.

**Stiffness bounds.** Only ``linear`` has a global bound (dP/dλ = E, exact). For every hyperelastic
law dP/dλ → ∞ as λ → 0⁺ (e.g. Neo-Hookean dP/dλ = μ(1 + 2λ⁻³)), Yeoh and Ogden terms with α > 2 also
grow without bound in tension, and Gent/Arruda–Boyce blow up at their locking stretches. So
``stiffness_bound()`` raises :class:`NoGlobalBound` (a CertificateError) and ``has_global_bound`` is
False; :meth:`ClassicalUniaxial.stiffness_bound_over` gives ``max dP/dλ`` over a strain interval (the
data range, say) — found on a dense grid plus a bounded local refinement: an *estimate* of that maximum,
never a certificate.

Fitting (:meth:`ClassicalUniaxial.fit`) uses ``scipy.optimize.least_squares`` on relative residuals
``(P(λᵢ) − Pᵢ)/|Pᵢ|`` by default (``loss="absolute"``: ``(P(λᵢ) − Pᵢ)/max|P|``). Every law is linear
in its moduli, so for each deterministic start of the nonlinear parameters (Ogden α's on a grid of
distinct exponents, Gent Jm, Arruda–Boyce N) the moduli come from a linear least-squares solve
(variable projection); the ``refine`` best starts are optimised over the nonlinear parameters with the
moduli eliminated that way, and the best result is polished over all parameters jointly. No randomness: the same data give the same parameters.
"""
from __future__ import annotations

import re

from lipmat.errors import LipmatError
from lipmat.models.classical.base import ClassicalUniaxial, NoGlobalBound
from lipmat.models.classical.laws import (
    OGDEN_ALPHA_GRID, ArrudaBoyceBar, GentBar, LinearElasticBar, MooneyRivlinBar, NeoHookeanBar, OgdenBar, YeohBar,
    inverse_langevin_cohen,
)

__all__ = ["ClassicalUniaxial", "NoGlobalBound", "LinearElasticBar", "NeoHookeanBar", "MooneyRivlinBar", "YeohBar",
           "OgdenBar", "GentBar", "ArrudaBoyceBar", "OGDEN_ALPHA_GRID", "inverse_langevin_cohen", "BASELINES",
           "fit_baseline", "baseline_from_config"]


#: Baselines by name. ``ogdenN`` for any N ≥ 1 is also accepted by :func:`fit_baseline` and
#: :func:`baseline_from_config`.
BASELINES: dict[str, type] = {
    "linear": LinearElasticBar, "neohookean": NeoHookeanBar, "mooney_rivlin": MooneyRivlinBar, "yeoh": YeohBar,
    "ogden3": OgdenBar, "gent": GentBar, "arruda_boyce": ArrudaBoyceBar,
}


def _parse(name: str) -> tuple[type, dict]:
    m = re.fullmatch(r"ogden(\d+)", name)
    if m and int(m.group(1)) >= 1:
        return OgdenBar, {"n_terms": int(m.group(1))}
    if name in BASELINES:
        return BASELINES[name], {}
    raise LipmatError(f"unknown classical baseline {name!r}; expected one of {sorted(BASELINES)} or 'ogdenN'")


def fit_baseline(name: str, curve, **kw) -> ClassicalUniaxial:
    """Fit the baseline called ``name`` (``"ogden5"`` etc. allowed) to a uniaxial curve; see ``fit``."""
    cls, extra = _parse(name)
    return cls.fit(curve, **{**extra, **kw})


def baseline_from_config(cfg: dict) -> ClassicalUniaxial:
    """Rebuild a baseline from :meth:`ClassicalUniaxial.config` output."""
    cls, extra = _parse(str(cfg.get("name")))
    return cls.from_config({**extra, **cfg})
