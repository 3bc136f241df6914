"""Per-step cost of the two ways to get strains and internal forces: global sparse B vs dense gather.

    python bench/assembly_paths.py [--quick]

For each mesh it prints microseconds per call (median of repeats) of
  sparse:  strain = B @ u, force = Bᵀ @ (w·σ)               (torch CSR, what fem.Assembly uses)
  dense:   u[cell_dofs] -> einsum with B_cells -> index_add  (the naive matrix-free element loop)
  K @ u:   one scipy CSR stiffness product (the floor a linear explicit loop pays per step)
and the ratio (sparse strain + force) / (K @ u).
"""
from __future__ import annotations

import argparse
import statistics
import time

import torch

import fem


def _time(fn, repeats: int, inner: int) -> float:
    fn()
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(inner):
            fn()
        samples.append((time.perf_counter() - t0) / inner)
    return statistics.median(samples) * 1e6


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small meshes, few repeats")
    args = parser.parse_args(argv)
    n = 40 if args.quick else 100
    meshes = {
        "triangle": fem.rectangle(1, 1, n, n),
        "quad": fem.rectangle(1, 1, n, n, cell="quad"),
        "tetra": fem.box(1, 1, 1, n // 6, n // 6, n // 6, cell="tetra"),
        "hexahedron": fem.box(1, 1, 1, n // 5, n // 5, n // 5),
    }
    repeats, inner = (3, 20) if args.quick else (7, 100)
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}")
    print(f"{'cell':<11}{'cells':>8}{'dofs':>8}{'sparse strain':>15}{'sparse force':>14}"
          f"{'dense strain':>14}{'dense force':>13}{'K@u':>8}{'sparse/K@u':>12}{'dense/sparse':>14}")
    for name, mesh in meshes.items():
        a = fem.Assembly(mesh)
        mat = fem.LinearElastic(1.0, 0.3, a.kinematics)
        u = torch.randn(a.n_dofs, dtype=torch.float64)
        s = mat.stress(a.strain(u))
        k = a.stiffness_matrix(mat.linear_stiffness())
        un = u.numpy()
        _ = a.B_cells  # build the dense operator outside the timing
        t = [_time(f, repeats, inner) for f in (lambda: a.strain(u), lambda: a.internal_force(s),
                                                 lambda: a.strain_dense(u), lambda: a.internal_force_dense(s),
                                                 lambda: k @ un)]
        print(f"{name:<11}{a.n_cells:>8}{a.n_dofs:>8}{t[0]:>15.0f}{t[1]:>14.0f}{t[2]:>14.0f}{t[3]:>13.0f}"
              f"{t[4]:>8.0f}{(t[0] + t[1]) / t[4]:>12.2f}{(t[2] + t[3]) / (t[0] + t[1]):>14.2f}")
    print("times in microseconds per call (median)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
