"""Exceptions and warnings raised by lipmat.

Every error says what was expected and what was received. ``LipmatError`` subclasses ``ValueError``
so callers that already catch bad input keep working; the CLI turns it into one line and exit 2.
"""


class LipmatError(ValueError):
    """Bad input or a failed check inside lipmat."""


class DataError(LipmatError):
    """A measurement file that cannot be read as asked (column, unit, value problems)."""


class CertificateError(LipmatError):
    """A module or model whose Lipschitz/stiffness certificate cannot be computed or does not match."""


class ModelFileError(LipmatError):
    """A model file that is corrupt, foreign, or whose stored certificate does not match."""


class LipmatWarning(UserWarning):
    """Warnings issued by lipmat itself (tests turn these into errors)."""
