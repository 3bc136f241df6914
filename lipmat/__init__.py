"""lipmat: Lipschitz-certified neural constitutive models.

Subpackages: :mod:`lipmat.lipschitz` (spectral normalisation, certificates, empirical bounds),
:mod:`lipmat.models`, :mod:`lipmat.data`, :mod:`lipmat.fit`, :mod:`lipmat.io`, :mod:`lipmat.cli`.
"""
from lipmat._version import __version__
from lipmat.errors import CertificateError, DataError, LipmatError, LipmatWarning, ModelFileError

__all__ = ["__version__", "LipmatError", "DataError", "CertificateError", "ModelFileError", "LipmatWarning"]
