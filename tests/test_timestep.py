"""Certified, measured and exact stable steps for linear elasticity, against a dense eigen-solve.

The oracle is ``exact_time_step``: ``2/√λ_max`` of ``K x = λ M x`` from scipy.linalg.eigh on the same
assembled matrices. Properties: element step ≤ exact; global certified step ≤ exact and within 2 %;
the scalar bound L·I is looser than the matrix bound; the measured step at u = 0 equals the exact one.
"""
import math

import numpy as np
import pytest
import torch

import fem
from fem.stability.timestep import certified_time_step, critical_time_step, exact_time_step, stable_step

MESHES = {
    "T3": lambda: fem.rectangle(2.0, 1.0, 8, 5),
    "Q4": lambda: fem.rectangle(2.0, 1.0, 8, 5, cell="quad"),
    "Tet4": lambda: fem.box(1.0, 1.0, 1.0, 3, 3, 3, cell="tetra"),
    "Hex8": lambda: fem.box(1.0, 0.8, 0.6, 4, 3, 3),
}


def _setup(name, distortion, nu, E=2.0e9):
    mesh = MESHES[name]()
    if distortion:
        mesh = fem.distort(mesh, distortion, seed=3)
    a = fem.Assembly(mesh)
    mat = fem.LinearElastic(E, nu, a.kinematics)
    return a, mat


@pytest.mark.parametrize("nu", [0.3, 0.49])
@pytest.mark.parametrize("distortion", [0.0, 0.3])
@pytest.mark.parametrize("name", list(MESHES))
def test_certified_steps_bracket_the_exact_one(name, distortion, nu):
    a, mat = _setup(name, distortion, nu)
    rho = 1500.0
    c = mat.stiffness_bound()
    exact = exact_time_step(a, c, rho)
    elem = certified_time_step(a, c, rho, method="element")
    glob = certified_time_step(a, c, rho, method="global")
    assert elem.certified and glob.certified
    assert elem.method == "element" and glob.method == "global", glob.details.get("fallback")
    assert elem.dt <= exact
    assert glob.dt <= exact
    assert glob.dt >= 0.98 * exact
    assert glob.dt >= elem.dt  # the global form is the tighter of the two
    # the controlling element is a real cell and its centroid is reported
    assert 0 <= elem.controlling_element < a.n_cells
    np.testing.assert_allclose(elem.controlling_centroid, a.cell_centroids()[elem.controlling_element])


@pytest.mark.parametrize("name", ["T3", "Hex8"])
def test_scalar_bound_is_looser_than_the_matrix_bound(name):
    a, mat = _setup(name, 0.2, 0.3)
    c = mat.stiffness_bound()
    lip = float(torch.linalg.eigvalsh(c)[-1])  # ‖C‖₂: the best scalar certificate of a linear law
    exact = exact_time_step(a, c, 1000.0)
    matrix = certified_time_step(a, c, 1000.0)
    scalar = certified_time_step(a, lip, 1000.0)
    scalar_glob = certified_time_step(a, lip, 1000.0, method="global")
    assert scalar.details["bound"] == "scalar" and matrix.details["bound"] == "matrix"
    assert scalar.dt < matrix.dt <= exact
    assert scalar_glob.dt <= exact


def test_bar_matches_the_closed_form():
    """Uniform 1D bar, lumped mass: ω_max = 2c/h exactly (the free–free top mode), so Δt = h/c."""
    E, rho, length, n = 7.0e10, 2700.0, 2.0, 40
    a = fem.Assembly(fem.bar(length, n), area=3e-4)
    c = math.sqrt(E / rho)
    h = length / n
    elem = certified_time_step(a, torch.tensor([[E]]), rho)
    glob = certified_time_step(a, E, rho, method="global")
    assert elem.dt == pytest.approx(h / c, rel=1e-9)  # the element bound is exact for a uniform bar
    assert exact_time_step(a, torch.tensor([[E]]), rho) == pytest.approx(h / c, rel=1e-9)
    assert h / c * (1 - 1e-5) <= glob.dt <= h / c


def test_measured_step_at_zero_equals_the_exact_one():
    for name in ("T3", "Hex8"):
        a, mat = _setup(name, 0.2, 0.3)
        exact = exact_time_step(a, mat.stiffness_bound(), 800.0)
        ts = critical_time_step(a, mat, 800.0)
        assert not ts.certified and ts.method == "lanczos" and ts.details["symmetric"]
        assert ts.dt == pytest.approx(exact, rel=1e-6)


def test_power_iteration_approaches_from_above_in_dt():
    a, mat = _setup("Q4", 0.0, 0.3)
    exact = exact_time_step(a, mat.stiffness_bound(), 800.0)
    ts = critical_time_step(a, mat, 800.0, method="power", tol=1e-9)
    assert "power" in ts.details["solver"]
    # a Rayleigh quotient is <= λ_max, so the estimated step is >= the exact one
    assert exact * (1 - 1e-12) <= ts.dt <= 1.05 * exact


def test_variable_density_and_safety():
    a, mat = _setup("T3", 0.0, 0.3)
    rho = np.full(a.n_cells, 1000.0)
    rho[::7] = 250.0  # lighter cells are faster
    c = mat.stiffness_bound()
    exact = exact_time_step(a, c, rho)
    glob = certified_time_step(a, c, rho, method="global")
    assert 0.98 * exact <= glob.dt <= exact
    half = certified_time_step(a, c, rho, method="global", safety=0.5)
    assert half.dt == pytest.approx(0.5 * glob.dt, rel=1e-12)
    assert rho[certified_time_step(a, c, rho).controlling_element] == 250.0


# -- damping ---------------------------------------------------------------------------------
def _lagged_recurrence_radius(h, xi):
    """Spectral radius of ü + 2ξωu̇ + ω²u = 0 by central differences with v_{n−½} damping, h = ωΔt."""
    companion = np.array([[2.0 - 2.0 * xi * h - h * h, -(1.0 - 2.0 * xi * h)], [1.0, 0.0]])
    return max(abs(np.linalg.eigvals(companion)))


@pytest.mark.parametrize("xi", [0.0, 0.05, 0.5, 2.0])
def test_damped_limit_is_the_stability_edge_of_the_recurrence(xi):
    omega = 3.7
    dt = stable_step(omega, xi)
    if xi == 0.0:
        assert dt == pytest.approx(2.0 / omega, rel=1e-15)
    assert dt == pytest.approx((2 / omega) * (math.sqrt(1 + xi * xi) - xi), rel=1e-12)
    assert _lagged_recurrence_radius(omega * dt * (1 - 1e-6), xi) <= 1.0 + 1e-9
    assert _lagged_recurrence_radius(omega * dt * (1 + 1e-3), xi) > 1.0 + 1e-6


def test_damping_shortens_the_certified_step():
    a, mat = _setup("Q4", 0.0, 0.3)
    plain = certified_time_step(a, mat.stiffness_bound(), 1000.0)
    damped = certified_time_step(a, mat.stiffness_bound(), 1000.0, damping=0.1)
    assert damped.dt == pytest.approx(plain.dt * (math.sqrt(1.01) - 0.1), rel=1e-12)
    assert damped.damping == 0.1


# -- bad input -------------------------------------------------------------------------------
def test_bad_arguments_are_refused_with_the_value():
    a, mat = _setup("T3", 0.0, 0.3)
    c = mat.stiffness_bound()
    with pytest.raises(ValueError, match="method"):
        certified_time_step(a, c, 1000.0, method="lanczos")
    with pytest.raises(ValueError, match="safety"):
        certified_time_step(a, c, 1000.0, safety=1.2)
    with pytest.raises(ValueError, match="damping"):
        certified_time_step(a, c, 1000.0, damping=-0.1)
    with pytest.raises(ValueError, match="density"):
        certified_time_step(a, c, -1.0)
    with pytest.raises(ValueError, match=r"\(3, 3\)"):
        certified_time_step(a, torch.eye(6), 1000.0)
    with pytest.raises(ValueError, match="method"):
        critical_time_step(a, mat, 1000.0, method="qr")
