"""Where one machine ends: memory and time per degree of freedom of one explicit run, by mesh size.

Each size runs in a fresh process (so its peak resident memory is its own): a 3D box of hexahedra,
Neo-Hookean (the finite-strain path: gather, P(F), scatter every step) or linear elastic (the sparse
K @ u path), clamped at x = 0 and given an initial velocity, certified step (element form), 50 steps,
no output. Printed per size: dofs, setup time (mesh, operators, certificate), time per step, µs per dof
per step, peak RSS and RSS per dof. ``docs/scaling.md`` reads this table.

    python bench/scaling.py                 # 3D hex, both materials, up to ~1.2M dofs
    python bench/scaling.py --sizes 10 20   # chosen sizes (elements per edge)
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

STEPS = 50


def one(n: int, material: str) -> dict:
    """One size, in this process: setup until the first step, then STEPS steps (a callback stops the run)."""
    import numpy as np
    import torch

    torch.set_num_threads(1)
    import fem

    mesh = fem.box(1.0, 1.0, 1.0, n, n, n)
    mat = (fem.NeoHookean(1e6, nu=0.45) if material == "neo_hookean"
           else fem.LinearElastic(3e6, 0.3, kinematics="3d"))
    v0 = np.zeros((mesh.n_points, 3))
    v0[:, 0] = 0.1 * mesh.points[:, 0]
    prob = fem.Problem(mesh, mat, 1000.0, bcs=(fem.Fixed("x == 0"),), v0=v0)
    marks = []

    def stop(state):
        marks.append(time.perf_counter())
        if len(marks) > STEPS:
            raise KeyboardInterrupt

    t0 = time.perf_counter()
    r = fem.solve(prob, 1.0, "certified", certified="element", progress=False, callback=stop,
                  monitor=fem.Monitor(every=0), limits=fem.Limits.off(), save=fem.SaveAt(keep=False),
                  energy=fem.EnergyCheck(every=10 ** 9))
    dofs = mesh.n_points * 3
    step = (marks[-1] - marks[0]) / (len(marks) - 1)
    return {"n": n, "material": material, "dofs": dofs, "cells": int(mesh.n_cells), "setup_s": marks[0] - t0 - step,
            "step_ms": 1e3 * step, "us_per_dof_step": 1e6 * step / dofs,
            "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, "status": r.status}


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", type=int, nargs="*", default=[10, 20, 40, 60])
    p.add_argument("--materials", nargs="*", default=["linear_elastic", "neo_hookean"])
    p.add_argument("--one", nargs=2, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.one:
        print(json.dumps(one(int(args.one[0]), args.one[1])))
        return
    print(f"bench/scaling.py: 3D hexahedra, {STEPS} steps, 1 thread; load average {os.getloadavg()[0]:.2f}")
    print("| material | elements/edge | dofs | setup (s) | ms/step | µs/dof/step | peak RSS (MB) | kB/dof |")
    print("|---|---|---|---|---|---|---|---|")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    for mat in args.materials:
        for n in args.sizes:
            out = subprocess.run([sys.executable, __file__, "--one", str(n), mat], capture_output=True, text=True,
                                 env=env)
            if out.returncode != 0:
                print(f"| {mat} | {n} | failed: {out.stderr.strip().splitlines()[-1] if out.stderr else out.returncode} |")
                continue
            r = json.loads(out.stdout.strip().splitlines()[-1])
            print(f"| {mat} | {n} | {r['dofs']} | {r['setup_s']:.2f} | {r['step_ms']:.2f} | "
                  f"{r['us_per_dof_step']:.3f} | {r['rss_mb']:.0f} | {1024 * r['rss_mb'] / r['dofs']:.2f} |")


if __name__ == "__main__":
    main()
