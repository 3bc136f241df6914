"""Fit a certified material law to measurements: Adam, then L-BFGS, then certify.

    result = fit("uniaxial", "data/treloar_uniaxial.csv")           # -> FitResult(model, report)
    result.report.mape, result.report.stiffness_bound, result.report.ratio

Data: paths (read with :func:`lipmat.fitting.data.load_csv`) or loaded objects — a curve
(:class:`lipmat.fitting.data.UniaxialCurve`: ``strain`` (n,), ``stress`` (n,) Pa, ``load_case``) or a tensor
table (:class:`lipmat.fitting.data.TensorTable`: ``strain``, ``stress`` (n, m) Mandel, ``kinematics``). A 1D
model is fitted to a curve directly (whatever its load case: it is a law of that curve); the isotropic
model sees each curve as its load case at a material point (uniaxial stress with the lateral stresses
solved to zero, equibiaxial, pure shear, simple shear: :mod:`lipmat.fitting.loadcases`); tables are fitted
component-wise.

Stiffness cap. By default the law's slope cap is 1.1 × ``data_stiffness`` — the largest secant slope
between consecutive points of a curve, the origin counted as a point since every model has σ(0) = 0
(for a sorted curve that is the largest over all pairs: the least Lipschitz constant any law through
the data and the origin needs), the largest ‖Δσ‖/‖Δε‖ over row pairs of a table, 2× that of a shear
curve (2G). ``max_stiffness`` overrides it. The certified bound never exceeds the
cap (1D, MLP); for the isotropic law the cap bounds K and 2G (so λ_max(C_b) ≤ 3·cap in 3D), which
admits Poisson's ratios up to 1/3 when the cap is Young's modulus.
"""
from __future__ import annotations

import copy
import logging
import math
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from lipmat.errors import LipmatError
from lipmat.fitting.loadcases import load_case_stress

log = logging.getLogger(__name__)

#: Factor on the data's stiffness that gives the default slope cap.
DEFAULT_CAP_FACTOR = 1.1
#: (Adam epochs, L-BFGS iterations, Adam learning rate) per model name.
DEFAULTS = {"uniaxial": (4000, 300, 0.02), "uniaxial_sn": (3000, 0, 0.005),
            "isotropic": (1500, 200, 0.05), "mlp": (3000, 0, 0.005)}


@dataclass
class FitReport:
    """What a fit measured. Metrics are on the training points (all points without a validation split).

    files: one dict per data file: file, kind, points, r2, rmse (Pa), mape (%).
    r2, rmse, mape: over all files together (for a single file, that file's).
    validation: the same three over the held-out points, or None.
    stiffness_bound: certified (Pa; λ_max(C_b) for a matrix certificate); empirical_stiffness: the
    largest tangent found; ratio: their quotient; at: the strain where it was found.
    data_stiffness: the data's stiffness (see module doc); max_stiffness: the cap used.
    warnings: messages of :mod:`lipmat.fitting.diagnostics` (a 1D law held below a stiffening curve's
    end by its cap or bound, with a ``max_stiffness`` to try); also logged at WARNING level.
    """
    model: str
    files: list
    r2: float
    rmse: float
    mape: float
    stiffness_bound: float
    empirical_stiffness: float
    ratio: float
    at: list
    data_stiffness: float
    max_stiffness: float
    seconds: float
    epochs: int
    lbfgs_steps: int
    seed: int
    loss: str
    final_loss: float
    validation: dict | None = None
    stiffness_bound_matrix: list | None = None
    provenance: list = field(default_factory=list)
    warnings: list = field(default_factory=list)     # lipmat.fitting.diagnostics (e.g. a capped stiffening end)

    def to_dict(self) -> dict:
        """Plain JSON-ready dict."""
        return asdict(self)


@dataclass
class FitResult:
    """The fitted model (eval mode, certified) and its :class:`FitReport`."""
    model: nn.Module
    report: FitReport


# -- data ----------------------------------------------------------------------------------------
@dataclass
class _Set:
    kind: str                 # "curve" | "table"
    x: torch.Tensor           # (k,) strain / shear strain, or (k, m) Mandel strain
    y: torch.Tensor           # (k,) or (k, m) Pa
    name: str
    provenance: dict
    kinematics: str | None = None
    load_case: str = "uniaxial"


def _as_sets(data) -> list[_Set]:
    items = list(data) if isinstance(data, (list, tuple)) else [data]
    if not items:
        raise LipmatError("fit(data): expected at least one data file or data object, received none")
    out = []
    for i, item in enumerate(items):
        if isinstance(item, (str, Path)):
            from lipmat.fitting.data import load_csv
            item = load_csv(item)
        prov = dict(getattr(item, "provenance", None) or {})
        name = str(prov.get("file", f"data[{i}]"))
        strain, stress = getattr(item, "strain", None), getattr(item, "stress", None)
        if strain is None or stress is None:
            raise LipmatError(f"fit(data[{i}]): expected a path, a UniaxialCurve or a TensorTable, "
                              f"received {type(item).__name__}")
        x, y = _t(strain), _t(stress)
        if x.shape != y.shape or x.dim() not in (1, 2) or x.shape[0] < 3:
            raise LipmatError(f"fit({name}): expected strain and stress of equal shape (k,) or (k, m) with "
                              f"k >= 3, received {tuple(x.shape)} and {tuple(y.shape)}")
        kind = "curve" if x.dim() == 1 else "table"
        out.append(_Set(kind, x, y, name, prov, getattr(item, "kinematics", None),
                        getattr(item, "load_case", "uniaxial")))
    return out


def _t(a) -> torch.Tensor:
    return torch.as_tensor(np.asarray(a, dtype=np.float64))


def _curve_stiffness(x: torch.Tensor, y: torch.Tensor) -> float:
    # Every model passes through the origin (σ(0) = 0 by construction), so the origin counts as a point.
    x, y = torch.cat([x, x.new_zeros(1)]), torch.cat([y, y.new_zeros(1)])
    order = torch.argsort(x)
    dx, dy = x[order].diff(), y[order].diff()
    keep = dx > 0
    return float((dy[keep].abs() / dx[keep]).max()) if bool(keep.any()) else 0.0


def _table_stiffness(x: torch.Tensor, y: torch.Tensor, limit: int = 2000) -> float:
    if x.shape[0] > limit:
        pick = torch.linspace(0, x.shape[0] - 1, limit).long()
        x, y = x[pick], y[pick]
    x, y = torch.cat([x, x.new_zeros(1, x.shape[1])]), torch.cat([y, y.new_zeros(1, y.shape[1])])
    dx, dy = torch.cdist(x, x), torch.cdist(y, y)
    keep = dx > 0
    return float((dy[keep] / dx[keep]).max()) if bool(keep.any()) else 0.0


def data_stiffness(sets: list[_Set]) -> float:
    """The least slope the data demand (Pa): see the module docstring."""
    values = []
    for s in sets:
        if s.kind == "curve":
            values.append((2.0 if s.load_case == "simple_shear" else 1.0) * _curve_stiffness(s.x, s.y))
        else:
            values.append(_table_stiffness(s.x, s.y))
    value = max(values)
    if not value > 0:
        raise LipmatError("fit: the data show no stress change between distinct strains; expected a curve "
                          "or table whose stress varies")
    return value


# -- model construction and prediction -------------------------------------------------------------
def _kinematics(sets: list[_Set], name: str) -> str:
    kins = {s.kinematics or {3: "plane_strain", 6: "3d", 1: "uniaxial"}.get(s.x.shape[1]) for s in sets
            if s.kind == "table"}
    if len(kins) > 1:
        raise LipmatError(f"fit: tables of different kinematics {sorted(map(str, kins))}; expected one")
    if kins:
        return kins.pop()
    if name == "mlp" and all(s.kind == "curve" for s in sets):
        return "uniaxial"
    return "3d"


def build_model(name: str, sets: list[_Set], cap: float, options: dict | None = None) -> nn.Module:
    """A freshly initialised model ``name`` sized to the data, slope cap ``cap`` (Pa)."""
    from lipmat.models import MODELS
    options = dict(options or {})
    if name not in MODELS or name not in DEFAULTS:
        raise LipmatError(f"fit(model): expected one of {sorted(DEFAULTS)}, received {name!r}")
    strains = torch.cat([s.x.reshape(-1) for s in sets])
    lo, hi = min(0.0, float(strains.min())), max(0.0, float(strains.max()))
    span = (lo, hi) if hi > lo else (0.0, 1.0)
    scale = max(abs(lo), abs(hi)) or 1.0
    cls = MODELS[name]
    if name == "uniaxial":
        return cls(cap, options.pop("n_rising", 8), options.pop("n_falling", 4), strain_span=span, **options)
    if name == "uniaxial_sn":
        return cls(cap, options.pop("width", 32), options.pop("depth", 3), strain_scale=scale, **options)
    kin = options.pop("kinematics", None) or _kinematics(sets, name)
    if name == "isotropic":
        if kin == "uniaxial":
            raise LipmatError("fit(isotropic): expected plane_strain or 3d data, received 1-component tables")
        # K ≤ cap and 2G ≤ cap: at E = cap this admits Poisson's ratios up to 1/3 (3K = E/(1 − 2ν)).
        return cls(kin, cap, cap / 2.0, options.pop("n_rising", 4), options.pop("n_falling", 2),
                   strain_span=scale, **options)
    return cls(kin, cap, options.pop("width", 64), options.pop("depth", 3), strain_scale=scale, **options)


def predict(model: nn.Module, s: _Set) -> torch.Tensor:
    """Model prediction for one data set, shaped like its measured stress."""
    if model.kinematics == "uniaxial":
        if s.kind == "curve":
            return model(s.x.unsqueeze(-1))[..., 0]
        if s.kind == "table" and s.x.shape[1] == 1:
            return model(s.x)
        raise LipmatError(f"fit({s.name}): a uniaxial model fits uniaxial curves only, received a {s.kind}")
    if s.kind == "curve":
        return load_case_stress(model, s.load_case, s.x)
    if s.x.shape[1] != model.n:
        raise LipmatError(f"fit({s.name}): expected a table with {model.n} strain components for "
                          f"{model.kinematics!r}, received {s.x.shape[1]}")
    return model(s.x)


# -- metrics and loss -------------------------------------------------------------------------------
def _metrics(y: np.ndarray, p: np.ndarray) -> dict:
    """r2, rmse (Pa), mape (%) — tables: r2/rmse over all components, mape of row norms."""
    from lipmat.fitting import metrics
    if y.ndim == 2:
        norms = np.linalg.norm(y, axis=1)
        keep = norms > 0
        mape = float(np.mean(np.linalg.norm(p - y, axis=1)[keep] / norms[keep]) * 100) if keep.any() else math.nan
        return {"r2": float(metrics.r2(y.ravel(), p.ravel())), "rmse": float(metrics.rmse(y.ravel(), p.ravel())),
                "mape": mape}
    keep = y != 0            # MAPE is undefined at zero stress (a point at the origin)
    return {"r2": float(metrics.r2(y, p)), "rmse": float(metrics.rmse(y, p)),
            "mape": float(metrics.mape(y[keep], p[keep]))}


def _residuals(model, sets, masks, relative: bool) -> torch.Tensor:
    parts = []
    for s, m in zip(sets, masks):
        if not bool(m.any()):
            continue
        sub = _Set(s.kind, s.x[m], s.y[m], s.name, s.provenance, s.kinematics, s.load_case)
        p, y = predict(model, sub), sub.y
        scale = s.y.abs().max().clamp_min(1e-300)
        if relative:
            denom = (y.norm(dim=-1, keepdim=True) if y.dim() == 2 else y.abs()) + 1e-3 * scale
        else:
            denom = scale
        parts.append(((p - y) / denom).reshape(-1))
    return torch.cat(parts)


# -- the fit -----------------------------------------------------------------------------------------
def fit(model, data, *, epochs: int | None = None, seed: int = 0, max_stiffness: float | None = None,
        lbfgs_steps: int | None = None, lr: float | None = None, loss: str = "relative",
        validation: float = 0.0, progress: bool | None = None, model_options: dict | None = None) -> FitResult:
    """Fit ``model`` (a name in :data:`lipmat.models.MODELS` or a built module) to ``data``.

    Args:
        model: "uniaxial" (default 1D law), "uniaxial_sn", "isotropic", "mlp", or an nn.Module.
        data: a path, a loaded data object, or a list of them (see the module docstring).
        epochs: Adam steps (full batch); None: the model's default (:data:`DEFAULTS`).
        seed: seeds the initialisation and the validation split (same seed, same result); torch's global
            random state is left as it was.
        max_stiffness: slope cap L in Pa; None: 1.1 × the data's stiffness. Ignored for a built module.
        lbfgs_steps: L-BFGS iterations after Adam (0 to skip); None: the model's default.
        lr: Adam learning rate; None: the model's default.
        loss: "relative" (residual / (|σ| + 1e-3·max|σ|)) or "absolute" (residual / max|σ|).
        validation: fraction in [0, 0.5] of each file's points held out and reported separately.
        progress: tqdm bar; None: only when stderr is a terminal.
        model_options: extra constructor arguments (e.g. n_rising, width).

    Returns:
        FitResult(model, report): the model in eval mode; the report as :class:`FitReport`.
    """
    # the initialisation draws from torch's global generator (nn.Linear, spectral-norm vectors): seed it
    # inside a fork, so that the caller's random stream is the same after fit() as before
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return _fit(model, data, epochs=epochs, seed=seed, max_stiffness=max_stiffness, lbfgs_steps=lbfgs_steps,
                    lr=lr, loss=loss, validation=validation, progress=progress, model_options=model_options)


def _fit(model, data, *, epochs, seed, max_stiffness, lbfgs_steps, lr, loss, validation, progress,
         model_options) -> FitResult:
    start = time.perf_counter()
    if loss not in ("relative", "absolute"):
        raise LipmatError(f"fit(loss): expected 'relative' or 'absolute', received {loss!r}")
    if not 0.0 <= validation <= 0.5:
        raise LipmatError(f"fit(validation): expected a fraction in [0, 0.5], received {validation!r}")
    if max_stiffness is not None and not (isinstance(max_stiffness, (int, float)) and math.isfinite(max_stiffness)
                                          and max_stiffness > 0):
        raise LipmatError(f"fit(max_stiffness): expected a finite number > 0 (Pa), received {max_stiffness!r}")
    sets = _as_sets(data)
    stiff = data_stiffness(sets)
    cap = float(max_stiffness) if max_stiffness is not None else DEFAULT_CAP_FACTOR * stiff
    if isinstance(model, str):
        name = model
        model = build_model(name, sets, cap, model_options)
    elif isinstance(model, nn.Module):
        name = getattr(model, "name", type(model).__name__)
        cap = float(getattr(model, "max_stiffness", cap))
    else:
        raise LipmatError(f"fit(model): expected a model name or an nn.Module, received {type(model).__name__}")
    d_epochs, d_lbfgs, d_lr = DEFAULTS.get(name, (2000, 200, 0.01))
    epochs = d_epochs if epochs is None else int(epochs)
    lbfgs_steps = d_lbfgs if lbfgs_steps is None else int(lbfgs_steps)
    lr = d_lr if lr is None else float(lr)
    if epochs < 0 or lbfgs_steps < 0:
        raise LipmatError(f"fit: expected epochs, lbfgs_steps >= 0, received {epochs}, {lbfgs_steps}")

    gen = torch.Generator().manual_seed(seed)
    val_masks = []
    for s in sets:
        k = s.x.shape[0]
        mask = torch.zeros(k, dtype=torch.bool)
        n_val = int(round(validation * k))
        if n_val:
            mask[torch.randperm(k, generator=gen)[:n_val]] = True
        val_masks.append(mask)
    train_masks = [~m for m in val_masks]
    relative = loss == "relative"

    def objective():
        return _residuals(model, sets, train_masks, relative).pow(2).mean()

    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    show = sys.stderr.isatty() if progress is None else bool(progress)
    final = _adam(objective, params, epochs, lr, show, name)
    if lbfgs_steps:
        final = _lbfgs(model, objective, params, lbfgs_steps, final)
    finalize = getattr(model, "finalize", None)
    if callable(finalize):
        finalize()
    model.eval()
    with torch.no_grad():
        final = float(objective())
    report = _report(model, name, sets, train_masks, val_masks, stiff, cap, start, epochs, lbfgs_steps,
                     seed, loss, final)
    log.info("fit %s: R² %.6f, MAPE %.3f %%, certified %.6g Pa (%.4f × empirical) in %.1f s",
             name, report.r2, report.mape, report.stiffness_bound, report.ratio, report.seconds)
    for text in report.warnings:
        log.warning("%s", text)
    return FitResult(model=model, report=report)


def _adam(objective, params, epochs, lr, show, name) -> float:
    opt = torch.optim.Adam(params, lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(epochs, 1), eta_min=lr * 0.05)
    bar = None
    if show and epochs:
        from tqdm import tqdm
        bar = tqdm(total=epochs, desc=f"fit {name}", unit="epoch", leave=False)
    value = math.nan
    for i in range(epochs):
        opt.zero_grad()
        out = objective()
        if not torch.isfinite(out):
            raise LipmatError(f"fit: the loss became {float(out)} at Adam epoch {i}; try a smaller lr")
        out.backward()
        opt.step()
        sched.step()
        value = float(out.detach())
        if bar is not None:
            bar.update(1)
            if i % 50 == 0:
                bar.set_postfix(loss=f"{value:.3e}")
    if bar is not None:
        bar.close()
    return value


def _lbfgs(model, objective, params, steps, before) -> float:
    saved = copy.deepcopy(model.state_dict())
    opt = torch.optim.LBFGS(params, lr=1.0, max_iter=steps, line_search_fn="strong_wolfe",
                            tolerance_grad=1e-14, tolerance_change=1e-16, history_size=50)

    def closure():
        opt.zero_grad()
        out = objective()
        out.backward()
        return out

    opt.step(closure)
    with torch.no_grad():
        after = float(objective())
    if not (math.isfinite(after) and (after <= before or not math.isfinite(before))):
        log.info("L-BFGS did not improve the loss (%.3e -> %.3e); keeping the Adam result", before, after)
        model.load_state_dict(saved)
        return before
    return after


def _report(model, name, sets, train_masks, val_masks, stiff, cap, start, epochs, lbfgs_steps, seed, loss,
            final) -> FitReport:
    from lipmat.certify import certify
    files, ys, ps, vys, vps = [], [], [], [], []
    with torch.no_grad():
        preds = [predict(model, s).detach() for s in sets]
    for s, p, tm, vm in zip(sets, preds, train_masks, val_masks):
        y_np, p_np = s.y.numpy(), p.numpy()
        files.append({"file": s.name, "kind": s.kind, "points": int(tm.sum()),
                      **_metrics(y_np[tm.numpy()], p_np[tm.numpy()])})
        ys.append(y_np[tm.numpy()].reshape(len(y_np[tm.numpy()]), -1))
        ps.append(p_np[tm.numpy()].reshape(len(y_np[tm.numpy()]), -1))
        if bool(vm.any()):
            vys.append(y_np[vm.numpy()].reshape(int(vm.sum()), -1))
            vps.append(p_np[vm.numpy()].reshape(int(vm.sum()), -1))
    overall = files[0] if len(files) == 1 else _pooled(ys, ps)
    validation = _pooled(vys, vps) if vys else None
    strains = torch.cat([s.x.reshape(-1) for s in sets if s.kind == "curve"]) if model.kinematics == "uniaxial" \
        else (torch.cat([s.x for s in sets if s.kind == "table"]) if any(s.kind == "table" for s in sets) else None)
    cert = certify(model, strains)
    warnings = []
    if model.kinematics == "uniaxial":
        from lipmat.fitting.diagnostics import stiffening_warnings
        curves = [(s.name, s.x.numpy(), s.y.numpy()) for s in sets if s.kind == "curve"]
        warnings = stiffening_warnings(curves, [p.numpy() for s, p in zip(sets, preds) if s.kind == "curve"],
                                       cert.stiffness_bound, cap)
    return FitReport(model=name, files=files, r2=overall["r2"], rmse=overall["rmse"], mape=overall["mape"],
                     stiffness_bound=cert.stiffness_bound, empirical_stiffness=cert.empirical_stiffness,
                     ratio=cert.ratio, at=cert.at, data_stiffness=stiff, max_stiffness=cap,
                     seconds=time.perf_counter() - start, epochs=epochs, lbfgs_steps=lbfgs_steps, seed=seed,
                     loss=loss, final_loss=final, validation=validation, stiffness_bound_matrix=cert.matrix,
                     provenance=[s.provenance for s in sets], warnings=warnings)


def _pooled(ys, ps) -> dict:
    """Metrics over several files: each file's values as columns of one long vector (mape per point)."""
    width = max(y.shape[1] for y in ys)
    if width == 1:
        return _metrics(np.concatenate([y[:, 0] for y in ys]), np.concatenate([p[:, 0] for p in ps]))
    y = np.concatenate([y.ravel() for y in ys])
    p = np.concatenate([p.ravel() for p in ps])
    return _metrics(y, p)
