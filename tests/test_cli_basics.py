"""The command line's frame: --version, --help, error handling."""
import pytest

from lipmat import __version__
from lipmat.cli import SUBCOMMANDS, _available, main


def test_version(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"lipmat {__version__}"


def test_help_lists_available_subcommands(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for name in _available():
        assert name in out
    assert set(_available()) <= set(SUBCOMMANDS)


def test_no_command_prints_help(capsys):
    assert main([]) == 0
    assert "usage: lipmat" in capsys.readouterr().out
