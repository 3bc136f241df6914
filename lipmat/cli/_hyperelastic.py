"""The finite-strain parts of two commands: ``lipmat fit ... --model hyperelastic`` and ``lipmat certify``
on a finite-strain model file (options, the run, the text output). The fitting itself is
:mod:`lipmat.fitting.hyperelastic`, the certificate report :func:`lipmat.certify.finite_strain_report`.
"""
from __future__ import annotations

import math
import sys
from pathlib import Path

from lipmat.errors import LipmatError


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
    from lipmat.fitting.hyperelastic import as_curves, fit_hyperelastic
    from lipmat.fitting.plots import plot_tests
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


def certify_cli(args, loaded) -> dict:
    """``lipmat certify`` on a finite-strain model file: certified bounds, the empirical search, the domain."""
    from lipmat.certify import finite_strain_report

    law = loaded.model
    r = finite_strain_report(law)
    return {"model": loaded.name, "file": str(args.model), "kinematics": list(law.kinematics),
            "finite_strain": True, "domain": law.domain.as_dict(), **r,
            "shear_modulus": law.shear_modulus, "bulk_modulus": law.bulk_modulus,
            "lipmat_version": loaded.lipmat_version,
            "data": [p.get("file") for p in loaded.provenance if isinstance(p, dict)]}


def print_certify(r: dict, file=None) -> None:
    """Text form of :func:`certify_cli`'s report."""
    file = file or sys.stdout
    d = r["domain"]
    print(f"{r['file']}: model {r['model']} (finite strain: plane_strain, 3d)", file=file)
    print(f"  certified domain           stretches [{d['lam_lo']:.6g}, {d['lam_hi']:.6g}], J [{d['J_lo']:.6g}, "
          f"{d['J_hi']:.6g}]", file=file)
    for kin, sfx in (("3D", ""), ("plane strain", "_plane_strain")):
        print(f"  {kin:<12} certified sup λ_max(∂P/∂F) {r['stiffness_bound' + sfx]:.9g} Pa, largest found "
              f"{r['empirical_stiffness' + sfx]:.9g} Pa (ratio {r['ratio' + sfx]:.6f})", file=file)
    print(f"  small strain: G {r['shear_modulus']:.6g} Pa, K {r['bulk_modulus']:.6g} Pa", file=file)
