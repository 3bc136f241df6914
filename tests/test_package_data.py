"""The shipped data travel with the package: data/ is installed as ``lipmat.datasets``.

Fast: every data file in data/ is covered by setup.py's package_data and found by ``shipped_data``
(one copy: nothing under lipmat/ duplicates it). Slow (builds a wheel): a non-editable install of the
wheel, used from another folder, holds every data file and runs ``lipmat demo --quick`` (the newcomer's
first command), with the checkout nowhere on the import path.
"""
import fnmatch
import hashlib
import importlib.util
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from lipmat._paths import data_dir, shipped_data

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
#: Files of data/ that are not data files: a tool kept out of the package, and the package marker.
NOT_SHIPPED = {"meshes/make_meshes.py", "__init__.py"}


def _data_files() -> list[str]:
    return sorted(p.relative_to(DATA).as_posix() for p in DATA.rglob("*")
                  if p.is_file() and "__pycache__" not in p.parts and p.relative_to(DATA).as_posix() not in NOT_SHIPPED)


def _package_data_patterns() -> list[str]:
    """The package_data globs of lipmat.datasets, read from setup.py without running it."""
    import ast

    tree = ast.parse((ROOT / "setup.py").read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg == "package_data":
            return list(ast.literal_eval(node.value)["lipmat.datasets"])
    raise AssertionError("setup.py has no package_data for lipmat.datasets")


def test_every_data_file_is_packaged_and_found():
    files = _data_files()
    assert {"treloar_uniaxial.csv", "README.md", "meshes/plate_with_hole.msh"} <= set(files)
    patterns = _package_data_patterns()
    unshipped = [f for f in files if not any(fnmatch.fnmatch(f, p) for p in patterns)]
    assert not unshipped, f"data files no package_data pattern ships: {unshipped}"
    for f in files:
        found = shipped_data(f)
        assert found.read_bytes() == (DATA / f).read_bytes()
    assert data_dir().resolve() == DATA.resolve()      # this checkout: the data folder itself, no copy


def test_no_duplicate_copy_inside_the_package():
    digests = {hashlib.sha256((DATA / f).read_bytes()).hexdigest() for f in _data_files()}
    for p in (ROOT / "lipmat").rglob("*"):
        if p.is_file() and p.suffix in (".csv", ".msh", ".md"):
            assert hashlib.sha256(p.read_bytes()).hexdigest() not in digests, f"{p} duplicates a file of data/"


def test_missing_file_names_the_folder():
    with pytest.raises(FileNotFoundError, match=r"'nope.csv' not found in .* \(found: .*treloar_uniaxial.csv"):
        shipped_data("nope.csv")


@pytest.mark.slow
def test_wheel_install_runs_the_demo_from_another_folder(tmp_path):
    """`pip install .` (a wheel, not editable), then `lipmat demo` elsewhere: the data come from the wheel."""
    isolation = [] if importlib.util.find_spec("setuptools") is None else ["--no-build-isolation"]
    wheels, target, work = tmp_path / "wheels", tmp_path / "site", tmp_path / "elsewhere"
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", *isolation, "-q", "-w",
                    str(wheels)], check=True, cwd=tmp_path)
    (wheel,) = wheels.glob("lipmat-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = [f for f in _data_files() if f"lipmat/datasets/{f}" not in names]
    assert not missing, f"the wheel lacks {missing}"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
                   check=True, cwd=tmp_path)
    work.mkdir()
    env = {**os.environ, "PYTHONPATH": str(target), "LIPMAT_DEBUG": "1"}
    where = subprocess.run([sys.executable, "-c", "import lipmat, lipmat._paths as p; print(lipmat.__file__); "
                            "print(p.data_dir())"], check=True, cwd=work, env=env, capture_output=True, text=True)
    module, data = where.stdout.split()
    assert Path(module).is_relative_to(target) and Path(data) == target / "lipmat" / "datasets"
    run = subprocess.run([sys.executable, "-m", "lipmat", "demo", "--quick", "--no-progress", "--json"],
                         cwd=work, env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    summary = json.loads(run.stdout)
    assert summary["data"] == "treloar_uniaxial.csv" and summary["certified_status"] == "completed"
    assert (work / "out" / "demo" / "summary.json").is_file()
