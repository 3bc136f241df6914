"""Fitting: from CSV measurements to a certified law.

- :mod:`lipmat.fitting.data` — CSV readers and validation (units, columns, load cases):
  :func:`load_csv`, :func:`load_uniaxial`, :func:`load_table`.
- :mod:`lipmat.fitting.loadcases` — the stress a 1D or small-strain law gives in each test's load case.
- :mod:`lipmat.fitting.multiaxial` — uniaxial/equibiaxial/pure-shear/biaxial tests for finite strain.
- :mod:`lipmat.fitting.metrics` — R², MAPE and the other per-curve figures of a fit report.
- :mod:`lipmat.fitting.stress_strain` — :func:`fit` of a σ(ε) law (1D, small strain) -> :class:`FitResult`.
- :mod:`lipmat.fitting.hyperelastic` — :func:`fit_hyperelastic` of a P(F) law on several tests at once.
- :mod:`lipmat.fitting.plots` — the fit figure.

May import: lipmat.errors, lipmat.lipschitz, lipmat.models, lipmat.io, lipmat.certify, fem.
"""
from lipmat.fitting.data import TensorTable, UniaxialCurve, load_csv, load_table, load_uniaxial
from lipmat.fitting.multiaxial import MultiaxialCurve, load_multiaxial, load_tests
from lipmat.fitting.stress_strain import FitReport, FitResult, fit
from lipmat.fitting.hyperelastic import HyperelasticFit, fit_hyperelastic

__all__ = ["TensorTable", "UniaxialCurve", "load_csv", "load_table", "load_uniaxial", "MultiaxialCurve",
           "load_multiaxial", "load_tests", "FitReport", "FitResult", "fit", "HyperelasticFit", "fit_hyperelastic"]
