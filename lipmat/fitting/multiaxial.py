"""Multi-mode rubber data: uniaxial, equibiaxial, pure shear and general biaxial tests of an
incompressible solid, and the nominal stresses a hyperelastic law predicts for them.

Files. A uniaxial-format curve (``stretch,nominal_stress_MPa``, read by :func:`lipmat.fitting.data.load_uniaxial`)
is one of three modes, taken from ``mode=`` (``"uniaxial"``, ``"equibiaxial"``, ``"pure_shear"``; the
aliases ``UT``, ``ET``, ``PS``, ``pureshear``, ``biaxial`` → equibiaxial are accepted) or else from the
file name as :mod:`lipmat.fitting.data` does (``treloar_pureshear.csv`` → pure shear). A general biaxial table
has the header ``stretch1,stretch2,nominal_stress1_MPa,nominal_stress2_MPa`` (unit suffixes ``_Pa``,
``_kPa``, ``_MPa``, ``_GPa``, or the ``stress_unit=`` option for unsuffixed ``nominal_stress1/2``
columns, exactly as for curves). Every stress returned is in Pa.

Kinematics (incompressible, J = 1, the thickness direction 3 traction-free). The in-plane stretches
(λ₁, λ₂) of each mode, with λ₃ = 1/(λ₁λ₂):

============  ==========================  ===================================
mode          (λ₁, λ₂)                    measured nominal stress
============  ==========================  ===================================
uniaxial      (λ, λ^(−1/2))               P₁ (P₂ = P₃ = 0 by symmetry)
equibiaxial   (λ, λ)                      P₁ (= P₂)
pure_shear    (λ, 1)                      P₁ (P₂ ≠ 0 holds the width; unmeasured)
biaxial       (λ₁, λ₂) from the file      P₁ and P₂
============  ==========================  ===================================

For an isotropic incompressible law the pressure p is fixed by σ₃ = 0, so the principal Cauchy
stresses are differences ``σᵢ = σᵢ − σ₃`` and ``Pᵢ = σᵢ/λᵢ``. For ψ = W(I1, I2) (W1 = ∂W/∂I1,
W2 = ∂W/∂I2, invariants of the isochoric C at J = 1, I1 = Σλₖ², I2 = Σλₖ⁻²):

    σᵢ − σ₃ = 2 (λᵢ² − λ₃²) (W1 + λⱼ² W2)          (j the other in-plane index)

so UT: P = 2(λ − λ⁻²)(W1 + W2/λ), ET: P = 2(λ − λ⁻⁵)(W1 + λ²W2), PS: P = 2(λ − λ⁻³)(W1 + W2).
For a stretch-based law ψ = Σₖ w(λₖ): σᵢ − σ₃ = λᵢw'(λᵢ) − λ₃w'(λ₃) (:func:`stretch_deviator`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from lipmat.errors import DataError, LipmatError

#: Canonical modes and the aliases accepted for them (case-insensitive).
MODES = ("uniaxial", "equibiaxial", "pure_shear", "biaxial")
_ALIASES = {"uniaxial": "uniaxial", "ut": "uniaxial", "equibiaxial": "equibiaxial", "et": "equibiaxial",
            "eb": "equibiaxial", "pure_shear": "pure_shear", "pureshear": "pure_shear", "ps": "pure_shear",
            "planar": "pure_shear", "biaxial": "biaxial", "bt": "biaxial"}
_BIAXIAL_COLUMNS = ("stretch1", "stretch2", "nominal_stress1", "nominal_stress2")


def canonical_mode(mode: str) -> str:
    """'UT' / 'pureshear' / ... -> one of :data:`MODES`; DataError for anything else."""
    key = str(mode).strip().lower().replace("-", "_")
    if key not in _ALIASES:
        raise DataError(f"unknown test mode {mode!r}; expected one of {MODES} "
                        f"(aliases: {sorted(k for k in _ALIASES if k not in MODES)})")
    return _ALIASES[key]


@dataclass
class MultiaxialCurve:
    """One homogeneous test of an incompressible solid.

    mode: one of :data:`MODES`.
    stretch: (n, 2) float64, the in-plane principal stretches (λ₁, λ₂); λ₃ = 1/(λ₁λ₂).
    stress: (n, 2) float64 Pa, nominal stresses (P₁, P₂); NaN where not measured.
    measured: (2,) bool, which of P₁, P₂ the file gives.
    provenance: the reader's provenance dict (file, sha256, columns, unit, mode, mode_source, ...).
    """
    mode: str
    stretch: np.ndarray
    stress: np.ndarray
    measured: tuple[bool, bool]
    provenance: dict = field(default_factory=dict)

    @property
    def name(self) -> str:
        return str(self.provenance.get("file", self.mode))

    def __len__(self) -> int:
        return int(self.stretch.shape[0])

    def targets(self) -> np.ndarray:
        """(n·m,) the measured stresses (P₁ of every row, then P₂ of every row when measured), Pa."""
        return np.concatenate([self.stress[:, k] for k in range(2) if self.measured[k]])

    def along(self, lam) -> "MultiaxialCurve":
        """The same test at other stretches λ₁ (k,) of its own mode (stresses NaN): the path a plot draws.

        Each point follows the mode's kinematics (uniaxial λ₂ = λ₁^(−1/2), ...), never a straight line
        between rows. A general biaxial test has no such path (two independent stretches): LipmatError.
        """
        if self.mode == "biaxial":
            raise LipmatError(f"{self.name}: a general biaxial test has no one-parameter path; use its own rows")
        lam = np.asarray(lam, dtype=np.float64).reshape(-1)
        l1, l2 = mode_stretches(self.mode, lam)
        return MultiaxialCurve(self.mode, np.stack([l1, l2], axis=1), np.full((len(lam), 2), math.nan),
                               self.measured, dict(self.provenance))


def mode_stretches(mode: str, lam):
    """(λ₁, λ₂) of a one-parameter mode at stretch λ (tensor or array, any shape)."""
    mode = canonical_mode(mode)
    if mode == "uniaxial":
        return lam, lam ** -0.5
    if mode == "equibiaxial":
        return lam, lam
    if mode == "pure_shear":
        return lam, lam * 0 + 1.0
    raise LipmatError("mode_stretches: 'biaxial' has two independent stretches; give (λ₁, λ₂) directly")


def from_curve(curve, mode: str | None = None) -> MultiaxialCurve:
    """A :class:`lipmat.fitting.data.UniaxialCurve` (strain = λ − 1, nominal stress) as a one-parameter mode."""
    case = canonical_mode(mode) if mode is not None else canonical_mode(getattr(curve, "load_case", "uniaxial"))
    if case == "biaxial":
        raise DataError(f"{curve.provenance.get('file', 'curve')}: a one-column curve cannot be a general biaxial "
                        f"test; expected columns {', '.join(_BIAXIAL_COLUMNS)} for that")
    lam = 1.0 + np.asarray(curve.strain, dtype=np.float64)
    l1, l2 = mode_stretches(case, lam)
    stress = np.stack([np.asarray(curve.stress, dtype=np.float64), np.full_like(lam, math.nan)], axis=1)
    prov = dict(curve.provenance)
    prov["mode"] = case
    return MultiaxialCurve(case, np.stack([l1, l2], axis=1), stress, (True, False), prov)


def load_multiaxial(path, *, mode: str | None = None, stress_unit: str | None = None) -> MultiaxialCurve:
    """Read one test file (uniaxial-format curve or general biaxial table; module docstring).

    ``mode`` overrides the mode found from the file (for a curve: its name or ``# load_case:`` line).
    Raises DataError naming the file, line and column for any problem; FileNotFoundError when missing.
    """
    from lipmat.fitting import data, reader

    raw = reader._read(path)
    bases = [reader._split_unit(h)[0] if not _is_biaxial_stress(h) else _biaxial_base(h) for h in raw.header]
    if any(b in ("stretch1", "stretch2", "nominal_stress1", "nominal_stress2") for b in bases):
        if mode is not None and canonical_mode(mode) != "biaxial":
            raise DataError(f"{path}: a two-stretch table is a general biaxial test; mode {mode!r} was given "
                            f"(leave it out, or use 'biaxial')")
        return _load_biaxial(raw, stress_unit)
    case = None
    if mode is not None:
        case = canonical_mode(mode)
        if case == "biaxial":
            raise DataError(f"{path}: mode 'biaxial' needs columns {', '.join(_BIAXIAL_COLUMNS)}; "
                            f"received {raw.header}")
    curve = data.load_uniaxial(path, stress_unit=stress_unit, load_case=case)
    if curve.load_case == "simple_shear":
        raise DataError(f"{path}: simple-shear curves are not a multiaxial mode here; expected a uniaxial, "
                        f"equibiaxial, pure-shear or biaxial test")
    out = from_curve(curve)
    out.provenance["mode_source"] = "option" if mode is not None else curve.provenance.get("load_case_source")
    return out


def _is_biaxial_stress(name: str) -> bool:
    return name.lower().startswith(("nominal_stress1", "nominal_stress2"))


def _biaxial_base(name: str) -> str:
    low = name.lower()
    return low[:15] if low[:15] in ("nominal_stress1", "nominal_stress2") else low


def _load_biaxial(raw, stress_unit) -> MultiaxialCurve:
    from lipmat.fitting import reader

    option = reader._check_unit_option(stress_unit, raw)
    cols: dict[str, int] = {}
    suffix: dict[str, str | None] = {}
    for j, name in enumerate(raw.header):
        low = name.lower()
        if low in ("stretch1", "stretch2"):
            base, suf = low, None
        elif _is_biaxial_stress(low):
            base, rest = low[:15], name[15:]
            if rest and not rest.startswith("_"):
                raise DataError(f"{reader._where(raw, raw.header_line, j)}: unknown column {name!r}; expected "
                                f"{base} with an optional unit suffix _Pa/_kPa/_MPa/_GPa")
            suf = rest[1:] if rest else None
        else:
            raise DataError(f"{reader._where(raw, raw.header_line, j)}: unknown column {name!r} in a biaxial table; "
                            f"expected exactly {', '.join(_BIAXIAL_COLUMNS)} (stress columns may end in "
                            f"_Pa/_kPa/_MPa/_GPa)")
        if base in cols:
            raise DataError(f"{reader._where(raw, raw.header_line, j)}: column {base} given twice "
                            f"(also {raw.header[cols[base]]!r})")
        cols[base], suffix[base] = j, suf
    missing = [c for c in _BIAXIAL_COLUMNS if c not in cols]
    if missing:
        raise DataError(f"{reader._where(raw, raw.header_line)}: biaxial table is missing columns {missing}; "
                        f"expected {', '.join(_BIAXIAL_COLUMNS)} (stress with a unit suffix such as _MPa); "
                        f"received {raw.header}")
    units = {c: reader._unit_of(raw, cols[c], suffix[c], option) for c in ("nominal_stress1", "nominal_stress2")}
    sources = {s for _, s in units.values()}
    if len(sources) > 1:
        raise DataError(f"{reader._where(raw, raw.header_line)}: one stress column carries a unit suffix and the "
                        f"other does not ({raw.header}); give both the same form")
    lam = np.stack([reader._numbers(raw, cols["stretch1"]), reader._numbers(raw, cols["stretch2"])], axis=1)
    for k, c in enumerate(("stretch1", "stretch2")):
        bad = np.flatnonzero(lam[:, k] <= 0)
        if bad.size:
            line, cells = raw.rows[int(bad[0])]
            raise DataError(f"{reader._where(raw, line, cols[c])}: expected a stretch > 0, received {cells[cols[c]]!r}")
    with np.errstate(over="ignore"):
        p = np.stack([reader._numbers(raw, cols[c]) * reader.UNITS[units[c][0]]
                      for c in ("nominal_stress1", "nominal_stress2")], axis=1)
    for k, c in enumerate(("nominal_stress1", "nominal_stress2")):
        reader._check_scaled(raw, p[:, k], cols[c], units[c][0])
        reader._check_magnitude(raw, p[:, k], cols[c], "stress", "Pa")
    for k, c in enumerate(("stretch1", "stretch2")):
        reader._check_magnitude(raw, lam[:, k], cols[c], "stretch")
    lam, p, dropped = reader._dedupe_sort(raw, lam, p, ["stretch1", "stretch2"], ["nominal_stress1", "nominal_stress2"])
    reader._check_count(raw, len(lam))
    unit_set = sorted({u for u, _ in units.values()})
    prov = reader._provenance(raw, unit=unit_set[0] if len(unit_set) == 1 else unit_set,
                            unit_source=next(iter(sources)), rows=int(len(lam)), mode="biaxial",
                            mode_source="columns", duplicates_dropped=dropped, kind="biaxial")
    return MultiaxialCurve("biaxial", lam, p, (True, True), prov)


def load_tests(paths, modes: dict | None = None, *, stress_unit: str | None = None,
               strict: bool = True) -> list[MultiaxialCurve]:
    """Read several test files; ``modes`` maps a path (as given, or its file name) to a mode.
    ``strict``: a mode naming none of the files is a DataError (a typo in ``--mode``)."""
    modes = {str(k): v for k, v in (modes or {}).items()}
    out = []
    for p in paths:
        m = modes.get(str(p), modes.get(Path(p).name))
        out.append(load_multiaxial(p, mode=m, stress_unit=stress_unit))
    unused = set(modes) - {str(p) for p in paths} - {Path(p).name for p in paths}
    if unused and strict:
        raise DataError(f"--mode names files that are not among the data: {sorted(unused)}; "
                        f"data files: {[str(p) for p in paths]}")
    return out


# -- load cases of an incompressible law ----------------------------------------------------------
def invariant_deviator(w):
    """Cauchy differences of an invariant law: ``w(I1, I2) -> (W1, W2)`` ⟹ ``f(λ₁, λ₂, λ₃) -> (σ₁−σ₃, σ₂−σ₃)``."""
    def deviator(l1, l2, l3):
        i1 = l1 ** 2 + l2 ** 2 + l3 ** 2
        i2 = l1 ** -2 + l2 ** -2 + l3 ** -2          # = I2 of C at J = 1
        w1, w2 = w(i1, i2)
        return 2 * (l1 ** 2 - l3 ** 2) * (w1 + l2 ** 2 * w2), 2 * (l2 ** 2 - l3 ** 2) * (w1 + l1 ** 2 * w2)
    return deviator


def stretch_deviator(dw):
    """Cauchy differences of a stretch-based law ψ = Σ w(λₖ): ``dw(λ) = λ w'(λ)`` ⟹ deviator as above."""
    def deviator(l1, l2, l3):
        t3 = dw(l3)
        return dw(l1) - t3, dw(l2) - t3
    return deviator


def biaxial_nominal(deviator, lam1: torch.Tensor, lam2: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(P₁, P₂) in Pa of an incompressible law at in-plane stretches (λ₁, λ₂), σ₃ = 0: (n,), (n,) -> (n,), (n,)."""
    lam3 = 1.0 / (lam1 * lam2)
    d1, d2 = deviator(lam1, lam2, lam3)
    return d1 / lam1, d2 / lam2


def predict(deviator, curve: MultiaxialCurve) -> torch.Tensor:
    """The measured components of ``curve`` as the law predicts them, shaped like ``curve.targets()``."""
    lam = torch.as_tensor(curve.stretch, dtype=torch.float64)
    p1, p2 = biaxial_nominal(deviator, lam[:, 0], lam[:, 1])
    return torch.cat([p for p, m in zip((p1, p2), curve.measured) if m])


def partner_stretches(curve: MultiaxialCurve) -> np.ndarray:
    """(n, 3) all three principal stretches (λ₁, λ₂, 1/(λ₁λ₂)) of every row."""
    lam = np.asarray(curve.stretch, dtype=np.float64)
    return np.concatenate([lam, 1.0 / (lam[:, :1] * lam[:, 1:])], axis=1)
