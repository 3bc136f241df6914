"""Model files: weights, model config, certificate, data provenance, fit metrics, lipmat version.

A model file is ``torch.save`` of one plain dict (tensors, str, int, float, bool, None, lists, dicts)::

    {"format": "lipmat-model", "format_version": 1, "lipmat_version": "0.1.0",
     "model": {"name": "uniaxial", "config": {...}, "kinematics": "uniaxial"},
     "state_dict": {name: tensor},
     "certificate": {"kind": "scalar" | "matrix" | "none", "value": float | [[...]] | None},
     "provenance": [{"file", "sha256", "columns", "unit", ...}, ...],
     "metrics": {...fit report...}}

:func:`load` reads it with ``torch.load(weights_only=True)`` (no code from the file runs), rebuilds the
model from its registry name and config, recomputes the certificate and refuses a file whose stored
certificate differs (relative 1e-9): weights edited after certification, or a certificate edited by
hand, are both caught. Non-finite weights (NaN, inf) and a non-finite certificate are refused on load
and on save: a NaN compares unequal to everything, so it would otherwise slip past both checks. Writes are atomic: a temporary file in the same folder, then ``os.replace``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from fem.io.atomic import atomic_write
from lipmat._version import __version__
from lipmat.errors import CertificateError, ModelFileError

FORMAT = "lipmat-model"
FORMAT_VERSION = 1
#: Relative tolerance between a stored and a recomputed certificate.
CERTIFICATE_RTOL = 1e-9


@dataclass
class ModelFile:
    """A loaded model file: the model (eval mode) and what the file says about it."""
    model: nn.Module
    name: str
    certificate: dict
    provenance: list
    metrics: dict
    lipmat_version: str
    path: str


def certificate_of(model) -> dict:
    """{"kind", "value"} of ``model.stiffness_bound()``: a float, an (n, n) matrix as lists, or none."""
    try:
        bound = model.stiffness_bound()
    except CertificateError:
        return {"kind": "none", "value": None}
    if bound is None:
        return {"kind": "none", "value": None}
    if isinstance(bound, torch.Tensor) and bound.dim() == 2:
        return {"kind": "matrix", "value": bound.detach().to(torch.float64).cpu().tolist()}
    return {"kind": "scalar", "value": float(bound)}


def _plain(value):
    """Recursively turn numpy/torch scalars, tuples and paths into plain str/int/float/list/dict."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (np.generic,)):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().tolist()
    if isinstance(value, Path):
        return str(value)
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def save(model: nn.Module, path, *, report=None, provenance=None) -> Path:
    """Write ``model`` to ``path`` atomically; returns the path.

    Args:
        model: a lipmat model (``name``, ``config()``, ``stiffness_bound()``).
        report: a FitReport (or dict) stored as the file's metrics; its provenance is used when
            ``provenance`` is not given.
        provenance: list of data-provenance dicts (file, sha256, columns, unit, ...).
    """
    path = Path(path)
    config = getattr(model, "config", None)
    if not callable(config) or not getattr(model, "name", None):
        raise ModelFileError(f"save: expected a lipmat model with name and config(), received {type(model).__name__}")
    metrics = report.to_dict() if hasattr(report, "to_dict") else dict(report or {})
    if provenance is None:
        provenance = metrics.get("provenance", [])
    _check_finite_weights(path, model.state_dict(), "save")
    was_training = model.training
    model.eval()
    try:
        payload = {
            "format": FORMAT, "format_version": FORMAT_VERSION, "lipmat_version": __version__,
            "model": {"name": model.name, "config": _plain(model.config()), "kinematics": model.kinematics},
            "state_dict": {k: v.detach().cpu().clone() for k, v in model.state_dict().items()},
            "certificate": certificate_of(model),
            "provenance": _plain(list(provenance)),
            "metrics": _plain(metrics),
        }
    finally:
        model.train(was_training)
    if not _finite_certificate(payload["certificate"]):
        raise ModelFileError(f"save {path}: the model's stiffness certificate is not finite "
                             f"({payload['certificate']['value']!r}); refusing to write it")
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise FileNotFoundError(f"save: folder {directory} does not exist (writing {path})")
    atomic_write(path, lambda tmp: torch.save(payload, tmp))
    return path


def load_file(path) -> ModelFile:
    """Read, rebuild and re-certify a model file; see the module docstring.

    Raises FileNotFoundError for a missing path, ModelFileError for a corrupt or foreign file, an
    unknown model name, weights that do not fit the config, or a certificate that does not match.
    """
    from lipmat.models import MODELS
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"model file {path} not found")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:          # pickle/zip errors, or an object weights_only refuses
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelFileError(f"{path}: not a readable lipmat model file ({type(exc).__name__}: {first[:200]})") from exc
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ModelFileError(f"{path}: not a lipmat model file (expected a dict with format={FORMAT!r}, "
                             f"received {type(payload).__name__}"
                             f"{' with format=' + repr(payload.get('format')) if isinstance(payload, dict) else ''})")
    if payload.get("format_version") != FORMAT_VERSION:
        raise ModelFileError(f"{path}: format_version {payload.get('format_version')!r} is not supported "
                             f"(expected {FORMAT_VERSION})")
    try:
        info, state, stored = payload["model"], payload["state_dict"], payload["certificate"]
        name, config = info["name"], info["config"]
    except (KeyError, TypeError) as exc:
        raise ModelFileError(f"{path}: model file is missing the entry {exc}") from exc
    if not isinstance(name, str) or name not in MODELS:
        raise ModelFileError(f"{path}: unknown model {name!r}; expected one of {sorted(MODELS)}")
    if not isinstance(state, dict):
        raise ModelFileError(f"{path}: state_dict must be a dict of tensors, received {type(state).__name__}")
    _check_finite_weights(path, state, "load")
    try:
        model = MODELS[name].from_config(config)
        if isinstance(model, nn.Module):
            model.load_state_dict(state, strict=True)
            model.eval()
    except Exception as exc:
        raise ModelFileError(f"{path}: cannot rebuild model {name!r} from the file: {exc}") from exc
    try:
        recomputed = certificate_of(model)
    except Exception as exc:
        raise ModelFileError(f"{path}: cannot recompute the certificate of model {name!r}: {exc}") from exc
    if not _finite_certificate(recomputed):
        raise ModelFileError(f"{path}: the certificate recomputed from the weights is not finite "
                             f"({recomputed['value']!r}); refusing a damaged model file")
    _check_certificate(path, stored, recomputed)
    return ModelFile(model=model, name=name, certificate=recomputed, provenance=payload.get("provenance", []),
                     metrics=payload.get("metrics", {}), lipmat_version=str(payload.get("lipmat_version")),
                     path=str(path))


def _check_finite_weights(path, state: dict, what: str) -> None:
    """ModelFileError naming the first tensor with NaN/inf entries (or a non-tensor entry)."""
    where = f"{path}" if what == "load" else f"{what} {path}"
    for key, value in state.items():
        if not isinstance(value, torch.Tensor):
            raise ModelFileError(f"{where}: state_dict entry {key!r} must be a tensor, "
                                 f"received {type(value).__name__}")
        if value.is_floating_point() or value.is_complex():
            bad = int((~torch.isfinite(value)).sum())
            if bad:
                raise ModelFileError(f"{where}: weight {key!r} has {bad} non-finite entr"
                                     f"{'y' if bad == 1 else 'ies'} (NaN or inf) of {value.numel()}; "
                                     f"expected finite weights")


def _finite_certificate(cert: dict) -> bool:
    if cert.get("kind") == "none":
        return True
    try:
        return bool(np.all(np.isfinite(np.asarray(cert.get("value"), dtype=np.float64))))
    except (TypeError, ValueError):
        return False


def _check_certificate(path, stored, recomputed) -> None:
    if not isinstance(stored, dict) or stored.get("kind") != recomputed["kind"]:
        raise ModelFileError(f"{path}: stored certificate {stored!r} does not match the recomputed one "
                             f"(kind {recomputed['kind']!r}); the file was altered or is damaged")
    if recomputed["kind"] == "none":
        return
    a = np.asarray(stored.get("value"), dtype=np.float64)
    b = np.asarray(recomputed["value"], dtype=np.float64)
    scale = float(np.abs(b).max()) if b.size else 0.0
    if a.shape != b.shape or not np.all(np.isfinite(a)) or \
            float(np.abs(a - b).max()) > CERTIFICATE_RTOL * max(scale, math.ulp(1.0)):
        shown = f"{float(a.max()):.9g}" if a.size and a.shape == b.shape else repr(stored.get("value"))
        raise ModelFileError(f"{path}: stored certificate {shown} Pa does not match the bound recomputed from "
                             f"the weights, {float(b.max()):.9g} Pa; refusing an altered or damaged model file")


def load(path) -> nn.Module:
    """The model stored in ``path`` (eval mode), after re-certifying it (see :func:`load_file`)."""
    return load_file(path).model
