"""Reading a study file (schema: :mod:`lipmat.study`): ``[study]`` and ``[vary]`` -> a checked :class:`Study`.

Errors are located as a deck's are (``<file>: [table]: what, expected``; a :class:`~fem.core.errors.DeckError`,
exit 2 in the CLI): unknown keys with "did you mean", a varied key that is not in the base deck (with the
keys that are), lists of unequal length in a zipped group, an empty list, a missing deck or ensemble.
"""
from __future__ import annotations

import difflib
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

from fem.core.errors import DeckError
from fem.deck.table import Table

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = ["Study", "load_study", "lookup"]

#: varied keys whose values are paths relative to the study file
PATH_KEYS = ("mesh.file", "material.model")


@dataclass
class Study:
    """A checked study: the base deck (parsed TOML and path), the axes and where results go.

    axes : list of groups; a group is ``{dotted key: [values]}`` whose lists vary together (zipped);
    groups are crossed. ensemble : dotted key -> the ensemble manifest it came from (``{ensemble = ...}``).
    """

    path: Path
    deck_path: Path
    deck: dict
    axes: list
    out: Path
    checkpoint_every: int | None
    ensemble: dict = field(default_factory=dict)

    @property
    def keys(self) -> list[str]:
        return [k for group in self.axes for k in group]


def _parse_path(key: str) -> list:
    """``"bc.2.value"`` -> ["bc", 1, "value"] (array-of-tables entries count from 1)."""
    parts = []
    for p in key.split("."):
        parts.append(int(p) - 1 if p.isdigit() else p)
    return parts


def lookup(deck: dict, key: str, where: Table) -> None:
    """DeckError (located at ``where``) unless ``key`` names a value the base deck can take: every table on
    the way exists, array entries are in range; the last key may be new (a default made explicit)."""
    node, done = deck, []
    parts = _parse_path(key)
    for i, p in enumerate(parts):
        last = i == len(parts) - 1
        if isinstance(p, int):
            if not isinstance(node, list) or not 0 <= p < len(node):
                n = len(node) if isinstance(node, list) else 0
                raise where.error(f"{key!r}: the base deck has {n} [[{'.'.join(map(str, done))}]] entries; "
                                  f"entries count from 1 (got {p + 1})")
            node = node[p]
        else:
            if not isinstance(node, dict):
                raise where.error(f"{key!r}: {'.'.join(map(str, done)) or 'the deck'} is not a table")
            if p not in node and not last:
                near = difflib.get_close_matches(p, [k for k in node], n=1, cutoff=0.5)
                hint = f" (did you mean {'.'.join([*map(str, done), near[0]])!r}?)" if near else ""
                raise where.error(f"{key!r}: the base deck has no table {'.'.join([*map(str, done), p])!r}{hint}; "
                                  f"it has {', '.join(sorted(node)) or 'none'}")
            node = node.get(p)
        done.append(p + 1 if isinstance(p, int) else p)


def _members(t: Table, key: str, spec: dict, base: Path) -> list[str]:
    """The member model files of ``{ensemble = "manifest.json"}`` (absolute paths)."""
    sub = Table(spec, f"[vary] {key!r}", t.file)
    sub.check(("ensemble",))
    rel = sub.string("ensemble")
    path = (base / rel).resolve()
    if not path.is_file():
        raise sub.error(f"ensemble = {rel!r}: file not found (looked for {path}); `lipmat fit ... --ensemble N` "
                        f"writes ensemble.json")
    try:
        manifest = json.loads(path.read_text())
        members = [str((path.parent / m["file"]).resolve()) for m in manifest["members"]]
    except (ValueError, KeyError, TypeError) as exc:
        raise sub.error(f"ensemble = {rel!r}: not an ensemble manifest ({type(exc).__name__}: {exc}); expected the "
                        f"ensemble.json of `lipmat fit --ensemble`") from None
    if not members:
        raise sub.error(f"ensemble = {rel!r}: the manifest lists no members")
    return members


def _values(t: Table, key: str, base: Path, ensemble: dict) -> list:
    v = t.data[key]
    if isinstance(v, dict):
        if key != "material.model":
            raise t.error(f"{key!r}: {{ensemble = ...}} applies to \"material.model\" only")
        ensemble[key] = v.get("ensemble")
        return _members(t, key, v, base)
    if not isinstance(v, list) or not v:
        raise t.type_error(key, "a non-empty list of values", v)
    kinds = {type(x).__name__ for x in v}
    if kinds - {"int", "float"} and len(kinds) > 1:
        raise t.error(f"{key!r}: the values mix types ({', '.join(sorted(kinds))}); expected one type")
    if key in PATH_KEYS:
        out = []
        for x in v:
            if not isinstance(x, str):
                raise t.type_error(key, "a list of file paths", v)
            p = (base / x).resolve()
            if not p.is_file():
                raise t.error(f"{key!r}: {x!r}: file not found (looked for {p})")
            out.append(str(p))
        return out
    return list(v)


def load_study(path) -> Study:
    """Read and check the study file at ``path``; FileNotFoundError if missing, DeckError if wrong."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"study file not found: {path}")
    name, base = path.name, path.resolve().parent
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise DeckError(f"{name}: not valid TOML: {exc}") from None
    top = Table(data, "[top level]", name)
    top.check(("study", "vary"))
    st = top.table("study")
    if st is None:
        raise DeckError(f"{name}: missing required table [study] (deck = \"base.toml\")")
    st.check(("deck", "out", "mode", "zip", "checkpoint_every"))
    deck_rel = st.string("deck")
    deck_path = (base / deck_rel).resolve()
    if not deck_path.is_file():
        raise st.error(f"deck = {deck_rel!r}: file not found (looked for {deck_path})")
    try:
        deck = tomllib.loads(deck_path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise st.error(f"deck = {deck_rel!r}: not valid TOML: {exc}") from None
    vary = top.table("vary")
    if vary is None or not vary.data:
        raise DeckError(f"{name}: missing table [vary] (dotted deck key = [values]), e.g. \"time.end\" = [1e-3, 2e-3]")
    ensemble: dict = {}
    values = {}
    for key in vary.data:
        lookup(deck, key, vary)
        values[key] = _values(vary, key, base, ensemble)
    mode = st.string("mode", "grid", choices=("grid", "zip"))
    groups = [list(values)] if mode == "zip" else []
    if st.has("zip"):
        if mode == "zip":
            raise st.error("zip groups apply to mode = \"grid\"; mode = \"zip\" already zips every key")
        z = st.get("zip", None)
        if not (isinstance(z, list) and all(isinstance(g, list) and g and all(isinstance(k, str) for k in g)
                                            for g in z)):
            raise st.type_error("zip", "a list of lists of [vary] keys, e.g. [[\"a.b\", \"c.d\"]]", z)
        for g in z:
            for k in g:
                if k not in values:
                    raise st.error(f"zip: {k!r} is not a key of [vary] (have {', '.join(values)})")
                if any(k in other for other in groups):
                    raise st.error(f"zip: {k!r} is in two groups")
            groups.append(list(g))
    grouped = {k for g in groups for k in g}
    groups += [[k] for k in values if k not in grouped]
    axes = []
    for g in groups:
        lengths = {k: len(values[k]) for k in g}
        if len(set(lengths.values())) > 1:
            raise vary.error(f"zipped keys need lists of one length, got {lengths}")
        axes.append({k: values[k] for k in g})
    out = (base / st.string("out")).resolve() if st.has("out") else base / f"{path.stem}_out"
    every = st.integer("checkpoint_every", None, minimum=1) if st.has("checkpoint_every") else None
    return Study(path.resolve(), deck_path, deck, axes, out, every, ensemble)
