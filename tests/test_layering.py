"""Imports flow one way: each sub-package imports only what its docstring's "May import:" line declares.

The rule is read from the packages themselves (the line in each ``__init__`` docstring), so the
documentation and the check cannot drift apart. Every import counts, also those deferred into a
function body. The test is checked against a planted violation, so it cannot pass vacuously.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Top-level modules of lipmat (no package of their own) and the top floors, declared here.
MODULE_RULES = {
    "lipmat.errors": set(),
    "lipmat._version": set(),
    "lipmat._paths": set(),
    "lipmat.io": {"lipmat.errors", "lipmat._version", "lipmat.models", "fem"},
    "lipmat.certify": {"lipmat.errors", "lipmat.lipschitz", "lipmat.models", "fem"},
}
TOP_FLOORS = {"fem", "fem.deck", "lipmat", "lipmat.cli", "lipmat.__main__"}  # may import anything below


def unit_of(module: str) -> str:
    """The layering unit a dotted module belongs to: its sub-package (fem.solver, lipmat.fitting, ...)."""
    parts = module.split(".")
    if parts[0] == "fem":
        return "fem" if len(parts) == 1 else "fem." + parts[1]
    if parts[0] == "lipmat":
        if len(parts) == 1:
            return "lipmat"
        return "lipmat." + parts[1]
    return parts[0]


def declared(unit: str) -> set[str] | None:
    """The units ``unit`` may import, from its docstring ("May import: a, b." / "nothing else in fem")."""
    if unit in MODULE_RULES:
        return MODULE_RULES[unit]
    if unit in TOP_FLOORS:
        return None
    init = ROOT / Path(*unit.split(".")) / "__init__.py"
    doc = ast.get_docstring(ast.parse(init.read_text())) or ""
    m = re.search(r"May import:\s*(.+?)(?:\n\n|$)", doc, re.S)
    assert m, f"{init}: the docstring has no 'May import:' line"
    text = " ".join(m.group(1).split())
    if text.startswith("nothing"):
        return set()
    if text.startswith("every other"):
        return None
    return {unit_of(n) for n in re.findall(r"\b(?:fem|lipmat)(?:\.[A-Za-z_]+)?", text)}


def resolve(root: Path, dotted: str) -> str:
    """The longest prefix of ``dotted`` that is a module or package under ``root`` (drops attribute names)."""
    parts = dotted.split(".")
    for k in range(len(parts), 0, -1):
        p = root.joinpath(*parts[:k])
        if p.with_suffix(".py").is_file() or (p / "__init__.py").is_file():
            return ".".join(parts[:k])
    return parts[0]


def imports_of(path: Path, module: str, root: Path = ROOT) -> set[str]:
    """Every fem/lipmat module ``path`` imports, at any depth of the file (lazy imports included)."""
    found = set()
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative import: resolve against the module's package
                pkg = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(pkg + ([node.module] if node.module else []))
            found |= {f"{base}.{a.name}" for a in node.names}
    return {resolve(root, n) for n in found if n.split(".")[0] in ("fem", "lipmat")}


def violations(root: Path = ROOT) -> list[str]:
    """One line per import against the declared direction, in every module under ``root``/fem and /lipmat."""
    bad = []
    for path in sorted((root / "fem").rglob("*.py")) + sorted((root / "lipmat").rglob("*.py")):
        module = ".".join(path.relative_to(root).with_suffix("").parts).removesuffix(".__init__")
        unit = unit_of(module)
        allowed = declared(unit)
        for target in sorted(imports_of(path, module, root)):
            tunit = unit_of(target)
            if unit.startswith("fem") and tunit.startswith("lipmat"):
                bad.append(f"{module} imports {target}: fem never imports lipmat")
            elif allowed is None or tunit == unit or tunit in allowed:
                continue
            elif tunit.startswith("fem") and "fem" in allowed:  # lipmat may use any part of fem
                continue
            else:
                bad.append(f"{module} imports {target}: {unit} may import only {sorted(allowed) or 'nothing'}")
    return bad


def test_every_sub_package_declares_its_imports():
    for init in sorted((ROOT / "fem").rglob("__init__.py")) + sorted((ROOT / "lipmat").rglob("__init__.py")):
        doc = ast.get_docstring(ast.parse(init.read_text()))
        assert doc, f"{init.relative_to(ROOT)} has no opening docstring"


def test_imports_flow_one_way():
    assert violations() == []


@pytest.mark.parametrize("where, line", [
    ("fem/core/limits.py", "from fem.solver.explicit import solve\n"),      # up from the ground floor
    ("fem/materials/stiffening.py", "def f():\n    import fem.discretisation.mesh\n"),  # lazy, sideways
    ("fem/io/output.py", "from fem.stability import timestep\n"),
    ("fem/solver/plan.py", "import lipmat\n"),                               # fem -> lipmat
    ("lipmat/models/mlp.py", "from lipmat.fitting import fit\n"),
    ("fem/discretisation/bc.py", "def g():\n    import fem\n"),                # a floor importing the whole house
])
def test_a_planted_violation_is_found(tmp_path, where, line):
    import shutil
    for top in ("fem", "lipmat"):
        shutil.copytree(ROOT / top, tmp_path / top, ignore=shutil.ignore_patterns("__pycache__"))
    target = tmp_path / where
    target.write_text(target.read_text() + "\n" + line)
    found = violations(tmp_path)
    assert any(where.removesuffix(".py").replace("/", ".") in v for v in found), found
