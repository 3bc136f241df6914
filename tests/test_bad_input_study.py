"""Bad study files for `lipmat sweep`: located one-line errors, exit 2, nothing written.

Each case writes a base deck and a study file, runs ``lipmat sweep`` in-process and checks the exit
status, that the message names the file and table at fault and what was expected, and that the study's
output folder was not created (the study is checked before any cluster starts or any case is written).
"""
import re

import pytest

from lipmat.cli import main

BASE = """[mesh]
generator = "bar"
lx = 1.0
nx = 10
[material]
type = "linear_elastic"
E = 1e6
density = 1000.0
[[bc]]
where = "left"
[time]
end = 1e-3
dt = "certified"
"""
GOOD = '[study]\ndeck = "bar.toml"\nout = "out"\n[vary]\n"time.end" = [1e-3, 2e-3]\n'

CASES = {
    "unknown top-level table": (GOOD + "[vari]\n", r"study\.toml: \[top level\]: unknown key 'vari'.*did you mean 'vary'"),
    "unknown [study] key": (GOOD.replace('out = "out"', 'out = "out"\nmodes = "grid"'),
                            r"study\.toml: \[study\]: unknown key 'modes'.*did you mean 'mode'"),
    "no [study]": ('[vary]\n"time.end" = [1.0]\n', r"study\.toml: missing required table \[study\]"),
    "no [vary]": ('[study]\ndeck = "bar.toml"\nout = "out"\n', r"study\.toml: missing table \[vary\]"),
    "missing deck": (GOOD.replace("bar.toml", "nope.toml"), r"study\.toml: \[study\]: deck = 'nope\.toml': file not found"),
    "varied table not in the deck": (GOOD.replace('"time.end"', '"tyme.end"'),
                                     r"\[vary\]: 'tyme\.end': the base deck has no table 'tyme'.*did you mean 'time'"),
    "array entry out of range": (GOOD.replace('"time.end" = [1e-3, 2e-3]', '"bc.3.where" = ["x == 0"]'),
                                 r"\[vary\]: 'bc\.3\.where': the base deck has 1 \[\[bc\]\] entries; entries count from 1"),
    "not a list": (GOOD.replace("[1e-3, 2e-3]", "1e-3"), r"\[vary\]: time\.end must be a non-empty list of values"),
    "empty list": (GOOD.replace("[1e-3, 2e-3]", "[]"), r"\[vary\]: time\.end must be a non-empty list"),
    "mixed types": (GOOD.replace("[1e-3, 2e-3]", '[1e-3, "x"]'), r"\[vary\]: 'time\.end': the values mix types"),
    "zip of unequal lengths": (GOOD.replace('out = "out"', 'out = "out"\nmode = "zip"')
                               + '"material.E" = [1e6, 2e6, 3e6]\n', r"\[vary\]: zipped keys need lists of one length"),
    "zip names an unknown key": (GOOD.replace('out = "out"', 'out = "out"\nzip = [["time.end", "material.E"]]'),
                                 r"\[study\]: zip: 'material\.E' is not a key of \[vary\]"),
    "bad mode": (GOOD.replace('out = "out"', 'out = "out"\nmode = "cross"'), r"\[study\]: mode = 'cross' is not one of 'grid', 'zip'"),
    "missing mesh file": (GOOD + '"mesh.file" = ["none.msh"]\n', r"\[vary\]: 'mesh\.file': 'none\.msh': file not found"),
    "missing ensemble": (GOOD + '"material.model" = { ensemble = "fit/ensemble.json" }\n',
                         r"\[vary\] 'material\.model': ensemble = 'fit/ensemble\.json': file not found"),
    "ensemble on another key": (GOOD.replace("[1e-3, 2e-3]", '{ ensemble = "e.json" }'),
                                r"\[vary\]: 'time\.end': \{ensemble = \.\.\.\} applies to \"material\.model\" only"),
    "not TOML": ("[study\n", r"study\.toml: not valid TOML"),
    "bad checkpoint_every": (GOOD.replace('out = "out"', 'out = "out"\ncheckpoint_every = 0'),
                             r"\[study\]: checkpoint_every must be >= 1"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_study_files(case, tmp_path, capsys):
    text, pattern = CASES[case]
    (tmp_path / "bar.toml").write_text(BASE)
    (tmp_path / "e.json").write_text('{"members": [{"file": "a.pt"}]}')
    (tmp_path / "study.toml").write_text(text)
    code = main(["sweep", str(tmp_path / "study.toml"), "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2, err
    lines = [x for x in err.strip().splitlines() if x.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    assert re.search(pattern, lines[0]), (pattern, lines[0])
    assert not (tmp_path / "out").exists()


def test_missing_study_file_and_bad_workers(tmp_path, capsys):
    assert main(["sweep", str(tmp_path / "none.toml")]) == 2
    assert "study file not found" in capsys.readouterr().err
    (tmp_path / "bar.toml").write_text(BASE)
    (tmp_path / "study.toml").write_text(GOOD)
    assert main(["sweep", str(tmp_path / "study.toml"), "--workers", "0"]) == 2
    assert "--workers must be a whole number >= 1, got 0" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
