"""The neural hyperelastic law: frame indifference, isotropy, P = ∂ψ/∂F, stress-free reference, the
small-strain limit, interval enclosures, the certificate on random states, and the model file."""
from __future__ import annotations

import math

import pytest
import torch

from fem.materials.hyperelastic import StretchDomain
from lipmat.certify import empirical_stiffness, sample_stretches
from lipmat.io import ModelFileError, load_file, save
from lipmat.models import MODELS, NeuralHyperelastic
from lipmat.models.hyperelastic import slope_interval, value_interval
from fem.core.interval import Interval

DOMAIN = StretchDomain(0.4, 3.0, 0.9, 1.1)


def make_law(seed: int = 3, **kw) -> NeuralHyperelastic:
    """A law with every part active: random parameters around the default initialisation."""
    law = NeuralHyperelastic(4e5, (2e4, 2e3, 3e4), (20.0, 60.0, 20.0), (4, 2), domain=DOMAIN, **kw)
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in law.parameters():
            p.add_(0.5 * torch.randn(p.shape, generator=gen, dtype=torch.float64))
        for r in (law.r1, law.r2, law.r3):
            r.logits[-1] = 0.0                 # let the sigmoid terms carry weight
    return law


def rotations(n: int, d: int, gen: torch.Generator) -> torch.Tensor:
    """(n, d, d) random proper rotations."""
    q, r = torch.linalg.qr(torch.randn(n, d, d, generator=gen, dtype=torch.float64))
    q = q * torch.sign(torch.diagonal(r, dim1=-2, dim2=-1)).unsqueeze(-2)
    flip = torch.linalg.det(q) < 0
    q[flip, :, 0] = -q[flip, :, 0]
    return q


def random_F(n: int, d: int, gen: torch.Generator, scale: float = 0.3) -> torch.Tensor:
    F = torch.eye(d, dtype=torch.float64) + scale * torch.randn(n, d, d, generator=gen, dtype=torch.float64)
    return F[torch.linalg.det(F) > 0.2]


@pytest.mark.parametrize("d", [2, 3])
def test_rotating_a_deformed_state_rotates_P_and_keeps_the_energy(d):
    law, gen = make_law(), torch.Generator().manual_seed(0)
    F = random_F(50, d, gen)
    R = rotations(len(F), d, gen) if d == 3 else rotations(len(F), 2, gen)
    P, psi = law.stress(F).detach(), law.energy(F).detach()
    assert torch.allclose(law.stress(R @ F).detach(), R @ P, rtol=1e-10, atol=1e-10 * float(P.abs().max()))
    assert torch.allclose(law.energy(R @ F).detach(), psi, rtol=1e-10, atol=1e-10 * float(psi.abs().max()))


@pytest.mark.parametrize("d", [2, 3])
def test_rotating_the_reference_configuration_changes_nothing_isotropy(d):
    law, gen = make_law(), torch.Generator().manual_seed(1)
    F = random_F(50, d, gen)
    Q = rotations(len(F), d, gen)
    P = law.stress(F).detach()
    assert torch.allclose(law.stress(F @ Q).detach(), P @ Q, rtol=1e-10, atol=1e-10 * float(P.abs().max()))
    assert torch.allclose(law.energy(F @ Q).detach(), law.energy(F).detach(), rtol=1e-10, atol=1e-6)


@pytest.mark.parametrize("d", [2, 3])
def test_stress_free_and_energy_free_at_the_identity(d):
    law = make_law()
    I = torch.eye(d, dtype=torch.float64)
    assert float(law.stress(I).detach().abs().max()) <= 1e-9 * law.shear_modulus
    assert abs(float(law.energy(I).detach())) <= 1e-9 * law.shear_modulus


@pytest.mark.parametrize("d", [2, 3])
def test_P_is_the_derivative_of_the_energy(d):
    law, gen = make_law(), torch.Generator().manual_seed(2)
    F = random_F(40, d, gen, scale=0.5).requires_grad_(True)
    (g,) = torch.autograd.grad(law.energy(F).sum(), F)
    P = law.stress(F.detach()).detach()
    assert float((g - P).abs().max()) <= 1e-9 * float(P.abs().max())


def test_small_strain_limit_is_linear_elasticity_with_the_chosen_K_and_G():
    for kw in ({"bulk_ratio": 20.0}, {"K": 3e7}, {"nu": 0.45}):
        law = make_law(**kw)
        K, G = law.bulk_modulus, law.shear_modulus
        if "nu" in kw:
            assert law.poisson_ratio == pytest.approx(0.45, rel=1e-12)
        A = law.tangent(torch.eye(3, dtype=torch.float64)).detach()
        d = torch.eye(3, dtype=torch.float64)
        C = (K - 2 * G / 3) * torch.einsum("ij,kl->ijkl", d, d) + G * (torch.einsum("ik,jl->ijkl", d, d)
                                                                        + torch.einsum("il,jk->ijkl", d, d))
        assert torch.allclose(A, C.reshape(9, 9), rtol=0, atol=1e-8 * K), kw
    assert make_law().bulk_modulus == pytest.approx(50.0 * make_law().shear_modulus, rel=1e-12)


def test_bulk_modulus_options_are_checked():
    with pytest.raises(ValueError, match="at most one"):
        NeuralHyperelastic(1e5, K=1e6, nu=0.3)
    with pytest.raises(ValueError, match="bulk_ratio"):
        NeuralHyperelastic(1e5, bulk_ratio=0.1)


def test_response_enclosures_contain_every_point_of_their_interval():
    law, gen = make_law(), torch.Generator().manual_seed(4)
    for r in (law.r1, law.r2, law.r3):
        lo = 40 * torch.rand(200, generator=gen, dtype=torch.float64) - 5
        hi = lo + 10 * torch.rand(200, generator=gen, dtype=torch.float64) ** 3
        box = Interval(lo, hi)
        x = lo.unsqueeze(-1) + (hi - lo).unsqueeze(-1) * torch.rand(200, 50, generator=gen, dtype=torch.float64)
        with torch.no_grad():
            v, s = value_interval(r, box), slope_interval(r, box)
            val, slope = r(x), r.tangent(x)
        assert bool((val >= v.lo.unsqueeze(-1)).all() and (val <= v.hi.unsqueeze(-1)).all())
        assert bool((slope >= s.lo.unsqueeze(-1)).all() and (slope <= s.hi.unsqueeze(-1)).all())


@pytest.mark.parametrize("d", [2, 3])
def test_stress_is_fems_invariant_formula_fed_by_the_first_derivatives(d):
    """One formula for P: the law supplies (W1, W2, V') through the hook; the stress is the formula's."""
    from fem.materials.hyperelastic.invariant import InvariantLaw
    from fem.materials.hyperelastic.kinematics import invariants

    law, gen = make_law(), torch.Generator().manual_seed(9)
    assert NeuralHyperelastic.stress is InvariantLaw.stress
    F = random_F(100, d, gen)
    I1, I2, J, C, cof = invariants(F)
    with torch.no_grad():
        full = law.derivatives(I1, I2, J)
        first = law.first_derivatives(I1, I2, J)
        w1, w2, wj = (v[..., None, None] for v in full[:3])
        expected = 2.0 * w1 * F + 2.0 * w2 * (I1[..., None, None] * F - F @ C) + wj * cof
        assert all(torch.equal(a, b) for a, b in zip(first, full[:3]))
        # the tensor formula fed by the hook, exactly; the fused closed form equals it to rounding
        assert torch.equal(law.stress_by_tensors(F), expected)
        torch.testing.assert_close(law.stress(F), expected, rtol=1e-12, atol=1e-12 * float(expected.abs().max()))


def test_closed_form_eigenvalues_match_a_dense_eigen_solve():
    law, gen = make_law(), torch.Generator().manual_seed(5)
    lam = sample_stretches(DOMAIN, 60, "3d", generator=gen)
    closed = law.tangent_eigenvalues(lam).detach().sort(-1).values
    A = law.tangent(torch.diag_embed(lam)).detach()
    dense = torch.linalg.eigvalsh(0.5 * (A + A.transpose(-1, -2)))
    assert torch.allclose(closed, dense, rtol=0, atol=1e-9 * float(dense.abs().max()))


@pytest.mark.parametrize("kin,k", [("3d", 3), ("plane_strain", 2)])
def test_1e5_random_states_never_exceed_the_certificate_which_is_within_5_percent(kin, k):
    law, gen = make_law(), torch.Generator().manual_seed(6)
    bound = law.stiffness_bound(kin)
    lam = sample_stretches(DOMAIN, 200_000, kin, generator=gen, boundary=0.5)[:100_000]
    assert len(lam) == 100_000 and bool(DOMAIN.contains_stretches(lam).all())
    with torch.no_grad():
        top = law.tangent_eigenvalues(lam).amax(-1)
    assert float(top.max()) <= bound
    # full deformation gradients with random rotations on both sides, dense eigen-solve of autograd A
    idx = top.topk(100).indices
    lam_top = torch.cat([lam[idx], lam[:100]])
    R, Q = rotations(len(lam_top), k, gen), rotations(len(lam_top), k, gen)
    F = R @ torch.diag_embed(lam_top) @ Q
    A = law.tangent(F).detach()
    assert float(torch.linalg.eigvalsh(0.5 * (A + A.transpose(-1, -2))).max()) <= bound
    emp, _ = empirical_stiffness(law, DOMAIN, kin, samples=5000)
    assert emp <= bound <= 1.05 * emp


def test_a_state_outside_the_domain_is_reported():
    law = make_law()
    F = torch.diag(torch.tensor([3.5, 1 / 3.5, 1.0], dtype=torch.float64))
    assert not bool(law.in_domain(F))
    assert bool(law.in_domain(torch.eye(3, dtype=torch.float64)))


def test_certificate_follows_the_parameters():
    law = make_law()
    first = law.stiffness_bound("plane_strain")
    with torch.no_grad():
        law.theta1.add_(0.5)
    assert law.stiffness_bound("plane_strain") > first


def test_protocol_attributes():
    law = make_law()
    assert law.finite_strain is True and law.kinematics == ("plane_strain", "3d")
    assert MODELS["hyperelastic"] is NeuralHyperelastic


def test_model_file_round_trip_keeps_weights_config_and_certificate(tmp_path):
    law = make_law(bulk_ratio=30.0)
    path = save(law, tmp_path / "rubber.pt", report={"note": "test"})
    loaded = load_file(path)
    assert loaded.name == "hyperelastic" and loaded.certificate["kind"] == "scalar"
    assert loaded.certificate["value"] == pytest.approx(law.stiffness_bound(), rel=1e-12)
    m = loaded.model
    assert m.domain == law.domain and m.bulk_modulus == pytest.approx(law.bulk_modulus, rel=1e-12)
    F = random_F(20, 3, torch.Generator().manual_seed(7))
    # same weights, same P; the closed form accumulates in place when no gradient is needed, so the two
    # evaluations (parameters with and without requires_grad) agree to rounding, not bit for bit
    torch.testing.assert_close(m.stress(F).detach(), law.stress(F).detach(), rtol=1e-13, atol=0.0)
    # weights edited after certification are refused
    payload = torch.load(path, weights_only=True)
    payload["state_dict"]["theta1"] = payload["state_dict"]["theta1"] + 0.1
    torch.save(payload, tmp_path / "edited.pt")
    with pytest.raises(ModelFileError, match="certificate"):
        load_file(tmp_path / "edited.pt")


def test_energy_grows_along_a_uniaxial_path():
    law = make_law()
    lam = torch.linspace(1.0, 2.5, 20, dtype=torch.float64)
    F = torch.diag_embed(torch.stack([lam, lam ** -0.5, lam ** -0.5], -1))
    psi = law.energy(F).detach()
    assert psi[0] == pytest.approx(0.0, abs=1e-6) and bool((psi.diff() > 0).all()) and math.isfinite(float(psi[-1]))


def _li2_series_primitive(u):
    """The oracle: P(u) by Landen's identity and the power series Li₂(y) = Σ yⁿ/n², y = σ(−|u|) ≤ 1/2
    (55 terms: tail below 2⁻⁵⁵), independent of the Bernoulli polynomial the package uses."""
    v = -u.abs()
    y = torch.sigmoid(v)
    n = torch.arange(1, 56, dtype=torch.float64)
    p_neg = (y.unsqueeze(-1) ** n / n**2).sum(-1) + 0.5 * torch.logaddexp(v, torch.zeros_like(v)) ** 2
    return torch.where(u > 0, 0.5 * u**2 + math.pi**2 / 6 - p_neg, p_neg)


def test_softplus_primitive_equals_the_li2_series_and_integrates_softplus():
    from lipmat.models.response import softplus, softplus_primitive as fast

    u = torch.cat([torch.linspace(-60, 60, 20001, dtype=torch.float64),
                   torch.tensor([-700.0, 0.0, 700.0, 1e5], dtype=torch.float64)])
    ref = _li2_series_primitive(u)
    assert float(((fast(u) - ref).abs() / ref.abs()).max()) <= 1e-14
    x = u[:20001].clone().requires_grad_(True)
    (g,) = torch.autograd.grad(fast(x).sum(), x)          # P' = softplus
    assert torch.allclose(g, softplus(x.detach()), rtol=1e-13, atol=1e-300)
