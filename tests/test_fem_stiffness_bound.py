"""One way for a material to say "no stiffness bound": raise fem.core.errors.NoStiffnessBound; anything else
from stiffness_bound() is a bug and propagates; bound_matrix refuses NaN and inf."""
import math

import pytest
import torch

import fem
from fem import Fixed, LinearElastic, Problem, bar, bound_matrix, solve
from fem.core.errors import FemError, NoStiffnessBound


class _Bar(LinearElastic):
    """A linear bar whose stiffness_bound() does what the test says."""

    def __init__(self, behaviour):
        super().__init__(1.0, 0.0, "uniaxial")
        self.behaviour = behaviour

    def stiffness_bound(self):
        return self.behaviour()


def _problem(material):
    mesh = bar(1.0, 4)
    return Problem(mesh, material, 1.0, bcs=[Fixed("left")], u0=1e-3 * mesh.points)


def _no_bound():
    raise NoStiffnessBound("tangent unbounded as the stretch goes to 0")


def _bug():
    raise ValueError("a bug inside stiffness_bound")


def test_no_stiffness_bound_runs_with_a_numeric_dt_only(caplog):
    res = solve(_problem(_Bar(_no_bound)), 0.5, 0.1, progress=False)
    assert res.completed and res.dt_certified is None
    assert "not checked against a certified step" in caplog.text and "tangent unbounded" in caplog.text
    with pytest.raises(FemError, match=r"needs a stiffness certificate: _Bar has no global stiffness bound "
                                       r"\(tangent unbounded"):
        solve(_problem(_Bar(_no_bound)), 0.5, "certified")


def test_any_other_exception_from_stiffness_bound_propagates():
    with pytest.raises(ValueError, match="a bug inside stiffness_bound") as info:
        solve(_problem(_Bar(_bug)), 0.5, 0.1)
    assert not isinstance(info.value, NoStiffnessBound)
    with pytest.raises(ZeroDivisionError):
        solve(_problem(_Bar(lambda: 1 / 0)), 0.5, 0.1)


def test_none_is_not_a_way_to_say_no_bound():
    with pytest.raises(FemError, match=r"returned None.*NoStiffnessBound"):
        solve(_problem(_Bar(lambda: None)), 0.5, 0.1)


@pytest.mark.parametrize("bound", [math.inf, math.nan, -1.0, torch.tensor([[math.inf]]),
                                   torch.tensor([[1.0, math.nan], [math.nan, 1.0]])])
def test_bound_matrix_refuses_nan_inf_and_negative(bound):
    n = 1 if not isinstance(bound, torch.Tensor) else bound.shape[0]
    with pytest.raises(ValueError, match="finite"):
        bound_matrix(bound, n)


def test_bound_matrix_keeps_a_finite_certificate():
    assert torch.equal(bound_matrix(2.5, 3), 2.5 * torch.eye(3, dtype=torch.float64))
    c = torch.tensor([[2.0, 1.0], [1.0, 3.0]], dtype=torch.float64)
    assert torch.equal(bound_matrix(c, 2), c)


def test_an_infinite_bound_is_refused_before_the_run():
    with pytest.raises(ValueError, match="finite"):
        solve(_problem(_Bar(lambda: math.inf)), 0.5, "certified")


def test_the_stiffening_rubber_laws_say_it_the_documented_way():
    from lipmat.models import NeoHookeanBar, NoGlobalBound

    assert issubclass(NoGlobalBound, NoStiffnessBound)
    law = NeoHookeanBar(0.4e6)
    with pytest.raises(NoStiffnessBound):
        law.stiffness_bound()
    assert fem.NoStiffnessBound is NoStiffnessBound
