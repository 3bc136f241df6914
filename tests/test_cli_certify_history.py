"""`lipmat certify` on a law with memory: the bound on the algorithmic tangent, never below what is found."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_viscoelastic_law import make_law  # noqa: E402

import lipmat  # noqa: E402
from lipmat.cli import main  # noqa: E402


def test_certify_a_viscoelastic_model_file(tmp_path, capsys):
    path = tmp_path / "ve.pt"
    lipmat.save(make_law(), path)
    assert main(["certify", str(path), "--json", "--samples", "2000"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["violations"] == 0 and r["samples"] == 2000
    assert r["empirical_stiffness"] <= r["stiffness_bound"] and 1.0 <= r["ratio"] < 1.1
    assert r["stiffness_bound"] == pytest.approx(r["isotropic"] + r["branches"], rel=1e-12)


def test_certify_refuses_a_non_positive_sample_count(tmp_path, capsys):
    path = tmp_path / "ve.pt"
    lipmat.save(make_law(), path)
    assert main(["certify", str(path), "--samples", "0"]) == 2
    assert "--samples must be a positive whole number, got 0" in capsys.readouterr().err
