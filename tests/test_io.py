"""Model files: round trip, re-certification on load, tampered / corrupt / foreign / missing files."""
import math
from pathlib import Path

import pytest
import torch

import lipmat
from lipmat.errors import ModelFileError
from lipmat.fitting.stress_strain import fit
from lipmat.io import load, load_file, save
from lipmat.models import IsotropicPotential, LipschitzMLP, UniaxialTangent


TRELOAR = Path(__file__).resolve().parents[1] / "data" / "treloar_uniaxial.csv"


@pytest.fixture(scope="module")
def fitted():
    torch.manual_seed(0)
    return fit("uniaxial", TRELOAR, epochs=100, lbfgs_steps=10)


def test_round_trip_keeps_function_certificate_and_provenance(fitted, tmp_path):
    path = save(fitted.model, tmp_path / "m.pt", report=fitted.report)
    loaded = load_file(path)
    x = torch.linspace(-2, 10, 101).unsqueeze(-1)
    assert torch.equal(loaded.model(x), fitted.model(x))
    assert loaded.certificate["value"] == fitted.model.stiffness_bound()
    assert loaded.provenance[0]["sha256"] == fitted.report.provenance[0]["sha256"]
    assert loaded.metrics["r2"] == fitted.report.r2
    assert isinstance(lipmat.load(path), UniaxialTangent)
    assert not list(tmp_path.glob("*.tmp"))           # the atomic write left nothing behind


@pytest.mark.parametrize("model", [
    IsotropicPotential("plane_strain", 1e9, 3e8),
    LipschitzMLP("3d", 1e9, 8, 2).finalize(),
])
def test_round_trip_other_models(model, tmp_path):
    path = save(model, tmp_path / "m.pt")
    again = load(path)
    e = torch.randn(7, model.n) * 1e-3
    assert torch.equal(again(e), model.eval()(e))


def test_tampered_certificate_is_refused(fitted, tmp_path):
    path = save(fitted.model, tmp_path / "m.pt")
    payload = torch.load(path, weights_only=True)
    payload["certificate"]["value"] *= 0.5
    torch.save(payload, path)
    with pytest.raises(ModelFileError, match="does not match"):
        load(path)


def test_tampered_weights_are_refused(fitted, tmp_path):
    path = save(fitted.model, tmp_path / "m.pt")
    payload = torch.load(path, weights_only=True)
    payload["state_dict"]["response.logits"][-1] -= 5.0      # raise the tangent: certificate now too low
    torch.save(payload, path)
    with pytest.raises(ModelFileError, match="does not match"):
        load(path)


def test_corrupt_foreign_and_missing_files(tmp_path):
    corrupt = tmp_path / "corrupt.pt"
    corrupt.write_bytes(b"this is not a torch file")
    with pytest.raises(ModelFileError, match="not a readable lipmat model file"):
        load(corrupt)
    foreign = tmp_path / "foreign.pt"
    torch.save({"weights": torch.zeros(3)}, foreign)
    with pytest.raises(ModelFileError, match="not a lipmat model file"):
        load(foreign)
    with pytest.raises(FileNotFoundError, match="not found"):
        load(tmp_path / "missing.pt")


def test_unknown_model_name_is_refused(fitted, tmp_path):
    path = save(fitted.model, tmp_path / "m.pt")
    payload = torch.load(path, weights_only=True)
    payload["model"]["name"] = "quantum"
    torch.save(payload, path)
    with pytest.raises(ModelFileError, match="unknown model 'quantum'"):
        load(path)


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_non_finite_weights_are_refused_on_load_and_save(fitted, tmp_path, value):
    """A NaN compares unequal to everything: without its own check it would pass the certificate test."""
    path = save(fitted.model, tmp_path / "m.pt")
    payload = torch.load(path, weights_only=True)
    key = "response.logits"
    payload["state_dict"][key][0] = value
    torch.save(payload, path)
    with pytest.raises(ModelFileError, match=rf"weight '{key}' has 1 non-finite entry"):
        load(path)
    bad = UniaxialTangent.from_config(fitted.model.config())
    bad.load_state_dict(payload["state_dict"])
    with pytest.raises(ModelFileError, match="non-finite"):
        save(bad, tmp_path / "bad.pt")
    assert not (tmp_path / "bad.pt").exists()


@pytest.mark.parametrize("value", [math.nan, math.inf])
def test_non_finite_stored_certificate_is_refused(fitted, tmp_path, value):
    path = save(fitted.model, tmp_path / "m.pt")
    payload = torch.load(path, weights_only=True)
    payload["certificate"]["value"] = value
    torch.save(payload, path)
    with pytest.raises(ModelFileError, match="does not match"):
        load(path)
