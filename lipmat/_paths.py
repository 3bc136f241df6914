"""Where the measurements shipped with the project live."""
from __future__ import annotations

from pathlib import Path

#: ``data/`` of the source checkout (the quick start installs in editable mode).
DATA_DIR = Path(__file__).resolve().parents[1] / "data"


def shipped_data(name: str) -> Path:
    """Path of a file in the project's ``data/`` folder; FileNotFoundError names what is there."""
    path = DATA_DIR / name
    if not path.is_file():
        have = sorted(p.name for p in DATA_DIR.glob("*")) if DATA_DIR.is_dir() else []
        raise FileNotFoundError(
            f"shipped data file {name!r} not found in {DATA_DIR} (found: {', '.join(have) or 'nothing'}); "
            "lipmat's shipped data needs a source checkout installed with `pip install -e .`")
    return path
