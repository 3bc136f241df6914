"""``lipmat fit --model viscoelastic``: time-stamped histories -> a certified viscoelastic model file.

Fits :class:`lipmat.models.viscoelastic.NeuralViscoelastic` jointly to every history given, and the
Prony–Ogden baseline beside it (:func:`lipmat.fitting.viscoelastic.fit_prony`), and writes the model
file with the report (per-curve R², MAPE, peak-stress error for both, the certificate, the smallest
step dissipation). ``--plot`` draws the loops per rate and the relaxation on a log time axis.
"""
from __future__ import annotations

import sys


def run_viscoelastic(args, out, plot) -> int:
    """Run the fit for parsed ``lipmat fit`` arguments; ``out``/``plot`` are checked output paths."""
    from lipmat.cli._output import dumps
    from lipmat.errors import LipmatError
    from lipmat.fitting.histories import HistoryBatch, load_histories
    from lipmat.fitting.viscoelastic import fit_viscoelastic, print_report
    from lipmat.io import save

    if args.modes or args.bulk_ratio is not None or args.nu is not None:
        raise LipmatError("--mode, --bulk-ratio and --nu belong to --model hyperelastic; a viscoelastic fit reads "
                          "uniaxial histories (time_s, stretch, nominal_stress_<unit>) and sets K = 50·G_glassy")
    domain = None
    if args.domain is not None:
        try:
            domain = [float(v) for v in args.domain.split(",")]
            assert len(domain) == 4
        except (ValueError, AssertionError):
            raise LipmatError(f"--domain {args.domain!r}: expected LAM_LO,LAM_HI,J_LO,J_HI (four numbers)") from None
    histories = load_histories(args.data, stress_unit=args.stress_unit)
    result = fit_viscoelastic(histories, branches=args.branches, epochs=args.epochs, lbfgs_steps=args.lbfgs,
                              seed=args.seed, domain=domain)
    report = dict(result.report, out=str(out))
    save(result.model, out, report=report)
    if plot is not None:
        from lipmat.fitting.history_plots import plot_histories
        batch = HistoryBatch(histories)
        import torch
        with torch.no_grad():
            preds = {"neural viscoelastic": batch.split(result.model.uniaxial_history(batch.lam, batch.dt))}
            if result.baseline is not None:
                preds["Prony–Ogden"] = batch.split(result.baseline.uniaxial_history(batch.lam, batch.dt))
        plot_histories(plot, histories, preds, title="VHB-type histories: fit")
        report["plot"] = str(plot)
    if args.json:
        print(dumps(report))
    else:
        print(f"model viscoelastic -> {out}")
        print_report(report, file=sys.stdout)
    return 0
