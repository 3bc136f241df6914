"""A model's certified stiffness bound next to an empirical lower bound: how tight is the certificate?

``certified`` comes from the model's ``stiffness_bound()`` (a proven bound: a float L ≥ sup ‖C(e)‖₂,
or a matrix C_b ⪰ C(e), summarised by λ_max(C_b) ≥ ‖C(e)‖₂ for the symmetric PSD tangents of the
potential models). ``empirical`` is the largest ‖C(e)‖₂ found — the tangent is evaluated by autograd of
``stress`` at each point, so every value is attained by the function the model computes:

- 1D models: a dense scan (the data range, compression down to ε = −1 and beyond, and log-spaced
  points out to |ε| = 1e12), plus the location the model's own certificate search reports, then a
  local zoom around the best points;
- other models: :func:`lipmat.lipschitz.empirical_lipschitz` from data strains, random strains at
  several scales and, for potentials, the points where each response's slope peaks.

Finite-strain laws (F -> P, certified on a stretch domain; :func:`finite_strain_report`): the certified
3D and plane-strain bounds of sup λ_max(∂P/∂F) over the domain, next to :func:`empirical_stiffness`,
the largest tangent eigenvalue found in that domain (random and boundary states plus local
refinement, the final value a dense eigen-solve of the autograd tangent), a lower bound of the supremum.
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import torch

from fem.materials.hyperelastic.domain import StretchDomain
from fem.materials.hyperelastic.kinematics import tangent_by_autograd
from lipmat.lipschitz import empirical_lipschitz
from lipmat.lipschitz.empirical import eval_mode


@dataclass
class CertificateReport:
    """Certified vs empirical stiffness of a model.

    stiffness_bound: certified scalar (Pa): L, or λ_max(C_b) for a matrix certificate.
    empirical_stiffness: largest ‖C(e)‖₂ found (Pa), a lower bound of the true supremum.
    ratio: stiffness_bound / empirical_stiffness (≥ 1; 1 is a tight certificate).
    at: Mandel strain (list of n floats) where the largest tangent was found.
    matrix: C_b as nested lists for a matrix certificate, else None.
    """
    stiffness_bound: float
    empirical_stiffness: float
    ratio: float
    at: list
    matrix: list | None = None

    def to_dict(self) -> dict:
        return {"stiffness_bound": self.stiffness_bound, "empirical_stiffness": self.empirical_stiffness,
                "ratio": self.ratio, "at": self.at, "stiffness_bound_matrix": self.matrix}


def certified_scalar(bound) -> tuple[float, list | None]:
    """(scalar, matrix-as-lists or None) of a ``stiffness_bound()`` value (float or (n, n) tensor)."""
    if isinstance(bound, torch.Tensor) and bound.dim() == 2:
        c = bound.detach().to(torch.float64)
        return float(torch.linalg.eigvalsh(c).max()) * (1 + 1e-12), c.tolist()
    return float(bound), None


def _tangent_1d(model, x: torch.Tensor) -> torch.Tensor:
    x = x.detach().clone().requires_grad_(True)
    (g,) = torch.autograd.grad(model(x.unsqueeze(-1)).sum(), x)
    return g.detach()


def empirical_stiffness_1d(model, strains: torch.Tensor | None = None) -> tuple[float, float]:
    """(largest dσ/dε found, where) for a 1D model: dense scan + far points + zoom (see module doc)."""
    hi = float(strains.abs().max()) if strains is not None and strains.numel() else 1.0
    far = torch.logspace(-3, 12, 400, dtype=torch.float64)
    pts = [torch.linspace(-1.5 * max(hi, 1.0), 1.5 * hi, 20001, dtype=torch.float64), far, -far]
    if strains is not None:
        pts.append(strains.detach().reshape(-1).to(torch.float64))
    cert = getattr(model, "certificate", None)
    if callable(cert):
        pts.append(torch.tensor([cert().at], dtype=torch.float64))
    x = torch.cat(pts)
    with eval_mode(model):
        t = _tangent_1d(model, x)
        step = 1e-3 * max(hi, 1.0)            # about the scan's spacing
        for _ in range(4):                    # zoom: a finer grid around the 8 best points, 4 times
            top = x[t.topk(min(8, t.numel())).indices]
            local = (top.unsqueeze(-1) + torch.linspace(-1, 1, 401, dtype=torch.float64) * step).reshape(-1)
            x, t = torch.cat([x, local]), torch.cat([t, _tangent_1d(model, local)])
            step /= 100
    i = int(t.argmax())
    return float(t[i]), float(x[i])


def _candidates(model, strains: torch.Tensor | None, n: int, seed: int) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    scale = float(strains.abs().max()) if strains is not None and strains.numel() else 0.01
    scale = scale if scale > 0 else 0.01
    parts = [torch.randn(256, n, generator=gen, dtype=torch.float64) * scale * f for f in (0.1, 1.0, 3.0, 100.0)]
    if strains is not None and strains.numel():
        parts.append(strains.detach().reshape(-1, n).to(torch.float64))
    responses = getattr(model, "moduli_bounds", None)
    if callable(responses):          # isotropic potential: strains where p' and q' peak
        from fem.core import mandel
        k, g2 = responses()
        eye = mandel.identity(model.kinematics, dtype=torch.float64)
        vol = eye * (k.at / float(eye @ eye)) if abs(k.at) < 1e6 else eye * 0
        dev = torch.zeros(n, dtype=torch.float64)
        dev[0], dev[1] = 1 / 2**0.5, -1 / 2**0.5
        dev = dev * (g2.at if abs(g2.at) < 1e6 else 0.0)
        parts.append(torch.stack([vol, dev, vol + dev]))
    return torch.cat(parts)


def default_strains(model) -> torch.Tensor | None:
    """Strains to start the empirical search from when no data are at hand: the model's own span.

    1D: 201 points over the config's ``strain_span``; isotropic: random strains at the responses'
    scale; otherwise None (random strains at the default scale).
    """
    cfg = model.config() if callable(getattr(model, "config", None)) else {}
    if "strain_span" in cfg and model.kinematics == "uniaxial":
        lo, hi = cfg["strain_span"]
        return torch.linspace(lo, hi, 201, dtype=torch.float64)
    if "strain_scale" in cfg and model.kinematics == "uniaxial":
        return torch.linspace(-cfg["strain_scale"], cfg["strain_scale"], 201, dtype=torch.float64)
    span = cfg.get("vol", {}).get("span") or ([0, cfg["strain_scale"]] if "strain_scale" in cfg else None)
    if span is None:
        return None
    n = {"plane_strain": 3, "3d": 6}[model.kinematics]
    gen = torch.Generator().manual_seed(1)
    return torch.randn(64, n, generator=gen, dtype=torch.float64) * max(abs(span[0]), abs(span[1]))


def certify(model, strains: torch.Tensor | None = None, *, seed: int = 0, steps: int = 50) -> CertificateReport:
    """Certified bound, empirical bound, ratio and location for ``model``.

    Args:
        model: any lipmat model (``stiffness_bound()``, ``kinematics``, strain (..., n) -> stress (..., n)).
        strains: (m, n) or (m,) data strains to start the search from (optional).
        seed: seed of the random starting strains (n > 1).
        steps: gradient-ascent steps of :func:`empirical_lipschitz` (n > 1).
    """
    bound, matrix = certified_scalar(model.stiffness_bound())
    if model.kinematics == "uniaxial":
        value, where = empirical_stiffness_1d(model, strains)
        at = [where]
    else:
        n = {"plane_strain": 3, "3d": 6}[model.kinematics]
        with eval_mode(model):
            emp = empirical_lipschitz(model, _candidates(model, strains, n, seed), steps=steps)
        value, at = emp.value, emp.x.tolist()
    ratio = bound / value if value > 0 else float("inf")
    return CertificateReport(stiffness_bound=bound, empirical_stiffness=value, ratio=ratio, at=at, matrix=matrix)


# -- finite-strain laws (F -> P on a stretch domain) ----------------------------------------------
def finite_strain_report(law) -> dict:
    """Certified 3D and plane-strain bounds of a finite-strain law over ``law.domain``, the empirical search
    (:func:`empirical_stiffness`) and their ratios, as a JSON-ready dict (Pa; ``at``: stretches (3,))."""
    cert3 = law.certificate("3d")
    cert2 = law.certificate("plane_strain")
    emp, at = empirical_stiffness(law, law.domain, "3d", extra=[cert3.at])
    emp2, at2 = empirical_stiffness(law, law.domain, "plane_strain", extra=[cert2.at])
    return {"stiffness_bound": cert3.bound, "stiffness_bound_plane_strain": cert2.bound,
            "empirical_stiffness": emp, "empirical_stiffness_plane_strain": emp2,
            "ratio": cert3.bound / emp, "ratio_plane_strain": cert2.bound / emp2, "at": at,
            "certificate_seconds": cert3.seconds + cert2.seconds, "certificate_boxes": cert3.boxes + cert2.boxes}


def sample_stretches(domain: StretchDomain, n: int, kinematics: str = "3d", *,
                     generator: torch.Generator | None = None, boundary: float = 0.3) -> torch.Tensor:
    """(m, k) principal stretches of states in ``domain`` (k = 3, or 2 in plane strain with λ₃ = 1), m ≤ n.

    The first k − 1 stretches are log-uniform in [λ_lo, λ_hi] (each snapped to an end with probability
    ``boundary``/2), J is uniform in [J_lo, J_hi] (snapped likewise), the last stretch is J over the
    product of the others; samples outside the domain (that stretch out of the box, or J rounded past an
    end) are dropped.
    """
    gen = generator or torch.Generator().manual_seed(0)
    k = 3 if kinematics == "3d" else 2
    a, b = math.log(domain.lam_lo), math.log(domain.lam_hi)

    def draw(lo, hi, size):
        u = torch.rand(size, generator=gen, dtype=torch.float64)
        v = torch.rand(size, generator=gen, dtype=torch.float64)
        u = torch.where(v < boundary / 2, torch.zeros_like(u), torch.where(v > 1 - boundary / 2, torch.ones_like(u), u))
        return lo + (hi - lo) * u

    free = draw(a, b, (n, k - 1)).exp()
    J = draw(domain.J_lo, domain.J_hi, (n,))
    last = J / free.prod(-1)
    lam = torch.cat([free, last.unsqueeze(-1)], -1)
    return lam[domain.contains_stretches(lam)]     # also drops J ends rounded just outside


def dense_lambda_max(law, stretches: torch.Tensor) -> torch.Tensor:
    """(m, k) stretches -> (m,) λ_max of the autograd tangent A at F = diag(λ) (dense eigvalsh)."""
    F = torch.diag_embed(stretches.to(torch.float64))
    A = law.tangent(F)
    return torch.linalg.eigvalsh(0.5 * (A + A.transpose(-1, -2)))[..., -1]


def empirical_stiffness(law, domain: StretchDomain, kinematics: str = "3d", *, samples: int = 20000,
                        rounds: int = 8, seed: int = 0, extra=()) -> tuple[float, list]:
    """Largest tangent eigenvalue found in ``domain``: (value Pa, stretches where).

    Closed-form eigenvalues (``law.tangent_eigenvalues``) at the domain's vertices, ``samples`` random
    states and ``extra`` points (e.g. the certifier's best), then ``rounds`` of shrinking random moves
    around the 16 best, kept inside the domain; the value returned is a dense eigen-solve of the autograd
    tangent at the best point (so it is attained by the function the solver calls).
    """
    gen = torch.Generator().manual_seed(seed)
    k = 3 if kinematics == "3d" else 2
    pts = [domain.vertices(kinematics), sample_stretches(domain, samples, kinematics, generator=gen)]
    for e in extra:
        e = torch.as_tensor(e, dtype=torch.float64).reshape(-1)
        if e.numel() == k:
            pts.append(e.unsqueeze(0))
    lam = torch.cat(pts)
    lam = lam[domain.contains_stretches(lam)]
    with torch.no_grad():
        val = law.tangent_eigenvalues(lam).amax(-1)
        step = 0.2
        for _ in range(rounds):
            top = lam[val.topk(min(16, len(val))).indices]
            moves = torch.exp(step * (2 * torch.rand(top.shape[0], 64, k, generator=gen, dtype=torch.float64) - 1))
            cand = (top.unsqueeze(1) * moves).reshape(-1, k).clamp(domain.lam_lo, domain.lam_hi)
            cand = cand[domain.contains_stretches(cand)]
            if len(cand):
                lam = torch.cat([lam, cand])
                val = torch.cat([val, law.tangent_eigenvalues(cand).amax(-1)])
            step *= 0.5
    best = lam[val.topk(min(4, len(val))).indices]
    dense = dense_lambda_max(law, best)
    i = int(dense.argmax())
    return float(dense[i]), best[i].tolist()

# -- laws with memory: the algorithmic tangent at random (F, G, Δt) triples ---------------------------------
def _rotations(n, gen):
    q, r = torch.linalg.qr(torch.randn(n, 3, 3, generator=gen, dtype=torch.float64))
    return q * torch.sign(torch.diagonal(r, dim1=-2, dim2=-1)).unsqueeze(-2)


def _stretches(n, dom, gen):
    """(n, 3) principal stretches log-uniform in the domain's box, J uniform, the third from J (kept inside)."""
    lo, hi = math.log(dom.lam_lo), math.log(dom.lam_hi)
    out = []
    while sum(len(o) for o in out) < n:
        l1 = torch.empty(2 * n, dtype=torch.float64).uniform_(lo, hi, generator=gen).exp()
        l2 = torch.empty(2 * n, dtype=torch.float64).uniform_(lo, hi, generator=gen).exp()
        J = torch.empty(2 * n, dtype=torch.float64).uniform_(dom.J_lo, dom.J_hi, generator=gen)
        l3 = J / (l1 * l2)
        ok = (l3 >= dom.lam_lo) & (l3 <= dom.lam_hi)
        out.append(torch.stack([l1, l2, l3], -1)[ok])
    return torch.cat(out)[:n]


def history_triples(law, n: int, gen: torch.Generator):
    """Random states of a law with memory: F, Fₙ (n, 3, 3) in the domain (random rotations), each branch's
    G (n, N, 3, 3) with eigenvalues log-uniform in [1/λ_hi², 1/λ_lo²], Δt (n,) log-uniform in [1e-8, 1e4] s."""
    dom, N = law.domain, law.n_branches
    F = _rotations(n, gen) @ torch.diag_embed(_stretches(n, dom, gen)) @ _rotations(n, gen)
    F_n = _rotations(n, gen) @ torch.diag_embed(_stretches(n, dom, gen)) @ _rotations(n, gen)
    ge = torch.empty(n, N, 3, dtype=torch.float64).uniform_(-2 * math.log(dom.lam_hi), -2 * math.log(dom.lam_lo),
                                                             generator=gen).exp()
    Q = _rotations(n * N, gen).reshape(n, N, 3, 3)
    G = Q @ torch.diag_embed(ge) @ Q.transpose(-1, -2)
    dt = 10 ** torch.empty(n, dtype=torch.float64).uniform_(-8, 4, generator=gen)
    return F, G, dt, F_n


def history_top_eigen(law, F, G, dt, F_n=None):
    """(λ_max (n,), largest relative asymmetry) of the exact algorithmic tangent ∂P_{n+1}/∂F_{n+1} (autograd
    through ``law.update``) at the given states."""
    A = tangent_by_autograd(lambda x: law.update(x, G, dt, F_n)[0], F)
    asym = float((A - A.transpose(-1, -2)).abs().amax((-1, -2)).max() / A.abs().max())
    return torch.linalg.eigvalsh(0.5 * (A + A.transpose(-1, -2)))[..., -1], asym


def history_targeted(law, cert: dict) -> float:
    """Largest λ_max at the isotropic certificate's worst stretches (every order) with G diagonal at the corners
    {1/λ_hi², 1/λ_lo²}³ and Δt = 1e-9 s (the glassy limit)."""
    dom = law.domain
    lam = torch.tensor(cert["isotropic_at"], dtype=torch.float64)
    best = -math.inf
    for perm in itertools.permutations(range(3)):
        F = torch.diag(lam[list(perm)])
        for corner in itertools.product((dom.lam_hi ** -2, dom.lam_lo ** -2), repeat=3):
            G = torch.diag(torch.tensor(corner, dtype=torch.float64)).expand(law.n_branches, 3, 3)
            best = max(best, float(history_top_eigen(law, F, G, 1e-9)[0]))
    return best


def history_report(law, samples: int = 20_000, seed: int = 0) -> dict:
    """Certificate of a law with memory next to the largest algorithmic tangent found (JSON-ready dict):
    ``samples`` random (F, G, Δt, Fₙ) states plus 48 targeted glassy states; ``violations`` must be 0."""
    cert = law.certificate("3d")
    gen = torch.Generator().manual_seed(seed)
    found, count, violations, asym = -math.inf, 0, 0, 0.0
    while count < samples:
        m = min(10_000, samples - count)
        F, G, dt, F_n = history_triples(law, m, gen)
        top, a = history_top_eigen(law, F, G, dt, F_n)
        violations += int((top > cert["bound"]).sum())
        found, count, asym = max(found, float(top.max())), count + m, max(asym, a)
    random_found = found
    found = max(found, history_targeted(law, cert))
    return {"stiffness_bound": cert["bound"], "isotropic": cert["isotropic"], "branches": cert["branches"],
            "mu_v": cert["mu_v"], "domain": cert["domain"], "empirical_stiffness": found,
            "empirical_random": random_found, "samples": count, "ratio": cert["bound"] / found,
            "violations": violations, "asymmetry": asym}
