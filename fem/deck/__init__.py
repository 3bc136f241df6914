"""TOML input decks: a whole explicit simulation in one file.

``load_deck(path, material_loader=None) -> Deck`` reads and checks a deck and builds the
:class:`fem.solver.problem.Problem` and the solve settings; :func:`run_deck` runs it and writes the outputs.
Everything is checked before anything runs: unknown keys (at any level) are errors that name the
table and suggest the nearest valid key; wrong types, missing keys, unknown set names, selectors that
select nothing, missing files and a material whose kinematics does not match the mesh each raise a
:class:`~fem.core.errors.DeckError` that says where (file and table) and what was expected. Relative paths
in the deck are relative to the deck's folder. Selectors are turned into node ids once, at load, with
the deck's tolerance; the run uses exactly those nodes.

Layout: :mod:`fem.deck.table` (typed TOML access, located errors, "did you mean"),
:mod:`fem.deck.reader` (the tables -> :class:`Deck`; :data:`MATERIALS`), :mod:`fem.deck.conditions`
(selections, boundary conditions, loads, amplitudes, initial fields), :mod:`fem.deck.settings`
(:class:`Deck`, :class:`OutputSettings`), :mod:`fem.deck.run` (:func:`run_deck`), :mod:`fem.deck.expressions` (the safe
expression evaluator of amplitudes and selectors), :mod:`fem.deck.restart` (``[checkpoint]``, the deck's
fingerprint, the restart check), :mod:`fem.deck.scalars` (``[output.scalars]``).

May import: every other package of fem (decks are the top floor).

Schema (``*`` = required; units SI)::

    title = "text"                              # optional

    [mesh]                                      # exactly one of file / generator
    file = "part.msh"                           # anything meshio reads; Gmsh physical groups -> sets
    generator = "bar" | "rectangle" | "box"
    lx, ly, lz = 1.0                            # generator sizes (m): bar lx; rectangle lx ly; box lx ly lz
    nx, ny, nz = 10                             # elements per direction (same pattern)
    cell = "triangle" | "quad" | "tetra" | "hexahedron"   # rectangle (triangle) / box (hexahedron)
    thickness = 1.0                             # 2D only (m)
    area = 1.0                                  # 1D only (m²)
    tol = 1e-9                                  # selector tolerance × mesh size (default 1e-9)
    [mesh.sets]                                 # extra named node/facet sets from selectors
    clamp = "x == 0 and y < 0.1"

    [material]                                  # exactly one of type / model
    type = "linear_elastic"                     # E*, nu (default 0), kinematics (default: the mesh's)
    type = "nonlinear_bar"                      # E1*, E2*, eps0* (1D)
    type = "neo_hookean"                        # finite strain (2D plane strain, 3D): mu*
         | "mooney_rivlin" | "yeoh" | "ogden"   #   C10*, C01* | C1*, C2, C3 | mu* = [..], alpha* = [..]
         | "gent" | "arruda_boyce"              #   mu*, Jm* | mu*, N*
                                                #   all: exactly one of K (bulk modulus) or nu, and
                                                #   domain = [lam_lo, lam_hi, J_lo, J_hi] | false (default:
                                                #   the law's); the run stops if an element leaves it
    plane_stress = false                        # finite-strain laws on 2D meshes: true = a sheet (F33 solved, P33 = 0)
    model = "rubber.pt"                         # a model file, loaded by the material_loader (lipmat);
                                                # small- or finite-strain (then as the inline laws)
    density = 1000.0                            # * kg/m³

    [[bc]]                                      # any number
    type = "fixed" | "displacement" | "velocity"    # default "fixed"
    where = "left"                              # * set name or selector "x == 0", "x == 0 and y < 1"
                                                #   (compare with ==; a single = is refused)
    tol = 1e-9                                  # this selector's tolerance (× mesh size)
    components = ["x", "y"]                     # fixed: which (default all); value = 0.0 (m)
    component = "x"                             # displacement / velocity: one component
    value = 1.0                                 # displacement (m) / velocity (m/s), × amplitude(t)
    amplitude = <amplitude>                     # default 1

    [[load]]
    type = "nodal" | "traction" | "body"        # *
    where = "right"                             # * nodal / traction
    force = [0.0, -10.0]                        # nodal: N per node
    traction = [0.0, -1e5]                      # traction: Pa (× thickness in 2D, × area in 1D)
    acceleration = [0.0, -9.81]                 # body: m/s² (per unit mass)
    amplitude = <amplitude>

    [initial]                                   # per component: number or expression in x, y, z
    displacement = [0.0, "1e-3 * sin(pi * x)"]
    velocity = ["10 * (x < 0.1)", 0.0]          # a bare number is allowed on a 1D mesh

    [time]
    end = 1e-3                                  # * s
    dt = "certified"                            # * s, or "certified" (the proven stable step)
    mass_damping = 0.0                          # mass-proportional alpha (1/s), C = alpha*M ('damping' before)
    allow_unsafe_dt = false                     # run a dt above the certified step (with a warning)

    [solver]
    energy_tol = 0.5                            # stop when the energy balance error exceeds it; false: never
    device = "cpu"                              # torch device
    dtype = "float64"                           # or "float32"
    threads = 1                                 # torch CPU threads (default: automatic)
    monitor_every = 500                         # measure the critical step (an estimate) every N steps;
                                                # energy.csv gains dt_critical_s and dt_margin columns
    max_steps = 1e8                             # refuse a longer run (default 1e8; false: no limit)
    certified_method = "auto"                   # dt = "certified": "auto" (the tight global form when its
                                                # cost is < 5 % of the run or < 1 s, else the element form),
                                                # "global" or "element"
    bulk_viscosity = true                       # bulk viscosity (fem.stability.viscosity), by default its linear term
                                                # only; false: the plain undamped scheme. On, dt = "certified"
                                                # is the damping-aware step, 0.942x the undamped one at the
                                                # defaults (xi_b = 0.06; 0.853x with the quadratic term on)
    bulk_viscosity_linear = 0.06                # b1: damping ratio of the top certified mode (Abaqus b1)
    bulk_viscosity_quadratic = 0.0              # b2, default 0 (off); 1.2 is Abaqus's b2 (LS-DYNA's Q1 = b2^2
                                                # = 1.5): acts where the law stiffens, for shock-type runs
    bulk_viscosity_cap = 0.1                    # largest damping ratio the quadratic term adds (keeps the
                                                # step proven: xi_b = linear + cap when quadratic > 0)
    energy_guard = 0.01                         # stop as "unstable" when the scheme created more than this
                                                # fraction of the energy in motion (fem.stability.discrete_energy);
                                                # false: never

    [output]
    dir = "bar_out"                             # default "<deck stem>_out" beside the deck
    format = "vtu" | "xdmf"                     # vtu: .vtu files + .pvd index
    compression = "zlib"                        # vtu data: "zlib" | "lzma" | "none" (3x faster to write)
    prefix = "fields"
    fields = true                               # false: no field files
    every = 10                                  # steps between frames (default: about 100 frames)
    energy_every = 1                            # steps between energy rows (default: about 1000 rows)
    energy_csv = "energy.csv"                   # relative to dir; false: none
    probes_csv = "probes.csv"
    plot = "energy.png"
    probe_every = 1
    max_frames = 1e4                            # refuse more field frames (default 1e4; false: no limit)
    max_bytes = 20e9                            # refuse a larger output estimate (default 20 GB; false: none)
    [output.probes]                             # name = set or selector; mean displacement recorded
    tip = "right"
    [output.reactions]                          # name = set or selector holding [[bc]] nodes: the total force
    grip = "right"                              # the constraints apply to the body there, per component (N;
                                                # 2D: per thickness, 1D: per area, as the internal forces),
                                                # sum of M a + C v + f_int - f_ext over the set's constrained
                                                # dofs (fem.solver.reactions); probes.csv columns grip_Rx_N..;
                                                # a set without a constrained dof is an error. Names are
                                                # unique across [output.probes] and [output.reactions]
    [output.scalars]                            # one number per run (summary, --json, lipmat sweep's table):
    peak_tip = { probe = "tip", component = "x", reduce = "max_abs" }   # reduce: max | min | max_abs
    peak_force = { probe = "grip", component = "x", reduce = "max_abs" }  # a reaction probe (N)
    final_kinetic = { energy = "kinetic", reduce = "final" }            #   | final | mean
    largest_strain = { field = "strain", component = "XX", reduce = "max" }  # over every cell of every frame
                                                # (fields: max | min | max_abs; needs fields, format "vtu")

    [checkpoint]                                # restart files (lipmat run --restart); absent: none
    every = 1000                                # steps between checkpoints; also written on Ctrl-C and
                                                # SIGTERM (0: only then). A restart continues the run exactly
                                                # (fields, energy.csv, probes.csv as an uninterrupted run)
    file = "checkpoint.pt"                      # in the output folder (the latest checkpoint; overwritten)
                                                # a checkpoint of another deck or mesh (any table but
                                                # [output], [checkpoint], title; mesh/model files by content)
                                                # is refused

    <amplitude> = 2.0                                          # constant
                | { type = "ramp", t1 = 1e-4, t0 = 0.0 }       # 0 -> 1 over [t0, t1]
                | { type = "step", t0 = 0.0, t1 = 1e-4 }       # 1 on [t0, t1) (t1 optional)
                | { type = "table", points = [[0, 0], [1e-4, 1], [2e-4, 0]] }
                | { type = "sine", frequency = 1e3, phase = 0.0 }
"""
from fem.deck.reader import GENERATORS, MATERIALS, load_deck, parse_deck
from fem.deck.run import DeckRun, run_deck
from fem.deck.settings import Deck, OutputSettings

__all__ = ["Deck", "OutputSettings", "DeckRun", "load_deck", "parse_deck", "run_deck", "MATERIALS", "GENERATORS"]
