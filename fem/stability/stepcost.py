"""Wall-time estimates behind the automatic choice of the certified step's form.

:func:`fem.stability.timestep.choose_certified_step` uses the **global** form (Lanczos + LDLᵀ inertia proof,
:mod:`fem.stability.eigenbounds`; tight) when its one-off cost is small against the run, the **element** form
(cheap, looser) otherwise. It needs two numbers before doing the global form:

- the cost of the global form, :func:`global_cost_estimate`: assembling ``K_b`` (about the element
  form's own time, which is measured first), Lanczos (measured: 33–145 products with
  ``A = M^-½K M^-½`` on the meshes of ``bench/timestep.py``; 600 product-times are allowed for ARPACK's
  overhead) and the sparse factorisation of the proof. Its work is estimated two ways and the smaller
  is taken: the envelope of a reverse Cuthill–McKee ordering of the node graph (``dim³ Σ wᵢ²``, wᵢ the
  row widths; exact work for a profile factorisation, close for slender parts such as the Gmsh beam),
  and the nested-dissection growth ``n^1.5`` (2D) / ``n²`` (3D) that COLAMD roughly follows on compact
  meshes. Fitted to the proofs measured in ``bench/timestep.py --table cost`` (T3, Q4 to 8e4 dofs; Tet4,
  Hex8 to 2.8e4 dofs; the Gmsh plates and beam): the estimate is within ~0.5–3× of the measured time.
- the cost of the run, :func:`run_cost_estimate`: steps × the cost of a step (``fem.solve`` measures a
  few steps of the scheme and adds the loop's own cost, :data:`LOOP_FACTOR`, :data:`LOOP_OVERHEAD_S`).

The work estimates are in units of the measured time per non-zero of a product with the stiffness
pattern (:func:`pattern_spmv_seconds`), so they follow the machine's speed and load.

Everything here is an **estimate** used for a decision; it never enters a bound. A wrong estimate
costs time (a global form computed for too short a run, or a step up to ~3× smaller than it could
be), never safety: both forms are proven.
"""
from __future__ import annotations

import math
import time

import numpy as np
import scipy.sparse as sp

__all__ = ["pattern", "pattern_spmv_seconds", "envelope_work", "global_cost_estimate", "run_cost_estimate",
           "CostEstimate", "LOOP_FACTOR", "LOOP_OVERHEAD_S"]

#: Lanczos cost in products with A (ARPACK's own work included); measured 100–700, see the docstring.
LANCZOS_PRODUCTS = 600.0
#: proof (factorisation + residual bound) time ≈ τ · min(ENVELOPE_WORK · dim³ Σ wᵢ², PROOF_WORK[dim] · n^PROOF_POWER[dim]),
#: τ the measured time per non-zero of a product with the pattern (measured ratios: envelope 0.12–1.8,
#: n^p 134–411 in 2D and 14–40 in 3D on compact meshes; the beam, slender, is 2.6 on n² but 0.75 on the envelope)
ENVELOPE_WORK = 1.0
PROOF_WORK = {1: 40.0, 2: 400.0, 3: 40.0}
PROOF_POWER = {1: 1.0, 2: 1.5, 3: 2.0}
#: assembling K_b, its scaling and the mass: measured 0.8–1.9× the element form's time
ASSEMBLY_FACTOR = 1.5
#: without a measured step cost, a step is taken as this many products with the stiffness pattern
#: (the sparse linear path: one product plus vector updates and checks; nonlinear laws cost more,
#: so this underestimates their run, which only makes the choice of the global form more cautious)
STEP_PRODUCTS = 3.0
#: a run's step costs this many times the scheme's bare step (``fem.solver.setup.RunSetup.measure_step_cost``):
#: the finite check, energy rows, frames and observers. Measured on the Gmsh plate (2.6k dofs, linear):
#: bare step 0.06 ms, whole run 0.56 ms per step over 12k steps; larger meshes are closer to 1. The
#: low end is taken, so a run is rather underestimated (the choice then leans to the element form).
LOOP_FACTOR = 2.0
#: ... plus this fixed per-step cost of the loop in Python (s): a 2.6k-dof run took 0.56 ms per step for a
#: 0.06 ms bare step on a loaded 2-core machine; 0.2 ms is taken (runs of < 1000 steps record every step
#: and cost more, so short runs are still underestimated)
LOOP_OVERHEAD_S = 2e-4


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


def envelope_work(g: sp.csr_matrix, dim: int) -> float:
    """``dim³ Σ wᵢ²``: the work of a profile factorisation of the dof matrix in reverse Cuthill–McKee
    order, wᵢ the distance of node row i to its first non-zero. g : (n_points, n_points) pattern."""
    from scipy.sparse.csgraph import reverse_cuthill_mckee

    order = reverse_cuthill_mckee(g, symmetric_mode=True)
    gp = g[order][:, order].tocsr()
    first = np.minimum.reduceat(gp.indices, gp.indptr[:-1]) if gp.nnz else np.zeros(0, dtype=np.int64)
    w = np.arange(gp.shape[0]) - first
    return float(dim) ** 3 * float(np.sum(w.astype(np.float64) ** 2))


class CostEstimate(dict):
    """Plain dict of estimated seconds: ``assembly_s``, ``lanczos_s``, ``proof_s``, ``total_s`` plus the
    inputs ``n_dofs``, ``nnz`` (dof matrix), ``dim``, ``spmv_s`` (one product with the dof matrix),
    ``envelope`` and ``nd`` (the two proof-work estimates, in non-zero-product units)."""


def global_cost_estimate(assembly, *, element_s: float = 0.0, g: sp.csr_matrix | None = None,
                         spmv_s: float | None = None) -> CostEstimate:
    """Estimated wall time (s) of the global form on this assembly (module docstring).

    element_s : measured time of the element form (the assembly of K_b costs about as much).
    g : the node pattern (:func:`pattern`), built when None. spmv_s : measured time of ``g @ x``
    (:func:`pattern_spmv_seconds`), measured when None. Returns a :class:`CostEstimate`.
    """
    g = pattern(assembly) if g is None else g
    t_g = pattern_spmv_seconds(g) if spmv_s is None else float(spmv_s)
    d, n = assembly.dim, assembly.n_dofs
    nnz = g.nnz * d * d
    tau = t_g / max(g.nnz, 1)            # s per non-zero
    spmv = tau * nnz                     # one product with the dof matrix
    env = ENVELOPE_WORK * envelope_work(g, d)
    nd = PROOF_WORK[d] * n ** PROOF_POWER[d]
    assembly_s = ASSEMBLY_FACTOR * float(element_s)
    lanczos = LANCZOS_PRODUCTS * spmv
    proof = min(env, nd) * tau
    return CostEstimate(assembly_s=assembly_s, lanczos_s=lanczos, proof_s=proof,
                        total_s=assembly_s + lanczos + proof, n_dofs=n, nnz=nnz, dim=d, spmv_s=spmv,
                        envelope=env, nd=nd)


def run_cost_estimate(n_steps: int, *, step_cost_s: float | None = None, spmv_s: float | None = None) -> float:
    """Estimated run time (s): ``n_steps × step_cost_s``; without a step cost,
    ``STEP_PRODUCTS`` products with the dof matrix (``spmv_s``, from :func:`global_cost_estimate`)
    plus ``LOOP_OVERHEAD_S`` per step."""
    if step_cost_s is None:
        if spmv_s is None:
            raise ValueError("run_cost_estimate needs step_cost_s (s per step) or spmv_s (s per product)")
        step_cost_s = STEP_PRODUCTS * spmv_s + LOOP_OVERHEAD_S
    if not (step_cost_s >= 0 and math.isfinite(step_cost_s)):
        raise ValueError(f"step_cost_s must be a finite number of seconds >= 0, got {step_cost_s!r}")
    return float(n_steps) * float(step_cost_s)
