"""The tangent stiffness at a state, matrix-free, and an estimate of its top eigenvalue.

``K(u) v = d/dt f_int(u + t v)|₀``. The strain is linear in u (``ε = B u``), so

    K(u) v = Bᵀ (w · C(ε(u)) (B v)),      C(ε) δε = jvp of ``material.stress`` at ε in direction δε,

with ``C(ε) δε`` a forward-mode Jacobian-vector product of the material (``torch.func.jvp``;
materials whose ops lack forward-mode rules fall back to the double-backward trick). A material's
``stress`` acts point by point (the protocol batches quadrature points), so by default the tangent
at every quadrature point is taken once, with n JVPs along the unit strains (n = 1, 3, 6), and each
product with K is then two sparse products and a batched (n × n) product (measured 1.6 ms vs 2.8 ms
per product on an 80k-dof triangle mesh with a linear law; a network's JVP costs far more).
``pointwise=False`` keeps one material JVP per product (materials that couple points). The global
sparse B does not support forward-mode AD in torch, which is why the chain is written out here —
it is the exact directional derivative of :meth:`fem.discretisation.assembly.Assembly.internal_force` ∘ stress ∘
strain, not an approximation.

Finite strain (an assembly in ``"gradient"`` mode and a ``finite_strain`` material): the same chain
with H = B₀u in place of ε and ``h ↦ P(I + h)`` in place of the stress
(:func:`fem.discretisation.forces.pointwise_stress`), so the tabulated C is ``A = ∂P/∂F`` (d² × d², material plus
geometric stiffness) at every quadrature point and ``K(u) v = B₀ᵀ(w · A(F) B₀v)`` exactly.

The top eigenvalue of ``M⁻¹K(u)`` is then estimated (never certified: Lanczos and power iteration
approach it from below):

- symmetric tangent (a potential): ``scipy.sparse.linalg.eigsh`` (Lanczos) on the symmetric
  ``M^-½ K M^-½`` as a LinearOperator, largest algebraic eigenvalue; or power iteration with the
  Rayleigh quotient.
- non-symmetric tangent (e.g. a strain→stress MLP without a potential): eigsh is invalid; ``eigs``
  (implicitly restarted Arnoldi) returns the eigenvalue of largest modulus, and its modulus (the
  spectral radius) is used; power iteration uses ``‖Ax‖/‖x‖``. Complex eigenvalues mean the
  central-difference scheme is not stable at any step for that mode (flutter); the largest
  ``|Im λ| / |λ|`` found is reported.
"""
from __future__ import annotations

import contextlib
import logging
import warnings

import numpy as np
import scipy.sparse.linalg as sla
import torch

from fem.discretisation.forces import pointwise_stress

__all__ = ["TangentOperator", "top_eigenvalue"]

log = logging.getLogger(__name__)


@contextlib.contextmanager
def _eval_mode(material):
    """Evaluate nn.Module materials in eval mode (certificates are of the eval-mode function, and
    spectral-norm parametrisations would otherwise update their power-iteration buffers)."""
    training = isinstance(material, torch.nn.Module) and material.training
    if training:
        material.eval()
    try:
        yield
    finally:
        if training:
            material.train()


def _jvp_double_backward(fn, x: torch.Tensor, dx: torch.Tensor) -> torch.Tensor:
    with torch.enable_grad():
        x = x.detach().requires_grad_(True)
        y = fn(x)
        w = torch.zeros_like(y, requires_grad=True)
        (g,) = torch.autograd.grad(y, x, grad_outputs=w, create_graph=True)
        (jv,) = torch.autograd.grad(g, w, grad_outputs=dx, allow_unused=True)
    return torch.zeros_like(y) if jv is None else jv.detach()


class TangentOperator:
    """``v ↦ K(u) v`` for an assembly, a material and a state u.

    assembly : :class:`fem.discretisation.assembly.Assembly`; material : fem material protocol;
    u : (n_dofs,) state (None: zero). ``matvec(v)``: (n_dofs,) tensor -> (n_dofs,) tensor.
    pointwise : tabulate the tangent C (n_cells, nq, n, n) once (module docstring); in gradient mode
    (finite strain) C is ``A = ∂P/∂F`` with n = d².
    ``n_products`` counts the products taken so far; ``n_material_jvps`` the material JVPs.
    """

    def __init__(self, assembly, material, u: torch.Tensor | None = None, *, pointwise: bool = True):
        self.assembly, self.material = assembly, material
        self._stress = pointwise_stress(assembly, material)
        if u is None:
            u = torch.zeros(assembly.n_dofs, dtype=assembly.dtype, device=assembly.device)
        self.eps = assembly.strain(u.detach().to(dtype=assembly.dtype, device=assembly.device))
        self.n_products = self.n_material_jvps = 0
        self._forward_ok = True
        self.C = self._tabulate() if pointwise else None

    def _tabulate(self) -> torch.Tensor:
        """(n_cells, nq, n, n) tangent ``∂σ/∂ε`` (or ``∂P/∂F``) at every quadrature point, column by column."""
        n = self.assembly.n_strain
        cols = []
        with _eval_mode(self.material):
            for j in range(n):
                e_j = torch.zeros_like(self.eps)
                e_j[..., j] = 1.0
                cols.append(self._material_jvp(e_j).detach())
        return torch.stack(cols, dim=-1)
    def _material_jvp(self, deps: torch.Tensor) -> torch.Tensor:
        self.n_material_jvps += 1
        if self._forward_ok:
            try:
                with warnings.catch_warnings():  # torch's jvp decompositions call torch.jit.script on import
                    warnings.filterwarnings("ignore", message=".*torch.jit.script.*", category=DeprecationWarning)
                    return torch.func.jvp(self._stress, (self.eps,), (deps,))[1]
            except (RuntimeError, NotImplementedError) as exc:
                log.info("forward-mode jvp of %s failed (%s); using double backward",
                         type(self.material).__name__, exc)
                self._forward_ok = False
        return _jvp_double_backward(self._stress, self.eps, deps)

    def matvec(self, v: torch.Tensor) -> torch.Tensor:
        a = self.assembly
        self.n_products += 1
        if self.C is not None:
            return a.internal_force(torch.einsum("cqij,cqj->cqi", self.C, a.strain(v)))
        with _eval_mode(self.material):
            dsig = self._material_jvp(a.strain(v))
        return a.internal_force(dsig.detach())

    def is_symmetric(self, *, probes: int = 2, rtol: float = 1e-8, seed: int = 0) -> bool:
        """Whether ``xᵀK y = yᵀK x`` for random x, y (to ``rtol·‖x‖‖K‖‖y‖``)."""
        g = torch.Generator(device="cpu").manual_seed(seed)
        a = self.assembly
        for _ in range(probes):
            x, y = (torch.randn(a.n_dofs, generator=g, dtype=a.dtype).to(a.device) for _ in range(2))
            kx, ky = self.matvec(x), self.matvec(y)
            scale = float(kx.norm() * y.norm() + ky.norm() * x.norm()) + 1e-300
            if abs(float(y @ kx - x @ ky)) > rtol * scale:
                return False
        return True


def _power(apply, n: int, symmetric: bool, tol: float, maxiter: int) -> tuple[float, dict]:
    x = np.cos(np.arange(n) * 0.7548776662) + 1.5
    x /= np.linalg.norm(x)
    lam_old = 0.0
    for it in range(1, maxiter + 1):
        y = apply(x)
        lam = float(x @ y) if symmetric else float(np.linalg.norm(y))
        ny = np.linalg.norm(y)
        if ny == 0.0:
            return 0.0, {"iterations": it, "converged": True}
        x = y / ny
        if it > 5 and abs(lam - lam_old) <= tol * abs(lam):
            return lam, {"iterations": it, "converged": True}
        lam_old = lam
    log.warning("power iteration did not converge in %d iterations (last change %.2g)", maxiter,
                abs(lam - lam_old) / max(abs(lam), 1e-300))
    return lam, {"iterations": maxiter, "converged": False}


def top_eigenvalue(op: TangentOperator, mass: np.ndarray, *, method: str = "lanczos", tol: float = 1e-10,
                   maxiter: int = 5000) -> tuple[float, dict]:
    """Estimate of the top eigenvalue (spectral radius when non-symmetric) of ``M⁻¹K(u)``.

    op : :class:`TangentOperator`; mass : (n_dofs,) lumped mass > 0.
    method : ``"lanczos"`` (eigsh; eigs for a non-symmetric tangent) or ``"power"``.
    Returns (λ, details) with details: symmetric, solver, products, and for eigs ``imag_ratio``.
    """
    if method not in ("lanczos", "power"):
        raise ValueError(f"method must be 'lanczos' or 'power', got {method!r}")
    a = op.assembly
    d = 1.0 / np.sqrt(np.asarray(mass, dtype=np.float64))
    symmetric = op.is_symmetric()

    def apply(x: np.ndarray) -> np.ndarray:
        v = torch.as_tensor(d * np.real(x), dtype=a.dtype, device=a.device)
        return d * op.matvec(v).cpu().numpy()

    n = a.n_dofs
    info: dict = {"symmetric": symmetric}
    if method == "power":
        lam, extra = _power(apply, n, symmetric, tol, maxiter)
        info.update(solver="power iteration" + (" (Rayleigh quotient)" if symmetric else " (‖Ax‖/‖x‖)"), **extra)
    elif symmetric:
        lin = sla.LinearOperator((n, n), matvec=apply, dtype=np.float64)
        v0 = np.cos(np.arange(n) * 0.7548776662) + 1.5
        if n <= 2:
            lam = float(np.linalg.eigvalsh(np.column_stack([apply(e) for e in np.eye(n)]))[-1])
        else:
            lam = float(sla.eigsh(lin, k=1, which="LA", tol=tol, v0=v0, ncv=min(n - 1, 32),
                                  maxiter=maxiter, return_eigenvectors=False)[0])
        info["solver"] = "eigsh (Lanczos, largest algebraic)"
    else:
        lin = sla.LinearOperator((n, n), matvec=apply, dtype=np.float64)
        v0 = np.cos(np.arange(n) * 0.7548776662) + 1.5
        if n <= 3:
            w = np.linalg.eigvals(np.column_stack([apply(e) for e in np.eye(n)]))
            z = complex(w[np.argmax(np.abs(w))])
        else:
            z = complex(sla.eigs(lin, k=1, which="LM", tol=tol, v0=v0, ncv=min(n - 1, 40), maxiter=maxiter,
                                 return_eigenvectors=False)[0])
        lam = abs(z)
        info.update(solver="eigs (Arnoldi, largest modulus; non-symmetric tangent, eigsh invalid)",
                    eigenvalue=(z.real, z.imag), imag_ratio=abs(z.imag) / max(abs(z), 1e-300))
    info["products"] = op.n_products
    info["material_jvps"] = op.n_material_jvps
    return lam, info
