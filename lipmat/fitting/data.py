"""Measurement files (CSV) -> validated arrays in SI units, with provenance.

Two kinds of file, told apart by their columns (:func:`load_csv` dispatches):

**Curves** (:func:`load_uniaxial` -> :class:`UniaxialCurve`), one strain and one stress column:

=====================  ==================================  =============================
strain column          meaning                              stored ``strain``
=====================  ==================================  =============================
``stretch``            λ (–)                                 λ − 1
``strain``             engineering strain λ − 1 (–)          as is
``strain_percent``     engineering strain in %               value / 100
``shear_strain``       engineering shear strain γ = 2ε12     γ
=====================  ==================================  =============================

with stress column ``stress`` or ``nominal_stress`` (nominal = first Piola–Kirchhoff, force per
undeformed area) for the tension-type load cases, ``shear_stress`` (τ = σ12) for simple shear.

**Tensor tables** (:func:`load_table` -> :class:`TensorTable`): strain columns ``e11, e22, e33, e23,
e13, e12`` (tensor components) — a shear component may instead be given as engineering shear
``g23, g13, g12`` (γ = 2ε) — and stress columns ``s11, s22, s33, s23, s13, s12`` (tensor components).
The component set fixes the kinematics: ``{11}`` uniaxial, ``{11, 22, 12}`` plane strain, all six 3D.
Values are converted to Mandel vectors (:mod:`fem.core.mandel`).

Units. A stress column carries its unit: a suffix ``_Pa``, ``_kPa``, ``_MPa`` or ``_GPa``
(``nominal_stress_MPa``), or, for unsuffixed columns, the ``stress_unit=`` option (``lipmat fit
--stress-unit``). Both given and different -> DataError. Neither -> DataError: a stress in MPa read as
Pa is off by 1e6 and nothing downstream could tell, so no unit is ever assumed. Strains carry no unit
(``strain_percent`` is the one scaled column). Everything returned is in Pa.

Load case of a curve (``UniaxialCurve.load_case``), first that applies:

1. the ``load_case=`` option;
2. a comment line ``# load_case: equibiaxial`` before the header;
3. the columns: ``shear_strain``/``shear_stress`` -> ``"simple_shear"``;
4. the file name: it contains ``uniaxial``, ``equibiaxial``/``biaxial``, ``pureshear``/``pure_shear``
   or ``simpleshear``/``simple_shear`` (so the shipped ``treloar_*.csv`` files need no option);
5. ``"uniaxial"``.

A load case that contradicts the columns (``simple_shear`` with ``stretch`` columns, or the reverse) is a
DataError. ``provenance["load_case_source"]`` says which rule applied.

File format: comma separated (``;`` or tab also recognised from the header line), one header line,
UTF-8 text (a BOM is accepted; a NUL byte means a binary file and is refused), blank lines and lines
starting with ``#`` ignored. Cells are plain decimal numbers (``1.5``, ``-2e-3``): ``nan``, ``inf``,
``1_0`` (which Python's ``float`` reads as 10), hexadecimal and empty cells are refused. A curve is
one loading branch: its strain column must be monotone in file order (increasing or decreasing; a
loading-unloading cycle must be split into two files). Rows are then sorted by strain; exact duplicate
rows are dropped (counted in provenance), the same strain with two stresses is refused. Every problem
raises :class:`~lipmat.errors.DataError` naming the file, the line and the column.
"""
from __future__ import annotations

import csv
import difflib
import hashlib
import io
import logging
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from fem.core import mandel
from lipmat.errors import DataError

log = logging.getLogger(__name__)

#: Unit name -> factor to Pa.
UNITS = {"Pa": 1.0, "kPa": 1e3, "MPa": 1e6, "GPa": 1e9}
#: Load cases a curve can declare.
LOAD_CASES = ("uniaxial", "equibiaxial", "pure_shear", "simple_shear")

_STRAIN_COLS = {"stretch": "stretch", "strain": "strain", "strain_percent": "strain_percent",
                "strain_%": "strain_percent", "shear_strain": "shear_strain"}
_STRESS_COLS = ("stress", "nominal_stress", "shear_stress")
_TENSION_CASES = ("uniaxial", "equibiaxial", "pure_shear")
_NAME_HINTS = (("equibiaxial", "equibiaxial"), ("biaxial", "equibiaxial"), ("pureshear", "pure_shear"),
               ("pure_shear", "pure_shear"), ("simpleshear", "simple_shear"), ("simple_shear", "simple_shear"),
               ("uniaxial", "uniaxial"))
_COMPONENTS = ("11", "22", "33", "23", "13", "12")
_KIN_COMPONENTS = {"uniaxial": ("11",), "plane_strain": ("11", "22", "12"), "3d": _COMPONENTS}
_TENSOR_RE = re.compile(r"^([egs])(11|22|33|23|13|12)$")
_UNIT_RE = re.compile(r"^(?P<base>.+?)_(?P<unit>[A-Za-z/%0-9]+)$")
#: A cell that is a plain decimal number (what ``float`` accepts minus nan/inf, underscores, spaces).
_NUMBER_RE = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


@dataclass
class UniaxialCurve:
    """A one-dimensional test curve.

    strain: (n,) float64 — engineering strain λ − 1 (tension-type cases) or engineering shear strain γ
        (``load_case == "simple_shear"``), sorted increasing.
    stress: (n,) float64 Pa — nominal stress P (force per undeformed area), or shear stress τ.
    provenance: ``{"file", "sha256", "columns", "unit", "unit_source", "rows", "load_case",
        "load_case_source", "duplicates_dropped", "kind": "curve"}``.
    load_case: one of :data:`LOAD_CASES` (a field after ``provenance`` so ``UniaxialCurve(e, s, prov)``
        still builds a uniaxial curve).
    """
    strain: np.ndarray
    stress: np.ndarray
    provenance: dict = field(default_factory=dict)
    load_case: str = "uniaxial"

    @property
    def stretch(self) -> np.ndarray:
        """(n,) λ = 1 + strain (tension-type load cases only)."""
        if self.load_case == "simple_shear":
            raise DataError("stretch: a simple-shear curve has shear strain γ, not a stretch")
        return 1.0 + self.strain

    def __len__(self) -> int:
        return int(self.strain.shape[0])


@dataclass
class TensorTable:
    """Multiaxial strain/stress states.

    strain: (n, m) float64 Mandel vectors (m = 1, 3, 6 for kinematics uniaxial/plane_strain/3d).
    stress: (n, m) float64 Mandel vectors, Pa.
    kinematics: ``"uniaxial" | "plane_strain" | "3d"``.
    provenance: ``{"file", "sha256", "columns", "unit", "unit_source", "rows", "kinematics",
        "engineering_shear", "duplicates_dropped", "kind": "table"}``.
    """
    strain: np.ndarray
    stress: np.ndarray
    kinematics: str
    provenance: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.strain.shape[0])


# -- reading ----------------------------------------------------------------------------------
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


# -- curves -----------------------------------------------------------------------------------
def _curve_columns(raw: _Raw):
    """-> (strain col index, strain kind, stress col index, stress suffix)."""
    known = list(_STRAIN_COLS) + list(_STRESS_COLS)
    strain_col = stress_col = None
    suffix = None
    for j, name in enumerate(raw.header):
        base, suf = _split_unit(name)
        if base in _STRAIN_COLS:
            if strain_col is not None:
                raise DataError(f"{_where(raw, raw.header_line, j)}: a second strain column; expected exactly one "
                                f"of {list(_STRAIN_COLS)} (first: {raw.header[strain_col]!r})")
            strain_col = j
        elif base in _STRESS_COLS:
            if stress_col is not None:
                raise DataError(f"{_where(raw, raw.header_line, j)}: a second stress column; expected exactly one "
                                f"of {list(_STRESS_COLS)} (first: {raw.header[stress_col]!r})")
            stress_col, suffix = j, suf
        else:
            m = _UNIT_RE.match(name)
            if m and m.group("base").lower() in _STRESS_COLS:   # stress column with an unreadable unit
                _unit_of(raw, j, m.group("unit"), None)
            raise _unknown(raw, j, known)
    if strain_col is None or stress_col is None:
        missing = "a strain column (stretch, strain, strain_percent or shear_strain)" if strain_col is None \
            else "a stress column (stress, nominal_stress or shear_stress, with an optional unit suffix)"
        raise DataError(f"{_where(raw, raw.header_line)}: missing {missing}; received columns {raw.header}")
    return strain_col, _STRAIN_COLS[_split_unit(raw.header[strain_col])[0]], stress_col, suffix


def _resolve_load_case(raw: _Raw, load_case, strain_kind: str, stress_base: str) -> tuple[str, str]:
    shear_cols = strain_kind == "shear_strain" or stress_base == "shear_stress"
    if shear_cols and not (strain_kind == "shear_strain" and stress_base == "shear_stress"):
        raise DataError(f"{_where(raw, raw.header_line)}: shear_strain goes with shear_stress; received "
                        f"columns {raw.header}")
    by_columns = "simple_shear" if shear_cols else None
    if load_case is not None:
        case, source = load_case, "option"
    elif "load_case" in raw.directives:
        case, source = raw.directives["load_case"], "comment"
    elif by_columns:
        case, source = by_columns, "columns"
    else:
        stem = raw.path.stem.lower().replace("-", "_")
        case = next((c for key, c in _NAME_HINTS if key in stem and c != "simple_shear"), None)
        case, source = (case, "file name") if case else ("uniaxial", "default")
    if case not in LOAD_CASES:
        raise DataError(f"{raw.path}: load case must be one of {LOAD_CASES}, received {case!r} (from {source})")
    if (case == "simple_shear") != shear_cols:
        expected = "shear_strain,shear_stress" if case == "simple_shear" else "stretch/strain and (nominal_)stress"
        raise DataError(f"{_where(raw, raw.header_line)}: load case {case!r} (from {source}) expects columns "
                        f"{expected}; received {raw.header}")
    return case, source


def load_uniaxial(path, *, stress_unit: str | None = None, load_case: str | None = None) -> UniaxialCurve:
    """Read a one-dimensional test curve (see the module docstring for columns, units, load cases).

    Returns a :class:`UniaxialCurve` with strain (n,) and stress (n,) in Pa, sorted by strain.
    Raises DataError (file, line, column) for any problem, FileNotFoundError for a missing file.
    """
    raw = _read(path)
    option = _check_unit_option(stress_unit, raw)
    if any(_TENSOR_RE.match(_split_unit(h)[0]) for h in raw.header):
        raise DataError(f"{_where(raw, raw.header_line)}: this is a tensor table (columns {raw.header}); "
                        f"use load_table or load_csv")
    sc, kind, tc, suffix = _curve_columns(raw)
    case, case_source = _resolve_load_case(raw, load_case, kind, _split_unit(raw.header[tc])[0])
    unit, unit_source = _unit_of(raw, tc, suffix, option)
    x = _numbers(raw, sc)
    with np.errstate(over="ignore"):
        y = _numbers(raw, tc) * UNITS[unit]
    if kind == "stretch":
        for k, v in enumerate(x):
            if v <= 0:
                raise DataError(f"{_where(raw, raw.rows[k][0], sc)}: expected a stretch > 0, received {raw.rows[k][1][sc]!r}")
        x = x - 1.0
    elif kind == "strain_percent":
        x = x / 100.0
    if kind in ("strain", "strain_percent"):
        for k, v in enumerate(x):
            if v <= -1.0:
                raise DataError(f"{_where(raw, raw.rows[k][0], sc)}: expected an engineering strain > -1 "
                                f"(stretch > 0), received {raw.rows[k][1][sc]!r}")
    _check_scaled(raw, y, tc, unit)
    _check_monotone(raw, x, sc)
    x, y, dropped = _dedupe_sort(raw, x, y, [raw.header[sc]], [raw.header[tc]])
    _check_count(raw, len(x))
    if dropped:
        log.info("%s: dropped %d exact duplicate rows", raw.path, dropped)
    prov = _provenance(raw, unit=unit, unit_source=unit_source, rows=int(len(x)), load_case=case,
                       load_case_source=case_source, duplicates_dropped=dropped, kind="curve")
    return UniaxialCurve(strain=x, stress=y, load_case=case, provenance=prov)


# -- tensor tables ----------------------------------------------------------------------------
def load_table(path, *, stress_unit: str | None = None) -> TensorTable:
    """Read a table of strain/stress tensor components (see the module docstring) into Mandel vectors.

    Returns a :class:`TensorTable` with strain (n, m) and stress (n, m) Pa, m = 1, 3 or 6.
    Raises DataError (file, line, column) for any problem, FileNotFoundError for a missing file.
    """
    raw = _read(path)
    option = _check_unit_option(stress_unit, raw)
    strain_cols: dict[str, tuple[int, bool]] = {}      # component -> (column, engineering shear)
    stress_cols: dict[str, tuple[int, str | None]] = {}
    known = [f"{p}{c}" for p in "egs" for c in _COMPONENTS if not (p == "g" and c[0] == c[1])]
    for j, name in enumerate(raw.header):
        base, suf = _split_unit(name)
        m = _TENSOR_RE.match(base)
        if not m or (m.group(1) == "g" and m.group(2)[0] == m.group(2)[1]) or (m.group(1) != "s" and suf):
            um = _UNIT_RE.match(name)
            if um and _TENSOR_RE.match(um.group("base").lower()) and um.group("base").lower()[0] == "s":
                _unit_of(raw, j, um.group("unit"), None)
            raise _unknown(raw, j, known)
        kind, comp = m.groups()
        target = stress_cols if kind == "s" else strain_cols
        if comp in target:
            prev = raw.header[target[comp][0]]
            raise DataError(f"{_where(raw, raw.header_line, j)}: component {comp} given twice (also {prev!r})")
        target[comp] = (j, suf) if kind == "s" else (j, kind == "g")
    comps = set(strain_cols) | set(stress_cols)
    kin = next((k for k, cs in _KIN_COMPONENTS.items() if comps <= set(cs) and
                (set(cs) <= comps or k == "3d")), "3d")
    need = _KIN_COMPONENTS[kin]
    missing = [f"e{c}" for c in need if c not in strain_cols] + [f"s{c}" for c in need if c not in stress_cols]
    if missing:
        raise DataError(f"{_where(raw, raw.header_line)}: {kin} table (components {sorted(comps)}) is missing "
                        f"columns {missing}; expected strain e.. (or engineering shear g..) and stress s.. for "
                        f"components {list(need)}; received {raw.header}")
    units = {c: _unit_of(raw, stress_cols[c][0], stress_cols[c][1], option) for c in need}
    sources = {s for _, s in units.values()}
    if "column" in sources and len(sources) > 1:
        bare = [raw.header[stress_cols[c][0]] for c in need if units[c][1] != "column"]
        raise DataError(f"{_where(raw, raw.header_line)}: some stress columns carry a unit suffix and "
                        f"{bare} do not; give every stress column a suffix")
    n = len(raw.rows)
    d = mandel.DIM[kin]
    eps = np.zeros((n, d, d))
    sig = np.zeros((n, d, d))
    idx = {"1": 0, "2": 1, "3": 2}
    for c in need:
        i, k = idx[c[0]], idx[c[1]]
        col, eng = strain_cols[c]
        e = _numbers(raw, col) * (0.5 if eng else 1.0)
        with np.errstate(over="ignore"):
            s = _numbers(raw, stress_cols[c][0]) * UNITS[units[c][0]]
        _check_scaled(raw, s, stress_cols[c][0], units[c][0])
        eps[:, i, k] = eps[:, k, i] = e
        sig[:, i, k] = sig[:, k, i] = s
    e_m = mandel.from_tensor(torch.from_numpy(eps), kin).numpy()
    s_m = mandel.from_tensor(torch.from_numpy(sig), kin).numpy()
    e_m, s_m, dropped = _dedupe_sort(raw, e_m, s_m, [raw.header[strain_cols[c][0]] for c in need],
                                     [raw.header[stress_cols[c][0]] for c in need])
    _check_count(raw, len(e_m))
    unit_set = sorted({u for u, _ in units.values()})
    prov = _provenance(raw, unit=unit_set[0] if len(unit_set) == 1 else unit_set,
                       unit_source=next(iter(sources)), rows=int(len(e_m)), kinematics=kin,
                       engineering_shear=sorted(c for c, (_, eng) in strain_cols.items() if eng),
                       duplicates_dropped=dropped, kind="table")
    return TensorTable(strain=e_m, stress=s_m, kinematics=kin, provenance=prov)


def load_csv(path, **kw) -> UniaxialCurve | TensorTable:
    """Read a curve or a tensor table, chosen by the header (tensor component columns -> table).

    Keyword arguments go to :func:`load_uniaxial` or :func:`load_table`.
    """
    raw = _read(path)
    if any(_TENSOR_RE.match(_split_unit(h)[0]) for h in raw.header):
        return load_table(path, **kw)
    return load_uniaxial(path, **kw)
