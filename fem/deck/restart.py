"""Restart files of deck runs: the ``[checkpoint]`` table, the deck's fingerprint and the restart check.

A deck run with a ``[checkpoint]`` table writes ``<output dir>/checkpoint.pt`` every ``every`` steps and
when it is stopped by Ctrl-C or SIGTERM (:func:`fem.deck.run.run_deck`). The file carries the deck's
*fingerprint*: a SHA-256 of everything that decides the solution — every table except ``[output]``,
``[checkpoint]`` and the title, with the mesh and model files replaced by the hashes of their bytes (so
moving a deck, or giving its files as absolute paths, keeps the fingerprint; editing a value, the mesh or
the model changes it). A restart from a file whose fingerprint differs is refused before anything is
written: it would continue another problem.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from fem.core.errors import DeckError, FemError
from fem.deck.table import Table

__all__ = ["read_checkpoint", "fingerprint", "restart_file", "CHECKPOINT_FILE"]

#: the restart file's default name, in the output folder
CHECKPOINT_FILE = "checkpoint.pt"
#: tables that do not change the solution (where and what is written, the title)
_NOT_PHYSICS = ("output", "checkpoint", "title")
#: keys that name input files, relative to the deck's folder: hashed by content
_FILE_KEYS = (("mesh", "file"), ("material", "model"))


def read_checkpoint(t: Table | None) -> tuple[int | None, str]:
    """``[checkpoint] every = N`` (steps >= 1, or 0: only on Ctrl-C / SIGTERM) and ``file`` (a plain file
    name in the output folder). Returns (every or None without the table, file name)."""
    if t is None:
        return None, CHECKPOINT_FILE
    t.check(("every", "file"))
    every = t.integer("every", 0, minimum=0)
    name = t.string("file", CHECKPOINT_FILE)
    if not name or Path(name).name != name or name in (".", ".."):
        raise t.error(f"file = {name!r}: expected a plain file name (it is written in the output folder)")
    return every, name


def file_digest(path: Path) -> str:
    """SHA-256 (hex) of a file's bytes, read in blocks: how a deck's mesh and model files enter its fingerprint."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def fingerprint(data: dict, base: Path) -> str:
    """SHA-256 (hex) of the deck ``data`` (parsed TOML) as far as it decides the solution; files named by
    ``[mesh] file`` and ``[material] model`` (relative to ``base``) count by their bytes."""
    physics = {k: v for k, v in data.items() if k not in _NOT_PHYSICS}
    for table, key in _FILE_KEYS:
        sub = physics.get(table)
        if isinstance(sub, dict) and isinstance(sub.get(key), str):
            path = (Path(base) / sub[key]).resolve()
            physics[table] = {**sub, key: {"sha256": file_digest(path) if path.is_file() else f"missing {path}"}}
    text = json.dumps(physics, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def restart_file(deck, out_dir: Path, restart) -> Path:
    """The checkpoint a run of ``deck`` continues from: ``restart`` True = the deck's file in ``out_dir``,
    else a path. Raises FileNotFoundError when it is missing and DeckError when it is not a checkpoint of
    this deck (another deck or mesh, corrupt, or of another program); nothing is written."""
    from fem.io.checkpoint import load_checkpoint

    path = Path(out_dir) / deck.checkpoint_file if restart is True else Path(restart)
    if restart is True and not path.exists():
        raise FileNotFoundError(
            f"{deck.path.name}: nothing to restart from: no {deck.checkpoint_file} in {out_dir}"
            + ("" if deck.checkpoint_every is not None else
               " (the deck has no [checkpoint] table; add one, e.g. every = 1000, to write restart files)"))
    try:
        ck = load_checkpoint(path)
    except FemError as exc:
        raise DeckError(f"{deck.path.name}: --restart {path}: {exc}") from None
    meta = ck.get("meta") if isinstance(ck, dict) else None
    found = meta.get("deck_fingerprint") if isinstance(meta, dict) else None
    if found is None:
        raise DeckError(f"{deck.path.name}: --restart {path}: this checkpoint carries no deck fingerprint (it was "
                        f"written by fem.solve, not by a deck run); expected a checkpoint of this deck")
    if found != deck.fingerprint:
        raise DeckError(f"{deck.path.name}: --restart {path}: the checkpoint was written by another deck or mesh "
                        f"(deck {meta.get('deck', '?')}, fingerprint {found[:12]}; this deck {deck.fingerprint[:12]}): "
                        f"a restart continues the same problem only; run without --restart to start afresh")
    return path
