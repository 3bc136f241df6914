"""What every command shares about its output: strict JSON for ``--json`` (non-finite numbers become
null, never NaN/Infinity), and the checks of an output path, fem's own checks worded for the command
line (one implementation: the solver's writers and the CLI refuse the same paths)."""
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
    under a file.

    The checks are fem's (:func:`fem.io.atomic.check_target`, :func:`fem.io.output.prepare_output_dir`),
    the same ones every fem writer applies; this function words their findings for the command line,
    ``{option} {path}: ...``, naming the part in the way.
    """
    from fem.core.errors import FemError
    from fem.io.atomic import check_target
    from fem.io.output import prepare_output_dir
    from lipmat.errors import LipmatError

    path = Path(path)
    try:
        prepare_output_dir(path.parent, what, create=False)
    except FemError:
        raise LipmatError(f"{what} {path}: {_blocker(path)} is a file, not a folder; expected a file path in a "
                          f"folder") from None
    try:
        check_target(path, what)
    except FemError:
        if path.is_dir():
            raise LipmatError(f"{what} {path}: is a folder; expected a file name") from None
        raise LipmatError(f"{what} {path}: exists and is not a regular file (a FIFO, socket or device); "
                          f"expected a new or regular file") from None
    if create:
        prepare_output_dir(path.parent, what)
    return path


def output_dir(path, what: str, *, create: bool = True) -> Path:
    """Create folder ``path`` (and its parents; only check with ``create=False``); LipmatError naming the
    file in the way if one is. The check and the creation are fem's :func:`fem.io.output.prepare_output_dir`."""
    from fem.core.errors import FemError
    from fem.io.output import prepare_output_dir
    from lipmat.errors import LipmatError

    path = Path(path)
    try:
        prepare_output_dir(path, what, create=False)
    except FemError:
        raise LipmatError(f"{what} {path}: {_blocker(path, itself=True)} is a file, not a folder; expected a "
                          f"folder path") from None
    return prepare_output_dir(path, what) if create else path


def _blocker(path: Path, itself: bool = False) -> Path:
    """The nearest of ``path`` (with ``itself``) and its parents that exists as something other than a
    folder: what fem's check found in the way, named for the message."""
    return next((p for p in ([path] if itself else []) + list(path.parents) if p.exists() and not p.is_dir()),
                path if itself else path.parent)
