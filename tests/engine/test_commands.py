"""Every product-owner command through :meth:`Simulation.apply`, as a human PO gives them.

Each command changes the state as DESIGN section 3 says; a command that is not
allowed raises :class:`CommandError` and changes nothing; commands round-trip
through JSON; and a played game replays exactly from ``(scenario, seed,
commands)``.
"""

from __future__ import annotations

import contextlib
import json
import math
from typing import Any

import pytest

from posim.engine import (
    Accept,
    Answer,
    CommandError,
    Commit,
    Decline,
    Reorder,
    Report,
    SetWip,
    Simulation,
    simulate,
)
from posim.engine import commands as cmd
from posim.engine import trust as tr
from posim.scenario import Scenario

GAME: dict[str, Any] = {
    "posim": 1,
    "name": "Commands",
    "horizon_days": 30,
    "cadence": {"mode": "kanban", "review_every": 5},
    "ready_wip": 2,
    "workflow": [{"name": "dev", "wip": 2}, {"name": "test", "wip": 1}],
    "team": [
        {"name": "Dev", "skills": {"dev": 1.0}},
        {"name": "Tess", "skills": {"test": 1.0}},
    ],
    "stakeholders": [
        {
            "name": "Sales",
            "influence": 2,
            "trust": 60,
            "patience": 3,
            "requests": {"every": 1.5, "template": "feature"},
        },
        {"name": "Ops", "influence": 1, "trust": 50},
    ],
    "templates": {
        "feature": {
            "value": {"dist": "uniform", "low": 100, "high": 900},
            "cost_of_delay": {"dist": "uniform", "low": 1, "high": 20},
            "effort": {"dev": {"dist": "uniform", "low": 0.5, "high": 2}, "test": 0.5},
        }
    },
    "backlog": [
        {"title": "One", "value": 100, "cost_of_delay": 5, "effort": {"dev": 2, "test": 1}},
        {"title": "Two", "value": 200, "cost_of_delay": 5, "effort": {"dev": 1, "test": 1}},
        {"title": "Three", "value": 300, "cost_of_delay": 5, "requester": "Ops",
         "effort": {"dev": 1, "test": 1}},
        {"title": "Four", "class": "expedite", "value": 50, "cost_of_delay": 40,
         "effort": {"dev": 1, "test": 1}},
    ],
}  # fmt: skip
"""A small game: Ready limit 2, two stakeholders, requests every 1.5 days, four backlog items."""


def game(**overrides: Any) -> Scenario:
    """:data:`GAME` with top-level overrides."""
    return Scenario.model_validate({**GAME, **overrides})


def human(scenario: Scenario | None = None, *, auto_commit: bool = False) -> Simulation:
    """A simulation played by a person (``strategy=None``)."""
    return Simulation(scenario or game(), seed=5, strategy=None, auto_commit=auto_commit)


def backlog_ids(sim: Simulation) -> list[int]:
    """Item ids in backlog order."""
    return [i.id for i in sim.backlog]


def fingerprint(sim: Simulation) -> tuple[Any, ...]:
    """Everything a refused command must leave untouched."""
    return (
        backlog_ids(sim),
        sorted(sim.ready),
        [i.id for i in sim.inbox],
        [i.id for i in sim.questions],
        [(i.id, i.state) for i in sim.items],
        list(sim.wip),
        sim.ready_wip,
        {s.name: s.trust for s in sim.stakeholders.values()},
        len(sim.commands),
        len(sim.books.promises),
    )


def refused(sim: Simulation, command: cmd.Command, reason: str) -> None:
    """Assert ``command`` raises CommandError mentioning ``reason`` and changes nothing."""
    before = fingerprint(sim)
    with pytest.raises(CommandError, match=reason):
        sim.apply(command)
    assert fingerprint(sim) == before


# ----------------------------------------------------------------------
# Reorder and Commit
# ----------------------------------------------------------------------


def test_reorder_moves_a_backlog_item() -> None:
    sim = human()
    assert backlog_ids(sim) == [1, 2, 3, 4]
    sim.apply(Reorder(3, 0))
    assert backlog_ids(sim) == [3, 1, 2, 4]
    sim.apply(Reorder(3, 99))  # past the end: the bottom
    assert backlog_ids(sim) == [1, 2, 4, 3]
    sim.apply(Reorder(2, 1))
    assert backlog_ids(sim) == [1, 2, 4, 3]
    assert sim.commands == [(0, Reorder(3, 0)), (0, Reorder(3, 99)), (0, Reorder(2, 1))]
    refused(sim, Reorder(42, 0), "no item #42")
    sim.apply(Commit(1))
    refused(sim, Reorder(1, 0), "not in the backlog")


def test_a_strategy_cannot_reorder() -> None:
    sim = Simulation(game(), seed=5, strategy="wsjf")
    backlog = [i for i in sim.items if i.state == "backlog"]
    assert backlog
    refused(sim, Reorder(backlog[0].id, 0), "strategy")


def settle(sim: Simulation) -> None:
    """Process every event due now (members start and pull) without moving the clock."""
    while sim.env.peek() <= sim.now:
        sim.env.step()


def test_commit_moves_an_item_to_ready_within_its_limit() -> None:
    sim = human()
    settle(sim)
    assert sim.ready == {} and all(m.waiting for m in sim.members)
    sim.apply(Commit(2))  # Dev is free: pulls it into dev at once
    item = sim.item(2)
    assert item.committed == 0 and item.started == 0
    assert item.state == "column" and item.worker == "Dev"
    sim.apply(Commit(3))
    sim.apply(Commit(1))
    assert sorted(sim.ready) == [1, 3] and backlog_ids(sim) == [4]
    assert all(sim.item(i).state == "ready" for i in (1, 3))
    refused(sim, Commit(2), "not in the backlog")
    refused(sim, Commit(99), "no item #99")
    assert [r.item for r in sim.records if r.kind == "committed"] == [2, 3, 1]
    assert sim.commands == [(0, Commit(2)), (0, Commit(3)), (0, Commit(1))]


def test_ready_limit_refuses_all_but_expedite() -> None:
    sim = human(game(ready_wip=1))
    settle(sim)
    sim.apply(Commit(1))  # pulled at once: Dev develops it for 2 days
    sim.apply(Commit(2))
    refused(sim, Commit(3), r"Ready is full \(WIP limit 1\)")
    sim.apply(Commit(4))  # expedite: may exceed Ready's limit
    assert sorted(sim.ready) == [2, 4]
    sim.run_until(2.5)
    # Dev finished #1 at day 2 and took the expedite item first, though committed last.
    assert sim.item(4).started == 2.0 and sim.item(4).worker == "Dev"
    assert sim.item(2).state == "ready"


def test_auto_commit_keeps_ready_full_for_a_human() -> None:
    """With auto-commit, a human PO's Ready refills from the top of the backlog."""
    sim = human(auto_commit=True)
    assert sorted(sim.ready) == [1, 2] and backlog_ids(sim) == [3, 4]
    settle(sim)  # Dev pulls #1: Ready has room, #3 follows
    assert sim.item(1).state == "column"
    assert sorted(sim.ready) == [2, 3] and backlog_ids(sim) == [4]
    assert sim.commands == []  # automatic commits are not the person's commands


# ----------------------------------------------------------------------
# Inbox: Accept and Decline
# ----------------------------------------------------------------------


def test_accept_puts_a_request_in_the_backlog_at_a_rank() -> None:
    sim = human()
    sim.run_until(3.1)  # requests every 1.5 days: two so far
    assert [i.id for i in sim.inbox] == [5, 6]
    assert all(i.state == "inbox" and i.requester == "Sales" for i in sim.inbox)
    trust = sim.stakeholders["Sales"].trust
    sim.apply(Accept(6, rank=1))
    assert backlog_ids(sim) == [1, 6, 2, 3, 4]
    sim.apply(Accept(5))  # no rank: the bottom
    assert backlog_ids(sim) == [1, 6, 2, 3, 4, 5]
    assert sim.inbox == []
    assert sim.stakeholders["Sales"].trust == trust  # accepting costs nothing
    accepted = [(r.item, r.value) for r in sim.records if r.kind == "accepted"]
    assert accepted == [(6, 1), (5, None)]
    refused(sim, Accept(5), "not in the inbox")
    refused(sim, Accept(1, rank=0), "not in the inbox")


def test_decline_costs_trust_by_influence() -> None:
    sim = human()
    sim.run_until(1.6)
    assert [i.id for i in sim.inbox] == [5]
    before = sim.stakeholders["Sales"].trust
    sim.apply(Decline(5))
    item = sim.item(5)
    assert item.state == "declined" and item.declined == pytest.approx(1.6)
    assert sim.inbox == []
    # Sales has influence 2: twice the cost a typical stakeholder feels.
    assert sim.stakeholders["Sales"].trust == pytest.approx(before - 2 * tr.DECLINE_COST)
    trust_records = [r for r in sim.records if r.kind == "trust"]
    assert trust_records[-1].value == pytest.approx(-2 * tr.DECLINE_COST)
    assert trust_records[-1].detail.startswith("declined")
    refused(sim, Decline(5), "not in the inbox")
    refused(sim, Decline(2), "not in the inbox")
    # A declined request stops costing delay on the day it was declined.
    sim.run_until(10)
    result = sim.result()
    row = next(r for r in result.items if r["id"] == 5)
    assert row["declined"] == pytest.approx(1.6)


# ----------------------------------------------------------------------
# Questions: Answer
# ----------------------------------------------------------------------


def test_answer_unblocks_a_question() -> None:
    scenario = game(slippage={"question_rate": 1.0}, stakeholders=[{"name": "Ops"}])
    sim = human(scenario)
    sim.apply(Commit(1))
    settle(sim)
    # #1 entered dev and asked its question at once: blocked, Dev is still free.
    item = sim.item(1)
    assert item.state == "column" and item.active_block == "question"
    assert [i.id for i in sim.questions] == [1]
    assert item.worker is None
    refused(sim, Answer(2), "no open question")
    sim.run_until(1.25)
    assert item.active_block == "question"
    sim.apply(Answer(1))
    assert item.active_block is None and sim.questions == []
    assert item.blocked_time["question"] == pytest.approx(1.25)
    assert item.worker == "Dev"  # pulled back into work at once
    blocked = [(r.time, r.kind, r.detail) for r in sim.records if r.item == 1]
    assert (0, "blocked", "question") in blocked
    assert (1.25, "unblocked", "question") in blocked
    refused(sim, Answer(1), "no open question")
    sim.run_until(10)
    assert item.done == pytest.approx(1.25 + 2 + 1)
    assert sim.result().metrics["blocked_days"] == pytest.approx(1.25)


# ----------------------------------------------------------------------
# Report
# ----------------------------------------------------------------------


def test_report_makes_a_promise_and_a_later_one_costs_a_little_trust() -> None:
    sim = human()
    sim.run_until(5.0)
    assert sim.review_due is False  # the review fires at day 5 itself
    sim.run_until(5.01)
    assert sim.review_due is True
    sim.apply(Report("Ops", "on_track", 9.0))
    promise = sim.books.promises[-1]
    assert (promise.stakeholder, promise.status, promise.forecast_day) == ("Ops", "on_track", 9.0)
    assert promise.item_ids == (3,)  # Ops's open item
    assert sim.stakeholders["Ops"].last_report == promise
    report = [r for r in sim.records if r.kind == "report"][-1]
    assert (report.stakeholder, report.value, report.detail) == ("Ops", 9.0, "on_track")
    trust = sim.stakeholders["Ops"].trust
    sim.apply(Report("Ops", "at_risk", 13.0))  # four days later: re-forecast
    assert sim.stakeholders["Ops"].trust == pytest.approx(trust - 4 * tr.REFORECAST_COST_PER_DAY)
    assert len(sim.books.promises) == 2
    refused(sim, Report("Nobody", "on_track", 3.0), "no stakeholder 'Nobody'")
    refused(sim, Report("Ops", "fine", 3.0), "unknown status")  # type: ignore[arg-type]
    refused(sim, Report("Ops", "late", -1.0), "day >= 0")
    refused(sim, Report("Ops", "late", math.nan), "day >= 0")
    refused(sim, Report("Ops", "late", math.inf), "day >= 0")


# ----------------------------------------------------------------------
# SetWip
# ----------------------------------------------------------------------


def test_set_wip_changes_limits_and_lets_work_flow() -> None:
    scenario = game(workflow=[{"name": "dev", "wip": 1}, {"name": "test", "wip": 1}])
    sim = human(scenario)
    sim.apply(Commit(1))
    sim.apply(Commit(2))
    settle(sim)
    assert sim.counts == [1, 0] and sim.item(2).state == "ready"
    sim.apply(SetWip("test", None))
    assert sim.wip == [1, None]
    sim.apply(SetWip("dev", 3))
    assert sim.wip == [3, None]
    wip_records = [(r.column, r.value) for r in sim.records if r.kind == "wip"]
    assert wip_records == [("test", None), ("dev", 3)]
    sim.apply(SetWip("ready", 1))
    assert sim.ready_wip == 1
    refused(sim, SetWip("dev", 0), "at least 1")
    refused(sim, SetWip("review", 2), "no column 'review'")


def test_raising_a_wip_limit_lets_a_waiting_member_pull_at_once() -> None:
    scenario = game(
        workflow=[{"name": "dev", "wip": 1}, {"name": "test"}],
        team=[{"name": "Dev", "count": 2, "skills": {"dev": 1.0}}, {"name": "Tess", "skills": {"test": 1.0}}],
    )  # fmt: skip
    sim = human(scenario)
    sim.apply(Commit(1))
    sim.apply(Commit(2))
    settle(sim)
    assert sim.item(2).state == "ready"  # dev is full; Dev 2 waits
    sim.run_until(0.5)
    sim.apply(SetWip("dev", 2))
    assert sim.item(2).state == "column"
    assert sim.item(2).started == 0.5


def test_raising_ready_limit_refills_ready_with_auto_commit() -> None:
    sim = human(game(workflow=[{"name": "dev", "wip": 1}, {"name": "test", "wip": 1}]),
                auto_commit=True)  # fmt: skip
    assert sorted(sim.ready) == [1, 2] and backlog_ids(sim) == [3, 4]
    sim.apply(SetWip("ready", 3))
    assert sorted(sim.ready) == [1, 2, 3] and backlog_ids(sim) == [4]
    sim.apply(SetWip("ready", None))
    assert sorted(sim.ready) == [1, 2, 3, 4] and sim.backlog == []


# ----------------------------------------------------------------------
# JSON
# ----------------------------------------------------------------------

ALL_COMMANDS: list[cmd.Command] = [
    Reorder(3, 0),
    Commit(2),
    Accept(5, rank=1),
    Accept(6),
    Decline(7),
    Answer(1),
    Report("Sales", "at_risk", 12.5),
    SetWip("dev", 3),
    SetWip("ready", None),
]


@pytest.mark.parametrize("command", ALL_COMMANDS, ids=cmd.describe)
def test_json_round_trip(command: cmd.Command) -> None:
    data = cmd.to_json(command)
    assert data["type"] == cmd.command_name(command)
    assert cmd.from_json(json.loads(json.dumps(data))) == command


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ([], "not a command"),
        ({"item": 1}, "not a command"),
        ({"type": "launch", "item": 1}, "not a command"),
        ({"type": "commit", "item": 1, "rank": 2}, "unknown fields"),
        ({"type": "report", "stakeholder": "Sales"}, "bad report command"),
    ],
)
def test_from_json_rejects_bad_input(data: Any, reason: str) -> None:
    with pytest.raises(CommandError, match=reason):
        cmd.from_json(data)


# ----------------------------------------------------------------------
# Replay
# ----------------------------------------------------------------------

REPLAY = {
    **GAME,
    "horizon_days": 40,
    "slippage": {
        "effort_sigma": 0.4,
        "defect_rate": 0.2,
        "blocker_rate": 0.2,
        "question_rate": 0.4,
        "scope_rate": 0.2,
    },
    "stakeholders": [
        {
            "name": "Sales",
            "influence": 2,
            "patience": 2,
            "requests": {"every": {"dist": "exponential", "mean": 1.5}, "template": "feature"},
        },
        {"name": "Ops", "influence": 1, "trust": 50},
    ],
    "team": [
        {"name": "Dev", "skills": {"dev": 1.0}, "absence_rate": 0.05},
        {"name": "Tess", "skills": {"test": 1.0, "dev": 0.5}},
    ],
}


def play(sim: Simulation) -> None:
    """A scripted person: steps the clock in uneven slices and decides as a PO would."""
    clock, turn = 0.0, 0
    sim.apply(Reorder(sim.backlog[-1].id, 0))  # before the clock starts
    while not sim.finished:
        turn += 1
        clock = min(sim.horizon, clock + (0.35 if turn % 3 else 1.1))
        sim.run_until(clock)
        for item in list(sim.inbox):
            if item.value > 400:
                sim.apply(Accept(item.id, rank=0 if item.cost_of_delay > 12 else None))
            elif turn % 2:
                sim.apply(Decline(item.id))
        for item in list(sim.questions)[:1]:
            sim.apply(Answer(item.id))
        if len(sim.backlog) >= 2:
            sim.apply(Reorder(sim.backlog[-1].id, 0))
        if sim.review_due:
            for name in sim.stakeholders:
                sim.apply(Report(name, "on_track" if turn % 5 else "at_risk", clock + 6))
        if turn == 20:
            sim.apply(SetWip("dev", 3))
        if turn == 30:
            with contextlib.suppress(CommandError):  # refused commands are not kept
                sim.apply(Commit(99))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_replay_of_a_human_game_is_identical(seed: int) -> None:
    scenario = Scenario.model_validate(REPLAY)
    sim = Simulation(scenario, seed=seed, strategy=None)
    play(sim)
    played = sim.result()
    kinds = {type(c) for _, c in sim.commands}
    assert kinds == {Accept, Decline, Answer, Reorder, Report, SetWip}
    assert all(not isinstance(c, Commit) or c.item != 99 for _, c in sim.commands)
    replayed = simulate(scenario, seed=seed, commands=sim.commands)
    assert replayed.metrics == played.metrics
    assert replayed.records == played.records
    assert replayed.items == played.items
    # ... also after a trip through JSON, as a saved game would take.
    saved = [(day, cmd.to_json(c)) for day, c in sim.commands]
    loaded = [(day, cmd.from_json(data)) for day, data in saved]
    assert simulate(scenario, seed=seed, commands=loaded).metrics == played.metrics
    # The decisions matter: a PO who does nothing ends elsewhere.
    idle = simulate(scenario, seed=seed, commands=[])
    assert idle.metrics != played.metrics


@pytest.mark.parametrize("item", [1, 42, 10_000])
def test_the_automatic_decisions_descriptions_are_describes(item: int) -> None:
    # Automatic accepts and commits are recorded without building the command.
    assert cmd.describe_accept(item) == cmd.describe(cmd.Accept(item))
    assert cmd.describe_commit(item) == cmd.describe(cmd.Commit(item))
