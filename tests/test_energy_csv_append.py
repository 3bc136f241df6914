"""A deck run's energy CSV brought up to date at every frame: appended rows give the same file as one
atomic write of every row, and a restart's first write replaces the stopped run's rows."""
import math

from fem.deck.run import _SeriesWithEnergy
from fem.io.histories import energy_csv_text, write_energy_csv


def row(n, extra=False):
    r = {"time": 1e-3 * n, "step": n, "kinetic": 0.5 / (n + 1), "internal": math.pi * n, "external": 1.0 / 3.0,
         "damping": 1e-17 * n, "balance_error": 2.0 ** -n, "scheme_error": math.nan}
    if extra:
        r.update(dt_critical=1.1e-3, dt_margin=1.1)
    return r


def columns(rows):
    return {k: [r[k] for r in rows] for k in rows[0]}


def test_appended_rows_equal_one_atomic_write(tmp_path):
    for extra in (False, True):
        path = tmp_path / f"energy_{extra}.csv"
        rows = []
        series = _SeriesWithEnergy(None, rows, path)
        series.flush()
        assert not path.exists()                    # nothing to write yet
        for chunk in ([0, 5], [10], [], [15, 20, 25]):
            rows.extend(row(n, extra) for n in chunk)
            series.flush()
            assert path.read_text() == energy_csv_text(columns(rows))
        text = path.read_text()
        write_energy_csv(tmp_path / "whole.csv", columns(rows))
        assert text == (tmp_path / "whole.csv").read_text()
        assert text.count("\n") == len(rows) + 1


def test_a_restart_replaces_the_rows_of_the_stopped_run(tmp_path):
    path = tmp_path / "energy.csv"
    stopped = [row(n) for n in range(0, 60, 5)]
    write_energy_csv(path, columns(stopped))        # the killed run got further than its checkpoint
    rows = stopped[:6]                              # the checkpoint's rows
    series = _SeriesWithEnergy(None, rows, path)
    rows.append(row(30))
    series.flush()
    assert path.read_text() == energy_csv_text(columns(rows))
    rows.append(row(35))
    series.flush()
    assert path.read_text() == energy_csv_text(columns(rows))
