"""Multi-mode test data: reading (modes, biaxial tables, units, errors) and the incompressible load cases,
checked against closed forms and against a direct traction-free solve of the compressible law."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from fem.materials.hyperelastic import StretchDomain
from lipmat.errors import DataError
from lipmat.models import NeuralHyperelastic
from lipmat.models.classical import MooneyRivlinBar, OgdenBar
from lipmat.fitting.multiaxial import (
    biaxial_nominal, canonical_mode, invariant_deviator, load_multiaxial, load_tests, mode_stretches,
    partner_stretches, predict, stretch_deviator,
)

DATA = Path(__file__).parent.parent / "data"


def law_with_large_K(ratio: float = 1e6) -> NeuralHyperelastic:
    law = NeuralHyperelastic(4e5, (2e4, 2e3, 3e4), (20.0, 60.0, 20.0), (4, 2), bulk_ratio=ratio,
                             domain=StretchDomain(0.2, 4.0, 0.9, 1.1))
    gen = torch.Generator().manual_seed(11)
    with torch.no_grad():
        for p in law.parameters():
            p.add_(0.5 * torch.randn(p.shape, generator=gen, dtype=torch.float64))
        for r in (law.r1, law.r2, law.r3):
            r.logits[-1] = 0.0
    return law


def traction_free_solve(law, lam1, lam2=None):
    """P11 of the compressible law with P33 = 0 (and P22 = 0 with F22 = F33 when lam2 is None), by
    bisection on the free stretch: (n,) -> (n,)."""
    lo = torch.full_like(lam1, 0.05)
    hi = torch.full_like(lam1, 3.0)

    def F_of(c):
        if lam2 is None:
            return torch.diag_embed(torch.stack([lam1, c, c], -1))
        return torch.diag_embed(torch.stack([lam1, lam2, c], -1))

    with torch.no_grad():
        for _ in range(70):              # bracket width 3·2⁻⁷⁰
            mid = 0.5 * (lo + hi)
            p = law.stress(F_of(mid))[..., 2, 2]
            hi, lo = torch.where(p > 0, mid, hi), torch.where(p > 0, lo, mid)
        return law.stress(F_of(0.5 * (lo + hi)))[..., 0, 0]


@pytest.mark.parametrize("mode", ["uniaxial", "equibiaxial", "pure_shear", "biaxial"])
def test_incompressible_load_cases_equal_a_traction_free_solve_of_the_compressible_law_at_large_K(mode):
    law = law_with_large_K()
    lam = torch.linspace(1.05, 3.0, 12, dtype=torch.float64)
    if mode == "biaxial":
        l1, l2 = lam, 1.0 + 0.4 * (lam - 1.0)
    else:
        l1, l2 = mode_stretches(mode, lam)
    with torch.no_grad():
        p1, _ = biaxial_nominal(invariant_deviator(law.w), l1, l2)
    direct = traction_free_solve(law, l1, None if mode == "uniaxial" else l2)
    assert torch.allclose(p1, direct, rtol=1e-4, atol=0), (p1, direct)
    assert float((p1 - direct).abs().max()) > 0        # a genuinely independent route


def test_closed_forms_of_mooney_rivlin_and_ogden_agree_with_the_1d_baselines():
    lam = torch.linspace(0.7, 6.0, 30, dtype=torch.float64)
    mr = MooneyRivlinBar(2e5, 5e4)
    dev = invariant_deviator(lambda i1, i2: (2e5 + 0 * i1, 5e4 + 0 * i2))
    p1, p2 = biaxial_nominal(dev, *mode_stretches("uniaxial", lam))
    assert torch.allclose(p1, torch.as_tensor(mr.nominal_stress(lam.numpy())), rtol=1e-12)
    assert float(p2.abs().max()) <= 1e-9 * float(p1.abs().max())          # lateral faces traction-free
    og = OgdenBar(6e5, 1e3, -1e4, 1.3, 5.0, -2.0)
    mu, alpha = (6e5, 1e3, -1e4), (1.3, 5.0, -2.0)
    dev = stretch_deviator(lambda l: sum(m * l ** a for m, a in zip(mu, alpha)))
    p1, _ = biaxial_nominal(dev, *mode_stretches("uniaxial", lam))
    assert torch.allclose(p1, torch.as_tensor(og.nominal_stress(lam.numpy())), rtol=1e-10)
    # equibiaxial and pure shear of Mooney–Rivlin, textbook forms
    p_et, p_et2 = biaxial_nominal(invariant_deviator(lambda i1, i2: (2e5 + 0 * i1, 5e4 + 0 * i2)), lam, lam)
    assert torch.allclose(p_et, 2 * (lam - lam ** -5) * (2e5 + lam ** 2 * 5e4), rtol=1e-12)
    assert torch.allclose(p_et, p_et2, rtol=1e-12)
    p_ps, _ = biaxial_nominal(invariant_deviator(lambda i1, i2: (2e5 + 0 * i1, 5e4 + 0 * i2)), lam,
                              torch.ones_like(lam))
    assert torch.allclose(p_ps, 2 * (lam - lam ** -3) * 2.5e5, rtol=1e-12)


def test_shipped_files_get_their_mode_from_the_file_name():
    modes = {f: load_multiaxial(DATA / f"treloar_{f}.csv").mode for f in ("uniaxial", "equibiaxial", "pureshear")}
    assert modes == {"uniaxial": "uniaxial", "equibiaxial": "equibiaxial", "pureshear": "pure_shear"}
    c = load_multiaxial(DATA / "treloar_equibiaxial.csv")
    assert c.stress[-1, 0] == pytest.approx(2.4426e6) and c.measured == (True, False)
    lam = partner_stretches(c)
    assert lam[-1, 2] == pytest.approx(4.45 ** -2)


def test_an_explicit_mode_overrides_the_file_name(tmp_path):
    path = tmp_path / "test_a.csv"
    path.write_text((DATA / "treloar_pureshear.csv").read_text())
    assert load_multiaxial(path).mode == "uniaxial"          # no hint in the name: the default
    assert load_multiaxial(path, mode="PS").mode == "pure_shear"
    curves = load_tests([str(path)], {"test_a.csv": "pureshear"})
    assert curves[0].mode == "pure_shear" and curves[0].provenance["mode_source"] == "option"
    with pytest.raises(DataError, match="not among the data"):
        load_tests([str(path)], {"other.csv": "ET"})
    with pytest.raises(DataError, match="unknown test mode"):
        canonical_mode("torsion")


def write(tmp_path, text, name="bx.csv"):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_biaxial_table_is_read_in_SI_with_units(tmp_path):
    p = write(tmp_path, "stretch1,stretch2,nominal_stress1_kPa,nominal_stress2_kPa\n"
                        "1.1,1.0,50,20\n1.3,1.1,150,70\n1.6,1.2,300,120\n")
    c = load_multiaxial(p)
    assert c.mode == "biaxial" and c.measured == (True, True)
    assert np.allclose(c.stress[:, 0], [5e4, 1.5e5, 3e5]) and np.allclose(c.stress[:, 1], [2e4, 7e4, 1.2e5])
    assert np.allclose(c.targets(), [5e4, 1.5e5, 3e5, 2e4, 7e4, 1.2e5])
    q = write(tmp_path, "stretch1,stretch2,nominal_stress1,nominal_stress2\n1.1,1,1,1\n1.2,1,2,2\n1.3,1,3,3\n", "b2.csv")
    assert np.allclose(load_multiaxial(q, stress_unit="MPa").stress[:, 0], [1e6, 2e6, 3e6])


def test_an_equal_stretch_biaxial_table_predicts_what_the_equibiaxial_mode_does(tmp_path):
    p = write(tmp_path, "stretch1,stretch2,nominal_stress1_MPa,nominal_stress2_MPa\n"
                        "1.2,1.2,0.3,0.3\n2.0,2.0,0.8,0.8\n3.0,3.0,1.2,1.2\n")
    e = write(tmp_path, "stretch,nominal_stress_MPa\n1.2,0.3\n2.0,0.8\n3.0,1.2\n", "some_equibiaxial.csv")
    dev = invariant_deviator(lambda i1, i2: (1e5 + 1e3 * i1, 3e4 / i2 ** 0.5))
    bx, et = predict(dev, load_multiaxial(p)), predict(dev, load_multiaxial(e))
    assert torch.allclose(bx[:3], et, rtol=1e-13) and torch.allclose(bx[3:], et, rtol=1e-13)


@pytest.mark.parametrize("header,rows,match", [
    ("stretch1,stretch2,nominal_stress1_MPa", "1.1,1,1\n1.2,1,2\n1.3,1,3\n", "missing columns"),
    ("stretch1,stretch2,nominal_stress1_MPa,nominal_stress3_MPa", "1.1,1,1,1\n1.2,1,2,2\n1.3,1,3,3\n",
     "unknown column"),
    ("stretch1,stretch2,nominal_stress1_MPa,nominal_stress2_psi", "1.1,1,1,1\n1.2,1,2,2\n1.3,1,3,3\n", "unit"),
    ("stretch1,stretch2,nominal_stress1_MPa,nominal_stress2", "1.1,1,1,1\n1.2,1,2,2\n1.3,1,3,3\n",
     "unit"),
    ("stretch1,stretch2,nominal_stress1_MPa,nominal_stress2_MPa", "1.1,-1,1,1\n1.2,1,2,2\n1.3,1,3,3\n",
     "stretch > 0"),
    ("stretch1,stretch2,nominal_stress1_MPa,nominal_stress2_MPa", "1.1,1,1,x\n1.2,1,2,2\n1.3,1,3,3\n",
     "expected a number"),
    ("stretch1,stretch2,nominal_stress1_MPa,nominal_stress2_MPa", "1.1,1,1,1\n1.2,1,2,2\n", "at least 3"),
])
def test_bad_biaxial_tables_are_refused_naming_file_and_column(tmp_path, header, rows, match):
    p = write(tmp_path, f"{header}\n{rows}")
    with pytest.raises(DataError, match=match) as info:
        load_multiaxial(p)
    assert "bx.csv" in str(info.value)


def test_a_biaxial_mode_needs_a_two_stretch_table_and_the_reverse(tmp_path):
    e = write(tmp_path, "stretch,nominal_stress_MPa\n1.2,0.3\n2.0,0.8\n3.0,1.2\n", "c.csv")
    with pytest.raises(DataError, match="biaxial"):
        load_multiaxial(e, mode="biaxial")
    p = write(tmp_path, "stretch1,stretch2,nominal_stress1_MPa,nominal_stress2_MPa\n1.1,1,1,1\n1.2,1,2,2\n1.3,1,3,3\n")
    with pytest.raises(DataError, match="general biaxial"):
        load_multiaxial(p, mode="uniaxial")


@pytest.mark.parametrize("row, where, what", [
    ("1.2,1,1e200,2", "line 3, column 3 ('nominal_stress1_GPa')", "'1e200' is a stress of 1e+209 Pa"),
    ("1.2,1,1,1e300", "line 3, column 4 ('nominal_stress2_Pa')", "'1e300' is a stress of 1e+300 Pa"),
    ("1e150,1,1,1", "line 3, column 1 ('stretch1')", "'1e150' is a stretch of 1e+150"),
])
def test_biaxial_values_beyond_the_fits_range_are_refused_where_they_are(tmp_path, row, where, what):
    path = tmp_path / "bx.csv"
    path.write_text(f"stretch1,stretch2,nominal_stress1_GPa,nominal_stress2_Pa\n1.1,1,1,1\n{row}\n1.3,1,3,3\n")
    with pytest.raises(DataError) as info:
        load_multiaxial(path)
    assert f"{path}, {where}: {what}" in str(info.value) and "expected |" in str(info.value)
