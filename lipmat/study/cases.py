"""The cases of a study: the base deck with each combination of values set, written as complete decks.

A case's *key* is a SHA-256 of its deck (without ``[output] dir``, which the study sets) with the mesh and
model files replaced by the hashes of their bytes: the same inputs give the same key wherever the
study lives, and any change to the deck, the mesh or the model gives a new one. The case's folder is
``cases/case-<first 12 hex digits>``; a re-run finds its finished cases there.
"""
from __future__ import annotations

import copy
import hashlib
import itertools
import json
import math
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from fem.deck.restart import file_digest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = ["Case", "expand", "case_key", "dumps_toml", "write_case"]

_DEFAULT_CHECKPOINT_EVERY = 1000


@dataclass
class Case:
    """One case: its index (0-based, in the order of the study's axes), the values it sets, its deck."""

    index: int
    values: dict
    deck: dict
    key: str

    @property
    def folder(self) -> str:
        return f"case-{self.key[:12]}"


def _set(deck: dict, key: str, value) -> None:
    parts = [int(p) - 1 if p.isdigit() else p for p in key.split(".")]
    node = deck
    for p in parts[:-1]:
        node = node[p]
    node[parts[-1]] = value


def _absolute_paths(deck: dict, base: Path) -> None:
    """Input files named relative to the base deck's folder, made absolute (a case deck lives elsewhere)."""
    for table, k in (("mesh", "file"), ("material", "model")):
        sub = deck.get(table)
        if isinstance(sub, dict) and isinstance(sub.get(k), str):
            sub[k] = str((base / sub[k]).resolve())


def case_key(deck: dict) -> str:
    """SHA-256 (hex) of a case deck (paths absolute) with its input files counted by content."""
    d = copy.deepcopy(deck)
    d.get("output", {}).pop("dir", None)
    for table, k in (("mesh", "file"), ("material", "model")):
        sub = d.get(table)
        if isinstance(sub, dict) and isinstance(sub.get(k), str):
            p = Path(sub[k])
            sub[k] = {"sha256": file_digest(p) if p.is_file() else f"missing {p}"}
    return hashlib.sha256(json.dumps(d, sort_keys=True, separators=(",", ":"), default=str).encode()).hexdigest()


def expand(study) -> list[Case]:
    """Every case of ``study`` (:class:`lipmat.study.spec.Study`): the axes crossed, each axis's keys zipped."""
    cases = []
    per_axis = [[dict(zip(axis, combo)) for combo in zip(*axis.values())] for axis in study.axes]
    for i, parts in enumerate(itertools.product(*per_axis)):
        values = {k: v for part in parts for k, v in part.items()}
        deck = copy.deepcopy(study.deck)
        _absolute_paths(deck, study.deck_path.parent)
        for k, v in values.items():
            _set(deck, k, v)
        deck.setdefault("output", {}).pop("dir", None)
        ck = deck.setdefault("checkpoint", {})
        if study.checkpoint_every is not None or "every" not in ck:
            ck["every"] = study.checkpoint_every or _DEFAULT_CHECKPOINT_EVERY
        cases.append(Case(i, values, deck, case_key(deck)))
    return cases


def write_case(cases_dir: Path, case: Case) -> Path:
    """The case's folder with its deck (``case.toml``) and values (``case.json``); an existing deck of the
    same key is left as it is (its run may be under way or done)."""
    from fem.io.atomic import atomic_write

    folder = Path(cases_dir) / case.folder
    folder.mkdir(parents=True, exist_ok=True)
    deck = folder / "case.toml"
    text = f"# case {case.index} of a lipmat study: {json.dumps(case.values)}\n" + dumps_toml(case.deck)
    if not deck.exists() or deck.read_text() != text:
        atomic_write(deck, lambda tmp: Path(tmp).write_text(text))
        atomic_write(folder / "case.json", lambda tmp: Path(tmp).write_text(
            json.dumps({"index": case.index, "key": case.key, "values": case.values}, indent=1)))
    return folder


# ---------------------------------------------------------------------------------------------
# a small TOML writer: the decks a study writes (tables, arrays of tables, inline tables, scalars)
_BARE = re.compile(r"^[A-Za-z0-9_-]+$")


def _key(k: str) -> str:
    return k if _BARE.match(k) else json.dumps(k)


def _value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return ("nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")) if not math.isfinite(v) else repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, list):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{_key(k)} = {_value(x)}" for k, x in v.items()) + " }"
    raise TypeError(f"cannot write {type(v).__name__} {v!r} to TOML")


def _is_table_array(v) -> bool:
    return isinstance(v, list) and bool(v) and all(isinstance(x, dict) for x in v)


def _table(lines: list, name: str, d: dict, array: bool = False) -> None:
    if name:
        lines += ["", f"[[{name}]]" if array else f"[{name}]"]
    subs = []
    for k, v in d.items():
        if isinstance(v, dict) and not array:
            subs.append((k, v, False))
        elif _is_table_array(v) and not array:
            subs.append((k, v, True))
        else:
            lines.append(f"{_key(k)} = {_value(v)}")
    for k, v, is_array in subs:
        full = f"{name}.{_key(k)}" if name else _key(k)
        if is_array:
            for entry in v:
                _table(lines, full, entry, array=True)
        else:
            _table(lines, full, v)


def dumps_toml(data: dict) -> str:
    """TOML text of ``data`` (what :mod:`tomllib` reads back to the same dict; checked)."""
    lines: list[str] = []
    _table(lines, "", data)
    text = "\n".join(lines).lstrip("\n") + "\n"
    if tomllib.loads(text) != data:   # pragma: no cover - a writer bug, not bad input
        raise AssertionError("the TOML written does not read back to the same data")
    return text
