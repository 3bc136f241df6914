"""The closed-form, few-pass P(F) of the invariant laws equals the tensor formula it replaces.

:meth:`InvariantLaw.stress` runs entry by entry (:mod:`fem.materials.hyperelastic.closed_form`), in
place when no gradient is needed; :meth:`InvariantLaw.stress_by_tensors` is the tensor formula
``2W₁F + 2W₂(I1 F − F C) + W_J cof F``. They must agree to rounding on random states of the
certified domain (plane strain and 3D, with autograd on and off), the energy must be unchanged,
and the stress must stay the gradient of the energy (central differences).
"""
from __future__ import annotations

import pytest
import torch

from fem.materials.hyperelastic.closed_form import flat_invariants
from fem.materials.hyperelastic.kinematics import invariants
from tests._hyperelastic_helpers import gradients_from, make_law, stretches_in

INVARIANT_LAWS = ["neohookean", "mooney_rivlin", "yeoh", "gent", "arruda_boyce"]


def _states(law, d: int, n: int = 400, seed: int = 7) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    return gradients_from(stretches_in(law.domain, n, d, gen), gen).reshape(n // 4, 4, d, d)


def _rel(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).detach().abs().max() / b.detach().abs().max())


@pytest.mark.parametrize("name", INVARIANT_LAWS)
@pytest.mark.parametrize("d", [2, 3])
@pytest.mark.parametrize("grad", [False, True])
def test_closed_form_stress_equals_the_tensor_formula(name, d, grad):
    law = make_law(name)
    F = _states(law, d)
    with torch.set_grad_enabled(grad):
        x = F.clone().requires_grad_(grad)
        fast, ref = law.stress(x), law.stress_by_tensors(x)
    assert fast.shape == ref.shape == F.shape
    assert _rel(fast, ref) < 1e-12
    if grad:       # the closed form is differentiable: the gradient of a scalar of P agrees too
        w = torch.randn(F.shape, dtype=F.dtype, generator=torch.Generator().manual_seed(1))
        (g_fast,) = torch.autograd.grad((fast * w).sum(), x)
        x2 = F.clone().requires_grad_(True)
        (g_ref,) = torch.autograd.grad((law.stress_by_tensors(x2) * w).sum(), x2)
        assert _rel(g_fast, g_ref) < 1e-11


@pytest.mark.parametrize("d", [2, 3])
def test_the_invariants_entry_by_entry_equal_those_of_the_tensor_formulas(d):
    F = _states(make_law("neohookean"), d)
    _, _, I1, I2, J, cof = flat_invariants(F)
    I1_ref, I2_ref, J_ref, _, cof_ref = invariants(F)
    for a, b in ((I1, I1_ref), (I2, I2_ref), (J, J_ref)):
        assert _rel(a.reshape(b.shape), b) < 1e-13
    if d == 3:
        assert _rel(torch.stack(cof, -1).reshape(cof_ref.shape), cof_ref) < 1e-13


@pytest.mark.parametrize("name", INVARIANT_LAWS)
@pytest.mark.parametrize("d", [2, 3])
def test_energy_unchanged_and_stress_is_its_gradient(name, d):
    law = make_law(name)
    F = _states(law, d, n=40)
    I1, I2, J, _, _ = invariants(F)
    assert _rel(law.energy(F), law.energy_invariants(I1, I2, J)) < 1e-12
    P = law.stress(F)
    h = 1e-6
    fd = torch.zeros_like(P)
    for i in range(d):
        for j in range(d):
            dF = torch.zeros_like(F)
            dF[..., i, j] = h
            fd[..., i, j] = (law.energy(F + dF) - law.energy(F - dF)) / (2 * h)
    assert _rel(fd, P) < 1e-7


def test_a_single_state_and_a_state_without_batch_keep_their_shapes():
    law = make_law("mooney_rivlin")
    for d in (2, 3):
        F = _states(law, d)[0, 0]
        assert law.stress(F).shape == (d, d)
        assert _rel(law.stress(F), law.stress_by_tensors(F)) < 1e-12
        assert law.energy(F).shape == ()


def test_a_non_contiguous_batch_gives_the_same_stress():
    law = make_law("yeoh")
    F = _states(law, 3)
    Ft = F.transpose(0, 1)                       # (4, n, 3, 3) strided
    assert not Ft.is_contiguous()
    assert _rel(law.stress(Ft), law.stress(F).transpose(0, 1)) < 1e-15
