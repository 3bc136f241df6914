"""Strict JSON for every ``--json`` output: non-finite numbers become null, never NaN/Infinity."""
from __future__ import annotations

import json
import math
from pathlib import Path


def finite(value):
    """``value`` with every non-finite float (recursively) replaced by None; numpy/torch scalars made plain."""
    if isinstance(value, dict):
        return {str(k): finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, (str, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Path):
        return str(value)
    item = getattr(value, "item", None)          # numpy / torch scalars
    if callable(item) and getattr(value, "ndim", 0) == 0:
        return finite(item())
    tolist = getattr(value, "tolist", None)      # numpy arrays / tensors
    if callable(tolist):
        return finite(tolist())
    return str(value)


def dumps(obj, **kw) -> str:
    """RFC 8259 JSON of ``obj`` (``allow_nan=False`` after :func:`finite`)."""
    return json.dumps(finite(obj), allow_nan=False, **kw)


def output_file(path, what: str, *, create: bool = False) -> Path:
    """``path`` checked for writing (its folder created with ``create``): LipmatError if it names a
    folder, a FIFO or a device (an atomic write would replace such a node by a regular file), or lies
    under a file."""
    import os
    import stat

    from lipmat.errors import LipmatError

    path = Path(path)
    if path.exists() or path.is_symlink():
        mode = os.stat(path).st_mode if path.exists() else 0
        if stat.S_ISDIR(mode):
            raise LipmatError(f"{what} {path}: is a folder; expected a file name")
        if path.exists() and not stat.S_ISREG(mode):
            raise LipmatError(f"{what} {path}: exists and is not a regular file (a FIFO, socket or device); "
                              f"expected a new or regular file")
    for part in path.parents:
        if part.exists() and not part.is_dir():
            raise LipmatError(f"{what} {path}: {part} is a file, not a folder; expected a file path in a folder")
    if create:
        path.parent.mkdir(parents=True, exist_ok=True)
    return path


def output_dir(path, what: str, *, create: bool = True) -> Path:
    """Create folder ``path`` (and its parents; only check with ``create=False``); LipmatError naming the
    file in the way if one is."""
    from lipmat.errors import LipmatError

    path = Path(path)
    for part in [path, *path.parents]:
        if part.exists() and not part.is_dir():
            raise LipmatError(f"{what} {path}: {part} is a file, not a folder; expected a folder path")
    if create:
        path.mkdir(parents=True, exist_ok=True)
    return path
