"""Lipschitz toolbox: spectral normalisation, exact norms, layer controls, certificates, empirical bounds.

Usable on any torch model. A number this package calls *certified* is a proven upper bound (exact SVD
norms, never power-iteration estimates); :func:`empirical_lipschitz` gives the matching lower bound.

- :mod:`.spectral`     ``spectral_norm``, ``refine_estimates`` — the parametrization W -> k·W/σ̂ (persistent u, v)
- :mod:`.norms`        ``exact_norm``, ``frobenius_norm``, ``power_estimate``, ``effective_weight``
- :mod:`.controls`     ``apply_control`` (hard | penalty | clip | frobenius | none), ``control_penalty``
- :mod:`.activations`  ``GroupSort``, ``MaxMin``, ``ACTIVATION_CONSTANTS``, ``activation_constant``
- :mod:`.blocks`       ``Residual``, ``Scale``
- :mod:`.certificate`  ``lipschitz_bound``
- :mod:`.empirical`    ``empirical_lipschitz`` -> ``EmpiricalBound(value, x, sampled)``, ``jacobian``

May import: lipmat.errors.
"""
from lipmat.lipschitz.activations import ACTIVATION_CONSTANTS, GroupSort, MaxMin, activation_constant
from lipmat.lipschitz.blocks import Residual, Scale
from lipmat.lipschitz.certificate import lipschitz_bound
from lipmat.lipschitz.controls import MODES, Control, apply_control, control_of, control_penalty
from lipmat.lipschitz.empirical import EmpiricalBound, empirical_lipschitz, jacobian
from lipmat.lipschitz.norms import effective_weight, exact_norm, frobenius_norm, power_estimate
from lipmat.lipschitz.spectral import SpectralNorm, refine_estimates, spectral_norm

__all__ = [
    "spectral_norm", "SpectralNorm", "refine_estimates",
    "exact_norm", "frobenius_norm", "power_estimate", "effective_weight",
    "apply_control", "control_penalty", "control_of", "Control", "MODES",
    "GroupSort", "MaxMin", "ACTIVATION_CONSTANTS", "activation_constant",
    "Residual", "Scale",
    "lipschitz_bound",
    "empirical_lipschitz", "EmpiricalBound", "jacobian",
]
