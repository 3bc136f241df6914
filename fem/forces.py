"""Internal force of a material on an assembly: the one call per time step that touches the material.

Two paths, chosen once per run:

- **material path** (any material): ``ε = B u`` → one batched ``material.stress(ε)`` over all
  (n_cells, nq) quadrature points → ``f = Bᵀ (w σ)``; two sparse products plus the material call.
- **linear path** (a material whose ``linear_stiffness()`` returns a matrix): ``f = K u`` with K
  assembled once. K is a torch CSR tensor: torch's CSR × vector (MKL) measured 1.3–2.2× faster than
  scipy's on 2e3–2e5 DOF triangle meshes here (``docs/notes/fem-solver.md``), and it stays on the
  solver's device.
"""
from __future__ import annotations

import logging
import warnings

import scipy.sparse as sp
import torch

__all__ = ["InternalForce", "torch_csr"]

log = logging.getLogger(__name__)


def torch_csr(m: sp.spmatrix, dtype=torch.float64, device="cpu") -> torch.Tensor:
    """scipy sparse (r, c) -> torch sparse CSR (r, c), int32 indices when they fit (faster matvec)."""
    m = sp.csr_matrix(m)
    m.sum_duplicates()
    m.sort_indices()
    itype = torch.int32 if max(m.nnz, *m.shape) < 2**31 - 1 else torch.long
    with warnings.catch_warnings():  # "sparse CSR support is in beta": we rely only on CSR @ vector
        warnings.filterwarnings("ignore", message=".*[Ss]parse CSR tensor support is in beta.*")
        return torch.sparse_csr_tensor(torch.as_tensor(m.indptr, dtype=itype), torch.as_tensor(m.indices, dtype=itype),
                                       torch.as_tensor(m.data), size=m.shape, dtype=dtype, device=device,
                                       check_invariants=False)


class InternalForce:
    """``f_int(u)`` for an assembly and a material.

    ``__call__(u)``: u (n_dofs,) -> (f_int (n_dofs,), strain, stress), where strain and stress are
    (n_cells, nq, n_strain) on the material path and None on the linear path.
    ``linear``: True on the linear path (``use_linear=False`` forces the material path).
    """

    def __init__(self, assembly, material, *, use_linear: bool = True):
        self.assembly, self.material = assembly, material
        c = getattr(material, "linear_stiffness", None)
        c = c() if (use_linear and callable(c)) else None
        self.linear = c is not None
        self.K = None
        if self.linear:
            k = assembly.stiffness_matrix(c)
            self.K = torch_csr(k, dtype=assembly.dtype, device=assembly.device)
            log.info("linear material: sparse K path, %d dofs, %d non-zeros", k.shape[0], k.nnz)
        self.has_energy = self.linear or callable(getattr(material, "energy", None))

    def __call__(self, u: torch.Tensor):
        if self.linear:
            return self.K @ u, None, None
        eps = self.assembly.strain(u)
        sig = self.material.stress(eps)
        return self.assembly.internal_force(sig), eps, sig

    def strain_stress(self, u: torch.Tensor, eps=None, sig=None):
        """(strain, stress) (n_cells, nq, n_strain) at u, reusing those of the last call when given."""
        if eps is None:
            eps = self.assembly.strain(u)
        if sig is None:
            sig = self.material.stress(eps)
        return eps, sig

    @torch.no_grad()
    def energy(self, u: torch.Tensor, f_int: torch.Tensor, eps=None) -> torch.Tensor | None:
        """Stored energy (0-d tensor) ``½ uᵀKu`` (linear) or ``Σ w ψ(ε)``; None without ``energy``."""
        if self.linear:
            return 0.5 * torch.dot(u, f_int)
        if not self.has_energy:
            return None
        if eps is None:
            eps = self.assembly.strain(u)
        psi = self.material.energy(eps)
        return (psi * self.assembly.qp_weights).sum()
