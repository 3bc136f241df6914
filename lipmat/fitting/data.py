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
``1_0`` (which Python's ``float`` reads as 10), hexadecimal and empty cells are refused, and so is a
stress (in Pa) or strain beyond ±1e100 (:data:`lipmat.fitting.reader.MAX_MAGNITUDE`: the fit squares and
sums them, and 1e300 Pa would end in an R² of nan). A curve is
one loading branch: its strain column must be monotone in file order (increasing or decreasing; a
loading-unloading cycle must be split into two files). Rows are then sorted by strain; exact duplicate
rows are dropped (counted in provenance), the same strain with two stresses is refused. Every problem
raises :class:`~lipmat.errors.DataError` naming the file, the line and the column.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

import numpy as np
import torch

from fem.core import mandel
from lipmat.errors import DataError
from lipmat.fitting.reader import (
    _COMPONENTS, _STRESS_COLS, _UNIT_RE, UNITS, _check_count, _check_magnitude, _check_monotone,
    _check_scaled, _check_unit_option, _dedupe_sort, _numbers, _provenance, _Raw, _read, _split_unit, _unit_of,
    _unknown, _where,
)

log = logging.getLogger(__name__)

#: Load cases a curve can declare.
LOAD_CASES = ("uniaxial", "equibiaxial", "pure_shear", "simple_shear")

_STRAIN_COLS = {"stretch": "stretch", "strain": "strain", "strain_percent": "strain_percent",
                "strain_%": "strain_percent", "shear_strain": "shear_strain"}
_TENSION_CASES = ("uniaxial", "equibiaxial", "pure_shear")
_NAME_HINTS = (("equibiaxial", "equibiaxial"), ("biaxial", "equibiaxial"), ("pureshear", "pure_shear"),
               ("pure_shear", "pure_shear"), ("simpleshear", "simple_shear"), ("simple_shear", "simple_shear"),
               ("uniaxial", "uniaxial"))
_KIN_COMPONENTS = {"uniaxial": ("11",), "plane_strain": ("11", "22", "12"), "3d": _COMPONENTS}
_TENSOR_RE = re.compile(r"^([egs])(11|22|33|23|13|12)$")


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
    _check_magnitude(raw, y, tc, "stress", "Pa")
    _check_magnitude(raw, x, sc, "strain")
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
        _check_magnitude(raw, s, stress_cols[c][0], "stress", "Pa")
        _check_magnitude(raw, e, col, "strain")
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
