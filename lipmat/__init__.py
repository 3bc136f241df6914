"""lipmat: Lipschitz-certified neural constitutive models.

Subpackages: :mod:`lipmat.lipschitz` (spectral normalisation, certificates, empirical bounds),
:mod:`lipmat.models`, :mod:`lipmat.fitting.data`, :mod:`lipmat.fitting.stress_strain`, :mod:`lipmat.io`, :mod:`lipmat.cli`.
"""
from lipmat._version import __version__
from lipmat.errors import CertificateError, DataError, LipmatError, LipmatWarning, ModelFileError

__all__ = ["__version__", "LipmatError", "DataError", "CertificateError", "ModelFileError", "LipmatWarning"]

# lazy `lipmat.load`, `lipmat.save`, so that `import lipmat` stays light (no torch).
# (`fit` is not aliased: the submodule `lipmat.fitting.stress_strain` would shadow it once imported.)
_LAZY = {"load": ("lipmat.io", "load"), "save": ("lipmat.io", "save")}
__all__ += list(_LAZY)


def __getattr__(name):
    if name in _LAZY:
        import importlib
        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'lipmat' has no attribute {name!r}")
