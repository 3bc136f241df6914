"""Size limits of a run, checked before anything is built, stepped or written.

A typing slip in an input (``end = 1e3`` for ``1e-3``, ``every = 1`` on a million steps, ``nx = 1e6``)
should give one clear error at once, not a run that fills the disk or never ends. Every run and every
generated mesh is therefore sized first, with the numbers, and refused above a documented limit:

=========================  ==================  =============================================================
what                       default limit       override
=========================  ==================  =============================================================
cells of a generated mesh  :data:`MAX_CELLS`   none (5e7 cells need tens of GB; read a mesh file instead)
time steps of a run        :data:`MAX_STEPS`   ``Limits(max_steps=...)``; deck ``[solver] max_steps``
frames written             :data:`MAX_FRAMES`  ``Limits(max_frames=...)``; deck ``[output] max_frames``
bytes written (estimate)   :data:`MAX_BYTES`   ``Limits(max_bytes=...)``; deck ``[output] max_bytes``
CPU threads                4 × CPU count       none (:func:`check_threads`; torch crashes far above it)
=========================  ==================  =============================================================

``Limits.off()`` (``lipmat run --force``; ``false`` for a deck key) turns a limit off. The byte figure
is an *estimate* (uncompressed field data plus CSV rows), not a bound: compressed VTU frames are
usually smaller.

Float-safe material and step ranges live here too: a Young's modulus outside :data:`MODULUS_RANGE`
overflows the element stiffness (``linear:E=1e300`` gave a certified step of exactly 0 s), and a time
step must be a positive finite number of seconds whose step count is a finite number.
"""
from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

from fem.core.errors import FemError, LimitError

__all__ = ["Limits", "MAX_CELLS", "MAX_STEPS", "MAX_FRAMES", "MAX_BYTES", "MODULUS_RANGE", "OutputEstimate",
           "count_steps", "check_mesh_size", "check_certified_step", "check_stiffness_bound", "describe_material", "check_modulus", "check_poisson", "check_time_step",
           "estimate_output", "check_run", "check_device", "check_threads", "max_threads"]

#: most cells a mesh generator makes (bar, rectangle, box)
MAX_CELLS = 50_000_000
#: most time steps of one run
MAX_STEPS = 100_000_000
#: most field frames written by one run
MAX_FRAMES = 10_000
#: largest estimated output of one run (bytes)
MAX_BYTES = 20e9
#: accepted Young's moduli / stiffness bounds (Pa): the stiffest solids are about 1e12 Pa; beyond 1e15
#: Pa the element stiffness of a small cell overflows float64 at ordinary densities
MODULUS_RANGE = (1e-6, 1e15)
#: Poisson's ratio must keep 1 - 2ν and 1 + ν at least this far from 0 (λ/μ below about 1e9)
POISSON_MARGIN = 1e-9
#: largest stiffness-bound entry accepted (Pa): λ + 2μ of E = 1e15 Pa at ν = 0.5 - 1e-9 stays below it
MAX_BOUND = 1e25

_OVERRIDE = {"max_steps": "[solver] max_steps", "max_frames": "[output] max_frames",
             "max_bytes": "[output] max_bytes"}


@dataclass(frozen=True)
class Limits:
    """Limits of one run; None turns one off. See the module docstring for the defaults."""

    max_steps: int | None = MAX_STEPS
    max_frames: int | None = MAX_FRAMES
    max_bytes: float | None = MAX_BYTES

    def __post_init__(self):
        for name in ("max_steps", "max_frames", "max_bytes"):
            v = getattr(self, name)
            if v is not None and (isinstance(v, bool) or not isinstance(v, numbers.Real) or not v >= 1
                                  or not math.isfinite(v)):
                raise FemError(f"Limits({name}=...) must be a finite number >= 1 or None (no limit), got {v!r}")

    @classmethod
    def off(cls) -> "Limits":
        """No limit at all (``lipmat run --force``)."""
        return cls(None, None, None)


def _refuse(what: str, value: float, limit: float, name: str, unit: str = "") -> LimitError:
    return LimitError(f"{what} is {value:.4g}{unit}, above the limit of {limit:.4g}{unit}; if this is meant, "
                      f"raise the limit (deck {_OVERRIDE[name]} = N or false, fem Limits({name}=...), "
                      f"or `lipmat run --force`)")


def check_mesh_size(n_cells: float, n_points: float, what: str) -> None:
    """LimitError if a generator would make more than :data:`MAX_CELLS` cells (counted before any array)."""
    if not n_cells <= MAX_CELLS:
        raise LimitError(f"{what} would have {n_cells:.4g} cells and {n_points:.4g} points, above the limit of "
                         f"{MAX_CELLS:.4g} cells (fem.core.limits.MAX_CELLS); use fewer elements or read a mesh file")


def check_modulus(value, name: str = "E", owner: str = "material") -> float:
    """``value`` as a float if it is a modulus in :data:`MODULUS_RANGE` (Pa); FemError naming it otherwise."""
    lo, hi = MODULUS_RANGE
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise FemError(f"{owner}: {name} must be a number (Pa), got {value!r}") from None
    if not lo <= v <= hi:
        raise FemError(f"{owner}: {name} = {value!r} Pa is outside the accepted range [{lo:g}, {hi:g}] Pa "
                       f"(the stiffest solids are about 1e12 Pa; beyond {hi:g} the stiffness overflows)")
    return v


def check_poisson(value, owner: str = "material") -> float:
    """``value`` as a float if ``-1 < ν < 0.5`` with :data:`POISSON_MARGIN` to spare; FemError otherwise."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise FemError(f"{owner}: nu must be a number, got {value!r}") from None
    if not (-1.0 + POISSON_MARGIN <= v <= 0.5 - POISSON_MARGIN):
        raise FemError(f"{owner}: Poisson's ratio nu = {value!r} is outside ({-1 + POISSON_MARGIN:.10g}, "
                       f"{0.5 - POISSON_MARGIN:.10g}) (-1 < nu < 0.5; at 0.5 the bulk modulus is infinite)")
    return v


def check_time_step(dt, source: str) -> float:
    """``dt`` as a float if it is a positive finite step (s); FemError naming ``source`` otherwise.

    A certified step of 0 s comes from a stiffness bound that overflowed (``omega_max = inf``); a
    non-finite one from a NaN bound. Either way no run can use it.
    """
    v = float(dt)
    if not (v > 0 and math.isfinite(v)):
        raise FemError(f"{source}: the time step is {v!r} s, expected a positive finite number of seconds "
                       f"(a step of 0 or inf/NaN means the stiffness bound or density is out of range)")
    return v


def describe_material(material) -> str:
    """A one-line name of ``material`` for messages: its repr when short, else its class name."""
    text = repr(material)
    return text if "\n" not in text and len(text) <= 120 else type(material).__name__


def check_stiffness_bound(bound, material) -> None:
    """FemError naming ``material`` unless its stiffness bound (a float or an (n, n) tensor, Pa) is finite and
    at most :data:`MAX_BOUND`: beyond that the element eigenvalues overflow float64 (the step becomes 0 s)."""
    import torch

    values = bound.detach().abs().double() if isinstance(bound, torch.Tensor) else torch.tensor(abs(float(bound)))
    top = float(values.max()) if values.numel() else 0.0
    if math.isfinite(top) and top <= MAX_BOUND:
        return
    raise FemError(f"the stiffness bound of {describe_material(material)} is {top:.4g} Pa; expected a finite bound "
                   f"of at most {MAX_BOUND:g} Pa (moduli in [{MODULUS_RANGE[0]:g}, {MODULUS_RANGE[1]:g}] Pa); "
                   f"beyond it the stable step underflows to 0 s")


def check_certified_step(timestep, material) -> float:
    """``timestep.dt`` if it is a usable certified step; FemError naming the material and the value.

    A stiffness bound beyond float range (``E = 1e300``) makes ``omega_max`` overflow and the step
    exactly 0 s; a NaN bound makes it NaN. Both are refused here, before any run or report uses them.
    """
    dt, omega = float(timestep.dt), float(timestep.omega_max)
    if dt > 0 and math.isfinite(dt) and math.isfinite(omega):
        return dt
    lo, hi = MODULUS_RANGE
    raise FemError(f"the certified stable step of {describe_material(material)} is {dt!r} s (omega_max = {omega!r} "
                   f"rad/s): its stiffness bound is not finite in float64; expected moduli in [{lo:g}, {hi:g}] Pa "
                   f"and a positive finite density")


def count_steps(t_end: float, dt: float) -> float:
    """The number of steps ``ceil(t_end/dt)`` as a float (may be huge); FemError if it is not finite.

    Computed in floating point so that ``t_end = 1e10, dt = 1e-300`` is reported, not an OverflowError.
    """
    n = float(t_end) / float(dt) * (1 - 1e-12)
    if not math.isfinite(n):
        raise LimitError(f"t_end = {t_end!r} s with dt = {dt!r} s gives {n} steps; expected a finite number of "
                         f"steps (at most {MAX_STEPS:.4g} by default)")
    return max(1.0, math.ceil(n))


@dataclass(frozen=True)
class OutputEstimate:
    """What a run would write: frames, energy rows, probe rows and an estimate of the bytes."""

    frames: int
    energy_rows: int
    probe_rows: int
    bytes: float

    def __str__(self) -> str:
        return (f"{self.frames} frames, {self.energy_rows} energy rows, {self.probe_rows} probe rows, "
                f"about {self.bytes / 1e9:.3g} GB")


def estimate_output(mesh, n_steps: int, *, save_every: int | None, energy_every: int | None,
                    fields: bool = True, n_probes: int = 0, probe_every: int = 1) -> OutputEstimate:
    """Frames, rows and bytes of a run of ``n_steps`` on ``mesh`` (the defaults of ``fem.solver.plan``).

    A frame holds 3-component points, the connectivity, displacement and velocity (3 components each)
    and strain and stress (up to 6 components per cell), all as 8-byte values, uncompressed and base64
    encoded as in a VTU file (× 4/3); an energy row about 200 bytes; a probe row 25 bytes per component.
    Measured against uncompressed VTU runs (tests/test_bad_input_fem.py) the frame bytes are within
    10 %; zlib-compressed VTU and XDMF frames are smaller. An estimate, not a bound.
    """
    n_steps = int(n_steps)
    save_every = save_every or max(1, n_steps // 100)
    energy_every = energy_every or max(1, n_steps // 1000)
    frames = (n_steps // save_every + 2) if fields else 0
    rows = n_steps // min(save_every, energy_every) + 2
    probe_rows = (n_steps // probe_every + 2) if n_probes else 0
    k = {1: 1, 2: 3, 3: 6}[mesh.dim]
    per_frame = 8.0 * 4.0 / 3.0 * (mesh.n_points * (3 + 3 + 3) + mesh.cells.size + 2 * mesh.n_cells + 2 * k * mesh.n_cells)
    total = frames * per_frame + 200.0 * rows + probe_rows * (25.0 + 25.0 * mesh.dim * n_probes)
    return OutputEstimate(frames, rows, probe_rows, total)


def check_run(n_steps: float, estimate: OutputEstimate | None, limits: Limits | None) -> None:
    """LimitError if the steps, frames or estimated bytes of a run exceed ``limits`` (None: defaults)."""
    limits = Limits() if limits is None else limits
    if limits.max_steps is not None and n_steps > limits.max_steps:
        raise _refuse("the number of time steps", n_steps, limits.max_steps, "max_steps")
    if estimate is None:
        return
    if limits.max_frames is not None and estimate.frames > limits.max_frames:
        raise _refuse(f"the number of field frames ({estimate})", estimate.frames, limits.max_frames, "max_frames")
    if limits.max_bytes is not None and estimate.bytes > limits.max_bytes:
        raise _refuse(f"the estimated output ({estimate})", estimate.bytes, limits.max_bytes, "max_bytes", " bytes")


def max_threads() -> int:
    """Most CPU threads a run may ask for: 4 × this machine's CPU count (torch crashes far above it)."""
    import os

    return 4 * max(1, os.cpu_count() or 1)


def check_threads(n, owner: str = "num_threads") -> int | None:
    """``n`` (None or a whole number in [1, :func:`max_threads`]); FemError otherwise.

    ``torch.set_num_threads(100000)`` is accepted by torch and the next parallel region segfaults.
    """
    if n is None:
        return None
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or not 1 <= n <= max_threads():
        raise FemError(f"{owner} must be a whole number of CPU threads in [1, {max_threads()}] (4 x the "
                       f"{max_threads() // 4} CPUs here) or None, got {n!r}")
    return int(n)


def check_device(device):
    """A ``torch.device`` for ``device`` if this machine can run fem on it; FemError in one line otherwise.

    Valid: ``"cpu"`` and, when CUDA is available, ``"cuda"`` / ``"cuda:N"`` with N below the device count.
    """
    import torch

    valid = "'cpu'" + (f" or 'cuda'/'cuda:N' (N < {torch.cuda.device_count()})" if torch.cuda.is_available()
                       else " (no CUDA device here)")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError, ValueError):
        raise FemError(f"device {device!r} is not a torch device; expected {valid}") from None
    if dev.type == "cpu":
        return dev
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise FemError(f"device {device!r}: CUDA is not available on this machine; expected 'cpu'")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise FemError(f"device {device!r}: this machine has {torch.cuda.device_count()} CUDA device(s); "
                           f"expected {valid}")
        return dev
    raise FemError(f"device {device!r} cannot run fem; expected {valid}")
