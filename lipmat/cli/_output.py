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
