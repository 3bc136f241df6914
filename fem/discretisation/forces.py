"""Internal force of a material on an assembly: the one call per time step that touches the material.

Two paths, chosen once per run:

- **material path** (any material): ``ε = B u`` → one batched ``material.stress(ε)`` over all
  (n_cells, nq) quadrature points → ``f = Bᵀ (w σ)``; two sparse products plus the material call.
- **linear path** (a material whose ``linear_stiffness()`` returns a matrix): ``f = K u`` with K
  assembled once. K is a torch CSR tensor: torch's CSR × vector (MKL, int32 indices, one thread)
  measured 1.3–2.2× faster than scipy's on 2e3–2e5 DOF triangle meshes (``docs/notes/fem-solver.md``)
  and 1.2–1.45× on the 12k-dof T3 and 5.6k-dof Tet4 of ``bench/step_paths.py`` (minimum of
  interleaved samples), and it stays on the solver's device. With more than one torch thread on a
  loaded machine the same product's median rose to milliseconds (threads waiting on each other), so
  the solver runs small problems on one thread.
- **finite-strain path** (a material with ``finite_strain = True``, on an assembly in ``"gradient"``
  mode; total Lagrangian): ``H = B₀ u`` → ``F = I + H`` → one batched ``P = material.stress(F)``
  (first Piola–Kirchhoff, (n_cells, nq, d, d)) → ``f = B₀ᵀ (w P)``. The same two sparse products as
  the material path (B₀ has as many non-zeros as the Mandel B; the weights w are folded into the
  stored Bᵀ), plus one addition for F. The invariant laws evaluate P in closed form, entry by entry
  (:mod:`fem.materials.hyperelastic.closed_form`).
  The stored energy is ``Σ w ψ(F)``.

What the solver keeps as "strain" and "stress" of a state is the assembly's layout: Mandel ε and σ,
or on the finite-strain path H and P flattened row-major (n_cells, nq, d²). Output goes through
:meth:`InternalForce.cell_fields`, which names what it returns: ``strain``/``stress`` (small strain)
or ``green_lagrange_strain`` ``E = ½(FᵀF − I)``, ``cauchy_stress`` ``σ = J⁻¹ P Fᵀ`` and
``volume_ratio`` J (finite strain), cell means over the quadrature points.
"""
from __future__ import annotations

import logging

import numpy as np
import torch

from fem.core import mandel
from fem.core.errors import FemError
from fem.core.kinematics import volume_ratio
from fem.materials.protocol import is_finite_strain
from fem.discretisation.sparse import torch_csr

__all__ = ["InternalForce", "torch_csr", "pointwise_stress", "symmetric_components"]

#: (i, j) of the components of a symmetric tensor as ParaView orders them, by dimension
COMPONENT_PAIRS = {1: [(0, 0)], 2: [(0, 0), (1, 1), (0, 1)], 3: [(0, 0), (1, 1), (2, 2), (0, 1), (1, 2), (0, 2)]}

log = logging.getLogger(__name__)


def symmetric_components(t: torch.Tensor) -> np.ndarray:
    """Tensors (..., d, d) -> components (..., k) as ParaView orders symmetric tensors: 1D ``[xx]``,
    2D ``[xx, yy, xy]``, 3D ``[xx, yy, zz, xy, yz, xz]`` (tensor components, not Mandel)."""
    return torch.stack([t[..., i, j] for i, j in COMPONENT_PAIRS[t.shape[-1]]], dim=-1).cpu().numpy()


def pointwise_stress(assembly, material):
    """The material as a function of the assembly's strain layout: (n_cells, nq, n) -> (n_cells, nq, n).

    Mandel mode: ``material.stress`` itself. Gradient mode (finite strain): ``h ↦ P(I + h)`` with
    h = H and P flattened row-major (n = d²). Its Jacobian is the tangent C (Mandel) or ``A = ∂P/∂F``.
    """
    if not is_finite_strain(material):
        return material.stress
    d = assembly.dim
    eye = torch.eye(d, dtype=assembly.dtype, device=assembly.device).reshape(d * d)

    def stress_of_gradient(h: torch.Tensor) -> torch.Tensor:
        f = (h + eye).reshape(*h.shape[:-1], d, d)
        return material.stress(f).reshape(h.shape)

    return stress_of_gradient


class InternalForce:
    """``f_int(u)`` for an assembly and a material.

    ``__call__(u)``: u (n_dofs,) -> (f_int (n_dofs,), strain, stress), where strain and stress are
    (n_cells, nq, n_strain) on the material and finite-strain paths (Mandel ε, σ; or H, P flattened
    row-major) and None on the linear path.
    ``finite``: True on the finite-strain path (a ``finite_strain`` material; the assembly must be in
    gradient mode, FemError otherwise).
    ``linear``: True on the linear path (``use_linear=False`` forces the material path).
    """

    def __init__(self, assembly, material, *, use_linear: bool = True):
        self.assembly, self.material = assembly, material
        self.finite = is_finite_strain(material)
        mode = getattr(assembly, "mode", "mandel")
        if self.finite and mode != "gradient":
            raise FemError(f"{type(material).__name__} is a finite-strain law (F in, P out): it needs an Assembly in "
                           f"'gradient' mode, got {mode!r}")
        if not self.finite and mode == "gradient" and assembly.dim > 1:
            raise FemError(f"{type(material).__name__} is a small-strain law: it needs an Assembly in 'mandel' "
                           "mode, got 'gradient'")
        self._stress = pointwise_stress(assembly, material)
        c = getattr(material, "linear_stiffness", None)
        c = c() if (use_linear and callable(c) and not self.finite) else None
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
        sig = self._stress(eps)
        return self.assembly.internal_force(sig), eps, sig

    def stress(self, strain: torch.Tensor) -> torch.Tensor:
        """The material's stress in the assembly's layout: (n_cells, nq, n) -> (n_cells, nq, n); Mandel σ(ε),
        or on the finite-strain path P(I + H) flattened (:func:`pointwise_stress`). Use this, not
        ``material.stress``, wherever a strain of the assembly is turned into a stress."""
        return self._stress(strain)

    def strain_stress(self, u: torch.Tensor, eps=None, sig=None):
        """(strain, stress) (n_cells, nq, n_strain) at u in the assembly's layout (Mandel ε, σ; or H, P
        flattened), reusing those of the last call when given."""
        if eps is None:
            eps = self.assembly.strain(u)
        if sig is None:
            sig = self._stress(eps)
        return eps, sig

    @torch.no_grad()
    def cell_fields(self, u: torch.Tensor, eps=None, sig=None) -> dict[str, np.ndarray]:
        """Cell data for output: means over each cell's quadrature points, tensor components in
        ParaView's order (:func:`symmetric_components`), numpy (n_cells, k).

        Small strain: ``strain`` ε and ``stress`` σ (Mandel converted to tensor components).
        Finite strain: ``green_lagrange_strain`` ``E = ½(FᵀF − I)``, ``cauchy_stress``
        ``σ = J⁻¹ P Fᵀ`` (the true stress; plane strain: the in-plane block, σ33 is not part of the
        law's output) and ``volume_ratio`` J = det F (n_cells,).
        """
        a = self.assembly
        eps, sig = self.strain_stress(u, eps, sig)
        if not self.finite:
            return {"strain": symmetric_components(mandel.to_tensor(eps.mean(dim=1), a.kinematics)),
                    "stress": symmetric_components(mandel.to_tensor(sig.mean(dim=1), a.kinematics))}
        # entry by entry on (n_cells, nq) views: only the components written out are formed (E and σ are
        # symmetric), and no batched 2×2/3×3 product runs (those cost ~10x their arithmetic here)
        d = a.dim
        f = [[x + (1.0 if i == k else 0.0) for k, x in enumerate(row.unbind(-1))]
             for i, row in enumerate(eps.reshape(a.n_cells, a.nq, d, d).unbind(-2))]
        p = [list(row.unbind(-1)) for row in sig.reshape(a.n_cells, a.nq, d, d).unbind(-2)]
        j = volume_ratio(eps.reshape(a.n_cells, a.nq, d, d))
        inv_j = 1.0 / j
        green, cauchy = [], []
        for i, k in COMPONENT_PAIRS[d]:
            e = sum(f[m][i] * f[m][k] for m in range(d))
            green.append((0.5 * (e - 1.0) if i == k else 0.5 * e).mean(dim=1))
            cauchy.append((sum(p[i][m] * f[k][m] for m in range(d)) * inv_j).mean(dim=1))
        return {"green_lagrange_strain": torch.stack(green, -1).cpu().numpy(),
                "cauchy_stress": torch.stack(cauchy, -1).cpu().numpy(),
                "volume_ratio": j.mean(dim=1).cpu().numpy()}

    @torch.no_grad()
    def energy(self, u: torch.Tensor, f_int: torch.Tensor, eps=None) -> torch.Tensor | None:
        """Stored energy (0-d tensor) ``½ uᵀKu`` (linear), ``Σ w ψ(ε)`` or ``Σ w ψ(F)`` (finite strain;
        ``eps`` is then H); None without ``energy``."""
        if self.linear:
            return 0.5 * torch.dot(u, f_int)
        if not self.has_energy:
            return None
        if eps is None:
            eps = self.assembly.strain(u)
        if self.finite:
            d = self.assembly.dim
            f = eps.reshape(*eps.shape[:-1], d, d) + torch.eye(d, dtype=eps.dtype, device=eps.device)
            psi = self.material.energy(f)
        else:
            psi = self.material.energy(eps)
        return (psi * self.assembly.qp_weights).sum()
