"""How tight are certified Lipschitz bounds of trained MLPs, per activation and per layer control?

    python bench/lipschitz_bounds.py [--quick] [--steps N] [--seed S] [--threads T]

MLPs (depth = number of linear layers, 2-4; width 32-128) with tanh or GroupSort(2) activations are
trained (Adam, full batch) on two small regressions whose targets have Lipschitz constant 0.9:

    1D  y = 0.3 x + 0.2 sin(3x),                x ~ U(-2, 2)      (200 training points)
    3D  y = 0.4 x + 0.25 Qᵀ tanh(2 Q x),        x ~ U(-1, 1)³     (300 training points, Q orthogonal)

under each layer control with per-layer target k = 1 (none, frobenius, clip, penalty, hard; see
lipmat.lipschitz.controls). Hard normalisation is refined after training (refine_estimates). For each
run it prints, in one markdown table, the certified bound L_cert (lipschitz_bound, exact SVD norms),
the empirical lower bound L_emp (empirical_lipschitz on the training inputs, 30 ascent steps), their
ratio, and the fit error (relative RMSE on 500 fresh points, percent).
"""
from __future__ import annotations

import argparse
import math
import time

import torch
from torch import nn

from lipmat.lipschitz import (GroupSort, apply_control, control_penalty, empirical_lipschitz, lipschitz_bound,
                              refine_estimates)

CONTROLS = ("none", "frobenius", "clip", "penalty", "hard")
ACTIVATIONS = {"tanh": nn.Tanh, "groupsort": lambda: GroupSort(2)}


def dataset(name: str, n: int, generator: torch.Generator):
    """(x, y) for the 1D or 3D target: x (n, d), y (n, d)."""
    if name == "1D":
        x = 4 * torch.rand(n, 1, generator=generator) - 2
        return x, 0.3 * x + 0.2 * torch.sin(3 * x)
    q, _ = torch.linalg.qr(torch.randn(3, 3, generator=torch.Generator().manual_seed(7)))
    x = 2 * torch.rand(n, 3, generator=generator) - 1
    return x, 0.4 * x + 0.25 * torch.tanh(2 * x @ q.T) @ q


def mlp(dim: int, depth: int, width: int, activation: str) -> nn.Sequential:
    sizes = [dim] + [width] * (depth - 1) + [dim]
    layers: list[nn.Module] = []
    for i in range(depth):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < depth - 1:
            layers.append(ACTIVATIONS[activation]())
    return nn.Sequential(*layers)


def run(data: str, depth: int, width: int, activation: str, control: str, steps: int, seed: int) -> dict:
    gen = torch.Generator().manual_seed(seed)
    x, y = dataset(data, 200 if data == "1D" else 300, gen)
    x_test, y_test = dataset(data, 500, gen)
    torch.manual_seed(seed)
    net = apply_control(mlp(x.shape[1], depth, width, activation), control, k=1.0)
    optimizer = torch.optim.Adam(net.parameters(), lr=3e-3)
    for _ in range(steps):
        optimizer.zero_grad()
        loss = ((net(x) - y) ** 2).mean() + control_penalty(net)
        loss.backward()
        optimizer.step()
    if control == "hard":
        refine_estimates(net, 500)
    net.eval()
    with torch.no_grad():
        error = float(torch.linalg.vector_norm(net(x_test) - y_test) / torch.linalg.vector_norm(y_test))
    cert = lipschitz_bound(net)
    emp = empirical_lipschitz(net, x, steps=30).value
    return {"cert": cert, "emp": emp, "ratio": cert / emp, "error": 100 * error}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one small architecture, 300 steps")
    parser.add_argument("--steps", type=int, default=None, help="Adam steps per run (default 1000; quick 300)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads (default 1: these layers are too small to gain from more, "
                             "and on a shared 2-core machine 2 threads ran 10-30x slower)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.set_default_dtype(torch.float64)
    archs = [(2, 32)] if args.quick else [(2, 32), (3, 64), (4, 128)]
    steps = args.steps or (300 if args.quick else 1000)
    header = ["data", "activation", "control"]
    for depth, width in archs:
        header += [f"D{depth}×W{width}: L_cert / L_emp = ratio", "err %"]
    print(f"# certified vs empirical Lipschitz bounds; target Lip 0.9, k = 1 per layer, {steps} Adam steps\n")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    start = time.perf_counter()
    for data in ("1D", "3D"):
        for activation in ACTIVATIONS:
            for control in CONTROLS:
                cells = [data, activation, control]
                for depth, width in archs:
                    r = run(data, depth, width, activation, control, steps, args.seed)
                    cells += [f"{r['cert']:.3g} / {r['emp']:.3g} = {r['ratio']:.2f}", f"{r['error']:.1f}"]
                print("| " + " | ".join(cells) + " |", flush=True)
    print(f"\n({time.perf_counter() - start:.0f} s, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
