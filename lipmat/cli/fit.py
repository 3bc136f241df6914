"""Fit a material law to CSV measurements and write a model file with its stiffness certificate.

Examples:
  lipmat fit data/treloar_uniaxial.csv --model uniaxial --out out/rubber.pt --plot out/fit.png
  lipmat fit curve.csv --stress-unit kPa --model ogden3 --json

Neural models: uniaxial (default; certified monotone 1D law), uniaxial_sn, isotropic, mlp, and
viscoelastic (finite strain with memory, fitted to time-stamped histories; docs/viscoelastic.md),
hyperelastic (finite strain: UT/ET/PS/biaxial tests fitted jointly, e.g.
  lipmat fit data/treloar_uniaxial.csv data/treloar_equibiaxial.csv data/treloar_pureshear.csv \
      --model hyperelastic --out out/rubber.pt
certified on a stretch domain; see docs/hyperelastic.md). Classical
laws (lipmat.models.classical: linear, neohookean, mooney_rivlin, yeoh, ogden1..ogden6, gent,
arruda_boyce) are fitted by least squares to one uniaxial curve.

A stress column names its unit (nominal_stress_MPa, stress_kPa, ...); for a column without one give
--stress-unit. Without --out the model is written to out/<first data file's name>.pt.
By default the slope cap is 1.1 x the data's largest secant slope (origin included); --max-stiffness
sets it in Pa. --json prints one JSON object (r2, rmse, mape, stiffness_bound, empirical_stiffness,
ratio, seconds, ...), strict JSON (a value that is not a finite number is null).

--ensemble N fits N certified laws instead of one (lipmat.fitting.ensemble): bootstrap resamples of the
data points and fresh initialisations, in parallel processes, written to <out stem>_ensemble/
(member_00.pt .., ensemble.json). The report gives each member's fit and bound, the spread of their
predictions (a band; --plot draws it) and of their certified steps; `lipmat sweep` runs every member
with "material.model" = { ensemble = ".../ensemble.json" }.
"""
from __future__ import annotations

import difflib
import logging
import sys
from pathlib import Path

from lipmat.errors import LipmatError

HELP = "fit a material law to CSV measurements and write a model file"

#: Neural models (lipmat.fitting.stress_strain) and classical laws (lipmat.models.classical) the command fits.
NEURAL = ("uniaxial", "uniaxial_sn", "isotropic", "mlp", "hyperelastic", "viscoelastic")
CLASSICAL = ("linear", "neohookean", "mooney_rivlin", "yeoh", *(f"ogden{k}" for k in range(1, 7)), "gent",
             "arruda_boyce")
#: Largest epoch / L-BFGS counts accepted (a typo such as 4e9 epochs would run for days).
MAX_EPOCHS = 10_000_000


def add_arguments(parser) -> None:
    parser.add_argument("data", nargs="+", metavar="DATA.csv", help="measurement files (curves or tensor tables)")
    parser.add_argument("--model", default="uniaxial", help="model name (default: uniaxial; see above)")
    parser.add_argument("--out", default=None, metavar="MODEL.pt",
                        help="model file to write (default: out/<first data file's name>.pt)")
    parser.add_argument("--stress-unit", default=None, choices=("Pa", "kPa", "MPa", "GPa"), dest="stress_unit",
                        help="unit of stress columns that carry no unit suffix")
    parser.add_argument("--max-stiffness", type=float, default=None, metavar="L",
                        help="slope cap in Pa (default: 1.1 x the data's largest secant slope)")
    parser.add_argument("--epochs", type=int, default=None, help="Adam epochs (default: per model)")
    parser.add_argument("--lbfgs", type=int, default=None, metavar="N", help="L-BFGS iterations after Adam")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--loss", choices=("relative", "absolute"), default="relative")
    parser.add_argument("--validation", type=float, default=0.0, metavar="F",
                        help="fraction in [0, 0.5] of each file's points held out and reported separately")
    parser.add_argument("--plot", default=None, metavar="FIT.png", help="plot data, fit and extrapolation")
    parser.add_argument("--baselines", action="store_true",
                        help="also fit the classical laws to the first curve; their R², RMSE, MAPE in the "
                             "output and the plot's legend")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar (default: on a terminal)")
    parser.add_argument("--ensemble", type=int, default=None, metavar="N",
                        help="fit N certified laws (bootstrap resamples + fresh initialisations) into "
                             "<out stem>_ensemble/")
    hyper = parser.add_argument_group("--model hyperelastic (finite strain; UT/ET/PS/biaxial tests fitted jointly)")
    hyper.add_argument("--mode", action="append", dest="modes", metavar="FILE=MODE",
                       help="test mode of a file: uniaxial, equibiaxial, pure_shear or biaxial (default: from the "
                            "file name or its columns); repeat per file")
    bulk = hyper.add_mutually_exclusive_group()
    bulk.add_argument("--bulk-ratio", type=float, default=None, dest="bulk_ratio", metavar="K/G",
                      help="small-strain bulk modulus over shear modulus (default 50)")
    bulk.add_argument("--nu", type=float, default=None, help="small-strain Poisson ratio instead of --bulk-ratio")
    hyper.add_argument("--domain", default=None, metavar="LAM_LO,LAM_HI,J_LO,J_HI",
                       help="certified domain (default: the data's stretches widened, J in [0.9, 1.1])")
    visco = parser.add_argument_group("--model viscoelastic (time-stamped histories time_s, stretch, "
                                      "nominal_stress_<unit>; Prony-Ogden baseline fitted beside)")
    visco.add_argument("--branches", type=int, default=8, metavar="N", help="Maxwell branches (default 8)")


def check_model_name(name: str) -> None:
    """LipmatError listing every model the command fits, with a close match if there is one."""
    known = [*NEURAL, *CLASSICAL, *_extra_models()]
    if name in known:
        return
    close = difflib.get_close_matches(name, known, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise LipmatError(f"unknown --model {name!r}{hint}; expected a neural model ({', '.join(NEURAL)}) or a "
                      f"classical law ({', '.join(CLASSICAL)})"
                      + (f" or {', '.join(_extra_models())}" if _extra_models() else ""))


def _extra_models() -> tuple[str, ...]:
    """Further fitted models registered in lipmat.fitting.stress_strain.DEFAULTS (beyond the neural ones listed above)."""
    from lipmat.fitting.stress_strain import DEFAULTS
    return tuple(n for n in DEFAULTS if n not in NEURAL)


def _check_options(args) -> None:
    for opt, value in (("--epochs", args.epochs), ("--lbfgs", args.lbfgs)):
        if value is not None and not 0 <= value <= MAX_EPOCHS:
            raise LipmatError(f"{opt} {value}: expected a count in [0, {MAX_EPOCHS:.0e}]")
    if not (0.0 <= args.validation <= 0.5):
        raise LipmatError(f"--validation {args.validation:g}: expected a fraction in [0, 0.5]")
    if args.max_stiffness is not None and not (0 < args.max_stiffness < float("inf")):
        raise LipmatError(f"--max-stiffness {args.max_stiffness:g}: expected a finite slope cap > 0 in Pa "
                          f"(max_stiffness)")
    if args.seed < 0:
        raise LipmatError(f"--seed {args.seed}: expected an integer >= 0")


def default_out(data: list[str]) -> Path:
    """out/<stem of the first data file>.pt"""
    return Path("out") / f"{Path(data[0]).stem or 'model'}.pt"


def run(args) -> int:
    from lipmat.cli._output import dumps, output_file
    from lipmat.fitting.data import load_csv
    from lipmat.io import save

    check_model_name(args.model)
    _check_options(args)
    out = output_file(args.out or default_out(args.data), "--out")
    plot = output_file(args.plot, "--plot") if args.plot else None
    if args.model == "hyperelastic":
        return _run_hyperelastic(args, out, plot)
    if args.model == "viscoelastic":
        from lipmat.cli._viscoelastic import run_viscoelastic
        return run_viscoelastic(args, out, plot)
    if args.modes or args.bulk_ratio is not None or args.nu is not None or args.domain is not None:
        raise LipmatError("--mode, --bulk-ratio, --nu and --domain belong to --model hyperelastic")
    items = [load_csv(p, stress_unit=args.stress_unit) for p in args.data]
    if args.ensemble is not None:
        return _run_ensemble(args, items, out, plot)
    from lipmat.fitting.stress_strain import DEFAULTS, _as_sets, fit

    if args.model in DEFAULTS:
        result = fit(args.model, items, epochs=args.epochs, seed=args.seed,
                     max_stiffness=args.max_stiffness, lbfgs_steps=args.lbfgs, loss=args.loss,
                     validation=args.validation, progress=False if args.json or args.no_progress else None)
        model, report = result.model, result.report.to_dict()
        report.update(describe_stiffness(model, report))
        report["cap_source"] = "from --max-stiffness; data stiffness" if args.max_stiffness is not None else \
            "1.1 x the data stiffness"
    else:
        model, report = _fit_classical(args, items)
    output_file(out, "--out", create=True)
    save(model, out, report=report)
    report["out"] = str(out)
    baselines = _baselines(items[0]) if args.baselines else None
    if baselines is not None:
        report["baselines"] = {n: m for n, (_, m) in baselines.items()}
    if plot is not None:
        from lipmat.fitting.plots import plot_fit
        output_file(plot, "--plot", create=True)
        plot_fit(plot, model, _as_sets(items),
                 baselines={n: fn for n, (fn, _) in baselines.items()} if baselines else None)
        report["plot"] = str(plot)
    if args.json:
        print(dumps(report))
    else:
        _print_text(report)
    return 0


def _run_ensemble(args, items, out, plot) -> int:
    """``--ensemble N``: lipmat.fitting.ensemble does the work; the report and the band plot."""
    import time

    from lipmat.cli._output import dumps, output_file, output_dir
    from lipmat.fitting.ensemble import fit_ensemble, plot_ensemble

    if args.validation or args.baselines:
        raise LipmatError("--ensemble: --validation and --baselines apply to a single fit")
    folder = output_dir(out.with_name(f"{out.stem}_ensemble"), "--out (ensemble folder)")
    start = time.perf_counter()
    manifest = fit_ensemble(args.model, items, args.ensemble, folder, seed=args.seed, epochs=args.epochs,
                            lbfgs_steps=args.lbfgs, max_stiffness=args.max_stiffness, loss=args.loss)
    report = {**manifest, "out": str(folder), "manifest": str(folder / "ensemble.json"),
              "seconds": time.perf_counter() - start}
    if plot is not None:
        output_file(plot, "--plot", create=True)
        report["plot"] = str(plot_ensemble(plot, [str(folder / m["file"]) for m in manifest["members"]], items))
    if args.json:
        print(dumps(report))
        return 0
    b = report["stiffness_bound"]
    print(f"ensemble of {len(report['members'])} {report['model']} laws -> {report['manifest']}")
    for m in report["members"]:
        print(f"  {m['file']}: R² {m['r2']:.6f}  MAPE {m['mape']:.3f} %  certified {m['stiffness_bound']:.6g} Pa  "
              f"(seed {m['seed']}, {m['seconds']:.1f} s)")
    print(f"  certified bounds {b['min']:.6g} .. {b['max']:.6g} Pa (mean {b['mean']:.6g}; common cap "
          f"{report['cap']:.6g} Pa): the members' certified steps differ by up to x{report['dt_ratio']:.4f}")
    for name, w in report["band"].items():
        print(f"  band on {name}: max−min of the predictions at the data up to {100 * w['max_relative_width']:.3g} % "
              f"of the measured stress (mean {100 * w['mean_relative_width']:.3g} %)")
    if report.get("plot"):
        print(f"  plot: {report['plot']}")
    print(f"  {report['seconds']:.1f} s")
    return 0


def _run_hyperelastic(args, out, plot) -> int:
    """The finite-strain neural law: lipmat.cli._hyperelastic runs it, lipmat.fitting.hyperelastic fits it."""
    from lipmat.cli._hyperelastic import print_fit, run_fit_cli
    from lipmat.cli._output import dumps, output_file

    output_file(out, "--out", create=True)          # the default out/ folder may not exist yet
    if plot is not None:
        output_file(plot, "--plot", create=True)
    report = run_fit_cli(args, out, plot)
    if args.json:
        print(dumps(report))
    else:
        print_fit(report)
    return 0


def describe_stiffness(model, report: dict) -> dict:
    """What the stiffness numbers of a neural fit measure, and the small-strain moduli of an isotropic law.

    1D laws: every number is a slope dσ/dε of the fitted curve. Multiaxial laws: the certificate is
    λ_max(C_b) of the Mandel tangent (≥ its spectral norm); the cap bounds K and 2G (isotropic
    potential) or the tangent's spectral norm (MLP); the data's stiffness is a curve's nominal secant
    slope or a table's largest ‖Δσ‖/‖Δε‖ — different measures, each named here. For the isotropic law
    the small-strain E, ν, G, K are read off the tangent at ε = 0: ν is determined by the fit only as far
    as the data constrain lateral strains; it is reported, not chosen.
    """
    if model.kinematics == "uniaxial":
        return {"stiffness_measure": "dσ/dε of the 1D law (certified bound and largest slope found)"}
    kinds = {f.get("kind") for f in report.get("files", [])}
    data_note = " and ".join(
        t for k, t in (("curve", "the curves' largest nominal secant slope"),
                       ("table", "the tables' largest ‖Δσ‖/‖Δε‖ between rows")) if k in kinds) or "the data's slope"
    out = {"stiffness_measure": "λ_max(C_b): bound on the spectral norm of the Mandel tangent C(ε)",
           "data_stiffness_measure": data_note}
    if not callable(getattr(model, "moduli_bounds", None)):
        out["cap_measure"] = "on the tangent's spectral norm (the network's Lipschitz constant)"
        return out
    import torch

    x = torch.zeros(model.n, dtype=torch.float64)
    c = torch.autograd.functional.jacobian(lambda e: model(e.unsqueeze(0))[0], x).detach()
    g = float(c[-1, -1]) / 2.0                # Mandel shear entry = 2G
    lam = float(c[0, 1])                      # off-diagonal normal entry = λ (plane strain and 3D)
    young = g * (3 * lam + 2 * g) / (lam + g) if lam + g != 0 else float("nan")
    nu = lam / (2 * (lam + g)) if lam + g != 0 else float("nan")
    out["cap_measure"] = ("on the bulk modulus K and on 2G (each response's slope), so λ_max(C_b) <= "
                          f"{3 if model.kinematics == '3d' else 2}·L")
    out["small_strain"] = {"E": young, "nu": nu, "G": g, "K": lam + 2 * g / 3,
                           "note": "tangent of the fitted law at ε = 0 (fitted, not assumed)"}
    return out


def _fit_classical(args, items):
    """Fit a classical baseline (lipmat.models.classical) to one curve; (model, report dict)."""
    import time

    from lipmat.fitting import metrics
    from lipmat.errors import CertificateError
    from lipmat.models.classical import fit_baseline

    start = time.perf_counter()
    if len(items) != 1 or items[0].strain.ndim != 1:
        raise LipmatError(f"classical law {args.model!r}: expected one uniaxial curve, received "
                          f"{len(items)} file(s)" + ("" if len(items) != 1 else " holding a tensor table"))
    curve = items[0]
    model = fit_baseline(args.model, curve, loss=args.loss)
    pred = model.nominal_stress(1.0 + curve.strain)
    keep = curve.stress != 0
    m = {"r2": metrics.r2(curve.stress, pred), "rmse": metrics.rmse(curve.stress, pred),
         "mape": metrics.mape(curve.stress[keep], pred[keep])}
    try:
        bound, note = float(model.stiffness_bound()), "certified"
    except CertificateError as exc:
        bound, note = None, f"none: {exc}"
    over = float(model.stiffness_over_data(curve))
    name = str(model.config().get("name", args.model))
    report = {"model": name, "files": [{"file": curve.provenance.get("file", args.data[0]), "kind": "curve",
                                         "points": int(len(curve.strain)), **m}],
              **m, "stiffness_bound": bound, "stiffness_bound_note": note,
              "empirical_stiffness": over, "empirical_note": "largest dP/dλ over the data range (estimate)",
              "stiffness_measure": "dP/dλ of the fitted law (nominal stress vs stretch)",
              "ratio": (bound / over) if bound is not None and over > 0 else None,
              "seconds": time.perf_counter() - start, "provenance": [curve.provenance]}
    return model, report


def _baselines(curve) -> dict:
    """name -> (strain (k,) -> stress (k,) Pa, {r2, rmse, mape}) of every classical law fitted to ``curve``."""
    from lipmat.fitting import metrics
    from lipmat.models.classical import BASELINES, fit_baseline

    if getattr(curve, "strain", None) is None or curve.strain.ndim != 1:
        raise LipmatError("--baselines: the classical laws fit a uniaxial curve; the first data file is a table")
    out = {}
    keep = curve.stress != 0
    for name in BASELINES:
        try:
            law = fit_baseline(name, curve)
            pred = law.nominal_stress(1.0 + curve.strain)
        except LipmatError as exc:      # a law that cannot be fitted to these data is left out, and said so
            logging.getLogger(__name__).warning("baseline %s left out: %s", name, exc)
            continue
        m = {"r2": float(metrics.r2(curve.stress, pred)), "rmse": float(metrics.rmse(curve.stress, pred)),
             "mape": float(metrics.mape(curve.stress[keep], pred[keep]))}
        out[name] = ((lambda law: (lambda strain: law.nominal_stress(1.0 + strain)))(law), m)
    return out


def _num(x, fmt=".6g", unit=" Pa") -> str:
    return "n/a" if x is None else f"{x:{fmt}}{unit}"


def _print_text(r: dict) -> None:
    out = sys.stdout
    print(f"model {r.get('model')} -> {r.get('out')}", file=out)
    for f in r.get("files", []):
        print(f"  {f['file']}: R² {f['r2']:.6f}  RMSE {f['rmse']:.4g} Pa  MAPE {f['mape']:.3f} %  "
              f"({f['points']} points)", file=out)
    if r.get("validation"):
        v = r["validation"]
        print(f"  validation: R² {v['r2']:.6f}  RMSE {v['rmse']:.4g} Pa  MAPE {v['mape']:.3f} %", file=out)
    sb, emp = r.get("stiffness_bound"), r.get("empirical_stiffness")
    multiaxial = "cap_measure" in r
    if sb is None:
        print(f"  stiffness: no certified bound ({r.get('stiffness_bound_note')}); largest tangent over the data "
              f"{_num(emp)} (estimate)", file=out)
    elif multiaxial:
        print(f"  stiffness: certified λ_max(C_b) {_num(sb)}, largest ‖C(ε)‖₂ found {_num(emp)} "
              f"(ratio {_num(r.get('ratio'), '.6f', '')}; both on the Mandel tangent)", file=out)
        print(f"  assumed:   cap L = {_num(r.get('max_stiffness'))} {r.get('cap_measure', '')}; "
              f"{r.get('cap_source')} ({_num(r.get('data_stiffness'))}, "
              f"{r.get('data_stiffness_measure', 'a slope of the data')})", file=out)
        ss = r.get("small_strain")
        if ss:
            print(f"  fitted:    small-strain E {_num(ss['E'], '.4g')}, ν {_num(ss['nu'], '.4f', '')}, "
                  f"G {_num(ss['G'], '.4g')}, K {_num(ss['K'], '.4g')} (tangent at ε = 0; ν is whatever the "
                  f"data's load cases determine)", file=out)
    else:
        line = f"  stiffness: certified {_num(sb)}, empirical {_num(emp)} (ratio {_num(r.get('ratio'), '.6f', '')})"
        if r.get("data_stiffness") is not None:
            line += f", data secant {_num(r['data_stiffness'])}, cap {_num(r.get('max_stiffness'))}"
        elif r.get("model") == "linear":
            line += " (the fitted E itself: a linear law's slope is its certificate)"
        print(line, file=out)
    for text in r.get("warnings") or []:
        print(f"  warning: {text}", file=out)
    for name, m in (r.get("baselines") or {}).items():
        print(f"  baseline {name:<13} R² {m['r2']:.6f}  RMSE {m['rmse']:.4g} Pa  MAPE {m['mape']:.3f} %", file=out)
    if r.get("plot"):
        print(f"  plot: {r['plot']}", file=out)
    if "seconds" in r:
        print(f"  {r['seconds']:.1f} s", file=out)
