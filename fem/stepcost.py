"""Wall-time estimates behind the automatic choice of the certified step's form.

:func:`fem.timestep.choose_certified_step` uses the **global** form (Lanczos + LDLᵀ inertia proof,
:mod:`fem.eigenbounds`; tight) when its one-off cost is small against the run, the **element** form
(cheap, looser) otherwise. It needs two numbers before doing the global form:

- the cost of the global form, :func:`global_cost_estimate`: Lanczos (measured: 33–129 products
  with ``A = M^-½K M^-½`` on the meshes of ``bench/timestep.py``, 100–700 product-times with
  ARPACK's overhead) plus the sparse factorisation of the proof, whose work grows like
  ``n^1.5`` in 2D and ``n²`` in 3D (nested-dissection-like orderings; SuperLU with COLAMD here);
- the cost of the run, :func:`run_cost_estimate`: steps × the measured (or estimated) cost of a step.

Both are expressed in the time of one product with the stiffness pattern, measured on this machine
(:func:`pattern_spmv_seconds`), so they scale with its speed and load. The constants were fitted to
the measurements in ``bench/timestep.py --cost`` (2D: T3, Q4 to 8e4 dofs; 3D: Tet4, Hex8 to 2.8e4
dofs) and round up: the estimate is meant to be within a factor ~3 of the measured time.

Everything here is an **estimate** used for a decision; it never enters a bound. A wrong estimate
costs time (a global form computed for too short a run, or a step up to ~2× smaller than it could
be), never safety: both forms are proven.
"""
from __future__ import annotations

import math
import time

import numpy as np
import scipy.sparse as sp

__all__ = ["pattern", "pattern_spmv_seconds", "global_cost_estimate", "run_cost_estimate", "CostEstimate",
           "LOOP_FACTOR"]

#: Lanczos cost in products with A (ARPACK's own work included); measured 100–700, see the docstring.
LANCZOS_PRODUCTS = 600.0
#: proof (factorisation + residual bound) work per ``n^p`` in units of (pattern SpMV time / nnz):
#: ``t ≈ PROOF_WORK[dim] · n^PROOF_POWER[dim] · τ``, τ the measured time per non-zero of a product.
PROOF_WORK = {1: 40.0, 2: 400.0, 3: 45.0}
PROOF_POWER = {1: 1.0, 2: 1.5, 3: 2.0}
#: without a measured step cost, a step is taken as this many products with the stiffness pattern
#: (the sparse linear path: one product plus vector updates and checks; nonlinear laws cost more,
#: so this underestimates their run, which only makes the choice of the global form more cautious)
STEP_PRODUCTS = 3.0
#: a run's step costs this many times the scheme's bare step (``fem.setup.RunSetup.measure_step_cost``):
#: the finite check, energy rows, frames and observers. Measured on the Gmsh plate (2.6k dofs, linear):
#: bare step 0.06 ms, whole run 0.56 ms per step over 12k steps; larger meshes are closer to 1. The
#: low end is taken, so a run is rather underestimated (the choice then leans to the element form).
LOOP_FACTOR = 2.0


def pattern(assembly) -> sp.csr_matrix:
    """Node-to-node sparsity pattern of the stiffness: (n_points, n_points) CSR of ones.

    The dof matrix has ``dim²`` times as many non-zeros (every node pair couples all components).
    Built from the cell incidence (``CᵀC``), without forming any element matrix.
    """
    cells = np.asarray(assembly.mesh.cells)
    n_cells, nn = cells.shape
    inc = sp.csr_matrix((np.ones(cells.size), cells.reshape(-1), np.arange(0, cells.size + 1, nn)),
                        shape=(n_cells, assembly.mesh.n_points))
    g = (inc.T @ inc).tocsr()
    g.data[:] = 1.0
    return g


def pattern_spmv_seconds(g: sp.csr_matrix, *, min_time: float = 0.01, min_reps: int = 3) -> float:
    """Measured wall time (s) of one product ``g @ x`` (best of repeated runs, at least ``min_time`` s)."""
    x = np.ones(g.shape[0])
    best, spent, reps = math.inf, 0.0, 0
    while reps < min_reps or spent < min_time:
        t0 = time.perf_counter()
        g @ x
        dt = time.perf_counter() - t0
        best, spent, reps = min(best, dt), spent + dt, reps + 1
    return max(best, 1e-9)


class CostEstimate(dict):
    """Plain dict of estimated seconds: ``lanczos_s``, ``proof_s``, ``total_s`` plus the inputs
    ``n_dofs``, ``nnz`` (dof matrix), ``dim``, ``spmv_s`` (one product with the dof matrix)."""


def global_cost_estimate(assembly, *, g: sp.csr_matrix | None = None, spmv_s: float | None = None) -> CostEstimate:
    """Estimated wall time (s) of the global form on this assembly (module docstring).

    g : the node pattern (:func:`pattern`), built when None. spmv_s : measured time of ``g @ x``
    (:func:`pattern_spmv_seconds`), measured when None. Returns a :class:`CostEstimate`.
    """
    g = pattern(assembly) if g is None else g
    t_g = pattern_spmv_seconds(g) if spmv_s is None else float(spmv_s)
    d, n = assembly.dim, assembly.n_dofs
    nnz = g.nnz * d * d
    tau = t_g / max(g.nnz, 1)            # s per non-zero
    spmv = tau * nnz                     # one product with the dof matrix
    lanczos = LANCZOS_PRODUCTS * spmv
    proof = PROOF_WORK[d] * n ** PROOF_POWER[d] * tau
    return CostEstimate(lanczos_s=lanczos, proof_s=proof, total_s=lanczos + proof, n_dofs=n, nnz=nnz, dim=d,
                        spmv_s=spmv)


def run_cost_estimate(n_steps: int, *, step_cost_s: float | None = None, spmv_s: float | None = None) -> float:
    """Estimated run time (s): ``n_steps × step_cost_s``; without a measured step cost,
    ``STEP_PRODUCTS`` products with the dof matrix per step (``spmv_s``, from :func:`global_cost_estimate`)."""
    if step_cost_s is None:
        if spmv_s is None:
            raise ValueError("run_cost_estimate needs step_cost_s (s per step) or spmv_s (s per product)")
        step_cost_s = STEP_PRODUCTS * spmv_s
    if not (step_cost_s >= 0 and math.isfinite(step_cost_s)):
        raise ValueError(f"step_cost_s must be a finite number of seconds >= 0, got {step_cost_s!r}")
    return float(n_steps) * float(step_cost_s)
