"""Proven upper bounds on ``λ_max(M⁻¹K)`` for a symmetric K and a positive diagonal (lumped) M.

Two forms (the mathematics is in ``../shared/DESIGN.md``):

**Element form** (:func:`element_eigen_upper`). With ``K = Σ_e K_e`` and ``M = Σ_e M_e``, every
``M_e`` diagonal and positive on the element's dofs, for any x

    xᵀKx = Σ_e x_eᵀK_e x_e ≤ Σ_e λ_e x_eᵀM_e x_e ≤ (max_e λ_e) xᵀMx,    λ_e = λ_max(M_e⁻¹K_e),

so ``λ_max(M⁻¹K) ≤ max_e λ_e``. Each ``λ_e`` is the top eigenvalue of ``A_e = M_e^-½ K_e M_e^-½``
from a batched ``torch.linalg.eigvalsh``.

**Global form** (:func:`global_eigen_upper`). ``θ`` = top eigenvalue of ``A = M^-½ K M^-½`` by
Lanczos (``scipy.sparse.linalg.eigsh``, a Ritz value, so ``θ ≤ λ_max``: an *estimate*); then
``θ_c = (1 + δ)θ`` is *proven* an upper bound by showing ``θ_c I − A ≻ 0`` with an LDLᵀ whose pivots
are all positive (:mod:`fem.stability.inertia`). δ starts small (1e-6) and grows ×100 up to a cap (1e-2);
if no δ works (Lanczos missed the top of the spectrum, rounding) the caller falls back to the
element form.

Floating point — what exactly is proven. Both bounds are statements about the matrices *as
computed in float64* (``K_e`` from the quadrature, the lumped masses). To them we add a relative
slack ``ROUNDING_SLACK = 1e-12``: ``λ_e + 1e-12·‖A_e‖_F`` per element, and ``1e-12·‖|A|‖_∞`` in the
global proof. ``eigvalsh`` is backward stable (computed eigenvalues are exact for ``A_e + E``,
``‖E‖₂ ≤ c·nde·u·‖A_e‖₂`` with u = 1.1e-16, nde ≤ 24), and forming ``A_e`` costs a few roundings per
entry, so the eigen-solve errs by about 1e-14·‖A_e‖; the rest of the slack covers the rounding of
computing ``K_e`` itself (a few hundred terms per entry, Jacobian inverses of cells with condition
number up to ~1e3) relative to ``Σ_q w_q Bᵀ C_b B`` evaluated exactly. Meshes with worse cells than
that are outside what the slack is argued for (the Assembly already refuses inverted cells).
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as sla
import torch

from fem.stability.inertia import UNIT_ROUNDOFF, InertiaProof, prove_positive_definite

from threadpoolctl import threadpool_limits  # Lanczos runs its BLAS level-2 work on one thread

__all__ = ["ROUNDING_SLACK", "ElementBound", "GlobalBound", "element_eigen_upper", "global_eigen_upper",
           "symmetric_scaled"]

log = logging.getLogger(__name__)

#: Relative slack added to every computed eigenvalue bound (see the module docstring).
ROUNDING_SLACK = 1e-12


@dataclass(frozen=True)
class ElementBound:
    """Per-element upper bounds. ``upper``/``computed``: (n_cells,) float64 numpy arrays;
    ``upper = computed + ROUNDING_SLACK·‖A_e‖_F``; ``worst`` = argmax of ``upper``."""

    upper: np.ndarray
    computed: np.ndarray

    @property
    def worst(self) -> int:
        return int(np.argmax(self.upper))

    @property
    def value(self) -> float:
        return float(self.upper[self.worst])


def element_eigen_upper(k_cells: torch.Tensor, m_cells: torch.Tensor, *, chunk: int = 65536) -> ElementBound:
    """Upper bounds on ``λ_max(M_e⁻¹K_e)`` for every element.

    k_cells : (n_cells, nde, nde) element stiffness (symmetric part is used: xᵀKx only sees it).
    m_cells : (n_cells, nde) each element's share of the lumped mass; must be > 0.
    chunk : cells per batched eigen-solve (bounds the temporary memory).
    """
    if k_cells.ndim != 3 or m_cells.shape != k_cells.shape[:2] or k_cells.shape[1] != k_cells.shape[2]:
        raise ValueError(f"expected k_cells (n_cells, nde, nde) and m_cells (n_cells, nde), got "
                         f"{tuple(k_cells.shape)} and {tuple(m_cells.shape)}")
    k = k_cells.detach().to(torch.float64)
    m = m_cells.detach().to(torch.float64)
    if not bool((m > 0).all()):
        bad = torch.nonzero(~(m > 0).all(dim=1)).flatten()[:5].tolist()
        raise ValueError(f"element lumped masses must be > 0 for the element eigenvalue inequality; "
                         f"cells {bad} have an entry <= 0")
    comp, up = [], []
    for s in range(0, k.shape[0], chunk):
        d = m[s:s + chunk].rsqrt()
        a = d[:, :, None] * k[s:s + chunk] * d[:, None, :]
        a = 0.5 * (a + a.transpose(1, 2))
        lam = torch.linalg.eigvalsh(a)[:, -1]
        comp.append(lam)
        up.append(lam + ROUNDING_SLACK * torch.linalg.matrix_norm(a))
    return ElementBound(torch.cat(up).cpu().numpy(), torch.cat(comp).cpu().numpy())


def symmetric_scaled(k: sp.spmatrix, m: np.ndarray) -> sp.csr_matrix:
    """``A = M^-½ K M^-½`` symmetrised: K (n, n) sparse, m (n,) > 0 -> (n, n) CSR."""
    d = sp.diags(1.0 / np.sqrt(m))
    a = (d @ sp.csr_matrix(k) @ d).tocsr()
    return (0.5 * (a + a.T)).tocsr()


@dataclass(frozen=True)
class GlobalBound:
    """Result of :func:`global_eigen_upper`.

    proven : whether ``upper`` is proven (else use the element form).
    upper : θ_c = (1 + δ)θ (proven upper bound on λ_max(M⁻¹K) when ``proven``).
    ritz : θ, the Lanczos estimate (≤ λ_max). delta : the δ that was proven (or the last tried).
    vector : (n,) the Ritz vector in the M-orthonormal scaling ``x = M^-½ y`` (for the controlling
    element). proof : the last :class:`~fem.stability.inertia.InertiaProof`. tried : list of (δ, reason).
    capped : stopped because ``(1 + δ)θ`` reached ``cap`` (the known bound is already as tight).
    declined : stopped after Lanczos because ``before_proof`` said so (its reason is in ``tried``).
    timed_out : stopped at the ``deadline`` (Lanczos not finished, or no time left for another δ).
    products : products with A that Lanczos took. lanczos_s, proof_s : wall time of the two parts (s).
    """

    proven: bool
    upper: float
    ritz: float
    delta: float
    vector: np.ndarray = field(repr=False)
    proof: InertiaProof | None = None
    tried: list = field(default_factory=list)
    capped: bool = False
    declined: bool = False
    timed_out: bool = False
    products: int = 0
    lanczos_s: float = 0.0
    proof_s: float = 0.0


def _one_blas_thread():
    """One BLAS thread for ARPACK's re-orthogonalisation (matrix–vector products with ≤ 32 vectors):
    on a loaded 2-core machine OpenBLAS' threads made Lanczos 6× slower (20k dofs: 4.1 s vs 0.68 s)."""
    return threadpool_limits(1, user_api="blas")


class _OutOfTime(Exception):
    """Raised from inside Lanczos' matrix-vector product when the deadline has passed."""


def _top_ritz(a: sp.csr_matrix, tol: float, deadline: float | None = None) -> tuple[float, np.ndarray, int]:
    """(θ, y, products): top Ritz pair of the symmetric ``a`` (n, n); y (n,) unit. Raises
    :class:`_OutOfTime` once ``time.perf_counter()`` passes ``deadline`` (checked at every product)."""
    n = a.shape[0]
    if n <= 64:
        w, v = np.linalg.eigh(a.toarray())
        return float(w[-1]), v[:, -1], 0
    count = [0]

    def matvec(x):
        if deadline is not None and time.perf_counter() > deadline:
            raise _OutOfTime(count[0])
        count[0] += 1
        return a @ x

    op = sla.LinearOperator(a.shape, matvec=matvec, dtype=a.dtype)
    # deterministic start vector: results are reproducible and the solver has nothing to seed
    v0 = np.cos(np.arange(n) * 0.7548776662) + 1.5
    with _one_blas_thread():
        w, v = sla.eigsh(op, k=1, which="LA", tol=tol, v0=v0, ncv=min(n - 1, 32), maxiter=100 * n)
    return float(w[0]), v[:, 0], count[0]


def global_eigen_upper(k: sp.spmatrix, m: np.ndarray, *, delta: float = 1e-6, max_delta: float = 1e-2,
                       cap: float | None = None, tol: float = 1e-10, deadline: float | None = None,
                       before_proof=None) -> GlobalBound:
    """Proven upper bound on ``λ_max(M⁻¹K)``: Lanczos, then an inertia proof (module docstring).

    k : (n, n) symmetric sparse stiffness; m : (n,) lumped mass > 0.
    delta, max_delta : first and largest relative margin tried (δ grows ×100 between tries).
    cap : stop trying once ``(1 + δ)θ ≥ cap`` (a bound that is already known, e.g. the element form).
    tol : Lanczos relative tolerance.
    deadline : a ``time.perf_counter()`` value; Lanczos stops when it passes (``timed_out``, not
        proven), and no further δ is tried after it. A factorisation once started runs to its end.
    before_proof : optional ``θ -> None | str`` called after Lanczos; a string stops there (not
        proven, ``declined``, the string is the reason): lets a caller weigh the proof's cost against θ.
    """
    m = np.asarray(m, dtype=np.float64)
    if not np.all(m > 0):
        raise ValueError(f"lumped mass must be > 0 at every dof; min is {m.min()}")
    a = symmetric_scaled(k, m)
    t0 = time.perf_counter()
    try:
        theta, y, products = _top_ritz(a, tol, deadline)
    except _OutOfTime as exc:
        spent = time.perf_counter() - t0
        return GlobalBound(False, float("nan"), float("nan"), float("nan"), np.zeros(0), None,
                           [(None, f"Lanczos stopped at the time limit after {exc.args[0]} products "
                                   f"({spent:.3g} s)")], timed_out=True, products=int(exc.args[0]),
                           lanczos_s=spent)
    except sla.ArpackNoConvergence as exc:
        spent = time.perf_counter() - t0
        return GlobalBound(False, float("nan"), float("nan"), float("nan"), np.zeros(0), None,
                           [(None, f"Lanczos did not converge ({exc})")], lanczos_s=spent)
    t_lanczos = time.perf_counter() - t0
    x = y / np.sqrt(m)
    tried: list = []
    timing = {"products": products, "lanczos_s": t_lanczos}
    if not theta > 0:
        return GlobalBound(False, float("nan"), theta, float("nan"), x, None,
                           [(None, f"Lanczos estimate {theta:.3g} is not > 0")], **timing)
    # forming A = D K D (sqrt, division, two products per entry) + the ROUNDING_SLACK for K itself
    row = float(abs(a).sum(axis=1).max())
    extra = (8 * UNIT_ROUNDOFF + ROUNDING_SLACK) * row
    proof, d = None, delta
    t1 = time.perf_counter()
    declined = None if before_proof is None or (cap is not None and theta * (1 + d) >= cap) else before_proof(theta)
    if declined:
        return GlobalBound(False, float("nan"), theta, d, x, None, [(d, declined)], declined=True, **timing)
    while d <= max_delta * (1 + 1e-9):
        upper = theta * (1.0 + d)
        if cap is not None and upper >= cap:
            tried.append((d, f"(1+δ)θ = {upper:.6g} is not below the element bound {cap:.6g}"))
            return GlobalBound(False, float("nan"), theta, d, x, proof, tried, capped=True,
                               proof_s=time.perf_counter() - t1, **timing)
        if tried and deadline is not None and time.perf_counter() > deadline:
            tried.append((d, "no time left for another δ"))
            return GlobalBound(False, float("nan"), theta, d, x, proof, tried, timed_out=True,
                               proof_s=time.perf_counter() - t1, **timing)
        s = upper * sp.eye(a.shape[0], format="csr") - a
        form = UNIT_ROUNDOFF * (upper + float(np.abs(a.diagonal()).max()))  # θ_c − a_ii rounded
        proof = prove_positive_definite(s, 0.5 * d * theta, extra=extra + form)
        if proof.proven:
            log.info("global bound proven: θ = %.9g, δ = %g (%s)", theta, d, proof.method)
            return GlobalBound(True, upper, theta, d, x, proof, tried, proof_s=time.perf_counter() - t1, **timing)
        tried.append((d, proof.reason))
        d *= 100.0
    return GlobalBound(False, float("nan"), theta, d, x, proof, tried, proof_s=time.perf_counter() - t1, **timing)
