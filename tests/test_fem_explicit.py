"""Explicit solver: verification against d'Alembert, energy identities, BCs, loads, faults, restart."""
import contextlib
import itertools
import math
import warnings

import numpy as np
import pytest
import torch

import fem
from fem import (BodyForce, Checkpoint, Compute, EnergyCheck, Fixed, LinearElastic, Monitor, NodalForce, NonlinearBar,
                 Prescribed, Probes, Problem, SaveAt, Traction, bar, box, rectangle, solve)
from fem.core.errors import FemError, FemWarning, SimulationError
from _explicit_helpers import Recorder, exact_critical_dt


def _unsafe():
    """allow_unsafe_dt warns (the step is above the certified one)."""
    return pytest.warns(FemWarning)


@contextlib.contextmanager
def _near_critical():
    """For runs at 0.9 of the *exact* critical step, which may exceed the (conservative) certified one."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FemWarning)
        yield


# ---------------------------------------------------------------------------------------------
# 1D wave: d'Alembert
def _pulse(x, x0=0.5, w=0.05):
    return 1e-3 * np.exp(-(((x - x0) / w) ** 2))


def _bar_wave_error(n_el, courant, t_end=0.25, length=1.0):
    """Max nodal error vs d'Alembert u = (f(x − ct) + f(x + ct))/2, relative to max |f| (E = ρ = 1, c = 1)."""
    mesh = bar(length, n_el)
    x = mesh.points[:, 0]
    prob = Problem(mesh, LinearElastic(1.0, 0.0, "uniaxial"), 1.0, u0=_pulse(x)[:, None])
    dt = courant * length / n_el
    res = solve(prob, t_end, dt, energy=EnergyCheck(every=10**9), viscosity=fem.BulkViscosity.off())  # the plain scheme
    assert res.completed and abs(res.t - t_end) < 1e-12
    exact = 0.5 * (_pulse(x - res.t) + _pulse(x + res.t))
    return float(np.abs(res.final.u.numpy() - exact).max()) / 1e-3, res


def test_bar_wave_matches_dalembert_at_courant_one():
    """Lumped-mass linear bars at Courant 1 reproduce d'Alembert at the nodes (the scheme is exact there)."""
    err, res = _bar_wave_error(200, 1.0)
    assert err < 0.005          # the requirement (0.5 % of the pulse amplitude) ...
    assert err < 1e-9           # ... and in fact exact up to round-off
    assert res.steps == 50


def test_bar_wave_converges_at_second_order_below_courant_one():
    ns = [100, 200, 400]
    errs = [_bar_wave_error(n, 0.5)[0] for n in ns]
    slope = np.polyfit(np.log(1.0 / np.asarray(ns)), np.log(errs), 1)[0]
    assert 1.8 < slope < 2.2, (errs, slope)


# ---------------------------------------------------------------------------------------------
# energy
def _cantilever_modes(mesh, mat):
    """Lowest discrete modes (ω, shapes (n_dofs, k)) of a plane-strain cantilever fixed on the left."""
    a = fem.Assembly(mesh)
    k = a.stiffness_matrix(mat.linear_stiffness()).toarray()
    m = a.lumped_mass(1.0).numpy()
    fixed = (mesh.nodes("left")[:, None] * 2 + np.arange(2)).ravel()
    free = np.setdiff1d(np.arange(a.n_dofs), fixed)
    s = 1.0 / np.sqrt(m[free])
    w2, vec = np.linalg.eigh(s[:, None] * k[np.ix_(free, free)] * s[None, :])
    shapes = np.zeros((a.n_dofs, len(free)))
    shapes[free] = s[:, None] * vec
    return np.sqrt(w2), shapes, fixed


def test_free_vibration_conserves_energy_over_2000_steps():
    """Plane-strain cantilever, linear elastic, started in its first mode: over 2000 steps (about three
    periods) K + U stays within 1e-4 of E0. (The reported energy differs from the quantity leapfrog
    conserves exactly by (Δt²/8)aᵀMa, i.e. by (ω₁Δt)²/4 relative in mode 1: Δt is chosen so that
    this is 2.5e-5.)"""
    mesh = rectangle(4.0, 1.0, 8, 2, cell="quad")
    mat = LinearElastic(1.0, 0.3, "plane_strain")
    omega, shapes, fixed = _cantilever_modes(mesh, mat)
    dt = min(0.5 * 2.0 / omega[-1], 0.01 / omega[0])
    u0 = 1e-3 * shapes[:, 0] / np.abs(shapes[:, 0]).max()
    res = solve(Problem(mesh, mat, 1.0, bcs=[Fixed("left")], u0=u0), 2000 * dt, dt, energy=EnergyCheck(every=1),
                viscosity=fem.BulkViscosity.off())
    e = res.energies
    total = e["kinetic"] + e["internal"]
    assert res.steps == 2000 and len(total) == 2001
    assert np.abs(total - total[0]).max() / total[0] < 1e-4
    assert e["kinetic"].max() > 0.99 * total[0]          # it did vibrate: all energy went kinetic and back
    assert np.all(e["external"] == 0) and np.all(e["damping"] == 0)


def test_balance_error_stays_below_its_bound_and_does_not_grow():
    """Random start (energy in every mode) at 0.9 Δt_crit: the balance error is bounded by
    (ω_max Δt)²/4 (fem.solver.energy) and shows no trend over 2000 steps."""
    mesh = rectangle(4.0, 1.0, 8, 2, cell="quad")
    mat = LinearElastic(1.0, 0.3, "plane_strain")
    omega, _, fixed = _cantilever_modes(mesh, mat)
    dt = 0.9 * 2.0 / omega[-1]
    u0 = 1e-3 * np.random.default_rng(1).normal(size=mesh.n_points * 2)
    with _near_critical():
        res = solve(Problem(mesh, mat, 1.0, bcs=[Fixed("left")], u0=u0), 2000 * dt, dt,
                    energy=EnergyCheck(every=1), allow_unsafe_dt=True, viscosity=fem.BulkViscosity.off())
    err = res.energies["balance_error"]
    assert res.completed and err.max() <= (omega[-1] * dt) ** 2 / 4
    assert err[1000:].max() <= 1.5 * err[:1000].max()


def _identity_problem(damping):
    """Everything at once: fixed, prescribed displacement and velocity, loads with amplitudes, damping."""
    mesh = rectangle(2.0, 1.0, 6, 3)
    mat = LinearElastic(10.0, 0.25, "plane_strain")
    return Problem(
        mesh, mat, 2.0, damping=damping,
        bcs=[Fixed("left"), Prescribed("right", "x", displacement=lambda t: 0.01 * math.sin(3 * t)),
             Prescribed("y == 1 and x > 0.5 and x < 1.9", 1, velocity=lambda t: 0.02 * t)],
        loads=[Traction("bottom", [0.0, -0.3], amplitude=lambda t: math.cos(t)), BodyForce([0.0, -1.0]),
               NodalForce("x == 1 and y == 0", [0.1, 0.0], amplitude=0.5)])


@pytest.mark.parametrize("damping", [0.0, 0.8])
def test_energy_balance_residual_is_the_exact_leapfrog_identity(damping):
    """K + W_int − W_ext + W_damp − E0 = (Δt²/8)(aₙᵀMaₙ − a₀ᵀMa₀) to round-off, with every kind of
    BC, load and damping: the bookkeeping (reactions, trapezoid work, centred damping) is exact."""
    prob = _identity_problem(damping)
    dt, n = 0.01, 300
    m = fem.Assembly(prob.mesh, thickness=prob.thickness).lumped_mass(prob.density)
    ama = []
    res = solve(prob, n * dt, dt, energy=EnergyCheck(every=1), callback=lambda s: ama.append(float(torch.dot(s.a * m, s.a))),
                viscosity=fem.BulkViscosity.off())
    assert res.completed
    e = res.energies
    residual = e["kinetic"] + e["internal"] - e["external"] + e["damping"] - (e["kinetic"][0] + e["internal"][0])
    s0 = next(fem.iterate(prob, dt, viscosity=fem.BulkViscosity.off()))
    ama0 = float(torch.dot(s0.a * m, s0.a))
    predicted = dt**2 / 8 * (np.asarray(ama) - ama0)
    scale = np.abs(e["external"]).max() + e["kinetic"].max()
    assert np.abs(residual[1:] - predicted).max() < 1e-10 * scale
    if damping:
        assert np.all(np.diff(e["damping"]) >= 0) and e["damping"][-1] > 0.01 * scale
    else:
        assert np.all(e["damping"] == 0)


def test_damping_dissipates_free_vibration_and_the_balance_closes():
    mesh = rectangle(1.0, 1.0, 6, 6)
    mat = LinearElastic(1.0, 0.3, "plane_strain")
    dt = 0.3 * exact_critical_dt(mesh, mat, 1.0)
    u0 = 1e-2 * np.stack([mesh.points[:, 1] * (1 - mesh.points[:, 1]), np.zeros(mesh.n_points)], 1)
    res = solve(Problem(mesh, mat, 1.0, u0=u0, damping=0.5), 1500 * dt, dt, energy=EnergyCheck(every=1))
    e = res.energies
    mech = e["kinetic"] + e["internal"]
    assert mech[-1] < 0.5 * mech[0]                       # it lost energy ...
    assert e["damping"][-1] == pytest.approx(mech[0] - mech[-1], rel=0.03)  # ... to damping
    # the standard balance's O(Δt²) residual, here -(Δt²/8)a₀ᵀMa₀ once the motion has died out
    # (the exact identity is checked above)
    assert e["balance_error"].max() < 2e-2


def test_nonlinear_bar_conserves_its_energy_at_second_order():
    """NonlinearBar (stiffening, strains up to ~3 ε0): the balance error is small and falls as Δt²."""
    mesh = bar(1.0, 50)
    mat = NonlinearBar(1.0, 3.0, 0.1)
    x = mesh.points[:, 0]
    u0 = (0.3 / (2 * np.pi)) * np.sin(2 * np.pi * x)[:, None]   # strain amplitude 0.3
    errs = []
    for dt in (0.002, 0.001):   # Δt_crit = h/√3 = 0.0115
        res = solve(Problem(mesh, mat, 1.0, bcs=[Fixed("left")], u0=u0), 2.0, dt, energy=EnergyCheck(every=5))
        assert res.completed
        errs.append(res.energies["balance_error"].max())
        assert res.energies["kinetic"].max() > 0.3 * res.energies["internal"][0]
    assert errs[0] < 2e-3
    assert 3.0 < errs[0] / errs[1] < 5.0


# ---------------------------------------------------------------------------------------------
# boundary conditions and loads
def test_fixed_and_prescribed_dofs_hold_exactly():
    mesh = rectangle(1.0, 0.5, 6, 3, cell="quad")
    g = lambda t: 0.05 * math.sin(7.0 * t)  # noqa: E731
    prob = Problem(mesh, LinearElastic(5.0, 0.3, "plane_strain"), 1.0,
                   bcs=[Fixed("left", components="x"), Fixed("y == 0 and x < 0.3", "y", value=0.01),
                        Prescribed("right", "x", displacement=g), Prescribed("top", "y", velocity=-0.2)],
                   loads=[BodyForce([0.0, -3.0])])
    states = list(itertools.islice(fem.iterate(prob, 0.002), 301))
    left, bottom = mesh.nodes("left"), mesh.nodes("y == 0 and x < 0.3")
    right, top = mesh.nodes("right"), mesh.nodes("top")
    for s in states[::50]:
        u = s.u.reshape(-1, 2).numpy()
        assert np.all(u[left, 0] == 0.0) and np.all(s.v.reshape(-1, 2).numpy()[left, 0] == 0.0)
        assert np.all(u[bottom, 1] == 0.01)
        assert np.all(u[right, 0] == g(s.t))                         # bit-exact
        assert np.abs(u[top, 1] - (-0.2 * s.t)).max() < 1e-14        # midpoint rule: exact for constant v
    assert np.abs(states[-1].u.reshape(-1, 2)[:, 1].numpy()).max() > 0.01   # something else moved


@pytest.mark.parametrize("shape", [("triangle", 2), ("quad", 2), ("tetra", 3), ("hexahedron", 3)])
def test_tractions_of_a_uniform_stress_equal_its_internal_force(shape):
    """Consistent facet loads are exact: t = σ·n on every face gives f_ext = Σ Bᵀσw (any linear facet)."""
    cell, dim = shape
    mesh = fem.distort(rectangle(2.0, 1.0, 4, 3, cell=cell) if dim == 2 else box(1.0, 1.0, 2.0, 2, 2, 3, cell=cell),
                       0.15, seed=3)
    kin = "plane_strain" if dim == 2 else "3d"
    rng = np.random.default_rng(0)
    s = rng.normal(size=(dim, dim))
    s = s + s.T
    a = fem.Assembly(mesh, thickness=0.7 if dim == 2 else 1.0)
    sig = fem.core.mandel.from_tensor(torch.as_tensor(s), kin).expand(a.n_cells, a.nq, -1).contiguous()
    f_int = a.internal_force(sig).numpy()
    faces = {"left": 0, "right": 0, "bottom": 1, "top": 1, "front": 2, "back": 2}
    f_ext = np.zeros(a.n_dofs)
    for name, axis in list(faces.items())[: 2 * dim]:
        normal = np.zeros(dim)
        normal[axis] = -1.0 if name in ("left", "bottom", "front") else 1.0
        f_ext += fem.discretisation.bc.facet_load_vector(mesh, mesh.facets(name), s @ normal, a.thickness if dim == 2 else 1.0)
    assert np.abs(f_ext - f_int).max() < 1e-12 * np.abs(f_int).max()


def test_body_force_and_nodal_force_totals():
    mesh = box(1.0, 2.0, 0.5, 2, 3, 2, cell="tetra")
    a = fem.Assembly(mesh)
    m = a.lumped_mass(3.0)
    prob = Problem(mesh, LinearElastic(1.0, 0.2), 3.0, loads=[BodyForce([0, 0, -9.81]), NodalForce("top", [1.0, 0, 0])])
    cond = fem.discretisation.bc.compile_conditions(prob, a, m)
    f = cond.external_force(0.0).reshape(-1, 3)
    assert float(f[:, 2].sum()) == pytest.approx(-9.81 * 3.0 * 1.0)
    assert float(f[:, 0].sum()) == pytest.approx(len(mesh.nodes("top")))


# ---------------------------------------------------------------------------------------------
# output, probes
def test_writer_gets_tensor_not_mandel_strain_and_is_closed():
    mesh = rectangle(1.0, 1.0, 3, 3)
    grad = np.array([[0.01, 0.004], [0.002, -0.003]])
    w = Recorder()
    prob = Problem(mesh, LinearElastic(1.0, 0.3, "plane_strain"), 1.0, u0=mesh.points @ grad.T)
    res = solve(prob, 0.05, 0.01, save=SaveAt(every=2, writer=w),
                probes=Probes({"corner": "x == 1 and y == 1", "mid": [5, 6]}))
    assert w.closed == 1 and [f[0] for f in w.frames] == pytest.approx([0.0, 0.02, 0.04, 0.05])
    t0, point, cell = w.frames[0]
    assert point["displacement"].shape == (mesh.n_points, 2) and point["velocity"].shape == (mesh.n_points, 2)
    assert cell["strain"].shape == (mesh.n_cells, 3)
    sym = 0.5 * (grad + grad.T)
    assert np.allclose(cell["strain"], [sym[0, 0], sym[1, 1], sym[0, 1]], atol=1e-15)  # tensor, not Mandel
    assert res.fields == {} and len(res.times) == 4
    assert res.probes["time"].shape == (6,) and res.probes["corner"].shape == (6, 2)
    assert np.allclose(res.probes["corner"][0], grad @ [1.0, 1.0])


def test_keep_fields_without_writer():
    res = solve(Problem(bar(1.0, 4), LinearElastic(1.0, 0.0, "uniaxial"), 1.0), 0.1, 0.05)
    assert res.fields["displacement"].shape == (3, 5, 1) and res.fields["stress"].shape == (3, 4, 1)


# ---------------------------------------------------------------------------------------------
# faults
def test_dt_above_critical_diverges_and_is_reported():
    mesh = rectangle(1.0, 1.0, 4, 4)
    mat = LinearElastic(1.0, 0.3, "plane_strain")
    left = (mesh.nodes("left")[:, None] * 2 + np.arange(2)).ravel()
    dt = 1.05 * exact_critical_dt(mesh, mat, 1.0, left)
    u0 = 1e-3 * np.random.default_rng(0).normal(size=(mesh.n_points, 2))
    with _unsafe():
        res = solve(Problem(mesh, mat, 1.0, bcs=[Fixed("left")], u0=u0), 2000 * dt, dt, allow_unsafe_dt=True,
                    viscosity=fem.BulkViscosity.off())
    assert res.status == "unstable"
    assert res.fault.step < 2000 and 0 <= res.fault.element < mesh.n_cells
    for word in ("step", "t =", "element", "centroid", "dt ="):
        assert word in res.message
    assert torch.isfinite(res.final.u).all() and res.final.step < res.fault.step
    with _unsafe(), pytest.raises(SimulationError) as info:
        solve(Problem(mesh, mat, 1.0, bcs=[Fixed("left")], u0=u0), 2000 * dt, dt, allow_unsafe_dt=True,
              raise_on_fault=True, viscosity=fem.BulkViscosity.off())
    assert info.value.result.status == "unstable"


class _NaNAfter:
    """LinearElastic stress that turns NaN in one element after a number of calls."""

    kinematics = "uniaxial"

    def __init__(self, calls, cell):
        self.inner, self.calls, self.cell, self.n = LinearElastic(1.0, 0.0, "uniaxial"), calls, cell, 0

    def stress(self, e):
        self.n += 1
        s = self.inner.stress(e)
        if self.n > self.calls:
            s = s.clone()
            s[self.cell] = float("nan")
        return s

    def stiffness_bound(self):
        return self.inner.stiffness_bound()


def test_nan_from_the_material_keeps_the_last_good_state():
    mesh = bar(1.0, 10)
    w = Recorder()
    prob = Problem(mesh, _NaNAfter(31, 7), 1.0, u0=_pulse(mesh.points[:, 0])[:, None])
    res = solve(prob, 2.0, 0.05, save=SaveAt(every=5, writer=w))   # 1 call at init, then one per step
    assert res.status == "unstable" and res.fault.step == 31 and res.final.step == 30
    assert "element 7" in res.message and "non-finite stress" in res.message and "t = 1.55" in res.message
    assert torch.isfinite(res.final.u).all() and w.closed == 1
    assert [f[0] for f in w.frames][-1] == pytest.approx(1.5)     # output so far kept
    assert np.all(np.isfinite(res.energies["kinetic"]))


def test_inverted_bar_element_stops_the_run():
    mesh = bar(1.0, 10)
    prob = Problem(mesh, LinearElastic(1.0, 0.0, "uniaxial"), 1.0,
                   bcs=[Fixed("left"), Prescribed("right", 0, velocity=-3.0)])
    res = solve(prob, 1.0, 0.02)
    assert res.status == "inverted" and "element 9" in res.message and "stretch" in res.message
    last = res.final.u.numpy()
    assert np.all(np.diff(np.arange(11) / 10 + last) > 0)    # the kept state is not inverted


def test_keyboard_interrupt_stops_cleanly_and_restart_continues_exactly(tmp_path):
    mesh = rectangle(1.0, 0.5, 6, 3)
    prob = Problem(mesh, LinearElastic(1.0, 0.3, "plane_strain"), 1.0, bcs=[Fixed("left")],
                   loads=[Traction("right", [0.0, -0.01], amplitude=lambda t: min(t, 1.0))], damping=0.1)
    kw = dict(energy=EnergyCheck(every=7), probes=Probes({"tip": "right"}))
    full = solve(prob, 3.0, 0.01, save=SaveAt(every=20), **kw)

    def stop(s):
        if s.step == 137:
            raise KeyboardInterrupt

    ck = tmp_path / "run.ckpt"
    w = Recorder()
    part = solve(prob, 3.0, 0.01, callback=stop, checkpoint=Checkpoint(ck, every=50), save=SaveAt(every=20, writer=w),
                 **kw)
    assert part.status == "interrupted" and part.final.step == 137 and "interrupted" in part.message
    assert w.closed == 1 and ck.exists() and not list(tmp_path.glob(".*tmp"))
    rest = solve(prob, 3.0, 0.01, restart=ck, save=SaveAt(every=20), **kw)
    assert rest.completed and rest.steps == full.steps == 300
    for k in ("u", "v", "a"):
        assert torch.abs(getattr(rest.final, k) - getattr(full.final, k)).max() <= 1e-12
    for k, v in full.energies.items():
        if k != "step":
            assert np.abs(rest.energies[k] - v).max() <= 1e-12 * max(1.0, np.abs(v).max()), k
    assert np.abs(rest.probes["tip"] - full.probes["tip"]).max() <= 1e-12
    assert np.array_equal(rest.times, full.times)


def test_checkpoint_every_n_steps_restarts_from_the_last(tmp_path):
    mesh = bar(1.0, 8)
    prob = Problem(mesh, NonlinearBar(), 1.0, bcs=[Fixed("left")], u0=0.02 * mesh.points)
    ck = tmp_path / "c.pt"
    full = solve(prob, 1.0, 0.01, checkpoint=Checkpoint(ck, every=40))
    assert torch.load(ck, weights_only=False)["step"] == 80
    rest = solve(prob, 1.0, 0.01, restart=ck)
    assert torch.equal(rest.final.u, full.final.u)
    with pytest.raises(FemError, match="does not match"):
        solve(prob, 1.0, 0.02, restart=ck)


# ---------------------------------------------------------------------------------------------
# inputs
def test_bad_inputs_say_what_was_expected():
    mesh = rectangle(1.0, 1.0, 2, 2)
    mat = LinearElastic(1.0, 0.3, "plane_strain")
    with pytest.raises(FemError, match="dt must be"):
        solve(Problem(mesh, mat, 1.0), 1.0, -0.1)
    with pytest.raises(FemError, match="constrained twice"):
        solve(Problem(mesh, mat, 1.0, bcs=[Fixed("left"), Fixed("x == 0 and y == 0", "y")]), 0.1, 0.01)
    with pytest.raises(FemError, match="exactly one of"):
        solve(Problem(mesh, mat, 1.0, bcs=[Prescribed("left", 0)]), 0.1, 0.01)
    with pytest.raises(fem.core.errors.MeshError, match="unknown set"):
        solve(Problem(mesh, mat, 1.0, bcs=[Fixed("nowhere")]), 0.1, 0.01)
    with pytest.raises(FemError, match="kinematics mismatch"):
        solve(Problem(mesh, LinearElastic(1.0, 0.3, "3d"), 1.0), 0.1, 0.01)
    with pytest.raises(FemError, match=r"u0 must be \(9, 2\)"):
        solve(Problem(mesh, mat, 1.0, u0=np.zeros(5)), 0.1, 0.01)
    with pytest.raises(FemError, match="2 finite numbers"):
        solve(Problem(mesh, mat, 1.0, loads=[BodyForce([0, 0, 1])]), 0.1, 0.01)
    with pytest.raises(FemError, match="component"):
        solve(Problem(mesh, mat, 1.0, bcs=[Fixed("left", "z")]), 0.1, 0.01)
    with pytest.raises(FemError, match=r"check_every must be a whole number of steps >= 1, got 0"):
        solve(Problem(mesh, mat, 1.0), 0.1, 0.01, check_every=0)
    with pytest.raises(FemError, match=r"monitor_every must be a whole number of steps >= 0 .*got 2.5"):
        solve(Problem(mesh, mat, 1.0), 0.1, 0.01, monitor=Monitor(every=2.5))


def test_dt_above_the_certified_step_is_refused():
    mesh = rectangle(1.0, 1.0, 4, 4)
    prob = Problem(mesh, LinearElastic(1.0, 0.3, "plane_strain"), 1.0)
    res = solve(prob, 0.2, "certified")
    assert res.completed and res.dt <= res.dt_certified
    with pytest.raises(FemError, match="exceeds the certified"):
        solve(prob, 0.2, 1.5 * res.dt_certified)
    dt = 1.01 * res.dt_certified
    with pytest.warns(FemWarning, match="exceeds the certified"):
        unsafe = solve(prob, 40 * dt, dt, allow_unsafe_dt=True)       # 40 steps: dt is not shortened
    assert unsafe.dt == pytest.approx(dt, rel=1e-12)
    # an allowed unsafe step is monitored: the measured critical step and the margin are recorded
    assert len(unsafe.monitor) >= 2 and unsafe.monitor[0]["step"] == 0
    assert np.all(np.isfinite(unsafe.energies["dt_margin"]))
    # the element-form certificate is below the true limit here, so 1.01x is still measured as safe
    assert unsafe.energies["dt_margin"].min() > 1.0
    with pytest.warns(FemWarning, match="exceeds the certified"):
        quiet = solve(prob, 40 * dt, dt, allow_unsafe_dt=True, monitor=Monitor(every=0))
    assert quiet.monitor == [] and "dt_margin" not in quiet.energies


def test_linear_and_material_paths_agree():
    mesh = box(1.0, 1.0, 1.0, 2, 2, 2)
    prob = Problem(mesh, LinearElastic(1.0, 0.3), 1.0, bcs=[Fixed("left")], loads=[Traction("right", [0, 0, 0.1])])
    r1 = solve(prob, 0.5, 0.05)
    r2 = solve(prob, 0.5, 0.05, compute=Compute(use_linear=False))
    assert torch.allclose(r1.final.u, r2.final.u, rtol=1e-12, atol=1e-15)
    assert np.allclose(r1.energies["internal"], r2.energies["internal"], rtol=1e-10, atol=1e-18)


def test_a_load_ramped_from_rest_is_not_called_unstable_in_its_first_steps():
    """At step 1 of a load ramped up from zero the leapfrog defect (Δt²/8)aᵀMa equals the kinetic
    energy (balance error 1); the balance check starts after BALANCE_GRACE_STEPS, so a short stable
    run completes while NaN/inversion stay checked from step 1."""
    from fem.solver.explicit import BALANCE_GRACE_STEPS

    mesh = fem.bar(1.0, 20)
    mat = fem.LinearElastic(E=1.0, nu=0.0, kinematics="uniaxial")
    load = fem.NodalForce("right", [1.0], amplitude=lambda t: t)
    p = fem.Problem(mesh, mat, 1.0, bcs=[fem.Fixed("left")], loads=[load])
    res = fem.solve(p, 0.02 * 30, 0.02, energy=EnergyCheck(every=1), progress=False)
    assert res.status == "completed", res.message
    assert res.energies["balance_error"][1] > 0.5  # the step-1 defect the grace period tolerates
    assert res.energies["balance_error"][BALANCE_GRACE_STEPS:].max() < 0.05
