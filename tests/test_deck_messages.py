"""Two messages of decks and `lipmat run`: a selector with one '=' is refused (not read as '=='), and a run
that leaves its certified domain says so once and says how to widen the domain."""
import pytest

from fem.core.errors import DeckError
from fem.deck import parse_deck
from lipmat.cli import main

BAR = """[mesh]
generator = "bar"
lx = 0.1
nx = 10
[material]
type = "linear_elastic"
E = 1e6
density = 1000.0
[[bc]]
where = "{where}"
[time]
end = 1e-4
dt = 1e-6
[output]
fields = false
{extra}
"""


@pytest.mark.parametrize("where, table, suggestion", [
    ("x = 0.05", "[[bc]] #1", "x == 0.05"),
    ("x == 0 or x = 0.1", "[[bc]] #1", "x == 0 or x == 0.1"),
])
def test_a_single_equals_in_a_selector_is_refused_with_a_suggestion(where, table, suggestion):
    with pytest.raises(DeckError) as e:
        parse_deck(BAR.format(where=where, extra=""), path="bar.toml")
    msg = str(e.value)
    assert msg.startswith(f"bar.toml: {table}") and "single '='" in msg and repr(suggestion) in msg


def test_a_single_equals_in_a_probe_or_set_is_refused_too():
    base = BAR.format(where="left", extra="")
    probe = base + '[output.probes]\nmid = "x = 0.05"\n'
    named_set = base.replace("[material]", '[mesh.sets]\nmid = "x = 0.05"\n[material]')
    for text, table in ((probe, "[output.probes]"), (named_set, "[mesh.sets]")):
        with pytest.raises(DeckError, match=r"single '='.*'x == 0\.05'") as e:
            parse_deck(text, path="bar.toml")
        assert table in str(e.value)


def test_comparisons_still_select_as_before():
    deck = parse_deck(BAR.format(where="x <= 0.0 or x >= 0.1", extra=""), path="bar.toml")
    assert deck.problem.bcs


OOD = """[mesh]
generator = "rectangle"
lx = 0.01
ly = 0.01
nx = 2
ny = 2
cell = "quad"
[material]
type = "neo_hookean"
mu = 1e5
nu = 0.3
domain = [0.95, 1.05, 0.9, 1.1]
density = 1000.0
[[bc]]
where = "x == 0"
[[bc]]
type = "displacement"
where = "x == 0.01"
component = "x"
value = 0.002
amplitude = { type = "ramp", t1 = 1e-3 }
[time]
end = 1e-3
dt = "certified"
[output]
fields = false
"""


def test_out_of_domain_is_said_once_with_the_way_to_widen_the_domain(tmp_path, capsys):
    deck = tmp_path / "ood.toml"
    deck.write_text(OOD)
    assert main(["run", str(deck), "--out", str(tmp_path / "o"), "--no-progress"]) == 1
    cap = capsys.readouterr()
    last = cap.err.strip().splitlines()[-1]
    assert last.startswith("lipmat run: out_of_domain: ") and "out_of_domain: out_of_domain" not in cap.err
    assert "out_of_domain: out_of_domain" not in cap.out
    for hint in ("--domain", "--bulk-ratio", "domain = [lam_lo, lam_hi, J_lo, J_hi] in [material]"):
        assert hint in last and hint in cap.out
