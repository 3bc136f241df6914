"""fem.core.interval: the inclusion property against dense sampling, and outward rounding."""
from fractions import Fraction

import pytest
import torch

from fem.core.interval import Interval, hull


def _random_intervals(n, lo=-3.0, hi=3.0, positive=False, gen=None):
    a = torch.rand(n, generator=gen, dtype=torch.float64) * (hi - lo) + lo
    b = torch.rand(n, generator=gen, dtype=torch.float64) * (hi - lo) + lo
    x, y = torch.minimum(a, b), torch.maximum(a, b)
    if positive:
        x, y = x.abs() + 0.05, y.abs() + 0.05
        x, y = torch.minimum(x, y), torch.maximum(x, y)
    return Interval(x, y)


def _samples(iv: Interval, m=64):
    """(n, m) points of each interval, both ends included."""
    t = torch.linspace(0.0, 1.0, m, dtype=torch.float64)
    x = iv.lo[:, None] + (iv.hi - iv.lo)[:, None] * t
    return torch.minimum(torch.maximum(x, iv.lo[:, None]), iv.hi[:, None])   # rounding may step outside


def _encloses(res: Interval, values: torch.Tensor) -> bool:
    return bool(((res.lo[:, None] <= values) & (values <= res.hi[:, None])).all())


BINARY = {
    "add": (lambda a, b: a + b, False),
    "sub": (lambda a, b: a - b, False),
    "mul": (lambda a, b: a * b, False),
    "div": (lambda a, b: a / b, True),
}


@pytest.mark.parametrize("name", list(BINARY))
def test_binary_operations_enclose_every_pair_of_points(name):
    op, positive_b = BINARY[name]
    g = torch.Generator().manual_seed(1)
    a = _random_intervals(400, gen=g)
    b = _random_intervals(400, positive=positive_b, gen=g)
    res = op(a, b)
    xa, xb = _samples(a, 24), _samples(b, 24)
    vals = op(xa[:, :, None], xb[:, None, :]).reshape(400, -1)
    assert _encloses(res, vals)
    # and it is not absurdly wide: the hull of the samples fills most of it
    width = res.hi - res.lo
    assert bool((vals.amax(1) - vals.amin(1) >= 0.5 * width - 1e-12).all())


UNARY = {
    "square": (lambda x: x**2, lambda t: t**2, False),
    "cube": (lambda x: x**3, lambda t: t**3, False),
    "inv_sq": (lambda x: x ** -2, lambda t: t ** -2.0, True),
    "pow_real": (lambda x: x ** 1.7, lambda t: t ** 1.7, True),
    "pow_neg_real": (lambda x: x ** -0.6, lambda t: t ** -0.6, True),
    "sqrt": (lambda x: x.sqrt(), torch.sqrt, True),
    "exp": (lambda x: x.exp(), torch.exp, False),
    "log": (lambda x: x.log(), torch.log, True),
    "reciprocal": (lambda x: x.reciprocal(), lambda t: 1.0 / t, True),
}


@pytest.mark.parametrize("name", list(UNARY))
def test_unary_functions_enclose_the_range(name):
    f_iv, f_t, positive = UNARY[name]
    a = _random_intervals(500, positive=positive, gen=torch.Generator().manual_seed(2))
    res = f_iv(a)
    vals = f_t(_samples(a, 200))
    assert _encloses(res, vals)
    # the ends are attained (monotone or with the even-power minimum at 0) up to the rounding margin
    tight = torch.maximum(res.hi - vals.amax(1), vals.amin(1) - res.lo) <= 1e-12 * (1 + vals.abs().amax(1))
    if name != "square":
        assert bool(tight.all())


def test_even_power_of_an_interval_straddling_zero_starts_at_zero():
    r = Interval(-2.0, 1.0) ** 2
    assert float(r.lo) == 0.0 and 4.0 <= float(r.hi) < 4.0 + 1e-12


def test_rounding_is_outward_for_sums_that_are_not_representable():
    r = Interval(0.1) + Interval(0.2)           # exact 0.1 + 0.2 of the float64 inputs, as a rational
    exact = Fraction(0.1) + Fraction(0.2)
    assert Fraction(float(r.lo)) <= exact <= Fraction(float(r.hi))
    assert float(r.lo) < float(r.hi)            # a point sum is widened, not rounded to nearest
    p = Interval(0.1) * Interval(3.0)
    assert Fraction(float(p.lo)) <= Fraction(0.1) * 3 <= Fraction(float(p.hi))


def test_mixed_operands_and_reflected_operators():
    a = Interval(torch.tensor([1.0, 2.0]), torch.tensor([2.0, 3.0]))
    t = torch.tensor([1.0, -1.0], dtype=torch.float64)
    for r, lo, hi in ((t + a, [2, 1], [3, 2]), (t * a, [1, -3], [2, -2]), (1.0 - a, [-1, -2], [0, -1]),
                      (2.0 / a, [1, 2 / 3], [2, 1])):
        assert torch.allclose(r.lo, torch.tensor(lo, dtype=torch.float64), atol=1e-14)
        assert torch.allclose(r.hi, torch.tensor(hi, dtype=torch.float64), atol=1e-14)


def test_intersect_hull_and_errors():
    a, b = Interval(0.0, 2.0), Interval(1.0, 3.0)
    i = a.intersect(b)
    assert (float(i.lo), float(i.hi)) == (1.0, 2.0) and not bool(i.is_empty())
    assert bool(a.intersect(Interval(5.0, 6.0)).is_empty())
    h = hull(a, b, 7.0)
    assert (float(h.lo), float(h.hi)) == (0.0, 7.0)
    with pytest.raises(ValueError, match="lo <= hi"):
        Interval(2.0, 1.0)
    with pytest.raises(ValueError, match="not containing 0"):
        Interval(1.0) / Interval(-1.0, 1.0)
    with pytest.raises(ValueError, match="lo > 0"):
        Interval(-1.0, 1.0).log()
    with pytest.raises(ValueError, match="lo >= 0"):
        Interval(-1.0, 1.0) ** 0.5


def test_a_polynomial_evaluated_on_shrinking_boxes_converges_to_its_range():
    """No dependency tracking: x·x − x is loose on a wide box, tight as the box shrinks (why we bisect)."""
    def f(x):
        return x * x - x
    wide = f(Interval(0.0, 1.0))
    assert float(wide.lo) <= -1.0 and float(wide.hi) >= 1.0      # true range is [−1/4, 0]
    edges = torch.linspace(0.0, 1.0, 1025, dtype=torch.float64)
    fine = f(Interval(edges[:-1], edges[1:]))
    assert -0.25 - 2e-3 <= float(fine.lo.min()) <= -0.25 and 0.0 <= float(fine.hi.max()) <= 2e-3
