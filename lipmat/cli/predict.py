"""Predict tests a fitted model was not fitted to, with the fit report's per-curve metrics.

Examples:
  lipmat predict out/vhb.pt data/vhb4910/vhb4910_cyclic_rate0p05_lam2p5.csv --json
  lipmat predict out/rubber.pt data/treloar_equibiaxial.csv --plot out/pred.png

What each model predicts:
  - history models (viscoelastic, prony_ogden): time-stamped files (time_s, stretch,
    nominal_stress_<unit>), integrated along the file's own time stamps;
  - hyperelastic: uniaxial, equibiaxial, pure-shear and biaxial curves (the mode from the file
    name or its columns, as lipmat fit reads them);
  - one-dimensional laws (uniaxial curves): nominal stress against stretch.
Metrics per file, over the points with a positive measured stress: R², MAPE (%), RMSE (Pa) and the
peak-stress error 100·(max P̂ − max P)/max P (%). --json prints
{"model", "curves": [{file, mode, r2, mape, peak_error, rmse, points, kind}]}.
"""
from __future__ import annotations

import sys

HELP = "predict tests with a fitted model and report per-curve R², MAPE and peak-stress error"


def add_arguments(parser) -> None:
    parser.add_argument("model", metavar="MODEL.pt", help="a model file written by lipmat fit")
    parser.add_argument("data", nargs="+", metavar="DATA.csv", help="test files (histories or curves)")
    parser.add_argument("--stress-unit", default=None, choices=("Pa", "kPa", "MPa", "GPa"), dest="stress_unit",
                        help="unit of stress columns that carry no unit suffix")
    parser.add_argument("--plot", default=None, metavar="PRED.png", help="plot data and prediction")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")


def _history_rows(model, paths, stress_unit, plot):
    import torch

    from lipmat.fitting.histories import HistoryBatch, curve_metrics, load_histories

    histories = load_histories(paths, stress_unit=stress_unit)
    batch = HistoryBatch(histories)
    with torch.no_grad():
        preds = batch.split(model.uniaxial_history(batch.lam, batch.dt))
    if plot is not None:
        from lipmat.fitting.history_plots import plot_histories
        plot_histories(plot, histories, {f"{model.name} (prediction)": preds}, title="prediction")
    return [{"file": h.name, "mode": h.mode, "kind": h.kind, **curve_metrics(h.stress, p)}
            for h, p in zip(histories, preds)]


def _curve_rows(model, paths, stress_unit, plot):
    import numpy as np
    import torch

    from lipmat.errors import LipmatError
    from lipmat.fitting.histories import curve_metrics
    from lipmat.fitting.multiaxial import invariant_deviator, load_tests, predict

    curves = load_tests(paths, stress_unit=stress_unit)
    rows, drawn = [], []
    for c in curves:
        with torch.no_grad():
            if callable(getattr(model, "w", None)):
                p = predict(invariant_deviator(model.w), c).numpy()
            elif c.mode == "uniaxial" and callable(getattr(model, "nominal_stress", None)):
                p = np.asarray(model.nominal_stress(c.stretch[:, 0]), dtype=np.float64)
            elif c.mode == "uniaxial" and getattr(model, "kinematics", None) == "uniaxial":
                p = model(torch.as_tensor(c.stretch[:, :1] - 1.0)).reshape(-1).numpy()
            else:
                raise LipmatError(f"{c.name}: model {model.name!r} cannot predict a {c.mode} curve; expected a "
                                  f"hyperelastic model for multi-mode curves, or a uniaxial curve")
        y = c.targets()
        rows.append({"file": c.name, "mode": c.mode, "kind": "curve", **curve_metrics(y, p)})
        drawn.append((c, y, p))
    if plot is not None:
        _plot_curves(plot, drawn)
    return rows


def _plot_curves(path, drawn) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 4.2))
    for c, y, p in drawn:
        lam = c.stretch[:, 0][: len(y)]
        line, = ax.plot(lam, p[: len(lam)] / 1e6, "-", label=f"{c.mode} prediction")
        ax.plot(lam, y[: len(lam)] / 1e6, "o", ms=3, color=line.get_color(), label=f"{c.mode} data")
    ax.set_xlabel("stretch λ")
    ax.set_ylabel("nominal stress P (MPa)")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def run(args) -> int:
    from lipmat.cli._output import dumps, output_file
    from lipmat.errors import LipmatError
    from lipmat.fitting.histories import is_history_file
    from lipmat.io import load_file

    plot = output_file(args.plot, "--plot") if args.plot else None
    mf = load_file(args.model)
    model = mf.model
    kinds = {p: is_history_file(p) for p in args.data}
    history_model = callable(getattr(model, "uniaxial_history", None))
    if any(kinds.values()) and not all(kinds.values()):
        raise LipmatError(f"expected either time-stamped histories or curves, not both: histories "
                          f"{[p for p, k in kinds.items() if k]}, curves {[p for p, k in kinds.items() if not k]}")
    if all(kinds.values()) != history_model:
        what = "time-stamped histories" if history_model else "curves (no time column)"
        raise LipmatError(f"model {mf.name!r} ({args.model}) predicts {what}; received "
                          f"{'histories' if all(kinds.values()) else 'curves'}: {list(args.data)}")
    rows = (_history_rows if history_model else _curve_rows)(model, args.data, args.stress_unit, plot)
    report = {"model": mf.name, "model_file": str(args.model), "curves": rows,
              **({"plot": str(plot)} if plot else {})}
    if args.json:
        print(dumps(report))
        return 0
    print(f"model {mf.name} ({args.model}): prediction of {len(rows)} test(s)")
    for r in rows:
        print(f"  {r['file']:<50} {r['mode']:<11} R2 {r['r2']:.4f}  MAPE {r['mape']:6.2f} %  "
              f"peak {r['peak_error']:+6.2f} %  ({r['points']} points)", file=sys.stdout)
    return 0
