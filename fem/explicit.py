"""Explicit dynamics: the problem, the one entry point :func:`solve`, the generator :func:`iterate`.

``solve(problem, t_end, dt)`` runs the central-difference scheme of :mod:`fem.central_difference`
from ``t = 0`` to ``t_end`` and returns a :class:`Result` (times, energies, probes, final state,
status, message). It never loses work: on a fault (NaN/inf, energy balance error above
``energy_tol``, an element turned inside out) or Ctrl-C it stops, keeps the last good state and
everything written so far, and says what happened where (step, time, element id and centroid).

Per step the material is called once, batched over every quadrature point, under ``torch.no_grad``;
a material with ``linear_stiffness()`` takes the sparse ``K @ u`` path instead (:mod:`fem.forces`).

Time step: a float, or ``"certified"``. When the material has ``stiffness_bound()`` the certified
step of :func:`fem.timestep.certified_time_step` (element method; a proven bound) is computed once; a
float above it is refused unless ``allow_unsafe_dt=True`` (then a :class:`~fem.errors.FemWarning`).
The step is shortened to ``t_end / ceil(t_end/dt)`` so the run ends exactly at ``t_end``.
"""
from __future__ import annotations

import contextlib
import logging
import math
import numbers
import sys
import time
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import numpy as np
import torch

from fem import mandel
from fem.assembly import Assembly
from fem.bc import compile_conditions
from fem.central_difference import CentralDifference, State
from fem.checkpoint import load_checkpoint, save_checkpoint
from fem.energy import ENERGY_KEYS, EnergyAccount
from fem.errors import FemError, FemWarning, SimulationError
from fem.faults import describe_cell, inverted_cells, worst_cell
from fem.forces import InternalForce
from fem.material import check_material

__all__ = ["Problem", "Result", "State", "solve", "iterate", "tensor_components"]

log = logging.getLogger(__name__)

#: statuses of a :class:`Result`
STATUSES = ("completed", "unstable", "inverted", "interrupted")


@dataclass
class Problem:
    """What to simulate.

    mesh : :class:`~fem.mesh.Mesh`; material : a :class:`~fem.material.Material` of the mesh's
    kinematics; density : kg/m³, scalar or (n_cells,); bcs : Fixed / Prescribed; loads : NodalForce /
    Traction / BodyForce (:mod:`fem.bc`); u0, v0 : initial displacement/velocity, (n_points, dim) or
    (n_dofs,) arrays, or callables ``points (n_points, dim) -> (n_points, dim)``, None = 0;
    thickness (2D) / area (1D) : m; damping : mass-proportional ``α`` (1/s), damping matrix ``αM``.
    """

    mesh: Any
    material: Any
    density: Any
    bcs: tuple = ()
    loads: tuple = ()
    u0: Any = None
    v0: Any = None
    thickness: float = 1.0
    area: float = 1.0
    damping: float = 0.0


@dataclass
class Result:
    """What a run produced.

    status : ``"completed" | "unstable" | "inverted" | "interrupted"``; message : one readable line.
    steps, t : last good step and its time; dt : the step used; wall_time : s.
    times : (n_saves,) times of the saved frames; fields : name -> (n_saves, ...) arrays of the saved
    fields when kept (``displacement``/``velocity`` (n_points, dim), ``strain``/``stress`` (n_cells, k)).
    energies : name -> (n_rows,) arrays, names ``time, step, kinetic, internal, external, damping,
    balance_error`` (:mod:`fem.energy`). probes : ``{"time": (m,), name: (m, dim)}`` mean displacement of
    each probe's nodes. final : the last good :class:`State`. dt_certified : certified step or None.
    monitor : list of dicts (step, t, dt, dt_critical, omega_max, ratio). fault : None, or a dict
    (kind, step, t, element, centroid, detail) describing what stopped the run.
    """

    status: str
    message: str
    steps: int
    t: float
    dt: float
    times: np.ndarray
    energies: dict
    final: State
    probes: dict = field(default_factory=dict)
    wall_time: float = 0.0
    dt_certified: float | None = None
    monitor: list = field(default_factory=list)
    fields: dict = field(default_factory=dict)
    fault: dict | None = None

    @property
    def completed(self) -> bool:
        return self.status == "completed"

    def __repr__(self) -> str:
        return (f"Result(status={self.status!r}, steps={self.steps}, t={self.t:.6g}, dt={self.dt:.6g}, "
                f"saves={len(self.times)}, energy rows={len(self.energies.get('time', ()))}, "
                f"wall_time={self.wall_time:.3g} s)")


# ---------------------------------------------------------------------------------------------
# helpers
def tensor_components(v: torch.Tensor, kinematics: str) -> np.ndarray:
    """Mandel vectors (..., n) -> tensor components (..., k) as ParaView orders them.

    1D ``[xx]``; plane strain ``[xx, yy, xy]`` (σzz is not part of the Mandel plane-strain stress);
    3D ``[xx, yy, zz, xy, yz, xz]`` (ParaView's symmetric-tensor order). Shear components are tensor
    components (ε_xy = γ_xy / 2), not Mandel (×√2) or engineering ones.
    """
    t = mandel.to_tensor(v, kinematics)
    pairs = {"uniaxial": [(0, 0)], "plane_strain": [(0, 0), (1, 1), (0, 1)],
             "3d": [(0, 0), (1, 1), (2, 2), (0, 1), (1, 2), (0, 2)]}[kinematics]
    return torch.stack([t[..., i, j] for i, j in pairs], dim=-1).cpu().numpy()


def _initial_field(value, mesh, name: str, like: torch.Tensor) -> torch.Tensor:
    """(n_dofs,) initial field from None, an array (n_points, dim) / (n_dofs,), or a callable."""
    n_dofs = mesh.n_points * mesh.dim
    if value is None:
        return torch.zeros_like(like)
    if callable(value):
        value = value(mesh.points.copy())
    a = np.asarray(value.detach().cpu() if isinstance(value, torch.Tensor) else value, dtype=np.float64)
    if a.size != n_dofs or a.shape not in ((n_dofs,), (mesh.n_points, mesh.dim)):
        raise FemError(f"{name} must be ({mesh.n_points}, {mesh.dim}) or ({n_dofs},), got {a.shape}")
    if not np.all(np.isfinite(a)):
        raise FemError(f"{name} contains NaN or inf")
    return torch.as_tensor(a.reshape(-1), dtype=like.dtype, device=like.device)


def _probe_nodes(mesh, where) -> np.ndarray:
    if isinstance(where, str):
        ids = mesh.nodes(where)
    else:
        ids = np.atleast_1d(np.asarray(where, dtype=np.int64))
    if len(ids) == 0 or ids.min() < 0 or ids.max() >= mesh.n_points:
        raise FemError(f"probe {where!r} must select nodes in [0, {mesh.n_points - 1}], got {ids[:5]}")
    return ids


#: steps at the start of a run in which the energy balance is not held to energy_tol (see solve)
BALANCE_GRACE_STEPS = 10
UNSAFE_MONITORS = 20     # measurements of the critical step in a run at an allowed unsafe dt


def _certified_step(assembly, material, density):
    """(TimeStep, None) from the material's certificate (element method), or (None, reason) without one.

    A material declares that it has no global stiffness bound by lacking ``stiffness_bound``, by
    returning None from it, or by raising ValueError from it (the stiffening rubber laws do: their
    tangent is unbounded as the stretch goes to 0). Such a material runs only with a numeric dt.
    """
    from fem.timestep import certified_time_step

    name = type(material).__name__
    if not callable(getattr(material, "stiffness_bound", None)):
        return None, f"{name} has no stiffness_bound()"
    try:
        bound = material.stiffness_bound()
    except ValueError as exc:
        return None, f"{name} has no global stiffness bound ({exc})"
    if bound is None:
        return None, f"{name} has no global stiffness bound"
    # damping=0: the centred damping of fem.central_difference does not lower the limit 2/ω_max
    return certified_time_step(assembly, bound, density, method="element"), None


class _Setup:
    """Everything built once per run: assembly, mass, conditions, forces, the stepper and dt."""

    def __init__(self, problem: Problem, dt, *, dtype, device, allow_unsafe_dt: bool, use_linear: bool = True):
        p = problem
        self.problem = p
        self.assembly = a = Assembly(p.mesh, dtype=dtype, device=device, thickness=p.thickness, area=p.area)
        check_material(p.material, a.kinematics)
        if not float(p.damping) >= 0.0:
            raise FemError(f"damping (mass-proportional alpha, 1/s) must be >= 0, got {p.damping}")
        self.mass = a.lumped_mass(p.density)
        self.conditions = compile_conditions(p, a, self.mass)
        self.forces = InternalForce(a, p.material, use_linear=use_linear)
        self.timestep, self.no_certificate = _certified_step(a, p.material, p.density)
        self.dt_certified = None if self.timestep is None else float(self.timestep.dt)
        self.dt = self._resolve_dt(dt, allow_unsafe_dt)

    def _resolve_dt(self, dt, allow_unsafe: bool) -> float:
        cert = self.dt_certified
        if isinstance(dt, str):
            if dt != "certified":
                raise FemError(f"dt must be a positive number or 'certified', got {dt!r}")
            if cert is None:
                raise FemError(f"dt='certified' needs a stiffness certificate: {self.no_certificate}; "
                               "give dt as a number")
            return cert
        dt = float(dt)
        if not (dt > 0 and math.isfinite(dt)):
            raise FemError(f"dt must be a positive finite number or 'certified', got {dt!r}")
        if cert is None:
            log.warning("dt = %.6g s is not checked against a certified step: %s", dt, self.no_certificate)
        elif dt > cert * (1 + 1e-12):
            msg = (f"dt = {dt:.6g} s exceeds the certified stable step {cert:.6g} s "
                   f"({dt / cert:.3f}x; element method, controlling element "
                   f"{getattr(self.timestep, 'controlling_element', None)})")
            if not allow_unsafe:
                raise FemError(msg + "; use dt='certified', a smaller dt, or allow_unsafe_dt=True")
            warnings.warn(msg + "; running anyway (allow_unsafe_dt=True) and measuring the critical step as it "
                          "goes (monitor_every; 0 turns it off)", FemWarning, stacklevel=4)
        return dt

    def stepper(self, dt: float) -> CentralDifference:
        return CentralDifference(self.forces, self.mass, self.conditions, dt, float(self.problem.damping))

    def initial_state(self, stepper: CentralDifference) -> State:
        like = self.mass
        u0 = _initial_field(self.problem.u0, self.problem.mesh, "u0", like)
        v0 = _initial_field(self.problem.v0, self.problem.mesh, "v0", like)
        with torch.no_grad():
            s = stepper.init(u0, v0)
        fault = self.finite_fault(s, s)
        if fault is not None:
            raise FemError(f"the initial state is not usable: {fault['message']}")
        return s

    # -- checks ---------------------------------------------------------------------------------
    def finite_fault(self, new: State, good: State) -> dict | None:
        """A fault dict when ``new`` has NaN/inf (or, in 1D, a stretch ≤ 0), else None."""
        # the step's internal work ½Δt v_{n+½}·(f_n + f_{n+1}) sums over every dof: NaN/inf anywhere
        # shows up in it, at no extra cost
        a = self.assembly
        finite = all(math.isfinite(x) for x in new.increments)
        if finite and new.step == 0:
            finite = bool(torch.isfinite(new.f_int).all() and torch.isfinite(new.a).all())
        if not finite:
            cell, why = worst_cell(a, new.u, new.stress)
            return self.fault("unstable", new, good, cell, f"NaN or inf in the solution ({why})")
        if a.dim == 1:
            eps = new.strain if new.strain is not None else a.strain(new.u)
            if not float(eps.min()) > -1.0:
                return self.inverted_fault(new, good, new.strain)
        return None

    def inverted_fault(self, new: State, good: State, strain=None) -> dict | None:
        ids = inverted_cells(self.assembly, new.u, strain)
        if len(ids) == 0:
            return None
        what = "stretch 1 + du/dX <= 0" if self.assembly.dim == 1 else "det(I + grad u) <= 0"
        return self.fault("inverted", new, good, int(ids[0]),
                          f"{len(ids)} element(s) turned inside out ({what}), first")

    def fault(self, kind: str, new: State, good: State, cell: int, detail: str) -> dict:
        where = describe_cell(self.assembly, cell)
        centroid = tuple(float(x) for x in self.assembly.cell_centroids()[cell])
        msg = (f"{kind}: {detail} {where} at step {new.step} (t = {new.t:.6g} s); "
               f"kept the last good state, step {good.step} (t = {good.t:.6g} s)")
        cert = self.dt_certified
        if cert and self.dt > cert * (1 + 1e-12):
            # above the proven step any fault (a growing oscillation often inverts an element a few
            # steps before the energy check trips) is most likely the numerical instability itself
            msg += (f"; dt = {self.dt:.6g} s is {self.dt / cert:.3g}x the certified stable step "
                    f"{cert:.6g} s: likely a numerical instability, use dt = 'certified'")
        elif kind == "unstable":
            cert_s = f", certified stable step {cert:.6g} s" if cert else ""
            msg += f"; dt = {self.dt:.6g} s{cert_s}: reduce dt or check the material"
        return {"kind": kind, "step": new.step, "t": new.t, "element": cell, "centroid": centroid,
                "detail": detail, "message": msg}


# ---------------------------------------------------------------------------------------------
# iterate
def iterate(problem: Problem, dt, *, allow_unsafe_dt: bool = False, dtype=torch.float64, device="cpu",
            use_linear: bool = True) -> Iterator[State]:
    """Yield the initial :class:`State` then one state per step, forever (take what you need).

    Checks every step for NaN/inf (and 1D inversion); on a fault raises
    :class:`~fem.errors.SimulationError` whose ``.result`` is a :class:`Result` holding the last
    good state. Energies are not tracked here; use :func:`solve` for that.
    """
    with _threads(None, problem.mesh.n_points * problem.mesh.dim, device):
        setup = _Setup(problem, dt, dtype=dtype, device=device, allow_unsafe_dt=allow_unsafe_dt,
                       use_linear=use_linear)
        stepper = setup.stepper(setup.dt)
        state = setup.initial_state(stepper)
    yield state
    n_dofs = setup.assembly.n_dofs
    while True:
        with torch.no_grad(), _threads(None, n_dofs, device):
            new = stepper.step(state)
        fault = setup.finite_fault(new, state)
        if fault is not None:
            res = Result(fault["kind"], fault["message"], state.step, state.t, setup.dt, np.zeros(0), {},
                         state, dt_certified=setup.dt_certified, fault=fault)
            raise SimulationError(fault["message"], res)
        state = new
        yield state


# ---------------------------------------------------------------------------------------------
# solve
class _Recorder:
    """Histories of a run: energy rows, probes, saved frames; and the output hooks."""

    def __init__(self, setup: _Setup, output, on_energy, probes, keep_fields: bool):
        self.setup, self.output, self.on_energy, self.keep = setup, output, on_energy, keep_fields
        mesh = setup.problem.mesh
        self.account = EnergyAccount()
        self.rows: list[dict] = []
        self.probe_nodes = {k: torch.as_tensor(_probe_nodes(mesh, w), device=setup.mass.device)
                            for k, w in (probes or {}).items()}
        self.probe_t: list[float] = []
        self.probe_u: dict[str, list] = {k: [] for k in self.probe_nodes}
        self.times: list[float] = []
        self.fields: dict[str, list] = {}
        self.monitor: list[dict] = []
        self.monitoring = False  # set by solve when monitor_every is given

    def energy_row(self, s: State) -> dict:
        f = self.setup.forces
        kinetic = float(0.5 * torch.dot(self.setup.mass * s.v, s.v))
        internal = f.energy(s.u, s.f_int, s.strain)
        if self.account.initial is None and internal is None:
            self.account.internal0 = 0.0
        row = self.account.row(s.t, s.step, kinetic, None if internal is None else float(internal))
        if self.monitoring:
            # the latest measured critical step (an estimate) and the margin dt_critical / dt
            last = self.monitor[-1]["dt_critical"] if self.monitor else math.nan
            row["dt_critical"], row["dt_margin"] = last, last / self.setup.dt
        self.rows.append(row)
        if self.on_energy is not None:
            self.on_energy(dict(row))
        return row

    def probe(self, s: State) -> None:
        if not self.probe_nodes:
            return
        u = s.u.reshape(-1, self.setup.assembly.dim)
        self.probe_t.append(s.t)
        for k, ids in self.probe_nodes.items():
            self.probe_u[k].append(u[ids].mean(dim=0))

    def save(self, s: State) -> None:
        if self.output is None and not self.keep:
            return
        a = self.setup.assembly
        with torch.no_grad():
            eps, sig = self.setup.forces.strain_stress(s.u, s.strain, s.stress)
        point = {"displacement": s.u.reshape(-1, a.dim).cpu().numpy().copy(),
                 "velocity": s.v.reshape(-1, a.dim).cpu().numpy().copy()}
        cell = {"strain": tensor_components(eps.mean(dim=1), a.kinematics),
                "stress": tensor_components(sig.mean(dim=1), a.kinematics)}
        self.times.append(s.t)
        if self.output is not None:
            self.output.write(s.t, point, cell)
        if self.keep:
            for k, v in {**point, **cell}.items():
                self.fields.setdefault(k, []).append(v)

    def state_dict(self) -> dict:
        return {"account": self.account.state_dict(), "rows": list(self.rows), "probe_t": list(self.probe_t),
                "probe_u": {k: [x.cpu() for x in v] for k, v in self.probe_u.items()},
                "times": list(self.times), "fields": {k: list(v) for k, v in self.fields.items()},
                "monitor": list(self.monitor)}

    def load_state_dict(self, d: dict) -> None:
        dev = self.setup.mass.device
        self.account.load_state_dict(d["account"])
        self.rows, self.probe_t, self.times = list(d["rows"]), list(d["probe_t"]), list(d["times"])
        self.probe_u = {k: [x.to(dev) for x in d["probe_u"].get(k, [])] for k in self.probe_nodes}
        self.fields = {k: list(v) for k, v in d["fields"].items()}
        self.monitor = list(d["monitor"])

    def energies(self) -> dict:
        keys = ENERGY_KEYS + (("dt_critical", "dt_margin") if self.monitoring else ())
        return {k: np.array([r.get(k, math.nan) for r in self.rows], dtype=np.float64) for k in keys}

    def probes(self) -> dict:
        if not self.probe_nodes:
            return {}
        out = {"time": np.asarray(self.probe_t)}
        for k, v in self.probe_u.items():
            out[k] = torch.stack(v).cpu().numpy() if v else np.zeros((0, self.setup.assembly.dim))
        return out


_STATE_TENSORS = ("u", "v", "a", "f_int", "f_ext", "reaction", "vh_c")


def _state_payload(s: State) -> dict:
    return {"step": s.step, "t": s.t, "increments": tuple(s.increments),
            **{k: (None if getattr(s, k) is None else getattr(s, k).cpu()) for k in _STATE_TENSORS}}


def _state_from_payload(d: dict, setup: _Setup) -> State:
    dev = setup.mass.device
    kw = {k: (None if d[k] is None else d[k].to(dev)) for k in _STATE_TENSORS}
    return State(d["step"], d["t"], increments=tuple(d["increments"]), **kw)


#: below this many dofs a run uses one CPU thread: torch's parallel regions cost more than they save on
#: small vectors, and on a loaded machine a spinning OpenMP team made a 100-dof run 120x slower (measured)
SMALL_PROBLEM_DOFS = 20_000


@contextlib.contextmanager
def _threads(n: int | None, n_dofs: int, device):
    """Run with ``n`` torch CPU threads (None: 1 below SMALL_PROBLEM_DOFS, else unchanged); restore."""
    if n is None and (torch.device(device).type != "cpu" or n_dofs >= SMALL_PROBLEM_DOFS):
        yield
        return
    old = torch.get_num_threads()
    torch.set_num_threads(1 if n is None else int(n))
    try:
        yield
    finally:
        torch.set_num_threads(old)


def _progress(enabled, total: int, initial: int):
    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=initial, unit="step", dynamic_ncols=True, desc="explicit")


def solve(problem: Problem, t_end: float, dt, *, output=None, save_every: int | None = None,
          energy_every: int | None = None, energy_tol: float | None = 0.5,
          checkpoint_every: int | None = None, checkpoint_path=None, restart=None,
          allow_unsafe_dt: bool = False, monitor_every: int | None = None,
          probes: dict | None = None, probe_every: int = 1, on_energy: Callable[[dict], None] | None = None,
          keep_fields: bool | None = None, check_every: int = 1, callback: Callable[[State], None] | None = None,
          progress: bool | None = None, raise_on_fault: bool = False, use_linear: bool = True,
          num_threads: int | None = None, dtype=torch.float64, device="cpu") -> Result:
    """Run ``problem`` from t = 0 to ``t_end`` with the central-difference scheme.

    Parameters
    ----------
    t_end : end time (s). dt : a float (s) or ``"certified"`` (see the module docstring).
    output : a writer with ``write(t, point_data, cell_data)`` and ``close()`` (e.g.
        :class:`fem.output.FieldWriter`), called at step 0, every ``save_every`` steps and at the end
        with point data ``displacement``, ``velocity`` (n_points, dim) and cell data ``strain``,
        ``stress`` (n_cells, k) averaged over each cell's quadrature points, in tensor components
        (:func:`tensor_components`). ``solve`` closes it before returning.
    save_every : steps between saved frames (default: about 100 frames).
    energy_every : steps between energy rows (default: about 1000 rows; also at every save).
    energy_tol : stop as ``"unstable"`` when the relative balance error of a row exceeds it (None: never).
        0.5 by default: a stable linear run stays below ``(ω_max Δt)²/4`` (:mod:`fem.energy`), an
        unstable one passes any threshold within a few dozen steps of the one it would pass first.
        Not checked in the first ``BALANCE_GRACE_STEPS`` steps: for a load applied from rest the scheme's
        exact defect ``(Δt²/8) aᵀMa`` equals the kinetic energy at step 1 (error 1) and decays like 1/n²;
        NaN/inf and inversion are checked from step 1.
    checkpoint_every, checkpoint_path : write a checkpoint every N steps (and on Ctrl-C).
    restart : a checkpoint path to continue from (same problem and dt); the result equals that of an
        uninterrupted run.
    allow_unsafe_dt : run a float dt above the certified step (with a FemWarning) instead of refusing;
        such a run is monitored (about ``UNSAFE_MONITORS`` measurements) unless ``monitor_every=0``.
    monitor_every : every N steps (and at the start) record the measured critical step at the current
        state (``fem.timestep.critical_time_step``, an estimate) in ``Result.monitor``; the energy rows
        (``Result.energies``, energy CSV) then also carry ``dt_critical`` (latest measurement, s) and
        ``dt_margin`` = dt_critical / dt (below 1: the step is above the measured limit).
    probes : name -> node set/selector/ids; their mean displacement is recorded every ``probe_every``
        steps in ``Result.probes``.
    on_energy : called with every energy row (a dict) as the run goes (e.g. to append a CSV).
    keep_fields : keep the saved frames in ``Result.fields`` (default: when ``output`` is None).
    check_every : steps between NaN/inf (and 1D inversion) checks; 2D/3D inversion is checked at rows.
    callback : called with every new state (after checks).
    progress : tqdm bar with ETA; None = only when stderr is a terminal.
    raise_on_fault : raise :class:`~fem.errors.SimulationError` (with ``.result``) instead of returning
        a Result whose status is not ``"completed"``.
    use_linear : allow the sparse K path for linear materials (False forces the material call).
    num_threads : torch CPU threads during the run (restored after); None = 1 below
        ``SMALL_PROBLEM_DOFS`` dofs, torch's setting above.
    dtype, device : of every tensor (float64, CPU by default).

    Returns a :class:`Result`.
    """
    n_dofs = problem.mesh.n_points * problem.mesh.dim
    with _threads(num_threads, n_dofs, device):
        return _solve(problem, t_end, dt, output=output, save_every=save_every, energy_every=energy_every,
                      energy_tol=energy_tol, checkpoint_every=checkpoint_every, checkpoint_path=checkpoint_path,
                      restart=restart, allow_unsafe_dt=allow_unsafe_dt, monitor_every=monitor_every,
                      probes=probes, probe_every=probe_every, on_energy=on_energy, keep_fields=keep_fields,
                      check_every=check_every, callback=callback, progress=progress,
                      raise_on_fault=raise_on_fault, use_linear=use_linear, dtype=dtype, device=device)


def _solve(problem, t_end, dt, *, output, save_every, energy_every, energy_tol, checkpoint_every,
           checkpoint_path, restart, allow_unsafe_dt, monitor_every, probes, probe_every, on_energy,
           keep_fields, check_every, callback, progress, raise_on_fault, use_linear, dtype, device) -> Result:
    wall0 = time.perf_counter()
    if not (t_end > 0 and math.isfinite(t_end)):
        raise FemError(f"t_end must be a positive finite time, got {t_end!r}")
    for name, every, low in (("save_every", save_every, 0), ("energy_every", energy_every, 0),
                             ("checkpoint_every", checkpoint_every, 0), ("monitor_every", monitor_every, 0),
                             ("probe_every", probe_every, 1), ("check_every", check_every, 1)):
        if every is not None and (isinstance(every, bool) or not isinstance(every, numbers.Integral) or every < low):
            raise FemError(f"{name} must be a whole number of steps >= {low}"
                           f"{' (0 or None: default/off)' if low == 0 else ''}, got {every!r}")
    setup = _Setup(problem, dt, dtype=dtype, device=device, allow_unsafe_dt=allow_unsafe_dt, use_linear=use_linear)
    n_steps = max(1, math.ceil(t_end / setup.dt * (1 - 1e-12)))
    dt_run = t_end / n_steps
    if dt_run < setup.dt * (1 - 1e-12):
        log.info("dt shortened from %.6g to %.6g s so that %d steps end at t_end = %.6g s",
                 setup.dt, dt_run, n_steps, t_end)
    setup.dt = dt_run
    if monitor_every is None and setup.dt_certified is not None and dt_run > setup.dt_certified * (1 + 1e-12):
        # an unsafe step the user allowed: watch the measured limit (about UNSAFE_MONITORS times per run)
        monitor_every = max(1, n_steps // UNSAFE_MONITORS)
        log.info("dt above the certified step: measuring the critical step every %d steps", monitor_every)
    stepper = setup.stepper(dt_run)
    save_every = save_every or max(1, n_steps // 100)
    energy_every = energy_every or max(1, n_steps // 1000)
    keep = (output is None) if keep_fields is None else keep_fields
    rec = _Recorder(setup, output, on_energy, probes, keep)
    rec.monitoring = bool(monitor_every)
    monitor_warned = False

    def checkpoint(s: State):
        save_checkpoint(checkpoint_path, {"step": s.step, "dt": dt_run, "t_end": float(t_end),
                                          "n_dofs": setup.assembly.n_dofs, "state": _state_payload(s),
                                          "recorder": rec.state_dict()})

    if checkpoint_every and checkpoint_path is None:
        raise FemError("checkpoint_every needs checkpoint_path")
    if restart is not None:
        ck = load_checkpoint(restart)
        if ck["n_dofs"] != setup.assembly.n_dofs or abs(ck["dt"] - dt_run) > 1e-12 * dt_run:
            raise FemError(f"checkpoint {restart} does not match this run: it has {ck['n_dofs']} dofs and "
                           f"dt = {ck['dt']:.9g} s, this run {setup.assembly.n_dofs} dofs and dt = {dt_run:.9g} s")
        state = _state_from_payload(ck["state"], setup)
        if state.f_int is not None and not setup.forces.linear:
            with torch.no_grad():
                _, state.strain, state.stress = setup.forces(state.u)
        rec.load_state_dict(ck["recorder"])
        log.info("restarting from %s at step %d (t = %.6g s)", restart, state.step, state.t)
    else:
        state = setup.initial_state(stepper)
        if monitor_every:  # so that the first energy row already carries the margin
            monitor_warned = _monitor(setup, rec, state, monitor_warned)
        rec.energy_row(state)
        rec.probe(state)
        rec.save(state)

    good, good_row = state, state
    status, fault = "completed", None
    bar = _progress(progress, n_steps, state.step)
    chunk, pending = max(1, n_steps // 1000), 0
    try:
        with torch.no_grad():
            while state.step < n_steps:
                new = stepper.step(state)
                n = new.step
                last = n == n_steps
                is_row = n % energy_every == 0 or n % save_every == 0 or last
                if n % check_every == 0 or is_row:
                    fault = setup.finite_fault(new, good)
                    if fault is not None:
                        final = good
                        break
                    good = new
                rec.account.add(new.increments)
                state = new
                if probes and n % probe_every == 0:
                    rec.probe(state)
                if monitor_every and n % monitor_every == 0:  # before the row, which records the margin
                    monitor_warned = _monitor(setup, rec, state, monitor_warned)
                if is_row:
                    row = rec.energy_row(state)
                    if (energy_tol is not None and n >= BALANCE_GRACE_STEPS
                            and row["balance_error"] > energy_tol):
                        cell, why = worst_cell(setup.assembly, state.u, state.stress)
                        fault = setup.fault("unstable", state, good_row, cell,
                                            f"energy balance error {row['balance_error']:.3g} > energy_tol "
                                            f"{energy_tol:g} ({why})")
                        final = good_row
                        break
                    if setup.assembly.dim > 1:
                        fault = setup.inverted_fault(state, good_row)
                        if fault is not None:
                            final = good_row
                            break
                    good_row = state
                if n % save_every == 0 or last:
                    rec.save(state)
                if checkpoint_every and n % checkpoint_every == 0:
                    checkpoint(state)
                if callback is not None:
                    callback(state)
                pending += 1
                if bar is not None and pending >= chunk:
                    bar.update(pending)
                    pending = 0
    except KeyboardInterrupt:
        status = "interrupted"
        if checkpoint_path is not None:  # before the extra row below, so a restart matches a full run
            checkpoint(state)
        if not rec.rows or rec.rows[-1]["step"] != state.step:
            rec.energy_row(state)
        log.warning("interrupted at step %d (t = %.6g s)", state.step, state.t)
    finally:
        if bar is not None:
            bar.update(pending)   # the steps since the last chunk, so a completed run shows n/n
            bar.close()
        if output is not None:
            output.close()

    if fault is not None:
        status = fault["kind"]
        message = fault["message"]
        log.error(message)
    elif status == "interrupted":
        final = state
        message = (f"interrupted by the user at step {state.step} (t = {state.t:.6g} s); "
                   f"state and output so far kept" + (f", checkpoint {checkpoint_path}" if checkpoint_path else ""))
    else:
        final = state
        message = f"completed {n_steps} steps of dt = {dt_run:.6g} s to t = {state.t:.6g} s"
    result = Result(status, message, final.step, final.t, dt_run, np.asarray(rec.times, dtype=np.float64),
                    rec.energies(), final, rec.probes(), time.perf_counter() - wall0, setup.dt_certified,
                    rec.monitor, {k: np.stack(v) for k, v in rec.fields.items()}, fault)
    if fault is not None and raise_on_fault:
        raise SimulationError(message, result)
    return result


def _monitor(setup: _Setup, rec: _Recorder, s: State, warned: bool) -> bool:
    try:
        from fem.timestep import critical_time_step
    except ImportError:
        if not warned:
            log.warning("monitor_every: fem.timestep is not available; no critical step recorded")
        return True
    ts = critical_time_step(setup.assembly, setup.problem.material, setup.problem.density, u=s.u)
    entry = {"step": s.step, "t": s.t, "dt": setup.dt, "dt_critical": float(ts.dt),
             "omega_max": float(ts.omega_max), "ratio": setup.dt / float(ts.dt)}
    rec.monitor.append(entry)
    if entry["ratio"] > 1.0:
        log.warning("step %d: dt = %.6g s is above the measured critical step %.6g s", s.step, setup.dt, ts.dt)
    return warned
