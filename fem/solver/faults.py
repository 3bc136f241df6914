"""Finding what went wrong in a run: the worst element of a faulty state, inverted elements.

A fault message names the step, the time and one element (id and centroid) so that a user can look
at it in ParaView: the first element with a non-finite stress or strain, else the element with the
largest strain norm ``‖ε‖`` (Mandel, = Frobenius), which is where an unstable mode concentrates.

Finite strain (an assembly in ``"gradient"`` mode, strain = H = ∇₀u): an element is inverted when
``J = det(I + H) ≤ 0`` at a quadrature point (:func:`inverted_cells`), and it has left the law's
certified domain when ``material.in_domain(F)`` is False at one (:func:`out_of_domain`); the message
then names the stretches and J found and the domain, since the certified step holds only inside it.
"""
from __future__ import annotations

import numpy as np
import torch

from fem.materials.hyperelastic import principal_stretches

__all__ = ["worst_cell", "inverted_cells", "describe_cell", "out_of_domain"]


def describe_cell(assembly, cell: int) -> str:
    """``"element 12 (centroid (0.5, 0.25))"``."""
    c = assembly.cell_centroids()[cell]
    return f"element {cell} (centroid ({', '.join(f'{x:.6g}' for x in c)}))"


def worst_cell(assembly, u: torch.Tensor, stress: torch.Tensor | None = None) -> tuple[int, str]:
    """(cell id, reason) for a faulty state: non-finite stress, non-finite strain, or largest ‖ε‖."""
    if stress is not None:
        bad = ~torch.isfinite(stress).all(dim=-1).all(dim=-1)
        if bool(bad.any()):
            ids = torch.nonzero(bad).flatten()
            return int(ids[0]), f"non-finite stress in {len(ids)} element(s), first"
    with torch.no_grad():
        eps = (assembly.B @ u).reshape(assembly.n_cells, assembly.nq, -1)
    bad = ~torch.isfinite(eps).all(dim=-1).all(dim=-1)
    if bool(bad.any()):
        ids = torch.nonzero(bad).flatten()
        return int(ids[0]), f"non-finite strain in {len(ids)} element(s), first"
    norm = torch.linalg.vector_norm(eps, dim=-1).amax(dim=-1)
    i = int(torch.argmax(norm))
    return i, f"largest strain norm {float(norm[i]):.3g}"


def inverted_cells(assembly, u: torch.Tensor, strain: torch.Tensor | None = None) -> np.ndarray:
    """(k,) ids of elements turned inside out: ``det(I + ∂u/∂X) ≤ 0`` at a quadrature point.

    In 1D this is the stretch ``1 + du/dX ≤ 0``, read from ``strain`` (n_cells, nq, 1) when given; in
    gradient mode ``strain`` (n_cells, nq, d²) is H itself and is used when given.
    """
    if assembly.dim == 1:
        eps = assembly.strain(u) if strain is None else strain
        return np.flatnonzero((~(eps[..., 0] > -1.0)).any(dim=1).cpu().numpy())
    if strain is not None and getattr(assembly, "mode", "mandel") == "gradient":
        return assembly.inverted_cells(u, gradient=strain)
    return assembly.inverted_cells(u)


def _domain_text(domain) -> str:
    if domain is None:
        return "no declared domain"
    names = ("lam_lo", "lam_hi", "J_lo", "J_hi")
    if all(hasattr(domain, k) for k in names):
        return (f"stretches in [{domain.lam_lo:g}, {domain.lam_hi:g}], "
                f"J in [{domain.J_lo:g}, {domain.J_hi:g}]")
    return str(domain)


@torch.no_grad()
def out_of_domain(assembly, material, strain: torch.Tensor) -> tuple[np.ndarray, str] | None:
    """Elements where F = I + H has left the material's certified domain, or None when all are inside.

    assembly in gradient mode; material of the finite-strain protocol with ``in_domain`` (materials
    without it, or with ``domain`` None and no ``in_domain``, are never out of domain); strain: H
    (n_cells, nq, d²). Returns ``(ids (k,), detail)`` where detail names the first element's worst
    quadrature point: its principal stretches (plane strain: the in-plane ones; the third is 1), J,
    and the certified domain.
    """
    check = getattr(material, "in_domain", None)
    if not callable(check):
        return None
    d = assembly.dim
    f = strain.reshape(assembly.n_cells, assembly.nq, d, d) + torch.eye(d, dtype=strain.dtype, device=strain.device)
    inside = check(f)
    if bool(inside.all()):
        return None
    bad = ~inside
    ids = np.flatnonzero(bad.any(dim=1).cpu().numpy())
    c = int(ids[0])
    q = int(torch.nonzero(bad[c]).flatten()[0])
    lam = principal_stretches(f[c, q]).cpu().numpy()
    j = float(torch.linalg.det(f[c, q]))
    extra = " (and 1 out of plane)" if d == 2 else ""
    detail = (f"{len(ids)} element(s) left the certified domain of {type(material).__name__} "
              f"(found stretches {', '.join(f'{x:.4g}' for x in lam)}{extra}, J = {j:.4g} at quadrature point {q}; "
              f"certified: {_domain_text(getattr(material, 'domain', None))}), first")
    return ids, detail
