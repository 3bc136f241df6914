"""`plane_stress = true` in a deck's [material]: the law wrapped in plane stress on a 2D mesh, a run of a
sheet, and located errors for a 1D/3D mesh, a small-strain law and a value that is not a boolean."""
import pytest
import torch

from fem.core.errors import DeckError
from fem.deck import parse_deck, run_deck
from fem.materials.hyperelastic import NeoHookean, PlaneStress

from test_finite_strain_deck import MESH_1D, MESH_2D, MESH_3D, REST

NH = 'type = "neo_hookean"\nmu = 4e5\nK = 4e6\n'


def _deck(mesh, material, rest=REST, **kw):
    return parse_deck(mesh + "[material]\n" + material + rest, **kw)


def test_plane_stress_key_wraps_the_law_and_a_sheet_runs(tmp_path):
    """The deck's material is PlaneStress(NeoHookean) with the law's bound; the stretched sheet runs to the
    end and thins (λ₃ < 1 where it is pulled)."""
    deck = _deck(MESH_2D, NH + "plane_stress = true\n", path=tmp_path / "sheet.toml")
    mat = deck.problem.material
    assert isinstance(mat, PlaneStress) and isinstance(mat.law, NeoHookean)
    assert mat.stiffness_bound("plane_strain") < mat.law.stiffness_bound("3d")
    plain = _deck(MESH_2D, NH + "plane_stress = false\n", path=tmp_path / "strain.toml").problem.material
    assert isinstance(plain, NeoHookean)
    run = run_deck(deck)
    assert run.result.status == "completed", run.result.message
    from fem import Assembly
    a = Assembly(deck.problem.mesh, mode="gradient")
    f = a.strain(run.result.final.u).reshape(a.n_cells, a.nq, 2, 2) + torch.eye(2, dtype=torch.float64)
    assert float(mat.thickness_stretch(f).min()) < 1.0


@pytest.mark.parametrize("mesh, material, message", [
    (MESH_3D, NH + "plane_stress = true\n", r"plane_stress = true applies to 2D meshes .*this mesh is 3D"),
    (MESH_1D, NH + "plane_stress = true\n", r"plane_stress = true applies to 2D meshes .*this mesh is 1D"),
    (MESH_2D, 'type = "linear_elastic"\nE = 1e6\nplane_stress = true\n',
     r"plane_stress = true needs a finite-strain law .*LinearElastic"),
    (MESH_2D, NH + 'plane_stress = "yes"\n', r"plane_stress.*true or false"),
])
def test_plane_stress_key_errors_are_located(tmp_path, mesh, material, message):
    with pytest.raises(DeckError, match=message) as info:
        _deck(mesh, material, path=tmp_path / "bad.toml")
    assert "[material]" in str(info.value) and "bad.toml" in str(info.value)
