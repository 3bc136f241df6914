"""What the certified step does *not* promise: nonlinear resonance of plain leapfrog on a free bar.

The certificate proves ``Δt ≤ 2/ω_max(u)`` at every state u (the frozen-tangent, linearised scheme is
stable everywhere). It does not make the nonlinear iteration energy-stable: in the top mode (period
≈ 2 steps) the strain alternates about its mean, so a stiffening law presents an alternating tangent,
a parametric pump, and Verlet's nonlinear resonances (ωΔt = √2, √3, i.e. 0.71×, 0.87× the linear
limit; Schlick, Mandziuk, Skeel & Srinivas 1998) can feed it. :func:`leapfrog_energy_growth` is the
experiment; ``bench/timestep_nonlinear.py`` tabulates it and the tests check its three regimes.
"""
from __future__ import annotations

import math

import torch

__all__ = ["leapfrog_energy_growth"]


def leapfrog_energy_growth(mat, factor: float, steps: int, n_el: int = 50, rho: float = 1000.0,
                           limit: float = 10.0) -> tuple[float, int | None]:
    """Plain leapfrog on a free 1D bar (``n_el`` elements, length 1) kicked apart by v0 = ±sin(πx), at
    ``factor`` × the certified step of ``mat`` (a 1D material with a bound and ``energy``). Returns
    (largest E/E0 seen, checked every 50 steps; the step at which it first exceeded ``limit``, or None)."""
    from fem.discretisation.assembly import Assembly
    from fem.discretisation.generators import bar
    from fem.stability.timestep import certified_time_step

    mesh = bar(1.0, n_el)
    a = Assembly(mesh)
    dt = factor * certified_time_step(a, mat.stiffness_bound(), rho).dt
    m = a.lumped_mass(rho)
    x = torch.as_tensor(mesh.points[:, 0])
    v = torch.where(x > 0.5, 1.0, -1.0) * torch.sin(math.pi * x)
    u = torch.zeros_like(x)

    def force(w):
        return a.internal_force(mat.stress(a.strain(w)))

    def energy(w, vel):
        return 0.5 * float((m * vel * vel).sum()) + float((mat.energy(a.strain(w)) * a.qp_weights).sum())

    acc, e0, worst = -force(u) / m, energy(u, v), 1.0
    for n in range(steps):
        vh = v + 0.5 * dt * acc
        u = u + dt * vh
        acc = -force(u) / m
        v = vh + 0.5 * dt * acc
        if n % 50 == 0:
            worst = max(worst, energy(u, v) / e0)
            if not worst < limit:
                return worst, n
    return worst, None
