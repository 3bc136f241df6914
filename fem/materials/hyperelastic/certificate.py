"""Certified sup of λ_max(A), A = ∂P/∂F = ∂²ψ/∂F∂F, over a StretchDomain, for isotropic laws.

What is proven. For an isotropic ψ(λ₁, λ₂, λ₃) the d²×d² matrix A(F) has the eigenvalues (Smith,
de Goes & Kim 2019, "Analytic eigensystems for isotropic distortion energies")

- the eigenvalues of the 3×3 Hessian ∂²ψ/∂λᵢ∂λⱼ, and
- per pair i < j: (ψᵢ − ψⱼ)/(λᵢ − λⱼ) and (ψᵢ + ψⱼ)/(λᵢ + λⱼ) (limits at λᵢ = λⱼ),

at the principal stretches of F; plane strain (F33 = 1): the 2×2 in-plane Hessian block and the
pair (1, 2) at λ₃ = 1 (A₂ᴰ is the in-plane principal submatrix of A₃ᴰ and those eigenvectors span it).
The laws give these pieces in closed form (no division by λᵢ − λⱼ), for points and for boxes.

The certifier covers the box [λ_lo, λ_hi]^k (k = 3, or 2 in plane strain) by sub-boxes, keeping one
ordering λ₁ >= λ₂ >= λ₃ (the spectrum is symmetric under permutations and so is the domain). On each
sub-box it evaluates the pieces in interval arithmetic (:mod:`fem.core.interval`), with J enclosed by
λ₁λ₂λ₃ ∩ [J_lo, J_hi] (sub-boxes with no J in range hold no state of the domain and are dropped) and
I1 cut at its maximum over the domain. The box bound is

    max( λ_max(H_mid) + ‖H_rad‖₂ , max over pairs of the upper ends )

(for any H with |H − H_mid| <= H_rad entrywise, λ_max(H) <= λ_max(H_mid) + ‖H − H_mid‖₂ and
‖E‖₂ <= ‖|E|‖₂ <= ‖H_rad‖₂). The largest *exact* eigenvalue at a domain point of each sub-box (its
centre, rescaled to the J range when needed) plus the vertices of the domain gives ``found``, a lower
bound of the supremum. Sub-boxes whose bound is <= (1 + rtol)·found are retired; the others are
bisected along their widest log-stretch side until none is left. The certified ``bound`` is the
largest bound of all retired sub-boxes times (1 + ROUNDING_MARGIN), so

    found <= sup_D λ_max(A) <= bound <= (1 + rtol)(1 + ROUNDING_MARGIN)·found.

Floating point: interval ends are rounded outward (fem.core.interval, ≈1e-14 relative for elementary
functions); the 3×3 symmetric eigen-solve of the midpoint matrix is backward stable, its error
(a few ulp of ‖H_mid‖) is covered by adding ROUNDING_MARGIN·(‖H_mid‖_F + ‖H_rad‖_F). The bound is of the
law's formulas in real arithmetic up to these margins; the law's own float64 evaluation errors in the
solver (≈1e-15 relative) are below them.

If the box budget (``max_boxes``) or ``max_rounds`` is exhausted first, the bound is still proven
(largest bound over all sub-boxes alive), ``converged`` is False and the ratio is larger than 1 + rtol.
"""
from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field

import torch

from fem.core.errors import FemError
from fem.materials.hyperelastic.domain import StretchDomain, _stretch_count
from fem.core.interval import Interval

__all__ = ["Certificate", "certify_isotropic", "ROUNDING_MARGIN"]

log = logging.getLogger(__name__)

#: Relative margin added for float64 rounding of the eigen-solve and of the final maximum.
ROUNDING_MARGIN = 1e-12


@dataclass
class Certificate:
    """Result of :func:`certify_isotropic`.

    bound : certified a_b (Pa) >= λ_max(A(F)) for every F in ``domain`` (``kinematics`` states).
    found : largest exact eigenvalue of A found at a point of the domain (a lower bound of the sup).
    ratio : bound / found (>= 1; <= (1 + rtol)(1 + 1e-12) when ``converged``).
    at : principal stretches (tuple) where ``found`` was attained.
    boxes : sub-boxes evaluated in all; rounds : bisection rounds; seconds : wall time.
    """

    bound: float
    found: float
    ratio: float
    at: tuple
    boxes: int
    rounds: int
    seconds: float
    kinematics: str
    rtol: float
    domain: StretchDomain
    converged: bool = True
    details: dict = field(default_factory=dict)

    def __str__(self) -> str:
        text = (f"{self.kinematics} bound {self.bound:.6g}, found {self.found:.6g}, ratio {self.ratio:.4f}, "
                f"{self.boxes} boxes, {self.rounds} rounds, {self.seconds:.2f} s")
        if not self.converged:
            text += " (box or round budget exhausted: the bound is proven but looser than rtol)"
        return text

    def as_dict(self) -> dict:
        return {"bound": self.bound, "found": self.found, "ratio": self.ratio, "at": list(self.at),
                "boxes": self.boxes, "rounds": self.rounds, "seconds": self.seconds, "kinematics": self.kinematics,
                "rtol": self.rtol, "domain": self.domain.as_dict(), "converged": self.converged}


def _ordered(lo: torch.Tensor, hi: torch.Tensor) -> torch.Tensor:
    """(n,) bool: the box [lo, hi] (n, k) meets {x₁ >= x₂ >= … >= x_k}."""
    x = lo[:, -1]
    ok = torch.ones(lo.shape[0], dtype=torch.bool)
    for i in range(lo.shape[1] - 2, -1, -1):
        x = torch.maximum(lo[:, i], x)
        ok &= x <= hi[:, i]
    return ok


def _as_iv(x, n: int) -> Interval:
    if isinstance(x, Interval):
        return x
    t = torch.as_tensor(x, dtype=torch.float64).expand(n)
    return Interval(t, t, check=False)


def _box_upper(parts, k: int, n: int) -> torch.Tensor:
    """(n,) upper bounds of the largest eigenvalue of A over each box, from interval EigenParts."""
    entries = [[_as_iv(parts.hessian[i][j], n) for j in range(k)] for i in range(k)]
    mid = torch.stack([torch.stack([e.mid.expand(n) for e in row], -1) for row in entries], -2)
    rad = torch.stack([torch.stack([e.rad.expand(n) for e in row], -1) for row in entries], -2)
    mid = 0.5 * (mid + mid.transpose(-1, -2))
    rad = torch.maximum(rad, rad.transpose(-1, -2))
    norm = mid.flatten(-2).norm(dim=-1) + rad.flatten(-2).norm(dim=-1)
    ub = torch.linalg.eigvalsh(mid)[:, -1] + torch.linalg.eigvalsh(rad)[:, -1] + ROUNDING_MARGIN * norm
    keys = [(0, 1), (0, 2), (1, 2)] if k == 3 else [(0, 1)]
    for key in keys:
        for v in parts.pairs[key]:
            ub = torch.maximum(ub, _as_iv(v, n).hi.expand(n))
    return ub


def _domain_points(centre: torch.Tensor, domain: StretchDomain) -> torch.Tensor:
    """(n, k) box centres moved into the J range by a uniform rescaling, clamped to the stretch range."""
    J = centre.prod(-1)
    target = J.clamp(domain.J_lo, domain.J_hi)
    scaled = centre * (target / J).pow(1.0 / centre.shape[-1])[:, None]
    return scaled.clamp(domain.lam_lo, domain.lam_hi)


def _live(lo: torch.Tensor, hi: torch.Tensor, J_range: Interval):
    """The sub-boxes (lo, hi (n, k)) that can hold a state of the domain, with their J enclosure: those
    meeting the ordering λ₁ >= λ₂ >= … and whose λ₁λ₂(λ₃) meets [J_lo, J_hi]."""
    keep = _ordered(lo, hi)
    lo, hi = lo[keep], hi[keep]
    k = lo.shape[1]
    lam = [Interval(lo[:, i], hi[:, i], check=False) for i in range(k)]
    J = (lam[0] * lam[1] if k == 2 else lam[0] * lam[1] * lam[2]).intersect(J_range)
    keep = ~J.is_empty()
    return lo[keep], hi[keep], J[keep]


def _upper_bounds(law, lo: torch.Tensor, hi: torch.Tensor, J: Interval, I1_max: float, domain) -> torch.Tensor:
    """(n,) proven upper bounds of λ_max(A) over each sub-box; FemError where the law's bound is not finite."""
    n, k = lo.shape
    lam = [Interval(lo[:, i], hi[:, i], check=False) for i in range(k)]
    third = lam[2] if k == 3 else Interval(torch.ones(n, dtype=torch.float64), check=False)
    ub = _box_upper(law.eigen_parts(lam[0], lam[1], third, J=J, I1_max=I1_max), k, n)
    if not bool(torch.isfinite(ub).all()):
        raise FemError(f"certify_isotropic: {type(law).__name__} has a non-finite interval bound on "
                       f"{int((~torch.isfinite(ub)).sum())} sub-boxes of {domain} — the law is singular "
                       f"there (locking, or J -> 0); shrink the domain")
    return ub


def _largest_attained(law, stretches: torch.Tensor, found: float, at: tuple) -> tuple[float, tuple]:
    """(found, at) raised to the largest exact eigenvalue of A at the points ``stretches`` (m, k) of the
    domain, when it is larger."""
    if stretches.shape[0] == 0:
        return found, at
    vals = law.tangent_eigenvalues(stretches).amax(-1)
    j = int(vals.argmax())
    return (float(vals[j]), tuple(float(v) for v in stretches[j])) if float(vals[j]) > found else (found, at)


def _bisect(lo: torch.Tensor, hi: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Every sub-box (n, k) cut in two along its widest side in log-stretch: (2n, k) each."""
    side = torch.log(hi / lo).argmax(-1)
    rows = torch.arange(lo.shape[0])
    cut = 0.5 * (lo[rows, side] + hi[rows, side])
    lo2, hi1 = lo.clone(), hi.clone()
    hi1[rows, side] = cut
    lo2[rows, side] = cut
    return torch.cat([lo, lo2]), torch.cat([hi1, hi])


def certify_isotropic(law, domain: StretchDomain, kinematics: str = "3d", rtol: float = 0.02, *,
                      max_boxes: int = 400_000, max_rounds: int = 200) -> Certificate:
    """Certified sup of λ_max(∂P/∂F) over ``domain`` for an isotropic ``law`` (module docstring).

    law : has ``eigen_parts(l1, l2, l3, J=None, I1_max=None)`` for tensors and Intervals and
    ``tangent_eigenvalues(stretches (..., k)) -> (..., m)`` (a :class:`HyperelasticLaw`).
    kinematics : "3d" (k = 3) or "plane_strain" (k = 2, λ₃ = 1). rtol > 0: stop when the bound is
    within (1 + rtol) of the largest eigenvalue found. max_boxes : most live sub-boxes in a round.
    """
    if not isinstance(domain, StretchDomain):
        raise FemError(f"certify_isotropic: expected a StretchDomain, received {domain!r}")
    if not (isinstance(rtol, (int, float)) and rtol > 0):
        raise FemError(f"certify_isotropic: expected rtol > 0, received {rtol!r}")
    k = _stretch_count(kinematics)
    t0 = time.perf_counter()
    f64 = torch.float64
    I1_max = domain.sup_I1("3d")
    J_range = Interval(torch.tensor(domain.J_lo, dtype=f64), torch.tensor(domain.J_hi, dtype=f64))

    with torch.no_grad():
        found, at = _largest_attained(law, domain.vertices(kinematics), -math.inf, ())
        lo = torch.full((1, k), domain.lam_lo, dtype=f64)
        hi = torch.full((1, k), domain.lam_hi, dtype=f64)
        retired_max = -math.inf
        boxes = rounds = 0
        converged = True
        while True:
            rounds += 1
            lo, hi, J = _live(lo, hi, J_range)
            if lo.shape[0] == 0:
                break
            boxes += lo.shape[0]
            ub = _upper_bounds(law, lo, hi, J, I1_max, domain)
            pts = _domain_points(0.5 * (lo + hi), domain)
            found, at = _largest_attained(law, pts[domain.contains_stretches(pts)], found, at)
            done = ub <= (1.0 + rtol) * found
            if bool(done.any()):
                retired_max = max(retired_max, float(ub[done].max()))
            if bool(done.all()):
                break
            lo, hi = lo[~done], hi[~done]
            if rounds >= max_rounds or 2 * lo.shape[0] > max_boxes:
                retired_max = max(retired_max, float(ub[~done].max()))
                converged = False
                break
            lo, hi = _bisect(lo, hi)
    bound = retired_max * (1.0 + ROUNDING_MARGIN) if retired_max > -math.inf else found
    if bound < found:       # cannot happen for a correct law; guard the claim anyway
        raise FemError(f"certify_isotropic: bound {bound:.6g} below an attained eigenvalue {found:.6g}: the law's "
                       f"eigen_parts and tangent_eigenvalues disagree")
    cert = Certificate(bound=bound, found=found, ratio=bound / found if found > 0 else math.inf, at=at,
                       boxes=boxes, rounds=rounds, seconds=time.perf_counter() - t0, kinematics=kinematics,
                       rtol=float(rtol), domain=domain, converged=converged)
    (log.info if converged else log.warning)("certify_isotropic(%s): %s", type(law).__name__, cert)
    return cert
