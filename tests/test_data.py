"""lipmat.fitting.data readers and lipmat.fitting.metrics: units, kinematics, Mandel conversion, every bad-input error."""
import math
import re
from pathlib import Path

import numpy as np
import pytest

from lipmat.fitting import metrics
from lipmat.fitting.data import LOAD_CASES, TensorTable, UniaxialCurve, load_csv, load_table, load_uniaxial
from lipmat.errors import DataError, LipmatError

DATA = Path(__file__).resolve().parents[1] / "data"


def write(tmp_path, text, name="curve.csv"):
    p = tmp_path / name
    p.write_text(text)
    return p


GOOD = "stretch,nominal_stress_MPa\n1.1,0.1\n1.5,0.3\n2.0,0.5\n"


# -- curves ------------------------------------------------------------------------------------
def test_treloar_files_load_with_their_load_cases():
    cases = {"uniaxial": ("uniaxial", 24), "equibiaxial": ("equibiaxial", 16), "pureshear": ("pure_shear", 13)}
    for stem, (case, rows) in cases.items():
        c = load_csv(DATA / f"treloar_{stem}.csv")
        assert isinstance(c, UniaxialCurve) and c.load_case == case and len(c) == rows
        assert c.provenance["unit"] == "MPa" and c.provenance["rows"] == rows
        assert c.provenance["columns"] == ["stretch", "nominal_stress_MPa"]
        assert len(c.provenance["sha256"]) == 64
    c = load_uniaxial(DATA / "treloar_uniaxial.csv")
    assert c.strain[0] == pytest.approx(0.02, abs=1e-15) and c.stress[0] == pytest.approx(0.0255e6)
    assert np.all(np.diff(c.strain) > 0)


def test_units_give_the_same_si_values(tmp_path):
    ref = load_uniaxial(write(tmp_path, "strain,stress_Pa\n0.1,100000\n0.5,300000\n1,500000\n", "a.csv"))
    for text, opt in [("strain,stress_kPa\n0.1,100\n0.5,300\n1,500\n", None),
                      ("strain,stress_MPa\n0.1,0.1\n0.5,0.3\n1,0.5\n", None),
                      ("strain,stress_GPa\n0.1,1e-4\n0.5,3e-4\n1,5e-4\n", None),
                      ("strain,stress\n0.1,0.1\n0.5,0.3\n1,0.5\n", "MPa"),
                      ("strain,stress_MPa\n0.1,0.1\n0.5,0.3\n1,0.5\n", "MPa")]:
        c = load_uniaxial(write(tmp_path, text, "b.csv"), stress_unit=opt)
        np.testing.assert_allclose(c.stress, ref.stress, rtol=1e-14)
        assert c.provenance["unit_source"] == ("option" if "_" not in text.split(",")[1][:12] else "column")
    # no unit anywhere: refused (a stress in MPa read as Pa would be off by 1e6, silently)
    with pytest.raises(DataError, match=r"column 2 \('stress'\): the stress column has no unit; expected a suffix"):
        load_uniaxial(write(tmp_path, "strain,stress\n0.1,1\n0.5,3\n1,5\n"))


def test_stretch_and_percent_strain_become_engineering_strain(tmp_path):
    a = load_uniaxial(write(tmp_path, "stretch,nominal_stress_Pa\n1.1,1\n1.5,3\n2.0,5\n", "a.csv"))
    b = load_uniaxial(write(tmp_path, "strain_percent,stress_Pa\n10,1\n50,3\n100,5\n", "b.csv"))
    np.testing.assert_allclose(a.strain, [0.1, 0.5, 1.0], rtol=1e-14)
    np.testing.assert_allclose(b.strain, a.strain, rtol=1e-14)
    np.testing.assert_allclose(a.stretch, [1.1, 1.5, 2.0], rtol=1e-15)


def test_sorting_duplicates_comments_blank_lines_bom_semicolon(tmp_path):
    # a decreasing curve (recorded from the largest stretch down) with a repeated last row
    text = "\ufeff# a comment\n# load_case: equibiaxial\nstretch;nominal_stress_kPa\n2.0;5\n\n1.5;3\n1.1;1\n1.1;1\n"
    c = load_uniaxial(write(tmp_path, text))
    np.testing.assert_allclose(c.strain, [0.1, 0.5, 1.0])
    np.testing.assert_allclose(c.stress, [1e3, 3e3, 5e3])
    assert c.load_case == "equibiaxial" and c.provenance["load_case_source"] == "comment"
    assert c.provenance["duplicates_dropped"] == 1


def test_load_case_rules(tmp_path):
    assert load_uniaxial(write(tmp_path, GOOD)).load_case == "uniaxial"
    assert load_uniaxial(write(tmp_path, GOOD), load_case="pure_shear").load_case == "pure_shear"
    assert load_uniaxial(write(tmp_path, GOOD, "x_pure_shear.csv")).load_case == "pure_shear"
    shear = write(tmp_path, "shear_strain,shear_stress_kPa\n0.1,1\n0.2,2\n0.4,3.5\n", "s.csv")
    c = load_csv(shear)
    assert c.load_case == "simple_shear" and c.provenance["load_case_source"] == "columns"
    np.testing.assert_allclose(c.strain, [0.1, 0.2, 0.4])
    with pytest.raises(DataError, match="simple shear|shear strain"):
        c.stretch
    with pytest.raises(DataError, match=r"load case 'simple_shear' \(from option\) expects"):
        load_uniaxial(write(tmp_path, GOOD), load_case="simple_shear")
    with pytest.raises(DataError, match=r"load case 'uniaxial' \(from option\) expects"):
        load_uniaxial(shear, load_case="uniaxial")
    with pytest.raises(DataError, match="load case must be one of"):
        load_uniaxial(write(tmp_path, GOOD), load_case="torsion")
    assert set(LOAD_CASES) == {"uniaxial", "equibiaxial", "pure_shear", "simple_shear"}


# every bad-input case: (file text, stress_unit option, regex the message must match).
# Messages carry the file path; line and column are checked where the problem has them.
BAD = {
    "empty": ("", None, r"the file is empty"),
    "only comments": ("# nothing\n\n", None, r"the file is empty"),
    "header only": ("stretch,nominal_stress_MPa\n", None, r"at least 3 distinct data points, received 0"),
    "two points": ("stretch,nominal_stress_MPa\n1.1,0.1\n1.2,0.2\n", None, r"at least 3 .* received 2"),
    "missing stress": ("stretch\n1.1\n1.2\n1.3\n", None, r"line 1: missing a stress column"),
    "missing strain": ("nominal_stress_MPa\n1\n2\n3\n", None, r"line 1: missing a strain column"),
    "unknown column": ("strech,nominal_stress_MPa\n1.1,1\n1.2,2\n1.3,3\n", None,
                       r"line 1, column 1 \('strech'\): unknown column 'strech'; did you mean 'stretch'\?"),
    "extra column": ("stretch,nominal_stress_MPa,temp\n1.1,1,20\n1.2,2,20\n1.3,3,20\n", None,
                     r"line 1, column 3 \('temp'\): unknown column"),
    "duplicate column": ("stretch,stretch\n1,1\n2,2\n3,3\n", None, r"line 1: column 'stretch' appears twice"),
    "two strains": ("stretch,strain,stress\n1,0,1\n2,1,2\n3,2,3\n", None,
                    r"line 1, column 2 \('strain'\): a second strain column"),
    "non-numeric": ("stretch,nominal_stress_MPa\n1.1,0.1\n1.2,abc\n1.3,0.3\n", None,
                    r"line 3, column 2 \('nominal_stress_MPa'\): expected a number .*, received 'abc'"),
    "empty cell": ("stretch,nominal_stress_MPa\n1.1,0.1\n,0.2\n1.3,0.3\n", None,
                   r"line 3, column 1 \('stretch'\): expected a number .*, received an empty cell"),
    "underscore": ("stretch,nominal_stress_MPa\n1.1,0.1\n1.2,1_0\n1.3,0.3\n", None,
                   r"line 3, column 2 \('nominal_stress_MPa'\): expected a number .*, received '1_0'"),
    "no unit": ("stretch,nominal_stress\n1.1,1\n1.2,2\n1.3,3\n", None,
                r"line 1, column 2 \('nominal_stress'\): the stress column has no unit"),
    "load and unload": ("stretch,nominal_stress_MPa\n1.1,0.1\n1.5,0.3\n1.3,0.2\n", None,
                        r"line 4, column 1 \('stretch'\): the strain increases up to line 3 and turns back"),
    "binary": ("stretch,nominal_stress_MPa\n1.1,0.1\x00\n", None, r"a binary file \(NUL byte at offset 34\)"),
    "overflow": ("stretch,nominal_stress_GPa\n1.1,0.1\n1.2,1e300\n1.3,0.3\n", None,
                 r"line 3, column 2 \('nominal_stress_GPa'\): '1e300' GPa overflows"),
    "nan": ("stretch,nominal_stress_MPa\n1.1,0.1\n1.2,nan\n1.3,0.3\n", None,
            r"line 3, column 2 \('nominal_stress_MPa'\): expected a finite number, received 'nan'"),
    "inf": ("stretch,nominal_stress_MPa\n1.1,0.1\n1.2,0.2\ninf,0.3\n", None,
            r"line 4, column 1 \('stretch'\): expected a finite number, received 'inf'"),
    "stretch zero": ("stretch,nominal_stress_MPa\n1.1,0.1\n0,0.2\n1.3,0.3\n", None,
                     r"line 3, column 1 \('stretch'\): expected a stretch > 0, received '0'"),
    "strain <= -1": ("strain,stress_Pa\n-0.5,1\n-1.5,2\n-1.7,3\n", None,
                     r"line 3, column 1 \('strain'\): expected an engineering strain > -1"),
    "conflicting duplicate": ("stretch,nominal_stress_MPa\n1.1,0.1\n1.2,0.2\n1.2,0.3\n1.4,0.4\n", None,
                              r"lines 3 and 4, columns \['stretch'\]: the same strain appears twice"),
    "ragged": ("stretch,nominal_stress_MPa\n1.1,0.1\n1.2,0.2,7\n1.3,0.3\n", None,
               r"line 3: expected 2 cells .* received 3"),
    "short row": ("stretch,nominal_stress_MPa\n1.1,0.1\n1.2\n1.3,0.3\n", None, r"line 3: expected 2 cells"),
    "unit suffix": ("stretch,nominal_stress_psi\n1.1,1\n1.2,2\n1.3,3\n", None,
                    r"line 1, column 2 \('nominal_stress_psi'\): cannot read the unit 'psi'"),
    "unit option": (GOOD.replace("_MPa", ""), "Mpascal", r"stress_unit must be one of .* received 'Mpascal'"),
    "unit conflict": (GOOD, "kPa", r"line 1, column 2 \('nominal_stress_MPa'\): the column says MPa but "
                                   r"stress_unit='kPa'"),
    "shear mix": ("shear_strain,nominal_stress_Pa\n0.1,1\n0.2,2\n0.3,3\n", None, r"shear_strain goes with shear_stress"),
    "table to curve": ("e11,s11\n0.1,1\n0.2,2\n0.3,3\n", None, r"this is a tensor table"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_curve_files(tmp_path, case):
    text, unit, pattern = BAD[case]
    path = write(tmp_path, text)
    with pytest.raises(DataError, match=pattern) as err:
        load_uniaxial(path, stress_unit=unit)
    assert str(path) in str(err.value)


def test_comment_rows_inside_data_do_not_shift_line_numbers(tmp_path):
    path = write(tmp_path, "# head\n\nstretch,nominal_stress_MPa\n1.1,0.1\n# note\n\n1.2,x\n1.3,0.3\n")
    with pytest.raises(DataError, match=r"line 7, column 2"):
        load_uniaxial(path)


def test_missing_file_and_undecodable(tmp_path):
    with pytest.raises(FileNotFoundError, match="not found"):
        load_uniaxial(tmp_path / "nope.csv")
    p = tmp_path / "bin.csv"
    p.write_bytes(b"stretch,stress\n\xff\xfe,1\n")
    with pytest.raises(DataError, match="UTF-8"):
        load_csv(p)


# -- tensor tables -------------------------------------------------------------------------------
def test_plane_strain_table_to_mandel_with_engineering_shear(tmp_path):
    rows = [(0.01, -0.002, 0.004, 1.0, 0.5, 0.25), (0.02, -0.004, 0.006, 2.0, 1.0, 0.3),
            (0.03, 0.001, -0.002, 3.0, 1.5, -0.1)]
    tensor = "e11,e22,e12,s11_MPa,s22_MPa,s12_MPa\n" + "\n".join(",".join(map(str, r)) for r in rows)
    eng = "e11,e22,g12,s11_MPa,s22_MPa,s12_MPa\n" + "\n".join(
        ",".join(map(str, (r[0], r[1], 2 * r[2]) + r[3:])) for r in rows)
    a = load_table(write(tmp_path, tensor, "a.csv"))
    b = load_csv(write(tmp_path, eng, "b.csv"))
    assert isinstance(b, TensorTable) and a.kinematics == b.kinematics == "plane_strain"
    r = np.array(rows)
    s2 = math.sqrt(2)
    np.testing.assert_allclose(a.strain, np.c_[r[:, 0], r[:, 1], s2 * r[:, 2]], rtol=1e-14)
    np.testing.assert_allclose(a.stress, 1e6 * np.c_[r[:, 3], r[:, 4], s2 * r[:, 5]], rtol=1e-14)
    np.testing.assert_allclose(b.strain, a.strain, rtol=1e-14)
    assert b.provenance["engineering_shear"] == ["12"] and a.provenance["engineering_shear"] == []
    # Mandel: the dot product is the work density σ:ε of the tensors
    work = r[:, 0] * r[:, 3] + r[:, 1] * r[:, 4] + 2 * r[:, 2] * r[:, 5]
    np.testing.assert_allclose(np.sum(a.strain * a.stress, axis=1), 1e6 * work, rtol=1e-13)


def test_3d_and_1d_tables(tmp_path, rng):
    cols = ["e11", "e22", "e33", "g23", "e13", "e12", "s11", "s22", "s33", "s23", "s13", "s12"]
    vals = rng.normal(size=(4, 12))
    p = write(tmp_path, ",".join(cols) + "\n" + "\n".join(",".join(repr(float(v)) for v in row) for row in vals))
    t = load_table(p, stress_unit="kPa")
    assert t.kinematics == "3d" and t.strain.shape == (4, 6) and t.provenance["unit"] == "kPa"
    order = np.lexsort(vals[:, :6].T[::-1] * np.array([1, 1, 1, 0.5, 1, 1])[::-1, None])
    v = vals[order]
    s2 = math.sqrt(2)
    np.testing.assert_allclose(t.strain, v[:, :6] * [1, 1, 1, s2 / 2, s2, s2], rtol=1e-14)
    np.testing.assert_allclose(t.stress, 1e3 * v[:, 6:] * [1, 1, 1, s2, s2, s2], rtol=1e-14)
    one = load_csv(write(tmp_path, "e11,s11_GPa\n0.1,1\n0.2,2\n0.3,3\n", "one.csv"))
    assert one.kinematics == "uniaxial" and one.stress.shape == (3, 1) and one.stress[2, 0] == 3e9


BAD_TABLES = {
    "missing stress": ("e11,e22,e12,s11_Pa,s22_Pa\n" + "1,2,3,4,5\n" * 3, r"line 1: plane_strain table .* missing "
                                                                      r"columns \['s12'\]"),
    "missing 3d": ("e11,e22,e33,s11_Pa,s22_Pa,s33_Pa\n" + "1,2,3,4,5,6\n" * 3, r"3d table .* missing columns "
                                                                      r"\['e23', 'e13', 'e12', 's23'"),
    "unknown": ("e11,e22,e12,s11_Pa,s22_Pa,s21_Pa\n" + "1,2,3,4,5,6\n" * 3,
                r"line 1, column 6 \('s21_Pa'\): unknown column 's21_Pa'; did you mean 's23'\?"),
    "g on diagonal": ("g11,s11_Pa\n1,2\n2,3\n3,4\n", r"column 1 \('g11'\): unknown column"),
    "twice": ("e12,g12,e11,e22,s11_Pa,s22_Pa,s12_Pa\n" + "1,2,3,4,5,6,7\n" * 3, r"column 2 \('g12'\): component 12 given twice"),
    "mixed units": ("e11,e22,e12,s11_MPa,s22_MPa,s12\n" + "1,2,3,4,5,6\n" * 3,
                    r"column 6 \('s12'\): the stress column has no unit"),
    "bad unit": ("e11,s11_bar\n1,2\n2,3\n3,4\n", r"column 2 \('s11_bar'\): cannot read the unit 'bar'"),
    "strain unit": ("e11_MPa,s11_Pa\n1,2\n2,3\n3,4\n", r"column 1 \('e11_MPa'\): unknown column"),
    "non-numeric": ("e11,s11_Pa\n1,2\n2,x\n3,4\n", r"line 3, column 2 \('s11_Pa'\): expected a number"),
    "nan": ("e11,s11_Pa\n1,2\nnan,3\n3,4\n", r"line 3, column 1 \('e11'\): expected a finite number"),
    "conflict": ("e11,s11_Pa\n1,2\n2,3\n1,4\n", r"lines 2 and 4, columns \['e11'\]: the same strain appears twice"),
    "too few": ("e11,s11_Pa\n1,2\n2,3\n2,3\n", r"at least 3 distinct data points, received 2"),
}


@pytest.mark.parametrize("case", sorted(BAD_TABLES))
def test_bad_tables(tmp_path, case):
    text, pattern = BAD_TABLES[case]
    path = write(tmp_path, text)
    with pytest.raises(DataError, match=pattern) as err:
        load_csv(path)
    assert str(path) in str(err.value)


# -- metrics -----------------------------------------------------------------------------------
def test_metrics_values():
    y = np.array([1.0, 2.0, 4.0])
    yhat = np.array([1.1, 1.8, 4.0])
    assert metrics.rmse(y, yhat) == pytest.approx(math.sqrt((0.01 + 0.04) / 3))
    assert metrics.mape(y, yhat) == pytest.approx(100 * (0.1 + 0.1 + 0) / 3)
    ss_tot = np.sum((y - y.mean()) ** 2)
    assert metrics.r2(y, yhat) == pytest.approx(1 - 0.05 / ss_tot)
    assert metrics.r2(y, y) == 1.0 and metrics.r2(y, np.full(3, y.mean())) == pytest.approx(0.0)
    # zeros in y are left out of MAPE; constant y: R² is 1 only for an exact fit
    assert metrics.mape([0.0, 2.0], [5.0, 1.0]) == pytest.approx(50.0)
    assert metrics.r2([3.0, 3.0], [3.0, 3.0]) == 1.0 and metrics.r2([3.0, 3.0], [3.0, 2.0]) == -math.inf
    for bad in [([0.0, 0.0], [1.0, 1.0]), ([1.0], [1.0, 2.0]), ([1.0, np.nan], [1.0, 1.0]), ([], [])]:
        with pytest.raises(LipmatError, match=re.compile("expected|zero")):
            metrics.mape(*bad)
