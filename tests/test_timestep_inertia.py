"""The two eigenvalue bounds on synthetic matrices with known spectra: the proofs can fail.

- the inertia proof accepts θ just above λ_max and rejects θ just below it (dense and sparse paths);
- the element eigenvalue inequality on random element matrices assembled by hand;
- the global form falls back to the element form (and says so) when its proof cannot succeed.
"""
import logging

import numpy as np
import pytest
import scipy.sparse as sp
import torch

import fem
from fem.stability.eigenbounds import element_eigen_upper, global_eigen_upper
from fem.stability.inertia import prove_positive_definite
from fem.stability.timestep import certified_time_step


def _laplacian(n):
    """1D Dirichlet Laplacian tridiag(−1, 2, −1): eigenvalues 2 − 2cos(kπ/(n+1)), k = 1..n."""
    lam_max = 2.0 - 2.0 * np.cos(n * np.pi / (n + 1))
    return sp.diags([-np.ones(n - 1), 2 * np.ones(n), -np.ones(n - 1)], [-1, 0, 1], format="csr"), lam_max


@pytest.mark.parametrize("n", [50, 3000])  # dense Cholesky path, sparse SuperLU path
def test_inertia_proof_separates_just_above_from_just_below(n):
    a, lam = _laplacian(n)
    eye = sp.eye(n, format="csr")
    for rel in (1e-6, 1e-9):
        above = prove_positive_definite((lam * (1 + rel)) * eye - a, 0.5 * rel * lam)
        assert above.proven, above.reason
        assert above.lower_bound > 0
    below = prove_positive_definite((lam * (1 - 1e-6)) * eye - a, 1e-9 * lam)
    assert not below.proven
    assert "pivot" in below.reason
    if n > 400:  # the sparse LDLᵀ counts the eigenvalues of the Laplacian above θ − c (Sylvester)
        w = 2.0 - 2.0 * np.cos(np.arange(1, n + 1) * np.pi / (n + 1))
        assert below.negative_pivots == np.sum(w > lam * (1 - 1e-6) - 1e-9 * lam) >= 1


def test_inertia_proof_counts_eigenvalues_above_theta():
    a, _ = _laplacian(2000)
    w = 2.0 - 2.0 * np.cos(np.arange(1, 2001) * np.pi / 2001)
    theta = 0.5 * (w[-6] + w[-5])  # five eigenvalues above
    proof = prove_positive_definite(theta * sp.eye(2000, format="csr") - a, 1e-12)
    assert not proof.proven and proof.negative_pivots == 5


def test_shift_too_small_for_rounding_is_refused():
    a, lam = _laplacian(1000)
    proof = prove_positive_definite((lam * (1 + 1e-6)) * sp.eye(1000, format="csr") - a, 1e-18)
    assert not proof.proven
    assert "rounding" in proof.reason
    with pytest.raises(ValueError, match="shift"):
        prove_positive_definite(sp.eye(3, format="csr"), 0.0)


def test_element_inequality_on_random_assembled_matrices(rng):
    """K = Σ P_eᵀ K_e P_e, M = Σ P_eᵀ M_e P_e: λ_max(M⁻¹K) ≤ max_e λ_max(M_e⁻¹K_e), exactly."""
    n_nodes, n_el, nde = 30, 40, 4
    dofs = np.stack([rng.choice(n_nodes, nde, replace=False) for _ in range(n_el)])
    g = rng.normal(size=(n_el, nde, nde))
    k_el = g @ np.transpose(g, (0, 2, 1))
    m_el = rng.uniform(0.2, 2.0, size=(n_el, nde))
    kk, mm = np.zeros((n_nodes, n_nodes)), np.zeros(n_nodes)
    for e in range(n_el):
        kk[np.ix_(dofs[e], dofs[e])] += k_el[e]
        np.add.at(mm, dofs[e], m_el[e])
    used = mm > 0
    kk, mm = kk[np.ix_(used, used)], mm[used]
    d = 1 / np.sqrt(mm)
    lam_global = np.linalg.eigvalsh(d[:, None] * kk * d[None, :])[-1]
    bound = element_eigen_upper(torch.as_tensor(k_el), torch.as_tensor(m_el))
    per_elem = [np.linalg.eigvalsh(k_el[e] / np.sqrt(np.outer(m_el[e], m_el[e])))[-1] for e in range(n_el)]
    np.testing.assert_allclose(bound.computed, per_elem, rtol=1e-12)
    assert np.all(bound.upper >= bound.computed)
    assert lam_global <= bound.value
    glob = global_eigen_upper(sp.csr_matrix(kk), mm)
    assert glob.proven and lam_global <= glob.upper <= lam_global * (1 + 1e-5)


def test_element_bound_needs_positive_masses():
    with pytest.raises(ValueError, match="masses must be > 0"):
        element_eigen_upper(torch.eye(2)[None], torch.tensor([[1.0, 0.0]]))


def test_global_form_falls_back_when_the_proof_cannot_succeed(caplog):
    a = fem.Assembly(fem.rectangle(1.0, 1.0, 6, 6))
    c = fem.LinearElastic(1.0, 0.3, "plane_strain").stiffness_bound()
    elem = certified_time_step(a, c, 1.0)
    with caplog.at_level(logging.WARNING, logger="fem.stability.timestep"):
        ts = certified_time_step(a, c, 1.0, method="global", delta=1e-18, max_delta=1e-18)
    assert ts.certified and ts.method == "element" and ts.dt == elem.dt
    assert "not proven" in ts.details["fallback"]
    assert "element form used" in caplog.text


def test_global_form_stops_at_the_element_bound():
    """On a uniform bar the element bound is exact, so (1 + δ)θ can never be below it."""
    a = fem.Assembly(fem.bar(1.0, 20))
    ts = certified_time_step(a, 1.0, 1.0, method="global", delta=1e-3)
    assert ts.method == "element"
    assert "already as tight" in ts.details["fallback"]
