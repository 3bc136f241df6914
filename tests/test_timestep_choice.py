"""The automatic choice of the certified step's form (``fem.choose_certified_step``).

Oracle: a dense eigen-solve of ``K x = λ M x`` (``exact_time_step``). Properties: whatever form is
chosen, the step is ≤ the exact critical step; the global form is within 2 % of it; "auto" takes the
global form for a long run and the element form for a very short one; forced forms are honoured; a
proof that cannot finish in time or cannot succeed falls back to the element form and says so.
"""
import json
import math
import time

import numpy as np
import pytest
import torch

import fem
from fem.stability.eigenbounds import global_eigen_upper
from fem.stability.stepcost import global_cost_estimate, pattern, run_cost_estimate
from fem.stability.decision import StepDecision, render_reason
from fem.stability.timestep import certified_time_step, choose_certified_step, exact_time_step, stable_step

MESHES = {
    "T3": lambda: fem.rectangle(2.0, 1.0, 8, 5),
    "Q4": lambda: fem.rectangle(2.0, 1.0, 8, 5, cell="quad"),
    "Tet4": lambda: fem.box(1.0, 1.0, 1.0, 3, 3, 3, cell="tetra"),
    "Hex8": lambda: fem.box(1.0, 0.8, 0.6, 4, 3, 3),
}
RHO = 1200.0


def _assembly(name, distortion=0.25, seed=5):
    mesh = MESHES[name]()
    return fem.Assembly(fem.distort(mesh, distortion, seed=seed) if distortion else mesh)


def _bound(a, nu):
    return fem.LinearElastic(3.0e9, nu, a.kinematics).stiffness_bound()


@pytest.mark.parametrize("nu", [0.3, 0.49])
@pytest.mark.parametrize("name", list(MESHES))
def test_every_choice_is_below_the_exact_step_and_global_is_tight(name, nu):
    a = _assembly(name)
    c = _bound(a, nu)
    exact = exact_time_step(a, c, RHO)
    long_run = choose_certified_step(a, c, RHO, n_steps=10**9, always_s=0.0)
    short_run = choose_certified_step(a, c, RHO, n_steps=1, always_s=0.0, budget=0.0)
    unknown = choose_certified_step(a, c, RHO)  # small mesh: under the second always spent
    assert long_run.method == "global" and unknown.method == "global", long_run.reason
    assert short_run.method == "element", short_run.reason
    for ts in (long_run, short_run, unknown):
        assert ts.certified and ts.dt <= exact
    assert long_run.dt >= 0.98 * exact and unknown.dt >= 0.98 * exact
    assert short_run.dt < long_run.dt  # distorted meshes: the element form is strictly looser here


def test_auto_uses_the_run_length_and_the_step_cost(monkeypatch):
    """The global form's cost is injected (a measured estimate moves with the machine's load, and the
    choice is what is tested): 0.05 s, of which 0.03 s assembly + Lanczos."""
    import fem.stability.stepcost

    a = _assembly("Q4")
    c = _bound(a, 0.3)
    est = 0.05
    monkeypatch.setattr(fem.stability.stepcost, "global_cost_estimate", lambda asm, **kw: {
        "total_s": est, "assembly_s": 0.02, "lanczos_s": 0.01, "proof_s": 0.02, "spmv_s": 1e-9})
    elem = certified_time_step(a, c, RHO)
    # a run whose 5 % is 100x the estimated cost of the global form: global
    n_long = math.ceil(100 * est / 0.05 / 1e-3)
    ts = choose_certified_step(a, c, RHO, t_end=n_long * elem.dt, step_cost_s=1e-3, always_s=0.0)
    assert ts.method == "global"
    ch = ts.details["choice"]
    assert ch["n_steps_estimate"] == pytest.approx(n_long, abs=1)
    assert ch["run_s_estimate"] == pytest.approx(n_long * 1e-3, rel=1e-6)
    assert ch["global_s"] > 0 and ch["estimated_global_s"] == est
    d = ts.decision
    assert (d.method, d.case, d.requested) == ("global", "within_budget", "auto")
    assert d.run_s == pytest.approx(n_long * 1e-3, rel=1e-6) and d.estimated_global_s == est
    assert d.global_s == ch["global_s"] and d.saved_s is None
    assert ts.reason == render_reason(d)
    # the same run with steps 1e4 times cheaper: its 5 % is 1/100 of the estimate: element
    ts = choose_certified_step(a, c, RHO, t_end=n_long * elem.dt, step_cost_s=1e-7, always_s=0.0)
    assert ts.method == "element" and ts.dt == elem.dt
    d = ts.decision
    assert (d.method, d.case) == ("element", "over_budget") and d.global_s is None
    assert d.budget * d.run_s == pytest.approx(est / 100, rel=1e-6)
    assert "global_s" not in ts.details["choice"]  # it was not computed


def test_always_s_lets_a_cheap_global_form_through_a_short_run():
    a = _assembly("T3")
    c = _bound(a, 0.3)
    ts = choose_certified_step(a, c, RHO, n_steps=1, step_cost_s=1e-6)  # default always_s = 1 s
    assert ts.method == "global" and ts.decision.case == "within_budget"
    assert ts.decision.budget * ts.decision.run_s < ts.decision.always_s == 1.0


@pytest.mark.parametrize("n_steps", [1, 10**9])
def test_forced_forms_are_honoured(n_steps):
    a = _assembly("Hex8")
    c = _bound(a, 0.3)
    el = choose_certified_step(a, c, RHO, n_steps=n_steps, method="element")
    gl = choose_certified_step(a, c, RHO, n_steps=n_steps, method="global", always_s=0.0, budget=0.0)
    assert (el.decision.method, el.decision.case, el.decision.requested) == ("element", "asked", "element")
    assert (gl.decision.method, gl.decision.case, gl.decision.requested) == ("global", "asked", "global")
    assert gl.decision.global_s == gl.details["global_s"] > 0
    assert el.dt == certified_time_step(a, c, RHO).dt
    assert gl.dt == certified_time_step(a, c, RHO, method="global").dt


def test_no_time_for_the_global_form_falls_back_to_the_element_form(monkeypatch):
    """Estimated as free but given no time: Lanczos is stopped at its deadline, the element form is used."""
    import fem.stability.stepcost

    a = _assembly("T3")
    c = _bound(a, 0.3)
    monkeypatch.setattr(fem.stability.stepcost, "global_cost_estimate",
                        lambda asm, **kw: {"total_s": 0.0, "spmv_s": 1e-9, "lanczos_s": 0.0, "proof_s": 0.0})
    ts = choose_certified_step(a, c, RHO, n_steps=1, step_cost_s=1e-12, always_s=0.0)
    assert ts.method == "element" and ts.certified
    assert ts.dt == certified_time_step(a, c, RHO).dt
    assert ts.decision.case == "timed_out" and "time limit" in ts.decision.note
    assert ts.details["choice"]["global_s"] >= 0


def test_unproven_and_already_tight_fall_back_with_a_reason():
    a = _assembly("T3")
    c = _bound(a, 0.3)
    ts = choose_certified_step(a, c, RHO, method="global", delta=1e-18, max_delta=1e-18)
    assert ts.method == "element" and ts.decision.case == "not_proven" and ts.decision.requested == "global"
    bar = fem.Assembly(fem.bar(1.0, 20))  # uniform free bar: the element bound is exact
    ts = choose_certified_step(bar, 1.0, 1.0, method="global", delta=1e-3)
    assert ts.method == "element" and ts.decision.case == "as_tight"


@pytest.mark.parametrize("xi", [0.0, 0.2, 1.5])
def test_damping_is_applied_to_the_chosen_form(xi):
    a = _assembly("Q4")
    c = _bound(a, 0.45)
    ts = choose_certified_step(a, c, RHO, n_steps=10**9, always_s=0.0, damping=xi)
    assert ts.method == "global" and ts.damping == xi
    assert ts.dt == pytest.approx(stable_step(ts.omega_max, xi), rel=1e-15)
    assert ts.dt == pytest.approx(2.0 / ts.omega_max * (math.sqrt(1 + xi * xi) - xi), rel=1e-12)
    assert ts.dt <= exact_time_step(a, c, RHO) * (math.sqrt(1 + xi * xi) - xi) * (1 + 1e-12)


def test_deadline_in_the_past_stops_lanczos():
    a = _assembly("Q4")
    c = _bound(a, 0.3)
    g = global_eigen_upper(a.stiffness_matrix(c), a.lumped_mass(RHO).numpy(), deadline=time.perf_counter() - 1)
    assert g.timed_out and not g.proven and g.products == 0
    assert "time limit" in g.tried[-1][1]


@pytest.mark.parametrize("name", list(MESHES))
def test_pattern_holds_every_stiffness_entry(name):
    a = _assembly(name)
    k = a.stiffness_matrix(_bound(a, 0.3)).tocoo()
    g = pattern(a)
    d = a.dim
    nz = np.abs(k.data) > 0
    assert np.all(g[k.row[nz] // d, k.col[nz] // d] == 1)  # dof i belongs to node i // dim
    assert g.nnz * d * d >= np.count_nonzero(nz)
    assert (abs(g - g.T)).nnz == 0 and np.all(g.diagonal() == 1)


def test_run_cost_estimate():
    assert run_cost_estimate(1000, step_cost_s=2e-3) == pytest.approx(2.0)
    assert run_cost_estimate(10, spmv_s=1e-3) > 0
    with pytest.raises(ValueError, match="needs step_cost_s"):
        run_cost_estimate(10)


@pytest.mark.parametrize("kwargs, message", [
    ({"method": "fast"}, "method must be one of"),
    ({"t_end": 1.0, "n_steps": 10}, "not both"),
    ({"t_end": -1.0}, "t_end must be a positive"),
    ({"budget": -0.1}, "budget must be"),
    ({"always_s": math.inf}, "always_s must be"),
    ({"safety": 1.2}, "safety must lie in"),
])
def test_bad_arguments_name_the_value(kwargs, message):
    a = _assembly("T3", distortion=0.0)
    with pytest.raises(ValueError, match=message):
        choose_certified_step(a, _bound(a, 0.3), RHO, **kwargs)


def test_torch_bound_and_scalar_bound_both_work():
    a = _assembly("T3")
    c = _bound(a, 0.3)
    lip = float(torch.linalg.eigvalsh(c)[-1])
    exact = exact_time_step(a, c, RHO)
    ts = choose_certified_step(a, lip, RHO, n_steps=10**9, always_s=0.0)
    assert ts.method == "global" and ts.details["bound"] == "scalar" and ts.dt <= exact


# -- fem.solve, the deck and `lipmat run` -------------------------------------------------------------
def _plate_problem():
    mesh = fem.distort(fem.rectangle(0.2, 0.05, 16, 4, cell="quad"), 0.25, seed=2)
    return fem.Problem(mesh, fem.LinearElastic(2.0e9, 0.45, "plane_strain"), RHO, bcs=(fem.Fixed("left"),),
                       v0=lambda x: np.stack([np.zeros(len(x)), 0.01 * x[:, 0]], axis=1))


def test_solve_reports_the_form_and_honours_certified():
    prob = _plate_problem()
    a = fem.Assembly(prob.mesh)
    c = prob.material.stiffness_bound()
    exact = exact_time_step(a, c, RHO)
    elem, glob = (choose_certified_step(a, c, RHO, method=m) for m in ("element", "global"))
    runs = {m: fem.solve(prob, 5e-5, "certified", certified=m, progress=False) for m in ("auto", "element", "global")}
    assert runs["element"].dt_method == "element" and runs["global"].dt_method == "global"
    assert runs["auto"].dt_method == "global"  # a cheap global form on a small mesh
    for m, r in runs.items():
        assert r.completed and r.dt_reason.startswith(f"{r.dt_method} form: ")
        assert r.dt <= r.dt_certified <= exact
    # whatever the solver adds on top (damping-aware step, safety), it multiplies both forms alike
    assert runs["global"].dt_certified / runs["element"].dt_certified == pytest.approx(glob.dt / elem.dt, rel=1e-9)
    auto = fem.solve(prob, 5e-5, "certified", certified=fem.CertifiedStep(always_s=0.0, budget=0.0), progress=False)
    assert auto.dt_method == "element" and "over the 0 % budget" in auto.dt_reason


def test_a_given_dt_below_the_element_step_needs_no_global_form():
    prob = _plate_problem()
    r0 = fem.solve(prob, 1e-5, "certified", certified="element", progress=False)
    r = fem.solve(prob, 1e-5, 0.5 * r0.dt_certified, progress=False)
    assert r.dt_method == "element" and "no tighter bound is needed" in r.dt_reason


def test_deck_certified_method_and_run_summary(tmp_path, capsys):
    from lipmat.cli import main

    deck = tmp_path / "plate.toml"
    text = """
title = "distorted strip"
[mesh]
generator = "rectangle"
lx = 0.2
ly = 0.05
nx = 12
ny = 3
cell = "quad"
[material]
type = "linear_elastic"
E = 2e9
nu = 0.45
density = 1200.0
[[bc]]
type = "fixed"
where = "left"
[initial]
velocity = [0.0, "0.05 * x"]
[time]
end = 2e-5
dt = "certified"
[solver]
certified_method = "{method}"
[output]
fields = false
plot = false
"""
    for method in ("element", "global"):
        deck.write_text(text.replace("{method}", method))
        assert fem.load_deck(deck).certified_method == method
        assert main(["run", str(deck), "--out", str(tmp_path / method), "--json", "--no-progress"]) == 0
        s = json.loads(capsys.readouterr().out)
        assert s["dt_method"] == method and s["dt_reason"].startswith(f"{method} form: asked for")
        assert f"{method} form" in s["dt_source"]
    assert main(["run", str(deck), "--out", str(tmp_path / "text"), "--no-progress"]) == 0
    assert "  certified    global form: asked for" in capsys.readouterr().out
    deck.write_text(text.replace("{method}", "fastest"))
    with pytest.raises(fem.DeckError, match="certified_method"):
        fem.load_deck(deck)


def test_restart_reuses_the_form_of_the_checkpointed_run(tmp_path):
    """The automatic choice depends on measured times; a restart must not choose again (dt would change)."""
    prob = _plate_problem()
    ck = tmp_path / "run.ck"
    full = fem.solve(prob, 4e-5, "certified", certified="global", checkpoint=fem.Checkpoint(ck, every=5),
                     progress=False)
    never_global = fem.CertifiedStep(always_s=0.0, budget=0.0)  # on its own this picks the element form
    r = fem.solve(prob, 4e-5, "certified", certified=never_global, restart=ck, progress=False)
    assert full.dt_method == "global" and r.dt_method == "global" and r.dt == full.dt
    np.testing.assert_allclose(r.final.u.numpy(), full.final.u.numpy(), rtol=0, atol=1e-15)


@pytest.mark.parametrize("proof_s, form", [(1.0, "global"), (1e4, "element")])
def test_over_the_budget_the_proof_is_done_when_it_pays_for_itself(monkeypatch, proof_s, form):
    """Global form estimated at 10 s against a 100 s run (5 % = 5 s): Lanczos (estimated free) predicts
    the global step; the proof goes ahead only when it costs at most half of the run time it saves."""
    import fem.stability.stepcost

    a = _assembly("Q4")
    c = _bound(a, 0.3)
    monkeypatch.setattr(fem.stability.stepcost, "global_cost_estimate", lambda asm, **kw: {
        "total_s": 10.0, "assembly_s": 0.0, "lanczos_s": 0.0, "proof_s": proof_s, "spmv_s": 1e-9})
    elem, glob = (certified_time_step(a, c, RHO, method=m) for m in ("element", "global"))
    ts = choose_certified_step(a, c, RHO, n_steps=10**5, step_cost_s=1e-3, always_s=0.0)
    ch = ts.details["choice"]
    assert ts.method == form and ch["allowed_s"] == pytest.approx(5.0)
    assert ch["saved_s"] == pytest.approx(100.0 * (1 - elem.dt / glob.dt), rel=1e-6)  # Lanczos θ ≈ the proven bound
    assert ts.dt == (glob.dt if form == "global" else elem.dt)
    d = ts.decision
    if form == "global":
        assert d.case == "pays_for_itself" and d.estimated_proof_s <= 0.5 * d.saved_s
    else:
        assert d.case == "declined" and "more than 50 % of the" in d.note
    assert d.saved_s == ch["saved_s"]


RENDERED = [  # (decision fields, the line), the wording users read in TimeStep.reason and Result.dt_reason
    (dict(method="element", case="asked", requested="element"), "element form: asked for (method = 'element')"),
    (dict(method="global", case="asked", requested="global", global_s=0.31),
     "global form: asked for (method = 'global'); Lanczos + LDLᵀ proof took 0.31 s"),
    (dict(method="element", case="run_length_unknown", estimated_global_s=3.0),
     "element form: the global form would take an estimated 3 s, the run length is not known (give t_end) and "
     "it is over the 1 s always spent"),
    (dict(method="element", case="over_budget", estimated_global_s=12.0, run_s=40.0),
     "element form: the global form would take an estimated 12 s, 30 % of the run (estimated 40 s at the "
     "element step), over the 5 % budget"),
    (dict(method="global", case="within_budget", global_s=0.2),
     "global form: Lanczos + LDLᵀ proof took 0.2 s (run length not given; under the 1 s always spent)"),
    (dict(method="global", case="within_budget", global_s=2.0, run_s=400.0),
     "global form: Lanczos + LDLᵀ proof took 2 s, 0.5 % of the run (estimated 400 s at the element step)"),
    (dict(method="global", case="within_budget", global_s=0.5, run_s=4.0),
     "global form: Lanczos + LDLᵀ proof took 0.5 s, 12 % of the run (estimated 4 s at the element step); "
     "under the 1 s always spent"),
    (dict(method="global", case="pays_for_itself", global_s=3.0, run_s=50.0, saved_s=20.0, estimated_proof_s=4.0),
     "global form: Lanczos + LDLᵀ proof took 3 s, 6 % of the run (estimated 50 s at the element step); it saves "
     "an estimated 20 s (the proof was estimated at 4 s, under 50 % of that)"),
    (dict(method="element", case="as_tight", global_s=0.05),
     "element form: it is already as tight as the global form (Lanczos, 0.05 s)"),
    (dict(method="element", case="declined", global_s=0.5, note="too dear"),
     "element form: too dear (assembly + Lanczos took 0.5 s)"),
    (dict(method="element", case="timed_out", note="time limit of 2 s reached"),
     "element form: the global form was not done within its time limit (time limit of 2 s reached)"),
    (dict(method="element", case="not_proven"), "element form: the global bound was not proven (no proof)"),
]


@pytest.mark.parametrize("fields, line", RENDERED)
def test_each_decision_renders_its_line(fields, line):
    d = StepDecision(**{"requested": "auto", "budget": 0.05, "always_s": 1.0, **fields})
    assert render_reason(d) == line


def test_a_decision_names_its_case_and_form_or_is_refused():
    with pytest.raises(ValueError, match=r"case must be one of .*'over_budget'.*, got 'cheap'"):
        StepDecision("element", "cheap", "auto", 0.05, 1.0)
    with pytest.raises(ValueError, match=r"method must be 'element' or 'global', got 'lanczos'"):
        StepDecision("lanczos", "asked", "auto", 0.05, 1.0)
