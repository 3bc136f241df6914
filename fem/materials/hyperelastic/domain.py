"""The certified domain of a finite-strain law: a box of principal stretches cut by a range of J.

    D = { F : every principal stretch λᵢ of F in [lam_lo, lam_hi],  J = det F in [J_lo, J_hi] }

3D: the three singular values of F. Plane strain (F the in-plane 2×2 block, F33 = 1): the two
in-plane singular values and λ₃ = 1, which lies in the box because ``lam_lo <= 1 <= lam_hi``. So a
plane-strain state in D is a 3D state in D, and a 3D certificate is valid for plane strain.
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import torch

from fem.core.errors import FemError
from fem.core.kinematics import determinant, principal_stretches

__all__ = ["StretchDomain"]


@dataclass(frozen=True)
class StretchDomain:
    """Principal stretches in [lam_lo, lam_hi] and J = det F in [J_lo, J_hi].

    Requires ``0 < lam_lo <= 1 <= lam_hi < inf`` and ``0 < J_lo <= 1 <= J_hi``, with the J range
    reachable in 3D: ``lam_lo³ <= J_lo`` and ``J_hi <= lam_hi³`` (a wider J range would only
    pretend to certify states the stretch box excludes). Raises FemError naming the offending values.
    """

    lam_lo: float
    lam_hi: float
    J_lo: float
    J_hi: float

    def __post_init__(self) -> None:
        vals = {k: getattr(self, k) for k in ("lam_lo", "lam_hi", "J_lo", "J_hi")}
        if not all(isinstance(v, (int, float)) and math.isfinite(v) for v in vals.values()):
            raise FemError(f"StretchDomain: expected finite numbers, received {vals}")
        for k, v in vals.items():
            object.__setattr__(self, k, float(v))
        if not 0.0 < self.lam_lo <= 1.0 <= self.lam_hi:
            raise FemError(f"StretchDomain: expected 0 < lam_lo <= 1 <= lam_hi, received lam_lo={self.lam_lo}, "
                           f"lam_hi={self.lam_hi}")
        if not 0.0 < self.J_lo <= 1.0 <= self.J_hi:
            raise FemError(f"StretchDomain: expected 0 < J_lo <= 1 <= J_hi, received J_lo={self.J_lo}, "
                           f"J_hi={self.J_hi}")
        if self.J_lo < self.lam_lo**3 * (1 - 1e-12) or self.J_hi > self.lam_hi**3 * (1 + 1e-12):
            raise FemError(f"StretchDomain: J range [{self.J_lo}, {self.J_hi}] is not reachable with stretches in "
                           f"[{self.lam_lo}, {self.lam_hi}] (need lam_lo³ = {self.lam_lo**3:.6g} <= J_lo and "
                           f"J_hi <= lam_hi³ = {self.lam_hi**3:.6g})")

    def __str__(self) -> str:
        return (f"principal stretches in [{self.lam_lo:.6g}, {self.lam_hi:.6g}], "
                f"J in [{self.J_lo:.6g}, {self.J_hi:.6g}]")

    def as_dict(self) -> dict:
        return {"lam_lo": self.lam_lo, "lam_hi": self.lam_hi, "J_lo": self.J_lo, "J_hi": self.J_hi}

    # -- membership ------------------------------------------------------------------------
    def contains(self, F: torch.Tensor) -> torch.Tensor:
        """(..., d, d) -> (...) bool: F in the domain (d = 2: plane strain with F33 = 1; d = 3).

        Cheap sufficient tests first: λ_max² <= tr C, and λ_min² >= J²/(tr C/(d−1))^(d−1)
        (AM–GM on the other squared stretches); exact eigvalsh of C = FᵀF only where these
        tests cannot decide.
        """
        d = F.shape[-1]
        if F.ndim < 2 or F.shape[-2] != d or d not in (2, 3):
            raise FemError(f"StretchDomain.contains: expected F of shape (..., d, d) with d in (2, 3), "
                           f"received {tuple(F.shape)}")
        # entry by entry on F's columns, comparisons in place: this runs on every point at every step
        F = F.detach()                   # a yes/no answer: no graph, and the sums below run in place
        c = F.reshape(-1, d * d).unbind(-1)
        J = determinant(F).reshape(-1)
        trC = c[0] * c[0]
        for x in c[1:]:
            trC.addcmul_(x, x)
        j_ok = J >= self.J_lo
        j_ok &= J <= self.J_hi
        sure = trC <= self.lam_hi**2
        sure &= (J * J) >= (trC.div_(d - 1).pow_(d - 1)).mul_(self.lam_lo**2)
        inside = j_ok & sure
        undecided = j_ok & ~sure
        shape = F.shape[:-2]
        inside, undecided = inside.reshape(shape), undecided.reshape(shape)
        if bool(undecided.any()):
            lam = principal_stretches(F[undecided])
            inside[undecided] = (lam[..., 0] >= self.lam_lo) & (lam[..., -1] <= self.lam_hi)
        return inside

    def contains_stretches(self, lam: torch.Tensor) -> torch.Tensor:
        """(..., k) principal stretches (k = 3, or 2 for plane strain, λ₃ = 1 implied) -> (...) bool."""
        J = lam.prod(-1)
        return ((lam >= self.lam_lo) & (lam <= self.lam_hi)).all(-1) & (J >= self.J_lo) & (J <= self.J_hi)

    def violation(self, F: torch.Tensor) -> dict:
        """Plain description of one state F (d, d): its stretches and J, for error messages."""
        lam = principal_stretches(F.detach().to(torch.float64))
        return {"stretch_min": float(lam[0]), "stretch_max": float(lam[-1]), "J": float(determinant(F.detach()))}

    # -- geometry of the domain in log-stretches -------------------------------------------
    def vertices(self, kinematics: str = "3d") -> torch.Tensor:
        """(m, k) stretch vectors at the vertices of D in log-stretch space (k = 3, or 2 in plane strain).

        In t = log λ the domain is the polytope {t ∈ [log lam_lo, log lam_hi]^k, Σt ∈ [log J_lo, log J_hi]},
        so the max over D of any function convex in t (I1 = Σ e^{2tᵢ}, I2 = Σ e^{2(tᵢ+tⱼ)}) is attained at
        one of these points.
        """
        k = _stretch_count(kinematics)
        a, b = math.log(self.lam_lo), math.log(self.lam_hi)
        cl, ch = math.log(self.J_lo), math.log(self.J_hi)
        pts = []
        for v in itertools.product((a, b), repeat=k):
            if cl - 1e-12 <= sum(v) <= ch + 1e-12:
                pts.append(list(v))
        for free in range(k):                       # box edges cut by the planes Σt = cl, ch
            for fixed in itertools.product((a, b), repeat=k - 1):
                for c in (cl, ch):
                    t = c - sum(fixed)
                    if a <= t <= b:
                        v = list(fixed)
                        v.insert(free, t)
                        pts.append(v)
        return torch.tensor(pts, dtype=torch.float64).exp()

    def sup_I1(self, kinematics: str = "3d") -> float:
        """max of I1 = Σλᵢ² (+1 in plane strain) over D (exact, from :meth:`vertices`)."""
        lam = self.vertices(kinematics)
        return float((lam**2).sum(-1).max()) + (1.0 if lam.shape[-1] == 2 else 0.0)


def _stretch_count(kinematics: str) -> int:
    if kinematics == "3d":
        return 3
    if kinematics == "plane_strain":
        return 2
    raise FemError(f"finite-strain kinematics must be 'plane_strain' or '3d', received {kinematics!r}")
