"""The learned law (lipmat.models.NeuralHyperelastic) through fem's PlaneStress: P33 = 0, the Schur tangent,
the 3D certificate over its plane-stress tangent, and the uniaxial sheet against the incompressible law
the fit uses (lipmat.fitting.multiaxial) as the bulk modulus grows."""
import numpy as np
import pytest
import scipy.optimize
import torch

from fem.materials.hyperelastic import PlaneStress
from fem.materials.hyperelastic.plane_stress import embed
from lipmat.fitting.multiaxial import biaxial_nominal, invariant_deviator

from test_hyperelastic_neural import make_law
from test_plane_stress import _random_F

T64 = torch.float64


@pytest.fixture(scope="module")
def sheet():
    return PlaneStress(make_law().eval())


def test_neural_law_solves_p33_and_has_the_schur_tangent(sheet, rng):
    F = _random_F(40, rng, spread=0.3)
    with torch.no_grad():
        P3 = sheet.law.stress(embed(F, sheet.thickness_stretch(F)))
    assert float((P3[..., 2, 2].abs() / P3.abs().amax((-1, -2))).max()) < 1e-12
    A, S = sheet.tangent(F), sheet.tangent_by_schur(F)
    assert float((A - S).abs().max()) <= 1e-11 * float(S.abs().max())


def test_neural_certificate_covers_its_plane_stress_tangent(sheet, rng):
    F = _random_F(400, rng, spread=1.0)
    F = F[sheet.in_domain(F)]
    assert len(F) > 50
    top = float(torch.linalg.eigvalsh(sheet.tangent(F))[..., -1].max())
    assert 0 < top <= sheet.stiffness_bound()


def test_neural_uniaxial_sheet_tends_to_the_incompressible_law():
    """P11 of the sheet (lateral stretch with P22 = 0) vs the incompressible uniaxial P of the same W(I1, I2):
    the error falls with K and is below 1e-6 (relative) at K = 1e8·G."""
    base = make_law().eval()
    dev = invariant_deviator(base.w)
    errs = []
    for ratio in (1e2, 1e5, 1e8):
        ps = PlaneStress(base.with_options(bulk_ratio=ratio, domain=None))

        def p(lam, a):
            with torch.no_grad():
                return ps.stress(torch.diag(torch.tensor([lam, a], dtype=T64)))

        e = 0.0
        for lam in (0.7, 1.5, 2.2):
            a = scipy.optimize.brentq(lambda a: float(p(lam, a)[1, 1]), 0.3, 1.5, xtol=1e-15, rtol=1e-15)
            with torch.no_grad():
                ref = float(biaxial_nominal(dev, torch.tensor([lam], dtype=T64), torch.tensor([lam**-0.5], dtype=T64))[0])
            e = max(e, abs(float(p(lam, a)[0, 0]) - ref) / abs(ref))
        errs.append(e)
    assert errs[-1] < 1e-6 and errs[0] > errs[1] > errs[2], errs
