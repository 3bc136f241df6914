"""`lipmat sweep` on a real dask.distributed LocalCluster of 2 worker processes (no mocks).

Oracles: the same cases run one after the other with `lipmat run`; an undisturbed sweep for a sweep
whose worker is killed (kill -9, by its pid) mid-case; the cases' own result files for a re-run after
an interrupted study (only the missing cases may run again).
"""
import csv
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from lipmat.cli import main
from lipmat.study import expand, load_study, run_study
from lipmat.study.cluster import local_cluster

distributed = pytest.importorskip("distributed")
ROOT = Path(__file__).resolve().parents[1]

BASE = """title = "bar with a linear velocity profile"
[mesh]
generator = "bar"
lx = 1.0
nx = 60
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
end = 1e-3
dt = "certified"
[output]
every = 100
plot = false
[output.probes]
tip = "right"
[output.scalars]
peak_tip = { probe = "tip", reduce = "max_abs" }
final_kinetic = { energy = "kinetic", reduce = "final" }
largest_strain = { field = "strain", reduce = "max_abs" }
"""
STUDY = """[study]
deck = "bar.toml"
out = "out"
checkpoint_every = 100
[vary]
"time.end" = [1e-3, 1.5e-3, 2e-3]
"material.E" = [50e9, 70e9]
"""
#: columns that depend on the machine or on how the case got to its end, not on the result
VOLATILE = {"wall_time_s", "resumed", "attempts"}


@pytest.fixture(scope="module")
def client():
    cluster = local_cluster(2)
    c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


@pytest.fixture(scope="module")
def reference(tmp_path_factory, client):
    """The study run undisturbed: its Study and what run_study returned."""
    study = load_study(make_study(tmp_path_factory.mktemp("reference")))
    return study, run_study(study, client=client, progress=False)


def make_study(folder: Path, study: str = STUDY, base: str = BASE) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "bar.toml").write_text(base)
    (folder / "study.toml").write_text(study)
    return folder / "study.toml"


def read_table(path: Path) -> list[dict]:
    with open(path) as f:
        return list(csv.DictReader(f))


def same_rows(a: list[dict], b: list[dict], skip=VOLATILE) -> None:
    assert len(a) == len(b)
    for ra, rb in zip(a, b):
        for k in ra:
            if k in skip:
                continue
            try:
                assert float(rb[k]) == pytest.approx(float(ra[k]), rel=1e-12, abs=0), (k, ra, rb)
            except ValueError:
                assert rb[k] == ra[k], (k, ra, rb)


def same_probes(out_a: Path, out_b: Path, rows: list[dict]) -> None:
    for r in rows:
        pa = np.genfromtxt(out_a / r["folder"] / "probes.csv", delimiter=",", names=True)
        pb = np.genfromtxt(out_b / r["folder"] / "probes.csv", delimiter=",", names=True)
        for k in pa.dtype.names:
            np.testing.assert_allclose(pb[k], pa[k], rtol=1e-12, atol=1e-300)


def test_a_six_case_sweep_gives_the_table_of_six_sequential_lipmat_runs(tmp_path, client, reference, capsys):
    study, done = reference
    assert len(done.ran) == 6 and not done.skipped
    table = read_table(study.out / "study.csv")
    assert [r["status"] for r in table] == ["completed"] * 6
    assert {(float(r["time.end"]), float(r["material.E"])) for r in table} == {
        (t, e) for t in (1e-3, 1.5e-3, 2e-3) for e in (50e9, 70e9)}
    assert {r["dt_form"] for r in table} == {"certified (element)"}
    # the same cases one after the other with `lipmat run` on the decks the study wrote
    for r in table:
        deck = study.out / r["folder"] / "case.toml"
        assert main(["run", str(deck), "--out", str(tmp_path / "seq" / r["case"]), "--json", "--no-progress"]) == 0
        s = json.loads(capsys.readouterr().out)
        expected = {"status": s["status"], "steps": s["steps"], "t_s": s["t"], "dt_s": s["dt"],
                    "dt_certified_s": s["dt_certified"], "message": s["message"], **s["scalars"]}
        same_rows([{k: str(v) for k, v in expected.items()}], [{k: r[k] for k in expected}])
        assert r["dt_form"] == f"certified ({s['dt_method']})"
        seq = np.genfromtxt(tmp_path / "seq" / r["case"] / "probes.csv", delimiter=",", names=True)
        mine = np.genfromtxt(study.out / r["folder"] / "probes.csv", delimiter=",", names=True)
        np.testing.assert_array_equal(mine["tip_ux_m"], seq["tip_ux_m"])
    # the stiffer bar: a smaller certified step and a smaller tip excursion at the same velocity
    by = {(float(r["time.end"]), float(r["material.E"])): r for r in table}
    assert float(by[2e-3, 70e9]["dt_certified_s"]) < float(by[2e-3, 50e9]["dt_certified_s"])
    assert float(by[2e-3, 70e9]["peak_tip"]) < float(by[2e-3, 50e9]["peak_tip"])
    # a second run finds everything done and runs nothing
    again = run_study(study, client=client, progress=False)
    assert again.ran == [] and len(again.skipped) == 6
    same_rows(table, read_table(study.out / "study.csv"), skip=set())


def test_a_worker_killed_mid_case_ends_with_every_case_completed_and_the_same_results(tmp_path, client, reference):
    ref = reference[0]
    study = load_study(make_study(tmp_path / "killed"))
    killed = []

    def killer(folders):
        def watch():
            t0 = time.monotonic()
            while time.monotonic() - t0 < 120 and not killed:
                for f in folders.values():   # a case with a checkpoint, running, not finished
                    try:
                        info = json.loads((f / "running.json").read_text())
                    except (OSError, ValueError):
                        continue
                    if (f / "checkpoint.pt").exists() and not (f / "result.json").exists():
                        os.kill(info["pid"], signal.SIGKILL)
                        killed.append((f, info["pid"]))
                        return
                time.sleep(0.002)
        threading.Thread(target=watch, daemon=True).start()

    done = run_study(study, client=client, progress=False, on_submitted=killer)
    assert killed, "no case was caught mid-run"
    table = read_table(study.out / "study.csv")
    assert [r["status"] for r in table] == ["completed"] * 6
    victim = next(r for r in table if r["folder"] == f"cases/{killed[0][0].name}")
    assert victim["attempts"] == "2" and victim["resumed"] == "True"     # continued from its checkpoint
    same_rows(read_table(ref.out / "study.csv"), table)
    same_probes(ref.out, study.out, table)
    assert len(done.ran) == 6


def test_a_rerun_after_an_interrupted_sweep_runs_only_the_missing_cases(tmp_path, client):
    # cases long enough (6 000-12 000 steps, about a second each) that the interrupt sent once two have
    # finished always lands while others still run, however loaded the machine is
    long = STUDY.replace("[1e-3, 1.5e-3, 2e-3]", "[2e-2, 3e-2, 4e-2]").replace("checkpoint_every = 100",
                                                                            "checkpoint_every = 2000")
    reference = load_study(make_study(tmp_path / "reference", long))
    run_study(reference, client=client, progress=False)
    path = make_study(tmp_path / "interrupted", long)
    study = load_study(path)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "lipmat", "sweep", str(path), "--workers", "2", "--no-progress"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    cases = study.out / "cases"
    t0 = time.monotonic()
    while len(list(cases.glob("*/result.json"))) < 2:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() - t0 < 180
        time.sleep(0.01)
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=120)
    assert proc.returncode == 130
    finished = {p.parent.name: p.read_text() for p in cases.glob("*/result.json")}
    assert 2 <= len(finished) < 6
    again = run_study(study, client=client, progress=False)
    names = {c.index: c.folder for c in expand(study)}
    assert sorted(names[i] for i in again.skipped) == sorted(finished)
    assert sorted(names[i] for i in again.ran) == sorted(set(names.values()) - set(finished))
    for name, text in finished.items():          # the finished cases were not run again
        assert (cases / name / "result.json").read_text() == text
    table = read_table(study.out / "study.csv")
    assert [r["status"] for r in table] == ["completed"] * 6
    same_rows(read_table(reference.out / "study.csv"), table)


def test_a_failing_case_is_a_row_and_the_study_goes_on(tmp_path, client, capsys):
    path = make_study(tmp_path, STUDY.replace('"material.E" = [50e9, 70e9]', '"material.E" = [70e9, -1.0]')
                      .replace("[1e-3, 1.5e-3, 2e-3]", "[1e-3]"))
    assert main(["sweep", str(path), "--json", "--no-progress", "--scheduler", client.scheduler.address]) == 1
    s = json.loads(capsys.readouterr().out)
    assert s["completed"] == 1 and s["cases"] == 2
    table = read_table(tmp_path / "out" / "study.csv")
    assert [r["status"] for r in table] == ["completed", "bad_input"]
    assert "case.toml: [material]" in table[1]["message"] and "E" in table[1]["message"]


RUBBER = """title = "rubber strip, pulled"
[mesh]
generator = "bar"
lx = 0.1
nx = 20
area = 1e-4
[material]
model = "placeholder.pt"
density = 1100.0
[[bc]]
where = "left"
[[bc]]
type = "velocity"
where = "right"
component = "x"
value = 5.0
amplitude = { type = "ramp", t1 = 2e-3 }
[time]
end = 1e-2
dt = "certified"
[output]
every = 50
plot = false
[output.probes]
mid = "x == 0.05"
[output.scalars]
peak_mid = { probe = "mid", reduce = "max_abs" }
largest_strain = { field = "strain", reduce = "max" }
"""


@pytest.mark.slow
def test_an_ensemble_fit_and_a_sweep_over_its_members(tmp_path, client, capsys):
    """`lipmat fit --ensemble 3`, then a sweep over every member: each member certified with its own bound
    and its own certified step (dt ∝ 1/√bound on one mesh), and the report's mean within its min–max."""
    treloar = ROOT / "data" / "treloar_uniaxial.csv"
    assert main(["fit", str(treloar), "--ensemble", "3", "--epochs", "300", "--lbfgs", "40", "--out",
                 str(tmp_path / "rubber.pt"), "--plot", str(tmp_path / "band.png"), "--json"]) == 0
    fit = json.loads(capsys.readouterr().out)
    manifest = json.loads((tmp_path / "rubber_ensemble" / "ensemble.json").read_text())
    bounds = [m["stiffness_bound"] for m in manifest["members"]]
    assert len(bounds) == 3 and len(set(bounds)) == 3 and max(bounds) <= manifest["cap"]
    assert fit["dt_ratio"] == pytest.approx((max(bounds) / min(bounds)) ** 0.5)
    assert (tmp_path / "band.png").stat().st_size > 0
    from lipmat.io import load
    for m in manifest["members"]:   # each member re-certifies on load to its reported bound
        assert load(tmp_path / "rubber_ensemble" / m["file"]).stiffness_bound() == pytest.approx(m["stiffness_bound"])
    study = make_study(tmp_path, '[study]\ndeck = "bar.toml"\nout = "out"\n[vary]\n'
                       '"material.model" = { ensemble = "rubber_ensemble/ensemble.json" }\n'
                       '"time.end" = [5e-3, 1e-2]\n', base=RUBBER)
    done = run_study(load_study(study), client=client, progress=False)
    assert [r["status"] for r in done.rows] == ["completed"] * 6
    table = read_table(tmp_path / "out" / "study.csv")
    by_member = {}
    for r in table:
        by_member.setdefault(r["material.model"], set()).add(float(r["dt_certified_s"]))
    dt = {Path(k).name: v.pop() for k, v in by_member.items() if len(v) == 1}
    assert len(dt) == 3                                   # one certified step per member, its own
    scaled = [dt[m["file"]] * m["stiffness_bound"] ** 0.5 for m in manifest["members"]]
    assert max(scaled) / min(scaled) == pytest.approx(1.0, abs=1e-6)
    ens = read_table(tmp_path / "out" / "ensemble.csv")
    assert [float(r["time.end"]) for r in ens] == [5e-3, 1e-2] and {r["completed"] for r in ens} == {"3"}
    for r in ens:
        for name in ("peak_mid", "largest_strain", "dt_certified_s"):
            lo, mean, hi = (float(r[f"{name}_{k}"]) for k in ("min", "mean", "max"))
            assert lo <= mean <= hi and lo < hi
        assert float(r["dt_certified_max_over_min"]) == pytest.approx(fit["dt_ratio"], rel=1e-6)
    assert (tmp_path / "out" / "ensemble_probes.png").stat().st_size > 0
