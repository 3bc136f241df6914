"""The CSV layer under every measurement reader: one pass over the file (header, comment directives,
rows with their line numbers), plain-decimal cells, stress units, sorting and duplicates, and the checks
that name file, line and column. :mod:`lipmat.fitting.data` (curves, tensor tables) and
:mod:`lipmat.fitting.multiaxial` (biaxial tables) build on it; the format is described in
:mod:`lipmat.fitting.data`.
"""
from __future__ import annotations

import csv
import difflib
import hashlib
import io
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lipmat.errors import DataError

#: Unit name -> factor to Pa.
UNITS = {"Pa": 1.0, "kPa": 1e3, "MPa": 1e6, "GPa": 1e9}
#: Largest |stress| (Pa) and |strain| a fit accepts. A fit squares and sums these values (loss, R²,
#: slopes between rows): 1e100² = 1e200 leaves room for the sums of any file, while 1e300 Pa would
#: overflow to inf and end in an R² of nan. Real materials stay below 1e12 Pa.
MAX_MAGNITUDE = 1e100
_STRESS_COLS = ("stress", "nominal_stress", "shear_stress")
_COMPONENTS = ("11", "22", "33", "23", "13", "12")
_UNIT_RE = re.compile(r"^(?P<base>.+?)_(?P<unit>[A-Za-z/%0-9]+)$")
#: A cell that is a plain decimal number (what ``float`` accepts minus nan/inf, underscores, spaces).
_NUMBER_RE = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


@dataclass
class _Raw:
    path: Path
    sha256: str
    header: list[str]
    header_line: int
    rows: list[tuple[int, list[str]]]          # (line number, cells)
    directives: dict[str, str]


def _where(raw: _Raw, line: int | None = None, col: int | None = None) -> str:
    parts = [str(raw.path)]
    if line is not None:
        parts.append(f"line {line}")
    if col is not None:
        parts.append(f"column {col + 1} ({raw.header[col]!r})")
    return ", ".join(parts)


def _read(path) -> _Raw:
    path = Path(path)
    if path.is_dir():
        raise DataError(f"{path}: is a folder; expected a CSV measurement file")
    if not path.is_file():
        raise FileNotFoundError(f"measurement file not found: {path}")
    blob = path.read_bytes()
    sha = hashlib.sha256(blob).hexdigest()
    nul = blob.find(b"\x00")
    if nul >= 0:
        raise DataError(f"{path}: a binary file (NUL byte at offset {nul}); expected CSV text "
                        f"with a header line such as 'stretch,nominal_stress_MPa'")
    try:
        text = blob.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: expected UTF-8 text, received undecodable bytes at offset {exc.start}") from None
    lines = text.splitlines()
    directives: dict[str, str] = {}
    header_idx = None
    for i, line in enumerate(lines):
        s = line.strip()
        if not s:
            continue
        if s.startswith("#"):
            m = re.match(r"#\s*([A-Za-z_]+)\s*[:=]\s*(\S+)", s)
            if m:
                directives[m.group(1).lower()] = m.group(2)
            continue
        header_idx = i
        break
    if header_idx is None:
        raise DataError(f"{path}: the file is empty; expected a header line such as 'stretch,nominal_stress_MPa'")
    head = lines[header_idx]
    delim = "," if "," in head else ";" if ";" in head else "\t" if "\t" in head else ","
    reader = csv.reader(io.StringIO("\n".join(lines[header_idx:])), delimiter=delim, strict=True)
    try:
        header = [c.strip() for c in next(reader)]
    except csv.Error as exc:
        raise DataError(f"{path}, line {header_idx + 1}: malformed CSV header ({exc})") from None
    raw = _Raw(path, sha, header, header_idx + 1, [], directives)
    for j, name in enumerate(header):
        if not name:
            raise DataError(f"{_where(raw, header_idx + 1)}: column {j + 1} has an empty name")
        if header.index(name) != j:
            raise DataError(f"{_where(raw, header_idx + 1)}: column {name!r} appears twice "
                            f"(columns {header.index(name) + 1} and {j + 1})")
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise DataError(f"{path}, line {header_idx + reader.line_num}: malformed CSV ({exc}); expected "
                            f"{len(header)} plain cells separated by {delim!r}") from None
        line = header_idx + reader.line_num
        if not cells or all(not c.strip() for c in cells) or cells[0].lstrip().startswith("#"):
            continue
        if len(cells) != len(header):
            raise DataError(f"{_where(raw, line)}: expected {len(header)} cells (header {header}), "
                            f"received {len(cells)}")
        raw.rows.append((line, [c.strip() for c in cells]))
    return raw


def _numbers(raw: _Raw, col: int) -> np.ndarray:
    out = np.empty(len(raw.rows))
    for k, (line, cells) in enumerate(raw.rows):
        cell = cells[col]
        if not _NUMBER_RE.match(cell):
            low = cell.strip().lower().lstrip("+-")
            if low in ("nan", "inf", "infinity"):
                raise DataError(f"{_where(raw, line, col)}: expected a finite number, received {cell!r}")
            what = "an empty cell" if not cell else repr(cell)
            raise DataError(f"{_where(raw, line, col)}: expected a number (plain decimal such as 1.5 or 2e-3), "
                            f"received {what}")
        v = float(cell)
        if not math.isfinite(v):
            raise DataError(f"{_where(raw, line, col)}: expected a finite number, received {cell!r} (overflows)")
        out[k] = v
    return out


def _split_unit(name: str) -> tuple[str, str | None]:
    """'nominal_stress_MPa' -> ('nominal_stress', 'MPa'); names without a suffix -> (name, None)."""
    m = _UNIT_RE.match(name)
    if m and m.group("base").lower() in _STRESS_COLS + tuple(f"s{c}" for c in _COMPONENTS):
        return m.group("base").lower(), m.group("unit")
    return name.lower(), None


def _check_unit_option(stress_unit, raw: _Raw) -> str | None:
    if stress_unit is None:
        return None
    if stress_unit not in UNITS:
        close = difflib.get_close_matches(str(stress_unit), list(UNITS), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise DataError(f"{raw.path}: stress_unit must be one of {list(UNITS)}, received {stress_unit!r}{hint}")
    return stress_unit


def _unit_of(raw: _Raw, col: int, suffix: str | None, option: str | None) -> tuple[str, str]:
    """Resolve a stress column's unit -> (unit, source)."""
    if suffix is not None:
        unit = next((u for u in UNITS if u.lower() == suffix.lower()), None)   # case-insensitive
        if unit is None:
            raise DataError(f"{_where(raw, raw.header_line, col)}: cannot read the unit {suffix!r}; "
                            f"expected a suffix _Pa, _kPa, _MPa or _GPa")
        if option is not None and option != unit:
            raise DataError(f"{_where(raw, raw.header_line, col)}: the column says {unit} but "
                            f"stress_unit={option!r} was given; remove one of them")
        return unit, "column"
    if option is not None:
        return option, "option"
    name = raw.header[col]
    raise DataError(f"{_where(raw, raw.header_line, col)}: the stress column has no unit; expected a suffix, "
                    f"e.g. {name}_MPa ({', '.join(name + '_' + u for u in UNITS)}), or the stress_unit option "
                    f"(lipmat fit --stress-unit MPa)")


def _unknown(raw: _Raw, col: int, known) -> DataError:
    name = raw.header[col]
    m = _UNIT_RE.match(name)
    probe = m.group("base").lower() if m and m.group("unit").lower() in {u.lower() for u in UNITS} else name.lower()
    close = difflib.get_close_matches(probe, list(known), n=1, cutoff=0.5)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return DataError(f"{_where(raw, raw.header_line, col)}: unknown column {name!r}{hint} "
                     f"(expected one of {sorted(set(known))}, stress columns may end in _Pa/_kPa/_MPa/_GPa)")


def _dedupe_sort(raw: _Raw, x: np.ndarray, y: np.ndarray, xcols, ycols) -> tuple[np.ndarray, np.ndarray, int]:
    """Sort rows by strain (lexicographic for tables); drop exact duplicates; error on conflicting ones."""
    x2 = x.reshape(len(x), -1) if len(x) else x.reshape(0, 1)
    y2 = y.reshape(len(y), -1) if len(y) else y.reshape(0, 1)
    order = np.lexsort(x2.T[::-1]) if len(x2) else np.arange(0)
    keep = []
    for k in order:
        if keep and np.array_equal(x2[k], x2[keep[-1]]):
            j = keep[-1]
            if np.array_equal(y2[k], y2[j]):
                continue
            lj, lk = sorted((raw.rows[j][0], raw.rows[k][0]))
            raise DataError(f"{raw.path}, lines {lj} and {lk}, columns {xcols}: the same strain appears twice "
                            f"with different stresses {ycols} ({y2[j].tolist()} vs {y2[k].tolist()} Pa)")
        keep.append(k)
    keep = np.asarray(keep, dtype=int)
    return x[keep], y[keep], len(x) - len(keep)


def _check_scaled(raw: _Raw, values: np.ndarray, col: int, unit: str) -> None:
    """DataError if converting to Pa overflowed (a cell such as 1e305 in a _GPa column)."""
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        line, cells = raw.rows[int(bad[0])]
        raise DataError(f"{_where(raw, line, col)}: {cells[col]!r} {unit} overflows when converted to Pa; "
                        f"expected a stress below 1.8e308 Pa")


def _check_magnitude(raw: _Raw, values: np.ndarray, col: int, what: str, unit: str = "") -> None:
    """DataError at the first value (stress in Pa, or strain) with |value| > MAX_MAGNITUDE: the fit's squares
    and sums of it would overflow float64."""
    bad = np.flatnonzero(~(np.abs(values) <= MAX_MAGNITUDE))
    if bad.size:
        line, cells = raw.rows[int(bad[0])]
        value = f"{float(values[bad[0]]):.6g}{' ' + unit if unit else ''}"
        raise DataError(f"{_where(raw, line, col)}: {cells[col]!r} is a {what} of {value}; expected |{what}| <= "
                        f"{MAX_MAGNITUDE:.0e}{' ' + unit if unit else ''} (a fit squares and sums these values, "
                        f"and float64 overflows at 1.8e308)")


def _check_monotone(raw: _Raw, x: np.ndarray, col: int) -> None:
    """DataError unless a curve's strain, in file order, only rises or only falls (one loading branch)."""
    d = np.diff(x)
    up, down = np.flatnonzero(d > 0), np.flatnonzero(d < 0)
    if up.size and down.size:
        first = min(int(up[0]), int(down[0]))
        turn = int(down[0]) if first == int(up[0]) else int(up[0])
        trend = "increases" if first == int(up[0]) else "decreases"
        line_turn = raw.rows[turn + 1][0]
        raise DataError(f"{_where(raw, line_turn, col)}: the strain {trend} up to line {raw.rows[turn][0]} and "
                        f"turns back at line {line_turn} ({raw.rows[turn][1][col]!r} -> {raw.rows[turn + 1][1][col]!r}); "
                        f"expected one monotone loading branch per file (split loading and unloading into two files)")


def _check_count(raw: _Raw, n: int) -> None:
    if n < 3:
        raise DataError(f"{raw.path}: expected at least 3 distinct data points, received {n} "
                        f"(data lines after the header at line {raw.header_line})")


def _provenance(raw: _Raw, **kw) -> dict:
    return {"file": str(raw.path), "sha256": raw.sha256, "columns": list(raw.header), **kw}
