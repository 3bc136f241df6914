"""The run's step decided once (fem.run_time_step), the one step loop (solve and iterate), typed outcomes."""
import itertools
import json
import warnings

import numpy as np
import pytest
import torch

import fem
import fem.solver.setup
from fem.core.errors import FemError, FemWarning, SimulationError
from _explicit_helpers import exact_critical_dt


def _plate():
    """A clamped plane-strain plate set vibrating: linear, certified, small."""
    mesh = fem.rectangle(1.0, 0.5, 8, 4)
    u0 = 1e-3 * np.column_stack([np.sin(np.pi * mesh.points[:, 0]), np.zeros(mesh.n_points)])
    return fem.Problem(mesh, fem.LinearElastic(1.0, 0.3, "plane_strain"), 1.0, bcs=[fem.Fixed("left")], u0=u0)


@pytest.fixture
def proofs(monkeypatch):
    """Counts the certified-step proofs (fem.solver.setup.certified_step calls)."""
    calls = []
    real = fem.solver.setup.certified_step

    def counted(*args, **kw):
        calls.append(1)
        return real(*args, **kw)

    monkeypatch.setattr(fem.solver.setup, "certified_step", counted)
    return calls


def test_a_solve_handed_the_step_takes_it_without_a_second_proof(proofs):
    prob, t_end = _plate(), 0.7
    step = fem.run_time_step(prob, "certified", t_end=t_end)
    assert len(proofs) == 1
    res = fem.solve(prob, t_end, step)
    assert len(proofs) == 1                                   # the proof was reused
    # the step it announced: whole steps ending at t_end, at most the certified step
    assert res.dt == step.dt and res.steps == step.n_steps and step.n_steps * step.dt == pytest.approx(t_end)
    assert step.dt <= step.dt_certified * (1 + 1e-12) and step.dt_asked == step.dt_certified
    assert res.dt_certified == step.dt_certified and res.dt_method == step.method
    again = fem.solve(prob, t_end, "certified")               # the same run, deciding the step itself
    assert len(proofs) == 2 and torch.equal(again.final.u, res.final.u)
    assert step.setup.dt == step.dt_asked                     # a run does not change the set-up it is given


def test_a_step_is_for_its_problem_and_options():
    prob = _plate()
    step = fem.run_time_step(prob, "certified", t_end=0.5)
    with pytest.raises(FemError, match="another Problem"):
        fem.solve(_plate(), 0.5, step)
    with pytest.raises(FemError, match="viscosity"):
        fem.solve(prob, 0.5, step, viscosity=fem.BulkViscosity.off())
    with pytest.raises(FemError, match="Compute"):
        fem.solve(prob, 0.5, step, compute=fem.Compute(dtype=torch.float32))


def test_the_unsafe_refusal_names_the_keyword_and_the_deck_key():
    prob = _plate()
    cert = fem.run_time_step(prob, "certified").dt_certified
    with pytest.raises(FemError) as err:
        fem.run_time_step(prob, 1.5 * cert)
    assert "allow_unsafe_dt=True" in str(err.value) and "[solver] allow_unsafe_dt = true" in str(err.value)
    with pytest.warns(FemWarning):
        step = fem.run_time_step(prob, 1.5 * cert, allow_unsafe_dt=True, t_end=1.0)
    assert step.unsafe


def test_iterate_is_the_loop_of_solve():
    """The n-th state of iterate is bit for bit the final state of a solve of n steps of the same dt."""
    prob, dt, n = _plate(), 0.01, 120
    states = list(itertools.islice(fem.iterate(prob, dt), n + 1))
    res = fem.solve(prob, n * dt, dt)
    assert res.steps == n and states[-1].step == n
    assert torch.equal(states[-1].u, res.final.u) and torch.equal(states[-1].v, res.final.v)


def test_iterate_stops_on_the_checks_of_solve():
    """Above the exact critical step the run grows; iterate stops as solve does, with the last good state."""
    mesh = fem.rectangle(1.0, 1.0, 4, 4)
    mat = fem.LinearElastic(1.0, 0.3, "plane_strain")
    left = (mesh.nodes("left")[:, None] * 2 + np.arange(2)).ravel()
    dt = 1.05 * exact_critical_dt(mesh, mat, 1.0, left)
    u0 = 1e-3 * np.random.default_rng(0).normal(size=(mesh.n_points, 2))
    prob = fem.Problem(mesh, mat, 1.0, bcs=[fem.Fixed("left")], u0=u0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FemWarning)
        with pytest.raises(SimulationError) as err:
            for _ in itertools.islice(fem.iterate(prob, dt, allow_unsafe_dt=True), 100_000):
                pass
        res = fem.solve(prob, 100_000 * dt, dt, allow_unsafe_dt=True, energy=fem.EnergyCheck(every=100))
    got = err.value.result
    assert got.status == fem.Status.UNSTABLE == res.status
    assert got.fault.step == res.fault.step and got.final.step < got.fault.step


def test_status_is_a_string_and_the_fault_a_record():
    prob = _plate()
    res = fem.solve(prob, 0.1, "certified")
    assert res.status == "completed" and res.status is fem.Status.COMPLETED and res.completed
    assert f"{res.status}" == "completed" and json.dumps({"s": res.status}) == '{"s": "completed"}'
    assert "status='completed'" in repr(res)
    fault = fem.Fault(fem.Status.INVERTED, 3, 0.5, 2, (0.1, 0.2), "det F <= 0", "inverted: ...")
    d = json.loads(json.dumps(fault.as_dict()))
    assert d == {"kind": "inverted", "step": 3, "t": 0.5, "element": 2, "centroid": [0.1, 0.2],
                 "detail": "det F <= 0", "message": "inverted: ..."}
