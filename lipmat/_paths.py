"""Where the measurements shipped with the project live: the package ``lipmat.datasets``.

``lipmat.datasets`` is the repository's ``data/`` folder, mapped into the package by setup.py
(``package_dir``): one copy of the files and of their README/provenance, installed with the package by
``pip install .`` (a wheel) and ``pip install -e .`` alike. Files are found through importlib.resources;
a source checkout that was never installed falls back to its own ``data/`` folder.
"""
from __future__ import annotations

from importlib import resources
from pathlib import Path

#: ``data/`` of a source checkout (used only when the package ``lipmat.datasets`` is not importable).
CHECKOUT_DATA_DIR = Path(__file__).resolve().parents[1] / "data"


def data_dir() -> Path:
    """The folder holding the shipped data: the installed ``lipmat.datasets``, else the checkout's data/."""
    try:
        # a namespace package's root is a MultiplexedPath; a file inside it is a plain Path
        readme = resources.files("lipmat.datasets").joinpath("README.md")
    except ModuleNotFoundError:
        return CHECKOUT_DATA_DIR
    return readme.parent if isinstance(readme, Path) and readme.is_file() else CHECKOUT_DATA_DIR


def shipped_data(name: str) -> Path:
    """Path of a shipped data file, e.g. ``"treloar_uniaxial.csv"`` or ``"meshes/beam.msh"``.

    FileNotFoundError names the folder searched and what it holds.
    """
    base = data_dir()
    path = base / name
    if not path.is_file():
        have = sorted(p.name for p in base.glob("*")) if base.is_dir() else []
        raise FileNotFoundError(f"shipped data file {name!r} not found in {base} (found: {', '.join(have) or 'nothing'}); "
                                "the lipmat installation is incomplete: reinstall with `pip install .`")
    return path
