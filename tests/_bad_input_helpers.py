"""Shared assertions of the bad-input suites: one line on stderr, exit 2, no traceback, named parts."""
from __future__ import annotations

import re

from lipmat.cli import main


def _cli_error(capsys, argv) -> str:
    """Run ``lipmat argv``; assert exit 2, one stderr line, no traceback; return that line."""
    code = main(argv)
    cap = capsys.readouterr()
    assert code == 2, (code, cap.err)
    assert "Traceback" not in cap.err
    lines = cap.err.strip().splitlines()
    assert len(lines) == 1, cap.err
    return lines[0]


def _has(text: str, *parts: str) -> None:
    for p in parts:
        assert p in text, f"{p!r} not in {text!r}"


BASE = {
    "mesh": 'generator = "bar"\nlx = 1.0\nnx = 10',
    "material": 'type = "linear_elastic"\nE = 1e9\ndensity = 1000.0',
    "bc": 'where = "left"',
    "time": 'end = 1e-3\ndt = "certified"',
    "output": 'dir = "out"',
}


def _deck(tmp_path, name="deck.toml", **tables) -> str:
    """Write a deck of BASE with ``tables`` replacing (or, with None, removing) its tables; its path."""
    parts = {**BASE, **tables}
    text = "\n".join(f"[[{k}]]\n{v}\n" if k == "bc" else f"[{k}]\n{v}\n" for k, v in parts.items() if v is not None)
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def run_cli(argv, capsys) -> tuple[int, str, str]:
    """(exit status, stdout, stderr) of ``lipmat ARGV``; argparse's own errors count as exit 2."""
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 2
    out, err = capsys.readouterr()
    return code, out, err


def assert_clear_error(code, err, pattern, *, status=2):
    assert code == status, f"exit {code}, stderr: {err}"
    assert "Traceback" not in err, err
    # argparse prints its usage block (a "usage:" line and indented continuation lines) before the message
    lines = [line for line in err.strip().splitlines() if line.strip() and not line.startswith(("usage:", " "))]
    assert len(lines) == 1, f"expected one message line, got {err!r}"
    assert re.search(pattern, lines[0]), f"{pattern!r} not in {lines[0]!r}"
