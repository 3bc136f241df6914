"""StretchDomain: validation, membership against an exact singular-value check, log-polytope vertices."""
import pytest
import torch
from _hyperelastic_helpers import gradients_from, rotations

from fem.core.errors import FemError
from fem.materials.hyperelastic import StretchDomain

D = StretchDomain(0.5, 2.0, 0.8, 1.25)


@pytest.mark.parametrize("args, match", [
    ((0.0, 2.0, 0.8, 1.25), "0 < lam_lo <= 1 <= lam_hi"),
    ((1.1, 2.0, 0.8, 1.25), "0 < lam_lo <= 1 <= lam_hi"),
    ((0.5, 0.9, 0.8, 1.25), "0 < lam_lo <= 1 <= lam_hi"),
    ((0.5, 2.0, 1.1, 1.25), "0 < J_lo <= 1 <= J_hi"),
    ((0.5, 2.0, 0.1, 1.25), "not reachable"),
    ((0.5, 1.1, 0.8, 1.5), "not reachable"),
    ((0.5, float("inf"), 0.8, 1.25), "finite"),
])
def test_invalid_domains_are_refused_with_the_values(args, match):
    with pytest.raises(FemError, match=match):
        StretchDomain(*args)


def _exact_inside(F, dom):
    lam = torch.linalg.svdvals(F)
    J = torch.linalg.det(F)
    return (lam.min(-1).values >= dom.lam_lo) & (lam.max(-1).values <= dom.lam_hi) & (J >= dom.J_lo) & (J <= dom.J_hi)


@pytest.mark.parametrize("d", [2, 3])
def test_contains_agrees_with_exact_singular_values(d):
    g = torch.Generator().manual_seed(5)
    n = 20000
    # stretches spread around the domain's edges, so both cheap tests and the exact fallback are used
    lam = torch.exp(torch.empty(n, d, dtype=torch.float64).uniform_(-0.9, 0.9, generator=g))
    F = gradients_from(lam, g)
    F[: n // 10] = torch.eye(d, dtype=torch.float64) + 0.05 * torch.randn(n // 10, d, d, dtype=torch.float64,
                                                                           generator=g)
    got = D.contains(F)
    want = _exact_inside(F, D)
    # a state within 1e-12 of the boundary may go either way (rounding); nowhere else may they differ
    lam_s = torch.linalg.svdvals(F)
    J = torch.linalg.det(F)
    margin = torch.stack([(lam_s.min(-1).values - D.lam_lo).abs(), (lam_s.max(-1).values - D.lam_hi).abs(),
                          (J - D.J_lo).abs(), (J - D.J_hi).abs()]).min(0).values
    assert bool((got == want)[margin > 1e-12].all())
    assert 0.1 < float(want.double().mean()) < 0.9          # both answers well represented
    # plane strain with a rotation of the whole 2×2 block keeps λ₃ = 1 implicit
    assert bool(D.contains(torch.eye(d, dtype=torch.float64)))


def test_contains_shapes_and_inverted_states():
    F = torch.eye(3, dtype=torch.float64).expand(4, 5, 3, 3).clone()
    F[0, 0, 2, 2] = -1.0                               # J = −1: outside
    inside = D.contains(F)
    assert inside.shape == (4, 5) and not bool(inside[0, 0]) and bool(inside[1:].all())
    with pytest.raises(FemError, match="expected F of shape"):
        D.contains(torch.eye(4, dtype=torch.float64))


@pytest.mark.parametrize("kin, k", [("3d", 3), ("plane_strain", 2)])
def test_vertices_give_the_maximum_of_I1_over_the_domain(kin, k):
    v = D.vertices(kin)
    assert bool(((v >= D.lam_lo - 1e-12) & (v <= D.lam_hi + 1e-12)).all())
    J = v.prod(-1)
    assert bool(((J >= D.J_lo - 1e-12) & (J <= D.J_hi + 1e-12)).all())
    g = torch.Generator().manual_seed(6)
    lam = torch.exp(torch.empty(200000, k, dtype=torch.float64).uniform_(-0.7, 0.7, generator=g))
    lam = lam[D.contains_stretches(lam)]
    sampled = float((lam**2).sum(-1).max()) + (1.0 if k == 2 else 0.0)
    assert sampled <= D.sup_I1(kin) + 1e-12
    assert sampled >= 0.97 * D.sup_I1(kin)


def test_rotations_helper_is_proper():
    R = rotations(100, 3, torch.Generator().manual_seed(0))
    assert torch.allclose(R @ R.transpose(-1, -2), torch.eye(3, dtype=torch.float64).expand(100, 3, 3), atol=1e-12)
    assert torch.allclose(torch.linalg.det(R), torch.ones(100, dtype=torch.float64))
