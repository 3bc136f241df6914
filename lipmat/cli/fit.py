"""Fit a material law to CSV measurements and write a model file with its stiffness certificate.

Examples:
  lipmat fit data/treloar_uniaxial.csv --model uniaxial --out rubber.pt --plot fit.png
  lipmat fit curve.csv --model ogden3 --out ogden.pt --json

Neural models: uniaxial (default; certified monotone 1D law), uniaxial_sn, isotropic, mlp. Classical
baselines (from lipmat.models.classical, e.g. neohookean, ogden3) are fitted by least squares.
By default the slope cap is 1.1 × the data's largest secant slope (origin included); --max-stiffness
sets it in Pa. --json prints one JSON object (r2, rmse, mape, stiffness_bound, empirical_stiffness,
ratio, seconds, ...).
"""
from __future__ import annotations

import json
import logging
import sys

HELP = "fit a material law to CSV measurements and write a model file"


def add_arguments(parser) -> None:
    parser.add_argument("data", nargs="+", metavar="DATA.csv", help="measurement files (curves or tensor tables)")
    parser.add_argument("--model", default="uniaxial", help="model name (default: uniaxial)")
    parser.add_argument("--out", required=True, metavar="MODEL.pt", help="model file to write")
    parser.add_argument("--max-stiffness", type=float, default=None, metavar="L",
                        help="slope cap in Pa (default: 1.1 x the data's largest secant slope)")
    parser.add_argument("--epochs", type=int, default=None, help="Adam epochs (default: per model)")
    parser.add_argument("--lbfgs", type=int, default=None, metavar="N", help="L-BFGS iterations after Adam")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--loss", choices=("relative", "absolute"), default="relative")
    parser.add_argument("--validation", type=float, default=0.0, metavar="F",
                        help="fraction of each file's points held out and reported separately")
    parser.add_argument("--plot", default=None, metavar="FIT.png", help="plot data, fit and extrapolation")
    parser.add_argument("--baselines", action="store_true", help="add the classical baselines to the plot")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar (default: on a terminal)")


def run(args) -> int:
    import torch

    from lipmat.fit import DEFAULTS, _as_sets, fit
    from lipmat.io import save

    torch.set_default_dtype(torch.float64)
    if args.model in DEFAULTS:
        result = fit(args.model, list(args.data), epochs=args.epochs, seed=args.seed,
                     max_stiffness=args.max_stiffness, lbfgs_steps=args.lbfgs, loss=args.loss,
                     validation=args.validation, progress=False if args.json or args.no_progress else None)
        model, report = result.model, result.report.to_dict()
    else:
        model, report = _fit_classical(args)
    save(model, args.out, report=report)
    report["out"] = str(args.out)
    if args.plot:
        from lipmat.plots import plot_fit
        plot_fit(args.plot, model, _as_sets(list(args.data)),
                 baselines=_baselines(args.data) if args.baselines else None)
        report["plot"] = str(args.plot)
    if args.json:
        print(json.dumps(report, default=str))
    else:
        _print_text(report)
    return 0


def _fit_classical(args):
    """Fit a classical baseline (lipmat.models.classical) to one curve; (model, report dict)."""
    import time

    from lipmat import metrics
    from lipmat.data import load_csv
    from lipmat.errors import LipmatError
    from lipmat.models.classical import fit_baseline

    start = time.perf_counter()
    if len(args.data) != 1:
        raise LipmatError(f"classical baseline {args.model!r}: expected one uniaxial curve, received "
                          f"{len(args.data)} files")
    curve = load_csv(args.data[0])
    model = fit_baseline(args.model, curve, loss=args.loss)
    pred = model.nominal_stress(1.0 + curve.strain)
    keep = curve.stress != 0
    m = {"r2": metrics.r2(curve.stress, pred), "rmse": metrics.rmse(curve.stress, pred),
         "mape": metrics.mape(curve.stress[keep], pred[keep])}
    try:
        bound, note = float(model.stiffness_bound()), "certified"
    except LipmatError as exc:
        bound, note = None, f"none: {exc}"
    over = float(model.stiffness_over_data(curve))
    name = str(model.config().get("name", args.model))
    report = {"model": name, "files": [{"file": curve.provenance.get("file", args.data[0]), "kind": "curve",
                                         "points": int(len(curve.strain)), **m}],
              **m, "stiffness_bound": bound, "stiffness_bound_note": note,
              "empirical_stiffness": over, "empirical_note": "largest dP/dλ over the data range (estimate)",
              "ratio": (bound / over) if bound is not None and over > 0 else None,
              "seconds": time.perf_counter() - start, "provenance": [curve.provenance]}
    return model, report


def _baselines(paths) -> dict:
    """name -> (strain (k,) -> stress (k,) Pa) of every classical baseline fitted to the first curve."""
    from lipmat.data import load_csv
    from lipmat.models.classical import BASELINES, fit_baseline

    curve = load_csv(paths[0])
    out = {}
    for name in BASELINES:
        try:
            law = fit_baseline(name, curve)
        except Exception as exc:     # a baseline that cannot be fitted is left off the plot, not fatal
            logging.getLogger(__name__).info("baseline %s not plotted: %s", name, exc)
            continue
        out[name] = (lambda law: (lambda strain: law.nominal_stress(1.0 + strain)))(law)
    return out


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
    if sb is None:
        print(f"  stiffness: no certified bound ({r.get('stiffness_bound_note')}); largest tangent over the data "
              f"{emp:.6g} Pa (estimate)", file=out)
    else:
        print(f"  stiffness: certified {sb:.6g} Pa, empirical {emp:.6g} Pa (ratio {r.get('ratio', float('nan')):.6f}), "
              f"data secant {r.get('data_stiffness', float('nan')):.6g} Pa, cap {r.get('max_stiffness', float('nan')):.6g} Pa",
              file=out)
    if "seconds" in r:
        print(f"  {r['seconds']:.1f} s", file=out)
