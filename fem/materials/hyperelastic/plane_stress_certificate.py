"""A certified bound of the plane-stress tangent A_ps over the plane-stress states of a domain.

Eigen-structure. At F = F₂ ⊕ λ₃ with F₂ = U diag(λ₁, λ₂) Vᵀ, the eigenvectors of the 3D tangent A
(Smith, de Goes & Kim 2019) are the three scalings (U ⊕ 1) Dᵢ (V ⊕ 1)ᵀ, Dᵢ = eᵢeᵢᵀ (mixed by the 3×3
Hessian H = ∂²ψ/∂λᵢ∂λⱼ), and a twist and a flip per pair. The scalings 1, 2 and pair (1, 2)'s twist
and flip span the four in-plane entries of F; the third scaling is e₃e₃ᵀ, the F33 entry itself. So in
that orthonormal basis the 5×5 block of A on (in-plane, F33) is diag(H, m₁₂, p₁₂) with
m₁₂ = (ψ₁ − ψ₂)/(λ₁ − λ₂), p₁₂ = (ψ₁ + ψ₂)/(λ₁ + λ₂), and its Schur complement on F33 is

    eig(A_ps) = eig(S) ∪ {m₁₂, p₁₂},   S = H_ab − H_a3 H_3b / H33   (a, b ∈ {1, 2}, a 2×2 matrix).

What is proven. Let PS = {(λ₁, λ₂, λ₃) in the stretch box, J = λ₁λ₂λ₃ in [J_lo, J_hi], ψ₃ = ∂ψ/∂λ₃ = 0,
H33 > 0} — the stretches of every state :meth:`PlaneStress.in_domain` accepts. The certifier covers the
box by sub-boxes (log-stretch bisection; λ₁ ↔ λ₂ symmetric, so only boxes meeting λ₁ ≥ λ₂ are kept) and
drops a sub-box when it holds no point of PS: its J enclosure misses [J_lo, J_hi], or the interval
enclosure of ψ₃ (from the law's derivative bounds) excludes 0. On every other sub-box, with interval
enclosures of H (the law's ``eigen_parts`` on boxes) and H33 > 0 proven (lo > 0; otherwise the box's
bound is +∞ and it is bisected), S's entries are enclosed by interval arithmetic and

    λ_max(S) ≤ (a⁺ + c⁺)/2 + √(((a⁺ − c⁺)/2)² + b*²),    a⁺, c⁺ the upper ends of S₁₁, S₂₂, b* = max|S₁₂|

(λ_max of a symmetric 2×2 [[a, b], [b, c]] increases in a, in c and in |b|); the box bound is that,
or the upper ends of m₁₂, p₁₂, whichever is larger. Sub-boxes whose bound is ≤ (1 + rtol)·found
retire, ``found`` being the largest exact eigenvalue of A_ps at solved plane-stress states (a lower
bound of the supremum); the rest are bisected. The certified bound is the largest retired bound times
(1 + ROUNDING_MARGIN): every point of PS lies in a retired (or pruned-empty) sub-box, so
sup_PS λ_max(A_ps) ≤ bound. If the budget runs out the certifier gives up (NoStiffnessBound) and the
caller keeps the 3D bound, which is always valid (see :mod:`fem.materials.hyperelastic.plane_stress`).

Floating point: the bound is of the exact plane-stress states (ψ₃ = 0), as the 3D certificate is of
the law's formulas in real arithmetic; the states a run computes satisfy ψ₃ = 0 to the solve's tolerance
(|Δλ₃| ≤ 1e-13·λ₃), a perturbation of the same order as the margins. (The 3D bound needs no ψ₃ = 0: it
holds at the computed λ₃ exactly.)
"""
from __future__ import annotations

import math

import torch

from fem.core.errors import NoStiffnessBound
from fem.core.interval import Interval
from fem.materials.hyperelastic.certificate import ROUNDING_MARGIN, _bisect

__all__ = ["plane_stress_eigenvalues", "certify_plane_stress"]


def _psi3(law, lam, J, I1_max):
    """Enclosure (Interval) of ψ₃ = ∂ψ/∂λ₃ over boxes, for invariant and separable laws; None otherwise."""
    l1, l2, l3 = lam
    if hasattr(law, "derivative_bounds"):             # ψ = W(I1, I2, J)
        sq = [x.square() for x in lam]
        I1 = sq[0] + sq[1] + sq[2]
        I1 = Interval(I1.lo, torch.minimum(I1.hi, torch.maximum(I1.lo, torch.as_tensor(I1_max))), check=False)
        I2 = (l1 * l2).square() + (l1 * l3).square() + (l2 * l3).square()
        D = law.derivative_bounds(I1, I2, J)
        return l3 * D.W1 * 2.0 + l3 * (sq[0] + sq[1]) * D.W2 * 2.0 + l1 * l2 * D.WJ
    if hasattr(law, "w1_bounds"):                     # ψ = Σ w(λᵢ) + V(J)
        return law.w1_bounds(l3) + law.volumetric.d1_bounds(J) * (l1 * l2)
    return None


def _iv(x, n) -> Interval:
    if isinstance(x, Interval):
        return Interval(x.lo.expand(n), x.hi.expand(n), check=False)
    t = torch.as_tensor(x, dtype=torch.float64).expand(n)
    return Interval(t, t, check=False)


def _box_bounds(law, lo, hi, J, I1_max) -> tuple[torch.Tensor, torch.Tensor]:
    """(keep (n,) bool: the box may hold a plane-stress state, ub (n,) upper bound of λ_max(A_ps))."""
    n = lo.shape[0]
    lam = [Interval(lo[:, i], hi[:, i], check=False) for i in range(3)]
    psi3 = _psi3(law, lam, J, I1_max)
    keep = (_iv(psi3, n).lo <= 0) & (_iv(psi3, n).hi >= 0)
    parts = law.eigen_parts(lam[0], lam[1], lam[2], J=J, I1_max=I1_max)
    H = [[_iv(parts.hessian[i][j], n) for j in range(3)] for i in range(3)]
    h33_ok = H[2][2].lo > 0
    inv = Interval(torch.where(h33_ok, H[2][2].lo, torch.ones(n, dtype=torch.float64)),
                   torch.where(h33_ok, H[2][2].hi, torch.ones(n, dtype=torch.float64)), check=False).reciprocal()
    a = H[0][0] - H[0][2].square() * inv
    c = H[1][1] - H[1][2].square() * inv
    b = H[0][1] - H[0][2] * H[1][2] * inv
    bmax = torch.maximum(b.lo.abs(), b.hi.abs())
    top = 0.5 * (a.hi + c.hi) + torch.sqrt((0.5 * (a.hi - c.hi)) ** 2 + bmax**2)
    top = top + ROUNDING_MARGIN * (a.hi.abs() + c.hi.abs() + bmax)
    for v in parts.pairs[(0, 1)]:
        top = torch.maximum(top, _iv(v, n).hi)
    return keep, torch.where(h33_ok, top, torch.full_like(top, math.inf))


def plane_stress_eigenvalues(law, lam1: torch.Tensor, lam2: torch.Tensor, lam3: torch.Tensor) -> torch.Tensor:
    """Closed-form eigenvalues of A_ps at stretches (...) with ψ₃ = 0: (...) -> (..., 4), eig(S) then m₁₂, p₁₂."""
    parts = law.eigen_parts(lam1, lam2, lam3)
    H = [[torch.as_tensor(parts.hessian[i][j], dtype=torch.float64).expand_as(lam1) for j in range(3)]
         for i in range(3)]
    S = torch.stack([torch.stack([H[a][b] - H[a][2] * H[2][b] / H[2][2] for b in range(2)], -1)
                     for a in range(2)], -2)
    pair = [torch.as_tensor(v, dtype=torch.float64).expand_as(lam1) for v in parts.pairs[(0, 1)]]
    return torch.cat([torch.linalg.eigvalsh(S), torch.stack(pair, -1)], -1)


def _found(ps, t1, t2) -> float:
    """Largest closed-form λ_max(A_ps) at the plane-stress states with in-plane stretches e^t1, e^t2 (m,)
    that lie in the domain (−inf if none)."""
    F = torch.diag_embed(torch.stack([t1.exp(), t2.exp()], -1))
    ok = ps.in_domain(F)
    if not bool(ok.any()):
        return -math.inf
    lam3 = ps.thickness_stretch(F[ok])
    return float(plane_stress_eigenvalues(ps.law, F[ok][:, 0, 0], F[ok][:, 1, 1], lam3).amax())


def certify_plane_stress(ps, rtol: float = 0.05, *, max_boxes: int = 200_000, max_rounds: int = 60) -> dict:
    """Certified sup of λ_max(A_ps) over the plane-stress states of ``ps.domain`` (module docstring).

    ps : a :class:`~fem.materials.hyperelastic.PlaneStress` whose law has interval ``eigen_parts`` and
    derivative bounds (invariant or separable laws). Returns {"bound", "found", "ratio", "boxes",
    "rounds"}; raises NoStiffnessBound when the law gives no ψ₃ enclosure or the budget runs out.
    """
    law, dom = ps.law, ps.domain
    if dom is None:
        raise NoStiffnessBound("certify_plane_stress: the law has no certified domain")
    f64 = torch.float64
    a, b = math.log(dom.lam_lo), math.log(dom.lam_hi)
    I1_max = dom.sup_I1("3d")
    J_range = Interval(torch.tensor(dom.J_lo, dtype=f64), torch.tensor(dom.J_hi, dtype=f64))
    lo, hi = torch.full((1, 3), dom.lam_lo, dtype=f64), torch.full((1, 3), dom.lam_hi, dtype=f64)
    retired, boxes = -math.inf, 0
    with torch.no_grad():
        g = torch.linspace(a, b, 61, dtype=f64)
        t1, t2 = torch.meshgrid(g, g, indexing="ij")
        found = _found(ps, t1.reshape(-1), t2.reshape(-1))
        for rounds in range(1, max_rounds + 1):
            sym = hi[:, 0] >= lo[:, 1]                  # may hold λ₁ >= λ₂ (the rest is its mirror image)
            lo, hi = lo[sym], hi[sym]
            lam = [Interval(lo[:, i], hi[:, i], check=False) for i in range(3)]
            J = (lam[0] * lam[1] * lam[2]).intersect(J_range)
            alive = ~J.is_empty()
            lo, hi, J = lo[alive], hi[alive], J[alive]
            if lo.shape[0] == 0:
                break
            if _psi3(law, [Interval(lo[:1, i], hi[:1, i], check=False) for i in range(3)], J[:1], I1_max) is None:
                raise NoStiffnessBound(f"certify_plane_stress: {type(law).__name__} gives no enclosure of ∂ψ/∂λ₃")
            keep, ub = _box_bounds(law, lo, hi, J, I1_max)
            lo, hi, ub = lo[keep], hi[keep], ub[keep]
            boxes += lo.shape[0]
            mid = torch.log(0.5 * (lo + hi))
            found = max(found, _found(ps, mid[:, 0], mid[:, 1]))
            done = ub <= (1.0 + rtol) * found
            if bool(done.any()):
                retired = max(retired, float(ub[done].max()))
            lo, hi = lo[~done], hi[~done]
            if lo.shape[0] == 0:
                break
            if 2 * lo.shape[0] > max_boxes or rounds == max_rounds:
                raise NoStiffnessBound(f"certify_plane_stress: {lo.shape[0]} sub-boxes still open after {rounds} "
                                       f"rounds (found {found:.6g}); the 3D bound stays")
            lo, hi = _bisect(lo, hi)
    bound = max(retired, found) * (1.0 + ROUNDING_MARGIN)
    return {"bound": bound, "found": found, "ratio": bound / found, "boxes": boxes, "rounds": rounds}
