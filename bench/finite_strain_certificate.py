"""Certificates of the classical finite-strain laws, and what the bulk modulus does to the certified step.

Table 1: for each law (rubber-like parameters, ν = 0.45, default domain: stretches in [0.4, 3], J in
[0.8, 1.25]) and kinematics, the certified sup of λ_max(∂P/∂F), the largest eigenvalue the search
found, their ratio, the sub-boxes evaluated and the wall time of the certification.

Table 2: compressible Neo-Hookean, G = 0.5 MPa, ρ = 1000 kg/m³, on a plane-strain unit square of
8×8×2 triangles (gradient-mode assembly), for ν from 0.3 to 0.499: the certified scalar a_b, the
certified step (global form, scalar bound a_b·I), the exact critical step at F = I (= small-strain
linear elasticity with the same K, G) and the exact critical step at the homogeneous state F = diag(at)
where the search found the largest eigenvalue (A is then the same in every cell, so a dense
eigen-solve is exact). Then the same with a narrower domain (stretches [0.7, 1.5], J [0.95, 1.05]),
and 3D rows on a 4×4×4 Hex8 unit cube.

Usage: python bench/finite_strain_certificate.py [--quick]
"""
from __future__ import annotations

import argparse
import sys
import time

import torch


def _laws(nu=0.45):
    from fem.materials.hyperelastic import ArrudaBoyce, Gent, MooneyRivlin, NeoHookean, Ogden, Yeoh

    return {
        "Neo-Hookean (μ 0.5 MPa)": NeoHookean(0.5e6, nu=nu),
        "Mooney–Rivlin (0.2, 0.05 MPa)": MooneyRivlin(0.2e6, 0.05e6, nu=nu),
        "Yeoh (0.25, −0.005, 0.0004 MPa)": Yeoh(0.25e6, -0.005e6, 0.0004e6, nu=nu),
        "Ogden-3 (Treloar fit)": Ogden([0.63e6, 0.0012e6, -0.01e6], [1.3, 5.0, -2.0], nu=nu),
        "Gent (0.5 MPa, Jm 30)": Gent(0.5e6, 30.0, nu=nu),
        "Arruda–Boyce (0.5 MPa, N 6)": ArrudaBoyce(0.5e6, 6.0, nu=nu),
    }


def table_certificates(rtol: float) -> None:
    from fem.materials.hyperelastic import certify_isotropic

    print(f"\nCertified sup λ_max(∂P/∂F) over the default domain (ν = 0.45, rtol = {rtol})\n")
    print("| law | kinematics | certified a_b (MPa) | largest found (MPa) | ratio | boxes | seconds |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for name, law in _laws().items():
        for kin in ("3d", "plane_strain"):
            c = certify_isotropic(law, law.domain, kin, rtol=rtol)
            print(f"| {name} | {kin} | {c.bound / 1e6:.4g} | {c.found / 1e6:.4g} | {c.ratio:.4f} | {c.boxes} | "
                  f"{c.seconds:.2f} |")


def table_timestep(nus, domains, kinematics: str = "plane_strain") -> None:
    from fem.discretisation.assembly import Assembly
    from fem.materials.hyperelastic import NeoHookean
    from fem.discretisation.generators import box, rectangle
    from fem.stability.timestep import certified_time_step, exact_time_step

    G, rho = 0.5e6, 1000.0
    if kinematics == "plane_strain":
        mesh, what = rectangle(1.0, 1.0, 8, 8), "plane strain, 8×8×2 T3 unit square"
    else:
        mesh, what = box(1.0, 1.0, 1.0, 4, 4, 4), "3D, 4×4×4 Hex8 unit cube"
    d = 2 if kinematics == "plane_strain" else 3
    asm = Assembly(mesh, mode="gradient")
    print(f"\nCertified step vs ν: Neo-Hookean G = 0.5 MPa, {what}, ρ = 1000\n")
    print("| domain | ν | K/G | a_b (MPa) | a_b/3K | Δt certified (μs) | Δt exact at F = I (μs) | "
          "Δt exact at worst F (μs) | cert/exact(I) | cert/exact(worst) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for label, dom in domains:
        for nu in nus:
            law = NeoHookean(G, nu=nu, domain=dom)
            cert = law.certificate(kinematics)
            dt_c = certified_time_step(asm, cert.bound, rho, method="global").dt
            A0 = law.tangent(torch.eye(d, dtype=torch.float64)[None])[0]
            dt_0 = exact_time_step(asm, A0, rho)
            Aw = law.tangent(torch.diag(torch.tensor(cert.at, dtype=torch.float64))[None])[0]
            Aw = 0.5 * (Aw + Aw.T)
            dt_w = exact_time_step(asm, Aw, rho)
            K = law.bulk_modulus
            print(f"| {label} | {nu} | {K / G:.4g} | {cert.bound / 1e6:.4g} | {cert.bound / (3 * K):.3f} | "
                  f"{dt_c * 1e6:.4g} | {dt_0 * 1e6:.4g} | {dt_w * 1e6:.4g} | {dt_c / dt_0:.3f} | {dt_c / dt_w:.3f} |")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="fewer ν values")
    p.add_argument("--rtol", type=float, default=0.02)
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    from fem.materials.hyperelastic import DEFAULT_DOMAIN, StretchDomain

    t0 = time.perf_counter()
    table_certificates(args.rtol)
    nus = [0.3, 0.45, 0.49] if args.quick else [0.3, 0.4, 0.45, 0.48, 0.49, 0.495, 0.499]
    table_timestep(nus, [("[0.4, 3] × J [0.8, 1.25] (default)", DEFAULT_DOMAIN),
                         ("[0.7, 1.5] × J [0.95, 1.05]", StretchDomain(0.7, 1.5, 0.95, 1.05))])
    table_timestep([0.3, 0.45, 0.49, 0.499], [("[0.4, 3] × J [0.8, 1.25] (default)", DEFAULT_DOMAIN)], "3d")
    print(f"\n(total {time.perf_counter() - t0:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
