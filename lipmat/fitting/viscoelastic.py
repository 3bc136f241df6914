"""Joint fit of the viscoelastic law (and of the Prony baseline) to time-stamped histories::

    result = fit_viscoelastic(sorted(glob("data/vhb4910/*.csv")))
    result.model                    # NeuralViscoelastic, certified on result.report["domain"]
    result.report["curves"]         # [{file, mode, kind, points, r2, mape, rmse, peak_error}, ...]
    result.report["baseline"]       # the same table for the Prony–Ogden baseline (baseline=True)

Every history is integrated along its measured time stamps with the law's own update
(:meth:`NeuralViscoelastic.uniaxial_history`: the branch update the 3D law applies, on the coaxial
uniaxial incompressible state), all histories batched in one pass. The loss is that of
:class:`~lipmat.fitting.histories.HistoryBatch` (points with P ≤ 0, a slack strip, are no data).
Adam, then L-BFGS, float64, deterministic for a given seed.

After the fit, the bulk modulus is set (default K = 50·G_glassy, G_glassy = G_eq + Σμₖ; the fit is
incompressible and does not see it) and the certified domain is the data's principal stretches
widened to [0.9·min, 1.05·max] with J in [0.9, 1.1]. The report carries the certificate
(:meth:`NeuralViscoelastic.certificate`) and the smallest step dissipation along every fitted history
(≥ 0 by construction; reported as measured).
"""
from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

import numpy as np
import torch

from fem.materials.hyperelastic.domain import StretchDomain
from lipmat.errors import LipmatError
from lipmat.fitting.histories import History, HistoryBatch, evaluate, load_histories
from lipmat.models.hyperelastic import NeuralHyperelastic
from lipmat.models.prony import PronyOgden, log_spaced
from lipmat.models.viscoelastic import DEFAULT_BULK_RATIO, NeuralViscoelastic

log = logging.getLogger(__name__)

#: Adam epochs, L-BFGS iterations, Adam rate (viscoelastic law).
DEFAULTS = (1000, 500, 0.03)
#: Same for the Prony baseline when fitted alone (fit_viscoelastic passes its own settings on).
BASELINE_DEFAULTS = (300, 300, 0.03)
#: Relaxation times of the initial branches / Prony terms span [TAU_RANGE] (s).
TAU_RANGE = (0.05, 2000.0)


@dataclass
class ViscoelasticFit:
    """The fitted law, its report (JSON-ready dict) and, when asked, the fitted baseline."""
    model: NeuralViscoelastic
    report: dict
    baseline: PronyOgden | None = None


def _train(model, batch: HistoryBatch, epochs: int, lbfgs_steps: int, lr: float) -> float:
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.Adam(params, lr=lr)
    for _ in range(epochs):
        opt.zero_grad()
        loss = batch.loss(model.uniaxial_history(batch.lam, batch.dt))
        loss.backward()
        opt.step()
    if lbfgs_steps:
        lb = torch.optim.LBFGS(params, lr=1.0, max_iter=lbfgs_steps, history_size=50, tolerance_grad=1e-12,
                               tolerance_change=1e-15, line_search_fn="strong_wolfe")

        def closure():
            lb.zero_grad()
            value = batch.loss(model.uniaxial_history(batch.lam, batch.dt))
            value.backward()
            return value
        lb.step(closure)
    with torch.no_grad():
        return float(batch.loss(model.uniaxial_history(batch.lam, batch.dt)))


def data_domain(histories: list[History], J_range=(0.9, 1.1)) -> StretchDomain:
    """Principal stretches of the uniaxial states (λ and λ^(−1/2)) widened to [0.9·min, 1.05·max]."""
    lam = np.concatenate([h.stretch for h in histories])
    lo = min(float(lam.min()), float(lam.max()) ** -0.5)
    return StretchDomain(min(0.9 * lo, 1.0), max(1.05 * float(lam.max()), 1.0), *J_range)


def build_law(histories: list[History], branches: int = 8, seed: int = 0) -> NeuralViscoelastic:
    """A fresh law sized to the data: equilibrium scale from the last (most relaxed) stresses, branch
    moduli sharing the peak stress, relaxation times log-spaced over :data:`TAU_RANGE`."""
    lam = np.concatenate([h.stretch for h in histories])
    lmax = float(lam.max())
    x1, x2 = lmax**2 + 2 / lmax - 3.0, 2 * lmax + lmax**-2 - 3.0
    peak = max(float(h.stress.max()) for h in histories)
    mu_eq = 0.1 * peak
    eq = NeuralHyperelastic(mu_eq, (peak / x1, peak / x2, peak / x2), (x1, x2, x2), (6, 2))
    law = NeuralViscoelastic(eq, [0.5 * peak / branches] * branches, log_spaced(*TAU_RANGE, branches))
    if seed:
        gen = torch.Generator().manual_seed(int(seed))
        with torch.no_grad():
            law.log_tau.add_(0.2 * torch.randn(branches, generator=gen, dtype=torch.float64))
    return law


def fit_viscoelastic(data, *, branches: int = 8, stress_unit: str | None = None, epochs: int | None = None,
                     lbfgs_steps: int | None = None, lr: float | None = None, seed: int = 0,
                     K: float | None = None, domain=None, certify: bool = True, baseline: bool = True,
                     baseline_terms: int = 10, evaluate_on=None) -> ViscoelasticFit:
    """Fit the law of :mod:`lipmat.models.viscoelastic` jointly to histories (module docstring).

    Args:
        data: history files or :class:`History` objects. branches: Maxwell branches N.
        epochs, lbfgs_steps, lr: optimiser settings (None: :data:`DEFAULTS`). seed: 0 deterministic.
        K: bulk modulus (Pa) of the glassy law (None: 50·G_glassy). domain: StretchDomain, 4 numbers or None.
        certify: compute the certificate. baseline: also fit the Prony–Ogden baseline (``baseline_terms``).
        evaluate_on: more histories reported without training on them (``predicted``).

    Returns:
        ViscoelasticFit; report keys: model, curves, predicted, baseline, certificate, dissipation_min,
        domain, shear_modulus_eq, shear_modulus_glassy, branches (mu, tau), final_loss, fit_seconds, seconds,
        provenance.
    """
    start = time.perf_counter()
    de, dl, dr = DEFAULTS
    epochs, lbfgs_steps, lr = (de if epochs is None else int(epochs), dl if lbfgs_steps is None else int(lbfgs_steps),
                               dr if lr is None else float(lr))
    if epochs < 0 or lbfgs_steps < 0 or not lr > 0 or branches < 1:
        raise LipmatError(f"fit_viscoelastic: expected epochs, lbfgs_steps >= 0, lr > 0, branches >= 1; received "
                          f"{epochs}, {lbfgs_steps}, {lr}, {branches}")
    histories = load_histories(data, stress_unit=stress_unit)
    batch = HistoryBatch(histories)
    law = build_law(histories, branches, seed)
    final = _train(law, batch, epochs, lbfgs_steps, lr)
    fit_seconds = time.perf_counter() - start
    if domain is None:
        domain = data_domain(histories)
    elif not isinstance(domain, StretchDomain):
        domain = StretchDomain(*[float(v) for v in domain])
    mu_v = float(law.mu().detach().sum())
    G_eq = law.equilibrium.shear_modulus
    K = DEFAULT_BULK_RATIO * (G_eq + mu_v) - 2.0 * mu_v / 3.0 if K is None else float(K)
    law = _with_equilibrium(law, law.equilibrium.with_options(K=K, domain=domain))
    report = {"model": law.name, "curves": evaluate(law, histories), "predicted": [],
              "domain": domain.as_dict(), "shear_modulus_eq": G_eq, "shear_modulus_glassy": G_eq + mu_v,
              "bulk_modulus_eq": K, "branches": {"mu": law.mu().tolist(), "tau": law.tau().tolist(),
                                                     "stretch_exponent": law.stretch_exponent().tolist()},
              "final_loss": final, "epochs": epochs, "lbfgs_steps": lbfgs_steps, "lr": lr, "seed": seed,
              "fit_seconds": fit_seconds, "dissipation_min": dissipation_min(law, batch),
              "provenance": [h.provenance for h in histories], "certificate": None, "baseline": None}
    if evaluate_on:
        report["predicted"] = evaluate(law, load_histories(evaluate_on, stress_unit=stress_unit))
    base = None
    if baseline:
        base, base_report = fit_prony(histories, terms=baseline_terms, epochs=epochs, lbfgs_steps=lbfgs_steps)
        report["baseline"] = base_report
    if certify:
        report["certificate"] = law.certificate("3d")
        report["certificate_plane_strain"] = law.certificate("plane_strain")
    report["seconds"] = time.perf_counter() - start
    return ViscoelasticFit(law, report, base)


def _with_equilibrium(law: NeuralViscoelastic, eq: NeuralHyperelastic) -> NeuralViscoelastic:
    out = NeuralViscoelastic(eq, law.mu().detach(), law.tau().detach())
    out.raw_exponent.data.copy_(law.raw_exponent.detach())
    for p in out.parameters():
        p.requires_grad_(False)
    return out.eval()


@torch.no_grad()
def dissipation_min(law: NeuralViscoelastic, batch: HistoryBatch) -> float:
    """Smallest step dissipation Σ ηₖ/(2Δt)(Δg₁² + 2Δg₂²) (ηₖ = μₖτₖ(state at the start of the step)) (J/m³) over every step of every history."""
    _, (g1, g2) = law.uniaxial_history(batch.lam, batch.dt, return_state=True)
    dt = batch.dt[1:, :, None]
    lam_prev = batch.lam[:-1]
    eta = law.mu() * law.relaxation_times(lam_prev**2 + 2.0 / lam_prev)
    step = (eta / (2.0 * torch.where(dt > 0, dt, torch.ones_like(dt)))
            * (torch.diff(g1, dim=0) ** 2 + 2.0 * torch.diff(g2, dim=0) ** 2)).sum(-1)
    return float(step[batch.dt[1:] > 0].min())


def fit_prony(data, *, terms: int = 10, ogden_terms: int = 3, stress_unit: str | None = None,
              epochs: int | None = None, lbfgs_steps: int | None = None, lr: float | None = None):
    """Fit the Prony–Ogden baseline (:class:`~lipmat.models.prony.PronyOgden`) to the same histories
    with the same loss; returns (model, report) with report keys model, terms, curves, ogden, prony, seconds."""
    start = time.perf_counter()
    de, dl, dr = BASELINE_DEFAULTS
    histories = load_histories(data, stress_unit=stress_unit)
    batch = HistoryBatch(histories)
    peak = max(float(h.stress.max()) for h in histories)
    alpha = [1.5, 4.0, -2.0][:ogden_terms] + [1.0] * max(0, ogden_terms - 3)
    mu = [0.3 * peak / a for a in alpha]                     # μₚαₚ > 0 at the start
    model = PronyOgden(mu, alpha, log_spaced(*TAU_RANGE, terms))
    model.log_tau.requires_grad_(False)          # fixed, log-spaced times: the g's carry the spectrum
    final = _train(model, batch, de if epochs is None else epochs, dl if lbfgs_steps is None else lbfgs_steps,
                   dr if lr is None else lr)
    for p in model.parameters():
        p.requires_grad_(False)
    g, g_inf = model.weights()
    report = {"model": model.name, "terms": terms, "curves": evaluate(model, histories), "final_loss": final,
              "ogden": {"mu": model.mu.tolist(), "alpha": model.alpha.tolist()},
              "prony": {"g": g.tolist(), "g_inf": float(g_inf), "tau": model.log_tau.exp().tolist()},
              "seconds": time.perf_counter() - start}
    return model.eval(), report


def print_report(r: dict, file=None) -> None:
    """The fit table (neural law beside the baseline when present) and the certificate, as text."""
    base = {c["file"]: c for c in (r.get("baseline") or {}).get("curves", [])}
    print(f"viscoelastic fit: {len(r['curves'])} histories, {len(r['branches']['mu'])} branches, "
          f"fit {r['fit_seconds']:.1f} s", file=file)
    print(f"  {'file':<40} {'kind':<10} {'R2':>8} {'MAPE%':>7} {'peak%':>7}   "
          f"{'Prony R2':>8} {'MAPE%':>7} {'peak%':>7}", file=file)
    for c in r["curves"]:
        b = base.get(c["file"])
        tail = f"   {b['r2']:8.4f} {b['mape']:7.2f} {b['peak_error']:7.2f}" if b else ""
        name = c["file"].rsplit("/", 1)[-1]
        print(f"  {name:<40} {c['kind']:<10} {c['r2']:8.4f} {c['mape']:7.2f} {c['peak_error']:7.2f}{tail}", file=file)
    for c in r.get("predicted") or []:
        print(f"  predicted {c['file']}: R2 {c['r2']:.4f}, MAPE {c['mape']:.2f} %, peak {c['peak_error']:.2f} %",
              file=file)
    cert = r.get("certificate")
    if cert:
        print(f"  certified sup λ_max(∂P_n+1/∂F_n+1) {cert['bound']:.6g} Pa (isotropic glassy part "
              f"{cert['isotropic']:.6g} + branches {cert['branches']:.6g}) on {r['domain']}", file=file)
    print(f"  smallest step dissipation along the fitted histories: {r['dissipation_min']:.3g} J/m³", file=file)
    if math.isfinite(r.get("seconds", math.nan)):
        print(f"  total {r['seconds']:.1f} s", file=file)
