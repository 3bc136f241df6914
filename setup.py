"""Which packages the distribution holds; all other metadata is in pyproject.toml.

The measurements in ``data/`` ship inside the package as ``lipmat.datasets`` (read through
importlib.resources by :func:`lipmat._paths.shipped_data`): the folder stays the one place where the data
and their README/provenance live, and a wheel (``pip install .``) still carries them.
"""
from setuptools import find_packages, setup

setup(
    packages=find_packages(include=["lipmat", "lipmat.*", "fem", "fem.*"]) + ["lipmat.datasets"],
    package_dir={"lipmat.datasets": "data"},
    package_data={"lipmat.datasets": ["*.csv", "*.md", "vhb4910/*.csv", "meshes/*.msh", "meshes/*.vtu", "meshes/*.xdmf", "meshes/*.h5",
                                      "meshes/*.inp", "meshes/*.md"]},
    exclude_package_data={"lipmat.datasets": ["meshes/*.py"]},
)
