"""Files: field series for ParaView, CSV histories, checkpoints, and writes that never leave a torn file.

- :mod:`fem.io.atomic` — :func:`atomic_write` and the checks of an output target.
- :mod:`fem.io.output` — :class:`FieldWriter` (XDMF/VTU series) and its read-back; the output folder check.
- :mod:`fem.io.histories` — energy and probe CSVs, the energy plot.
- :mod:`fem.io.checkpoint` — save and load a run's state for restart.

May import: fem.core.
"""
from fem.io.atomic import atomic_write
from fem.io.output import FieldWriter, read_pvd
from fem.io.histories import plot_energies, write_energy_csv, write_probes_csv
from fem.io.checkpoint import load_checkpoint, save_checkpoint

__all__ = ["atomic_write", "FieldWriter", "plot_energies", "read_pvd", "write_energy_csv", "write_probes_csv",
           "load_checkpoint", "save_checkpoint"]
