"""Typed access to a parsed TOML table, with errors that say where: ``<file>: <table>: <what>``.

:class:`Table` knows nothing about decks: it reads numbers, integers, strings (with choices), booleans,
vectors, paths and sub-tables, and reports an unknown key with the nearest valid one ("did you mean").
A value is required when its default is :data:`REQUIRED`.
"""
from __future__ import annotations

import difflib
import math
from pathlib import Path

import numpy as np

from fem.core.errors import DeckError

__all__ = ["Table", "REQUIRED"]

#: the default of a key that must be present
REQUIRED = object()


class Table:
    """Typed access to one TOML table: ``data`` (the parsed dict), ``where`` (``"[mesh]"``,
    ``"[[bc]] #2"``, ...) and ``file`` (the file name) for the messages."""

    def __init__(self, data: dict, where: str, file: str):
        self.data, self.where, self.file = data, where, file

    def error(self, message: str) -> DeckError:
        """A DeckError located at ``<file>: <table>:``, then the message."""
        return DeckError(f"{self.file}: {self.where}: {message}")

    def check(self, allowed) -> None:
        """DeckError for the first key not in ``allowed``, with the nearest valid key."""
        allowed = list(allowed)
        for key in self.data:
            if key not in allowed:
                near = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
                hint = f" (did you mean {near[0]!r}?)" if near else ""
                raise self.error(f"unknown key {key!r}{hint}; valid keys here: {', '.join(sorted(allowed))}")

    def has(self, key: str) -> bool:
        return key in self.data

    def get(self, key, default):
        """The raw value of ``key``; ``default`` when absent (DeckError if it is REQUIRED)."""
        if key in self.data:
            return self.data[key]
        if default is REQUIRED:
            raise self.error(f"missing required key {key!r}")
        return default

    def type_error(self, key, expected: str, value) -> DeckError:
        return self.error(f"{key} must be {expected}, got {type(value).__name__} {value!r}")

    def number(self, key, default=REQUIRED, *, positive=False, nonnegative=False):
        v = self.get(key, default)
        if v is default and key not in self.data:
            return v
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise self.type_error(key, "a finite number", v)
        if positive and not v > 0:
            raise self.error(f"{key} must be > 0, got {v!r}")
        if nonnegative and not v >= 0:
            raise self.error(f"{key} must be >= 0, got {v!r}")
        return float(v)

    def integer(self, key, default=REQUIRED, *, minimum=1):
        v = self.get(key, default)
        if v is default and key not in self.data:
            return v
        if isinstance(v, bool) or not isinstance(v, int):
            raise self.type_error(key, "an integer", v)
        if v < minimum:
            raise self.error(f"{key} must be >= {minimum}, got {v}")
        return v

    def string(self, key, default=REQUIRED, *, choices=None):
        v = self.get(key, default)
        if v is default and key not in self.data:
            return v
        if not isinstance(v, str):
            raise self.type_error(key, "a string", v)
        if choices is not None and v not in choices:
            near = difflib.get_close_matches(v, list(choices), n=1, cutoff=0.5)
            hint = f" (did you mean {near[0]!r}?)" if near else ""
            raise self.error(f"{key} = {v!r} is not one of {', '.join(map(repr, choices))}{hint}")
        return v

    def boolean(self, key, default=REQUIRED):
        v = self.get(key, default)
        if not isinstance(v, bool):
            raise self.type_error(key, "true or false", v)
        return v

    def vector(self, key, n: int, default=REQUIRED) -> np.ndarray:
        v = self.get(key, default)
        ok = isinstance(v, list) and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in v)
        if not ok or len(v) != n:
            raise self.error(f"{key} must be a list of {n} numbers (one per direction of the {n}D mesh), "
                             f"got {v!r}")
        return np.asarray(v, dtype=np.float64)

    def path_or_false(self, key, default: str, base: Path) -> Path | None:
        v = self.get(key, default)
        if v is False:
            return None
        if not isinstance(v, str) or not v:
            raise self.type_error(key, "a file name or false", v)
        return (base / v).resolve()

    def table(self, key) -> "Table | None":
        if key not in self.data:
            return None
        v = self.data[key]
        if not isinstance(v, dict):
            raise self.type_error(key, f"a table ([{self._sub(key)}])", v)
        return Table(v, f"[{self._sub(key)}]", self.file)

    def tables(self, key) -> list["Table"]:
        v = self.data.get(key, [])
        if isinstance(v, dict):
            v = [v]
        if not isinstance(v, list) or not all(isinstance(x, dict) for x in v):
            raise self.type_error(key, f"an array of tables ([[{key}]])", v)
        return [Table(x, f"[[{key}]] #{i + 1}", self.file) for i, x in enumerate(v)]

    def _sub(self, key) -> str:
        base = self.where.strip("[]")
        return key if base == "top level" else f"{base}.{key}"
