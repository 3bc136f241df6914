"""Exceptions and warnings raised by fem.

Every error says what was expected and what was received, and where (element ids, step, time).
``FemError`` subclasses ``ValueError`` so bad input is caught the usual way.
"""


class FemError(ValueError):
    """Bad input to the finite element solver."""


class MeshError(FemError):
    """A mesh that cannot be used: inverted/degenerate elements, unsupported or mixed cells, unknown sets."""


class DeckError(FemError):
    """An input deck (TOML) with unknown keys, missing values or wrong types."""


class LimitError(FemError):
    """A run or generated mesh above a documented size limit (:mod:`fem.core.limits`): steps, frames, bytes, cells."""


class NoStiffnessBound(FemError):
    """Raised by a material's ``stiffness_bound()`` when it has no global stiffness bound, saying why.

    The one way a material says so (:mod:`fem.materials.protocol`): the solver then has no certified step and runs
    only with a numeric dt. Any other exception from ``stiffness_bound()`` is a bug and propagates.
    """


class SimulationError(RuntimeError):
    """A run that had to stop (instability, NaN, inverted element, interrupt).

    The solver attaches the partial result as ``.result`` so nothing computed is lost.
    """

    def __init__(self, message: str, result=None):
        super().__init__(message)
        self.result = result


class FemWarning(UserWarning):
    """Warnings issued by fem itself (tests turn these into errors)."""
