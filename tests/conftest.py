"""Test-wide settings: float64, seeded generators, our own warnings are errors."""
import random
import warnings

import numpy as np
import pytest
import torch

from fem.core.errors import FemWarning
from lipmat.errors import LipmatWarning

torch.set_default_dtype(torch.float64)
# Small problems: torch's OpenMP team spinning on 2 shared cores made a 100-dof run 120x slower.
torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _seeded_and_strict():
    """Every test starts from the same seeds, and a warning from lipmat or fem fails it."""
    random.seed(0)
    np.random.seed(0)
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", LipmatWarning)
        warnings.simplefilter("error", FemWarning)
        yield


@pytest.fixture
def rng():
    """A seeded numpy Generator."""
    return np.random.default_rng(1234)
