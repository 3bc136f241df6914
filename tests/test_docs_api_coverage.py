"""The generated API reference covers every public module: each module of fem and lipmat whose name has
no leading underscore appears in an ``automodule`` directive of a page under docs/api/. The
subcommand modules of :mod:`lipmat.cli` are the exception: their interface is the command line, whose
reference is each ``lipmat SUBCOMMAND --help`` (their module docstrings) and docs/running.md.

A module added to the code without a line in the reference would be invisible in the documentation
site while the strict build still passed; this test catches that. It is checked on a planted module so
it cannot pass by finding nothing.
"""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_AUTOMODULE = re.compile(r"^\.\.\s+automodule::\s+([\w.]+)", re.M)


def public_modules(root: Path = ROOT) -> set[str]:
    """Dotted names of the public modules and packages of fem and lipmat under ``root``."""
    names = set()
    for top in ("fem", "lipmat"):
        for path in (root / top).rglob("*.py"):
            parts = path.relative_to(root).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            if any(p.startswith("_") for p in parts) or "__pycache__" in path.parts:
                continue
            if parts[:2] == ("lipmat", "cli") and len(parts) > 2:  # documented by --help
                continue
            names.add(".".join(parts))
    return names


def documented(root: Path = ROOT) -> set[str]:
    """Modules named by an ``automodule`` directive in docs/api/*.rst."""
    return {m for page in (root / "docs" / "api").glob("*.rst") for m in _AUTOMODULE.findall(page.read_text())}


def test_every_public_module_is_in_the_api_reference():
    missing = sorted(public_modules() - documented())
    assert missing == [], f"add an automodule line to docs/api/ for: {missing}"


def test_the_reference_names_no_module_that_does_not_exist():
    assert sorted(documented() - public_modules()) == []


def test_a_planted_module_is_found_missing(tmp_path):
    (tmp_path / "fem" / "solver").mkdir(parents=True)
    (tmp_path / "lipmat").mkdir()
    (tmp_path / "docs" / "api").mkdir(parents=True)
    (tmp_path / "fem" / "solver" / "new_thing.py").write_text("")
    (tmp_path / "docs" / "api" / "fem.rst").write_text(".. automodule:: fem.solver\n")
    assert public_modules(tmp_path) - documented(tmp_path) == {"fem.solver.new_thing"}
