"""Output of an explicit run: field series for ParaView, energy and probe histories, an energy plot.

Every file is written atomically (:func:`atomic_write`: a temporary file in the same folder, then
``os.replace``), so a run that crashes or is killed leaves either the previous version of a file or
the new one, never half of one. The series index is rewritten after every frame, so the frames
written before a crash always form a valid series.

Field series (:class:`FieldWriter`)
-----------------------------------
``format="vtu"`` (default): one ``{prefix}_{i:06d}.vtu`` per frame and the index ``{prefix}.pvd``
(open the ``.pvd`` in ParaView). ``format="xdmf"``: ``{prefix}_mesh.h5`` (points, cells, written
once), one ``{prefix}_{i:06d}.h5`` per frame and the index ``{prefix}.xdmf``; every ``.h5`` lies
beside the ``.xdmf`` and is referenced by its bare name, whatever the current directory is.
(meshio's XDMF ``TimeSeriesWriter`` is not used: it writes its ``.h5`` into the current working
directory and the ``.xdmf`` only when closed, so a crashed run keeps no readable series.)

Arrays as ParaView sees them:

- points always have 3 coordinates; point data of shape ``(n_points, dim)`` with dim < 3 (vectors:
  ``displacement``, ``velocity``) are padded with zeros to 3 components, so "Warp By Vector" works
  on 1D and 2D meshes.
- cell data ``strain``/``stress`` arrive as tensor components (``fem.discretisation.forces.symmetric_components``):
  1D ``[XX]``, 2D ``[XX, YY, XY]``, 3D ``[XX, YY, ZZ, XY, YZ, XZ]`` (ParaView's order for symmetric
  tensors; shear is the tensor component ε_xy = γ_xy/2). In VTU each component is named
  (``ComponentName`` attributes: ParaView lists ``stress`` → ``XX``, ``YY``, …). 2D data are not padded
  to a 3D tensor: the plane-strain σ_zz is not part of the material's output, and a zero would be
  wrong. In XDMF (which has no component names) each component is its own scalar attribute
  ``stress_xx``, ``stress_yy``, ``stress_xy``, … .

Histories
---------
:func:`write_energy_csv` (columns ``time_s, step, kinetic_J, internal_J, external_J, damping_J,
balance_error``), :func:`write_probes_csv` (``time_s, NAME_ux_m, NAME_uy_m, …``),
:func:`plot_energies` (PNG/PDF/SVG by suffix, matplotlib's Agg backend).
"""
from __future__ import annotations

import logging
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np

from fem.io.atomic import atomic_write, check_target
from fem.core.errors import FemError

__all__ = ["FieldWriter", "atomic_write", "check_target", "prepare_output_dir", "write_energy_csv", "write_probes_csv", "plot_energies",
           "read_pvd", "read_xdmf_last_frame", "TENSOR_COMPONENTS"]

log = logging.getLogger(__name__)

#: Names of the tensor components of a cell array with k = 1, 3 or 6 columns (see the module docstring).
TENSOR_COMPONENTS = {1: ("XX",), 3: ("XX", "YY", "XY"), 6: ("XX", "YY", "ZZ", "XY", "YZ", "XZ")}
#: Cell arrays whose columns are tensor components.
TENSOR_FIELDS = ("strain", "stress", "green_lagrange_strain", "cauchy_stress")
FORMATS = ("vtu", "xdmf")
_AXES = "xyz"


# atomic files: fem.io.atomic.atomic_write (re-exported here for callers of fem.io.output)
def prepare_output_dir(path, what: str = "output folder", *, create: bool = True) -> Path:
    """Folder ``path`` checked (and created with its parents unless ``create=False``); returns it.

    FemError naming the part in the way when ``path`` or one of its parents exists as something other
    than a folder (a file, a FIFO, ...): checked before a run starts, not at its first frame.
    """
    path = Path(path)
    for part in [path, *path.parents]:
        if part.exists() and not part.is_dir():
            where = "is" if part == path else f"lies under {part}, which is"
            raise FemError(f"{what} {path} {where} a file, not a folder; expected a folder path")
    if create:
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise FemError(f"cannot create {what} {path}: {exc.strerror or exc}") from None
    return path


def _write_text(path, text: str) -> Path:
    return atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


# ---------------------------------------------------------------------------------------------
# field series
class FieldWriter:
    """Writes a time series of fields on one mesh for ParaView (see the module docstring).

    Parameters
    ----------
    directory : output folder (created if missing).
    mesh : a :class:`fem.discretisation.mesh.Mesh` (points (n_points, dim), cells (n_cells, nn)).
    format : ``"vtu"`` (VTU files + ``.pvd`` index) or ``"xdmf"`` (HDF5 files + ``.xdmf`` index).
    prefix : file name stem of the index and the frames.
    resume : keep the frames already listed in an existing index (for a restarted run); otherwise the
        frames of an earlier run with the same prefix are deleted at the first write.
    compression : VTU data compression, ``"zlib"`` (default), ``"lzma"`` or None (larger files, written
        about 3x faster).

    A frame written at a time ``t`` not after the last frame's (a restart from a checkpoint) replaces
    every frame from ``t`` on. Attributes: ``index`` (Path of the .pvd/.xdmf), ``times`` and ``files``
    (frames in the index).
    """

    def __init__(self, directory, mesh, *, format: str = "vtu", prefix: str = "fields", resume: bool = False,
                 compression: str | None = "zlib"):
        if format not in FORMATS:
            raise FemError(f"output format must be one of {FORMATS}, got {format!r}")
        if not re.fullmatch(r"[A-Za-z0-9_.\-]+", prefix):
            raise FemError(f"output prefix must be a plain file name stem (letters, digits, _ . -), got {prefix!r}")
        self.directory = prepare_output_dir(directory, "field output folder")
        self.mesh, self.format, self.prefix = mesh, format, prefix
        self.index = self.directory / f"{prefix}.{'pvd' if format == 'vtu' else 'xdmf'}"
        self._frames: list[tuple[float, str]] = []   # (time, file name relative to directory)
        self._started = False
        self._closed = False
        self._resume = resume
        self._mesh_h5 = f"{prefix}_mesh.h5"
        self.compression = compression
        self._grids: dict[str, str] = {}             # xdmf: frame file name -> its <Grid> element

    # -- public -----------------------------------------------------------------------------------
    @property
    def times(self) -> list[float]:
        return [t for t, _ in self._frames]

    @property
    def files(self) -> list[Path]:
        return [self.directory / f for _, f in self._frames]

    def write(self, t: float, point_data: dict, cell_data: dict | None = None) -> Path:
        """Write one frame at time ``t`` (s) and rewrite the index; returns the frame's path.

        point_data : name -> (n_points,) or (n_points, k); cell_data : name -> (n_cells,) or
        (n_cells, k). numpy arrays or CPU/GPU tensors.
        """
        if self._closed:
            raise FemError(f"FieldWriter for {self.index} is closed")
        if not self._started:
            self._start()
        t = float(t)
        pdata = {k: self._array(v, self.mesh.n_points, f"point data {k!r}") for k, v in point_data.items()}
        cdata = {k: self._array(v, self.mesh.n_cells, f"cell data {k!r}") for k, v in (cell_data or {}).items()}
        pdata = {k: self._pad_vector(v) for k, v in pdata.items()}
        tol = 1e-12 * max(1.0, abs(t))
        stale = [f for time, f in self._frames if time >= t - tol]   # a restart rewrites from t on
        self._frames = [(time, f) for time, f in self._frames if time < t - tol]
        name = f"{self.prefix}_{len(self._frames):06d}.{'vtu' if self.format == 'vtu' else 'h5'}"
        path = self.directory / name
        if self.format == "vtu":
            atomic_write(path, lambda tmp: self._write_vtu(tmp, pdata, cdata))
        else:
            atomic_write(path, lambda tmp: self._write_h5(tmp, pdata, cdata))
        self._frames.append((t, name))
        if self.format == "xdmf":
            self._grids[name] = self._xdmf_grid(t, name, pdata, cdata)
        self._write_index()
        for f in stale:   # only once the index no longer lists them
            if f != name:
                (self.directory / f).unlink(missing_ok=True)
        return path

    def close(self) -> None:
        """Finish the series (the index is already complete after every frame). Idempotent."""
        if not self._closed and self._started:
            self._write_index()
        self._closed = True

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self) -> str:
        return f"FieldWriter({str(self.index)!r}, frames={len(self._frames)})"

    # -- helpers ----------------------------------------------------------------------------------
    def _start(self) -> None:
        self._started = True
        if self._resume and self.index.exists():
            if self.format == "vtu":
                self._frames = [(t, f.name) for t, f in read_pvd(self.index)]
            else:
                self._frames, self._grids = _read_xdmf_frames(self.index)
            log.info("resuming %s with %d frames", self.index, len(self._frames))
        else:   # a fresh run: drop the old index first, so no index ever lists a deleted frame
            self.index.unlink(missing_ok=True)
            ext = "vtu" if self.format == "vtu" else "h5"
            for old in self.directory.glob(f"{self.prefix}_[0-9]*.{ext}"):
                if re.fullmatch(rf"{re.escape(self.prefix)}_\d{{6}}\.{ext}", old.name):
                    old.unlink()
        if self.format == "xdmf":
            atomic_write(self.directory / self._mesh_h5, self._write_mesh_h5)

    @staticmethod
    def _array(v, n: int, what: str) -> np.ndarray:
        if hasattr(v, "detach"):
            v = v.detach().cpu().numpy()
        a = np.asarray(v)
        if a.ndim not in (1, 2) or a.shape[0] != n:
            raise FemError(f"{what} must be ({n},) or ({n}, k), got {a.shape}")
        return a.astype(np.float64) if a.dtype.kind in "fc" else a

    def _pad_vector(self, a: np.ndarray) -> np.ndarray:
        d = self.mesh.dim
        if a.ndim == 2 and a.shape[1] == d and d < 3:
            out = np.zeros((a.shape[0], 3), dtype=a.dtype)
            out[:, :d] = a
            return out
        return a

    def _points3(self) -> np.ndarray:
        pts = np.zeros((self.mesh.n_points, 3))
        pts[:, : self.mesh.dim] = self.mesh.points
        return pts

    # -- VTU --------------------------------------------------------------------------------------
    def _write_vtu(self, tmp: Path, pdata: dict, cdata: dict) -> None:
        import meshio

        m = meshio.Mesh(self._points3(), [(self.mesh.cell_type, self.mesh.cells)],
                        point_data=pdata, cell_data={k: [v] for k, v in cdata.items()})
        meshio.write(tmp, m, file_format="vtu", compression=self.compression)
        names = {k: TENSOR_COMPONENTS[v.shape[1]] for k, v in cdata.items()
                 if k in TENSOR_FIELDS and v.ndim == 2 and v.shape[1] in TENSOR_COMPONENTS}
        if names:
            _name_components(tmp, names)

    def _write_index(self) -> None:
        if self.format == "vtu":
            _write_text(self.index, _pvd_text(self._frames))
        else:
            _write_text(self.index, self._xdmf_text())

    # -- XDMF -------------------------------------------------------------------------------------
    def _write_mesh_h5(self, tmp: Path) -> None:
        import h5py

        with h5py.File(tmp, "w") as f:
            f.create_dataset("points", data=self._points3())
            f.create_dataset("cells", data=self.mesh.cells.astype(np.int64))

    def _xdmf_fields(self, pdata: dict, cdata: dict) -> list[tuple[str, str, np.ndarray]]:
        """(center, name, array) of every attribute, tensors split into named scalar components."""
        out = [("Node", k, v) for k, v in pdata.items()]
        for k, v in cdata.items():
            if k in TENSOR_FIELDS and v.ndim == 2 and v.shape[1] in TENSOR_COMPONENTS:
                out += [("Cell", f"{k}_{c.lower()}", np.ascontiguousarray(v[:, i]))
                        for i, c in enumerate(TENSOR_COMPONENTS[v.shape[1]])]
            else:
                out.append(("Cell", k, v))
        return out

    def _write_h5(self, tmp: Path, pdata: dict, cdata: dict) -> None:
        import h5py

        with h5py.File(tmp, "w") as f:
            for center, name, a in self._xdmf_fields(pdata, cdata):
                f.create_dataset(f"{center.lower()}/{name}", data=a)

    def _xdmf_grid(self, t: float, fname: str, pdata: dict, cdata: dict) -> str:
        """The ``<Grid>`` element of one frame (mesh from ``{prefix}_mesh.h5``, fields from ``fname``)."""
        topo = _XDMF_TOPOLOGY[self.mesh.cell_type]
        nc, nn = self.mesh.cells.shape
        per = f' NodesPerElement="{nn}"' if topo == "Polyline" else ""
        lines = [f'      <Grid Name="{fname}" GridType="Uniform">', f'        <Time Value="{t!r}"/>',
                 f'        <Topology TopologyType="{topo}" NumberOfElements="{nc}"{per}>',
                 f'          <DataItem DataType="Int" Precision="8" Dimensions="{nc} {nn}" Format="HDF">'
                 f"{self._mesh_h5}:/cells</DataItem>", "        </Topology>",
                 '        <Geometry GeometryType="XYZ">',
                 f'          <DataItem DataType="Float" Precision="8" Dimensions="{self.mesh.n_points} 3" '
                 f'Format="HDF">{self._mesh_h5}:/points</DataItem>', "        </Geometry>"]
        for center, name, a in self._xdmf_fields(pdata, cdata):
            kind = "Scalar" if a.ndim == 1 else ("Vector" if a.shape[1] == 3 else "Matrix")
            dims = " ".join(str(s) for s in a.shape)
            dtype = "Float" if a.dtype.kind == "f" else ("UInt" if a.dtype.kind == "u" else "Int")
            lines += [f'        <Attribute Name="{name}" AttributeType="{kind}" Center="{center}">',
                      f'          <DataItem DataType="{dtype}" Precision="{a.dtype.itemsize}" '
                      f'Dimensions="{dims}" Format="HDF">{fname}:/{center.lower()}/{name}</DataItem>',
                      "        </Attribute>"]
        lines.append("      </Grid>")
        return "\n".join(lines)

    def _xdmf_text(self) -> str:
        head = ['<?xml version="1.0"?>', '<Xdmf Version="3.0" xmlns:xi="http://www.w3.org/2001/XInclude">',
                "  <Domain>", '    <Grid Name="TimeSeries" GridType="Collection" CollectionType="Temporal">']
        grids = [self._grids[f] for _, f in self._frames]
        return "\n".join(head + grids + ["    </Grid>", "  </Domain>", "</Xdmf>", ""])


_XDMF_TOPOLOGY = {"line": "Polyline", "triangle": "Triangle", "quad": "Quadrilateral",
                  "tetra": "Tetrahedron", "hexahedron": "Hexahedron"}


def _name_components(path: Path, names: dict[str, tuple[str, ...]]) -> None:
    """Add ``ComponentName{i}`` attributes to the DataArrays ``names`` of a VTU file in place.

    Only the opening tags are edited (a byte-level substitution: base64 data never contains ``<``), so
    this costs a copy of the file, not an XML parse of it.
    """
    data = path.read_bytes()

    def tag(m: re.Match) -> bytes:
        comps = names[m.group(2).decode()]
        k = re.search(rb'NumberOfComponents="(\d+)"', m.group(0))
        if k is None or int(k.group(1)) != len(comps):
            return m.group(0)
        extra = b"".join(b' ComponentName%d="%s"' % (i, c.encode()) for i, c in enumerate(comps))
        return m.group(0)[:-1] + extra + b">"

    alternatives = b"|".join(re.escape(n.encode()) for n in names)
    data = re.sub(rb'<DataArray\b([^>]*)\bName="(' + alternatives + rb')"[^>]*>', tag, data)
    path.write_bytes(data)


def _pvd_text(frames: list[tuple[float, str]]) -> str:
    rows = "".join(f'    <DataSet timestep="{t!r}" group="" part="0" file="{f}"/>\n' for t, f in frames)
    return ('<?xml version="1.0"?>\n<VTKFile type="Collection" version="0.1" byte_order="LittleEndian">\n'
            f"  <Collection>\n{rows}  </Collection>\n</VTKFile>\n")


def read_pvd(path) -> list[tuple[float, Path]]:
    """The frames ``[(time, vtu path), ...]`` listed in a ``.pvd`` file (paths resolved beside it)."""
    path = Path(path)
    root = ET.parse(path).getroot()
    return [(float(d.get("timestep")), path.parent / d.get("file")) for d in root.iter("DataSet")]


def read_xdmf_last_frame(index, point: tuple[str, ...] = (), cell: tuple[str, ...] = ()) -> dict:
    """Read an XDMF series with VTK's own XDMF reader (what ParaView uses; needs the ``vtk`` package, the
    test extra): ``{"times": (k,), "n_cells": int, name: array}`` with the last frame's point arrays
    ``point`` ((n_points, c)) and cell arrays ``cell`` ((n_cells, c) or (n_cells,))."""
    import vtk
    from vtk.util.numpy_support import vtk_to_numpy

    reader = vtk.vtkXdmfReader()
    reader.SetFileName(str(index))
    reader.UpdateInformation()
    times = reader.GetOutputInformation(0).Get(vtk.vtkStreamingDemandDrivenPipeline.TIME_STEPS())
    reader.UpdateTimeStep(times[-1])
    grid = reader.GetOutputDataObject(0)
    while not hasattr(grid, "GetPointData"):        # a collection: its first block
        grid = grid.GetBlock(0)
    out = {"times": np.asarray(times), "n_cells": grid.GetNumberOfCells()}
    out.update({n: vtk_to_numpy(grid.GetPointData().GetArray(n)) for n in point})
    out.update({n: vtk_to_numpy(grid.GetCellData().GetArray(n)) for n in cell})
    return out


def _read_xdmf_frames(path: Path) -> tuple[list[tuple[float, str]], dict[str, str]]:
    """Frames ``[(time, h5 name)]`` and their ``<Grid>`` XML from an ``.xdmf`` written by FieldWriter."""
    root = ET.parse(path).getroot()
    frames, grids = [], {}
    for grid in root.iter("Grid"):
        time, name = grid.find("Time"), grid.get("Name", "")
        if time is not None and name.endswith(".h5"):
            frames.append((float(time.get("Value")), name))
            grids[name] = "      " + ET.tostring(grid, encoding="unicode").strip()
    return frames, grids


# ---------------------------------------------------------------------------------------------
# histories
#: energy columns and the units of their CSV headers
_ENERGY_COLUMNS = (("time", "time_s"), ("step", "step"), ("kinetic", "kinetic_J"), ("internal", "internal_J"),
                   ("external", "external_J"), ("damping", "damping_J"), ("balance_error", "balance_error"))
_EXTRA_COLUMNS = {"dt_critical": "dt_critical_s", "dt_margin": "dt_margin"}  # with monitor_every


def _csv(header: list[str], columns: list[np.ndarray]) -> str:
    rows = [",".join(header)]
    for values in zip(*columns):
        rows.append(",".join(str(int(v)) if isinstance(v, (np.integer, int)) else repr(float(v)) for v in values))
    return "\n".join(rows) + "\n"


def write_energy_csv(path, energies: dict) -> Path:
    """Write the energy history atomically; returns the path.

    energies : ``Result.energies``, name -> (n_rows,) arrays with names ``time, step, kinetic,
    internal, external, damping, balance_error`` (extra names are appended as further columns;
    ``dt_critical`` and ``dt_margin`` from ``solve(monitor=Monitor(every=...))`` as ``dt_critical_s, dt_margin``).
    Header ``time_s,step,kinetic_J,internal_J,external_J,damping_J,balance_error``; values are
    written with full float64 precision.
    """
    missing = [k for k, _ in _ENERGY_COLUMNS if k not in energies]
    if missing:
        raise FemError(f"energies lack {missing}; expected the keys {[k for k, _ in _ENERGY_COLUMNS]}")
    n = len(energies["time"])
    keys = [k for k, _ in _ENERGY_COLUMNS] + [k for k in energies if k not in dict(_ENERGY_COLUMNS)]
    header = [dict(_ENERGY_COLUMNS).get(k, _EXTRA_COLUMNS.get(k, k)) for k in keys]
    cols = []
    for k in keys:
        a = np.asarray(energies[k]).reshape(-1)
        if len(a) != n:
            raise FemError(f"energies[{k!r}] has {len(a)} rows, energies['time'] has {n}")
        cols.append(a.astype(np.int64) if k == "step" else a.astype(np.float64))
    return _write_text(path, _csv(header, cols))


def write_probes_csv(path, probes: dict) -> Path:
    """Write probe histories atomically; returns the path.

    probes : ``Result.probes``, ``{"time": (m,), NAME: (m, dim), ...}`` (mean displacement of the
    probe's nodes). Columns ``time_s, NAME_ux_m, NAME_uy_m, ...`` in the order of ``probes``.
    """
    if "time" not in probes:
        raise FemError(f"probes must have a 'time' entry, got keys {sorted(probes)}")
    t = np.asarray(probes["time"], dtype=np.float64).reshape(-1)
    header, cols = ["time_s"], [t]
    for name, u in probes.items():
        if name == "time":
            continue
        u = np.asarray(u, dtype=np.float64)
        u = u[:, None] if u.ndim == 1 else u
        if u.shape[0] != len(t):
            raise FemError(f"probe {name!r} has {u.shape[0]} rows, time has {len(t)}")
        for c in range(u.shape[1]):
            header.append(f"{name}_u{_AXES[c]}_m")
            cols.append(u[:, c])
    return _write_text(path, _csv(header, cols))


def plot_energies(path, energies: dict, *, title: str | None = None) -> Path:
    """Plot the energy history (matplotlib Agg) and save it atomically; returns the path.

    energies: rows as (n,) sequences ``time`` (s), ``kinetic``, ``internal``, ``external``, ``damping`` (J).
    Top panel (linear): kinetic, internal, external work and damping dissipation (J) against time (s, ms
    or µs by the span). Bottom panel (log): the terms that are small beside the energies and would lie on
    zero in the top panel — the dissipation and the balance residual
    ``|kinetic + internal − external + damping − E_0|`` (J) — with the run's peak energy as a reference
    line, so the residual's size relative to it reads off directly. The format follows the suffix.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    t = np.asarray(energies["time"], dtype=np.float64)
    span = float(np.max(np.abs(t))) if len(t) else 1.0
    unit, scale = next(((u, f) for u, f in (("s", 1.0), ("ms", 1e3), ("µs", 1e6)) if span * f >= 1.0), ("ns", 1e9))
    t = t * scale
    fig = Figure(figsize=(7.0, 6.0), constrained_layout=True)
    ax, ax_log = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 2]})
    # external work is drawn wide and pale underneath, internal dashed on top: in a quasi-static run the
    # two coincide, and both stay visible
    curves = [("external", "external work", dict(color="tab:green", lw=4.0, alpha=0.35)),
              ("internal", "internal (stored)", dict(color="tab:orange", lw=1.6, ls="--")),
              ("kinetic", "kinetic", dict(color="tab:blue", lw=1.4)),
              ("damping", "damping dissipation", dict(color="tab:red", lw=1.4, ls=":"))]
    for key, label, style in curves:
        if key in energies:
            ax.plot(t, energies[key], label=label, **style)
    ax.set_ylabel("energy (J)")
    ax.legend(loc="best", fontsize="small")
    ax.grid(True, alpha=0.3)
    if title:
        ax.set_title(title)
    k, i, x, d = (np.asarray(energies[key], dtype=np.float64) for key in ("kinetic", "internal", "external", "damping"))
    residual = np.abs(k + i - x + d - (k[0] + i[0])) if len(k) else k
    peak = max([float(np.max(np.abs(a))) for a in (k, i, x, d) if len(a)] + [0.0])
    positive = lambda a: np.where(np.isfinite(a) & (a > 0), a, np.nan)  # noqa: E731 - log scale: no zeros
    drawn = False
    if np.any(d > 0):
        ax_log.plot(t, positive(d), color="tab:red", lw=1.4, ls=":", label="damping dissipation")
        drawn = True
    if np.any(residual > 0):
        ax_log.plot(t, positive(residual), color="tab:purple", lw=1.2, label="|balance residual|")
        drawn = True
    if peak > 0 and np.isfinite(peak):
        ax_log.axhline(peak, color="0.4", lw=0.8, ls="--", label=f"peak energy of the run ({peak:.3g} J)")
        drawn = True
    if drawn:
        ax_log.set_yscale("log")
        ax_log.legend(loc="best", fontsize="small")
    else:
        ax_log.text(0.5, 0.5, "no dissipation and a zero residual", ha="center", va="center",
                    transform=ax_log.transAxes)
    ax_log.set_ylabel("J (log scale)")
    ax_log.set_xlabel(f"time ({unit})")
    ax_log.grid(True, alpha=0.3, which="both")
    fmt = Path(path).suffix.lstrip(".") or "png"
    return atomic_write(path, lambda tmp: fig.savefig(tmp, format=fmt, dpi=120))
