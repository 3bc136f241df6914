"""Classical finite-strain laws: P = ∂ψ/∂F, stress-free reference, linear-elastic limit with the user's K
and G, objectivity, isotropy, and the incompressible nominal-stress formulas of the three rubber tests."""
import math

import pytest
import torch
from _hyperelastic_helpers import LAW_FACTORIES, make_law, rotations

from fem.core.errors import FemError
from fem.materials.hyperelastic import (ArrudaBoyce, Gent, MooneyRivlin, NeoHookean, NoCertifiedDomain, Ogden,
                              StretchDomain, Yeoh)

LAWS = list(LAW_FACTORIES)
DIMS = [2, 3]


def _random_F(n, d, scale=0.25, seed=0):
    g = torch.Generator().manual_seed(seed)
    F = torch.eye(d, dtype=torch.float64) + scale * torch.randn(n, d, d, dtype=torch.float64, generator=g)
    return F[torch.linalg.det(F) > 0.3]


@pytest.mark.parametrize("d", DIMS)
@pytest.mark.parametrize("name", LAWS)
def test_stress_free_and_zero_energy_at_the_identity(name, d):
    law = make_law(name)
    I = torch.eye(d, dtype=torch.float64).expand(4, d, d)
    P = law.stress(I)
    assert P.shape == (4, d, d)
    assert float(P.abs().max()) <= 1e-9 * law.shear_modulus
    assert float(law.energy(I).abs().max()) <= 1e-9 * law.shear_modulus


@pytest.mark.parametrize("d", DIMS)
@pytest.mark.parametrize("name", LAWS)
def test_stress_is_the_gradient_of_the_energy_and_the_tangent_is_symmetric(name, d):
    law = make_law(name)
    F = _random_F(64, d).requires_grad_(True)
    (g,) = torch.autograd.grad(law.energy(F).sum(), F)
    P = law.stress(F.detach())
    assert torch.allclose(P, g, rtol=1e-10, atol=1e-10 * law.shear_modulus)
    A = law.tangent(F.detach())
    assert A.shape == (F.shape[0], d * d, d * d)
    assert torch.allclose(A, A.transpose(-1, -2), rtol=1e-10, atol=1e-10 * float(A.abs().max()))
    # the tangent is the derivative of the stress: central differences along a random direction
    dF = torch.randn_like(F) * 1e-6
    fd = (law.stress(F.detach() + dF) - law.stress(F.detach() - dF)) / 2
    lin = (A @ dF.reshape(-1, d * d, 1)).reshape(-1, d, d)
    assert torch.allclose(fd, lin, rtol=1e-5, atol=1e-6 * float(fd.abs().max()))


@pytest.mark.parametrize("d", DIMS)
@pytest.mark.parametrize("name", LAWS)
@pytest.mark.parametrize("nu", [0.3, 0.49])
def test_small_strain_limit_is_linear_elasticity_with_the_same_K_and_G(name, d, nu):
    law = make_law(name, nu=nu)
    G = law.shear_modulus
    K = 2 * G * (1 + nu) / (3 * (1 - 2 * nu))
    assert law.bulk_modulus == pytest.approx(K, rel=1e-12)
    assert law.poisson_ratio == pytest.approx(nu, rel=1e-12)
    lam = K - 2 * G / 3
    e = torch.eye(d, dtype=torch.float64)
    C = (lam * torch.einsum("ij,kl->ijkl", e, e) + G * (torch.einsum("ik,jl->ijkl", e, e)
                                                        + torch.einsum("il,jk->ijkl", e, e)))
    A = law.tangent(torch.eye(d, dtype=torch.float64)[None])[0]
    assert torch.allclose(A, C.reshape(d * d, d * d), rtol=1e-9, atol=1e-9 * K)
    # and a small displacement gradient gives σ = C ε to first order
    H = 1e-7 * torch.randn(d, d, dtype=torch.float64)
    P = law.stress(e + H)
    eps = 0.5 * (H + H.T)
    sig = lam * torch.trace(eps) * e + 2 * G * eps
    assert torch.allclose(P, sig, rtol=1e-5, atol=1e-5 * float(sig.abs().max()))


@pytest.mark.parametrize("d", DIMS)
@pytest.mark.parametrize("name", LAWS)
def test_objectivity_and_isotropy(name, d):
    law = make_law(name)
    F = _random_F(50, d, seed=3)
    g = torch.Generator().manual_seed(4)
    R, Q = rotations(F.shape[0], d, g), rotations(F.shape[0], d, g)
    P, psi = law.stress(F), law.energy(F)
    scale = float(P.abs().max())
    # a rigid rotation of a pre-stretched state: P = R P0, no change in the energy
    assert torch.allclose(law.stress(R @ F), R @ P, rtol=1e-10, atol=1e-10 * scale)
    assert torch.allclose(law.energy(R @ F), psi, rtol=1e-10, atol=1e-10 * float(psi.abs().max()))
    # isotropy: rotating the reference
    assert torch.allclose(law.stress(F @ Q), P @ Q, rtol=1e-10, atol=1e-10 * scale)
    assert torch.allclose(law.energy(F @ Q), psi, rtol=1e-10, atol=1e-10 * float(psi.abs().max()))


# --------------------------------------------------------------------------------------------
# incompressible limit: uniaxial, equibiaxial (3D) and pure shear (plane strain) at large K
def _incompressible_nominal(law, mode, lam):
    """Known nominal stress P₁(λ) of the incompressible law with the same W_d (or Ogden w)."""
    if isinstance(law, Ogden):
        ex = {"uniaxial": lambda a: -a / 2, "equibiaxial": lambda a: -2 * a, "pure_shear": lambda a: -a}[mode]
        return sum(m * (lam ** (a - 1) - lam ** (ex(a) - 1)) for m, a in zip(law.mu, law.alpha))
    if mode == "uniaxial":
        I1, I2 = lam**2 + 2 / lam, 2 * lam + lam**-2
    elif mode == "equibiaxial":
        I1, I2 = 2 * lam**2 + lam**-4, lam**4 + 2 * lam**-2
    else:
        I1 = I2 = lam**2 + 1 + lam**-2
    w1, w2 = (torch.as_tensor(w, dtype=torch.float64) for w in law._dev_derivs(I1, I2)[:2])
    if mode == "uniaxial":
        return 2 * (lam - lam**-2) * (w1 + w2 / lam)
    if mode == "equibiaxial":
        return 2 * (lam - lam**-5) * (w1 + lam**2 * w2)
    return 2 * (lam - lam**-3) * (w1 + w2)


def _traction_free(law, lam, mode):
    """F with the given stretch(es) λ and the free lateral stretch s solving P_free(s) = 0 (bisection)."""
    lo = torch.full_like(lam, 0.05)
    hi = torch.full_like(lam, 3.0)

    def build(s):
        if mode == "uniaxial":
            return torch.diag_embed(torch.stack([lam, s, s], -1))
        if mode == "equibiaxial":
            return torch.diag_embed(torch.stack([lam, lam, s], -1))
        return torch.diag_embed(torch.stack([lam, s], -1))      # plane strain: λ₃ = 1 constrained

    free = {"uniaxial": 1, "equibiaxial": 2, "pure_shear": 1}[mode]
    for _ in range(80):
        s = 0.5 * (lo + hi)
        p = law.stress(build(s))[:, free, free]
        hi = torch.where(p > 0, s, hi)
        lo = torch.where(p > 0, lo, s)
    return build(0.5 * (lo + hi))


@pytest.mark.parametrize("mode", ["uniaxial", "equibiaxial", "pure_shear"])
@pytest.mark.parametrize("name", LAWS)
def test_nearly_incompressible_rubber_tests_match_the_incompressible_formulas(name, mode):
    G = make_law(name).shear_modulus
    law = make_law(name, K=2e4 * G, domain=False)
    lam = torch.linspace(0.7 if mode != "equibiaxial" else 0.8, 2.2, 12, dtype=torch.float64)
    F = _traction_free(law, lam, mode)
    J = torch.linalg.det(F)
    assert float((J - 1).abs().max()) < 1e-3
    P = law.stress(F)[:, 0, 0]
    expected = _incompressible_nominal(law, mode, lam)
    assert torch.allclose(P, expected, rtol=2e-3, atol=2e-3 * G)


# --------------------------------------------------------------------------------------------
# parameters, domains, errors
def test_the_bulk_modulus_is_chosen_by_exactly_one_of_K_or_nu():
    with pytest.raises(FemError, match="exactly one of K"):
        NeoHookean(1e6)
    with pytest.raises(FemError, match="exactly one of K"):
        NeoHookean(1e6, K=1e7, nu=0.3)
    with pytest.raises(FemError, match="nu < 0.5"):
        NeoHookean(1e6, nu=0.5)
    with pytest.raises(FemError, match="below what this law needs"):
        Yeoh(1e6, 2e6, K=1e6)       # K < 2G/3 + 8·C2
    assert NeoHookean(1e6, K=5e6).bulk_modulus == 5e6


def test_parameter_validation_names_what_was_received():
    with pytest.raises(FemError, match="mu > 0"):
        NeoHookean(-1.0, nu=0.3)
    with pytest.raises(FemError, match="mu_p \\* alpha_p > 0"):
        Ogden([1e6, 1e5], [2.0, -1.0], nu=0.3)
    with pytest.raises(FemError, match="N > 1"):
        ArrudaBoyce(1e6, 1.0, nu=0.3)
    with pytest.raises(FemError, match="C10, C01 >= 0"):
        MooneyRivlin(-1.0, 1e5, nu=0.3)


@pytest.mark.parametrize("cls, lock", [(Gent, lambda law: 3 + law.Jm), (ArrudaBoyce, lambda law: 3 * law.N)])
def test_locking_laws_keep_their_domain_below_locking(cls, lock):
    law = cls(1e6, 5.0 if cls is Gent else 2.0, nu=0.4)
    assert law.domain.sup_I1() <= 3 + 0.9 * (lock(law) - 3) + 1e-12
    assert law.domain.lam_hi < 3.0                       # the default had to shrink
    with pytest.raises(FemError, match="locking"):
        cls(1e6, 5.0 if cls is Gent else 2.0, nu=0.4, domain=StretchDomain(0.4, 3.0, 0.8, 1.25))


def test_a_law_without_domain_has_no_stiffness_bound_and_accepts_every_state():
    law = NeoHookean(1e6, nu=0.3, domain=False)
    assert law.domain is None
    with pytest.raises(NoCertifiedDomain, match="no certified domain"):
        law.stiffness_bound()
    assert bool(law.in_domain(torch.diag(torch.tensor([10.0, 0.1, 1.0], dtype=torch.float64))[None]).all())


def test_protocol_attributes_and_shapes():
    law = make_law("ogden3")
    assert law.finite_strain is True and law.kinematics == ("plane_strain", "3d")
    F = _random_F(40, 3)[:12].reshape(3, 4, 3, 3)   # (n_cells, n_qp, d, d)
    assert law.stress(F).shape == (3, 4, 3, 3) and law.energy(F).shape == (3, 4)
    assert law.in_domain(F).shape == (3, 4)
    with pytest.raises(FemError, match=r"\(\.\.\., d, d\)"):
        law.stress(torch.eye(4, dtype=torch.float64))


@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning")   # torch's forward AD
def test_ogden_derivative_is_exact_at_repeated_stretches():
    """Autograd of eigh is singular at F = I; the Daleckii–Krein derivative is not."""
    law = make_law("ogden3", nu=0.3)
    nh = Ogden([0.4e6], [2.0], nu=0.3)                  # Ogden with α = 2 is a Neo-Hookean-like law
    for F in (torch.eye(3, dtype=torch.float64), torch.diag(torch.tensor([1.3, 1.3, 0.9], dtype=torch.float64))):
        A = law.tangent(F[None])[0]
        assert bool(torch.isfinite(A).all())
        ev = torch.linalg.eigvalsh(A)
        lam = torch.linalg.svdvals(F)
        assert torch.allclose(ev, law.tangent_eigenvalues(lam[None])[0].sort().values, rtol=1e-9,
                              atol=1e-9 * float(ev.abs().max()))
    # forward mode (what fem's tangent operator uses) gives the same derivative at F = I
    I = torch.eye(3, dtype=torch.float64).expand(4, 3, 3).clone()
    dF = torch.randn(4, 3, 3, dtype=torch.float64)
    with torch.autograd.forward_ad.dual_level():
        P = law.stress(torch.autograd.forward_ad.make_dual(I, dF))
        dP = torch.autograd.forward_ad.unpack_dual(P).tangent
    A = law.tangent(I)
    assert torch.allclose(dP.reshape(4, 9), (A @ dF.reshape(4, 9, 1))[..., 0], rtol=1e-12,
                          atol=1e-12 * float(A.abs().max()))
    # α = 2: Σ μ/2(λᵢ² − 1) = μ/2 (I1 − 3), the Neo-Hookean W_d with μ = 0.4 MPa
    F = _random_F(20, 3, seed=7)
    assert torch.allclose(nh.stress(F), NeoHookean(0.4e6, nu=0.3).stress(F), rtol=1e-10, atol=1e-4)
    assert math.isclose(nh.shear_modulus, 0.4e6)
