"""Running a study's cases on Dask: a local cluster by default, or an existing one by its address.

Every case is an independent task (:func:`lipmat.study.runner.run_case`) on a worker *process* with one
thread (the solver is single-threaded on small meshes, and processes keep torch's and Python's state
apart). The default :class:`distributed.LocalCluster` has one worker per core. With ``scheduler`` the
study joins a running cluster (for instance one that ``dask-jobqueue`` started on SLURM, see
``docs/studies.md``); its workers must import this lipmat and see the study's folder.

Robustness comes from the scheduler and the case folders: a worker that dies mid-case has its task
given to another worker (``distributed.scheduler.allowed-failures``, 3 by default) and the case resumes
from its last checkpoint; a study stopped with Ctrl-C keeps every finished case (``result.json``) and
every case's checkpoint, and the next run of the same study only runs what is missing.
"""
from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from lipmat.study.cases import expand, write_case
from lipmat.study.runner import read_result, run_case

__all__ = ["run_study", "StudyRun", "local_cluster", "warm_up"]

log = logging.getLogger(__name__)


@dataclass
class StudyRun:
    """What :func:`run_study` did: a row per case (in case order), what ran and what was reused."""

    rows: list
    ran: list = field(default_factory=list)        # case indices run (or resumed) now
    skipped: list = field(default_factory=list)    # case indices already done
    files: dict = field(default_factory=dict)
    wall_time_s: float = 0.0
    workers: int = 0


def local_cluster(workers: int | None = None):
    """A LocalCluster of worker processes, one thread each (``workers`` default: the machine's cores)."""
    from distributed import LocalCluster

    n = workers or os.cpu_count() or 1
    pkg_root = str(Path(__file__).resolve().parents[2])
    path = os.pathsep.join(p for p in (pkg_root, os.environ.get("PYTHONPATH", "")) if p)
    env = {"PYTHONPATH": path, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    return LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None,
                        env=env, silence_logs=logging.ERROR)


def _import_solver() -> int:
    """Import the solver and the model loader on a worker (torch's import takes seconds)."""
    import fem.deck  # noqa: F401
    import lipmat.io  # noqa: F401
    import lipmat.study.runner  # noqa: F401

    return os.getpid()


def warm_up(client) -> dict:
    """Import the solver on every worker of ``client`` at once, before the first case; {worker: pid}."""
    return client.run(_import_solver)


def _progress(total: int, enabled: bool | None):
    import sys

    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, unit="case", desc="sweep", dynamic_ncols=True)


def run_study(study, *, scheduler: str | None = None, workers: int | None = None, client=None,
              progress: bool | None = None, on_submitted=None) -> StudyRun:
    """Run every case of ``study`` that is not done yet and write ``study.csv`` and the plots.

    scheduler : address of a running Dask scheduler (None: start a LocalCluster of ``workers`` processes).
    client : an existing ``distributed.Client`` (tests, notebooks); it is left open.
    on_submitted : called with {case index: case folder} once the cases are submitted (tests use it).
    Returns a :class:`StudyRun`; the table rows are those of :func:`lipmat.study.report.table_rows`.
    """
    from lipmat.study.report import write_reports

    wall0 = time.perf_counter()
    cases = expand(study)
    root = Path(study.out)
    (root / "cases").mkdir(parents=True, exist_ok=True)
    rows: dict[int, dict] = {}
    todo = []
    for case in cases:
        folder = write_case(root / "cases", case)
        done = read_result(folder)
        if done is not None and done.get("key") == case.key and done.get("status") != "interrupted":
            rows[case.index] = done
        else:
            todo.append((case, folder))
    run = StudyRun([], ran=[c.index for c, _ in todo], skipped=sorted(rows))
    if todo:
        own = None
        if client is None:
            from distributed import Client

            own = Client(scheduler) if scheduler else Client(local_cluster(workers))
            client = own
            warm_up(client)
        try:
            run.workers = len(client.scheduler_info().get("workers", {}))
            futures = {client.submit(run_case, str(folder), case.key, key=f"case-{case.index}-{case.key[:12]}",
                                     pure=False): case.index for case, folder in todo}
            if on_submitted is not None:
                on_submitted({case.index: folder for case, folder in todo})
            _gather(futures, rows, _progress(len(todo), progress))
        finally:
            if own is not None:
                cluster = own.cluster
                own.close()
                if cluster is not None:
                    cluster.close()
    run.rows = [{**rows[c.index], "case": c.index} for c in cases if c.index in rows]
    run.files = write_reports(study, cases, rows)
    run.wall_time_s = time.perf_counter() - wall0
    return run


def _gather(futures: dict, rows: dict, bar) -> None:
    from distributed import as_completed

    try:
        for fut in as_completed(list(futures)):
            i = futures[fut]
            try:
                rows[i] = fut.result()
            except Exception as exc:   # the task itself failed (e.g. its worker died too often)
                rows[i] = {"status": "error", "message": f"the case's task failed: {type(exc).__name__}: {exc}",
                           "scalars": {}}
            if bar is not None:
                bar.update(1)
    except KeyboardInterrupt:
        for fut in futures:
            fut.cancel()
        raise
    finally:
        if bar is not None:
            bar.close()

