"""Why a certified step has the form it has: the decision of :func:`fem.choose_certified_step` as data, and
its one-line rendering.

:class:`StepDecision` holds the form used, a case name (:data:`CASES`) and the numbers that drove the
choice (estimated and measured seconds, the budget); :func:`render_reason` turns it into the line
that ``TimeStep.reason`` and ``Result.dt_reason`` show. Keeping the two apart lets the choice be
checked on its numbers and the wording on its own.

Every number here is an *estimate* used to choose between two proven bounds (or a measured wall
time): none of them is part of a certificate.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["StepDecision", "render_reason", "CASES", "SAVINGS_SHARE"]

#: over the budget, the global form's proof is still done when it costs at most this share of the run
#: time its tighter step saves (the saving predicted from the Lanczos estimate)
SAVINGS_SHARE = 0.5

#: case -> form used, what it means
CASES = {
    "asked": "the caller named the form (method = 'element' or 'global') and it was proven",
    "run_length_unknown": "element: the global form's estimated cost is over always_s and no run length was given",
    "over_budget": "element: the global form's estimated cost is over the budget of the estimated run",
    "within_budget": "global: proven, its cost within the allowance (budget × run, or always_s)",
    "pays_for_itself": "global: over the budget, but the proof cost at most SAVINGS_SHARE of the time it saves",
    "as_tight": "element: the element bound is within δ of the Lanczos estimate, nothing to gain",
    "declined": "element: after Lanczos, the proof was judged not worth its estimated cost",
    "timed_out": "element: the global form was not done within its time limit",
    "not_proven": "element: the global bound could not be proven",
}


@dataclass(frozen=True)
class StepDecision:
    """The choice between the element and the global form of the certified step, and what drove it.

    method : ``"element" | "global"``, the form used. case : a key of :data:`CASES`.
    requested : ``"auto" | "global" | "element"``. budget : share of the run the global form may take;
    always_s : seconds it may always take. run_s : estimated run time at the element step (s), None
    when the run length is unknown. estimated_global_s, estimated_proof_s : the estimated cost of the
    global form, and of its proof alone (s). global_s : the measured time of the global form (s), None
    when it was not run. saved_s : the run time the global step was predicted to save (s), when that
    was weighed. note : the eigen-bound's own words when the proof was declined, timed out, capped or
    not proven (empty otherwise).
    """

    method: str
    case: str
    requested: str
    budget: float
    always_s: float
    run_s: float | None = None
    estimated_global_s: float | None = None
    estimated_proof_s: float | None = None
    global_s: float | None = None
    saved_s: float | None = None
    note: str = ""

    def __post_init__(self):
        if self.case not in CASES:
            raise ValueError(f"StepDecision case must be one of {tuple(CASES)}, got {self.case!r}")
        if self.method not in ("element", "global"):
            raise ValueError(f"StepDecision method must be 'element' or 'global', got {self.method!r}")


def seconds(x: float) -> str:
    """A duration as words: "0.34 s", "12 s"."""
    return f"{x:.2g} s" if x < 10 else f"{x:.0f} s"


def of_run(x: float) -> str:
    """``x`` = a cost / the run time, as words: "0.8 % of the run", "31 % of the run", "12× the run"."""
    if not math.isfinite(x) or x >= 2:
        return "more than the run" if not math.isfinite(x) else f"{x:.0f}× the run"
    return f"{100 * x:.2g} % of the run" if x < 0.1 else f"{100 * x:.0f} % of the run"


def _share(cost: float, run_s: float) -> str:
    return of_run(cost / run_s if run_s > 0 else math.inf)


def render_reason(d: StepDecision) -> str:
    """The one line ``TimeStep.reason`` shows for a decision: "<form> form: <why>"."""
    if d.case == "asked":
        if d.method == "element":
            return "element form: asked for (method = 'element')"
        return f"global form: asked for (method = 'global'); Lanczos + LDLᵀ proof took {seconds(d.global_s)}"
    if d.case == "run_length_unknown":
        return (f"element form: the global form would take an estimated {seconds(d.estimated_global_s)}, the run "
                f"length is not known (give t_end) and it is over the {seconds(d.always_s)} always spent")
    if d.case == "over_budget":
        return (f"element form: the global form would take an estimated {seconds(d.estimated_global_s)}, "
                f"{_share(d.estimated_global_s, d.run_s)} (estimated {seconds(d.run_s)} at the element step), "
                f"over the {100 * d.budget:g} % budget")
    if d.case in ("within_budget", "pays_for_itself"):
        took = f"global form: Lanczos + LDLᵀ proof took {seconds(d.global_s)}"
        if d.run_s is None:
            return f"{took} (run length not given; under the {seconds(d.always_s)} always spent)"
        text = f"{took}, {_share(d.global_s, d.run_s)} (estimated {seconds(d.run_s)} at the element step)"
        if d.case == "pays_for_itself":
            return (f"{text}; it saves an estimated {seconds(d.saved_s)} (the proof was estimated at "
                    f"{seconds(d.estimated_proof_s)}, under {100 * SAVINGS_SHARE:g} % of that)")
        return text + (f"; under the {seconds(d.always_s)} always spent" if d.budget * d.run_s < d.always_s else "")
    if d.case == "as_tight":
        return f"element form: it is already as tight as the global form (Lanczos, {seconds(d.global_s)})"
    if d.case == "declined":
        return f"element form: {d.note} (assembly + Lanczos took {seconds(d.global_s)})"
    if d.case == "timed_out":
        return f"element form: the global form was not done within its time limit ({d.note})"
    return f"element form: the global bound was not proven ({d.note or 'no proof'})"
