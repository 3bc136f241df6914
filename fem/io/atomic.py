"""Atomic file creation: no half-written file survives a crash.

Every file fem and lipmat write (fields, energy CSVs, plots, checkpoints, model files) goes through
:func:`atomic_write`: the content is written to a hidden temporary file in the same folder (same file
system, so the final rename is atomic), flushed to disk, given the permissions a plain ``open()``
would have given it (``0o666 & ~umask``; ``mkstemp`` alone would leave ``0o600``), and renamed over
the target with ``os.replace``.

Only a regular file is ever replaced: a target that exists as a folder, a FIFO, a socket or a device
is refused (:class:`~fem.core.errors.FemError`) before anything is written, since ``os.replace`` would swap
such a node for a regular file (as root, removing a device node).
"""
from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path
from typing import Callable

from fem.core.errors import FemError

__all__ = ["atomic_write", "atomic_write_text", "check_target"]

_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISSOCK, "a socket"),
          (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"))


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def check_target(path, what: str = "output file") -> Path:
    """``path`` as a Path if it is absent or a regular file (through symlinks); FemError naming what it is else."""
    path = Path(path)
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return path
    except NotADirectoryError:
        raise FemError(f"cannot write {what} {path}: a part of its folder path is a file, not a folder") from None
    if stat.S_ISREG(mode):
        return path
    kind = next((name for test, name in _KINDS if test(mode)), "not a regular file")
    raise FemError(f"cannot write {what} {path}: it exists and is {kind}; expected a new file or a regular "
                   f"file to replace (it is left as it is)")


def atomic_write(path, writer_fn: Callable[[Path], object]) -> Path:
    """Create ``path`` atomically: ``writer_fn(tmp)`` writes a temporary file beside it, then
    ``os.replace(tmp, path)``.

    ``tmp`` is a hidden file in the same folder ending in ``path``'s suffix, so libraries that pick a
    format from the file name still work. If ``writer_fn`` raises (or Ctrl-C arrives), the temporary
    file is removed, ``path`` is left as it was and the error propagates. Returns ``path`` as a Path.
    The folder must exist (FileNotFoundError naming it otherwise); ``path`` must be absent or a regular
    file (FemError for a folder, FIFO, socket or device: :func:`check_target`).
    """
    path = check_target(path)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise FileNotFoundError(f"cannot write {path}: folder {folder} does not exist")
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=f".tmp{path.suffix}")
    os.close(fd)
    tmp = Path(tmp)
    try:
        writer_fn(tmp)
        with open(tmp, "rb+") as fh:  # the data is on disk before the name points at it
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def atomic_write_text(path, text: str) -> Path:
    """:func:`atomic_write` of a UTF-8 text; returns the path."""
    return atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
