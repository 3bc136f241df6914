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

Certificate: the default domain covers every principal stretch of the data — the measured ones and
their incompressible partners (uniaxial λ^(−1/2), equibiaxial λ⁻², pure shear 1/λ) — widened to
[0.9·min, 1.05·max], with J in [0.9, 1.1]. ``domain=(λ_lo, λ_hi, J_lo, J_hi)`` sets another (a deck
that stays below λ = 3 gets a much smaller bound and a larger certified step). The report carries the
certified 3D bound, the plane-strain bound, and ``empirical_stiffness``: the largest tangent eigenvalue
found by :func:`empirical_stiffness` (random and boundary states plus local refinement, the final
value a dense eigen-solve of the autograd tangent), a lower bound of the supremum.
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
from lipmat.fitting import metrics
from lipmat.errors import LipmatError
from lipmat.models.hyperelastic import NeuralHyperelastic
from lipmat.fitting.multiaxial import MultiaxialCurve, biaxial_nominal, invariant_deviator, load_tests, partner_stretches

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
    """Small-strain shear modulus estimate (Pa) from each test's first point (median over tests)."""
    est = []
    for c in curves:
        k = int(np.argmin(np.abs(c.stretch[:, 0] - 1.0)))
        l1, l2 = c.stretch[k]
        e1, e2 = l1 - 1.0, l2 - 1.0
        # linear incompressible: P1 = 2G(2e1 + e2)
        denom = 2.0 * (2.0 * e1 + e2)
        if abs(denom) > 1e-12 and math.isfinite(c.stress[k, 0]):
            est.append(c.stress[k, 0] / denom)
    est = [e for e in est if e > 0]
    if not est:
        raise LipmatError("fit_hyperelastic: cannot estimate a shear modulus from the data (no test starts "
                          "with a positive stress near λ = 1)")
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


def evaluate(law, curves: list[MultiaxialCurve]) -> list[dict]:
    """Per-test metrics of ``law`` (any object with ``w(I1, I2)``): [{file, mode, points, r2, rmse, mape}]."""
    batch = _Batch(curves)
    with torch.no_grad():
        preds = batch.split(batch.predict(law))
    return [{"file": c.name, "mode": c.mode, "points": int(len(p)), **curve_metrics(c.targets(), p)}
            for c, p in zip(curves, preds)]


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
        report.update(certificate_report(law))
    report["seconds"] = time.perf_counter() - start
    return HyperelasticFit(law, report)


# -- certificate and empirical search --------------------------------------------------------------------
def certificate_report(law) -> dict:
    """Certified 3D and plane-strain bounds, the empirical search, their ratio (JSON-ready dict)."""
    cert3 = law.certificate("3d")
    cert2 = law.certificate("plane_strain")
    emp, at = empirical_stiffness(law, law.domain, "3d", extra=[cert3.at])
    emp2, at2 = empirical_stiffness(law, law.domain, "plane_strain", extra=[cert2.at])
    return {"stiffness_bound": cert3.bound, "stiffness_bound_plane_strain": cert2.bound,
            "empirical_stiffness": emp, "empirical_stiffness_plane_strain": emp2,
            "ratio": cert3.bound / emp, "ratio_plane_strain": cert2.bound / emp2, "at": at,
            "certificate_seconds": cert3.seconds + cert2.seconds, "certificate_boxes": cert3.boxes + cert2.boxes}


def sample_stretches(domain: StretchDomain, n: int, kinematics: str = "3d", *,
                     generator: torch.Generator | None = None, boundary: float = 0.3) -> torch.Tensor:
    """(m, k) principal stretches of states in ``domain`` (k = 3, or 2 in plane strain with λ₃ = 1), m ≤ n.

    The first k − 1 stretches are log-uniform in [λ_lo, λ_hi] (each snapped to an end with probability
    ``boundary``/2), J is uniform in [J_lo, J_hi] (snapped likewise), the last stretch is J over the
    product of the others; samples outside the domain (that stretch out of the box, or J rounded past an
    end) are dropped.
    """
    gen = generator or torch.Generator().manual_seed(0)
    k = 3 if kinematics == "3d" else 2
    a, b = math.log(domain.lam_lo), math.log(domain.lam_hi)

    def draw(lo, hi, size):
        u = torch.rand(size, generator=gen, dtype=torch.float64)
        v = torch.rand(size, generator=gen, dtype=torch.float64)
        u = torch.where(v < boundary / 2, torch.zeros_like(u), torch.where(v > 1 - boundary / 2, torch.ones_like(u), u))
        return lo + (hi - lo) * u

    free = draw(a, b, (n, k - 1)).exp()
    J = draw(domain.J_lo, domain.J_hi, (n,))
    last = J / free.prod(-1)
    lam = torch.cat([free, last.unsqueeze(-1)], -1)
    return lam[domain.contains_stretches(lam)]     # also drops J ends rounded just outside


def dense_lambda_max(law, stretches: torch.Tensor) -> torch.Tensor:
    """(m, k) stretches -> (m,) λ_max of the autograd tangent A at F = diag(λ) (dense eigvalsh)."""
    F = torch.diag_embed(stretches.to(torch.float64))
    A = law.tangent(F)
    return torch.linalg.eigvalsh(0.5 * (A + A.transpose(-1, -2)))[..., -1]


def empirical_stiffness(law, domain: StretchDomain, kinematics: str = "3d", *, samples: int = 20000,
                        rounds: int = 8, seed: int = 0, extra=()) -> tuple[float, list]:
    """Largest tangent eigenvalue found in ``domain``: (value Pa, stretches where).

    Closed-form eigenvalues (``law.tangent_eigenvalues``) at the domain's vertices, ``samples`` random
    states and ``extra`` points (e.g. the certifier's best), then ``rounds`` of shrinking random moves
    around the 16 best, kept inside the domain; the value returned is a dense eigen-solve of the autograd
    tangent at the best point (so it is attained by the function the solver calls).
    """
    gen = torch.Generator().manual_seed(seed)
    k = 3 if kinematics == "3d" else 2
    pts = [domain.vertices(kinematics), sample_stretches(domain, samples, kinematics, generator=gen)]
    for e in extra:
        e = torch.as_tensor(e, dtype=torch.float64).reshape(-1)
        if e.numel() == k:
            pts.append(e.unsqueeze(0))
    lam = torch.cat(pts)
    lam = lam[domain.contains_stretches(lam)]
    with torch.no_grad():
        val = law.tangent_eigenvalues(lam).amax(-1)
        step = 0.2
        for _ in range(rounds):
            top = lam[val.topk(min(16, len(val))).indices]
            moves = torch.exp(step * (2 * torch.rand(top.shape[0], 64, k, generator=gen, dtype=torch.float64) - 1))
            cand = (top.unsqueeze(1) * moves).reshape(-1, k).clamp(domain.lam_lo, domain.lam_hi)
            cand = cand[domain.contains_stretches(cand)]
            if len(cand):
                lam = torch.cat([lam, cand])
                val = torch.cat([val, law.tangent_eigenvalues(cand).amax(-1)])
            step *= 0.5
    best = lam[val.topk(min(4, len(val))).indices]
    dense = dense_lambda_max(law, best)
    i = int(dense.argmax())
    return float(dense[i]), best[i].tolist()


# -- the command line (lipmat fit --model hyperelastic, lipmat certify on a finite-strain model) -----------
def parse_modes(values, data) -> dict:
    """``--mode FILE=MODE`` values -> {file: mode}; a bare ``MODE`` is allowed with one data file."""
    out = {}
    for v in values or []:
        name, eq, mode = str(v).rpartition("=")
        if not eq:
            if len(data) != 1:
                raise LipmatError(f"--mode {v!r}: expected FILE=MODE (e.g. {Path(data[0]).name}=uniaxial) "
                                  f"when several data files are given")
            name, mode = str(data[0]), v
        out[name] = mode
    return out


def parse_domain(text) -> tuple | None:
    """``--domain LAM_LO,LAM_HI,J_LO,J_HI`` -> tuple of 4 floats (None for None)."""
    if text is None:
        return None
    parts = [p.strip() for p in str(text).split(",")]
    try:
        values = tuple(float(p) for p in parts)
    except ValueError:
        values = ()
    if len(values) != 4 or not all(math.isfinite(v) for v in values):
        raise LipmatError(f"--domain {text!r}: expected four numbers LAM_LO,LAM_HI,J_LO,J_HI (e.g. 0.3,3.5,0.9,1.1)")
    return values


def run_fit_cli(args, out, plot) -> dict:
    """``lipmat fit ... --model hyperelastic``: fit, certify, save to ``out``; returns the report."""
    from lipmat.io import save

    refused = [opt for opt, used in (("--max-stiffness", args.max_stiffness is not None),
                                     ("--validation", bool(args.validation)),
                                     ("--loss absolute", args.loss != "relative"),
                                     ("--baselines", args.baselines)) if used]
    if refused:
        raise LipmatError(f"--model hyperelastic does not take {', '.join(refused)} (its loss is fixed: relative + "
                          f"absolute per test; its stiffness is certified on --domain, not capped)")
    domain = parse_domain(args.domain)
    fitted = fit_hyperelastic(list(args.data), modes=parse_modes(args.modes, args.data), stress_unit=args.stress_unit,
                              bulk_ratio=args.bulk_ratio, nu=args.nu, domain=domain, epochs=args.epochs,
                              lbfgs_steps=args.lbfgs, seed=args.seed)
    report = fitted.report
    report["domain_source"] = "--domain" if domain is not None else "data (0.9·min, 1.05·max stretch; J in [0.9, 1.1])"
    save(fitted.model, out, report=report)
    report["out"] = str(out)
    if plot is not None:
        plot_tests(plot, fitted.model, as_curves(list(args.data), parse_modes(args.modes, args.data), args.stress_unit))
        report["plot"] = str(plot)
    return report


def print_fit(r: dict, file=None) -> None:
    """Text form of a hyperelastic fit report."""
    import sys
    file = file or sys.stdout
    print(f"model {r['model']} -> {r.get('out')}", file=file)
    for c in r["curves"]:
        print(f"  {c['file']} ({c['mode']}): R² {c['r2']:.6f}  MAPE {c['mape']:.3f} %  ({c['points']} points)", file=file)
    print(f"  small strain: G {r['shear_modulus']:.6g} Pa, K {r['bulk_modulus']:.6g} Pa (ν {r['poisson_ratio']:.4f})",
          file=file)
    d = r["domain"]
    print(f"  certified domain: stretches [{d['lam_lo']:.4g}, {d['lam_hi']:.4g}], J [{d['J_lo']:.4g}, {d['J_hi']:.4g}] "
          f"({r.get('domain_source', '')})", file=file)
    if r.get("stiffness_bound") is not None:
        print(f"  stiffness: certified sup λ_max(∂P/∂F) {r['stiffness_bound']:.6g} Pa (3D), "
              f"{r['stiffness_bound_plane_strain']:.6g} Pa (plane strain); largest found {r['empirical_stiffness']:.6g} Pa "
              f"(ratio {r['ratio']:.4f})", file=file)
    if r.get("plot"):
        print(f"  plot: {r['plot']}", file=file)
    print(f"  {r['seconds']:.1f} s", file=file)


def plot_tests(path, law, curves: list[MultiaxialCurve]) -> None:
    """Data (markers) and the fitted law (lines) of every test, nominal stress in MPa against λ₁."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4.5))
    dev = invariant_deviator(law.w)
    for c in curves:
        lam = torch.as_tensor(c.stretch, dtype=torch.float64)
        t = torch.linspace(0.0, 1.0, 200, dtype=torch.float64).unsqueeze(-1)
        path_lam = torch.ones(1, 2, dtype=torch.float64) + t * (lam[-1] - 1.0) if c.mode != "biaxial" else lam
        with torch.no_grad():
            p1, p2 = biaxial_nominal(dev, path_lam[:, 0], path_lam[:, 1])
        line, = ax.plot(path_lam[:, 0].numpy(), p1.numpy() / 1e6, label=f"{c.mode} (fit)")
        ax.plot(c.stretch[:, 0], c.stress[:, 0] / 1e6, "o", color=line.get_color(), ms=4, label=f"{c.mode} (data)")
    ax.set_xlabel("stretch λ₁")
    ax.set_ylabel("nominal stress P₁ (MPa)")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def certify_cli(args, loaded) -> dict:
    """``lipmat certify`` on a finite-strain model file: certified bounds, the empirical search, the domain."""
    law = loaded.model
    r = certificate_report(law)
    return {"model": loaded.name, "file": str(args.model), "kinematics": list(law.kinematics),
            "finite_strain": True, "domain": law.domain.as_dict(), **r,
            "shear_modulus": law.shear_modulus, "bulk_modulus": law.bulk_modulus,
            "lipmat_version": loaded.lipmat_version,
            "data": [p.get("file") for p in loaded.provenance if isinstance(p, dict)]}


def print_certify(r: dict, file=None) -> None:
    """Print a finite-strain certificate report ``r`` (``lipmat certify``'s text) to ``file`` (stdout)."""
    import sys
    file = file or sys.stdout
    d = r["domain"]
    print(f"{r['file']}: model {r['model']} (finite strain: plane_strain, 3d)", file=file)
    print(f"  certified domain           stretches [{d['lam_lo']:.6g}, {d['lam_hi']:.6g}], J [{d['J_lo']:.6g}, "
          f"{d['J_hi']:.6g}]", file=file)
    for kin, sfx in (("3D", ""), ("plane strain", "_plane_strain")):
        print(f"  {kin:<12} certified sup λ_max(∂P/∂F) {r['stiffness_bound' + sfx]:.9g} Pa, largest found "
              f"{r['empirical_stiffness' + sfx]:.9g} Pa (ratio {r['ratio' + sfx]:.6f})", file=file)
    print(f"  small strain: G {r['shear_modulus']:.6g} Pa, K {r['bulk_modulus']:.6g} Pa", file=file)
