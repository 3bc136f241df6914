"""Certified stiffness bound of a model file, next to an empirical lower bound.

Loads MODEL.pt (refusing a file whose stored certificate does not match its weights), recomputes the
certificate and searches for the largest tangent the model actually has. Prints the certified bound,
the empirical bound, their ratio (1 = tight) and the strain where the largest tangent was found.

--json prints strict JSON (a value that is not a finite number would be null; a model file with
non-finite weights or certificate is refused on load).

Example:
  lipmat certify out/rubber.pt --json
"""
from __future__ import annotations

HELP = "certified stiffness bound of a model file, next to an empirical lower bound"


def add_arguments(parser) -> None:
    parser.add_argument("model", metavar="MODEL.pt", help="model file written by `lipmat fit`")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    parser.add_argument("--samples", type=int, default=20_000, metavar="N",
                        help="laws with memory: random (F, G, dt) states searched for the largest tangent "
                             "(default 20000)")


def run(args) -> int:
    from lipmat.certify import certify, default_strains
    from lipmat.cli._output import dumps
    from lipmat.io import load_file

    loaded = load_file(args.model)
    model = loaded.model
    if callable(getattr(model, "update", None)):     # a law with memory: the algorithmic tangent's bound
        return _history(args, loaded)
    if getattr(model, "finite_strain", False):      # F -> P law certified on a stretch domain
        from lipmat.cli._hyperelastic import certify_cli, print_certify
        report = certify_cli(args, loaded)
        if args.json:
            print(dumps(report))
        else:
            print_certify(report)
        return 0
    if loaded.certificate["kind"] == "none":
        return _no_bound(args, loaded)
    cert = certify(model, default_strains(model))
    out = {"model": loaded.name, "file": str(args.model), "kinematics": model.kinematics,
           **cert.to_dict(), "lipmat_version": loaded.lipmat_version,
           "data": [p.get("file") for p in loaded.provenance if isinstance(p, dict)]}
    if args.json:
        print(dumps(out))
        return 0
    print(f"{args.model}: model {loaded.name} ({model.kinematics})")
    print(f"  certified stiffness bound  {cert.stiffness_bound:.9g} Pa")
    print(f"  empirical (largest found)  {cert.empirical_stiffness:.9g} Pa at strain {_fmt(cert.at)}")
    print(f"  ratio certified/empirical  {cert.ratio:.6f}")
    if cert.matrix is not None:
        print("  matrix certificate C_b (Pa, Mandel):")
        for row in cert.matrix:
            print("    " + "  ".join(f"{v:12.5g}" for v in row))
    return 0


def _history(args, loaded) -> int:
    """A law with internal variables: its certified bound on the algorithmic tangent ∂P_{n+1}/∂F_{n+1} (for every
    state, internal variable and Δt in the domain) next to the largest one found at random triples."""
    from lipmat.certify import history_report
    from lipmat.cli._output import dumps
    from lipmat.errors import LipmatError

    if args.samples < 1:
        raise LipmatError(f"--samples must be a positive whole number, got {args.samples}")

    r = {"model": loaded.name, "file": str(args.model), **history_report(loaded.model, samples=args.samples)}
    if args.json:
        print(dumps(r))
        return 0
    d = r["domain"]
    print(f"{args.model}: model {loaded.name} (finite strain with memory)")
    print(f"  domain                     stretches {d['lam_lo']:g}–{d['lam_hi']:g}, J {d['J_lo']:g}–{d['J_hi']:g}")
    print(f"  certified stiffness bound  {r['stiffness_bound']:.9g} Pa (glassy isotropic {r['isotropic']:.6g} + "
          f"branches {r['branches']:.6g}); bounds λ_max(∂P_n+1/∂F_n+1) for every G and Δt")
    print(f"  empirical (largest found)  {r['empirical_stiffness']:.9g} Pa over {r['samples']} random (F, G, Δt) "
          f"states + 48 glassy corners")
    print(f"  ratio certified/empirical  {r['ratio']:.6f}; violations {r['violations']}")
    return 0


def _no_bound(args, loaded) -> int:
    """A law without a global bound (stiffening hyperelastic baselines): say so, with the data-range value."""
    from lipmat.cli._output import dumps
    from lipmat.errors import CertificateError

    try:
        loaded.model.stiffness_bound()
        note = "no certificate stored"
    except CertificateError as exc:
        note = str(exc)
    over = loaded.metrics.get("empirical_stiffness")
    if args.json:
        print(dumps({"model": loaded.name, "file": str(args.model), "kinematics": loaded.model.kinematics,
                          "stiffness_bound": None, "empirical_stiffness": over, "ratio": None, "at": None,
                          "note": note}))
    else:
        print(f"{args.model}: model {loaded.name} ({loaded.model.kinematics})")
        print(f"  certified stiffness bound  none: {note}")
        if over is not None:
            print(f"  largest tangent over the fitted data range {over:.9g} Pa (estimate)")
    return 0


def _fmt(at) -> str:
    return "[" + ", ".join(f"{v:.6g}" for v in at) + "]"
