"""lipmat — Lipschitz-certified material laws and explicit dynamics with a proven stable time step.

Subcommands (each has its own --help):
  fit       fit a material law to CSV measurements and write a model file
  predict   a fitted model's prediction of tests it was not fitted to, with per-curve metrics
  certify   certified stiffness bound of a model file, next to an empirical lower bound
  dt        certified and measured stable time steps for a mesh and a material
  run       run an explicit simulation from a TOML deck (--restart continues from a checkpoint)
  sweep     run a parameter study of a deck on a Dask cluster (lists, grids, fitted ensembles)
  demo      the embedded default job: fit Treloar's rubber, certify it, simulate a rubber bar

Exit status:
  0    success
  1    a simulation stopped (unstable, inverted element), or a study case did not complete
  2    bad input (a file, a key, an option): one line on stderr says what was expected and found
  3    internal error, a bug in lipmat: a short report; --debug (or LIPMAT_DEBUG=1) shows the traceback
  130  interrupted (Ctrl-C)
  141  stdout closed early (e.g. `lipmat fit ... | head`), like other Unix tools
"""
from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import sys
import traceback

from lipmat._version import __version__

#: Subcommands in the order --help lists them. Each is a module ``lipmat.cli.<name>`` that defines
#: ``HELP`` (one line), ``add_arguments(parser)`` and ``run(args) -> int``; heavy imports happen inside
#: ``run`` so ``lipmat --help`` stays fast. A module not yet present is simply not listed.
SUBCOMMANDS = ("fit", "predict", "certify", "dt", "run", "sweep", "demo")

#: Exit statuses (see the module docstring).
EXIT_OK, EXIT_STOPPED, EXIT_BAD_INPUT, EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_BROKEN_PIPE = 0, 1, 2, 3, 130, 141


def _available() -> list[str]:
    return [n for n in SUBCOMMANDS if importlib.util.find_spec(f"lipmat.cli.{n}") is not None]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every available subcommand."""
    parser = argparse.ArgumentParser(
        prog="lipmat", description=__doc__.split("\n\n")[0], epilog="\n\n".join(__doc__.split("\n\n")[2:]),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"lipmat {__version__}")
    parser.add_argument("--debug", action="store_true",
                        help="show the full traceback of an error (same as LIPMAT_DEBUG=1)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _available():
        mod = importlib.import_module(f"lipmat.cli.{name}")
        p = sub.add_parser(name, help=mod.HELP, description=(mod.__doc__ or mod.HELP),
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        mod.add_arguments(p)
        p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                       help="show the full traceback of an error (same as LIPMAT_DEBUG=1)")
        p.set_defaults(_module=mod)
    return parser


def bad_input_types() -> tuple[type, ...]:
    """Exception classes that mean "the input is wrong" (exit 2, one line); anything else is a bug (exit 3).

    lipmat's and fem's own error classes (raised where a check on the input fails, with a message that
    names the file, key or line and what was expected), and operating-system errors about the paths
    the user gave (missing file, a folder where a file was expected, no permission, disk full).
    """
    from lipmat.errors import LipmatError

    types: list[type] = [LipmatError, OSError]
    try:
        from fem.core.errors import FemError
        types.append(FemError)
    except ImportError:             # pragma: no cover - fem is part of the same distribution
        pass
    return tuple(types)


def _stopped_type() -> tuple[type, ...]:
    try:
        from fem.core.errors import SimulationError
        return (SimulationError,)
    except ImportError:             # pragma: no cover
        return ()


def _debug(args) -> bool:
    return bool(getattr(args, "debug", False)) or os.environ.get("LIPMAT_DEBUG", "") not in ("", "0")


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 2000 else text[:2000] + " ..."


def _quiet_stdout() -> None:
    """After a broken pipe: point stdout at /dev/null so the interpreter's final flush stays silent."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):   # stdout without a file descriptor (tests)
        pass


def _internal_report(command: str, exc: BaseException) -> str:
    tb = traceback.extract_tb(exc.__traceback__)
    where = f" at {os.path.basename(tb[-1].filename)}:{tb[-1].lineno} ({tb[-1].name})" if tb else ""
    return (f"lipmat {command}: internal error (a bug in lipmat, not a problem with your input): "
            f"{type(exc).__name__}: {_one_line(exc)}{where}\n"
            f"lipmat {command}: rerun with --debug (or LIPMAT_DEBUG=1) for the traceback, and please report it "
            f"with the command line (lipmat {__version__}, Python {sys.version.split()[0]})")


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``lipmat`` command; returns the exit status (tests call ``main([...])``)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "_module", None) is None:
        try:
            parser.print_help()
            sys.stdout.flush()
        except BrokenPipeError:
            _quiet_stdout()
            return EXIT_BROKEN_PIPE
        return EXIT_OK
    command = args.command
    try:
        code = int(args._module.run(args) or 0)
        sys.stdout.flush()
        return code
    except KeyboardInterrupt:
        print(f"lipmat {command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        _quiet_stdout()
        return EXIT_BROKEN_PIPE
    except Exception as exc:
        if _debug(args):
            raise
        if isinstance(exc, _stopped_type()):
            print(f"lipmat {command}: stopped: {_one_line(exc)}", file=sys.stderr)
            return EXIT_STOPPED
        if isinstance(exc, MemoryError):
            print(f"lipmat {command}: error: out of memory; the input asks for more than this machine has "
                  f"({_one_line(exc)})", file=sys.stderr)
            return EXIT_BAD_INPUT
        if isinstance(exc, bad_input_types()):
            print(f"lipmat {command}: error: {_one_line(exc)}", file=sys.stderr)
            return EXIT_BAD_INPUT
        print(_internal_report(command, exc), file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
