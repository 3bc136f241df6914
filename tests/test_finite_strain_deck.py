"""Finite-strain laws in decks (inline fem.materials.hyperelastic laws and model files) and in `lipmat dt`."""
import numpy as np
import pytest
import torch

import fem
from fem.deck import parse_deck, run_deck
from fem.core.errors import DeckError

from _finite_strain_helpers import Box, NeoHookean

MESH_2D = """
[mesh]
generator = "rectangle"
lx = 2.0
ly = 1.0
nx = 4
ny = 2
cell = "quad"
"""
MESH_3D = """
[mesh]
generator = "box"
lx = 2.0
ly = 1.0
lz = 1.0
nx = 2
ny = 1
nz = 1
cell = "hexahedron"
"""
MESH_1D = """
[mesh]
generator = "bar"
lx = 1.0
nx = 4
"""
REST = """
density = 1000.0
[[bc]]
where = "left"
[[bc]]
where = "right"
type = "velocity"
component = "x"
value = 1.0
[time]
end = 4e-3
dt = "certified"
[output]
fields = false
plot = false
energy_csv = false
"""


def _deck(mesh, material, rest=REST, **kw):
    return parse_deck(mesh + "[material]\n" + material + rest, **kw)


def test_inline_neo_hookean_plane_strain_deck_runs_and_writes_finite_strain_fields(tmp_path):
    deck = _deck(MESH_2D, 'type = "neo_hookean"\nmu = 1e6\nnu = 0.45\ndomain = [0.5, 2.0, 0.8, 1.25]\n',
                 rest=REST.replace("fields = false", 'fields = true\nevery = 2'))
    mat = deck.problem.material
    assert isinstance(mat, fem.materials.hyperelastic.NeoHookean) and mat.shear_modulus == 1e6
    assert mat.domain.as_dict() == {"lam_lo": 0.5, "lam_hi": 2.0, "J_lo": 0.8, "J_hi": 1.25}
    run = run_deck(deck, out_dir=tmp_path)
    res = run.result
    assert res.status == "completed", res.message
    assert res.dt_certified is not None and res.dt <= res.dt_certified
    # the right edge moved 4 mm at 1 m/s: the final state stretched the bar
    ux = res.final.u.reshape(-1, 2)[:, 0]
    assert float(ux.max()) == pytest.approx(4e-3, rel=1e-9)
    frames = fem.read_pvd(next(tmp_path.glob("*.pvd")))
    import meshio

    cells = meshio.read(frames[-1][1]).cell_data
    assert {"green_lagrange_strain", "cauchy_stress", "volume_ratio"} <= set(cells)


@pytest.mark.parametrize("material, cls, params, G, K", [
    ('type = "ogden"\nmu = [4e5, 1e4]\nalpha = [1.8, 5.0]\nK = 1e7\n', "Ogden",
     {"mu": (4e5, 1e4), "alpha": (1.8, 5.0)}, 0.5 * (4e5 * 1.8 + 1e4 * 5.0), 1e7),
    ('type = "mooney_rivlin"\nC10 = 3e5\nC01 = 5e4\nnu = 0.45\n', "MooneyRivlin",
     {"C10": 3e5, "C01": 5e4}, 2 * (3e5 + 5e4), 2 * 7e5 * 1.45 / (3 * (1 - 2 * 0.45))),
    ('type = "yeoh"\nC1 = 3e5\nC2 = -1e3\nC3 = 100.0\nK = 1e7\n', "Yeoh",
     {"C1": 3e5, "C2": -1e3, "C3": 100.0}, 2 * 3e5, 1e7),
])
def test_inline_laws_load_in_3d(material, cls, params, G, K):
    """Each inline law is the class named, with the deck's parameters, the small-strain moduli they
    imply, and (no ``domain`` key) the default certified domain."""
    mat = _deck(MESH_3D, material).problem.material
    assert type(mat) is getattr(fem.materials.hyperelastic, cls) and mat.finite_strain
    assert {k: getattr(mat, k) for k in params} == params
    assert mat.shear_modulus == pytest.approx(G, rel=1e-12) and mat.bulk_modulus == pytest.approx(K, rel=1e-12)
    assert mat.domain == fem.materials.hyperelastic.DEFAULT_DOMAIN
    assert mat.domain.as_dict() == {"lam_lo": 0.4, "lam_hi": 3.0, "J_lo": 0.8, "J_hi": 1.25}


@pytest.mark.parametrize("material, match", [
    ('type = "neo_hookean"\nmu = 1e6\nnu = 0.45\ndomain = [0.5, 2.0]\n',
     r"deck\.toml: \[material\]: domain must be \[lam_lo, lam_hi, J_lo, J_hi\] or false, got list \[0\.5, 2\.0\]$"),
    ('type = "neo_hookean"\nmu = 1e6\nnu = 0.45\ndomain = [1.5, 2.0, 0.8, 1.25]\n',
     r"\[material\]: StretchDomain: expected 0 < lam_lo <= 1 <= lam_hi, received lam_lo=1\.5, lam_hi=2\.0$"),
    ('type = "neo_hookean"\nmu = 1e6\nnu = 0.45\nK = 1e7\n',
     r"\[material\]: NeoHookean: choose the bulk modulus with exactly one of K \(Pa\) or nu .*received K=10000000\.0, "
     r"nu=0\.45"),
    ('type = "ogden"\nmu = 1e6\nalpha = [2.0]\nnu = 0.45\n',
     r"\[material\]: mu must be a non-empty list of numbers, got float 1000000\.0$"),
    ('type = "neo_hookean"\nmu = 1e6\nnu = 0.45\nE = 3.0\n',
     r"\[material\]: unknown key 'E'; valid keys here: K, density, domain, mu, nu, plane_stress, type$"),
])
def test_deck_errors_are_located(material, match):
    """Each error names the deck, the table, what was expected and what was found."""
    with pytest.raises(DeckError, match=match):
        _deck(MESH_2D, material)


def test_finite_strain_law_refused_on_a_bar():
    with pytest.raises(DeckError, match=r"\[material\]: NeoHookean is a finite-strain law \(F in, P out\) and runs on "
                                        r"plane-strain or 3D meshes; .*; the mesh is 1D \(line\)$"):
        _deck(MESH_1D, 'type = "neo_hookean"\nmu = 1e6\nnu = 0.45\n', rest=REST.replace('component = "x"\n', ""))


def test_without_a_domain_a_numeric_dt_is_needed():
    deck = _deck(MESH_2D, 'type = "neo_hookean"\nmu = 1e6\nnu = 0.45\ndomain = false\n')
    assert deck.problem.material.domain is None
    with pytest.raises(fem.FemError, match=r"dt='certified' needs a stiffness certificate: NeoHookean has no global "
                                           r"stiffness bound \(NeoHookean has no certified domain \(domain=None\).*"
                                           r"give dt as a number$"):
        run_deck(deck)
    deck = _deck(MESH_2D, 'type = "neo_hookean"\nmu = 1e6\nnu = 0.45\ndomain = false\n',
                 rest=REST.replace('dt = "certified"', "dt = 1e-4"))
    assert run_deck(deck).result.status == "completed"


@pytest.mark.parametrize("mesh", [MESH_2D, MESH_3D])
def test_model_file_with_a_finite_strain_law(mesh, tmp_path):
    """``model = "x.pt"``: whatever the loader returns runs when it is a finite-strain law supporting
    the mesh's kinematics (plane strain and 3D)."""
    (tmp_path / "rubber.pt").write_bytes(b"")
    law = NeoHookean(mu=1e6, lam=4e6, domain=Box(0.5, 2.0, 0.6, 1.6))
    deck = _deck(mesh, 'model = "rubber.pt"\n', path=tmp_path / "deck.toml", material_loader=lambda p: law)
    res = run_deck(deck).result
    assert res.status == "completed", res.message
    assert res.dt_certified is not None


def test_lipmat_dt_compute_for_a_finite_strain_law():
    """`lipmat dt`'s numbers for a finite-strain law: certified (scalar a_b on B₀) ≤ measured critical
    step at the reference state, and the measured one matches a dense eigen-solve of M⁻¹K(0)."""
    from lipmat.cli.dt import compute

    mesh = fem.rectangle(2.0, 1.0, 4, 2, cell="quad")
    law = NeoHookean(mu=1e6, lam=4e6, domain=Box(0.7, 1.5, 0.6, 1.6))
    r = compute(mesh, law, 1000.0, method="element")
    assert r["kinematics"] == "plane_strain"
    assert r["dt_certified"] <= r["dt_critical"]
    a = fem.Assembly(mesh, mode="gradient")
    lin = law.small_strain_twin("plane_strain")
    from fem.stability.timestep import exact_time_step

    assert r["dt_critical"] == pytest.approx(exact_time_step(fem.Assembly(mesh), lin.linear_stiffness(), 1000.0),
                                             rel=1e-6)
    assert a.n_dofs == r["n_dofs"]
