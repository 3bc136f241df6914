"""A 1D law held below a stiffening curve's end by its slope cap is reported, with a cap that fixes it."""
from __future__ import annotations

import json
import re

import numpy as np
import pytest

from lipmat.fitting import fit
from lipmat.fitting.data import UniaxialCurve
from lipmat.fitting.diagnostics import end_tangent, stiffening_warnings

#: A stiffening curve: σ = A (exp(bε) − 1), end slope A b exp(b·0.5) = 2.41e7 Pa, largest chord 2.27e7 Pa.
STRAIN = np.linspace(0.0, 0.5, 26)
STRESS = 2e5 * (np.exp(6.0 * STRAIN) - 1.0)
SHORT = dict(epochs=800, lbfgs_steps=100, progress=False)


def curve() -> UniaxialCurve:
    return UniaxialCurve(STRAIN.copy(), STRESS.copy(), {"file": "stiffening.csv"})


def test_end_tangent_is_exact_for_a_parabola_and_finds_the_steeper_end():
    x = np.array([-0.3, -0.1, 0.0, 0.2, 0.5, 0.6])
    y = 3e6 * x**2 + 1e6 * x
    slope, k = end_tangent(x, y)
    assert k == 5 and slope == pytest.approx(2 * 3e6 * 0.6 + 1e6, rel=1e-12)
    slope, k = end_tangent(-x[::-1], -y[::-1])          # the odd mirror: the steep end in compression
    assert k == 0 and slope == pytest.approx(2 * 3e6 * 0.6 + 1e6, rel=1e-12)


def test_a_law_that_reaches_the_end_point_is_not_reported_whatever_the_tangent():
    assert stiffening_warnings([("c", STRAIN, STRESS)], [STRESS * 0.99], bound=1.0, cap=1.0) == []
    assert stiffening_warnings([("c", STRAIN, STRESS)], [STRESS * 0.9], bound=1e9, cap=1e9) == []
    assert len(stiffening_warnings([("c", STRAIN, STRESS)], [STRESS * 0.9], bound=1e7, cap=3e7)) == 1


def test_a_cap_below_the_end_tangent_is_reported_with_a_cap_that_fixes_the_fit():
    capped = fit("uniaxial", curve(), max_stiffness=1.5e7, **SHORT).report
    assert len(capped.warnings) == 1
    text = capped.warnings[0]
    assert "stiffening.csv" in text and "--max-stiffness" in text
    suggested = float(re.search(r"--max-stiffness (\S+)", text).group(1))
    tangent = end_tangent(STRAIN, STRESS)[0]
    assert 2 * tangent <= suggested <= 2.1 * tangent
    refit = fit("uniaxial", curve(), max_stiffness=suggested, **SHORT).report
    assert refit.warnings == [] and refit.r2 > 0.99999 and refit.r2 > capped.r2
    default = fit("uniaxial", curve(), **SHORT).report               # 1.1 × the largest chord reaches here
    assert default.warnings == [] and default.r2 > 0.99999


def test_the_command_prints_the_warning_and_json_carries_it(tmp_path, capsys):
    from lipmat.cli import main

    path = tmp_path / "stiffening.csv"
    path.write_text("strain,stress_Pa\n" + "".join(f"{a!r},{b!r}\n" for a, b in zip(STRAIN.tolist(), STRESS.tolist())))
    args = ["fit", str(path), "--max-stiffness", "1.5e7", "--epochs", "800", "--lbfgs", "100", "--no-progress"]
    assert main([*args, "--out", str(tmp_path / "a.pt")]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^  warning: .*stiffening\.csv: the law ends \d+ % below the data.*--max-stiffness", out, re.M)
    assert main([*args, "--out", str(tmp_path / "b.pt"), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert len(report["warnings"]) == 1 and "--max-stiffness" in report["warnings"][0]


def test_the_1d_figure_draws_the_prediction_the_metrics_use():
    """The σ(ε) figure's fitted line is stress_strain.predict on its grid, and the R² in its label is the
    report's (the same function, one code path)."""
    import matplotlib.pyplot as plt
    import torch

    from lipmat.fitting.plots import fit_figure, plot_range
    from lipmat.fitting.stress_strain import _as_sets, predict

    result = fit("uniaxial", curve(), epochs=100, lbfgs_steps=10, progress=False)
    (s,) = _as_sets([curve()])
    fig = fit_figure(result.model, [s])
    solid, dashed = [ln for ln in fig.axes[0].get_lines() if "(fit" in ln.get_label() or "extrapolation" in ln.get_label()]
    x = np.asarray(solid.get_xdata(), dtype=float)
    drawn = np.where(np.isnan(solid.get_ydata()), dashed.get_ydata(), solid.get_ydata())
    grid = torch.linspace(*plot_range(s.x.numpy()), 600, dtype=torch.float64)     # the figure's own grid
    assert np.array_equal(x, 1.0 + grid.numpy())
    with torch.no_grad():
        expected = predict(result.model, type(s)(s.kind, grid, torch.zeros_like(grid), s.name, s.provenance,
                                                   s.kinematics, s.load_case)).numpy() / 1e6
    assert np.array_equal(drawn, expected)
    assert f"R² {result.report.r2:.4f}" in solid.get_label()
    plt.close(fig)
