"""Treloar's three tests (UT, ET, PS) fitted jointly: the neural hyperelastic law next to Ogden-3 and
Neo-Hookean fitted the same way (incompressible load cases, the same loss), and each trained on UT + ET
only with PS predicted.

    nice -n 10 python bench/hyperelastic_fit.py            # full table (a few minutes on 2 cores)
    python bench/hyperelastic_fit.py --quick               # short neural training, to check the script

Loss of every row (lipmat.fitting.hyperelastic): per test, mean of ((P − y)/|y|)² + ((P − y)/max|y|)²,
averaged over the tests trained on. The classical laws are fitted by scipy least squares on that
residual vector (Ogden-3: every triple of distinct exponents from lipmat.models.classical's grid as a
start, moduli by linear least squares, the 8 best refined over all six parameters). Prints a Markdown
table: R² and MAPE per test (predicted ones marked *), seconds, and for the neural law its certified
3D bound over the data's domain with the ratio to the largest tangent eigenvalue found.
"""
from __future__ import annotations

import argparse
import itertools
import math
import time
from pathlib import Path

import numpy as np
import torch
from scipy.optimize import least_squares

from lipmat.fitting.hyperelastic import _Batch, curve_metrics, fit_hyperelastic
from lipmat.models.classical import OGDEN_ALPHA_GRID
from lipmat.fitting.multiaxial import load_multiaxial

DATA = Path(__file__).resolve().parent.parent / "data"
FILES = {m: DATA / f"treloar_{f}.csv" for m, f in (("UT", "uniaxial"), ("ET", "equibiaxial"), ("PS", "pureshear"))}


def _residual_parts(curves):
    """Weights of the loss as a residual vector: (stretches (n, 2), y, sqrt-weight/rel, sqrt-weight/abs, index)."""
    batch = _Batch(curves)
    return batch, torch.sqrt(batch.weight).numpy(), batch.rel_scale.numpy(), batch.abs_scale.numpy()


def _nominal_ogden(theta, lam, n_terms):
    """P1, P2 of incompressible Ogden-N at in-plane stretches lam (m, 2): numpy (m,), (m,)."""
    mu, alpha = theta[:n_terms], theta[n_terms:]
    l1, l2 = lam[:, 0], lam[:, 1]
    l3 = 1.0 / (l1 * l2)
    t = [sum(m * x ** a for m, a in zip(mu, alpha)) for x in (l1, l2, l3)]
    return (t[0] - t[2]) / l1, (t[1] - t[2]) / l2


def fit_classical(curves, n_terms: int | None):
    """Ogden-N (n_terms) or Neo-Hookean (None) fitted with the neural law's loss; returns predict(curves)."""
    batch, sw, rel, absd = _residual_parts(curves)
    lam, idx, y = batch.lam.numpy(), batch.index.numpy(), batch.y.numpy()

    def pred(theta, lam_, idx_):
        if n_terms is None:                     # Neo-Hookean = Ogden-1 with α = 2, μ₁ = μ
            p1, p2 = _nominal_ogden(np.array([theta[0], 2.0]), lam_, 1)
        else:
            p1, p2 = _nominal_ogden(theta, lam_, n_terms)
        return np.concatenate([p1, p2])[idx_]

    def residual(theta):
        r = pred(theta, lam, idx) - y
        out = np.concatenate([sw * r / rel, sw * r / absd])
        return np.where(np.isfinite(out), out, 1e6)

    if n_terms is None:
        res = least_squares(residual, [4e5], x_scale="jac")
        best = res.x
    else:
        starts = []
        for alpha in itertools.combinations(OGDEN_ALPHA_GRID, n_terms):
            cols = [pred(np.r_[np.eye(n_terms)[k], alpha], lam, idx) for k in range(n_terms)]
            a = np.stack([np.concatenate([sw * c / rel, sw * c / absd]) for c in cols], 1)
            b = np.concatenate([sw * y / rel, sw * y / absd])
            mu = np.linalg.lstsq(a, b, rcond=None)[0]
            starts.append((float(np.sum(residual(np.r_[mu, alpha]) ** 2)), np.r_[mu, alpha]))
        starts.sort(key=lambda s: s[0])
        fits = [least_squares(residual, th, x_scale="jac", max_nfev=2000,
                              bounds=([-np.inf] * n_terms + [-20] * n_terms, [np.inf] * n_terms + [20] * n_terms))
                for _, th in starts[:8]]
        best = min(fits, key=lambda r: r.cost).x

    def predict_on(other):
        b = _Batch(other)
        return b.split(torch.as_tensor(pred(best, b.lam.numpy(), b.index.numpy())))
    return best, predict_on


def row(name, train, seconds, predict_on, extra=""):
    all_curves = [load_multiaxial(FILES[m]) for m in ("UT", "ET", "PS")]
    preds = predict_on(all_curves)
    cells = []
    for m, c, p in zip(("UT", "ET", "PS"), all_curves, preds):
        k = curve_metrics(c.targets(), p)
        star = "" if m in train else "*"
        cells.append(f"{k['r2']:.4f}{star} | {k['mape']:.2f}{star}")
    return f"| {name} | {'+'.join(train)} | " + " | ".join(cells) + f" | {seconds:.1f} | {extra} |"


def neural(train, quick):
    t = time.perf_counter()
    kw = {"epochs": 200, "lbfgs_steps": 100} if quick else {}
    fit = fit_hyperelastic([str(FILES[m]) for m in train], **kw)
    seconds = time.perf_counter() - t
    r = fit.report

    def predict_on(curves):
        b = _Batch(curves)
        with torch.no_grad():
            return b.split(b.predict(fit.model))
    extra = f"certified {r['stiffness_bound'] / 1e9:.4g} GPa, ratio {r['ratio']:.3f}"
    return seconds, predict_on, extra, fit.model


def bulk_table(law, domain=(0.3, 3.5, 0.9, 1.1)) -> None:
    """Certified plane-strain bound and time steps of one fitted law at several K/G (same W1, W2)."""
    import fem
    from fem.materials.hyperelastic import StretchDomain
    from lipmat.cli.dt import compute
    from lipmat.certify import empirical_stiffness

    mesh = fem.rectangle(0.1, 0.05, 20, 10, cell="triangle")
    dom = StretchDomain(*domain)
    print(f"\nBulk modulus and time step (plane strain, domain {dom}; 0.1 m x 0.05 m, 400 T3, density 1100):")
    print("| K/G | ν | certified a_b (MPa) | largest found (MPa) | certified Δt (µs) | critical Δt at u = 0 (µs) |")
    print("|---|---|---|---|---|---|")
    for ratio in (10.0, 50.0, 200.0, 1000.0):
        m = law.with_options(bulk_ratio=ratio, domain=dom)
        bound = m.stiffness_bound("plane_strain")
        emp, _ = empirical_stiffness(m, dom, "plane_strain")
        dt = compute(mesh, m, 1100.0, method="element")
        print(f"| {ratio:g} | {m.poisson_ratio:.4f} | {bound / 1e6:.5g} | {emp / 1e6:.5g} | "
              f"{dt['dt_certified'] * 1e6:.4g} | {dt['dt_critical'] * 1e6:.4g} |", flush=True)


def certificate_check(law, n: int = 100_000) -> None:
    """n random states in the law's domain (half on its boundary) against the certified bound."""
    from lipmat.certify import dense_lambda_max, sample_stretches

    gen = torch.Generator().manual_seed(42)
    print(f"\nCertificate of the joint fit on its domain ({law.domain}):")
    print("| kinematics | states | certified (Pa) | largest closed-form eigenvalue (Pa) | dense, 400 rotated (Pa) | "
          "states above | certified / largest |")
    print("|---|---|---|---|---|---|---|")
    for kin, k in (("3d", 3), ("plane_strain", 2)):
        bound = law.stiffness_bound(kin)
        lam = torch.cat([sample_stretches(law.domain, 300_000, kin, generator=gen, boundary=0.5) for _ in range(4)])[:n]
        with torch.no_grad():
            top = law.tangent_eigenvalues(lam).amax(-1)
        pick = torch.cat([lam[top.topk(200).indices], lam[:200]])
        q, _ = torch.linalg.qr(torch.randn(len(pick), k, k, generator=gen, dtype=torch.float64))
        A = law.tangent(q @ torch.diag_embed(pick)).detach()
        dense = float(torch.linalg.eigvalsh(0.5 * (A + A.transpose(-1, -2))).amax())
        print(f"| {kin} | {len(lam)} | {bound:.6g} | {float(top.max()):.6g} | {dense:.6g} | "
              f"{int((top > bound).sum())} | {bound / float(top.max()):.4f} |", flush=True)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="short neural training (checks the script only)")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    torch.set_default_dtype(torch.float64)
    print("| law | trained on | UT R² | UT MAPE % | ET R² | ET MAPE % | PS R² | PS MAPE % | seconds | certificate |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    joint = None
    for train in (("UT", "ET", "PS"), ("UT", "ET")):
        curves = [load_multiaxial(FILES[m]) for m in train]
        s, pr, extra, law = neural(train, args.quick)
        joint = joint or law
        print(row("neural (lipmat hyperelastic)", train, s, pr, extra), flush=True)
        for name, n in (("Ogden-3", 3), ("Neo-Hookean", None)):
            t = time.perf_counter()
            _, pr = fit_classical(curves, n)
            print(row(name, train, time.perf_counter() - t, pr, "none (unbounded in λ)"), flush=True)
    print("\n* predicted (not trained on). Seconds: wall time of the fit (neural: with the certificate and the empirical search).")
    certificate_check(joint)
    bulk_table(joint)


if __name__ == "__main__":
    main()
