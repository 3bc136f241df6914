"""The certified sup of λ_max(∂P/∂F) over a stretch domain: closed-form eigenvalues against a dense
autograd eigen-solve, the interval box bound against points of the box, 1e5 random states never above
the certificate, and the certificate within 5 % of the largest eigenvalue found."""
import functools

import pytest
import torch
from _hyperelastic_helpers import LAW_FACTORIES, gradients_from, make_law, stretches_in

from fem.materials.hyperelastic import NeoHookean, StretchDomain, certify_isotropic
from fem.materials.hyperelastic.certificate import _box_upper
from fem.core.interval import Interval

LAWS = list(LAW_FACTORIES)
KINEMATICS = [("3d", 3), ("plane_strain", 2)]


@functools.lru_cache(maxsize=None)
def _law(name):
    """One instance per law for the whole module, so each certificate is computed once (it is cached)."""
    return make_law(name)


def _dense_eigenvalues(law, F):
    A = law.tangent(F)
    return torch.linalg.eigvalsh(0.5 * (A + A.transpose(-1, -2)))


@pytest.mark.parametrize("kin, k", KINEMATICS)
@pytest.mark.parametrize("name", LAWS)
def test_closed_form_eigenvalues_equal_a_dense_eigen_solve_of_the_autograd_tangent(name, kin, k):
    law = make_law(name)
    g = torch.Generator().manual_seed(11)
    lam = stretches_in(law.domain, 300, k, g)
    lam[:40, 1] = lam[:40, 0]                                # equal stretches
    lam[40:80, 1] = lam[40:80, 0] * (1 + 1e-9)               # nearly equal
    if k == 3:
        lam[80:100, 2] = lam[80:100, 1] = lam[80:100, 0]     # all three equal
    lam[100:110] = 1.0                                       # the reference state
    F = gradients_from(lam, g)
    dense = _dense_eigenvalues(law, F)
    closed = law.tangent_eigenvalues(lam).sort(-1).values
    scale = dense.abs().amax(-1, keepdim=True)
    assert float(((dense - closed).abs() / scale).max()) < 1e-10


@pytest.mark.parametrize("kin, k", KINEMATICS)
@pytest.mark.parametrize("name", LAWS)
def test_interval_box_bound_covers_every_point_of_the_box(name, kin, k):
    """The inclusion property of each law's eigen parts: random small and large boxes of the domain."""
    law = make_law(name)
    dom = law.domain
    g = torch.Generator().manual_seed(12)
    centre = stretches_in(dom, 400, k, g, boundary=0.0)
    half = centre * torch.exp(torch.empty(400, 1, dtype=torch.float64).uniform_(-6, -1, generator=g))
    lo = (centre - half).clamp(dom.lam_lo, dom.lam_hi)
    hi = (centre + half).clamp(dom.lam_lo, dom.lam_hi)
    lam = [Interval(lo[:, i], hi[:, i]) for i in range(k)]
    third = lam[2] if k == 3 else Interval(torch.ones(400, dtype=torch.float64))
    J = (lam[0] * lam[1] * third).intersect(Interval(dom.J_lo, dom.J_hi))
    ok = ~J.is_empty()
    parts = law.eigen_parts(lam[0][ok], lam[1][ok], third[ok], J=J[ok], I1_max=dom.sup_I1())
    ub = _box_upper(parts, k, int(ok.sum()))
    t = torch.rand(int(ok.sum()), 64, k, dtype=torch.float64, generator=g)
    pts = lo[ok][:, None] + (hi[ok] - lo[ok])[:, None] * t
    inside = dom.contains_stretches(pts)
    vals = law.tangent_eigenvalues(pts).amax(-1)
    vals = torch.where(inside, vals, torch.full_like(vals, -torch.inf))
    assert bool((vals.amax(-1) <= ub).all())
    assert int(inside.sum()) > 1000


def _off_boundary(lam, dom, tol=1e-12):
    """(n,) bool: stretches farther than ``tol`` (relative) from every face of the domain."""
    J = lam.prod(-1)
    return ((lam > dom.lam_lo * (1 + tol)) & (lam < dom.lam_hi * (1 - tol))).all(-1) \
        & (J > dom.J_lo * (1 + tol)) & (J < dom.J_hi * (1 - tol))


def _sizes():
    """1e5 states for every law and kinematics (two of them in the default run, all with -m slow), and
    2e4 for every law and kinematics in the default run."""
    out = []
    for name in LAWS:
        for kin, k in KINEMATICS:
            default_1e5 = (name, kin) in (("neohookean", "3d"), ("ogden3", "plane_strain"))
            out.append(pytest.param(name, kin, k, 100_000, marks=() if default_1e5 else pytest.mark.slow,
                                    id=f"{name}-{kin}-1e5"))
            out.append(pytest.param(name, kin, k, 20_000, id=f"{name}-{kin}-2e4"))
    return out


@pytest.mark.parametrize("name, kin, k, n", _sizes())
def test_1e5_random_states_in_the_domain_and_on_its_boundary_never_exceed_the_certificate(name, kin, k, n):
    """1e5 F = R diag(λ) Qᵀ, half on the boundary (a stretch at lam_lo/lam_hi or J at J_lo/J_hi), plus
    states near the maximiser the search found; eigenvalues from the singular values of F by the closed
    form (equal to the dense spectrum, tested above) and, on 2000 of them, by a dense eigen-solve."""
    law = _law(name)
    g = torch.Generator().manual_seed(13)
    cert = law.certificate(kin)
    lam = stretches_in(law.domain, n, k, g)
    near = torch.tensor(cert.at, dtype=torch.float64) * torch.exp(1e-3 * torch.randn(2000, k, generator=g,
                                                                                   dtype=torch.float64))
    near = near[law.domain.contains_stretches(near)]
    lam = torch.cat([lam, near])
    F = gradients_from(lam, g)
    # states on the boundary may round to either side of it; all others must be inside
    assert bool(law.in_domain(F)[_off_boundary(lam, law.domain)].all())
    top = law.tangent_eigenvalues(torch.linalg.eigvalsh(F.transpose(-1, -2) @ F).clamp_min(0).sqrt()).amax(-1)
    assert float(top.max()) <= cert.bound
    assert float(top.max()) >= cert.found / (1 + cert.rtol)       # the search and the samples agree
    dense = _dense_eigenvalues(law, torch.cat([F[:1000], F[-1000:]])).amax(-1)
    assert float(dense.max()) <= cert.bound


@pytest.mark.parametrize("kin", ["3d", "plane_strain"])
@pytest.mark.parametrize("name", LAWS)
def test_certificate_is_within_5_percent_of_the_largest_eigenvalue_found(name, kin):
    law = _law(name)
    cert = law.certificate(kin)
    assert cert.converged
    assert cert.found <= cert.bound <= 1.05 * cert.found
    assert cert.ratio <= (1 + cert.rtol) * (1 + 1e-12)
    # `found` is attained: the dense spectrum of the autograd tangent at diag(at)
    F = torch.diag(torch.tensor(cert.at, dtype=torch.float64))[None]
    assert float(_dense_eigenvalues(law, F).max()) == pytest.approx(cert.found, rel=1e-10)
    assert law.stiffness_bound(kin) == cert.bound


def test_a_tighter_rtol_tightens_and_plane_strain_is_below_3d():
    law = _law("ogden3")
    loose = certify_isotropic(law, law.domain, "plane_strain", rtol=0.05)
    tight = certify_isotropic(law, law.domain, "plane_strain", rtol=0.002)
    assert tight.ratio <= 1.002 * (1 + 1e-12) and tight.bound <= loose.bound
    assert tight.found >= loose.found and tight.boxes > loose.boxes
    assert tight.bound <= law.certificate("3d").bound
    assert law.stiffness_bound() == law.certificate("3d").bound        # None means 3D
    assert law.certificate("3d") is law.certificate("3d")               # cached


@pytest.mark.parametrize("kin, k", KINEMATICS)
def test_a_small_domain_around_the_identity_certifies_the_linear_elastic_maximum(kin, k):
    """At F = I, A is the linear-elastic C: its largest eigenvalue is 3K (3D), 2(K + G/3) (plane strain)."""
    G, K = 1e6, 2e7
    law = NeoHookean(G, K=K, domain=StretchDomain(0.9999, 1.0001, 0.9999, 1.0001))
    cert = law.certificate(kin, rtol=1e-3)
    exact = 3 * K if k == 3 else 2 * (K + G / 3)
    assert cert.found <= exact * (1 + 1e-3) and cert.bound >= exact
    assert cert.bound == pytest.approx(exact, rel=2e-3)


def test_the_bound_grows_with_the_bulk_modulus_and_the_domain():
    small = make_law("neohookean", nu=0.3).stiffness_bound("plane_strain")
    large = make_law("neohookean", nu=0.49).stiffness_bound("plane_strain")
    assert large > 5 * small
    narrow = make_law("neohookean", nu=0.3, domain=StretchDomain(0.7, 1.5, 0.9, 1.1)).stiffness_bound("plane_strain")
    assert narrow < small
