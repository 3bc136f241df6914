"""Studies that outgrow one run: parameter sweeps of a deck, run as independent cases on a Dask cluster.

May import: lipmat.errors, lipmat.io, lipmat.fitting, fem.

A study file (TOML) names a base deck and what varies::

    [study]
    deck = "bar.toml"             # * the base deck (relative to this file)
    out = "bar_study"             # output folder (default "<study stem>_out" beside the study file)
    mode = "grid"                 # "grid": every combination (crossed); "zip": the lists side by side
    zip = [["bc.2.value", "time.end"]]   # grid mode: groups of keys that vary together (zipped)
    checkpoint_every = 1000       # restart files of each case (default: the deck's [checkpoint], else 1000)

    [vary]                        # dotted deck keys -> the values they take
    "time.end" = [1e-3, 2e-3, 4e-3]
    "bc.2.value" = [1e-3, 2e-3, 4e-3]          # arrays of tables count from 1, as in the deck's errors
    "material.model" = ["a.pt", "b.pt"]       # paths relative to the study file
    "mesh.file" = ["coarse.msh", "fine.msh"]
    "material.model" = { ensemble = "fit_out/ensemble.json" }   # every member of a fitted ensemble

Each case is the base deck with its values set, written as ``<out>/cases/case-<key>/case.toml`` (a
complete deck: ``lipmat run case.toml`` reproduces it) and run there. ``key`` is a hash of the case's
deck and of the bytes of its mesh and model files, so re-running a study skips the cases already done
and resumes interrupted ones from their checkpoints. The results are one table, ``<out>/study.csv``
(:mod:`lipmat.study.report`). Modules: :mod:`~lipmat.study.spec` (the study file),
:mod:`~lipmat.study.cases` (expansion, case decks, keys), :mod:`~lipmat.study.runner` (one case, on a
worker), :mod:`~lipmat.study.cluster` (Dask), :mod:`~lipmat.study.report` (table, plot, ensemble bands).
"""
from lipmat.study.cases import Case, expand
from lipmat.study.cluster import run_study
from lipmat.study.spec import Study, load_study

__all__ = ["Study", "load_study", "Case", "expand", "run_study"]
