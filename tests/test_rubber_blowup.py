"""The failure the certified step prevents (issue 4): a stiffening rubber strip run at the step an
initial-modulus estimate gives blows up and is stopped with a message; at the certified step it runs
to the end with a small energy error.

The strip (lipmat.demo.bar, 40 elements) is Treloar's rubber (the certified uniaxial law, quick fit)
pulled to λ = 7.5. Its tangent falls from σ'(0) to about σ'(0)/4 and then rises to about 4σ'(0), so the
unstrained bar's critical step h/c₀ is exceeded by the true critical step only once the strain passes
the stretch where σ' > σ'(0) again. (Linear elasticity at 1.05× the exact critical step diverging and
being reported: tests/test_fem_explicit.py::test_dt_above_critical_diverges_and_is_reported.)
"""
import math
import re
import warnings

import numpy as np
import pytest

from fem.core.errors import FemError, FemWarning
from lipmat.demo import bar as demo_bar

SETUP = demo_bar.BarSetup(n_elements=40)


@pytest.fixture(scope="module")
def rubber():
    with warnings.catch_warnings():
        return demo_bar.fit_rubber(quick=True).model


def test_initial_modulus_step_is_the_critical_step_of_the_unstrained_bar(rubber):
    dt0 = demo_bar.initial_modulus_step(rubber, SETUP)
    assert dt0 == pytest.approx(SETUP.h / math.sqrt(demo_bar.initial_tangent(rubber) / SETUP.density), rel=1e-14)
    # a uniform lumped-mass bar: ω_max = 2c/h exactly, so the measured critical step equals h/c₀
    assert demo_bar.reference_critical_step(rubber, SETUP) == pytest.approx(dt0, rel=1e-6)
    assert demo_bar.certified_step(rubber, SETUP).dt < 0.6 * dt0


def test_initial_modulus_step_is_refused_without_permission(rubber):
    dt0 = demo_bar.initial_modulus_step(rubber, SETUP)
    with pytest.raises(FemError, match=r"exceeds the certified stable step"):
        demo_bar.run_bar(rubber, SETUP, dt0)


def test_initial_modulus_step_blows_up_in_the_stiff_range_and_is_stopped_with_a_message(rubber):
    dt0 = demo_bar.initial_modulus_step(rubber, SETUP)
    with pytest.warns(FemWarning, match="exceeds the certified stable step"):
        r = demo_bar.run_bar(rubber, SETUP, dt0, allow_unsafe_dt=True, viscosity=False)   # the plain scheme
    assert not r.completed and r.status in ("unstable", "inverted")
    assert r.t < SETUP.t_end and r.fault is not None
    assert re.search(r"element \d+ .*at step \d+ \(t = [0-9.e-]+ s\)", r.message), r.message
    # whichever check trips first (inversion or energy), the message blames the step size
    assert "x the certified stable step" in r.message and "numerical instability" in r.message
    assert r.fault.step == r.steps + 1 and 0 <= r.fault.element < SETUP.n_elements
    assert np.all(np.isfinite(r.final.u.numpy()))          # the last good state is kept
    # it blew up only once the strip had entered the range where σ' > σ'(0): the mean stretch (set by
    # the pulled end, so the blow-up's own oscillation cannot inflate it) had passed that stretch
    mean_stretch = 1.0 + demo_bar.end_displacement(SETUP)(r.t) / SETUP.length
    assert mean_stretch == pytest.approx(1.0 + float(r.final.strain.mean()), rel=1e-9)
    assert mean_stretch > demo_bar.stiffening_stretch(rubber)


def test_certified_step_runs_to_the_end_with_a_small_energy_error(rubber):
    r = demo_bar.run_bar(rubber, SETUP, "certified", monitor=3)
    assert r.completed and r.t == pytest.approx(SETUP.t_end)
    assert demo_bar.max_balance_error(r) < 1e-2
    lam = 1.0 + r.fields["strain"][..., 0]
    assert lam.max() > SETUP.stretch - 0.05 and lam.min() > 0.99    # reached the stiff range, never compressed
    # the certified step is below the critical step measured along the run, at every check
    assert r.monitor and all(m["dt"] <= m["dt_critical"] for m in r.monitor)
    assert r.dt <= r.dt_certified


def test_the_demo_leaves_the_callers_model_and_loggers_as_they_were(rubber):
    """compare_steps freezes the parameters and quiets the solver's loggers only while it runs."""
    import logging

    small = demo_bar.BarSetup(n_elements=8, ramp_time=0.01, hold_time=0.002)
    names = ("fem", "fem.solver.explicit", "fem.solver.observers")
    logging.getLogger("fem.solver.explicit").setLevel(logging.INFO)
    try:
        levels = [logging.getLogger(n).level for n in names]
        before = [p.requires_grad for p in rubber.parameters()]
        assert any(before)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            demo_bar.compare_steps(rubber, small, monitor=2, frames=4)
        assert [p.requires_grad for p in rubber.parameters()] == before
        assert [logging.getLogger(n).level for n in names] == levels
    finally:
        logging.getLogger("fem.solver.explicit").setLevel(logging.NOTSET)
