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


def run(args) -> int:
    from lipmat.certify import certify, default_strains
    from lipmat.cli._output import dumps
    from lipmat.io import load_file

    loaded = load_file(args.model)
    model = loaded.model
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
