"""The pulled rubber sheet (lipmat.demo.sheet): mesh, homogeneous reference, a coarse run at the certified step."""
import dataclasses
import math

import numpy as np
import pytest
import torch

import fem
from fem.materials.hyperelastic import NeoHookean, StretchDomain
from lipmat.demo import sheet as ds

COARSE = dataclasses.replace(ds.QUICK_SETUP, n_side=4, n_radial=2, stretch=1.2, ramp_time=0.005)


def _neural_law(setup):
    """The neural law with its initial parameters (no training: the run's properties do not depend on
    the fit, and a fit costs seconds), sized to Treloar's data, with the setup's K/G and domain."""
    from lipmat._paths import shipped_data
    from lipmat.fitting.hyperelastic import as_curves, build_law

    law = build_law(as_curves([shipped_data(f) for f in ds.TRELOAR_FILES]), bulk_ratio=setup.bulk_ratio,
                    domain=StretchDomain(*setup.domain))
    for p in law.parameters():
        p.requires_grad_(False)
    return law.eval()


def test_sheet_mesh_covers_the_sheet_minus_the_hole_polygon_with_positive_cells():
    setup = ds.SheetSetup(n_side=6, n_radial=4)
    for cell in ("quad", "triangle"):
        mesh = ds.sheet_mesh(dataclasses.replace(setup, cell=cell))
        asm = fem.Assembly(mesh)                      # raises on a cell with det J <= 0
        hole = mesh.points[mesh.node_sets["hole"]]
        x, y = hole[:, 0], hole[:, 1]
        polygon = 0.5 * abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))
        area = float(asm.qp_weights.sum())
        assert area == pytest.approx(setup.side ** 2 - polygon, rel=1e-12)
        assert len(hole) == 4 * setup.n_side
        np.testing.assert_allclose(np.hypot(x - 0.05, y - 0.05), setup.radius, rtol=1e-12)
        for side in ("left", "right", "bottom", "top"):
            assert len(mesh.node_sets[side]) == setup.n_side + 1
        np.testing.assert_allclose(mesh.points[mesh.node_sets["mid_left"]], [[0.0, 0.05]], atol=1e-15)


def test_homogeneous_force_tends_to_the_incompressible_pure_shear_formula():
    """Neo-Hookean, λ₃ = 1, σ₂₂ = 0: as K/G → ∞, P₁₁ → μ(λ − λ⁻³) (Treloar's pure shear)."""
    mu = 4e5
    law = NeoHookean(mu, K=1e5 * mu)
    lam = np.array([1.1, 1.5, 2.0, 3.0])
    setup = ds.SheetSetup()
    p = ds.homogeneous_force(law, lam, setup) / (setup.side * setup.thickness)
    np.testing.assert_allclose(p, mu * (lam - lam ** -3), rtol=1e-4)


def test_a_slow_pull_without_the_hole_gives_the_homogeneous_force():
    """The FE sheet without a hole, pulled slowly (ramp ≈ 20 wave transits), carries the homogeneous
    plane-strain force of the same law (mean of the two edge forces)."""
    law = NeoHookean(4e5, K=4e6, domain=StretchDomain(0.5, 2.0, 0.8, 1.25))
    setup = dataclasses.replace(ds.SheetSetup(), stretch=1.4, ramp_time=0.05, hold_time=0.0)
    mesh = fem.rectangle(setup.side, setup.side, 2, 2, cell="quad")
    mesh.node_sets["mid_left"] = mesh.nodes("x == 0 and y == 0.05")
    mesh.node_sets["mid_right"] = mesh.nodes("x == 0.1 and y == 0.05")
    run = ds.run_sheet(law, setup, mesh=mesh, monitors=0, frames=4)
    assert run.result.status == "completed", run.result.message
    lam = run.force["stretch"]
    late = lam > 1.2
    expected = ds.homogeneous_force(law, lam[late], setup)
    np.testing.assert_allclose(run.mean_force[late], expected, rtol=0.02)


@pytest.fixture(scope="module")
def coarse_run():
    law = _neural_law(COARSE)
    return law, ds.run_sheet(law, COARSE, monitors=2, frames=4, rows=50)


def test_coarse_sheet_completes_at_the_certified_step_inside_the_domain(coarse_run):
    law, run = coarse_run
    res = run.result
    assert res.status == "completed", res.message
    assert res.dt <= res.dt_certified * (1 + 1e-12) and res.dt_method in ("global", "element")
    assert res.t == pytest.approx(COARSE.t_end)
    # every kept state lies inside the certified domain (the solver checked every step)
    d = law.domain
    lam_min, lam_max = ds.principal_stretches(res.fields["green_lagrange_strain"])
    J = res.fields["volume_ratio"]
    assert lam_max.max() <= d.lam_hi and lam_min.min() >= d.lam_lo
    assert J.min() >= d.J_lo and J.max() <= d.J_hi
    assert lam_max.max() > COARSE.stretch                # the hole concentrates the stretch
    s = ds.summary(run, law)
    assert s["nominal_stretch"] == pytest.approx(COARSE.stretch)
    assert s["max_balance_error"] < 0.02


def test_certified_step_is_below_the_measured_critical_step_along_the_run(coarse_run):
    _, run = coarse_run
    rows = ds.step_table(run)
    assert len(rows) >= 2 and rows[0]["t"] == 0.0
    for r in rows:
        assert r["dt_certified"] <= r["dt_critical"], r


def test_xdmf_reads_back_with_vtk(coarse_run, tmp_path):
    pytest.importorskip("vtk")
    _, run = coarse_run
    back = ds.read_xdmf(ds.write_frames(run, tmp_path / "sheet"))
    np.testing.assert_allclose(back["times"], run.result.times, rtol=1e-12)
    assert back["n_cells"] == run.mesh.n_cells
    np.testing.assert_allclose(back["displacement"][:, :2], run.result.fields["displacement"][-1], rtol=1e-12)
    _, lam_max = ds.principal_stretches(run.result.fields["green_lagrange_strain"][-1])
    np.testing.assert_allclose(back["max_principal_stretch"], lam_max, rtol=1e-12)


def test_a_domain_the_pull_leaves_stops_the_run():
    """The certificate covers only its domain: pulled past λ_hi, the run stops as out_of_domain."""
    law = NeoHookean(4e5, K=4e6, domain=StretchDomain(0.8, 1.15, 0.8, 1.25))
    setup = dataclasses.replace(COARSE, stretch=1.3)
    run = ds.run_sheet(law, setup, monitors=0, frames=2)
    assert run.result.status == "out_of_domain"
    assert run.result.t < setup.t_end
    assert math.isfinite(run.result.final.t)
