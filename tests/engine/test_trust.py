"""The trust rules, each with hand-computed numbers."""

from __future__ import annotations

import dataclasses

import pytest

from posim.engine import trust
from posim.engine.trust import Promise, TrustChange


def promise(status: trust.Status = "on_track", forecast_day: float = 20) -> Promise:
    """A promise to Sales made on day 10."""
    return Promise("Sales", 10, status, forecast_day, (1, 2))


def test_the_numbers_are_the_documented_ones() -> None:
    # The tests below hand-compute with these; change both together.
    assert trust.DELIVERY_ON_TIME_GAIN == 5
    assert trust.LATE_PENALTY_PER_DAY == 2
    assert trust.LATE_PENALTY_CAP == 20
    assert trust.SURPRISE_MULTIPLIER == 3
    assert trust.SURPRISE_PENALTY == 5
    assert trust.REFORECAST_COST_PER_DAY == 0.5
    assert trust.REFORECAST_COST_CAP == 5
    assert trust.DECLINE_COST == 3
    assert trust.IGNORED_COST == 4
    assert trust.MISSED_REPORT_COST == 3
    assert trust.ESCALATION_THRESHOLD == 30
    assert trust.FIRED_THRESHOLD == 10


@pytest.mark.parametrize("day", [12.5, 19.9, 20.0])
def test_delivery_on_or_before_the_promised_day_gains_5(day: float) -> None:
    change = trust.on_delivery(promise(), day)
    assert change == TrustChange(
        "Sales",
        5.0,
        "on_time",
        f"Delivered on day {day:g}, on or before the promised day 20: +5 (on time)",
    )


def test_late_delivery_after_a_warning_costs_2_per_day() -> None:
    change = trust.on_delivery(promise("at_risk"), 23)
    assert change.delta == -6  # 3 days x 2
    assert change.cause == "late"
    assert change.explanation == (
        "Delivered 3 days after the promised day 20, as the last report warned (at risk): -6 (late)"
    )


def test_lateness_counts_fractions_of_days() -> None:
    assert trust.on_delivery(promise("late"), 21.25).delta == -2.5  # 1.25 days x 2


def test_late_penalty_is_capped_at_20() -> None:
    assert trust.on_delivery(promise("at_risk"), 30).delta == -20  # 10 days x 2 = cap
    assert trust.on_delivery(promise("late"), 45).delta == -20  # 25 days x 2 = 50, capped


def test_late_after_on_track_is_a_surprise() -> None:
    change = trust.on_delivery(promise("on_track"), 23)
    # 3 days x 2 = 6; x3 = 18; + 5 = 23.
    assert change.delta == -23
    assert change.cause == "surprise"
    assert change.explanation == (
        "Delivered 3 days after the promised day 20 while the last report said on track: "
        "-23 (surprise: 6 for lateness x 3 + 5)"
    )


def test_surprise_multiplies_the_capped_penalty() -> None:
    # 15 days late: 30 capped to 20; x3 = 60; + 5 = 65.
    assert trust.on_delivery(promise("on_track"), 35).delta == -65


def test_a_surprise_costs_more_than_the_same_lateness_announced() -> None:
    warned = trust.on_delivery(promise("at_risk"), 22).delta
    surprised = trust.on_delivery(promise("on_track"), 22).delta
    assert (warned, surprised) == (-4, -17)


def test_reforecasting_later_costs_half_a_point_per_day() -> None:
    old = promise("on_track", 20)
    new = Promise("Sales", 15, "at_risk", 26, (1, 2))
    change = trust.on_reforecast(old, new)
    assert change == TrustChange(
        "Sales",
        -3.0,  # 6 days x 0.5
        "reforecast",
        "Re-forecast on day 15 from day 20 to day 26 (6 days later): -3 (bad news told early)",
    )


def test_reforecast_cost_is_capped_at_5() -> None:
    old = promise("on_track", 20)
    change = trust.on_reforecast(old, dataclasses.replace(old, forecast_day=50))
    assert change is not None
    assert change.delta == -5  # 30 days x 0.5 = 15, capped


@pytest.mark.parametrize("new_day", [20, 18.5])
def test_keeping_or_advancing_the_day_costs_nothing(new_day: float) -> None:
    old = promise("on_track", 20)
    assert trust.on_reforecast(old, dataclasses.replace(old, forecast_day=new_day)) is None


def test_reforecast_to_another_stakeholder_is_an_error() -> None:
    with pytest.raises(ValueError, match="same stakeholder"):
        trust.on_reforecast(promise(), Promise("Ops", 12, "late", 30))


def test_reforecasting_early_is_cheaper_than_the_surprise() -> None:
    # Promised day 20 "on track"; the work lands on day 26.
    silent = trust.on_delivery(promise("on_track", 20), 26).delta
    reforecast = Promise("Sales", 15, "at_risk", 26)
    told = trust.on_reforecast(promise("on_track", 20), reforecast)
    assert told is not None
    honest = told.delta + trust.on_delivery(reforecast, 26).delta
    assert silent == -(12 * 3 + 5)  # 6 days x 2 x 3 + 5 = -41
    assert honest == -3 + 5  # 6 days x 0.5, then on time
    # Re-forecast "on track" again but still late: the surprise stays.
    still_green = Promise("Sales", 15, "on_track", 24)
    assert trust.on_delivery(still_green, 26).cause == "surprise"
    assert trust.on_delivery(still_green, 26).delta == -(4 * 3 + 5)


def test_open_promise_at_the_horizon_counts_as_late_on_the_last_day() -> None:
    change = trust.on_horizon(promise("at_risk", 20), 24)
    assert change is not None
    assert (change.delta, change.cause) == (-8, "late")
    assert change.explanation == (
        "Not delivered by the end (day 24), 4 days after the promised day 20, "
        "as the last report warned (at risk): -8 (late)"
    )
    surprise = trust.on_horizon(promise("on_track", 20), 24)
    assert surprise is not None
    assert surprise.delta == -(8 * 3 + 5)
    assert trust.on_horizon(promise("on_track", 20), 20) is None


@pytest.mark.parametrize(
    ("influence", "delta"),
    [(1, -3), (2, -6), (0.5, -1.5), (3, -9), (5, -9), (0.1, -0.75)],
)
def test_decline_costs_3_times_influence_capped(influence: float, delta: float) -> None:
    change = trust.on_decline("Sales", influence, item_id=7)
    assert change.delta == pytest.approx(delta)
    assert change.cause == "declined"


def test_decline_explanation() -> None:
    assert trust.on_decline("Sales", 2, item_id=7).explanation == (
        "Declined request #7 from Sales (influence 2): -6 (3 x 2)"
    )


@pytest.mark.parametrize(("influence", "delta"), [(1, -4), (2, -8), (0.5, -2), (4, -12)])
def test_ignored_request_costs_4_times_influence(influence: float, delta: float) -> None:
    change = trust.on_ignored("Ops", influence, waited_days=10, patience_days=5, item_id=3)
    assert change.delta == delta
    assert change.cause == "ignored"
    assert change.stakeholder == "Ops"


def test_ignored_explanation() -> None:
    assert trust.on_ignored("Ops", 1.5, 5, 5).explanation == (
        "A request from Ops (influence 1.5) waited 5 days in the inbox (patience 5 days): "
        "-6 (4 x 1.5)"
    )


def test_missed_report_costs_3() -> None:
    assert trust.on_missed_report("Sales", 30) == TrustChange(
        "Sales", -3.0, "missed_report", "No status report for Sales at the review on day 30: -3"
    )


@pytest.mark.parametrize(
    ("before", "delta", "after"),
    [(50, 5, 55), (98, 5, 100), (100, 5, 100), (10, -23, 0), (0, -3, 0), (40, -6.5, 33.5)],
)
def test_apply_clamps_to_0_100(before: float, delta: float, after: float) -> None:
    assert trust.apply(before, delta) == after


@pytest.mark.parametrize(
    ("before", "after", "escalates"),
    [
        (35, 29, True),
        (30, 29.9, True),
        (30, 30, False),  # at the threshold is not below it
        (31, 30, False),
        (29, 20, False),  # already below: no second escalation
        (20, 35, False),
        (100, 0, True),
    ],
)
def test_escalation_when_trust_crosses_below_30(
    before: float, after: float, escalates: bool
) -> None:
    assert trust.escalates(before, after) is escalates


def test_fired_when_a_most_influential_stakeholder_ends_below_10() -> None:
    assert trust.fired([("CEO", 3, 9.5), ("Ops", 1, 0)]) == "CEO"
    assert trust.fired([("CEO", 3, 10), ("Ops", 1, 0)]) is None  # Ops is not the most influential
    assert trust.fired([("CEO", 3, 50), ("CFO", 3, 5), ("COO", 3, 2)]) == "COO"
    assert trust.fired([]) is None


def test_influence_weighted_mean() -> None:
    # (2 x 80 + 1 x 20) / 3 = 60
    assert trust.influence_weighted_mean([(2, 80), (1, 20)]) == 60
    assert trust.influence_weighted_mean([]) is None
    assert trust.influence_weighted_mean([(0, 50)]) is None


def test_promise_rejects_an_unknown_status_or_an_infinite_day() -> None:
    with pytest.raises(ValueError, match="status must be one of on_track, at_risk, late"):
        Promise("Sales", 0, "green", 10)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="finite"):
        Promise("Sales", 0, "at_risk", float("inf"))


def test_every_change_has_a_known_cause() -> None:
    changes = [
        trust.on_delivery(promise(), 19),
        trust.on_delivery(promise("at_risk"), 21),
        trust.on_delivery(promise(), 21),
        trust.on_reforecast(promise(), promise(forecast_day=25)),
        trust.on_decline("Sales", 1),
        trust.on_ignored("Sales", 1, 5, 5),
        trust.on_missed_report("Sales", 10),
    ]
    assert [change.cause for change in changes if change] == list(trust.CAUSES)


def test_rules_text_states_every_number() -> None:
    rules = trust.explain_rules()
    assert "\n".join(rules) == trust.RULES_TEXT
    assert rules[1] == "Delivering on or before the promised day: +5."
    assert rules[3] == (
        "A surprise (late while the last report said on track): the late penalty x3, plus -5."
    )
    for number in ("+5", "-2 per day", "-20", "x3", "-0.5 per day", "-3 x", "-4 x", "below 30"):
        assert number in trust.RULES_TEXT
    assert "2 hours" in trust.RULES_TEXT
    assert "between 0.25 and 3" in trust.RULES_TEXT
    assert "below 10 trust" in trust.RULES_TEXT
