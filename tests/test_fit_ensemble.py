"""Fitted-law ensembles (lipmat.fitting.ensemble): bootstrap resamples, members certified as single fits.

The full path (`lipmat fit --ensemble` in parallel processes, then a sweep over the members on a
LocalCluster) is ``tests/test_sweep.py::test_an_ensemble_fit_and_a_sweep_over_its_members`` (slow).
"""
import json

import numpy as np
import pytest

from lipmat.fitting import load_csv
from lipmat.fitting.ensemble import bootstrap, fit_ensemble
from lipmat.io import load
from lipmat._paths import shipped_data


def test_a_bootstrap_resample_draws_points_of_the_data_with_replacement():
    c = load_csv(shipped_data("treloar_uniaxial.csv"))
    b = bootstrap(c, np.random.default_rng(3))
    assert len(b) == len(c) and np.all(np.diff(b.strain) >= 0)
    pairs = set(zip(c.strain, c.stress))
    assert all((e, s) in pairs for e, s in zip(b.strain, b.stress))
    assert len(set(b.strain)) < len(c)                       # with replacement: some points repeat
    assert b.provenance["file"] == c.provenance["file"] and len(b.provenance["bootstrap"]) == len(c)


def test_members_differ_share_the_cap_and_are_certified_as_single_fits(tmp_path):
    c = load_csv(shipped_data("treloar_uniaxial.csv"))
    m = fit_ensemble("uniaxial", [c], 2, tmp_path / "ens", epochs=60, lbfgs_steps=5, workers=1)
    assert json.loads((tmp_path / "ens" / "ensemble.json").read_text()) == json.loads(json.dumps(m))
    b = [x["stiffness_bound"] for x in m["members"]]
    assert b[0] != b[1] and max(b) <= m["cap"]
    assert m["dt_ratio"] == pytest.approx(np.sqrt(max(b) / min(b)))
    for x in m["members"]:
        model = load(tmp_path / "ens" / x["file"])         # re-certified on load
        assert model.stiffness_bound() == pytest.approx(x["stiffness_bound"])
        assert model.max_stiffness == pytest.approx(m["cap"])
    band = next(iter(m["band"].values()))
    assert 0 < band["mean_relative_width"] <= band["max_relative_width"]


@pytest.mark.parametrize("args, message", [(("mlp_x", 3), "expected a neural"), (("uniaxial", 1), r"\[2, 1000\]")])
def test_bad_ensembles_are_refused(tmp_path, args, message):
    from lipmat.errors import LipmatError

    c = load_csv(shipped_data("treloar_uniaxial.csv"))
    with pytest.raises(LipmatError, match=message):
        fit_ensemble(args[0], [c], args[1], tmp_path / "e")
    assert not (tmp_path / "e").exists()
