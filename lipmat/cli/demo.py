"""The default job: fit Treloar's rubber, certify the law, and pull a rubber strip into its stiff range.

1. Fit the certified uniaxial law to Treloar's uniaxial curve (data/treloar_uniaxial.csv) and the
   classical baselines (Neo-Hookean, Mooney-Rivlin, Yeoh, Ogden 3, Gent, Arruda-Boyce, linear).
2. Certify it: the certified slope bound next to the largest slope found (their ratio is the
   certificate's tightness).
3. Simulate a 10 cm strip of that rubber (1D bar) held at one end and pulled at the other to 7.5x
   its length, into the stiff part of the curve, at the certified time step; and, for comparison, at
   the step an initial-modulus estimate gives (h/c0), which blows up.

Writes into --out (default out/demo):
  fit.png               data, fitted law, baselines, extrapolation to lambda = 9 and into compression
  energy.png, energy.csv  energy history and balance error of the certified run
  space_time.png        stretch and waves along the strip over time
  stretch.png           largest stretch over time: initial-modulus step vs certified step
  fields/bar.xdmf       displacement, velocity, strain, stress over time for ParaView (+ .h5 files)
  treloar_uniaxial.pt   the fitted, certified model (lipmat run / lipmat dt can use it)
  sheet.png, sheet_energy.png, sheet/sheet.xdmf, treloar_hyperelastic.pt   the 2D part: a plane-strain
                        rubber sheet with a hole pulled to stretch 3 with the neural hyperelastic law fitted
                        to Treloar's UT+ET+PS curves, at the certified step (lipmat.demo.sheet)
  summary.json, summary.txt
Logging goes to stderr, the summary to stdout (--json: the summary as JSON). --quick: a quicker fit
and a coarser strip and sheet (for tests; about 15 s).
"""
from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

HELP = "the default job: fit Treloar's rubber, certify it, simulate a rubber strip"

log = logging.getLogger("lipmat.demo")


def add_arguments(parser) -> None:
    parser.add_argument("--out", default="out/demo", metavar="DIR", help="output folder (default: out/demo)")
    parser.add_argument("--quick", action="store_true", help="quick fits, a coarse strip and sheet (about 15 s)")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars (default: on a terminal)")


def run(args) -> int:
    from lipmat.cli._output import dumps, output_dir

    output_dir(args.out, "--out")
    wall0 = time.perf_counter()
    _logging()
    summary = demo(Path(args.out), quick=args.quick, progress=False if args.no_progress else None)
    summary["wall_time_s"] = time.perf_counter() - wall0
    text = summary_text(summary)
    _write(Path(args.out) / "summary.json", dumps(summary, indent=2) + "\n")
    _write(Path(args.out) / "summary.txt", text + "\n")
    print(dumps(summary, indent=2) if args.json else text)
    sheet_ok = summary.get("sheet", {}).get("status", "completed") == "completed"
    return 0 if summary["certified_status"] == "completed" and sheet_ok else 1


def _logging() -> None:
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(stream=sys.stderr, level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    log.setLevel(logging.INFO)


def _write(path: Path, text: str) -> None:
    from fem.io.output import atomic_write

    atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def demo(out: Path, *, quick: bool = False, progress: bool | None = None) -> dict:
    """Run the demo into ``out``; returns the summary dict (see the module docstring)."""
    from fem.io.output import FieldWriter, plot_energies, write_energy_csv
    from lipmat.demo import bar as demo_bar
    from lipmat._paths import shipped_data
    from lipmat.fitting.data import load_uniaxial
    from lipmat.io import save

    out.mkdir(parents=True, exist_ok=True)
    data_path = shipped_data(demo_bar.TRELOAR_UNIAXIAL)

    log.info("fitting the certified uniaxial law to %s%s", data_path.name, " (quick)" if quick else "")
    t0 = time.perf_counter()
    result = demo_bar.fit_rubber(quick=quick, progress=progress)
    model, report = result.model, result.report
    fit_seconds = time.perf_counter() - t0
    log.info("fit: R² %.5f, MAPE %.2f %%, certified slope bound %.4g MPa (empirical %.4g MPa) in %.1f s",
             report.r2, report.mape, report.stiffness_bound / 1e6, report.empirical_stiffness / 1e6, fit_seconds)
    curve = load_uniaxial(data_path)
    baselines = demo_bar.fit_baselines(curve)
    save(model, out / "treloar_uniaxial.pt", report=report.to_dict())
    laws = {f"certified uniaxial law (R² {report.r2:.4f})": _model_fn(model)}
    laws.update({f"{n} (R² {r2:.4f})": _curve_fn(law) for n, (law, r2, _) in baselines.items()})
    demo_bar.plot_fits(out / "fit.png", curve, laws, title="Treloar's uniaxial rubber data: certified "
                       "neural law and classical baselines")

    setup = demo_bar.BarSetup(n_elements=50 if quick else 200)
    log.info("pulling a %g mm strip (%d elements) to λ = %g: initial-modulus step, then certified step",
             setup.length * 1e3, setup.n_elements, setup.stretch)
    writer = FieldWriter(out / "fields", demo_bar.bar_problem(model, setup).mesh, format="xdmf", prefix="bar")
    frames = 300 if quick else 750            # kept for the space–time plot; every 5th is written to disk
    cmp = demo_bar.compare_steps(model, setup, monitor=5 if quick else 20, output=demo_bar.ThinnedWriter(writer, 5),
                                 frames=frames, progress=progress)
    if not cmp.initial.completed:
        log.info("initial-modulus step stopped as expected: %s", cmp.initial.message)
    certified = cmp.certified
    write_energy_csv(out / "energy.csv", certified.energies)
    plot_energies(out / "energy.png", certified.energies,
                  title=f"rubber strip at the certified step ({certified.dt * 1e6:.3g} µs)")
    demo_bar.plot_space_time(out / "space_time.png", certified, setup)
    demo_bar.plot_max_stretch(out / "stretch.png", cmp)

    s = cmp.summary()
    from lipmat.demo import sheet as demo_sheet

    sheet = demo_sheet.demo(out, quick=quick, progress=progress)
    return {
        "data": str(data_path.name), "model": report.model,
        "fit_r2": report.r2, "fit_mape_percent": report.mape, "fit_seconds": fit_seconds,
        "certified_stiffness_Pa": report.stiffness_bound, "empirical_stiffness_Pa": report.empirical_stiffness,
        "certificate_tightness": report.ratio, "initial_stiffness_Pa": demo_bar.initial_tangent(model),
        "baselines": {n: {"r2": r2, "mape_percent": mape} for n, (_, r2, mape) in baselines.items()},
        "bar": setup.to_dict(), **s, "steps": certified.steps, "sheet": sheet,
        "files": sorted(p.name for p in out.iterdir() if p.is_file()),
    }


def _model_fn(model):
    import torch

    def fn(strain):
        with torch.no_grad():
            return model.stress(torch.as_tensor(strain, dtype=torch.float64).reshape(-1, 1))[:, 0].numpy()
    return fn


def _curve_fn(law):
    return lambda strain: law.nominal_stress(1.0 + strain)


def summary_text(s: dict) -> str:
    """The summary as aligned text lines."""
    ms = lambda dt: f"{dt * 1e6:.4g} µs"  # noqa: E731
    best = max(s["baselines"].items(), key=lambda kv: kv[1]["r2"])
    lines = [
        f"lipmat demo: Treloar rubber, certified uniaxial law, pulled strip ({s['bar']['n_elements']} elements)",
        f"  fit              R² {s['fit_r2']:.5f}, MAPE {s['fit_mape_percent']:.2f} % "
        f"(best classical: {best[0]} R² {best[1]['r2']:.5f}, MAPE {best[1]['mape_percent']:.2f} %)",
        f"  stiffness        certified {s['certified_stiffness_Pa'] / 1e6:.4g} MPa, empirical "
        f"{s['empirical_stiffness_Pa'] / 1e6:.4g} MPa (tightness {s['certificate_tightness']:.6f}); "
        f"initial {s['initial_stiffness_Pa'] / 1e6:.4g} MPa",
        f"  time step        certified {ms(s['dt_certified_s'])}; measured critical: unstrained "
        f"{ms(s['dt_measured_reference_s'])}, smallest along the run {ms(s['dt_measured_min_s'])} "
        f"(certified/measured {s['certified_over_measured_min']:.3f})",
        f"  certified run    {s['certified_status']}, {s['certified_steps']} steps, largest stretch "
        f"{s['max_stretch']:.3f}, max energy balance error {s['certified_max_balance_error']:.2e}, "
        f"{s['certified_wall_time_s']:.1f} s",
        f"  h/c0 run         dt {ms(s['dt_initial_modulus_s'])} ({s['initial_over_certified']:.2f}x certified): "
        f"{s['initial_status']} at t = {s['initial_t_s'] * 1e3:.4g} ms",
        f"                   {s['initial_message']}",
    ]
    if "sheet" in s:
        from lipmat.demo.sheet import summary_lines

        lines += summary_lines(s["sheet"])
    lines.append(f"  wall time        {s.get('wall_time_s', float('nan')):.1f} s")
    return "\n".join(lines)
