"""The embedded default job, ``lipmat demo``: its two halves.

- :mod:`lipmat.demo.bar` — fit Treloar's uniaxial curve, certify it, pull a rubber strip at the step an
  initial modulus gives and at the certified step.
- :mod:`lipmat.demo.sheet` — fit Treloar's three tests at once and pull a plane-strain sheet with a hole.

May import: lipmat.errors, lipmat._paths, lipmat.lipschitz, lipmat.models, lipmat.io, lipmat.certify,
lipmat.fitting, fem.
"""
