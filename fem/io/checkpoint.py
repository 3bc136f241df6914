"""Checkpoints of an explicit run: state tensors and histories in plain containers, written atomically.

A checkpoint holds everything the run needs to continue bit for bit: the :class:`State` tensors, the
step, the energy accumulators and the histories recorded so far (energy rows, probes, kept fields,
monitor). Nothing random is involved. The file is written to a temporary name in the same folder
and moved into place with ``os.replace``, so a crash never leaves a half-written checkpoint.

Safety: a restart file may come from anywhere, so it is read with ``torch.load(weights_only=True)``,
which unpickles only tensors and plain containers (dict, list, tuple, str, numbers, None) and never
calls a class or function named in the file. To stay within that set the payload is *encoded* on save:
numpy arrays become ``{"__ndarray__": tensor}`` and numpy scalars Python numbers; :func:`load_checkpoint`
decodes them back. A file that needs anything else (a crafted pickle with a ``__reduce__`` payload, or a
checkpoint of another program) is refused with a FemError, without running it.
"""
from __future__ import annotations

import logging
import pickle
from pathlib import Path

import numpy as np
import torch

from fem.io.atomic import atomic_write
from fem.core.errors import FemError

__all__ = ["save_checkpoint", "load_checkpoint", "CHECKPOINT_VERSION"]

log = logging.getLogger(__name__)
#: 2: plain containers only, read with weights_only=True (version 1 files were full pickles)
CHECKPOINT_VERSION = 2
_ARRAY = "__ndarray__"


def _encode(obj, where: str = "payload"):
    """``obj`` with numpy arrays/scalars turned into tensors/Python numbers (see the module docstring)."""
    if isinstance(obj, torch.Tensor):
        return obj.detach().cpu()
    if isinstance(obj, np.ndarray):
        if obj.dtype.kind not in "biuf":
            raise FemError(f"cannot checkpoint {where}: numpy array of dtype {obj.dtype} (numbers only)")
        return {_ARRAY: torch.from_numpy(np.ascontiguousarray(obj).copy())}
    if isinstance(obj, np.generic):
        return obj.item()
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, dict):
        if _ARRAY in obj:
            raise FemError(f"cannot checkpoint {where}: the key {_ARRAY!r} is reserved")
        return {k: _encode(v, f"{where}[{k!r}]") for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        out = [_encode(v, f"{where}[{i}]") for i, v in enumerate(obj)]
        return out if isinstance(obj, list) else tuple(out)
    raise FemError(f"cannot checkpoint {where}: {type(obj).__name__} is not a tensor, array, number, string "
                   f"or plain container")


def _decode(obj):
    if isinstance(obj, dict):
        if set(obj) == {_ARRAY} and isinstance(obj[_ARRAY], torch.Tensor):
            return obj[_ARRAY].numpy()
        return {k: _decode(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_decode(v) for v in obj]
    if isinstance(obj, tuple):
        return tuple(_decode(v) for v in obj)
    return obj


def save_checkpoint(path, payload: dict) -> Path:
    """Write ``payload`` (tensors, numpy arrays, numbers, strings, dicts, lists, tuples) to ``path`` atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    encoded = _encode({"version": CHECKPOINT_VERSION, **payload})
    atomic_write(path, lambda tmp: torch.save(encoded, tmp))
    log.debug("checkpoint step %s written to %s", payload.get("step"), path)
    return path


def load_checkpoint(path) -> dict:
    """Read a checkpoint written by :func:`save_checkpoint` safely (``weights_only=True``); FemError if it
    is not one, or if it needs anything beyond tensors and plain containers (it is then not executed)."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"checkpoint not found: {path}")
    if not path.is_file():   # a folder, FIFO or device: reading it would fail or block
        raise FemError(f"cannot read checkpoint {path}: it is not a regular file")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise FemError(f"refused checkpoint {path}: it needs more than tensors and plain containers to load "
                       f"(nothing in it was run); {first}") from None
    except Exception as exc:
        raise FemError(f"cannot read checkpoint {path}: {exc}; expected a file written by fem "
                       f"(save_checkpoint / solve(checkpoint=...))") from None
    version = payload.get("version") if isinstance(payload, dict) else None
    if version != CHECKPOINT_VERSION:
        raise FemError(f"{path} is not a fem checkpoint of version {CHECKPOINT_VERSION} "
                       f"(got {type(payload).__name__} with version {version!r}); write it again with this fem")
    return _decode(payload)
