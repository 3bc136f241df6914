"""What a Dask sweep buys on one machine: 8 cases of a few seconds, sequential vs a 2-worker LocalCluster.

Setup: a 1D bar deck (100 elements, certified step, about 16000 steps, frames every 2000 steps, a probe
and two scalar outputs), 8 cases varying ``material.E``. The sequential time runs the same case
function (:func:`lipmat.study.runner.run_case`) one case after another in this process, after one
warm-up case (imports, first-call costs), so both sides pay the same per-case work.
The sweep is :func:`lipmat.study.run_study` on a fresh LocalCluster of 2 worker processes, one thread
each; its wall time is given with and without the cluster's start.

Scheduler overhead per case, two ways: the round trip of an empty task on the warm cluster (submit ->
result, 40 tasks one after the other), and the amortised figure
``(sweep wall without start) x workers / cases - mean case wall`` (everything the sweep spends beyond
the cases' own work: scheduling, transfers, result files, imbalance at the end).
The machine's load average is printed, and the CPU time the cases got against the wall time: on a shared
machine the wall-time ratio is set by how many cores the other users leave free.

    python bench/sweep.py              # 8 cases
    python bench/sweep.py --quick      # 4 cases of ~1 s
"""
from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

BASE = """title = "bench bar"
[mesh]
generator = "bar"
lx = 1.0
nx = 100
area = 1e-4
[material]
type = "linear_elastic"
E = 70e9
density = 2700.0
[[bc]]
where = "left"
[initial]
velocity = ["-1.0 * x"]
[time]
end = {end}
dt = "certified"
[output]
every = 2000
plot = false
[output.probes]
tip = "right"
[output.scalars]
peak_tip = {{ probe = "tip", reduce = "max_abs" }}
final_kinetic = {{ energy = "kinetic", reduce = "final" }}
"""


def _noop(x):
    return x


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="4 cases of about 1 s")
    p.add_argument("--workers", type=int, default=2)
    args = p.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import torch

    torch.set_num_threads(1)
    from distributed import Client

    from lipmat.study import expand, load_study, run_study
    from lipmat.study.cases import write_case
    from lipmat.study.cluster import local_cluster, warm_up
    from lipmat.study.runner import run_case

    n, end = (4, 6e-3) if args.quick else (8, 3e-2)
    moduli = [50e9 + 5e9 * i for i in range(n)]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "bar.toml").write_text(BASE.format(end=end))
        text = f'[study]\ndeck = "bar.toml"\nout = "{{out}}"\n[vary]\n"material.E" = {moduli!r}\n'
        (tmp / "seq.toml").write_text(text.format(out="seq"))
        (tmp / "par.toml").write_text(text.format(out="par"))
        seq = load_study(tmp / "seq.toml")
        cases = expand(seq)
        warm = write_case(tmp / "warm", cases[0])
        run_case(str(warm), cases[0].key)
        load0 = os.getloadavg()[0]
        t0 = time.perf_counter()
        walls, cpus = [], []
        for c in cases:
            row = run_case(str(write_case(seq.out / "cases", c)), c.key)
            walls.append(row["wall_time_s"])
            cpus.append(row["cpu_time_s"])
        sequential = time.perf_counter() - t0

        t0 = time.perf_counter()
        cluster = local_cluster(args.workers)
        client = Client(cluster)
        warm_up(client)   # as run_study does with a cluster of its own: the solver imported on every worker
        start = time.perf_counter() - t0
        t1 = time.perf_counter()
        par = run_study(load_study(tmp / "par.toml"), client=client, progress=False)
        sweep = time.perf_counter() - t1
        trips = []
        for i in range(40):
            s = time.perf_counter()
            client.submit(_noop, i, pure=False).result()
            trips.append(time.perf_counter() - s)
        load1 = os.getloadavg()[0]
        client.close()
        cluster.close()
    assert all(r["status"] == "completed" for r in par.rows), par.rows
    case_wall = statistics.mean(r["wall_time_s"] for r in par.rows)
    case_cpu = statistics.mean(r["cpu_time_s"] for r in par.rows)
    amortised = sweep * args.workers / n - case_wall
    print(f"bench/sweep.py: {n} cases, {args.workers} workers, {os.cpu_count()} cores; "
          f"load average {load0:.2f} before, {load1:.2f} after")
    print()
    print("| quantity | value |")
    print("|---|---|")
    print(f"| sequential, {n} cases (this process) | {sequential:.2f} s (mean case {statistics.mean(walls):.2f} s, "
          f"CPU {statistics.mean(cpus):.2f} s) |")
    print(f"| sweep on the LocalCluster, without its start | {sweep:.2f} s (mean case {case_wall:.2f} s on a worker, "
          f"CPU {case_cpu:.2f} s) |")
    print(f"| cores our processes got (CPU / wall) | sequential {sum(cpus) / sequential:.2f}, "
          f"sweep {case_cpu * n / sweep:.2f} |")
    print(f"| LocalCluster start ({args.workers} processes, solver imported) | {start:.2f} s |")
    print(f"| sweep / sequential | {sweep / sequential:.3f} (with the start: {(sweep + start) / sequential:.3f}) |")
    print(f"| empty-task round trip (median of 40) | {1e3 * statistics.median(trips):.1f} ms |")
    print(f"| amortised overhead per case | {amortised:.3f} s |")


if __name__ == "__main__":
    main()
