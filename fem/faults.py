"""Finding what went wrong in a run: the worst element of a faulty state, inverted elements.

A fault message names the step, the time and one element (id and centroid) so that a user can look
at it in ParaView: the first element with a non-finite stress or strain, else the element with the
largest strain norm ``‖ε‖`` (Mandel, = Frobenius), which is where an unstable mode concentrates.
"""
from __future__ import annotations

import numpy as np
import torch

__all__ = ["worst_cell", "inverted_cells", "describe_cell"]


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

    In 1D this is the stretch ``1 + du/dX ≤ 0``, read from ``strain`` (n_cells, nq, 1) when given.
    """
    if assembly.dim == 1:
        eps = assembly.strain(u) if strain is None else strain
        return np.flatnonzero((~(eps[..., 0] > -1.0)).any(dim=1).cpu().numpy())
    return assembly.inverted_cells(u)
