"""The product owner's job: inbox, triage, questions, attention, escalation, scrum cadence.

Every figure here follows from the rules of :mod:`posim.engine.trust` and
DESIGN section 2, worked out by hand for small scenarios.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest

from posim.engine import Accept, Answer, Decline, Simulation, simulate
from posim.engine import trust as tr
from posim.scenario import Scenario


def scenario(**fields: Any) -> Scenario:
    """A one-column scenario with one developer; fields override the defaults."""
    data: dict[str, Any] = {
        "posim": 1,
        "name": "PO",
        "horizon_days": 20,
        "workflow": [{"name": "dev"}],
        "team": [{"name": "Dev", "skills": {"dev": 1.0}}],
        "templates": {
            "ask": {
                "value": {"dist": "uniform", "low": 0, "high": 1000},
                "cost_of_delay": 5,
                "effort": {"dev": {"dist": "uniform", "low": 0.5, "high": 3}},
            }
        },
    }
    data.update(fields)
    return Scenario.model_validate(data)


def one_request(name: str, day: float = 1.0, **fields: Any) -> dict[str, Any]:
    """A stakeholder who sends exactly one request, on ``day``."""
    return {
        "name": name,
        "requests": {"every": day, "until": day + 0.5, "template": "ask"},
        **fields,
    }


def trust_records(records: list[Any], cause: str) -> list[Any]:
    """The ``trust`` records with this cause."""
    return [r for r in records if r.kind == "trust" and r.detail.startswith(f"{cause}:")]


# ----------------------------------------------------------------------
# Inbox
# ----------------------------------------------------------------------


def test_a_request_left_waiting_costs_trust_every_patience_period() -> None:
    """Influence 2, patience 2: -8 trust at days 3, 5 and 7; accepted on day 8, no more."""
    s = scenario(stakeholders=[one_request("Sales", influence=2, patience=2, trust=60)])
    sim = Simulation(s, seed=1, strategy=None)
    sim.run_until(8)
    assert [i.id for i in sim.inbox] == [1]
    expired = [(r.time, r.item, r.value) for r in sim.records if r.kind == "expired"]
    assert expired == [(3.0, 1, 2.0), (5.0, 1, 4.0), (7.0, 1, 6.0)]
    ignored = trust_records(sim.records, "ignored")
    assert [(r.time, r.stakeholder, r.value) for r in ignored] == [
        (t, "Sales", -2 * tr.IGNORED_COST) for t in (3.0, 5.0, 7.0)
    ]
    assert sim.stakeholders["Sales"].trust == 60 - 3 * 2 * tr.IGNORED_COST
    sim.apply(Accept(1))
    sim.run_until(20)
    assert len(trust_records(sim.records, "ignored")) == 3
    assert sim.result().metrics["trust_mean"] == 60 - 3 * 2 * tr.IGNORED_COST


def test_a_strategy_triages_at_once_and_is_never_ignored() -> None:
    s = scenario(stakeholders=[one_request("Sales", influence=2, patience=2, trust=60)])
    result = simulate(s, strategy="fifo", seed=1)
    assert [r.kind for r in result.records if r.item == 1][:2] == ["arrived", "accepted"]
    assert trust_records(result.records, "ignored") == []
    assert result.metrics["trust_mean"] == 60


@pytest.mark.parametrize(("influence", "factor"), [(0.1, 0.25), (1, 1.0), (2, 2.0), (5, 3.0)])
def test_a_decline_costs_trust_by_influence(influence: float, factor: float) -> None:
    """-DECLINE_COST x influence factor (kept between 0.25 and 3)."""
    s = scenario(
        stakeholders=[one_request("Sales", influence=influence, trust=60)],
        product_owner={"triage": "value_bar", "value_bar": 1e9},
    )
    result = simulate(s, strategy="fifo", seed=1)
    declined = trust_records(result.records, "declined")
    assert [(r.time, r.value) for r in declined] == [(1.0, -tr.DECLINE_COST * factor)]
    assert result.items[0]["state"] == "declined"
    assert result.metrics["trust_mean"] == pytest.approx(60 - tr.DECLINE_COST * factor)


def test_escalation_when_trust_falls_below_the_threshold() -> None:
    """Trust 33: the first decline leaves 30 (not below), the second 27 escalates, once."""
    s = scenario(
        stakeholders=[
            {
                "name": "CFO",
                "trust": 33,
                "requests": {"every": 1, "until": 3.5, "template": "ask"},
            }
        ],
        product_owner={"daily_budget": 4.0},
    )
    sim = Simulation(s, seed=1, strategy=None)
    for day in (1, 2, 3):
        sim.run_until(day + 0.01)
        sim.apply(Decline(sim.inbox[0].id))
    escalations = [(r.time, r.stakeholder, r.value) for r in sim.records if r.kind == "escalation"]
    assert escalations == [(2.01, "CFO", 33 - 2 * tr.DECLINE_COST)]
    assert sim.books.escalations == 1
    assert sim.stakeholders["CFO"].trust == 33 - 3 * tr.DECLINE_COST
    # The meeting takes the PO's attention: two hours of the four-hour day.
    assert sim.books.po_hours_used == tr.ESCALATION_PO_HOURS
    assert sim.books.po_free_at == pytest.approx(2.01 + tr.ESCALATION_PO_HOURS / 4.0)


def test_a_missed_review_costs_trust() -> None:
    """A human who never reports: each review that passes unreported costs MISSED_REPORT_COST."""
    s = scenario(
        cadence={"mode": "kanban", "review_every": 5},
        stakeholders=[{"name": "Ops", "trust": 50}],
        horizon_days=16,
    )
    result = simulate(s, seed=1, commands=[])
    missed = trust_records(result.records, "missed_report")
    # The review of day 5 is missed when the one of day 10 comes, and so on.
    assert [(r.time, r.value) for r in missed] == [
        (10.0, -tr.MISSED_REPORT_COST),
        (15.0, -tr.MISSED_REPORT_COST),
    ]
    assert result.metrics["trust_mean"] == 50 - 2 * tr.MISSED_REPORT_COST
    assert [r.time for r in result.records if r.kind == "review"] == [5.0, 10.0, 15.0]


# ----------------------------------------------------------------------
# Triage policies
# ----------------------------------------------------------------------


def test_value_bar_triage_accepts_exactly_what_clears_the_bar() -> None:
    s = scenario(
        horizon_days=60,
        stakeholders=[
            {"name": "Sales", "requests": {"every": {"dist": "exponential", "mean": 1}, "template": "ask"}}
        ],
        product_owner={"triage": "value_bar", "value_bar": 300},
    )  # fmt: skip
    result = simulate(s, strategy="fifo", seed=4)
    accepted = [r for r in result.items if r["state"] != "declined"]
    declined = [r for r in result.items if r["state"] == "declined"]
    assert len(accepted) >= 10 and len(declined) >= 10
    assert all(r["value"] / r["estimate_total"] >= 300 for r in accepted)
    assert all(r["value"] / r["estimate_total"] < 300 for r in declined)
    assert all(r["declined"] == r["arrived"] for r in declined)


def test_cap_backlog_triage_declines_when_the_backlog_is_full() -> None:
    """Replayed from the records: each decision against the backlog size at that moment."""
    s = scenario(
        horizon_days=60,
        ready_wip=1,
        stakeholders=[
            {"name": "Sales", "requests": {"every": {"dist": "exponential", "mean": 0.5}, "template": "ask"}}
        ],
        product_owner={"triage": "cap_backlog", "backlog_cap": 3},
    )  # fmt: skip
    result = simulate(s, strategy="fifo", seed=2)
    backlog = 0
    decisions = {"accepted": 0, "declined": 0}
    for record in result.records:
        if record.kind == "accepted":
            assert backlog < 3
            backlog += 1
        elif record.kind == "declined":
            assert backlog >= 3
        elif record.kind == "committed":
            backlog -= 1
        if record.kind in decisions:
            decisions[record.kind] += 1
        assert 0 <= backlog <= 3
    assert decisions["accepted"] >= 20 and decisions["declined"] >= 20


# ----------------------------------------------------------------------
# Questions and the PO's attention
# ----------------------------------------------------------------------

QUESTIONS: dict[str, Any] = {
    "team": [{"name": "Dev", "count": 3, "skills": {"dev": 1.0}}],
    "slippage": {"question_rate": 1.0},
    "backlog": [{"title": t, "effort": {"dev": 1}} for t in ("A", "B", "C")],
}


def unblocked_days(records: list[Any]) -> list[float]:
    """Days on which questions were answered."""
    return [r.time for r in records if r.kind == "unblocked" and r.detail == "question"]


def test_a_question_blocks_its_item_for_the_response_time() -> None:
    s = scenario(**QUESTIONS, product_owner={"response_days": 1.5})
    result = simulate(s, strategy="fifo", seed=1)
    assert unblocked_days(result.records) == [1.5, 1.5, 1.5]
    assert [r["blocked_question"] for r in result.items] == [1.5, 1.5, 1.5]
    assert [r["done"] for r in result.items] == [2.5, 2.5, 2.5]
    assert result.metrics["blocked_days"] == 4.5


def test_a_small_daily_budget_delays_answers() -> None:
    """Half an hour a day and an hour per answer: the three answers come at days 2, 4, 6."""
    fast = simulate(
        scenario(**QUESTIONS, product_owner={"response_days": 0, "answer_hours": 1}),
        strategy="fifo",
        seed=1,
    )
    assert unblocked_days(fast.records) == [0, 0, 0]
    slow = simulate(
        scenario(
            **QUESTIONS,
            product_owner={"response_days": 0, "answer_hours": 1, "daily_budget": 0.5},
        ),
        strategy="fifo",
        seed=1,
    )
    assert unblocked_days(slow.records) == [2.0, 4.0, 6.0]
    assert slow.metrics["blocked_days"] == 12.0 > fast.metrics["blocked_days"] == 0


@pytest.mark.parametrize("seed", range(6))
def test_a_slower_po_causes_more_blocked_days(seed: int) -> None:
    """Same luck (paired seed), response 0.25 vs 2 days: more blocked time, every time."""
    data: dict[str, Any] = {
        "horizon_days": 40,
        "team": [{"name": "Dev", "count": 2, "skills": {"dev": 1.0}}],
        "slippage": {"question_rate": 0.5, "effort_sigma": 0.5},
        "backlog": [{"generate": 30, "template": "ask"}],
    }
    quick = simulate(scenario(**data, product_owner={"response_days": 0.25}), "fifo", seed=seed)
    slow = simulate(scenario(**data, product_owner={"response_days": 2}), "fifo", seed=seed)
    assert slow.metrics["blocked_days"] > quick.metrics["blocked_days"] > 0
    # Each answered question waited the response time exactly (no budget set).
    for rows, days in ((quick.items, 0.25), (slow.items, 2.0)):
        waits = [r["blocked_question"] for r in rows if r["blocked_question"] > 0]
        assert waits and all(w == pytest.approx(days) for w in waits)


# ----------------------------------------------------------------------
# Scrum cadence
# ----------------------------------------------------------------------


def test_scrum_commits_at_planning_up_to_capacity_and_reviews_at_sprint_end() -> None:
    """Two developers, sprints of 5 days, focus 0.7: the first sprint plans 7 effort-days.

    Items estimated at 2 days: three fit (6 <= 7), a fourth would not.  Later
    sprints plan by yesterday's weather (estimates finished in the last sprint).
    """
    s = scenario(
        horizon_days=20,
        cadence={"mode": "scrum", "sprint_days": 5, "focus_factor": 0.7},
        team=[{"name": "Dev", "count": 2, "skills": {"dev": 1.0}}],
        stakeholders=[{"name": "Sales", "trust": 60}],
        backlog=[{"title": f"I{n}", "requester": "Sales", "effort": {"dev": 2}} for n in range(12)],
    )
    result = simulate(s, strategy="fifo", seed=1)
    records = result.records
    plannings = [(r.time, r.value) for r in records if r.kind == "sprint"]
    assert plannings == [(0, 1), (5.0, 2), (10.0, 3), (15.0, 4)]
    committed = [(r.time, r.item) for r in records if r.kind == "committed"]
    assert {t for t, _ in committed} <= {0, 5.0, 10.0, 15.0}
    assert [i for t, i in committed if t == 0] == [1, 2, 3]
    # Sprint 1: two developers finish #1 and #2 at day 2, #3 at day 4: 6 effort-days.
    # Sprint 2 plans 6 effort-days: three more items.
    assert [i for t, i in committed if t == 5.0] == [4, 5, 6]
    done = [r.time for r in records if r.kind == "done"]
    assert done[:3] == [2.0, 2.0, 4.0]
    # Nothing is committed between plannings, though members sit idle from day 4.
    assert not any(r.kind == "started" and 4.0 < r.time < 5.0 for r in records)
    # Reviews close each sprint, with a report to the stakeholder.
    assert [r.time for r in records if r.kind == "review"] == [5.0, 10.0, 15.0]
    reports = [r for r in records if r.kind == "report"]
    assert [r.time for r in reports] == [5.0, 10.0, 15.0]
    assert all(r.stakeholder == "Sales" for r in reports)


# ----------------------------------------------------------------------
# Determinism with everything switched on
# ----------------------------------------------------------------------

EVERYTHING: dict[str, Any] = {
    "posim": 1,
    "name": "Everything",
    "horizon_days": 60,
    "cadence": {"mode": "kanban", "replenish_every": 3, "review_every": 5},
    "ready_wip": 4,
    "workflow": [{"name": "analysis", "wip": 2}, {"name": "dev", "wip": 3}, {"name": "test", "wip": 2}],
    "team": [
        {"name": "Ana", "skills": {"analysis": 1.0, "dev": 0.5}, "absence_rate": 0.05},
        {"name": "Dev", "count": 2, "skills": {"dev": 1.0}, "absence_rate": 0.05,
         "absence_days": {"dist": "uniform", "low": 0.5, "high": 3}},
        {"name": "Tess", "skills": {"test": 1.0}},
    ],
    "slippage": {
        "effort_sigma": 0.5, "iceberg_rate": 0.1, "defect_rate": 0.3, "rework_fraction": 0.4,
        "blocker_rate": 0.2, "blocker_days": {"dist": "exponential", "mean": 2},
        "question_rate": 0.3, "scope_rate": 0.2,
    },
    "stakeholders": [
        {"name": "Sales", "influence": 2, "trust": 55, "patience": 3,
         "requests": {"every": {"dist": "exponential", "mean": 2}, "template": "feature"}},
        {"name": "Legal", "influence": 1, "report_every": 7,
         "requests": {"every": {"dist": "weibull", "scale": 6, "shape": 1.5}, "template": "deadline"}},
        {"name": "Support", "influence": 0.5,
         "requests": {"every": {"dist": "empirical", "values": [3, 5, 8]}, "template": "feature",
                      "class": "expedite"}},
    ],
    "templates": {
        "feature": {
            "value": {"dist": "lognormal", "median": 800, "sigma": 0.6},
            "cost_of_delay": {"dist": "normal", "mean": 20, "sd": 10},
            "effort": {"analysis": {"dist": "constant", "value": 0.5},
                       "dev": {"dist": "triangular", "low": 0.5, "mode": 2, "high": 6},
                       "test": {"dist": "uniform", "low": 0.3, "high": 1}},
        },
        "deadline": {
            "class": "fixed_date", "value": 1500, "cost_of_delay": 10, "due_in": 15,
            "effort": {"dev": {"dist": "exponential", "mean": 2}, "test": 0.5},
        },
        "improvement": {
            "class": "intangible", "effort": {"dev": 2},
            "effect": {"defect_rate": -0.1, "speed": {"test": 1.5}},
        },
    },
    "backlog": [
        {"generate": 10, "template": "feature", "requester": "Sales"},
        {"generate": 1, "template": "improvement"},
        {"title": "Audit", "class": "fixed_date", "due": 20, "value": 900, "cost_of_delay": 30,
         "requester": "Legal", "effort": {"analysis": 1, "dev": 2, "test": 1}},
    ],
    "events": [
        {"day": 10, "absent": "Tess", "days": 3},
        {"day": 25, "leave": "Dev 2"},
        {"day": 30, "join": {"name": "Nina", "skills": {"dev": 1.0, "test": 0.5}}, "ramp_up_days": 5},
    ],
    "product_owner": {"daily_budget": 3, "response_days": 0.5, "triage": "value_bar",
                      "value_bar": 120},
}  # fmt: skip
"""A scenario with every source of randomness and every PO duty switched on."""


@pytest.mark.parametrize("strategy", ["cos+honest", "wsjf+green", "random+optimistic"])
def test_everything_switched_on_is_deterministic(strategy: str) -> None:
    s = Scenario.model_validate(EVERYTHING)
    first = simulate(s, strategy=strategy, seed=42)
    second = simulate(Scenario.model_validate(EVERYTHING), strategy=strategy, seed=42)
    assert first.records == second.records
    assert first.metrics == second.metrics
    assert first.items == second.items
    assert first.trust_changes == second.trust_changes
    kinds = {r.kind for r in first.records}
    # Everything did happen in this run.
    assert {"defect", "blocked", "scope", "absent", "left", "joined", "review", "report",
            "trust", "declined", "accepted", "expired"} - kinds <= {"expired"}  # fmt: skip
    other = simulate(s, strategy=strategy, seed=43)
    assert other.metrics != first.metrics  # the seed matters


def test_a_human_game_with_everything_replays_exactly() -> None:
    s = Scenario.model_validate(EVERYTHING)
    sim = Simulation(s, seed=9, strategy=None)
    day = 0.0
    while not sim.finished:
        day += 0.7
        sim.run_until(day)
        for item in list(sim.inbox):
            sim.apply(Accept(item.id) if item.value > 600 else Decline(item.id))
        for question in list(sim.questions):
            sim.apply(Answer(question.id))
    played = sim.result()
    assert sim.commands
    replayed = simulate(s, seed=9, commands=sim.commands)
    assert replayed.records == played.records
    assert replayed.metrics == played.metrics


_HASH_SCRIPT = """
import hashlib, json, sys
from posim.engine import simulate
from posim.scenario import Scenario
result = simulate(Scenario.model_validate(json.loads(sys.argv[1])), strategy="cos", seed=5)
print(hashlib.sha256(repr((result.records, result.metrics)).encode()).hexdigest())
"""


def test_results_do_not_depend_on_python_hash_seed() -> None:
    """Two interpreters with different PYTHONHASHSEED produce byte-identical records."""
    digests = set()
    for hash_seed in ("0", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        out = subprocess.run(
            [sys.executable, "-c", _HASH_SCRIPT, json.dumps(EVERYTHING)],
            capture_output=True, text=True, env=env, check=True, timeout=120,
        )  # fmt: skip
        digests.add(out.stdout.strip())
    assert len(digests) == 1
