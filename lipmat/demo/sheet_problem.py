"""The rubber sheet's problem: the :class:`SheetSetup`, its O-grid mesh, the fitted law, the pull and the
homogeneous reference force (:mod:`lipmat.demo.sheet` runs it and reports on it).

A square sheet (side ``side``, central hole of radius ``radius``, plane strain, depth ``thickness``)
held on its left edge and pulled along x by its right edge with a smooth ramp; the material is the
neural hyperelastic law fitted jointly to Treloar's three tests. See :mod:`lipmat.demo.sheet`.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import torch

__all__ = ["RUBBER_DENSITY", "TRELOAR_FILES", "FIT_FULL", "FIT_QUICK", "SheetSetup", "QUICK_SETUP", "sheet_mesh",
           "fit_treloar", "homogeneous_force", "edge_displacement", "sheet_problem"]

#: Density of natural rubber, kg/m³.
RUBBER_DENSITY = 1100.0
#: Treloar's three tests, in ``data/`` (20 °C).
TRELOAR_FILES = ("treloar_uniaxial.csv", "treloar_equibiaxial.csv", "treloar_pureshear.csv")
#: Adam epochs and L-BFGS iterations of the fit: full (the ``lipmat fit`` defaults) and quick.
FIT_FULL, FIT_QUICK = (1500, 2000), (600, 400)


@dataclass(frozen=True)
class SheetSetup:
    """The pulled sheet. Lengths in m, times in s, density kg/m³.

    side : edge of the square sheet; radius : the central hole; thickness : plane-strain depth (forces
    are per this depth). n_side : mesh segments along each edge (even; 4·n_side around the hole);
    n_radial : cell layers from the hole to the edges (graded: near-square cells at the hole).
    stretch : nominal stretch the right edge is pulled to; ramp_time, hold_time : the smooth pull and the
    hold after it. bulk_ratio : K/G of the law; domain : (λ_lo, λ_hi, J_lo, J_hi) certified.
    """

    side: float = 0.1
    radius: float = 0.0125
    thickness: float = 0.01
    n_side: int = 8
    n_radial: int = 6
    cell: str = "quad"
    density: float = RUBBER_DENSITY
    stretch: float = 3.0
    ramp_time: float = 0.04
    hold_time: float = 0.0
    bulk_ratio: float = 10.0
    domain: tuple = (0.15, 6.0, 0.9, 1.2)

    @property
    def t_end(self) -> float:
        return self.ramp_time + self.hold_time

    def to_dict(self) -> dict:
        return asdict(self)


QUICK_SETUP = SheetSetup(n_side=4, n_radial=3, stretch=1.5, ramp_time=0.02)


# -- mesh -----------------------------------------------------------------------------------------
def _grading(n: int, first: float) -> np.ndarray:
    """(n + 1,) increasing fractions 0 … 1 whose first step is ``first`` (geometric; uniform if first ≥ 1/n)."""
    if first >= 1.0 / n:
        return np.linspace(0.0, 1.0, n + 1)
    lo, hi = 1.0 + 1e-12, 10.0
    for _ in range(200):                      # (q − 1)/(qⁿ − 1) = first, decreasing in q
        q = 0.5 * (lo + hi)
        lo, hi = (q, hi) if (q - 1.0) / (q ** n - 1.0) > first else (lo, q)
    q = 0.5 * (lo + hi)
    return (q ** np.arange(n + 1) - 1.0) / (q ** n - 1.0)


def sheet_mesh(setup: SheetSetup = SheetSetup()):
    """A structured O-grid of the square sheet [0, side]² with the central hole: a :class:`fem.Mesh`.

    4·n_side points around the hole, each joined to a point of the outer square on the same ray from
    the centre; n_radial layers between them, geometrically graded so the cells at the hole are about
    square. Cells: ``setup.cell`` ("quad", or "triangle": each quad split in two). Node sets: left,
    right, bottom, top (the edges), hole, and mid_left / mid_right (the edge midpoints, y = side/2).
    """
    import fem

    n, m, a, r = int(setup.n_side), int(setup.n_radial), float(setup.side), float(setup.radius)
    if n < 2 or n % 2 or m < 1 or not 0 < r < 0.45 * a:
        raise ValueError(f"sheet_mesh: expected an even n_side >= 2, n_radial >= 1 and 0 < radius < 0.45·side, "
                         f"received n_side={n}, n_radial={m}, radius={r}, side={a}")
    corners = np.array([[0.0, 0.0], [a, 0.0], [a, a], [0.0, a]])
    k = np.arange(4 * n)
    s, t = k // n, (k % n) / n
    outer = corners[s] + t[:, None] * (corners[(s + 1) % 4] - corners[s])          # (4n, 2) CCW
    c = np.array([0.5 * a, 0.5 * a])
    ray = outer - c
    inner = c + r * ray / np.linalg.norm(ray, axis=1, keepdims=True)
    g = _grading(m, (2 * math.pi * r / (4 * n)) / (0.5 * a - r))
    pts = (inner[None] + g[:, None, None] * (outer - inner)[None]).reshape(-1, 2)   # layer j, ray k -> j·4n + k
    j, kk = np.meshgrid(np.arange(m), k, indexing="ij")
    n0, n1 = (j * 4 * n + kk).ravel(), (j * 4 * n + (kk + 1) % (4 * n)).ravel()
    quads = np.stack([n0, n0 + 4 * n, n1 + 4 * n, n1], axis=1)                     # counter-clockwise
    if setup.cell == "quad":
        cells = quads
    elif setup.cell == "triangle":
        cells = np.concatenate([quads[:, [0, 1, 2]], quads[:, [0, 2, 3]]])
    else:
        raise ValueError(f"sheet_mesh: cell must be 'quad' or 'triangle', received {setup.cell!r}")
    tol = 1e-9 * a
    x, y = pts[:, 0], pts[:, 1]
    sets = {"left": np.abs(x) < tol, "right": np.abs(x - a) < tol, "bottom": np.abs(y) < tol,
            "top": np.abs(y - a) < tol, "hole": np.arange(len(pts)) < 4 * n}
    sets["mid_left"] = sets["left"] & (np.abs(y - 0.5 * a) < tol)
    sets["mid_right"] = sets["right"] & (np.abs(y - 0.5 * a) < tol)
    return fem.Mesh(pts, cells, setup.cell, node_sets={k: np.flatnonzero(v) for k, v in sets.items()})


# -- the law --------------------------------------------------------------------------------------
def fit_treloar(setup: SheetSetup = SheetSetup(), *, quick: bool = False, certify: bool = False):
    """The neural hyperelastic law fitted jointly to Treloar's UT + ET + PS curves, with the setup's
    bulk ratio and certified domain: a :class:`lipmat.fitting.hyperelastic.HyperelasticFit`.

    quick : 600 Adam + 400 L-BFGS steps (R² ≈ 0.995–0.998) instead of the defaults (1500 + 2000,
    R² ≥ 0.9995). certify : also run the report's certificate and empirical search (3D and plane strain).
    """
    from lipmat._paths import shipped_data
    from lipmat.fitting.hyperelastic import fit_hyperelastic

    epochs, lbfgs = FIT_QUICK if quick else FIT_FULL
    return fit_hyperelastic([shipped_data(f) for f in TRELOAR_FILES], bulk_ratio=setup.bulk_ratio,
                            domain=setup.domain, epochs=epochs, lbfgs_steps=lbfgs, certify=certify)


def homogeneous_force(law, stretch, setup: SheetSetup = SheetSetup()) -> np.ndarray:
    """Force (N) on the edge of the sheet *without* the hole in the homogeneous plane-strain state
    λ₁ = λ, λ₃ = 1, λ₂ from σ₂₂ = 0 (Newton on the compressible law): P₁₁·side·thickness.

    stretch : (k,) nominal stretches λ; returns (k,) forces.
    """
    lam = torch.as_tensor(np.atleast_1d(np.asarray(stretch, dtype=np.float64)))
    lam2 = 1.0 / torch.sqrt(lam)                              # a start between incompressible and free
    for _ in range(60):
        lam2 = lam2.detach().requires_grad_(True)
        F = torch.diag_embed(torch.stack([lam, lam2], -1))
        with torch.enable_grad():
            p22 = law.stress(F)[:, 1, 1]
            (d,) = torch.autograd.grad(p22.sum(), lam2)
        step = p22.detach() / d
        lam2 = (lam2.detach() - step).clamp_min(0.05)
        if float(step.abs().max()) < 1e-13:
            break
    F = torch.diag_embed(torch.stack([lam, lam2.detach()], -1))
    with torch.no_grad():
        return (law.stress(F)[:, 0, 0] * setup.side * setup.thickness).numpy()


# -- the pull -------------------------------------------------------------------------------------
def edge_displacement(setup: SheetSetup):
    """The right edge's u_x(t) (m): a smooth ramp to (stretch − 1)·side over ramp_time, then held."""
    total, ramp = (setup.stretch - 1.0) * setup.side, setup.ramp_time

    def g(t: float) -> float:
        return total if t >= ramp else total * 0.5 * (1.0 - math.cos(math.pi * max(t, 0.0) / ramp))

    return g


def sheet_problem(law, setup: SheetSetup = SheetSetup(), mesh=None):
    """The :class:`fem.Problem` of the pulled sheet (plane strain) with ``law`` as its material."""
    import fem

    mesh = sheet_mesh(setup) if mesh is None else mesh
    bcs = (fem.Fixed("left", "x"), fem.Fixed("mid_left", "y"), fem.Fixed("mid_right", "y"),
           fem.Prescribed("right", "x", displacement=edge_displacement(setup)))
    return fem.Problem(mesh, law, setup.density, bcs=bcs, thickness=setup.thickness)
