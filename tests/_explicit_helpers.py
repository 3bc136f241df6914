"""Shared oracles for the explicit-solver tests (dense eigen-solves on small meshes)."""
import numpy as np
import scipy.linalg

import fem


def exact_critical_dt(mesh, material, density, fixed_dofs=()):
    """2 / ω_max of M⁻¹K on the free dofs, by a dense symmetric eigen-solve (small meshes only)."""
    a = fem.Assembly(mesh)
    k = a.stiffness_matrix(material.linear_stiffness()).toarray()
    m = a.lumped_mass(density).numpy()
    free = np.setdiff1d(np.arange(a.n_dofs), np.asarray(fixed_dofs, dtype=np.int64))
    s = 1.0 / np.sqrt(m[free])
    w2 = scipy.linalg.eigvalsh(s[:, None] * k[np.ix_(free, free)] * s[None, :])
    return 2.0 / np.sqrt(w2.max())


def zero_crossings(t, y):
    """Times where y changes sign, by linear interpolation between samples."""
    t, y = np.asarray(t), np.asarray(y)
    i = np.flatnonzero(np.sign(y[:-1]) * np.sign(y[1:]) < 0)
    return t[i] - y[i] * (t[i + 1] - t[i]) / (y[i + 1] - y[i])


class Recorder:
    """A stand-in for fem.io.output.FieldWriter: keeps what solve() hands it."""

    def __init__(self):
        self.frames, self.closed = [], 0

    def write(self, t, point_data, cell_data=None):
        self.frames.append((t, point_data, cell_data))

    def close(self):
        self.closed += 1
