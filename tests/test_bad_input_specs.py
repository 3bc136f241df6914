"""Bad input to fem's expressions and specs, generated: every case gives one clear error.

Expressions (an expression cannot write into the mesh coordinates either), generator specs (whole
numbers, positive finite lengths, a cell limit before any array), and the generator/material specs of
``lipmat dt``. Through the CLI each case asserts exit 2, one line on stderr, no traceback, and that the
message names the key and what was expected; through the API the error type and the same content.
"""
from __future__ import annotations

import math
import os
import pickle
import re
import stat

import meshio
import numpy as np
import pytest
import torch

import fem
from fem.core.errors import DeckError, FemError, LimitError, MeshError
from fem.deck.expressions import MAX_DEPTH, MAX_LENGTH, Expression
from lipmat.cli import main

from _bad_input_helpers import _cli_error, _has




# =============================================================================================
# expressions (API): refused with a message that quotes the text and says what is allowed/expected
EXPRESSIONS = [
    ("0 * sin(x, x)", "sin() takes exactly 1 argument, got 2"),
    ("sin(x, out=x)", "keyword arguments are not allowed"),
    ("exp(x, x)", "exp() takes exactly 1 argument"),
    ("sqrt(x, x)", "sqrt() takes exactly 1 argument"),
    ("abs(x, x, x)", "abs() takes exactly 1 argument, got 3"),
    ("min(x)", "min() takes exactly 2 arguments, got 1"),
    ("max(x, 1, 2)", "max() takes exactly 2 arguments, got 3"),
    ("atan2(x)", "atan2() takes exactly 2 arguments, got 1"),
    ("sin()", "sin() takes exactly 1 argument, got 0"),
    ("sin(*x)", "unpacking (*) is not allowed"),
    ("cos(x=1)", "keyword arguments are not allowed"),
    ("x.real", "'x.real' is not allowed"),
    ("x.__class__", "is not allowed"),
    ("__import__('os')", "unknown function '__import__'"),
    ("open('f')", "unknown function 'open'"),
    ("eval('1')", "unknown function 'eval'"),
    ("q + 1", "unknown name 'q'"),
    ("z + 1", "unknown name 'z' on a 2D mesh"),
    ("sine(x)", "did you mean 'sin'"),
    ("x[0]", "is not allowed"),
    ("lambda: 1", "is not allowed"),
    ("'text'", "'text' is not a number"),
    ("True + x", "True is not a number"),
    ("[x, y]", "is not allowed"),
    ("(x := 1)", "is not allowed"),
    ("[i for i in x]", "is not allowed"),
    ("x if y", "is not valid"),
    ("1 +", "is not valid"),
    ("x << 2", "is not allowed"),
    ("not x", "is not allowed"),
    ("x and y", "is not allowed"),
    ("1" * 400, "too large for a float"),
    ("x" * (MAX_LENGTH + 1), f"expected at most {MAX_LENGTH}"),
    ("+".join(["x"] * (MAX_DEPTH + 5)), f"nests operations more than {MAX_DEPTH} deep"),
    ("-" * (MAX_DEPTH + 5) + "x", f"nests operations more than {MAX_DEPTH} deep"),
    ("(" * (MAX_DEPTH + 1) + "x" + ")" * (MAX_DEPTH + 1), f"expected at most {MAX_DEPTH}"),
    ("sin(" * 120 + "x" + ")" * 120, f"expected at most {MAX_DEPTH}"),
    ("(" * 100_000, "characters long"),
]


@pytest.mark.parametrize("text, expected", EXPRESSIONS, ids=[f"expr{i}" for i in range(len(EXPRESSIONS))])
def test_expression_is_refused(text, expected):
    with pytest.raises(FemError) as info:
        Expression(text, dim=2)
    msg = str(info.value)
    _has(msg, "expression", expected)
    assert len(msg) < 600   # a long text is shortened in the message


@pytest.mark.parametrize("text", ["sin(x)", "max(x, y)", "atan2(y, x)", "x + y", "exp(-x) * (y > 0.5)"])
def test_expression_never_changes_the_points_it_is_given(text, rng):
    """The evaluator hands functions only arrays it owns: the caller's points are unchanged, bit for bit."""
    pts = rng.uniform(-1, 1, size=(50, 2))
    before = pts.copy()
    values = Expression(text, dim=2)(pts)
    np.testing.assert_array_equal(pts, before)
    x, y = before.T
    expected = {"sin(x)": np.sin(x), "max(x, y)": np.maximum(x, y), "atan2(y, x)": np.arctan2(y, x),
                "x + y": x + y, "exp(-x) * (y > 0.5)": np.exp(-x) * (y > 0.5)}[text]
    np.testing.assert_array_equal(values, expected)


# =============================================================================================
# generator specs (API): whole numbers, positive finite lengths, a cell limit before any array
GENERATORS = [
    (lambda: fem.rectangle(1, 1, 2.7, 2), "nx must be a whole number of elements >= 1, got 2.7"),
    (lambda: fem.rectangle(1, 1, 2, 0), "ny must be a whole number of elements >= 1, got 0"),
    (lambda: fem.rectangle(1, 1, -3, 2), "nx must be a whole number"),
    (lambda: fem.rectangle(1, 1, math.nan, 2), "nx must be a whole number"),
    (lambda: fem.rectangle(1, 1, math.inf, 2), "nx must be a whole number"),
    (lambda: fem.rectangle(1, 1, "3", 2), "nx must be a whole number"),
    (lambda: fem.rectangle(1, 1, True, 2), "nx must be a whole number"),
    (lambda: fem.rectangle(0, 1, 2, 2), "lx must be a positive finite length"),
    (lambda: fem.rectangle(1, -1, 2, 2), "ly must be a positive finite length"),
    (lambda: fem.rectangle(math.nan, 1, 2, 2), "lx must be a positive finite length"),
    (lambda: fem.rectangle(math.inf, 1, 2, 2), "lx must be a positive finite length"),
    (lambda: fem.rectangle(1, 1, 2, 2, cell="hexahedron"), "rectangle cell must be 'triangle' or 'quad'"),
    (lambda: fem.bar(1.0, 2.5), "n_elements must be a whole number"),
    (lambda: fem.bar(-1.0, 10), "length must be a positive finite length"),
    (lambda: fem.bar(1.0, 10, origin=math.nan), "origin must be a finite number"),
    (lambda: fem.box(1, 1, 1, 2, 2, 0.5), "nz must be a whole number"),
    (lambda: fem.box(1, 1, 0, 2, 2, 2), "lz must be a positive finite length"),
    (lambda: fem.box(1, 1, 1, 2, 2, 2, cell="quad"), "box cell must be 'tetra' or 'hexahedron'"),
]
HUGE = [
    (lambda: fem.bar(1.0, 10**12), "1e+12 cells"),
    (lambda: fem.rectangle(1, 1, 10**6, 10**6), "2e+12 cells"),
    (lambda: fem.rectangle(1, 1, 10**5, 10**4, cell="quad"), "1e+09 cells"),
    (lambda: fem.box(1, 1, 1, 1000, 1000, 1000), "1e+09 cells"),
    (lambda: fem.box(1, 1, 1, 300, 300, 300, cell="tetra"), "1.62e+08 cells"),
    (lambda: fem.box(1, 1, 1, 10**9, 10**9, 10**9), "1e+27 cells"),
]


@pytest.mark.parametrize("make, expected", GENERATORS, ids=[f"gen{i}" for i in range(len(GENERATORS))])
def test_generator_spec_is_refused(make, expected):
    with pytest.raises(MeshError, match=re.escape(expected)):
        make()


@pytest.mark.parametrize("make, expected", HUGE, ids=[f"huge{i}" for i in range(len(HUGE))])
def test_huge_generator_spec_is_refused_before_any_array(make, expected):
    with pytest.raises(LimitError) as info:
        make()
    _has(str(info.value), expected, f"above the limit of {fem.core.limits.MAX_CELLS:.4g} cells")


def test_integral_float_counts_are_whole_numbers():
    assert fem.rectangle(1, 1, 4.0, 2).n_cells == 16


# =============================================================================================
# generator and material specs through `lipmat dt` (the spec parser: lipmat/cli/dt.py)
DT_SPECS = [
    (["--mesh", "rect:nx=2.7"], ["rect:nx=2.7", "nx", "integer"]),
    (["--mesh", "rect:nx=0"], ["rect:nx=0", "nx"]),
    (["--mesh", "rect:nx=-4"], ["rect:nx=-4", "nx"]),
    (["--mesh", "rect:lx=nan"], ["rect:lx=nan", "lx", "finite"]),
    (["--mesh", "rect:lx=-1"], ["rect:lx=-1", "lx"]),
    (["--mesh", "bar:n=1e12"], ["bar:n=1e12", "cells"]),
    (["--mesh", "rect:nx=100000,ny=100000"], ["rect:nx=100000,ny=100000", "cells"]),
    (["--mesh", "box:nx=1000,ny=1000,nz=1000"], ["box:nx=1000,ny=1000,nz=1000", "cells"]),
    (["--mesh", "rect:cell=hexahedron"], ["rect:cell=hexahedron", "cell"]),
    (["--model", "linear:E=1e300"], ["linear:E=1e300", "E", "range"]),
    (["--model", "linear:E=1e200,nu=0.3"], ["linear:E=1e200,nu=0.3", "range"]),
    (["--model", "linear:E=-1e9"], ["linear:E=-1e9", "E"]),
    (["--model", "linear:E=nan"], ["linear:E=nan", "E"]),
    (["--model", "linear:E=1e9,nu=0.5"], ["nu"]),
    (["--model", "linear:E=1e9,nu=2"], ["nu"]),
]


@pytest.mark.parametrize("args, expected", DT_SPECS, ids=[f"spec{i}" for i in range(len(DT_SPECS))])
def test_bad_spec_in_lipmat_dt(capsys, args, expected):
    argv = {"--mesh": "rect:nx=2,ny=2", "--model": "linear:E=1e9,nu=0.3", "--density": "1000"}
    argv[args[0]] = args[1]
    err = _cli_error(capsys, ["dt", *[x for kv in argv.items() for x in kv]])
    _has(err, *expected)


