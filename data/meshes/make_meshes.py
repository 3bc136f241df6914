"""Regenerate the Gmsh meshes shipped in data/meshes/ (needs the `gmsh` wheel: `pip install gmsh`).

gmsh is not a dependency of lipmat/fem: the .msh files are shipped, this script only documents how
they were made. Units are metres. Run from anywhere:

    python data/meshes/make_meshes.py            # writes the three .msh files beside this script
                                                 # (and rubber_sheet.vtu, which needs no gmsh)

Meshes (Gmsh 4.1 ASCII format, physical groups named as listed):
- plate_with_hole.msh       2D triangles: 0.2 x 0.1 plate, central hole of radius 0.02;
                            curves left, right, bottom, top, hole; surface plate.
- plate_with_hole_quad.msh  the same geometry meshed with quadrilaterals only.
- beam.msh                  3D tetrahedra: 1.0 x 0.05 x 0.05 beam along x;
                            surfaces fixed (x = 0), free (x = 1); volume beam.
- rubber_sheet.vtu          2D quads: 0.1 x 0.1 sheet, central hole of radius 0.0125, structured O-grid
                            (lipmat.demo.sheet.sheet_mesh, 192 quads); node sets left, right, bottom,
                            top, hole, mid_left, mid_right stored as VTU point masks (fem.Mesh.read).
"""
from __future__ import annotations

import sys
from pathlib import Path

try:
    import gmsh
except ImportError:         # rubber_sheet.vtu needs no gmsh
    gmsh = None

HERE = Path(__file__).resolve().parent


def _start(name: str) -> None:
    gmsh.initialize(["-noenv"])
    gmsh.option.setNumber("General.Terminal", 0)
    gmsh.option.setNumber("Mesh.MshFileVersion", 4.1)
    gmsh.option.setNumber("Mesh.Binary", 0)
    gmsh.model.add(name)


def _boundary_groups_2d(lx: float, ly: float, tol: float = 1e-6) -> None:
    """Name the plate's outer edges by position and the remaining curves 'hole'."""
    groups = {"left": [], "right": [], "bottom": [], "top": [], "hole": []}
    for _, tag in gmsh.model.getEntities(1):
        x0, y0, _, x1, y1, _ = gmsh.model.getBoundingBox(1, tag)
        if abs(x0) < tol and abs(x1) < tol:
            groups["left"].append(tag)
        elif abs(x0 - lx) < tol and abs(x1 - lx) < tol:
            groups["right"].append(tag)
        elif abs(y0) < tol and abs(y1) < tol:
            groups["bottom"].append(tag)
        elif abs(y0 - ly) < tol and abs(y1 - ly) < tol:
            groups["top"].append(tag)
        else:
            groups["hole"].append(tag)
    for name, tags in groups.items():
        gmsh.model.addPhysicalGroup(1, tags, name=name)
    gmsh.model.addPhysicalGroup(2, [t for _, t in gmsh.model.getEntities(2)], name="plate")


def plate_with_hole(path: Path, *, quads: bool = False, lx=0.2, ly=0.1, r=0.02, h=0.006) -> None:
    _start(path.stem)
    occ = gmsh.model.occ
    plate = occ.addRectangle(0, 0, 0, lx, ly)
    hole = occ.addDisk(lx / 2, ly / 2, 0, r, r)
    occ.cut([(2, plate)], [(2, hole)])
    occ.synchronize()
    _boundary_groups_2d(lx, ly)
    gmsh.option.setNumber("Mesh.MeshSizeMax", h)
    gmsh.option.setNumber("Mesh.MeshSizeMin", h / 3)
    # finer at the hole: size grows linearly from h/3 at the hole to h at 2r from it
    f = gmsh.model.mesh.field
    d = f.add("Distance")
    f.setNumbers(d, "CurvesList", [t for _, t in gmsh.model.getEntities(1)
                                   if gmsh.model.getBoundingBox(1, t)[0] > 1e-6
                                   and gmsh.model.getBoundingBox(1, t)[3] < lx - 1e-6])
    th = f.add("Threshold")
    f.setNumber(th, "InField", d)
    f.setNumber(th, "SizeMin", h / 3)
    f.setNumber(th, "SizeMax", h)
    f.setNumber(th, "DistMin", 0.0)
    f.setNumber(th, "DistMax", 2 * r)
    f.setAsBackgroundMesh(th)
    if quads:
        gmsh.option.setNumber("Mesh.RecombineAll", 1)
        gmsh.option.setNumber("Mesh.Algorithm", 8)            # frontal-Delaunay for quads
        gmsh.option.setNumber("Mesh.SubdivisionAlgorithm", 1)  # all quads, no leftover triangles
    gmsh.model.mesh.generate(2)
    gmsh.write(str(path))
    gmsh.finalize()


def beam(path: Path, *, length=1.0, width=0.05, height=0.05, h=0.0125) -> None:
    _start(path.stem)
    occ = gmsh.model.occ
    vol = occ.addBox(0, 0, 0, length, width, height)
    occ.synchronize()
    fixed, free = [], []
    for _, tag in gmsh.model.getEntities(2):
        x0, _, _, x1, _, _ = gmsh.model.getBoundingBox(2, tag)
        if abs(x0) < 1e-6 and abs(x1) < 1e-6:
            fixed.append(tag)
        elif abs(x0 - length) < 1e-6 and abs(x1 - length) < 1e-6:
            free.append(tag)
    gmsh.model.addPhysicalGroup(2, fixed, name="fixed")
    gmsh.model.addPhysicalGroup(2, free, name="free")
    gmsh.model.addPhysicalGroup(3, [vol], name="beam")
    gmsh.option.setNumber("Mesh.MeshSizeMax", h)
    gmsh.model.mesh.generate(3)
    gmsh.write(str(path))
    gmsh.finalize()


def rubber_sheet(path: Path) -> None:
    """The sheet of lipmat.demo.sheet (examples/rubber_sheet.py, lipmat demo) as a VTU file."""
    from lipmat.demo.sheet import SheetSetup, sheet_mesh

    sheet_mesh(SheetSetup()).to_meshio().write(path)


def main(argv=None) -> int:
    out = Path(argv[0]) if argv else HERE
    rubber_sheet(out / "rubber_sheet.vtu")
    if gmsh is None:
        print("gmsh is not installed (pip install gmsh): only rubber_sheet.vtu was written")
    else:
        plate_with_hole(out / "plate_with_hole.msh")
        plate_with_hole(out / "plate_with_hole_quad.msh", quads=True)
        beam(out / "beam.msh")
    for p in sorted([*out.glob("*.msh"), *out.glob("*.vtu")]):
        print(f"{p.name}: {p.stat().st_size / 1024:.0f} KiB")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
