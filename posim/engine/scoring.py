"""The score of one run, 0 to 100, and its grade, explained term by term.

The score rewards what a product owner is for (DESIGN section 2, "Scoring").
Each term turns one measure into a fraction from 0 (worst) to 1 (best), and
the score is the weighted mean of those fractions times 100:

========================  ======  ===============================================
term                      weight  fraction (clamped to 0..1)
========================  ======  ===============================================
``net_value``             45 %    ``(net / potential + 1) / 2`` where ``net`` is
                                  value delivered minus cost of delay and
                                  ``potential`` is the value of every item that
                                  arrived: losing the whole potential scores 0,
                                  breaking even 0.5, delivering it all with no
                                  delay 1
``trust``                 25 %    influence-weighted final trust ÷ 100
``forecast_accuracy``     10 %    ``1 - error / (FORECAST_TOLERANCE x horizon)``:
                                  a perfect forecast scores 1; a mean error of
                                  half the horizon or more scores 0
``deadlines``             10 %    the share of fixed-date items done by their day
``flow_efficiency``       10 %    flow efficiency ÷ ``FLOW_EFFICIENCY_TARGET``
                                  (100 %: the share of cycle time items were
                                  worked on, no item ever waiting)
========================  ======  ===============================================

**The score agrees with the lessons** (DESIGN section 2): for every built-in
scenario, the practice its lesson recommends scores higher than the one it
warns against, over 200 paired seeds and on the scenario's default seed
(``tests/engine/test_lessons.py``).  Two choices make it so.  Flow efficiency
counts in full (target 100 %, weight 10 %): with a 40 % target every
simulated team saturated the term, so limiting work in progress, which cuts
the waiting inside the process and nothing else, earned no point.  Forecast
accuracy weighs 10 % with a tolerance of half the horizon: one game measures
only a few promises, so the error of a single seed is noisy, and honest
reporting is already rewarded through trust, which the trust rules move on
every promise kept or broken.

A term whose measure is missing (``None``: no stakeholders, no forecasts, no
fixed-date items, nothing done, no value arrived) is dropped and the other
weights are scaled up to sum to 1, so the score stays 0..100 and a scenario is
not punished for lacking a mechanic.  Each term's ``points`` is
``100 x weight x fraction`` with the renormalised weight, so the points add up
to the total.  Grades: A from 85, B from 70, C from 55, D from 40, F below
(there is no E, as in the US scale).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

Grade = Literal["A", "B", "C", "D", "F"]
"""A letter grade."""

GRADE_BOUNDS: Final[tuple[tuple[float, Grade], ...]] = (
    (85.0, "A"),
    (70.0, "B"),
    (55.0, "C"),
    (40.0, "D"),
)
"""The lowest total that earns each grade; below the last one the grade is F."""

WEIGHTS: Final[dict[str, float]] = {
    "net_value": 0.45,
    "trust": 0.25,
    "forecast_accuracy": 0.10,
    "deadlines": 0.10,
    "flow_efficiency": 0.10,
}
"""Each term's weight before renormalisation (they sum to 1), in the order terms are listed."""

FORECAST_TOLERANCE: Final = 0.5
"""A mean forecast error of this fraction of the horizon (or more) scores 0 accuracy."""

FLOW_EFFICIENCY_TARGET: Final = 1.0
"""A flow efficiency at or above this scores the full flow term (1.0: the term is linear)."""


@dataclass(frozen=True, slots=True)
class ScoreTerm:
    """One line of the score's breakdown."""

    name: str
    """The term's key (see :data:`WEIGHTS`)."""
    value: float
    """How well this went, from 0 (worst) to 1 (best)."""
    weight: float
    """The term's share of the score after dropping missing terms (the weights sum to 1)."""
    points: float
    """``100 x weight x value``: the term's contribution to the total."""
    explanation: str
    """A sentence for the debrief with the measured numbers."""
    measured: float
    """The measure the term was computed from (net value, trust, error days, rate, efficiency)."""


@dataclass(frozen=True, slots=True)
class Score:
    """A run's score (0..100), grade and term-by-term breakdown."""

    total: float
    """The sum of the terms' points, 0..100."""
    grade: Grade
    """``A`` .. ``F`` by :data:`GRADE_BOUNDS`."""
    terms: tuple[ScoreTerm, ...]
    """The terms that could be measured, in the order of :data:`WEIGHTS`."""

    def explain(self) -> list[str]:
        """The breakdown as lines: one per term, then the total and grade."""
        lines = [
            f"{term.name}: {term.points:.1f} points. {term.explanation}" for term in self.terms
        ]
        lines.append(f"Score {self.total:.1f} of 100: grade {self.grade}.")
        return lines


def grade_for(total: float) -> Grade:
    """The letter grade for a total: A >= 85, B >= 70, C >= 55, D >= 40, else F."""
    for bound, grade in GRADE_BOUNDS:
        if total >= bound:
            return grade
    return "F"


def _clamp(fraction: float) -> float:
    """``fraction`` kept within 0..1."""
    return min(1.0, max(0.0, fraction))


def _money(amount: float) -> str:
    """``12,300`` or ``-450``."""
    return f"{amount:,.0f}"


def _measures(
    value_delivered: float,
    cost_of_delay: float,
    potential_value: float,
    trust_mean: float | None,
    forecast_error_days: float | None,
    deadline_hit_rate: float | None,
    flow_efficiency: float | None,
    horizon_days: float,
) -> list[tuple[str, float, float, str]]:
    """``(name, measured, fraction, explanation without points)`` for each measurable term."""
    measures: list[tuple[str, float, float, str]] = []
    if potential_value > 0:
        net = value_delivered - cost_of_delay
        share = net / potential_value
        measures.append(
            (
                "net_value",
                net,
                _clamp((share + 1) / 2),
                f"Value delivered {_money(value_delivered)} minus cost of delay "
                f"{_money(cost_of_delay)} is a net value of {_money(net)}, {share:.0%} of the "
                f"{_money(potential_value)} that arrived (-100% scores 0, break-even half, "
                "100% full marks)",
            )
        )
    if trust_mean is not None:
        measures.append(
            (
                "trust",
                trust_mean,
                _clamp(trust_mean / 100),
                f"Stakeholders' final trust, weighted by influence, is {trust_mean:.0f} of 100",
            )
        )
    if forecast_error_days is not None and horizon_days > 0:
        error = abs(forecast_error_days)
        tolerance = FORECAST_TOLERANCE * horizon_days
        measures.append(
            (
                "forecast_accuracy",
                error,
                _clamp(1 - error / tolerance),
                f"Forecasts were off by {error:.1f} days on average; {tolerance:.1f} days "
                f"({FORECAST_TOLERANCE:.0%} of the {horizon_days:g}-day horizon) or more scores 0",
            )
        )
    if deadline_hit_rate is not None:
        measures.append(
            (
                "deadlines",
                deadline_hit_rate,
                _clamp(deadline_hit_rate),
                f"{deadline_hit_rate:.0%} of fixed-date items were done by their due day",
            )
        )
    if flow_efficiency is not None:
        measures.append(
            (
                "flow_efficiency",
                flow_efficiency,
                _clamp(flow_efficiency / FLOW_EFFICIENCY_TARGET),
                f"Items were worked on {flow_efficiency:.0%} of their cycle time; "
                f"{FLOW_EFFICIENCY_TARGET:.0%} (no waiting) scores full marks",
            )
        )
    return measures


def score(
    value_delivered: float,
    cost_of_delay: float,
    potential_value: float,
    trust_mean: float | None,
    forecast_error_days: float | None,
    deadline_hit_rate: float | None,
    flow_efficiency: float | None,
    horizon_days: float,
) -> Score:
    """Score a run from its figures (see the module docstring for the formula).

    ``potential_value`` is the sum of the value of every item that arrived; a
    run with no potential value drops the net-value term.  ``trust_mean`` is
    0..100, ``deadline_hit_rate`` and ``flow_efficiency`` are 0..1,
    ``forecast_error_days`` is the mean absolute error in days; any of them may
    be ``None`` (dropped, the other weights renormalised).  With no measurable
    term at all the score is 0 and the grade F.
    """
    measures = _measures(
        value_delivered,
        cost_of_delay,
        potential_value,
        trust_mean,
        forecast_error_days,
        deadline_hit_rate,
        flow_efficiency,
        horizon_days,
    )
    weight_sum = sum(WEIGHTS[name] for name, _, _, _ in measures)
    terms: list[ScoreTerm] = []
    for name, measured, fraction, sentence in measures:
        weight = WEIGHTS[name] / weight_sum
        points = 100 * weight * fraction
        explanation = f"{sentence}: {fraction:.2f} x weight {weight:.0%} = {points:.1f} points."
        terms.append(ScoreTerm(name, fraction, weight, points, explanation, measured))
    # Rounded so that float noise never turns an 85.0 into a B.
    total = float(round(sum(term.points for term in terms), 9))
    return Score(total, grade_for(total), tuple(terms))
