"""lipmat — Lipschitz-certified material laws and explicit dynamics with a proven stable time step.

Subcommands (each has its own --help):
  fit       fit a material law to CSV measurements and write a model file
  certify   certified stiffness bound of a model file, next to an empirical lower bound
  dt        certified and measured stable time steps for a mesh and a material
  run       run an explicit simulation from a TOML deck
  demo      the embedded default job: fit Treloar's rubber, certify it, simulate a rubber bar

Errors exit with status 2 and a one-line message (no traceback); set LIPMAT_DEBUG=1 for the traceback.
"""
from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import sys

from lipmat._version import __version__

#: Subcommands in the order --help lists them. Each is a module ``lipmat.cli.<name>`` that defines
#: ``HELP`` (one line), ``add_arguments(parser)`` and ``run(args) -> int``; heavy imports happen inside
#: ``run`` so ``lipmat --help`` stays fast. A module not yet present is simply not listed.
SUBCOMMANDS = ("fit", "certify", "dt", "run", "demo")


def _available() -> list[str]:
    return [n for n in SUBCOMMANDS if importlib.util.find_spec(f"lipmat.cli.{n}") is not None]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every available subcommand."""
    parser = argparse.ArgumentParser(
        prog="lipmat", description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"lipmat {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _available():
        mod = importlib.import_module(f"lipmat.cli.{name}")
        p = sub.add_parser(name, help=mod.HELP, description=(mod.__doc__ or mod.HELP),
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        mod.add_arguments(p)
        p.set_defaults(_module=mod)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``lipmat`` command; returns the exit status (tests call ``main([...])``)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "_module", None) is None:
        parser.print_help()
        return 0
    try:
        return int(args._module.run(args) or 0)
    except KeyboardInterrupt:
        print("lipmat: interrupted", file=sys.stderr)
        return 130
    except (ValueError, FileNotFoundError, IsADirectoryError, PermissionError, RuntimeError) as exc:
        # Library errors subclass ValueError (LipmatError, FemError) or RuntimeError (SimulationError).
        if os.environ.get("LIPMAT_DEBUG"):
            raise
        print(f"lipmat {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
