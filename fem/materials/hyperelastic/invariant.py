"""Laws written in the non-isochoric invariants: ψ = W(I1, I2, J), I1 = tr C, I2 = ½(I1² − tr C²), J = det F.

Stress (closed form, no inverse): ``P = 2W₁ F + 2W₂ (I1 F − F C) + W_J cof F`` with cof F = J F⁻ᵀ.
Plane strain: F is the 2×2 in-plane block, C33 = 1 enters I1 and I2, and P is the in-plane block.

Eigen parts of A = ∂P/∂F in principal stretches (checked against a dense autograd eigen-solve in
tests/test_hyperelastic_certificate.py::test_closed_form_eigenvalues_equal_a_dense_eigen_solve_of_the_autograd_tangent).
With gᵢ = ∂(I1, I2, J)/∂λᵢ = (2λᵢ, 2λᵢ(λⱼ² + λₖ²), λⱼλₖ):

    ∂²ψ/∂λᵢ∂λⱼ = gᵢᵀ W'' gⱼ + 2W₁δᵢⱼ + W₂·(2(λⱼ² + λₖ²) if i = j else 4λᵢλⱼ) + W_J·(0 if i = j else λₖ)
    (ψᵢ − ψⱼ)/(λᵢ − λⱼ) = 2W₁ + 2W₂(λₖ² − λᵢλⱼ) − W_J λₖ
    (ψᵢ + ψⱼ)/(λᵢ + λⱼ) = 2W₁ + 2W₂(λᵢλⱼ + λₖ²) + W_J λₖ

(k the third index; W'' the symmetric 3×3 matrix of second derivatives in (I1, I2, J)). No division
by λᵢ − λⱼ, so equal stretches need no special case. The same code runs on tensors and on
:class:`fem.core.interval.Interval` boxes, which is how the certifier bounds it.
"""
from __future__ import annotations

from typing import NamedTuple

import torch

from fem.materials.hyperelastic.base import EigenParts, HyperelasticLaw
from fem.materials.hyperelastic.closed_form import flat_invariants, invariant_stress
from fem.materials.hyperelastic.kinematics import check_F, invariants
from fem.core.interval import Interval

__all__ = ["InvariantLaw", "Derivatives", "invariant_eigen_parts"]


class Derivatives(NamedTuple):
    """First and second partial derivatives of W(I1, I2, J); tensors (...), numbers, or Intervals."""
    W1: object
    W2: object
    WJ: object
    W11: object
    W22: object
    WJJ: object
    W12: object
    W1J: object
    W2J: object


class InvariantLaw(HyperelasticLaw):
    """ψ = W(I1, I2, J). Subclasses implement :meth:`energy_invariants`, :meth:`derivatives` and
    :meth:`derivative_bounds`, and set ``self.domain`` (a StretchDomain, or None: no certificate).

    Everything else — ``stress``, ``energy``, ``tangent``, ``in_domain``, ``tangent_eigenvalues``,
    ``certificate``/``stiffness_bound`` — comes from here and :class:`HyperelasticLaw`. The law is
    objective and isotropic by construction (it sees F only through I1, I2, J).
    """

    def energy_invariants(self, I1: torch.Tensor, I2: torch.Tensor, J: torch.Tensor) -> torch.Tensor:
        """W at invariants of shape (...) -> (...)."""
        raise NotImplementedError

    def derivatives(self, I1: torch.Tensor, I2: torch.Tensor, J: torch.Tensor) -> Derivatives:
        """(W1, W2, WJ, W11, W22, WJJ, W12, W1J, W2J), each a tensor (...) or a number."""
        raise NotImplementedError

    def derivative_bounds(self, I1: Interval, I2: Interval, J: Interval) -> Derivatives:
        """The same nine as Intervals (or numbers) enclosing their values over the boxes I1 × I2 × J."""
        raise NotImplementedError

    def first_derivatives(self, I1: torch.Tensor, I2: torch.Tensor, J: torch.Tensor):
        """(W1, W2, WJ) only — what :meth:`stress` needs every step. Default: the first three of
        :meth:`derivatives`; override when the second derivatives cost extra."""
        return tuple(self.derivatives(I1, I2, J)[:3])

    # -- the fem protocol ------------------------------------------------------------------
    def stress(self, F: torch.Tensor) -> torch.Tensor:
        """First Piola–Kirchhoff P = ∂ψ/∂F: (..., d, d) -> (..., d, d), in closed form entry by entry
        (:func:`fem.materials.hyperelastic.closed_form.invariant_stress`: the per-step path)."""
        check_F(F, f"{type(self).__name__}.stress")
        return invariant_stress(F, self.first_derivatives)

    def stress_by_tensors(self, F: torch.Tensor) -> torch.Tensor:
        """The same P by the tensor formula ``2W₁ F + 2W₂ (I1 F − F C) + W_J cof F`` with batched 2×2/3×3
        products: (..., d, d) -> (..., d, d). The reference :meth:`stress` is tested against (slower)."""
        check_F(F, f"{type(self).__name__}.stress_by_tensors")
        I1, I2, J, C, cof = invariants(F)
        w1, w2, wj = (torch.as_tensor(v, dtype=F.dtype, device=F.device)[..., None, None]
                      for v in self.first_derivatives(I1, I2, J))
        return 2.0 * w1 * F + 2.0 * w2 * (I1[..., None, None] * F - F @ C) + wj * cof

    def energy(self, F: torch.Tensor) -> torch.Tensor:
        """Strain-energy density per reference volume: (..., d, d) -> (...)."""
        check_F(F, f"{type(self).__name__}.energy")
        _, _, I1, I2, J, _ = flat_invariants(F)
        shape = F.shape[:-2]
        return self.energy_invariants(I1.reshape(shape), I2.reshape(shape), J.reshape(shape))

    def eigen_parts(self, lam1, lam2, lam3, J=None, I1_max=None) -> EigenParts:
        lam = (lam1, lam2, lam3)
        sq = [x**2 for x in lam]
        prod = {(0, 1): lam1 * lam2, (0, 2): lam1 * lam3, (1, 2): lam2 * lam3}
        if J is None:
            J = prod[(0, 1)] * lam3
        I1 = sq[0] + sq[1] + sq[2]
        I2 = prod[(0, 1)] ** 2 + prod[(0, 2)] ** 2 + prod[(1, 2)] ** 2
        if isinstance(lam1, Interval):
            if I1_max is not None:      # every state of the domain has I1 <= I1_max: a valid cut
                I1 = Interval(I1.lo, torch.minimum(I1.hi, torch.maximum(I1.lo, torch.as_tensor(I1_max))),
                              check=False)
            D = self.derivative_bounds(I1, I2, J)
        else:
            D = self.derivatives(I1, I2, J)
        return invariant_eigen_parts(lam, sq, prod, J, D)


def _nonzero(w) -> bool:
    return not (isinstance(w, (int, float)) and w == 0)


def _sum(terms):
    terms = [t for t in terms if t is not None]
    out = terms[0]
    for t in terms[1:]:
        out = out + t
    return out


def _times(w, *factors):
    """w·Π factors, or None when w is the number 0 (skipped: keeps interval sums tight)."""
    if not _nonzero(w):
        return None
    out = w
    for f in factors:
        out = out * f
    return out


def invariant_eigen_parts(lam, sq, prod, J, D: Derivatives) -> EigenParts:
    """Eigen parts (module docstring) from stretches ``lam``, their squares ``sq``, pairwise products
    ``prod[(i, j)]`` (i < j), J and the derivatives D — tensors or Intervals alike."""
    def p(i, j):
        return prod[(min(i, j), max(i, j))]

    H = [[None] * 3 for _ in range(3)]
    for i in range(3):
        j, k = [m for m in range(3) if m != i]
        s_jk = sq[j] + sq[k]
        H[i][i] = _sum([
            _times(D.W11, sq[i], 4.0),
            _times(D.W22, sq[i], s_jk**2, 4.0),
            _times(D.WJJ, p(j, k) ** 2),
            _times(D.W12, sq[i], s_jk, 8.0),
            _times(D.W1J, J, 4.0),
            _times(D.W2J, J, s_jk, 4.0),
            _times(D.W1, 2.0),
            _times(D.W2, s_jk, 2.0),
        ])
    for i, j in ((0, 1), (0, 2), (1, 2)):
        k = 3 - i - j
        lk, pij = lam[k], p(i, j)
        s_ik, s_jk = sq[i] + sq[k], sq[j] + sq[k]
        h = _sum([
            _times(D.W11, pij, 4.0),
            _times(D.W22, pij, s_jk, s_ik, 4.0),
            _times(D.WJJ, J, lk),
            _times(D.W12, pij, s_ik + s_jk, 4.0),
            _times(D.W1J, lk, sq[i] + sq[j], 2.0),
            _times(D.W2J, lk, sq[i] * s_jk + sq[j] * s_ik, 2.0),
            _times(D.W2, pij, 4.0),
            _times(D.WJ, lk),
        ])
        H[i][j] = H[j][i] = h
    pairs = {}
    for i, j in ((0, 1), (0, 2), (1, 2)):
        k = 3 - i - j
        lk, pij = lam[k], p(i, j)
        minus = _sum([_times(D.W1, 2.0), _times(D.W2, sq[k] - pij, 2.0), _times(D.WJ, lk, -1.0)])
        plus = _sum([_times(D.W1, 2.0), _times(D.W2, pij + sq[k], 2.0), _times(D.WJ, lk)])
        pairs[(i, j)] = (minus, plus)
    return EigenParts(H, pairs)
