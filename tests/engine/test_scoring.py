"""The score: hand-computed totals, grade boundaries and dropped terms."""

from __future__ import annotations

import pytest

from posim.engine import scoring
from posim.engine.scoring import Score, grade_for, score


def full_score() -> Score:
    """A run with every term measured."""
    return score(
        value_delivered=30_000,
        cost_of_delay=10_000,
        potential_value=40_000,
        trust_mean=80,
        forecast_error_days=3,
        deadline_hit_rate=0.9,
        flow_efficiency=0.3,
        horizon_days=60,
    )


def test_weights_sum_to_one() -> None:
    assert sum(scoring.WEIGHTS.values()) == pytest.approx(1)
    assert list(scoring.WEIGHTS) == [
        "net_value",
        "trust",
        "forecast_accuracy",
        "deadlines",
        "flow_efficiency",
    ]


def test_every_term_measured_hand_computed() -> None:
    result = full_score()
    # net 20,000 / 40,000 = 0.5 -> (0.5 + 1) / 2 = 0.75;  trust 0.8;
    # forecast 1 - 3 / (0.5 x 60) = 0.9;  deadlines 0.9;  flow 0.3 / 1.0 = 0.3.
    fractions = {term.name: term.value for term in result.terms}
    assert fractions == pytest.approx(
        {
            "net_value": 0.75,
            "trust": 0.8,
            "forecast_accuracy": 0.9,
            "deadlines": 0.9,
            "flow_efficiency": 0.3,
        }
    )
    # 45 x 0.75 + 25 x 0.8 + 10 x 0.9 + 10 x 0.9 + 10 x 0.3 = 33.75 + 20 + 9 + 9 + 3
    points = [term.points for term in result.terms]
    assert points == pytest.approx([33.75, 20, 9, 9, 3])
    assert result.total == pytest.approx(74.75)
    assert result.grade == "B"
    assert [term.measured for term in result.terms] == pytest.approx([20_000, 80, 3, 0.9, 0.3])


def test_term_explanations_carry_the_numbers() -> None:
    terms = {term.name: term for term in full_score().terms}
    assert terms["net_value"].explanation == (
        "Value delivered 30,000 minus cost of delay 10,000 is a net value of 20,000, 50% of "
        "the 40,000 that arrived (-100% scores 0, break-even half, 100% full marks): "
        "0.75 x weight 45% = 33.8 points."
    )
    assert terms["forecast_accuracy"].explanation == (
        "Forecasts were off by 3.0 days on average; 30.0 days (50% of the 60-day horizon) or "
        "more scores 0: 0.90 x weight 10% = 9.0 points."
    )
    assert terms["flow_efficiency"].explanation == (
        "Items were worked on 30% of their cycle time; 100% (no waiting) scores full marks: "
        "0.30 x weight 10% = 3.0 points."
    )
    lines = full_score().explain()
    assert lines[-1] == "Score 74.8 of 100: grade B."
    assert lines[1].startswith("trust: 20.0 points. Stakeholders' final trust")


def test_missing_terms_are_dropped_and_the_weights_renormalised() -> None:
    result = score(
        value_delivered=30_000,
        cost_of_delay=10_000,
        potential_value=40_000,
        trust_mean=None,
        forecast_error_days=None,
        deadline_hit_rate=None,
        flow_efficiency=0.3,
        horizon_days=60,
    )
    # Weights 0.45 and 0.10 become 9/11 and 2/11: (9 x 0.75 + 2 x 0.3) / 11 x 100 = 66.8.
    assert [term.name for term in result.terms] == ["net_value", "flow_efficiency"]
    assert [term.weight for term in result.terms] == pytest.approx([9 / 11, 2 / 11])
    assert result.total == pytest.approx((9 * 0.75 + 2 * 0.3) / 11 * 100)
    assert result.grade == "C"


def test_no_potential_value_drops_net_value() -> None:
    result = score(0, 0, 0, 60, None, None, None, 60)
    assert [term.name for term in result.terms] == ["trust"]
    assert result.terms[0].weight == 1
    assert result.total == pytest.approx(60)
    assert result.grade == "C"


def test_nothing_measurable_scores_zero() -> None:
    result = score(0, 0, 0, None, None, None, None, 60)
    assert result == Score(0.0, "F", ())


@pytest.mark.parametrize(
    ("value", "cost", "fraction"),
    [
        (40_000, 0, 1.0),  # all the potential, no delay
        (20_000, 20_000, 0.5),  # break-even
        (0, 40_000, 0.0),  # lost the whole potential
        (0, 90_000, 0.0),  # worse still: clamped
        (10_000, 30_000, 0.25),  # net -20,000 = -50 %
    ],
)
def test_net_value_maps_minus_100_to_plus_100_percent_onto_0_1(
    value: float, cost: float, fraction: float
) -> None:
    result = score(value, cost, 40_000, None, None, None, None, 60)
    assert result.terms[0].value == pytest.approx(fraction)
    assert result.total == pytest.approx(100 * fraction)


@pytest.mark.parametrize(
    ("error", "fraction"), [(0, 1.0), (15, 0.5), (30, 0.0), (40, 0.0), (-3, 0.9)]
)
def test_forecast_accuracy_falls_to_zero_at_half_the_horizon(error: float, fraction: float) -> None:
    result = score(0, 0, 0, None, error, None, None, 60)
    assert result.terms[0].value == pytest.approx(fraction)


def test_flow_efficiency_counts_in_full() -> None:
    """Linear up to 100 %: a team that waits less scores more, however well it flows already."""
    assert score(0, 0, 0, None, None, None, 1.0, 60).terms[0].value == 1
    assert score(0, 0, 0, None, None, None, 0.8, 60).terms[0].value == pytest.approx(0.8)
    assert score(0, 0, 0, None, None, None, 0.1, 60).terms[0].value == pytest.approx(0.1)


@pytest.mark.parametrize(
    ("total", "grade"),
    [
        (100, "A"),
        (85, "A"),
        (84.99, "B"),
        (70, "B"),
        (69.99, "C"),
        (55, "C"),
        (54.99, "D"),
        (40, "D"),
        (39.99, "F"),
        (0, "F"),
    ],
)
def test_grade_boundaries(total: float, grade: str) -> None:
    assert grade_for(total) == grade


def test_a_total_of_exactly_85_is_an_a_despite_float_noise() -> None:
    # Trust 97, deadlines 0.71, flow 0.69: the points add up to 84.99999999999999.
    result = score(0, 0, 0, 97, None, 0.71, 0.69, 60)
    assert sum(term.points for term in result.terms) < 85
    assert result.total == 85
    assert result.grade == "A"


def test_points_add_up_to_the_total() -> None:
    result = score(12_345, 6_789, 50_000, 47, 6.5, 0.4, 0.22, 45)
    assert sum(term.points for term in result.terms) == pytest.approx(result.total)
    assert sum(term.weight for term in result.terms) == pytest.approx(1)
    assert 0 <= result.total <= 100
