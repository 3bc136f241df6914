"""Constitutive models: strain -> stress in Mandel form, each with ``stiffness_bound()``.

May import: lipmat.errors, lipmat.lipschitz, fem.
"""

__all__: list[str] = []

#: Registry: model name -> class (``name``, ``kinematics``, ``stiffness_bound()``, ``config()``,
#: ``from_config(cfg)``). Model files store the name; modules append their own entries.
MODELS: dict[str, type] = {}

# neural models
from lipmat.models.isotropic import IsotropicPotential  # noqa: E402
from lipmat.models.mlp import LipschitzMLP  # noqa: E402
from lipmat.models.response import MonotoneResponse  # noqa: E402
from lipmat.models.uniaxial import UniaxialSN, UniaxialTangent  # noqa: E402

MODELS.update({cls.name: cls for cls in (UniaxialTangent, UniaxialSN, IsotropicPotential, LipschitzMLP)})
__all__ += ["MODELS", "UniaxialTangent", "UniaxialSN", "IsotropicPotential", "LipschitzMLP", "MonotoneResponse"]

# classical baselines
# (the 1D classes end in "Bar": fem.NeoHookean & co. are the finite-strain laws; the registry names
# "neohookean", "ogden3", ... are those stored in model files and stay as they are)
from lipmat.models.classical import (  # noqa: E402
    BASELINES, ArrudaBoyceBar, ClassicalUniaxial, GentBar, LinearElasticBar, MooneyRivlinBar, NeoHookeanBar,
    NoGlobalBound, OgdenBar, YeohBar, baseline_from_config, fit_baseline,
)

MODELS.update(BASELINES)
MODELS.update({f"ogden{k}": OgdenBar for k in range(1, 7)})
__all__ += ["BASELINES", "ClassicalUniaxial", "LinearElasticBar", "NeoHookeanBar", "MooneyRivlinBar", "YeohBar",
            "OgdenBar", "GentBar", "ArrudaBoyceBar", "NoGlobalBound", "fit_baseline", "baseline_from_config"]

# finite-strain neural law (a fem finite-strain material: F -> P, certified on a stretch domain)
from lipmat.models.hyperelastic import NeuralHyperelastic  # noqa: E402

MODELS[NeuralHyperelastic.name] = NeuralHyperelastic
__all__ += ["NeuralHyperelastic"]

# finite-strain viscoelastic law (equilibrium neural law + certified Maxwell branches) and its classical baseline
from lipmat.models.viscoelastic import NeuralViscoelastic  # noqa: E402
from lipmat.models.prony import PronyOgden  # noqa: E402

MODELS.update({NeuralViscoelastic.name: NeuralViscoelastic, PronyOgden.name: PronyOgden})
__all__ += ["NeuralViscoelastic", "PronyOgden"]
