"""Strain–displacement operators in Mandel form, internal force and lumped mass.

:class:`Assembly` precomputes, for a mesh, every cell's B operator at every quadrature point and the
quadrature weights, and a global sparse B so that

    strain = B @ u                    (n_cells·nq·n_strain,) from (n_dofs,)
    f_int  = Bᵀ @ (w · σ)             (n_dofs,)

which costs about two sparse matrix–vector products per step (see ``docs/notes/fem-core.md`` for the
measurement against a dense gather/einsum/scatter). Degrees of freedom are ``dof = node·dim + comp``.

Two operators, chosen by ``mode``:

- ``"mandel"`` (default, small strain): the symmetric strain in Mandel form, plane strain in 2D
  (``[e11, e22, √2 e12]``), full 3D (``[e11, e22, e33, √2 e23, √2 e13, √2 e12]``). In 1D the strain
  is ``du/dX`` on the reference length; with the nominal (first Piola) stress this is an *exact
  finite-strain* work pair for a bar in uniaxial stress (``du/dX = λ − 1``), so a uniaxial law such as
  a rubber curve drives an exact bar model at any stretch (the cross-section ``area`` is the
  reference area).
- ``"gradient"`` (total-Lagrangian finite strain): the linear gradient operator B₀,
  ``u ↦ H = ∇₀u`` flattened row-major, ``H[i·d + j] = ∂u_i/∂X_j`` (d² rows per quadrature point, on
  the reference configuration). With ``F = I + H`` and the first Piola–Kirchhoff stress P (flattened
  the same way), ``f_int = B₀ᵀ(w·P)`` is the exact internal force of the total-Lagrangian
  formulation, and ``K(u) = Σ w B₀ᵀ A(F) B₀`` with ``A = ∂P/∂F`` (d² × d², material plus geometric
  stiffness) its exact tangent; ``stiffness_matrix(C)`` / ``cell_stiffness(C)`` take such a
  (d², d²) C. B₀ has as many non-zeros as the Mandel B (d²·nn per point in 2D and 3D), so a
  finite-strain step costs the same two sparse products plus the material call.
"""
from __future__ import annotations

import logging
from typing import Iterator

import numpy as np
import scipy.sparse as sp
import torch

from fem.core import mandel
from fem.core.kinematics import volume_ratio
from fem.discretisation.elements import element_for
from fem.core.errors import FemError, MeshError
from fem.discretisation.mesh import Mesh
from fem.discretisation.sparse import torch_csr

__all__ = ["Assembly", "KINEMATICS_OF_DIM", "MODES"]

log = logging.getLogger(__name__)

KINEMATICS_OF_DIM = mandel.KINEMATICS_OF_DIM
#: Strain operators an Assembly can hold (module docstring).
MODES = ("mandel", "gradient")
CHUNK_CELLS = 16_384
#: Largest B₀ (non-zeros) a Mandel-mode assembly keeps for displacement_gradient (12 bytes each: 0.6 GB)
GRADIENT_OPERATOR_MAX_NNZ = 50_000_000  # cells per block when element matrices are formed (bounds the temporary memory)
SQRT2 = np.sqrt(2.0)


def _b_matrices(dndx: np.ndarray, mode: str = "mandel") -> np.ndarray:
    """B from physical gradients: (..., nn, dim) -> (..., n_strain, nn·dim); Mandel B, or B₀ with
    n_strain = dim² rows ``H[i·dim + j] = Σ_a u_{a,i} ∂N_a/∂X_j`` in ``"gradient"`` mode."""
    *lead, nn, dim = dndx.shape
    if mode == "gradient":
        b = np.zeros((*lead, dim * dim, nn, dim))
        for i in range(dim):
            for j in range(dim):
                b[..., i * dim + j, :, i] = dndx[..., j]
        return b.reshape(*lead, dim * dim, nn * dim)
    n = mandel.SIZE[KINEMATICS_OF_DIM[dim]]
    b = np.zeros((*lead, n, nn, dim))
    g = dndx
    for i in range(dim):  # normal strains
        b[..., i, :, i] = g[..., i]
    shear = {2: [(0, 1)], 3: [(1, 2), (0, 2), (0, 1)]}.get(dim, [])
    for k, (i, j) in enumerate(shear):  # √2 e_ij = (u_i,j + u_j,i) / √2
        b[..., dim + k, :, i] = g[..., j] / SQRT2
        b[..., dim + k, :, j] = g[..., i] / SQRT2
    return b.reshape(*lead, n, nn * dim)


def _b_pattern(nn: int, dim: int, mode: str = "mandel"):
    """Structural non-zeros of the Mandel B (or of B₀ in ``"gradient"`` mode), ordered by strain row.

    Returns (s, d, a, j, coef) arrays: entry ``B[s, d] = coef · dN_a/dx_j`` with ``d = a·dim + comp``.
    """
    entries = []
    if mode == "gradient":  # H[i·dim + j] = Σ_a u_{a,i} dN_a/dX_j
        for i in range(dim):
            for j in range(dim):
                entries += [(i * dim + j, a * dim + i, a, j, 1.0) for a in range(nn)]
        s, d, a, j, c = (np.array(v) for v in zip(*entries))
        return s, d, a, j, c
    for i in range(dim):  # normal strains: B[i, a·dim + i] = dN_a/dx_i
        entries += [(i, a * dim + i, a, i, 1.0) for a in range(nn)]
    shear = {2: [(0, 1)], 3: [(1, 2), (0, 2), (0, 1)]}.get(dim, [])
    for k, (i, j) in enumerate(shear):  # √2 e_ij = (u_i,j + u_j,i)/√2
        for a in range(nn):
            entries += [(dim + k, a * dim + i, a, j, 1 / SQRT2), (dim + k, a * dim + j, a, i, 1 / SQRT2)]
    s, d, a, j, c = (np.array(v) for v in zip(*entries))
    return s, d, a, j, c


class Assembly:
    """Precomputed element operators for a mesh.

    Parameters
    ----------
    mesh : :class:`~fem.discretisation.mesh.Mesh`.
    kinematics : ``"uniaxial" | "plane_strain" | "3d"``, or None to infer from ``mesh.dim``;
        MeshError if it does not match the mesh.
    mode : ``"mandel"`` (small strain, default) or ``"gradient"`` (B₀ of the total-Lagrangian finite
        strain; module docstring).
    dtype, device : of every tensor made here (float64, CPU by default).
    thickness : out-of-plane thickness in 2D; area : cross-section in 1D. Both scale the weights.

    Attributes (shapes)
    -------------------
    mode; n_strain : rows per quadrature point (Mandel size 1/3/6, or dim² = 1/4/9 in gradient mode);
    qp_weights (n_cells, nq) ``|J| w_q`` × thickness (2D) or × area (1D);
    B_cells (n_cells, nq, n_strain, nde); cell_dofs (n_cells, nde) long;
    B (n_cells·nq·n_strain, n_dofs) and Btw = Bᵀ W (n_dofs, n_cells·nq·n_strain), the transpose with
    the quadrature weights folded in (``f = Btw σ``), sparse CSR; Bt the plain transpose (made on first
    use: the step needs only Btw); element (the reference element).

    Raises MeshError naming the ids and centroids of cells with ``det J ≤ 0`` at any quadrature
    point (inverted or degenerate cells).
    """

    def __init__(self, mesh: Mesh, kinematics: str | None = None, *, mode: str = "mandel", dtype=torch.float64,
                 device="cpu", thickness: float = 1.0, area: float = 1.0):
        inferred = KINEMATICS_OF_DIM[mesh.dim]
        if mode not in MODES:
            raise FemError(f"Assembly mode must be one of {MODES}, got {mode!r}")
        if kinematics is not None and kinematics != inferred:
            raise MeshError(f"kinematics {kinematics!r} does not match the {mesh.dim}D mesh "
                            f"(which needs {inferred!r})")
        if not (thickness > 0 and area > 0):
            raise MeshError(f"thickness and area must be > 0, got thickness={thickness}, area={area}")
        self.mesh, self.kinematics, self.dim, self.mode = mesh, inferred, mesh.dim, mode
        self.n_strain = mesh.dim ** 2 if mode == "gradient" else mandel.SIZE[inferred]
        self.element = el = element_for(mesh.cell_type)
        self.n_cells, self.nq = mesh.n_cells, el.nq
        self.n_dofs = mesh.n_points * mesh.dim
        self.dtype, self.device = dtype, torch.device(device)
        self.thickness, self.area = float(thickness), float(area)
        self._scale = {1: self.area, 2: self.thickness, 3: 1.0}[self.dim]

        dndx, detj = self._gradients(el.points)
        w = detj * el.weights[None, :] * self._scale
        dofs = (mesh.cells[:, :, None] * self.dim + np.arange(self.dim)).reshape(self.n_cells, -1)
        self._w_np, self._dofs_np = w, dofs
        self.qp_weights = torch.as_tensor(w, dtype=dtype, device=self.device)
        self.cell_dofs = torch.as_tensor(dofs, dtype=torch.long, device=self.device)
        self.B, self.Btw = self._global_b(dndx, dofs, weights=w)
        self._bt = None
        self._b_cells = None
        self._grad_op = None  # B₀ of a Mandel-mode assembly, made on first use (displacement_gradient)

    @classmethod
    def for_material(cls, mesh: Mesh, material, **kwargs) -> "Assembly":
        """The assembly a material needs: ``"gradient"`` mode for a finite-strain law (``finite_strain =
        True``) on a 2D/3D mesh, else ``"mandel"``; ``kwargs`` as for the constructor."""
        finite = bool(getattr(material, "finite_strain", False)) and mesh.dim > 1
        return cls(mesh, mode="gradient" if finite else "mandel", **kwargs)

    @property
    def B_cells(self) -> torch.Tensor:
        """(n_cells, nq, n_strain, nde) dense B (Mandel, or B₀ in gradient mode) of every cell (made on
        first use: it is large, and the per-step path only needs the global sparse ``B``)."""
        if self._b_cells is None:
            b = _b_matrices(self._gradients(self.element.points)[0], self.mode)
            self._b_cells = torch.as_tensor(b, dtype=self.dtype, device=self.device)
        return self._b_cells

    # -- geometry ------------------------------------------------------------------------------
    def _gradients(self, xi: np.ndarray, cells: slice = slice(None)) -> tuple[np.ndarray, np.ndarray]:
        """Physical gradients (nc, m, nn, dim) and det J (nc, m) at reference points (m, dim), for the
        cells ``cells`` (a slice; default all)."""
        x = self.mesh.points[self.mesh.cells[cells]]  # (nc, nn, dim)
        dndxi = self.element.grad(xi)  # (m, nn, dim)
        jac = np.einsum("cni,qnj->cqij", x, dndxi)  # dx_i / dξ_j
        detj = np.linalg.det(jac)
        bad = ~(detj > 0.0)
        if bad.any():
            raise MeshError(self._bad_cells_message(np.flatnonzero(bad.any(axis=1)), detj))
        inv = np.linalg.inv(jac)
        return np.einsum("qnk,cqkj->cqnj", dndxi, inv), detj

    def _bad_cells_message(self, ids: np.ndarray, detj: np.ndarray, shown: int = 5) -> str:
        cen = self.cell_centroids()
        parts = [f"{i} at ({', '.join(f'{c:.6g}' for c in cen[i])}) (det J {detj[i].min():.3g})" for i in ids[:shown]]
        more = f" and {len(ids) - shown} more" if len(ids) > shown else ""
        return (f"{len(ids)} {self.mesh.cell_type} cell(s) inverted or degenerate (det J <= 0; expected > 0, "
                f"i.e. positively oriented nodes): cell " + "; ".join(parts) + more)

    def cell_centroids(self) -> np.ndarray:
        """(n_cells, dim) mean of each cell's node coordinates."""
        return self.mesh.points[self.mesh.cells].mean(axis=1)

    def cell_volumes(self) -> np.ndarray:
        """(n_cells,) measure of each cell times thickness/area (sum of its qp weights)."""
        return self._w_np.sum(axis=1)

    # -- global sparse B -----------------------------------------------------------------------
    def _global_b(self, dndx: np.ndarray, dofs: np.ndarray, mode: str | None = None, weights=None):
        """Global B and ``Bᵀ diag(w)`` (torch CSR) built from the structural non-zeros of each cell's B only;
        w the (nc, nq) ``weights`` repeated over each point's strain rows (the second is None without
        weights); ``mode`` defaults to the assembly's."""
        nc, nq, nn, dim = dndx.shape
        mode = self.mode if mode is None else mode
        n = dim * dim if mode == "gradient" else self.n_strain
        s_idx, d_idx, a_idx, j_idx, coef = _b_pattern(nn, dim, mode)
        k = len(s_idx)  # structural non-zeros per quadrature point; entries ordered by row s
        vals = (dndx[:, :, a_idx, j_idx] * coef).reshape(-1)
        cols = np.broadcast_to(dofs[:, None, d_idx], (nc, nq, k)).reshape(-1)
        per_row = np.bincount(s_idx, minlength=n)
        indptr = np.concatenate([[0], np.cumsum(np.tile(per_row, nc * nq))])
        bmat = sp.csr_matrix((vals, cols, indptr), shape=(nc * nq * n, self.n_dofs))
        bmat.sort_indices()
        btw = None
        if weights is not None:  # each row of B belongs to one point: scale its entries by that point's w
            bw = bmat.copy()
            bw.data *= np.repeat(np.repeat(np.asarray(weights).reshape(-1), n), np.diff(bmat.indptr))
            btw = torch_csr(bw.T.tocsr(), self.dtype, self.device)
        return torch_csr(bmat, self.dtype, self.device), btw

    @property
    def Bt(self) -> torch.Tensor:
        """(n_dofs, n_cells·nq·n_strain) torch CSR Bᵀ without weights (made on first use)."""
        if self._bt is None:
            b = self.B
            m = sp.csr_matrix((b.values().cpu().numpy(), b.col_indices().cpu().numpy(), b.crow_indices().cpu().numpy()),
                              shape=tuple(b.shape))
            self._bt = torch_csr(m.T.tocsr(), self.dtype, self.device)
        return self._bt

    # -- the per-step operations ---------------------------------------------------------------
    def strain(self, u: torch.Tensor) -> torch.Tensor:
        """``B u`` at every quadrature point: u (n_dofs,) -> (n_cells, nq, n_strain): the Mandel strain,
        or in gradient mode ``H = ∇₀u`` flattened row-major (n_strain = dim²; ``F = I + H``)."""
        if u.shape != (self.n_dofs,) or u.dtype != self.dtype:
            raise FemError(f"displacement must be ({self.n_dofs},) {self.dtype}, got {tuple(u.shape)} {u.dtype}")
        return (self.B @ u).reshape(self.n_cells, self.nq, self.n_strain)

    def internal_force(self, stress: torch.Tensor) -> torch.Tensor:
        """``f = Σ_cells Σ_q Bᵀ σ w``: stress (n_cells, nq, n_strain) -> (n_dofs,). In gradient mode the
        stress is the first Piola–Kirchhoff P flattened row-major (``P[i·dim + j] = P_ij``)."""
        want = (self.n_cells, self.nq, self.n_strain)
        if tuple(stress.shape) != want or stress.dtype != self.dtype:
            raise FemError(f"stress must be {want} {self.dtype}, got {tuple(stress.shape)} {stress.dtype}")
        # the weights live in Btw: one sparse product, no (n_cells, nq, n_strain) temporary w·σ
        return self.Btw @ stress.reshape(-1)

    def strain_dense(self, u: torch.Tensor) -> torch.Tensor:
        """Same as :meth:`strain` by gather + einsum (reference path, slower; kept for benchmarks)."""
        return torch.einsum("cqsd,cd->cqs", self.B_cells, u[self.cell_dofs])

    def internal_force_dense(self, stress: torch.Tensor) -> torch.Tensor:
        """Same as :meth:`internal_force` by einsum + scatter-add (reference path)."""
        fe = torch.einsum("cqsd,cqs->cd", self.B_cells, stress * self.qp_weights[..., None])
        out = torch.zeros(self.n_dofs, dtype=fe.dtype, device=fe.device)
        return out.index_add_(0, self.cell_dofs.reshape(-1), fe.reshape(-1))

    def displacement_gradient(self, u: torch.Tensor) -> torch.Tensor:
        """Full ``∂u_i/∂X_j`` at every quadrature point: u (n_dofs,) -> (n_cells, nq, dim, dim).

        Not needed per step; the solver's rows check inversion with it (``det(I + H) ≤ 0``). One sparse
        product with the gradient operator B₀ (the assembly's own B in gradient mode; built on first use
        in Mandel mode, as many non-zeros as B): measured 10-20x faster than the batched 3×3 products of
        :meth:`displacement_gradient_dense` (``bench/step_paths.py``), which remains the path for meshes
        whose B₀ would exceed ``GRADIENT_OPERATOR_MAX_NNZ``.
        """
        op = self._gradient_operator()
        if op is None:
            return self.displacement_gradient_dense(u)
        d = self.dim
        return (op @ u).reshape(self.n_cells, self.nq, d, d)

    def _gradient_operator(self):
        """Torch CSR B₀ (n_cells·nq·dim², n_dofs), or None when it would be too large to keep."""
        if self.mode == "gradient":
            return self.B
        if self._grad_op is None:
            if self.n_cells * self.nq * self.dim**2 * self.element.n_nodes > GRADIENT_OPERATOR_MAX_NNZ:
                self._grad_op = False
            else:
                dndx, _ = self._gradients(self.element.points)
                self._grad_op = self._global_b(dndx, self._dofs_np, "gradient")[0]
        return None if self._grad_op is False else self._grad_op

    def displacement_gradient_dense(self, u: torch.Tensor) -> torch.Tensor:
        """Same as :meth:`displacement_gradient` by gather + batched matmul (reference path; keeps
        (n_cells, nn, nq·dim) gradients instead of a sparse operator)."""
        nc, nq, d = self.n_cells, self.nq, self.dim
        if not hasattr(self, "_dndx"):
            dndx, _ = self._gradients(self.element.points)  # (nc, nq, nn, d)
            # stored as (nc, nn, nq*d) so one batched matmul does every cell: measured 2.7x faster
            # than the equivalent einsum on 490k quads (0.09 s vs 0.24 s per call)
            self._dndx = torch.as_tensor(np.ascontiguousarray(dndx.transpose(0, 2, 1, 3).reshape(nc, -1, nq * d)),
                                         dtype=self.dtype, device=self.device)
            self._cells_t = torch.as_tensor(self.mesh.cells, device=self.device)
        ue = u.reshape(-1, d)[self._cells_t]  # (nc, nn, d)
        h = torch.bmm(ue.transpose(1, 2), self._dndx)  # (nc, d, nq*d): h[c, i, q*d + j] = ∂u_i/∂X_j
        return h.reshape(nc, d, nq, d).permute(0, 2, 1, 3)

    def volume_ratio(self, gradient: torch.Tensor) -> torch.Tensor:
        """J = det(I + H) at every quadrature point from a gradient-mode strain: (n_cells, nq, dim²) ->
        (n_cells, nq), in closed form on views of H (no copy; the per-step inversion check)."""
        d = self.dim
        return volume_ratio(gradient.reshape(self.n_cells, self.nq, d, d))

    def inverted_cells(self, u: torch.Tensor, gradient: torch.Tensor | None = None) -> np.ndarray:
        """(k,) ids of cells with ``det(I + ∂u/∂X) ≤ 0`` at some quadrature point (1D: stretch ≤ 0).

        gradient : optional (n_cells, nq, dim²) ``H`` of this u from a gradient-mode :meth:`strain`
        (saves recomputing it).
        """
        if gradient is None:
            gradient = self.displacement_gradient(u)
        det = volume_ratio(gradient.reshape(self.n_cells, self.nq, self.dim, self.dim))
        bad = ~(det > 0)  # NaN counts as bad
        if not bool(bad.any()):  # the usual answer: one reduction, no copy to numpy
            return np.empty(0, dtype=np.intp)
        return np.flatnonzero(bad.any(dim=1).cpu().numpy())

    # -- mass and stiffness --------------------------------------------------------------------
    def _density(self, density) -> np.ndarray:
        rho = np.asarray(density.detach().cpu() if isinstance(density, torch.Tensor) else density, dtype=np.float64)
        if rho.ndim == 0:
            rho = np.full(self.n_cells, float(rho))
        if rho.shape != (self.n_cells,) or not np.all(rho > 0):
            raise FemError(f"density must be a positive scalar or ({self.n_cells},) array, got shape "
                           f"{rho.shape} with min {rho.min() if rho.size else 'n/a'}")
        return rho

    def mass_rule(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The mass quadrature in physical space, for L2 norms and consistent body loads.

        Returns (points (n_cells, m, dim) reference coordinates X of the m mass points of each cell,
        shape (m, nn) N_a there, weights (n_cells, m) ``|J| w`` × thickness/area). Exact for
        ``∫ N_a N_b dV`` on every cell.
        """
        el = self.element
        _, detj = self._gradients(el.mass_points)
        n = el.shape(el.mass_points)
        x = np.einsum("qa,cai->cqi", n, self.mesh.points[self.mesh.cells])
        return x, n, detj * el.mass_weights[None, :] * self._scale

    def cell_consistent_mass(self, density) -> np.ndarray:
        """(n_cells, nn, nn) scalar consistent mass ``∫ ρ N_a N_b dV`` per cell (exact quadrature)."""
        el = self.element
        _, detj = self._gradients(el.mass_points)
        n = el.shape(el.mass_points)  # (m, nn)
        w = detj * el.mass_weights[None, :] * self._scale * self._density(density)[:, None]
        return np.einsum("cq,qa,qb->cab", w, n, n)

    def cell_lumped_mass(self, density) -> torch.Tensor:
        """(n_cells, nde) each cell's row-sum-lumped mass, repeated for every component of a node."""
        m = self.cell_consistent_mass(density).sum(axis=2)  # (nc, nn)
        m = np.repeat(m, self.dim, axis=1)
        return torch.as_tensor(m, dtype=self.dtype, device=self.device)

    def lumped_mass(self, density) -> torch.Tensor:
        """(n_dofs,) lumped mass: row sums of the consistent mass (scaled by thickness / area).

        ``density``: scalar or (n_cells,). Sums to ``dim × ρ × volume``.
        """
        out = torch.zeros(self.n_dofs, dtype=self.dtype, device=self.device)
        return out.index_add_(0, self.cell_dofs.reshape(-1), self.cell_lumped_mass(density).reshape(-1))

    def _c_np(self, C) -> np.ndarray:
        c = np.asarray(C.detach().cpu() if isinstance(C, torch.Tensor) else C, dtype=np.float64)
        if c.shape != (self.n_strain, self.n_strain):
            raise FemError(f"stiffness C must be ({self.n_strain}, {self.n_strain}) for {self.kinematics!r} "
                           f"({self.mode} mode), got {c.shape}")
        return c

    def _cell_stiffness_blocks(self, C) -> Iterator[tuple[slice, np.ndarray]]:
        """``(cells, K_e)`` blocks of at most ``CHUNK_CELLS`` cells, K_e (m, nde, nde) float64. Each
        block's B is formed from the gradients and dropped (the dense B of every cell would be
        ~9 kB per hexahedron, 3 GB at 1e6 dofs)."""
        c = self._c_np(C)
        for start in range(0, self.n_cells, CHUNK_CELLS):
            cells = slice(start, min(start + CHUNK_CELLS, self.n_cells))
            b = _b_matrices(self._gradients(self.element.points, cells)[0], self.mode)
            yield cells, np.einsum("cqsi,st,cqtj,cq->cij", b, c, b, self._w_np[cells], optimize=True)

    def cell_stiffness(self, C) -> torch.Tensor:
        """``K_e = Σ_q w Bᵀ C B``: C (n_strain, n_strain) -> (n_cells, nde, nde). In gradient mode C is a
        (dim², dim²) ``A = ∂P/∂F`` (row-major pairs), e.g. ``a_b·I`` for the certified K_b."""
        nde = self._dofs_np.shape[1]
        k = np.empty((self.n_cells, nde, nde))
        for cells, block in self._cell_stiffness_blocks(C):
            k[cells] = block
        return torch.as_tensor(k, dtype=self.dtype, device=self.device)

    def stiffness_matrix(self, C) -> sp.csr_matrix:
        """(n_dofs, n_dofs) scipy CSR stiffness for a constant tangent C (n_strain, n_strain).

        Assembled block by block (``CHUNK_CELLS`` cells, int32 indices), so the temporary memory is a
        block's triplets plus the growing matrix, not the triplets of the whole mesh.
        """
        itype = np.int32 if self.n_dofs < 2**31 - 1 else np.int64
        k_global = sp.csr_matrix((self.n_dofs, self.n_dofs))
        for cells, block in self._cell_stiffness_blocks(C):
            d = self._dofs_np[cells].astype(itype, copy=False)
            nde = d.shape[1]
            rows = np.repeat(d, nde, axis=1).ravel()
            cols = np.tile(d, (1, nde)).ravel()
            k_global = k_global + sp.csr_matrix((block.ravel(), (rows, cols)), shape=k_global.shape)
        k_global.sum_duplicates()
        return k_global

    def __repr__(self) -> str:
        return (f"Assembly({self.n_cells} {self.mesh.cell_type}, {self.kinematics}, {self.mode}, nq={self.nq}, "
                f"n_dofs={self.n_dofs}, dtype={self.dtype}, device={self.device})")

