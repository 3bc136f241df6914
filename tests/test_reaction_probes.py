"""Reaction-force probes (fem.solver.reactions): the force the constraints apply to the body on a set."""
import math

import numpy as np
import pytest

import fem
from fem import BodyForce, Fixed, LinearElastic, Prescribed, Problem, Probes, solve
from fem.core.errors import FemError


def _pulled_bar(n_el=20, E=3.0, area=2.0, u_end=1e-3, ramp=20.0):
    """Linear bar, fixed left, right end pulled by a smooth (1 − cos) ramp to u_end over ``ramp`` s."""
    mesh = fem.bar(1.0, n_el)

    def g(t):
        return u_end * (0.5 - 0.5 * math.cos(math.pi * min(t, ramp) / ramp))

    bcs = [Fixed("left"), Prescribed("right", "x", displacement=g)]
    return Problem(mesh, LinearElastic(E, 0.0, "uniaxial"), 1.0, bcs=bcs, area=area, damping=2.0)


def test_static_limit_reaction_is_EA_strain_and_balances_the_support():
    E, A, u_end = 3.0, 2.0, 1e-3
    res = solve(_pulled_bar(E=E, area=A, u_end=u_end), 40.0, "certified",
                probes=Probes(nodes={"end": "right"}, reactions={"grip": "right", "support": "left"}, every=10))
    r = res.probes["reactions"]
    assert r["grip"].shape == r["support"].shape == (len(res.probes["time"]), 1)
    expected = E * A * u_end / 1.0
    assert res.probes["end"][-1, 0] == pytest.approx(u_end, rel=1e-12)
    assert r["grip"][-1, 0] == pytest.approx(expected, rel=1e-3)
    assert r["support"][-1, 0] == pytest.approx(-expected, rel=1e-3)     # global equilibrium at rest


def test_reaction_equals_the_scheme_reaction_on_moving_dofs():
    seen = []
    res = solve(_pulled_bar(), 5.0, "certified", probes=Probes(reactions={"grip": "right"}, every=1),
                callback=lambda s: seen.append(float(s.scheme.reaction.sum())))
    np.testing.assert_allclose(res.probes["reactions"]["grip"][1:, 0], seen, rtol=1e-12, atol=1e-15)


def test_sum_of_reactions_is_momentum_rate_minus_external_load_2d():
    """Σ R over every constrained dof = (p_{n+½} − p_{n−½})/Δt − Σ f_ext, p = Σ M v (α = 0), each step."""
    mesh = fem.rectangle(2.0, 1.0, 6, 3)
    g = np.array([0.3, -9.81])
    bcs = [Fixed("left"), Prescribed("right", "x", velocity=lambda t: 0.05 * math.sin(40.0 * t)),
           Fixed("x == 1 and y == 1", components="y")]
    prob = Problem(mesh, LinearElastic(1e4, 0.3, "plane_strain"), 2.0, bcs=bcs, loads=[BodyForce(g)],
                   thickness=0.1)
    mass = 2.0 * 0.1 * 2.0 * 1.0   # density × thickness × area: Σ M per component
    states = []
    res = solve(prob, 0.05, "certified", callback=lambda s: states.append((s.step, s.v.clone(), s.a.clone())),
                probes=Probes(reactions={"left": "left", "right": "right", "mid": "x == 1 and y == 1"}, every=1))
    dt, r = res.dt, res.probes["reactions"]
    total = (r["left"] + r["right"] + r["mid"])[1:]          # steps 1..n (the callback sees those)
    m = fem.Assembly(mesh, thickness=0.1).lumped_mass(2.0).numpy()
    assert m.sum() == pytest.approx(2 * mass, rel=1e-12)
    for (n0, v0, a0), (n1, v1, a1), R in zip(states, states[1:], total[1:]):
        p_prev = (m * (v0 + 0.5 * dt * a0).numpy()).reshape(-1, 2).sum(0)     # p_{n−½}
        p_next = (m * (v1 + 0.5 * dt * a1).numpy()).reshape(-1, 2).sum(0)     # p_{n+½}
        expected = (p_next - p_prev) / dt - mass * g
        scale = np.abs(mass * g).max() + np.abs(R).max()
        np.testing.assert_allclose(R, expected, rtol=0, atol=1e-10 * scale)


def test_reaction_probe_on_a_free_set_is_refused():
    with pytest.raises(FemError, match="'free'.*no constrained dof"):
        solve(_pulled_bar(), 0.1, "certified", probes=Probes(reactions={"free": "x == 0.5"}))


def test_probe_names_are_unique():
    with pytest.raises(FemError, match="unique"):
        Probes(nodes={"a": "left"}, reactions={"a": "left"})
    with pytest.raises(FemError, match="unique"):
        Probes(reactions={"reactions": "left"})


def test_probes_csv_has_reaction_columns(tmp_path):
    probes = {"time": np.array([0.0, 1.0]), "tip": np.zeros((2, 2)), "reactions": {"grip": np.ones((2, 2))}}
    text = fem.write_probes_csv(tmp_path / "p.csv", probes).read_text()
    assert text.splitlines()[0] == "time_s,tip_ux_m,tip_uy_m,grip_Rx_N,grip_Ry_N"


DECK = """[mesh]
generator = "bar"
lx = 1.0
nx = 20
area = 2.0
[material]
type = "linear_elastic"
E = 3.0
density = 1.0
[[bc]]
where = "left"
[[bc]]
type = "displacement"
where = "right"
component = "x"
value = 1e-3
amplitude = {{ type = "ramp", t1 = 20.0 }}
[time]
end = 40.0
dt = "certified"
mass_damping = 2.0
[output]
fields = false
plot = false
energy_csv = false
probe_every = 10
[output.probes]
end = "right"
[output.reactions]
{reactions}
[output.scalars]
peak_force = {{ probe = "grip", component = "x", reduce = "max_abs" }}
final_support = {{ probe = "support", reduce = "final" }}
"""


def test_deck_writes_reaction_columns_and_reduces_them(tmp_path):
    from fem.deck import load_deck, run_deck

    path = tmp_path / "pull.toml"
    path.write_text(DECK.format(reactions='grip = "right"\nsupport = "x == 0"'))
    deck = load_deck(path)
    run = run_deck(deck, progress=False)
    csv = (tmp_path / "pull_out" / "probes.csv").read_text().splitlines()
    assert csv[0] == "time_s,end_ux_m,grip_Rx_N,support_Rx_N"
    last = np.array(csv[-1].split(","), dtype=float)
    assert last[2] == pytest.approx(3.0 * 2.0 * 1e-3, rel=1e-3) and last[3] == pytest.approx(-last[2], rel=1e-3)
    r = run.result.probes["reactions"]
    assert run.scalars["peak_force"] == pytest.approx(np.abs(r["grip"][:, 0]).max(), rel=1e-15)
    assert run.scalars["final_support"] == pytest.approx(last[3], rel=1e-12)


@pytest.mark.parametrize("reactions, message", [
    ('free = "x == 0.5"', r"\[output\.reactions\].*free = 'x == 0\.5'.*no constrained dof"),
    ('end = "right"', r"\[output\.reactions\].*end = 'right'.*name is taken"),
    ('grip = 3', r"\[output\.reactions\].*grip"),
])
def test_deck_reaction_probe_errors_are_located(reactions, message):
    from fem.core.errors import DeckError
    from fem.deck import parse_deck

    with pytest.raises(DeckError, match=message) as e:
        parse_deck(DECK.format(reactions=reactions + '\ngrip2 = "right"').replace('probe = "grip"', 'probe = "grip2"')
                   .replace('probe = "support"', 'probe = "grip2"'), path="pull.toml")
    assert str(e.value).startswith("pull.toml")


def test_reaction_histories_continue_exactly_after_a_restart(tmp_path):
    from fem import Checkpoint

    prob = _pulled_bar(ramp=2.0)
    kw = dict(probes=Probes(reactions={"grip": "right", "support": "left"}, every=3))
    full = solve(prob, 3.0, "certified", **kw)

    def stop(s):
        if s.step == 40:
            raise KeyboardInterrupt

    ck = tmp_path / "run.ckpt"
    part = solve(prob, 3.0, "certified", callback=stop, checkpoint=Checkpoint(ck, every=25), **kw)
    assert part.status == "interrupted"
    rest = solve(prob, 3.0, "certified", restart=ck, **kw)
    np.testing.assert_array_equal(rest.probes["time"], full.probes["time"])
    for k in ("grip", "support"):
        np.testing.assert_allclose(rest.probes["reactions"][k], full.probes["reactions"][k], rtol=0, atol=1e-15)
