"""A scalar monotone response with a certified slope bound: the building block of the potential models.

    r(x) = ∫₀ˣ r'(t) dt,      r'(x) = L·s(x),      s(x) = w₀ + Σₖ wₖ·sigmoid(aₖ(x − bₖ))

with weights ``w = softmax(logits)`` (all > 0, summing to 1, or to less than 1 when a "zero" slot is
kept), slopes ``aₖ = ±exp(αₖ)`` of fixed sign (``n_rising`` terms rise, ``n_falling`` fall) and centres
``bₖ``. So ``0 < s < 1`` and ``0 ≤ r' ≤ L`` on the whole real line, r(0) = 0, by construction.

Everything is closed form, with ``sp(u) = log(1 + eᵘ)`` and ``P(u) = ∫_{-∞}^u sp = −Li₂(−eᵘ)``:

    r(x)   = L·[w₀x + Σₖ wₖ (sp(aₖ(x − bₖ)) − sp(−aₖbₖ)) / aₖ]
    ∫₀ˣ r  = L·[w₀x²/2 + Σₖ wₖ ((P(aₖ(x − bₖ)) − P(−aₖbₖ)) / aₖ² − x·sp(−aₖbₖ)/aₖ)]

``sp`` is ``torch.logaddexp(u, 0)``, whose autograd derivative is the sigmoid itself (no threshold
switch as in ``F.softplus``), so the tangent autograd computes from :meth:`forward` *is* ``L·s(x)`` up
to rounding: the certificate below bounds what the code differentiates, not an idealised integral.

Speed (a finite-strain solver calls :meth:`forward` at every quadrature point, every step): the
constants of the parametrisation (softmax, exp, and ``cₖ = L wₖ/aₖ``, ``u₀ₖ = −aₖbₖ``, ``sp(u₀ₖ)``)
are computed once and kept until a parameter or buffer changes (keyed on their ``_version`` counters
and storage, as optimiser steps and ``load_state_dict`` bump them); while a graph to the parameters
is needed (training) they are recomputed on every call, so gradients flow as before. :meth:`forward`
then makes one (..., k) temporary, ``sp(aₖx + u₀ₖ) − sp(u₀ₖ)`` in place, weights it in place and sums it:
r(x) = L w₀ x + Σ cₖ (sp(aₖx + u₀ₖ) − sp(u₀ₖ)).

Certificate (:meth:`sup_tangent`): every term of s is monotone, so on an interval [x, y] (ends may be
±∞) ``sup s ≤ w₀ + Σ_rising wₖσₖ(y) + Σ_falling wₖσₖ(x)`` — interval arithmetic that is exact at the
ends. A grid over the transition region plus the two tails, refined where that bound exceeds the best
point value, gives an upper bound within ~1e-7 of the true supremum; a relative margin of 1e-12 covers
float64 rounding. The bound is of float64 evaluation.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from lipmat.errors import CertificateError, LipmatError

#: Relative margin added to certified suprema for float64 rounding of the sums (a few ulp per term).
ROUNDING_MARGIN = 1e-12
#: P(u) = z + z²/4 + Σ cₖ zᵏ for u ≤ 0, z = softplus(u) ∈ (0, ln 2]: Li₂(σ(u)) + z²/2 with Li₂(y) = Σ Bₙ zⁿ⁺¹/(n+1)!
#: (Bernoulli numbers, z = −ln(1 − y)); the first omitted term is below 1e-22.
_PRIMITIVE_COEFFS = (1.0, 0.25, 0.027777777777777776, 0.0, -0.0002777777777777778, 0.0, 4.72411186696901e-06, 0.0,
                     -9.185773074661964e-08, 0.0, 1.8978869988971e-09, 0.0, -4.0647616451442256e-11, 0.0,
                     8.921691020456452e-13, 0.0, -1.9939295860721074e-14, 0.0, 4.518980029619918e-16, 0.0,
                     -1.0356517612181247e-17)




_ZERO = torch.zeros((), dtype=torch.float64)


def softplus(u: torch.Tensor) -> torch.Tensor:
    """log(1 + eᵘ), elementwise, overflow-free; its autograd derivative is sigmoid(u) (no threshold)."""
    return torch.logaddexp(u, torch.zeros_like(u))


def softplus_primitive(u: torch.Tensor) -> torch.Tensor:
    """P(u) = ∫_{-∞}^u log(1 + eᵘ) dt = −Li₂(−eᵘ), elementwise, float64-accurate for every u.

    For u ≤ 0, Landen's identity gives P(u) = Li₂(σ(u)) + sp(u)²/2 with σ(u) ≤ 1/2, and with
    z = sp(u) = −ln(1 − σ(u)) ∈ (0, ln 2] Li₂ is a Bernoulli series in z: a degree-21 polynomial (Horner),
    about 10× cheaper than the power series in σ (the energy of a neural law is evaluated every solver
    step). For u > 0, P(u) = u²/2 + π²/6 − P(−u) (softplus(t) − softplus(−t) = t).
    """
    v = -u.abs()
    z = softplus(v)
    p = torch.full_like(z, _PRIMITIVE_COEFFS[-1])
    for c in _PRIMITIVE_COEFFS[-2::-1]:
        p = p * z + c
    p_neg = p * z
    return torch.where(u > 0, 0.5 * u**2 + math.pi**2 / 6 - p_neg, p_neg)


def _primitive_inplace(u: torch.Tensor) -> torch.Tensor:
    """:func:`softplus_primitive` without a graph, into few (...) temporaries (Horner in place): u is consumed."""
    pos = u > 0
    sq = torch.where(pos, 0.5 * u**2 + math.pi**2 / 6, 0.0)    # the arithmetic of softplus_primitive, bit for bit
    z = torch.logaddexp(u.abs_().neg_(), _ZERO.to(u.dtype), out=u)     # sp(−|u|) in u's buffer
    p = torch.full_like(z, _PRIMITIVE_COEFFS[-1])
    for c in _PRIMITIVE_COEFFS[-2::-1]:
        p.mul_(z).add_(c)
    p.mul_(z)
    return torch.where(pos, sq - p, p)


@dataclass
class SupBound:
    """Certified supremum of a response's slope over a domain.

    value: certified upper bound of sup r' (Pa per unit strain for a stress response).
    best: the largest r' found at a point (a lower bound; value/best − 1 measures the slack).
    at: where ``best`` was found (may be ±1e300-ish far out when the supremum is a tail limit).
    """
    value: float
    best: float
    at: float


class MonotoneResponse(nn.Module):
    """Scalar monotone response r: (...) -> (...), r(0) = 0, 0 ≤ r' ≤ ``max_slope`` everywhere.

    Args:
        max_slope: L > 0, the hard cap of the slope (the certificate is L·sup s ≤ L).
        n_rising, n_falling: numbers of rising / falling sigmoid terms of s.
        span: (lo, hi) of the input where the data lie; the initial centres are spread over it and
            the initial widths are a fraction of it (only the initialisation uses it).
        allow_below: keep a "zero" slot in the softmax so sup s can be < 1 (needed for s < 1 strictly).
            ``MonotoneResponse.linear(k)`` drops it and every sigmoid: r(x) = k·x exactly.
    """

    def __init__(self, max_slope: float, n_rising: int = 8, n_falling: int = 4, *,
                 span: tuple[float, float] = (0.0, 1.0), allow_below: bool = True,
                 dtype: torch.dtype = torch.float64) -> None:
        super().__init__()
        if not (isinstance(max_slope, (int, float)) and math.isfinite(max_slope) and max_slope > 0):
            raise LipmatError(f"MonotoneResponse(max_slope): expected a finite number > 0, received {max_slope!r}")
        if min(n_rising, n_falling) < 0:
            raise LipmatError(f"MonotoneResponse: expected n_rising, n_falling >= 0, "
                              f"received {n_rising}, {n_falling}")
        lo, hi = float(span[0]), float(span[1])
        if not (math.isfinite(lo) and math.isfinite(hi) and hi > lo):
            raise LipmatError(f"MonotoneResponse(span): expected finite lo < hi, received {span!r}")
        self.n_rising, self.n_falling, self.allow_below = int(n_rising), int(n_falling), bool(allow_below)
        self.span = (lo, hi)
        k = self.n_rising + self.n_falling
        self.register_buffer("max_slope", torch.tensor(float(max_slope), dtype=dtype))
        self.register_buffer("sign", torch.cat([torch.ones(self.n_rising, dtype=dtype),
                                                -torch.ones(self.n_falling, dtype=dtype)]))
        # Parameters are scale-free: centre b = lo + (hi − lo)·c, rate |a| = exp(α)/(hi − lo), so one
        # learning rate suits strains of 1e-3 and of 7 alike.
        centres = torch.cat([torch.linspace(0.0, 1.0, self.n_rising, dtype=dtype),
                             torch.linspace(0.0, 1.0, self.n_falling, dtype=dtype)])
        self.centre = nn.Parameter(centres)
        self.log_rate = nn.Parameter(torch.full((k,), math.log(2.0 * max(k, 1)), dtype=dtype))
        self.logits = nn.Parameter(torch.zeros(k + 1 + int(self.allow_below), dtype=dtype))

    @classmethod
    def linear(cls, slope: float, dtype: torch.dtype = torch.float64) -> "MonotoneResponse":
        """The exactly linear response r(x) = slope·x (no sigmoid terms, no zero slot)."""
        return cls(slope, 0, 0, allow_below=False, dtype=dtype)

    def config(self) -> dict:
        """Constructor arguments (plain floats/ints/bools/lists) for :meth:`from_config`."""
        return {"max_slope": float(self.max_slope), "n_rising": self.n_rising, "n_falling": self.n_falling,
                "span": list(self.span), "allow_below": self.allow_below}

    @classmethod
    def from_config(cls, cfg: dict) -> "MonotoneResponse":
        """The response :meth:`config` describes (its weights are loaded separately)."""
        return cls(cfg["max_slope"], cfg["n_rising"], cfg["n_falling"], span=tuple(cfg["span"]),
                   allow_below=cfg["allow_below"])

    # -- the parametrisation -------------------------------------------------------------------
    def _parts(self):
        return self._constants()[:4]

    def _make_constants(self) -> tuple:
        """(w, w₀, a, b, L·w₀, c = L·w/a, −a·b, Σ c·sp(−a·b)): the parametrisation and forward's constants."""
        w = torch.softmax(self.logits, 0)
        k = self.sign.numel()
        lo, hi = self.span
        wk, w0 = w[:k], w[k]
        a = self.sign * torch.exp(self.log_rate) / (hi - lo)
        b = lo + (hi - lo) * self.centre
        coef = self.max_slope * wk / a
        shift = -a * b
        sp0 = softplus(shift)
        # primitive: L·[w₀x²/2 + Σ (wₖ/aₖ²)(P(uₖ) − P(u₀ₖ)) − x Σ wₖ sp(u₀ₖ)/aₖ]
        coef_p = coef / a
        prim = (0.5 * self.max_slope * w0, coef_p, softplus_primitive(shift), (coef * sp0).sum())
        return wk, w0, a, b, self.max_slope * w0, coef, shift, sp0, prim

    def _constants(self) -> tuple:
        """:meth:`_make_constants`, cached while no graph to the parameters is needed (module docstring)."""
        params = (self.logits, self.log_rate, self.centre)
        if torch.is_grad_enabled() and any(p.requires_grad for p in params):
            return self._make_constants()
        key = tuple((t.data_ptr(), t._version, t.dtype, t.device)
                    for t in params + (self.max_slope, self.sign))
        cached = self.__dict__.get("_constants_cache")
        if cached is None or cached[0] != key:
            with torch.no_grad():
                cached = (key, self._make_constants())
            self.__dict__["_constants_cache"] = cached
        return cached[1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """r(x): (...) -> (...)."""
        _, _, a, _, lw0, coef, shift, sp0, _ = self._constants()
        if not a.numel():
            return lw0 * x
        u = torch.addcmul(shift, x.unsqueeze(-1), a)      # a·x − a·b, (..., k): the one temporary
        if torch.is_grad_enabled() and (x.requires_grad or coef.requires_grad):
            return ((softplus(u) - sp0) * coef).sum(-1) + lw0 * x
        torch.logaddexp(u, _ZERO.to(u.dtype), out=u)      # sp in place: no second (..., k) array
        # sp(u) − sp(u₀) term by term keeps r(0) = 0 exactly (u = u₀ there); summed by torch's reduction (a
        # BLAS matrix-vector product's rounding can depend on the array's alignment: same input, same bits)
        return u.sub_(sp0).mul_(coef).sum(-1).addcmul_(lw0, x)

    def tangent(self, x: torch.Tensor) -> torch.Tensor:
        """r'(x) = L·s(x): (...) -> (...) (closed form; equals autograd of :meth:`forward`)."""
        return self.max_slope * self.fraction(x)

    def fraction(self, x: torch.Tensor) -> torch.Tensor:
        """s(x) ∈ (0, 1]: (...) -> (...); ±inf inputs give the tail limits."""
        w, w0, a, b = self._parts()
        s = w0 + torch.zeros_like(x)
        if a.numel():
            s = s + (torch.sigmoid(a * (x.unsqueeze(-1) - b)) * w).sum(-1)
        return s

    def secant(self, x: torch.Tensor) -> torch.Tensor:
        """r(x)/x with its limit r'(0) at x = 0, smooth through 0: (...) -> (...)."""
        w, w0, a, b = self._parts()
        h = w0 + torch.zeros_like(x)
        if a.numel():
            u0 = -a * b
            ax = a * x.unsqueeze(-1)
            small = ax.abs() < 1e-4
            safe = torch.where(small, torch.ones_like(ax), ax)
            direct = (softplus(u0 + safe) - softplus(u0)) / safe
            s0 = torch.sigmoid(u0)
            d1 = s0 * (1 - s0)
            d2 = d1 * (1 - 2 * s0)
            series = s0 + ax * d1 / 2 + ax**2 * d2 / 6          # error O((ax)³) ≤ 1e-12
            h = h + (torch.where(small, series, direct) * w).sum(-1)
        return self.max_slope * h

    def primitive(self, x: torch.Tensor) -> torch.Tensor:
        """∫₀ˣ r(t) dt: (...) -> (...) (closed form, through the dilogarithm)."""
        w, w0, a, b, _, _, shift, _, (half_lw0, coef_p, p0, slope0) = self._constants()
        if not (torch.is_grad_enabled() and (x.requires_grad or coef_p.requires_grad)):
            if not a.numel():
                return half_lw0 * x * x
            u = torch.addcmul(shift, x.unsqueeze(-1), a)    # (..., k): the one large temporary kept
            return _primitive_inplace(u).sub_(p0).mul_(coef_p).sum(-1).sub_(slope0 * x).add_(half_lw0 * x**2)
        out = 0.5 * w0 * x**2
        if a.numel():
            u0 = -a * b
            xe = x.unsqueeze(-1)
            terms = (softplus_primitive(u0 + a * xe) - softplus_primitive(u0)) / a**2 - xe * softplus(u0) / a
            out = out + (terms * w).sum(-1)
        return self.max_slope * out

    # -- enclosures over intervals (what an interval certifier of a law built from r needs) ----------
    def value_bounds(self, lo: torch.Tensor, hi: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Enclosure of r over the intervals [lo, hi]: (...), (...) -> (lower (...), upper (...)).

        r is non-decreasing, so r([x, y]) = [r(x), r(y)]; each end is widened by ROUNDING_MARGIN times
        a bound of the absolute sizes of its terms (cancellation between them is what rounding can
        spoil, not the size of the sum) plus the smallest positive float64.
        """
        (r_lo, m_lo), (r_hi, m_hi) = self._value_and_magnitude(lo), self._value_and_magnitude(hi)
        tiny = torch.finfo(torch.float64).tiny
        return r_lo - ROUNDING_MARGIN * m_lo - tiny, r_hi + ROUNDING_MARGIN * m_hi + tiny

    def tangent_bounds(self, lo: torch.Tensor, hi: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Enclosure of r' = L·s over the intervals [lo, hi]: (...), (...) -> (lower (...), upper (...)).

        Every sigmoid term is monotone, so s([x, y]) lies between w₀ + Σ_rising wₖσₖ(x) + Σ_falling wₖσₖ(y)
        and w₀ + Σ_rising wₖσₖ(y) + Σ_falling wₖσₖ(x) (the bound :meth:`sup_tangent` refines on a line,
        and its lower analogue); both ends widened by ROUNDING_MARGIN·L, the lower one clamped at 0.
        """
        w, w0, a, b = self._parts()
        cap = self.max_slope
        if not a.numel():
            s = cap * w0 + torch.zeros_like(lo)
            return s * (1 - ROUNDING_MARGIN), s * (1 + ROUNDING_MARGIN)
        rising = a > 0
        lo_end = torch.where(rising, lo.unsqueeze(-1), hi.unsqueeze(-1))
        hi_end = torch.where(rising, hi.unsqueeze(-1), lo.unsqueeze(-1))
        s_lo = w0 + (torch.sigmoid(a * (lo_end - b)) * w).sum(-1)
        s_hi = w0 + (torch.sigmoid(a * (hi_end - b)) * w).sum(-1)
        return (cap * s_lo - ROUNDING_MARGIN * cap).clamp_min(0.0), cap * s_hi + ROUNDING_MARGIN * cap

    def _value_and_magnitude(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """r(x) and L·(|w₀x| + Σ wₖ(|sp(uₖ)| + |sp(u₀ₖ)|)/|aₖ|), a bound of its terms' sizes: (...) -> (...)."""
        w, w0, a, b = self._parts()
        value = w0 * x
        mag = (w0 * x).abs()
        if a.numel():
            u = a * (x.unsqueeze(-1) - b)
            s1, s0 = softplus(u), softplus(-a * b)
            value = value + ((s1 - s0) / a * w).sum(-1)
            mag = mag + ((s1.abs() + s0.abs()) / a.abs() * w).sum(-1)
        cap = self.max_slope
        return cap * value, cap * mag

    # -- the certificate -----------------------------------------------------------------------
    @torch.no_grad()
    def sup_tangent(self, domain: tuple[float, float] = (-math.inf, math.inf), *,
                    points: int = 4097, max_rounds: int = 60, rtol: float = 1e-7) -> SupBound:
        """Certified sup of r' over ``domain`` (ends may be ±inf), by monotone interval arithmetic.

        ``value`` is a proven upper bound (float64, rounding margin included); ``best`` the largest
        r' at a grid point, so best ≤ sup r' ≤ value and value/best ≤ 1 + rtol + margin on return.
        """
        lo, hi = float(domain[0]), float(domain[1])
        if not hi > lo:
            raise CertificateError(f"sup_tangent(domain): expected lo < hi, received {domain!r}")
        w, w0, a, b = (t.detach().to(torch.float64).cpu() for t in self._parts())
        rising = a > 0
        pad = 40.0 / a.abs() if a.numel() else torch.ones(1, dtype=torch.float64)
        core_lo = float((b - pad).min()) if a.numel() else -1.0
        core_hi = float((b + pad).max()) if a.numel() else 1.0
        grid = torch.linspace(core_lo, core_hi, points, dtype=torch.float64)
        far = (core_hi - core_lo) * torch.logspace(0, 300, 31, dtype=torch.float64)
        grid = torch.cat([grid, b, core_lo - far, core_hi + far])
        grid = grid[(grid > lo) & (grid < hi)]
        grid = torch.cat([torch.tensor([lo, hi], dtype=torch.float64), grid]).unique()   # sorted

        def s_at(t):
            s = w0 + torch.zeros_like(t)
            if a.numel():
                s = s + (torch.sigmoid(a * (t.unsqueeze(-1) - b)) * w).sum(-1)
            return s

        def interval_ub(left, right):
            if not a.numel():
                return w0 + torch.zeros_like(left)
            ends = torch.where(rising, right.unsqueeze(-1), left.unsqueeze(-1))
            return w0 + (torch.sigmoid(a * (ends - b)) * w).sum(-1)

        for _ in range(max_rounds):
            values = s_at(grid)
            values = torch.where(torch.isfinite(grid), values, torch.full_like(values, -1.0))
            best = float(values.max())
            # among ties, report the point nearest 0 (a constant slope is "found" at the data, not far out)
            ties = values >= best * (1 - 1e-15)
            best_i = int(torch.where(ties, grid.abs(), torch.full_like(grid, math.inf)).argmin())
            ub = interval_ub(grid[:-1], grid[1:])
            loose = ub > best * (1 + rtol)
            if not bool(loose.any()):
                break
            left, right = grid[:-1][loose], grid[1:][loose]
            mid = torch.where(torch.isinf(left), right - 2 * right.abs() - 1,
                              torch.where(torch.isinf(right), left + 2 * left.abs() + 1, 0.5 * (left + right)))
            mid = mid[(mid > left) & (mid < right)]
            if not mid.numel():
                break
            grid = torch.cat([grid, mid]).unique()
        slope = float(self.max_slope)
        return SupBound(value=slope * float(ub.max()) * (1 + ROUNDING_MARGIN), best=slope * best,
                        at=float(grid[best_i]))

    def extra_repr(self) -> str:
        return (f"max_slope={float(self.max_slope):.6g}, n_rising={self.n_rising}, "
                f"n_falling={self.n_falling}, allow_below={self.allow_below}")
