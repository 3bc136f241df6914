"""Bad measurement CSVs and model files through the command line: generated cases, each a clear one-line error.

Every case runs ``lipmat`` in-process (``main([...])``) and asserts the exit status (2: bad input), that
stderr holds no traceback, and that the one message names the file, key or line at fault and what was
expected (a regex per case). Command-line arguments, paths, exit codes and strict JSON are in
test_bad_input_args.py.
"""
from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from lipmat.cli import main

from _bad_input_helpers import assert_clear_error, run_cli

ROOT = Path(__file__).resolve().parents[1]
TRELOAR = ROOT / "data" / "treloar_uniaxial.csv"
DECK = ROOT / "examples" / "decks" / "bar_impact.toml"
GOOD_CURVE = "stretch,nominal_stress_MPa\n1.1,0.1\n1.3,0.25\n1.5,0.35\n2.0,0.5\n"


# -- measurement files ----------------------------------------------------------------------------
def _csv_cases() -> dict:
    """name -> (file bytes, regex; '{f}' stands for the file path)."""
    head = "stretch,nominal_stress_MPa\n"
    rows = ["1.1,0.1", "1.3,0.25", "1.5,0.35", "2.0,0.5"]
    cases = {}
    bad_cells = {"underscore": ("1_0", r"expected a number .*received '1_0'"),
                 "nan": ("nan", r"expected a finite number, received 'nan'"),
                 "NaN": ("NaN", r"expected a finite number, received 'NaN'"),
                 "inf": ("inf", r"expected a finite number, received 'inf'"),
                 "-inf": ("-inf", r"expected a finite number, received '-inf'"),
                 "Infinity": ("Infinity", r"expected a finite number"),
                 "hex": ("0x10", r"expected a number .*received '0x10'"),
                 "word": ("abc", r"expected a number .*received 'abc'"),
                 "space inside": ("1 0", r"expected a number .*received '1 0'"),
                 "comma decimal": ('"1,5"', r"expected a number .*received '1,5'"),
                 "empty": ("", r"expected a number .*received an empty cell"),
                 "overflow": ("1e999", r"expected a finite number, received '1e999' \(overflows\)")}
    for name, (cell, msg) in bad_cells.items():
        for line_idx in (0, 2):
            for col in (0, 1):
                r = list(rows)
                cells = r[line_idx].split(",")
                cells[col] = cell
                r[line_idx] = ",".join(cells)
                colname = ("stretch", "nominal_stress_MPa")[col]
                line = line_idx + 2
                cases[f"cell {name} line {line} col {col + 1}"] = (
                    head + "\n".join(r) + "\n", rf"{{f}}, line {line}, column {col + 1} \('{colname}'\): {msg}")
    units = {"no unit": ("nominal_stress", r"column 2 \('nominal_stress'\): the stress column has no unit; expected a suffix"),
             "psi": ("nominal_stress_psi", r"column 2 \('nominal_stress_psi'\): cannot read the unit 'psi'; expected a suffix"),
             "bar": ("stress_bar", r"column 2 \('stress_bar'\): cannot read the unit 'bar'"),
             "N/mm2": ("stress_N/mm2", r"column 2 \('stress_N/mm2'\): cannot read the unit"),
             "bare stress": ("stress", r"column 2 \('stress'\): the stress column has no unit")}
    for name, (col, msg) in units.items():
        cases[f"unit {name}"] = (f"stretch,{col}\n" + "\n".join(rows) + "\n", rf"{{f}}, line 1, {msg}")
    structure = {
        "empty file": ("", r"{f}: the file is empty; expected a header line"),
        "only comments": ("# a\n\n# b\n", r"{f}: the file is empty; expected a header line"),
        "header only": (head, r"{f}: expected at least 3 distinct data points, received 0"),
        "two rows": (head + "1.1,0.1\n1.2,0.2\n", r"{f}: expected at least 3 distinct data points, received 2"),
        "ragged row": (head + "1.1,0.1\n1.2,0.2,9\n1.3,0.3\n", r"{f}, line 3: expected 2 cells"),
        "short row": (head + "1.1,0.1\n1.2\n1.3,0.3\n", r"{f}, line 3: expected 2 cells"),
        "unknown column": ("strech,nominal_stress_MPa\n" + "\n".join(rows) + "\n",
                           r"{f}, line 1, column 1 \('strech'\): unknown column 'strech'; did you mean 'stretch'\?"),
        "extra column": ("stretch,nominal_stress_MPa,T\n1.1,0.1,20\n1.2,0.2,20\n1.3,0.3,20\n",
                         r"{f}, line 1, column 3 \('T'\): unknown column"),
        "duplicate column": ("stretch,stretch\n1,1\n2,2\n3,3\n", r"{f}, line 1: column 'stretch' appears twice"),
        "empty column name": ("stretch,,nominal_stress_MPa\n1,2,3\n", r"{f}, line 1: column 2 has an empty name"),
        "missing stress": ("stretch\n1.1\n1.2\n1.3\n", r"{f}, line 1: missing a stress column"),
        "missing strain": ("nominal_stress_MPa\n1\n2\n3\n", r"{f}, line 1: missing a strain column"),
        "stretch zero": (head + "1.1,0.1\n0,0.2\n1.3,0.3\n", r"{f}, line 3, column 1 \('stretch'\): expected a stretch > 0"),
        "stretch negative": (head + "-1.1,0.1\n-1.2,0.2\n-1.3,0.3\n",
                             r"{f}, line 2, column 1 \('stretch'\): expected a stretch > 0"),
        "strain below -1": ("strain,stress_Pa\n-0.5,1\n-1.5,2\n-1.7,3\n",
                            r"{f}, line 3, column 1 \('strain'\): expected an engineering strain > -1"),
        "load then unload": (head + "1.1,0.1\n1.5,0.3\n1.3,0.2\n",
                             r"{f}, line 4, column 1 \('stretch'\): the strain increases up to line 3 and turns back"),
        "unload then load": (head + "2.0,0.5\n1.5,0.3\n1.7,0.4\n",
                             r"{f}, line 4, column 1 \('stretch'\): the strain decreases up to line 3 and turns back"),
        "conflicting duplicate": (head + "1.1,0.1\n1.2,0.2\n1.2,0.3\n1.4,0.4\n",
                                  r"{f}, lines 3 and 4, columns \['stretch'\]: the same strain appears twice"),
        "unit overflow": ("stretch,nominal_stress_GPa\n1.1,1\n1.2,1e300\n1.3,2\n",
                          r"{f}, line 3, column 2 \('nominal_stress_GPa'\): '1e300' GPa overflows"),
        "stress beyond the fit's range": ("strain,stress_Pa\n0,0\n0.1,1e300\n0.2,2e300\n",
                                          r"{f}, line 3, column 2 \('stress_Pa'\): '1e300' is a stress of 1e\+300 Pa; "
                                          r"expected \|stress\| <= 1e\+100 Pa"),
        "stress beyond the fit's range in MPa": (head + "1.1,0.1\n1.2,-1e95\n1.3,0.3\n",
                                                 r"{f}, line 3, column 2 \('nominal_stress_MPa'\): '-1e95' is a stress "
                                                 r"of -1e\+101 Pa; expected \|stress\| <= 1e\+100 Pa"),
        "strain beyond the fit's range": ("strain,stress_Pa\n0,0\n1e200,1\n2e200,2\n",
                                          r"{f}, line 3, column 1 \('strain'\): '1e200' is a strain of 1e\+200; "
                                          r"expected \|strain\| <= 1e\+100"),
        "table stress beyond the fit's range": ("e11,s11_Pa\n0.1,1\n0.2,1e300\n0.3,3\n",
                                                r"{f}, line 3, column 2 \('s11_Pa'\): '1e300' is a stress of 1e\+300 Pa"),
        "shear mismatch": ("shear_strain,nominal_stress_Pa\n0.1,1\n0.2,2\n0.3,3\n", r"{f}, line 1: shear_strain goes with shear_stress"),
        "bad load case comment": ("# load_case: torsion\n" + head + "\n".join(rows) + "\n",
                                  r"{f}: load case must be one of .* received 'torsion' \(from comment\)"),
        "table without unit": ("e11,s11\n0.1,1\n0.2,2\n0.3,3\n", r"{f}, line 1, column 2 \('s11'\): the stress column has no unit"),
        "table missing component": ("e11,e22,e12,s11_Pa,s22_Pa\n1,2,3,4,5\n2,3,4,5,6\n3,4,5,6,7\n",
                                    r"{f}, line 1: plane_strain table .* missing columns \['s12'\]"),
        "unclosed quote": (head + '1.1,0.1\n"1.2,0.2\n1.3,0.3\n', r"{f}, line \d+: (malformed CSV|expected 2 cells)"),
    }
    cases.update(structure)
    cases["binary NUL"] = (head.encode() + b"1.1,\x00\x01\x02\n", r"{f}: a binary file \(NUL byte at offset \d+\); expected CSV text")
    cases["invalid UTF-8"] = (head.encode() + b"1.1,\xff\xfe\n", r"{f}: expected UTF-8 text, received undecodable bytes")
    cases["PNG"] = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", r"{f}: (a binary file|expected UTF-8)")
    return cases


CSV_CASES = _csv_cases()


def test_the_largest_accepted_stress_still_fits_with_finite_metrics(tmp_path, capsys):
    """Just inside the accepted range (1e99 Pa) the fit's squares and sums stay finite: R² is a number."""
    path = tmp_path / "big.csv"
    path.write_text("strain,stress_Pa\n0,0\n0.1,1e99\n0.2,2e99\n0.3,3.5e99\n")
    code = main(["fit", str(path), "--out", str(tmp_path / "m.pt"), "--epochs", "20", "--lbfgs", "5", "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 0 and report["r2"] is not None and math.isfinite(report["r2"]) and report["r2"] > 0.9


@pytest.mark.parametrize("case", sorted(CSV_CASES))
def test_bad_csv(case, tmp_path, capsys):
    content, pattern = CSV_CASES[case]
    path = tmp_path / "curve.csv"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    code, out, err = run_cli(["fit", path, "--out", tmp_path / "m.pt", "--epochs", "0", "--lbfgs", "0"], capsys)
    assert_clear_error(code, err, r"^lipmat fit: error: " + pattern.replace("{f}", str(path).replace("\\", "\\\\")))
    assert not (tmp_path / "m.pt").exists() and out == ""


@pytest.mark.parametrize("kind", ["missing", "folder"])
def test_csv_path_that_is_not_a_file(kind, tmp_path, capsys):
    path = tmp_path / "nope.csv"
    if kind == "folder":
        path.mkdir()
    code, _, err = run_cli(["fit", path, "--out", tmp_path / "m.pt"], capsys)
    expected = "measurement file not found: " if kind == "missing" else "is a folder; expected a CSV measurement file"
    assert_clear_error(code, err, f"{path}.*{expected}|{expected}{path}")


# -- model files ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def model_payload(tmp_path_factory):
    from lipmat.io import save
    from lipmat.models import UniaxialTangent

    path = tmp_path_factory.mktemp("model") / "good.pt"
    save(UniaxialTangent(1e6, 8, 4, strain_span=(0.0, 1.0)), path)
    return torch.load(path, weights_only=True)


class _Evil:
    """Unpickling this would run code (creates a marker file): weights_only loading must refuse it."""
    marker = None

    def __reduce__(self):
        return (open, (str(_Evil.marker), "w"))


def _model_cases() -> dict:
    """name -> (edit(payload, path) -> payload or bytes, regex)."""
    cases = {}
    for key in ("response.logits", "response.log_rate", "response.centre", "response.max_slope"):
        for value, word in ((math.nan, "nan"), (math.inf, "inf"), (-math.inf, "-inf")):
            def edit(p, _path, key=key, value=value):
                p["state_dict"][key].view(-1)[0] = value
                return p
            cases[f"weight {key} {word}"] = (edit, rf"weight '{key}' has 1 non-finite entry .*expected finite weights")
    for value, word in ((math.nan, "nan"), (math.inf, "inf"), (-1.0, "negative"), (0.0, "zero")):
        def edit(p, _path, value=value):
            p["certificate"]["value"] = value
            return p
        cases[f"stored certificate {word}"] = (edit, r"stored certificate .* does not match the bound recomputed")

    def scale_cert(p, _path):
        p["certificate"]["value"] *= 0.5
        return p
    cases["certificate halved"] = (scale_cert, r"does not match the bound recomputed from the weights")

    def steeper(p, _path):
        p["state_dict"]["response.logits"][-1] -= 5.0
        return p
    cases["weights edited"] = (steeper, r"does not match the bound recomputed from the weights")
    for entry in ("model", "state_dict", "certificate"):
        def edit(p, _path, entry=entry):
            del p[entry]
            return p
        cases[f"missing {entry}"] = (edit, rf"model file is missing the entry '{entry}'")
    simple = {
        "foreign format": (lambda p, _: {**p, "format": "other"}, r"not a lipmat model file \(expected a dict with format='lipmat-model'"),
        "future version": (lambda p, _: {**p, "format_version": 2}, r"format_version 2 is not supported \(expected 1\)"),
        "unknown model": (lambda p, _: {**p, "model": {**p["model"], "name": "quantum"}}, r"unknown model 'quantum'; expected one of"),
        "model name not text": (lambda p, _: {**p, "model": {**p["model"], "name": 3}}, r"unknown model 3; expected one of"),
        "list payload": (lambda p, _: [1, 2, 3], r"not a lipmat model file \(expected a dict .* received list"),
        "state not dict": (lambda p, _: {**p, "state_dict": [1.0]}, r"state_dict must be a dict of tensors, received list"),
        "state entry not tensor": (lambda p, _: {**p, "state_dict": {**p["state_dict"], "response.sign": 1.0}},
                                   r"state_dict entry 'response.sign' must be a tensor, received float"),
        "wrong shape": (lambda p, _: {**p, "state_dict": {**p["state_dict"], "response.logits": torch.zeros(3)}},
                        r"cannot rebuild model 'uniaxial' from the file"),
        "extra weight": (lambda p, _: {**p, "state_dict": {**p["state_dict"], "extra": torch.zeros(1)}},
                         r"cannot rebuild model 'uniaxial' from the file"),
        "bad config": (lambda p, _: {**p, "model": {**p["model"], "config": {"nonsense": 1}}},
                       r"cannot rebuild model 'uniaxial' from the file"),
        "garbage bytes": (lambda p, _: b"this is not a torch file", r"not a readable lipmat model file"),
        "empty file": (lambda p, _: b"", r"not a readable lipmat model file"),
        "truncated": (lambda p, path: path.read_bytes()[:200], r"not a readable lipmat model file"),
        "pickled code": (lambda p, _: {**p, "metrics": {"x": _Evil()}}, r"not a readable lipmat model file"),
        "pickled code in state": (lambda p, _: {**p, "state_dict": _Evil()}, r"not a readable lipmat model file"),
    }
    cases.update(simple)
    return cases


MODEL_CASES = _model_cases()


def _write_model(tmp_path, payload, name):
    import copy
    path = tmp_path / "model.pt"
    torch.save(payload, path)                      # the good file first (for "truncated")
    edit, pattern = MODEL_CASES[name]
    _Evil.marker = tmp_path / "pwned"
    result = edit(copy.deepcopy(payload), path)
    if isinstance(result, bytes):
        path.write_bytes(result)
    else:
        torch.save(result, path)
    return path, pattern


@pytest.mark.parametrize("case", sorted(MODEL_CASES))
def test_bad_model_file_certify(case, model_payload, tmp_path, capsys):
    path, pattern = _write_model(tmp_path, model_payload, case)
    code, out, err = run_cli(["certify", path, "--json"], capsys)
    assert_clear_error(code, err, rf"^lipmat certify: error: {path}: .*{pattern}|^lipmat certify: error: {path}: {pattern}")
    assert out == "" and not (tmp_path / "pwned").exists()


@pytest.mark.parametrize("case", ["weight response.logits nan", "stored certificate inf", "pickled code",
                                  "unknown model", "garbage bytes"])
def test_bad_model_file_dt(case, model_payload, tmp_path, capsys):
    path, pattern = _write_model(tmp_path, model_payload, case)
    code, _, err = run_cli(["dt", "--mesh", "bar:L=1,n=4", "--model", path, "--density", "1000"], capsys)
    assert_clear_error(code, err, rf"^lipmat dt: error: .*{path}: .*{pattern}|^lipmat dt: error: .*{path}: {pattern}")
    assert not (tmp_path / "pwned").exists()



def test_suite_size():
    """At least 100 generated cases of measurement and model files (the arguments add more in test_bad_input_args.py)."""
    counts = {"csv": len(CSV_CASES) + 2, "model file": len(MODEL_CASES) + 5}
    assert sum(counts.values()) >= 100, counts
