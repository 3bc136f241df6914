"""fem.core.kinematics: the closed forms against torch.linalg as the oracle, and the identities they obey."""
import pytest
import torch

from fem.core.errors import FemError
from fem.core.kinematics import cofactor, determinant, principal_stretches, volume_ratio


def _batch(d: int, n: int = 200) -> torch.Tensor:
    """(n, d, d) random matrices around the identity, some with negative determinant."""
    F = torch.eye(d) + 0.6 * torch.randn(n, d, d)
    F[::7] = -F[::7]  # flip a few (odd d: det changes sign)
    return F


@pytest.mark.parametrize("d", [1, 2, 3])
def test_determinant_matches_linalg_det(d):
    F = _batch(d)
    torch.testing.assert_close(determinant(F), torch.linalg.det(F), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("d", [2, 3])
def test_determinant_with_cofactor_is_the_same_number(d):
    F = _batch(d)
    torch.testing.assert_close(determinant(F, cofactor(F)), determinant(F), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("d", [1, 2, 3])
def test_cofactor_is_det_times_inverse_transpose(d):
    F = _batch(d)
    want = torch.linalg.det(F)[:, None, None] * torch.linalg.inv(F).transpose(-1, -2)
    torch.testing.assert_close(cofactor(F), want, rtol=1e-10, atol=1e-10)


def test_cofactor_of_a_singular_matrix_is_defined():
    F = torch.tensor([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [0.0, 1.0, 1.0]])  # rank 2
    cof = cofactor(F)
    assert torch.isfinite(cof).all() and cof.abs().sum() > 0
    torch.testing.assert_close(F.T @ cof, torch.zeros(3, 3), rtol=0, atol=1e-12)  # Fᵀ cof F = (det F) I = 0


@pytest.mark.parametrize("d", [1, 2, 3])
def test_volume_ratio_is_det_of_identity_plus_H(d):
    H = 0.5 * torch.randn(40, 4, d, d)
    torch.testing.assert_close(volume_ratio(H), torch.linalg.det(H + torch.eye(d)), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("d", [1, 2, 3])
def test_volume_ratio_reads_H_without_changing_it(d):
    H = torch.randn(10, d, d)
    before = H.clone()
    volume_ratio(H)
    assert torch.equal(H, before)


@pytest.mark.parametrize("d", [2, 3])
def test_principal_stretches_are_the_singular_values_ascending(d):
    F = _batch(d)
    lam = principal_stretches(F)
    assert lam.shape == (F.shape[0], d)
    assert (lam[:, 1:] >= lam[:, :-1]).all()
    torch.testing.assert_close(lam, torch.linalg.svdvals(F).flip(-1), rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(principal_stretches(F, F.transpose(-1, -2) @ F), lam, rtol=0, atol=0)


def test_stretches_of_a_rotation_are_one_and_det_of_a_stretch_is_their_product():
    c, s = torch.cos(torch.tensor(0.7)), torch.sin(torch.tensor(0.7))
    R = torch.stack([torch.stack([c, -s, torch.tensor(0.0)]), torch.stack([s, c, torch.tensor(0.0)]),
                     torch.tensor([0.0, 0.0, 1.0])])
    torch.testing.assert_close(principal_stretches(R), torch.ones(3), rtol=0, atol=1e-12)
    U = torch.diag(torch.tensor([0.5, 1.2, 2.0]))
    torch.testing.assert_close(determinant(R @ U), torch.tensor(1.2), rtol=1e-14, atol=1e-14)
    torch.testing.assert_close(principal_stretches(R @ U), torch.tensor([0.5, 1.2, 2.0]), rtol=1e-12, atol=1e-12)


def test_determinant_has_the_autograd_gradient_of_the_cofactor():
    F = (torch.eye(3) + 0.3 * torch.randn(3, 3)).requires_grad_(True)
    (g,) = torch.autograd.grad(determinant(F), F)
    torch.testing.assert_close(g, cofactor(F.detach()), rtol=1e-12, atol=1e-12)  # ∂det F/∂F = cof F


@pytest.mark.parametrize("f", [determinant, cofactor, volume_ratio, principal_stretches])
def test_shapes_other_than_small_square_matrices_are_refused(f):
    with pytest.raises(FemError, match=r"expected a tensor of shape \(\.\.\., d, d\) with d in \(1, 2, 3\), "
                                       r"received \(5, 4, 4\)"):
        f(torch.zeros(5, 4, 4))
    with pytest.raises(FemError, match=r"received \(2, 3\)"):
        f(torch.zeros(2, 3))
