"""The finite-strain viscoelastic law: analytic oracles, the variational update, and its certificate.

Oracles: a branch at small strain is a linear Maxwell element (relaxation (1 + Δt/τ)⁻ⁿ under backward
Euler, → e^(−t/τ) at order 1; one-step tangent μτ/(τ + Δt)); the update is the minimiser of the
incremental potential (stationarity, convexity); the algorithmic tangent (autograd through the update)
is symmetric and below the certified bound at random (F, G, Δt) triples drawn from the domain and the
proven invariant set of G.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from fem.materials.hyperelastic.domain import StretchDomain
from fem.materials.hyperelastic.kinematics import tangent_by_autograd
from lipmat.models.hyperelastic import NeuralHyperelastic
from lipmat.models.viscoelastic import NeuralViscoelastic, branch_root, branch_update

DOMAIN = StretchDomain(0.4, 5.5, 0.9, 1.1)


def make_law(domain=DOMAIN, seed=0):
    """A law with non-trivial learned parts (random sigmoid weights), three branches."""
    gen = torch.Generator().manual_seed(seed)
    eq = NeuralHyperelastic(1e4, (2e3, 5e2, 5e2), (30.0, 10.0, 10.0), K=4e5, domain=domain)
    with torch.no_grad():
        for r in (eq.r1, eq.r2, eq.r3):
            for p in r.parameters():
                p.add_(0.3 * torch.randn(p.shape, generator=gen, dtype=torch.float64))
    law = NeuralViscoelastic(eq, [3e4, 1e4, 5e3], [0.3, 10.0, 500.0])
    with torch.no_grad():
        law.raw_exponent.copy_(torch.tensor([0.5, -0.3, 1.2], dtype=torch.float64))
    for p in law.parameters():
        p.requires_grad_(False)
    return law


def rotations(n, gen):
    q, r = torch.linalg.qr(torch.randn(n, 3, 3, generator=gen, dtype=torch.float64))
    return q * torch.sign(torch.diagonal(r, dim1=-2, dim2=-1)).unsqueeze(-2)


def random_stretches(n, gen, domain=DOMAIN):
    """Principal stretches (m, 3), m <= n, uniform in log λ₁, log λ₂ and in J over the domain."""
    lo, hi = math.log(domain.lam_lo), math.log(domain.lam_hi)
    l1 = torch.empty(4 * n, dtype=torch.float64).uniform_(lo, hi, generator=gen).exp()
    l2 = torch.empty(4 * n, dtype=torch.float64).uniform_(lo, hi, generator=gen).exp()
    J = torch.empty(4 * n, dtype=torch.float64).uniform_(domain.J_lo, domain.J_hi, generator=gen)
    l3 = J / (l1 * l2)
    ok = (l3 >= domain.lam_lo) & (l3 <= domain.lam_hi)
    return torch.stack([l1, l2, l3], -1)[ok][:n]


def random_triples(law, n, gen, domain=DOMAIN):
    """F in the domain, G in the invariant set spec ⊂ [1/λ_hi², 1/λ_lo²], Δt log-uniform in [1e-8, 1e4] s
    (and Fₙ, the start of the step, for the state-dependent relaxation times: law.last_F)."""
    lo, hi = math.log(domain.lam_lo), math.log(domain.lam_hi)
    s = random_stretches(n, gen, domain)
    m = len(s)
    F = rotations(m, gen) @ torch.diag_embed(s) @ rotations(m, gen)
    s_n = random_stretches(4 * m, gen, domain)[:m]
    law.last_F = rotations(m, gen) @ torch.diag_embed(s_n) @ rotations(m, gen)
    N = law.n_branches
    ge = torch.empty(m, N, 3, dtype=torch.float64).uniform_(-2 * hi, -2 * lo, generator=gen).exp()
    Q = rotations(m * N, gen).reshape(m, N, 3, 3)
    G = Q @ torch.diag_embed(ge) @ Q.transpose(-1, -2)
    dt = 10 ** torch.empty(m, dtype=torch.float64).uniform_(-8, 4, generator=gen)
    return F, G, dt


def algorithmic_tangent(law, F, G, dt, F_n=None):
    """∂P_{n+1}/∂F_{n+1} by autograd through the update (Gₙ, Δt, Fₙ fixed): (..., 9, 9)."""
    return tangent_by_autograd(lambda x: law.update(x, G, dt, F_n)[0], F)


def test_branch_root_solves_its_equation_without_cancellation():
    x = torch.tensor([-1e6, -3.0, -1e-3, 0.0, 1e-3, 2.0, 1e6], dtype=torch.float64)
    for r in (0.0, 1e-12, 0.5, 1e8):
        rr = torch.full_like(x, r)
        g = branch_root(x, rr)
        if r == 0.0:
            assert torch.equal(g[x > 0], x[x > 0])
            continue
        assert bool((g > 0).all())
        assert torch.allclose(g - rr / g, x, rtol=1e-12, atol=1e-12 * (1 + r))


def test_small_strain_branch_is_a_linear_maxwell_element():
    """Simple shear γ held from t = 0: branch stress μγ(1 + Δt/τ)⁻ⁿ exactly (linear theory), which
    converges to μγ e^(−t/τ) at first order in Δt."""
    law = make_law()
    gamma, t_end = 1e-7, 2.0
    F = torch.eye(3, dtype=torch.float64)
    F[0, 1] = gamma
    P_eq = law.equilibrium.stress(F)[0, 1]
    errors = []
    for steps in (100, 200, 400):
        dt = t_end / steps
        G = law.initial_state((), 3)
        for _ in range(steps):
            P, G = law.update(F, G, dt)
        branch = float(P[0, 1] - P_eq)
        mu, tau = law.mu(), law.tau()
        discrete = float((mu * gamma * (1 + dt / tau) ** -steps).sum())
        exact = float((mu * gamma * torch.exp(-t_end / tau)).sum())
        assert branch == pytest.approx(discrete, rel=1e-6)
        errors.append(abs(branch - exact))
    slopes = np.diff(np.log(errors)) / np.diff(np.log([100, 200, 400]))
    assert np.allclose(slopes, -1.0, atol=0.05)


def test_one_step_shear_tangent_is_mu_tau_over_tau_plus_dt():
    law = make_law()
    F = torch.eye(3, dtype=torch.float64)
    for dt in (1e-6, 0.3, 30.0, 1e5):
        A = algorithmic_tangent(law, F, law.initial_state((), 3), dt)
        A_eq = law.equilibrium.tangent(F)
        mu, tau = law.mu(), law.tau()
        expected = float((mu * tau / (tau + dt)).sum())
        assert float(A[1, 1] - A_eq[1, 1]) == pytest.approx(expected, rel=1e-9)


def test_update_minimises_the_incremental_potential():
    law = make_law()
    gen = torch.Generator().manual_seed(3)
    F, G_n, dt = random_triples(law, 50, gen)
    C = (F.transpose(-1, -2) @ F).unsqueeze(-3)
    r = (dt[:, None] / law.tau())[..., None, None]
    G = branch_update(G_n, C, dt[:, None] / law.tau())
    # stationarity: G − G_n + r (C − G⁻¹) = 0, scaled by the size of the terms
    res = G - G_n + r * (C - torch.linalg.inv(G))
    scale = G.abs().amax((-1, -2), keepdim=True) + r * C.abs().amax((-1, -2), keepdim=True)
    assert float((res.abs() / scale).max()) < 1e-10
    assert bool((torch.linalg.eigvalsh(G) > 0).all())

    def phi(X):       # Φ(G)/μ up to constants: ½(C:G − ln det G) + |G − Gₙ|²/(4r)
        return 0.5 * ((C * X).sum((-1, -2)) - torch.logdet(X)) + ((X - G_n) ** 2).sum((-1, -2)) / (4 * r[..., 0, 0])

    for _ in range(5):
        E = torch.randn(G.shape, generator=gen, dtype=torch.float64) * 1e-3 * G.abs().amax((-1, -2), keepdim=True)
        E = 0.5 * (E + E.transpose(-1, -2))
        assert bool((phi(G + E) >= phi(G) - 1e-12 * phi(G).abs()).all())


def test_state_stays_in_the_invariant_set_and_large_steps_relax():
    law = make_law()
    gen = torch.Generator().manual_seed(4)
    F, G_n, dt = random_triples(law, 500, gen)
    C = (F.transpose(-1, -2) @ F).unsqueeze(-3)
    G = branch_update(G_n, C, dt[:, None] / law.tau())
    top = torch.linalg.eigvalsh(G)[..., -1]
    bound = torch.maximum(torch.linalg.eigvalsh(G_n)[..., -1], 1.0 / torch.linalg.eigvalsh(C)[..., 0])
    assert bool((top <= bound * (1 + 1e-12)).all())
    relaxed = branch_update(G_n, C, torch.full_like(dt[:, None] / law.tau(), 1e12))
    assert torch.allclose(relaxed, torch.linalg.inv(C).expand_as(relaxed), rtol=1e-8, atol=1e-10)
    frozen = branch_update(G_n, C, torch.zeros(len(dt), law.n_branches, dtype=torch.float64))
    assert torch.allclose(frozen, G_n, rtol=1e-12, atol=1e-14)


def test_dissipation_is_non_negative_and_is_the_work_of_the_driving_force():
    law = make_law()
    gen = torch.Generator().manual_seed(5)
    F, G_n, dt = random_triples(law, 300, gen)
    _, G = law.update(F, G_n, dt, law.last_F)
    D = law.dissipation(G_n, G, dt, law.last_F)
    assert bool((D >= 0).all())
    C = (F.transpose(-1, -2) @ F).unsqueeze(-3)
    drive = -0.5 * law.mu()[:, None, None] * (C - torch.linalg.inv(G))      # −∂Ψ/∂G at G_{n+1}
    work = (drive * (G - G_n)).sum((-1, -2, -3))
    assert torch.allclose(D, work, rtol=1e-7, atol=1e-9 * float(D.abs().max()))


def test_uniaxial_history_is_the_3d_update_on_the_coaxial_state():
    law = make_law()
    t = torch.linspace(0, 40, 81, dtype=torch.float64)
    lam = (1 + 0.1 * t - 0.004 * t**2).clamp_min(1.0)[:, None]
    dt = torch.diff(t, prepend=t[:1])[:, None]
    P = law.uniaxial_history(lam, dt)
    G = law.initial_state((), 3)
    F_n = None
    for n in range(1, len(t)):
        l = lam[n, 0]
        F = torch.diag(torch.stack([l, l**-0.5, l**-0.5]))
        P3, G = law.update(F, G, dt[n, 0], F_n)
        F_n = F
        sig = P3 @ F.T                                  # J = 1: Cauchy; σ₃ = 0 fixes the pressure
        assert float(sig[0, 0] - sig[2, 2]) / float(l) == pytest.approx(float(P[n, 0]), rel=1e-10, abs=1e-8)


def test_scan_adjoint_matches_autograd_of_the_plain_loop():
    law = make_law()
    for p in law.parameters():
        p.requires_grad_(True)
    gen = torch.Generator().manual_seed(6)
    t = torch.cumsum(torch.rand(60, 3, generator=gen, dtype=torch.float64), 0)
    lam = 1 + 2 * torch.sin(0.1 * t).abs()
    dt = torch.diff(t, dim=0, prepend=t[:1])
    w = torch.randn(60, 3, generator=gen, dtype=torch.float64)
    grads = []
    for scan in (True, False):
        law.zero_grad()
        (law.uniaxial_history(lam, dt, scan=scan) * w).sum().backward()
        grads.append(torch.cat([law.log_mu.grad, law.log_tau.grad]))
    assert torch.allclose(grads[0], grads[1], rtol=1e-9, atol=1e-12 * float(grads[1].abs().max()))


def test_algorithmic_tangent_is_symmetric_and_below_the_certificate():
    law = make_law()
    cert = law.certificate("3d")
    assert cert["bound"] == pytest.approx(cert["isotropic"] + float(law.mu().sum()) / DOMAIN.lam_lo**2)
    gen = torch.Generator().manual_seed(7)
    F, G, dt = random_triples(law, 1500, gen)
    A = algorithmic_tangent(law, F, G, dt, law.last_F)
    assert float((A - A.transpose(-1, -2)).abs().max()) <= 1e-9 * float(A.abs().max())
    top = torch.linalg.eigvalsh(0.5 * (A + A.transpose(-1, -2)))[:, -1]
    assert float(top.max()) <= cert["bound"]
    # the glassy limit at the isotropic part's worst state, G aligned at its largest eigenvalue
    worst = largest_found(law, cert)
    assert cert["bound"] / worst <= 1.1


def largest_found(law, cert) -> float:
    """Largest exact eigenvalue of the algorithmic tangent over targeted states: the certificate's
    stretches (all orderings), G diagonal with each entry at 1/λ_hi² or 1/λ_lo², Δt = 1e-9 s."""
    import itertools
    lam = torch.tensor(cert["isotropic_at"], dtype=torch.float64)
    d = DOMAIN
    best = -math.inf
    for perm in itertools.permutations(range(3)):
        F = torch.diag(lam[list(perm)])
        for corner in itertools.product((d.lam_hi**-2, d.lam_lo**-2), repeat=3):
            G = torch.diag(torch.tensor(corner, dtype=torch.float64)).expand(law.n_branches, 3, 3)
            A = algorithmic_tangent(law, F, G, 1e-9)
            best = max(best, float(torch.linalg.eigvalsh(0.5 * (A + A.T))[-1]))
    return best


def test_plane_strain_certificate_holds_on_the_in_plane_block():
    law = make_law()
    bound = law.stiffness_bound("plane_strain")
    assert bound <= law.stiffness_bound("3d") * (1 + 1e-12)
    gen = torch.Generator().manual_seed(8)
    F3, G3, dt = random_triples(law, 400, gen)
    keep = torch.ones(len(F3), dtype=torch.bool)
    F = F3[:, :2, :2].clone()
    F = torch.linalg.svd(F).U @ torch.diag_embed(torch.linalg.svd(F).S.clamp(0.45, 5.0)) @ torch.linalg.svd(F).Vh
    J = torch.linalg.det(F)
    keep &= (J >= DOMAIN.J_lo) & (J <= DOMAIN.J_hi)
    A = algorithmic_tangent(law, F[keep], G3[keep][..., :2, :2], dt[keep])
    assert float(torch.linalg.eigvalsh(0.5 * (A + A.transpose(-1, -2)))[:, -1].max()) <= bound


@pytest.mark.slow
def test_certificate_at_1e5_random_triples():
    """1e5 (F, G, Δt) triples: no violation; bound / largest found ≤ 1.1 (docs/viscoelastic.md)."""
    law = make_law()
    cert = law.certificate("3d")
    gen = torch.Generator().manual_seed(11)
    found, count = -math.inf, 0
    while count < 100_000:
        F, G, dt = random_triples(law, 10_000, gen)
        A = algorithmic_tangent(law, F, G, dt, law.last_F)
        top = torch.linalg.eigvalsh(0.5 * (A + A.transpose(-1, -2)))[:, -1]
        assert float(top.max()) <= cert["bound"]
        found, count = max(found, float(top.max())), count + len(F)
    found = max(found, largest_found(law, cert))
    assert cert["bound"] / found <= 1.1
