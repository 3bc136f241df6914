"""The measurements and meshes shipped with lipmat, installed as the package ``lipmat.datasets``.

Read them with :func:`lipmat._paths.shipped_data` (importlib.resources); README.md here gives their
provenance. This file only makes the folder a package, so that a wheel and an editable install carry it.
"""
