"""Run a parameter study: one base deck, the values that vary, every case a task on a Dask cluster.

STUDY.toml names the base deck and what varies (schema: `lipmat.study`): lists or grids of any deck key
by its dotted path ("time.end", "bc.2.value", "material.model", "mesh.file"), zipped or crossed, or
every member of a fitted ensemble ("material.model" = { ensemble = "fit_out/ensemble.json" }). Each case
runs in its own folder, <out>/cases/case-<key>/, from a complete deck (case.toml) that `lipmat run`
would run the same way. Results go to <out>/study.csv (one row per case: the varied values, status,
steps, dt and its form, wall time and the deck's [output.scalars]) and <out>/study.png (each output
against the varied parameter); over an ensemble also ensemble.csv (mean, min, max per output, the
spread of the members' certified steps) and ensemble_probes.png (probe histories as bands).

The cases run on a dask.distributed LocalCluster of worker processes, one thread each, one per core
(--workers N to change), or on a running cluster (--scheduler tcp://host:8786; see docs/studies.md for
SLURM through dask-jobqueue). A failing case is a row with its status and message; the study goes on.
Running a study again skips the cases already done (keyed by the content of the case's deck, mesh and
model) and resumes interrupted ones from their checkpoints; a worker that dies mid-case has its case
continued from its checkpoint on another worker.

Exit status: 0 every case completed; 1 some case did not (see study.csv); 2 bad input (study file, base
deck); 3 an internal error; 130 interrupted (finished cases and checkpoints are kept).

Example:
  lipmat sweep study.toml --workers 2          # study.toml: [study] deck = "bar.toml", [vary] ...
  lipmat sweep study.toml --scheduler tcp://10.0.0.1:8786
"""
from __future__ import annotations

import sys

HELP = "run a parameter study of a deck on a Dask cluster (lists, grids, fitted ensembles)"


def add_arguments(parser) -> None:
    parser.add_argument("study", metavar="STUDY.toml", help="study file (TOML): [study] deck = ..., [vary]")
    parser.add_argument("--out", metavar="DIR", help="output folder (overrides [study] out)")
    parser.add_argument("--scheduler", metavar="ADDRESS", help="join a running Dask scheduler instead of "
                        "starting a local cluster (e.g. tcp://10.0.0.1:8786)")
    parser.add_argument("--workers", type=int, metavar="N", help="local worker processes (default: the cores)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar (default: on a terminal)")


def run(args) -> int:
    from pathlib import Path

    from lipmat.cli._output import dumps, output_dir
    from lipmat.errors import LipmatError
    from lipmat.study import expand, load_study, run_study

    if args.workers is not None and args.workers < 1:
        raise LipmatError(f"--workers must be a whole number >= 1, got {args.workers}")
    study = load_study(args.study)
    if args.out is not None:
        study.out = Path(args.out).resolve()
    output_dir(study.out, "--out" if args.out else "[study] out", create=False)
    n_cases = len(expand(study))
    done = run_study(study, scheduler=args.scheduler, workers=args.workers,
                     progress=False if args.no_progress else None)
    bad = [r for r in done.rows if r.get("status") != "completed"]
    summary = {"study": str(args.study), "cases": n_cases, "ran": len(done.ran), "skipped": len(done.skipped),
               "completed": n_cases - len(bad), "not_completed": [
                   {"case": r["case"], "status": r.get("status"), "message": r.get("message")}
                   for r in done.rows if r.get("status") != "completed"],
               "workers": done.workers, "wall_time_s": done.wall_time_s,
               "outputs": {k: str(v) for k, v in done.files.items()}}
    if args.json:
        print(dumps(summary, indent=2))
    else:
        print(f"lipmat sweep: {summary['completed']} of {n_cases} cases completed ({summary['ran']} run now on "
              f"{done.workers or 'no'} worker(s), {summary['skipped']} already done) in {done.wall_time_s:.3g} s")
        for k, v in summary["outputs"].items():
            print(f"  {k:<16} {v}")
        for b in summary["not_completed"]:
            print(f"  case {b['case']:<4}     {b['status']}: {b['message']}")
    if bad:
        print(f"lipmat sweep: {len(bad)} case(s) did not complete; see {done.files.get('table')}", file=sys.stderr)
        return 1
    return 0
