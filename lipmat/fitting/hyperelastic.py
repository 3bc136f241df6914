"""Joint fit of the neural hyperelastic law to several incompressible tests, then its certificate::

    result = fit_hyperelastic(["data/treloar_uniaxial.csv", "data/treloar_equibiaxial.csv",
                               "data/treloar_pureshear.csv"])
    result.model                      # NeuralHyperelastic, certified on result.report["domain"]
    result.report["curves"]           # [{file, mode, points, r2, rmse, mape}, ...]

Data: paths (:func:`lipmat.fitting.multiaxial.load_multiaxial`; ``modes`` maps a path or file name to a mode) or
:class:`~lipmat.fitting.multiaxial.MultiaxialCurve` objects. Every test is a load case of the incompressible
law at J = 1 (:mod:`lipmat.fitting.multiaxial`), so the fit sees W1(I1), W2(I2) only; the bulk modulus
(``K``, ``bulk_ratio`` = K/G or ``nu``; default K = 50·G) is applied afterwards and changes nothing
in the fit.

Loss: per test, mean over its measured stresses of ``((P − y)/|y|)² + ((P − y)/max|y|)²`` (relative,
MAPE-like, plus absolute so the large stresses keep their weight), averaged over tests so a short
test weighs as much as a long one. Adam, then L-BFGS, in float64. The initialisation is deterministic
for ``seed=0``; another seed jitters the sigmoid centres and rates with a local torch.Generator (the
global RNG is not touched).

Certificate (:func:`lipmat.certify.finite_strain_report`): the default domain covers every principal
stretch of the data — the measured ones and their incompressible partners (uniaxial λ^(−1/2),
equibiaxial λ⁻², pure shear 1/λ) — widened to [0.9·min, 1.05·max], with J in [0.9, 1.1]. ``domain=(λ_lo, λ_hi, J_lo, J_hi)`` sets another (a deck
that stays below λ = 3 gets a much smaller bound and a larger certified step). The report carries the
certified 3D bound, the plane-strain bound, and ``empirical_stiffness``: the largest tangent eigenvalue
found by :func:`lipmat.certify.empirical_stiffness`, a lower bound of the supremum.

Predictions: :func:`predict_curve` is the one function that turns the law into a test's stresses; the
metrics of the report and the figure (:func:`lipmat.fitting.plots.plot_tests`) both call it.
The command line (``lipmat fit --model hyperelastic``) lives in ``lipmat/cli/_hyperelastic.py``.
"""
from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from fem.materials.hyperelastic.domain import StretchDomain
from lipmat.certify import finite_strain_report
from lipmat.errors import LipmatError
from lipmat.fitting import metrics
from lipmat.fitting.multiaxial import (MultiaxialCurve, biaxial_nominal, invariant_deviator, load_tests,
                                       partner_stretches, predict)
from lipmat.models.hyperelastic import NeuralHyperelastic

log = logging.getLogger(__name__)

#: Adam epochs, L-BFGS iterations, Adam learning rate.
DEFAULTS = (1500, 2000, 0.02)
#: Default J range of the certified domain.
DEFAULT_J_RANGE = (0.9, 1.1)


@dataclass
class HyperelasticFit:
    """The fitted, certified law and its report (a JSON-ready dict; see :func:`fit_hyperelastic`)."""
    model: NeuralHyperelastic
    report: dict


# -- data ---------------------------------------------------------------------------------------
def as_curves(data, modes: dict | None = None, stress_unit: str | None = None, *,
              strict: bool = True) -> list[MultiaxialCurve]:
    """Paths and/or MultiaxialCurve objects -> list of MultiaxialCurve (``strict``: see load_tests)."""
    items = list(data) if isinstance(data, (list, tuple)) else [data]
    if not items:
        raise LipmatError("fit_hyperelastic(data): expected at least one test file, received none")
    paths = [p for p in items if isinstance(p, (str, Path))]
    loaded = iter(load_tests(paths, modes, stress_unit=stress_unit, strict=strict)) if paths else iter(())
    out = []
    for item in items:
        item = next(loaded) if isinstance(item, (str, Path)) else item
        if not isinstance(item, MultiaxialCurve):
            raise LipmatError(f"fit_hyperelastic(data): expected paths or MultiaxialCurve objects, received "
                              f"{type(item).__name__}")
        out.append(item)
    return out


def data_domain(curves: list[MultiaxialCurve], J_range=DEFAULT_J_RANGE) -> StretchDomain:
    """[0.9·min, 1.05·max] of every principal stretch of the tests (partners included), J in J_range."""
    lam = np.concatenate([partner_stretches(c) for c in curves])
    return StretchDomain(min(0.9 * float(lam.min()), 1.0), max(1.05 * float(lam.max()), 1.0), *J_range)


class _Batch:
    """All tests stacked: one law evaluation per loss call."""

    def __init__(self, curves: list[MultiaxialCurve]):
        self.curves = curves
        self.lam = torch.as_tensor(np.concatenate([c.stretch for c in curves]), dtype=torch.float64)
        index, targets, spans, offset, n_rows = [], [], [], 0, len(self.lam)
        for c in curves:
            n = len(c)
            k0 = len(index) and sum(len(i) for i in index)
            idx = [comp * n_rows + offset + r for comp in range(2) if c.measured[comp] for r in range(n)]
            index.append(torch.tensor(idx))
            targets.append(torch.as_tensor(c.targets(), dtype=torch.float64))
            spans.append((k0, k0 + len(idx)))
            offset += n
        self.index = torch.cat(index)
        self.y = torch.cat(targets)
        self.spans = spans
        scales = [float(t.abs().max()) for t in targets]
        self.abs_scale = torch.cat([torch.full((len(t),), s, dtype=torch.float64) for t, s in zip(targets, scales)])
        self.rel_scale = self.y.abs() + 1e-3 * self.abs_scale
        self.weight = torch.cat([torch.full((len(t),), 1.0 / (len(t) * len(curves)), dtype=torch.float64) for t in targets])

    def predict(self, law: NeuralHyperelastic) -> torch.Tensor:
        p1, p2 = biaxial_nominal(invariant_deviator(law.w), self.lam[:, 0], self.lam[:, 1])
        return torch.cat([p1, p2])[self.index]

    def loss(self, pred: torch.Tensor) -> torch.Tensor:
        r = pred - self.y
        return (self.weight * ((r / self.rel_scale) ** 2 + (r / self.abs_scale) ** 2)).sum()

    def split(self, values: torch.Tensor) -> list[np.ndarray]:
        v = values.detach().numpy()
        return [v[a:b] for a, b in self.spans]


def curve_metrics(y: np.ndarray, p: np.ndarray) -> dict:
    """r2, rmse (Pa), mape (%) of one test (MAPE leaves out y = 0 exactly)."""
    keep = y != 0
    return {"r2": float(metrics.r2(y, p)), "rmse": float(metrics.rmse(y, p)),
            "mape": float(metrics.mape(y[keep], p[keep]))}


def initial_shear(curves: list[MultiaxialCurve]) -> float:
    """Small-strain shear modulus estimate (Pa): per test, from the row nearest λ = 1 that gives one, then
    the median over tests.

    Linear incompressible elasticity gives P₁ = 2G(2e₁ + e₂), eᵢ = λᵢ − 1. A row at λ = 1 (often a
    recorded (1, 0) or (0, 0) start) has no strain to divide by, and a non-positive ratio is no modulus,
    so such rows are passed over for the next nearest one rather than losing the test.
    """
    est = []
    for c in curves:
        for k in np.argsort(np.abs(c.stretch[:, 0] - 1.0), kind="stable"):
            e1, e2 = c.stretch[k] - 1.0
            denom = 2.0 * (2.0 * e1 + e2)
            if abs(denom) > 1e-12 and math.isfinite(c.stress[k, 0]) and c.stress[k, 0] / denom > 0:
                est.append(c.stress[k, 0] / denom)
                break
    if not est:
        raise LipmatError("fit_hyperelastic: cannot estimate a shear modulus from the data (expected a test with "
                          "a row away from λ = 1 whose stress has the sign of its strain; found none in "
                          f"{[c.name for c in curves]})")
    return float(np.median(est))


def build_law(curves: list[MultiaxialCurve], *, terms=(6, 2), seed: int = 0, K=None, bulk_ratio=None,
              nu=None, domain: StretchDomain | None = None) -> NeuralHyperelastic:
    """A fresh law sized to the data (caps from the stress scale over the invariant ranges)."""
    lam = np.concatenate([partner_stretches(c) for c in curves])
    x1 = max(float((lam ** 2).sum(1).max()) - 3.0, 1e-3)
    x2 = max(float((lam ** -2).sum(1).max()) - 3.0, 1e-3)
    stress = max(float(np.nanmax(np.abs(c.stress))) for c in curves)
    mu = initial_shear(curves)
    law = NeuralHyperelastic(mu, (stress / x1, stress / x2, stress / min(x2, 20.0)), (x1, x2, min(x2, 20.0)),
                             terms, K=K, bulk_ratio=bulk_ratio, nu=nu, domain=domain)
    if seed:
        gen = torch.Generator().manual_seed(int(seed))
        with torch.no_grad():
            for r in (law.r1, law.r2, law.r3):
                r.centre.add_(0.05 * torch.randn(r.centre.shape, generator=gen, dtype=torch.float64))
                r.log_rate.add_(0.2 * torch.randn(r.log_rate.shape, generator=gen, dtype=torch.float64))
    return law


# -- the fit --------------------------------------------------------------------------------------
def train(law: NeuralHyperelastic, batch: _Batch, epochs: int, lbfgs_steps: int, lr: float) -> float:
    """Adam then L-BFGS on the batch loss; returns the final loss."""
    params = [p for p in law.parameters() if p.requires_grad]
    law.train()
    opt = torch.optim.Adam(params, lr=lr)
    for _ in range(epochs):
        opt.zero_grad()
        loss = batch.loss(batch.predict(law))
        loss.backward()
        opt.step()
    if lbfgs_steps:
        lb = torch.optim.LBFGS(params, lr=1.0, max_iter=lbfgs_steps, history_size=50, tolerance_grad=1e-14,
                               tolerance_change=1e-16, line_search_fn="strong_wolfe")

        def closure():
            lb.zero_grad()
            value = batch.loss(batch.predict(law))
            value.backward()
            return value
        lb.step(closure)
    law.eval()
    with torch.no_grad():
        return float(batch.loss(batch.predict(law)))


def predict_curve(law, curve: MultiaxialCurve) -> torch.Tensor:
    """The measured components of ``curve`` as ``law`` (any object with ``w(I1, I2)``) predicts them:
    (n·m,) Pa, shaped like ``curve.targets()`` (P₁ of every row, then P₂ where measured). Metrics and
    plots both call this; the training loss evaluates the same formula on all tests at once (_Batch)."""
    return predict(invariant_deviator(law.w), curve)


def evaluate(law, curves: list[MultiaxialCurve]) -> list[dict]:
    """Per-test metrics of ``law`` (any object with ``w(I1, I2)``): [{file, mode, points, r2, rmse, mape}]."""
    out = []
    for c in curves:
        with torch.no_grad():
            p = predict_curve(law, c).numpy()
        out.append({"file": c.name, "mode": c.mode, "points": int(len(p)), **curve_metrics(c.targets(), p)})
    return out


def fit_hyperelastic(data, *, modes: dict | None = None, stress_unit: str | None = None,
                     K: float | None = None, bulk_ratio: float | None = None, nu: float | None = None,
                     domain=None, epochs: int | None = None, lbfgs_steps: int | None = None,
                     lr: float | None = None, seed: int = 0, terms=(6, 2), certify: bool = True,
                     evaluate_on=None) -> HyperelasticFit:
    """Fit the neural law jointly to the tests in ``data`` and certify it (module docstring).

    Args:
        data: paths or MultiaxialCurve objects (one or more tests).
        modes: {path or file name: mode} overriding the mode found from the file.
        K / bulk_ratio / nu: the bulk modulus (Pa), K/G, or small-strain ν (at most one; default K = 50 G).
        domain: StretchDomain, (λ_lo, λ_hi, J_lo, J_hi), or None for :func:`data_domain`.
        epochs, lbfgs_steps, lr: Adam steps, L-BFGS iterations, Adam rate (None: :data:`DEFAULTS`).
        seed: 0 for the deterministic initialisation, else a jitter from a local generator.
        terms: (n_rising, n_falling) sigmoid terms per response.
        certify: compute the certificate and the empirical search (False: fit only; ``stiffness_bound``
            is then None in the report).
        evaluate_on: more tests (paths or curves) to report without training on them (``predicted``).

    Returns:
        HyperelasticFit(model, report); report keys: model, curves, predicted, stiffness_bound,
        stiffness_bound_plane_strain, empirical_stiffness, ratio, at, domain, shear_modulus,
        bulk_modulus, poisson_ratio, final_loss, epochs, lbfgs_steps, seed, seconds, provenance.
    """
    start = time.perf_counter()
    d_epochs, d_lbfgs, d_lr = DEFAULTS
    epochs = d_epochs if epochs is None else int(epochs)
    lbfgs_steps = d_lbfgs if lbfgs_steps is None else int(lbfgs_steps)
    lr = d_lr if lr is None else float(lr)
    if epochs < 0 or lbfgs_steps < 0 or not lr > 0:
        raise LipmatError(f"fit_hyperelastic: expected epochs, lbfgs_steps >= 0 and lr > 0, received "
                          f"{epochs}, {lbfgs_steps}, {lr}")
    if modes and evaluate_on:              # a mode may name a file of either list
        named = {str(p) for p in [*data, *evaluate_on] if isinstance(p, (str, Path))}
        named |= {Path(p).name for p in named}
        unknown = sorted(set(map(str, modes)) - named)
        if unknown:
            raise LipmatError(f"fit_hyperelastic(modes): {unknown} name none of the data or evaluate_on files")
    curves = as_curves(data, modes, stress_unit, strict=not evaluate_on)
    if domain is None:
        domain = data_domain(curves)
    elif not isinstance(domain, StretchDomain):
        try:
            domain = StretchDomain(*[float(v) for v in domain])
        except (TypeError, ValueError) as exc:
            raise LipmatError(f"fit_hyperelastic(domain): expected (lam_lo, lam_hi, J_lo, J_hi), received "
                              f"{domain!r} ({exc})") from None
    law = build_law(curves, terms=terms, seed=seed, K=K, bulk_ratio=bulk_ratio, nu=nu, domain=domain)
    batch = _Batch(curves)
    final = train(law, batch, epochs, lbfgs_steps, lr)
    for p in law.parameters():
        p.requires_grad_(False)
    report = {"model": law.name, "curves": evaluate(law, curves), "predicted": [],
              "shear_modulus": law.shear_modulus, "bulk_modulus": law.bulk_modulus,
              "poisson_ratio": law.poisson_ratio, "domain": domain.as_dict(), "final_loss": final,
              "epochs": epochs, "lbfgs_steps": lbfgs_steps, "lr": lr, "seed": seed, "terms": list(terms),
              "fit_seconds": time.perf_counter() - start,
              "provenance": [c.provenance for c in curves]}
    if evaluate_on:
        report["predicted"] = evaluate(law, as_curves(evaluate_on, modes, stress_unit, strict=False))
    report.update({"stiffness_bound": None, "stiffness_bound_plane_strain": None, "empirical_stiffness": None,
                   "ratio": None, "at": None})
    if certify:
        report.update(finite_strain_report(law))
    report["seconds"] = time.perf_counter() - start
    return HyperelasticFit(law, report)
