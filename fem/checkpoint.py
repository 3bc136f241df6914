"""Checkpoints of an explicit run: ``torch.save`` of the state tensors and accumulators, atomically.

A checkpoint holds everything the run needs to continue bit for bit: the :class:`State` tensors, the
step, the energy accumulators and the histories recorded so far (energy rows, probes, kept fields,
monitor). Nothing random is involved. The file is written to a temporary name in the same folder
and moved into place with ``os.replace``, so a crash never leaves a half-written checkpoint.
"""
from __future__ import annotations

import logging
from pathlib import Path

import torch

from fem.atomic import atomic_write
from fem.errors import FemError

__all__ = ["save_checkpoint", "load_checkpoint", "CHECKPOINT_VERSION"]

log = logging.getLogger(__name__)
CHECKPOINT_VERSION = 1


def save_checkpoint(path, payload: dict) -> Path:
    """Write ``payload`` (tensors moved to CPU by the caller or here) to ``path`` atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"version": CHECKPOINT_VERSION, **payload}
    atomic_write(path, lambda tmp: torch.save(payload, tmp))
    log.debug("checkpoint step %s written to %s", payload.get("step"), path)
    return path


def load_checkpoint(path) -> dict:
    """Read a checkpoint written by :func:`save_checkpoint`; FemError if it is not one."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"checkpoint not found: {path}")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as exc:
        raise FemError(f"cannot read checkpoint {path}: {exc}") from exc
    if not isinstance(payload, dict) or payload.get("version") != CHECKPOINT_VERSION:
        raise FemError(f"{path} is not a fem checkpoint of version {CHECKPOINT_VERSION} "
                       f"(got {type(payload).__name__} version {getattr(payload, 'get', lambda k: None)('version')})")
    return payload
