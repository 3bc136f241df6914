"""The step loop's amortised bookkeeping: observers called only at the steps they ask for, default rows
at a cadence, and the inversion screen of the row checks (a proof: it never hides an inverted element)."""
import numpy as np
import pytest
import torch

import fem
from fem.solver.checks import RunChecks
from fem.solver.observers import Observer
from fem.solver.plan import ROW_EVERY_MIN, RunPlan
from fem.solver.setup import RunSetup


def linear_setup(mesh):
    a = fem.Assembly(mesh)
    p = fem.Problem(mesh, fem.LinearElastic(1.0, 0.3, a.kinematics), 1.0, bcs=[fem.Fixed("left")])
    return RunSetup(p, 1e-3, allow_unsafe_dt=True), a


MESHES = {"tri": lambda: fem.rectangle(1.0, 0.5, 12, 6, cell="triangle"), "quad": lambda: fem.rectangle(1.0, 0.5, 12, 6),
          "tet": lambda: fem.box(1.0, 1.0, 1.0, 3, 3, 4, cell="tetra"), "hex": lambda: fem.box(1.0, 1.0, 1.0, 3, 3, 4)}


@pytest.mark.parametrize("name", list(MESHES))
def test_inversion_screen_never_hides_an_inverted_element(name):
    setup, a = linear_setup(MESHES[name]())
    checks = RunChecks(setup, 1e-3)
    g = torch.Generator().manual_seed(0)
    x = torch.as_tensor(a.mesh.points.reshape(-1), dtype=torch.float64)
    screened = found = 0
    for amp in np.geomspace(1e-4, 2.0, 60):
        fields = [amp * torch.randn(a.n_dofs, dtype=torch.float64, generator=g),
                  -amp * x,                                         # uniform compression: J = (1 - amp)^d
                  amp * torch.randn(a.n_dofs, dtype=torch.float64, generator=g) + 5.0]   # plus a translation
        for u in fields:
            inverted = len(a.inverted_cells(u)) > 0
            ok = checks.cannot_invert(u)
            assert not (ok and inverted), (amp, float(u.abs().max()))
            screened += ok
            found += inverted
    assert screened > 20 and found > 20    # both answers occur: the test exercises the screen
    assert not checks.cannot_invert(torch.full((a.n_dofs,), float("nan"), dtype=torch.float64))


def test_row_check_still_reports_an_inversion():
    setup, a = linear_setup(MESHES["tri"]())
    checks = RunChecks(setup, 1e-3)
    stepper = setup.stepper(1e-3)
    s = setup.initial_state(stepper)
    u = torch.zeros((a.mesh.n_points, 2), dtype=torch.float64)
    u[:, 0] = -2.0 * torch.as_tensor(a.mesh.points[:, 0])     # x -> -x: every element turned over (J = -1)
    u = u.reshape(-1)
    bad = fem.State(step=1, t=1e-3, u=u, v=s.v, a=s.a, f_int=s.f_int, scheme=s.scheme)
    fault = checks.row(bad, s, None)
    assert fault is not None and fault.kind == fem.Status.INVERTED


def test_plan_next_row_and_frame_match_is_row_and_is_frame():
    for plan in (RunPlan(95, 1e-3, 20, 7, 0), RunPlan(100, 1e-3, 1, 1, 0), RunPlan(None, 1e-3, 13, 13, 0)):
        rows = [n for n in range(1, 96) if plan.is_row(n)]
        frames = [n for n in range(1, 96) if plan.is_frame(n)]
        got_rows, got_frames, n, m = [], [], 0, 0
        while (n := plan.next_row(n)) <= 95:
            got_rows.append(n)
            if n == plan.n_steps:
                break
        while (m := plan.next_frame(m)) <= 95:
            got_frames.append(m)
            if m == plan.n_steps:
                break
        assert got_rows == rows and got_frames == frames


class Counting(Observer):
    """Records the steps it was updated at; asks for every ``every``-th step (None: never, 1: default)."""

    def __init__(self, every):
        self.every, self.steps, self.rows = every, [], []

    def next_step(self, n, plan):
        if self.every == 1:
            return super().next_step(n, plan)
        return None if self.every is None else (n // self.every + 1) * self.every

    def update(self, s, row):
        self.steps.append(s.step)
        self.rows.append(row)


def problem():
    mesh = fem.rectangle(1.0, 0.5, 8, 4, cell="triangle")
    mat = fem.LinearElastic(1.0, 0.3, "plane_strain")
    return fem.Problem(mesh, mat, 1.0, bcs=[fem.Fixed("left")], u0=1e-3 * np.sin(np.pi * mesh.points))


def test_observers_are_called_at_the_steps_they_ask_for():
    from fem.solver.loop import StepLoop
    from fem.solver.observers import EnergyRecorder

    setup = RunSetup(problem(), "certified")
    plan = RunPlan(50, setup.dt, 20, 7, 0)
    stepper = setup.stepper(plan.dt)
    state = setup.initial_state(stepper)
    rec = EnergyRecorder(setup, plan.dt)
    rec.start(state)
    every, some, never = Counting(1), Counting(6), Counting(None)
    loop = StepLoop(plan, stepper, RunChecks(setup, plan.dt), state, check_every=1, energy=rec,
                    recorders=[rec, every], consumers=[some, never])
    states = list(loop)
    assert loop.end.fault is None and [s.step for s in states] == list(range(1, 51))
    assert every.steps == list(range(1, 51)) and every.rows == [plan.is_row(n) for n in range(1, 51)]
    assert some.steps == list(range(6, 51, 6)) and never.steps == []
    assert [r["step"] for r in rec.rows] == [0] + [n for n in range(1, 51) if plan.is_row(n)]


def test_default_rows_are_amortised_and_bookkeeping_does_not_change_the_solution():
    p = problem()
    step = fem.run_time_step(p, "certified", t_end=1.0)
    n = step.n_steps
    assert 10 < n < 10_000
    full = fem.solve(p, 1.0, step, progress=False)
    lean = fem.solve(p, 1.0, step, progress=False, energy=fem.EnergyCheck(every=10**9, tol=None),
                     save=fem.SaveAt(every=10**9, keep=False), monitor=fem.Monitor(every=0))
    assert full.completed and lean.completed
    every = max(ROW_EVERY_MIN, n // 1000)
    want = sorted({0, n} | set(range(every, n + 1, every)) | set(range(max(1, n // 100), n + 1, max(1, n // 100))))
    assert list(full.energies["step"]) == want
    # the rows and frames are observers: the steps are the same, bit for bit
    assert torch.equal(full.final.u, lean.final.u) and torch.equal(full.final.v, lean.final.v)
