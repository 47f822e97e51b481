"""Conservation of items and WIP limits, checked after every SimPy event.

Hypothesis generates small scenarios with everything that moves items around
(WIP limits, a Ready limit, expedite items, slippage, defects, blockers,
questions, discovered scope, absences, people leaving and joining,
stakeholder requests with every triage policy, kanban and scrum cadences, a
PO attention budget) and every built-in ordering, or a human PO who issues
random commands between events.  The test steps the SimPy environment one
event at a time (``sim.env.step()``) and after each step checks the board's
books:

* every item is in exactly one place (inbox, backlog, Ready, a column, Done,
  declined), the places add up to ``len(sim.items)``, and each item's state
  says the place it is in;
* the per-column counts equal the items in each column;
* a column holds at most its WIP limit, one more when an expedite item is
  in it, and more only by defects sent back to it for rework; Ready holds at
  most its limit unless an expedite item is in it;
* a member works on at most one item and an item has at most one worker;
* a Done item never comes back and its done day never changes;
* no member waits idle while an item it could work on is free to pull
  (the team pulls as soon as it can: a work-conserving board);
* records are in time order and each item's timestamps are in order.
"""

from __future__ import annotations

import random
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from posim.engine import ORDERINGS, CommandError, Simulation, simulate
from posim.engine.commands import Accept, Answer, Commit, Decline, Reorder, SetWip
from posim.scenario import Scenario

COLUMN_NAMES = ("analysis", "dev", "test")


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, Any]:
    """A small random scenario exercising every way items move."""
    ncols = draw(st.integers(1, 3))
    columns = list(COLUMN_NAMES[:ncols])
    workflow = [
        {"name": name, **({"wip": w} if (w := draw(st.sampled_from([None, 1, 2, 3]))) else {})}
        for name in columns
    ]
    team: list[dict[str, Any]] = []
    for index in range(draw(st.integers(1, 4))):
        skills = draw(
            st.dictionaries(st.sampled_from(columns), st.sampled_from([0.5, 1.0, 1.5]), min_size=1)
        )
        member: dict[str, Any] = {"name": f"M{index}", "skills": skills}
        if draw(st.booleans()):
            member["absence_rate"] = 0.15
            member["absence_days"] = {"dist": "uniform", "low": 0.3, "high": 2.5}
        team.append(member)
    # Everyone can be covered: one generalist at half speed.
    team.append({"name": "Gen", "skills": dict.fromkeys(columns, 0.5)})

    def effort() -> dict[str, Any]:
        chosen = draw(st.lists(st.sampled_from(columns), min_size=0, max_size=ncols, unique=True))
        return {c: draw(st.sampled_from([0.25, 0.5, 1.0, 2.0, 3.5])) for c in chosen}

    backlog: list[dict[str, Any]] = [
        {
            "title": f"I{n}",
            "class": draw(st.sampled_from(["standard", "standard", "expedite", "intangible"])),
            "value": draw(st.integers(0, 1000)),
            "cost_of_delay": draw(st.integers(0, 50)),
            "effort": effort(),
        }
        for n in range(draw(st.integers(0, 8)))
    ]
    if draw(st.booleans()):
        backlog.append(
            {
                "title": "Improve",
                "class": "intangible",
                "effort": {columns[0]: 1.0},
                "effect": {
                    "defect_rate": -0.2,
                    "speed": {columns[-1]: 1.5},
                    "skill": {"member": "M0", "activity": columns[-1], "efficiency": 0.75},
                },
            }
        )
    templates = {
        "req": {
            "value": {"dist": "uniform", "low": 0, "high": 1000},
            "cost_of_delay": {"dist": "uniform", "low": 0, "high": 40},
            "effort": {
                c: {"dist": "exponential", "mean": draw(st.sampled_from([0.5, 1.0, 2.0]))}
                for c in columns
            },
        }
    }
    stakeholders = [
        {
            "name": f"S{n}",
            "influence": draw(st.sampled_from([0.5, 1, 3])),
            "patience": draw(st.sampled_from([0.5, 2, 5])),
            "requests": {
                "every": {"dist": "exponential", "mean": draw(st.sampled_from([0.7, 2.0, 4.0]))},
                "template": "req",
                **({"class": "expedite"} if draw(st.integers(0, 4)) == 0 else {}),
            },
        }
        for n in range(draw(st.integers(0, 2)))
    ]
    if stakeholders and draw(st.booleans()):
        backlog.append({"generate": draw(st.integers(1, 5)), "template": "req", "requester": "S0"})
    if draw(st.booleans()):
        cadence: dict[str, Any] = {"mode": "scrum", "sprint_days": draw(st.sampled_from([3, 5]))}
    else:
        cadence = {
            "mode": "kanban",
            "replenish_every": draw(st.sampled_from([0, 0, 2.5])),
            "review_every": draw(st.sampled_from([0, 4])),
        }
    events: list[dict[str, Any]] = []
    if draw(st.booleans()):
        events.append({"day": draw(st.sampled_from([1.5, 6])), "absent": "M0", "days": 2})
    if draw(st.booleans()):
        events.append({"day": draw(st.sampled_from([2, 7.25])), "leave": "M0"})
    if draw(st.booleans()):
        events.append(
            {
                "day": draw(st.sampled_from([3, 9])),
                "join": {"name": "New", "skills": {columns[-1]: 1.0}},
                "ramp_up_days": 2,
            }
        )
    ready_wip = draw(st.sampled_from([None, 1, 2, 4]))
    return {
        "posim": 1,
        "name": "Generated",
        "horizon_days": draw(st.sampled_from([12, 25, 40])),
        "cadence": cadence,
        **({"ready_wip": ready_wip} if ready_wip else {}),
        "workflow": workflow,
        "team": team,
        "slippage": {
            "effort_sigma": draw(st.sampled_from([0, 0.5])),
            "iceberg_rate": draw(st.sampled_from([0, 0.1])),
            "defect_rate": draw(st.sampled_from([0, 0.3, 1.0])),
            "blocker_rate": draw(st.sampled_from([0, 0.3])),
            "blocker_days": {"dist": "exponential", "mean": 1.5},
            "question_rate": draw(st.sampled_from([0, 0.4])),
            "scope_rate": draw(st.sampled_from([0, 0.3])),
        },
        "stakeholders": stakeholders,
        "templates": templates,
        "backlog": backlog,
        "events": events,
        "product_owner": {
            "daily_budget": draw(st.sampled_from([None, 1.0])),
            "response_days": draw(st.sampled_from([0, 0.5, 2])),
            "triage": draw(st.sampled_from(["accept_all", "value_bar", "cap_backlog"])),
            "value_bar": 150,
            "backlog_cap": 4,
        },
    }


class BoardChecker:
    """Checks a simulation's books; remembers what was done to catch items coming back."""

    def __init__(self, sim: Simulation) -> None:
        self.sim = sim
        self.done: dict[int, float] = {}
        self.records_seen = 0

    def check(self) -> None:
        """Assert every invariant of the module docstring at the current event."""
        sim = self.sim
        items = sim.items
        inbox = list(sim.inbox)
        backlog = list(sim.backlog)
        ready = list(sim.ready.values())
        in_columns = [i for i in items if i.state == "column"]
        done = list(sim.done_items)
        declined = [i for i in items if i.state == "declined"]
        places = {
            "inbox": inbox,
            "backlog": backlog,
            "ready": ready,
            "column": in_columns,
            "done": done,
            "declined": declined,
        }
        seen: dict[int, str] = {}
        for place, members in places.items():
            for item in members:
                assert item.id not in seen, f"#{item.id} in {seen[item.id]} and {place}"
                seen[item.id] = place
                assert item.state == place, f"#{item.id} is in {place} but says {item.state}"
        assert sum(len(m) for m in places.values()) == len(items)
        assert sorted(seen) == [i.id for i in items]
        assert [i.id for i in items] == list(range(1, len(items) + 1))

        # The count of queued items the dispatcher trusts (none: nobody picks) is exact.
        queued = sum(len(h) for h in sim.pull) + sum(len(h) for h in sim.resume)
        assert sim.queued == queued, f"queued says {sim.queued}, the queues hold {queued}"

        # Per-column counts and WIP limits (expedite may exceed a limit by one).
        for column, count in enumerate(sim.counts):
            inside = [i for i in in_columns if i.column == column]
            assert count == len(inside), f"column {column}: count {count} != {len(inside)}"
            limit = sim.wip[column]
            if limit is not None:
                # Above the limit only by one expedite item, or by defects sent back for rework.
                expedite = any(i.cls == "expedite" for i in inside)
                rework = sum(1 for i in inside if i.reworked)
                assert count <= limit + expedite + rework, f"column {column}: {count} > {limit}"
        for item in items:
            if item.state != "column":
                assert item.column == -1, f"#{item.id} ({item.state}) has column {item.column}"
        if sim.ready_wip is not None and len(ready) > sim.ready_wip:
            assert any(i.cls == "expedite" for i in ready)

        # One item per member, one member per item.
        working = [m for m in sim.members if m.item is not None]
        assert len({id(m.item) for m in working}) == len(working)
        for member in working:
            assert member.item is not None
            assert member.item.worker == member.name
            assert member.item.state == "column"
            assert member.efficiency[member.item.column] > 0
        workers = [i for i in items if i.worker is not None]
        assert len(workers) == len(working)

        # Done is final.
        for item in done:
            assert item.done is not None
            if item.id in self.done:
                assert item.done == self.done[item.id]
            self.done[item.id] = item.done
        assert all(items[i - 1].state == "done" for i in self.done)
        assert len(done) == len(self.done)

        # Work-conserving: nobody waits while there is work they could pull.
        for member in sim.members:
            if not member.waiting or not member.present or member.gone:
                continue
            for column in range(len(sim.counts)):
                if member.efficiency[column] <= 0:
                    continue
                assert not self._resumable(column), (
                    f"{member.name} idles while an item in column {column} waits for work"
                )
                assert not self._pullable(column), (
                    f"{member.name} idles while an item could be pulled into column {column}"
                )

        # Records in time order; item timestamps in order.
        records = sim.records
        for before, after in zip(
            records[max(0, self.records_seen - 1) :], records[self.records_seen :], strict=False
        ):
            assert before.time <= after.time
        self.records_seen = len(records)
        assert not records or records[-1].time <= sim.now
        for item in items:
            stamps = [item.arrived, item.committed, item.started, item.done]
            known = [s for s in stamps if s is not None]
            assert known == sorted(known), f"#{item.id} timestamps out of order: {stamps}"

    def _resumable(self, column: int) -> bool:
        return any(
            i.column == column
            and not i.finished_here
            and i.worker is None
            and i.active_block is None
            for i in self.sim.items
            if i.state == "column"
        )

    def _pullable(self, column: int) -> bool:
        sim = self.sim
        limit = sim.wip[column]
        for item in sim.items:
            waiting = item.state == "ready" or (item.state == "column" and item.finished_here)
            if not waiting or item.next_column() != column:
                continue
            if limit is None or sim.counts[column] < limit + (item.cls == "expedite"):
                return True
        return False


def _human_move(sim: Simulation, rng: random.Random) -> None:
    """A random, mostly valid human decision (invalid ones must raise CommandError)."""
    choice = rng.random()
    try:
        if choice < 0.25 and sim.inbox:
            item = sim.inbox[0]
            if rng.random() < 0.7:
                sim.apply(Accept(item.id, rank=rng.choice([None, 0, 2])))
            else:
                sim.apply(Decline(item.id))
        elif choice < 0.4 and sim.questions:
            sim.apply(Answer(rng.choice(sim.questions).id))
        elif choice < 0.5 and sim.backlog:
            sim.apply(Commit(rng.choice(sim.backlog).id))
        elif choice < 0.6 and len(sim.backlog) > 1:
            sim.apply(Reorder(sim.backlog[-1].id, 0))
        elif choice < 0.65 and sim.items:
            sim.apply(Answer(rng.choice(sim.items).id))  # often not a question: refused
        elif choice < 0.7:
            # Raising (never lowering) a limit keeps every count within its limit.
            column = rng.randrange(len(sim.wip))
            limit = sim.wip[column]
            name = sim.activities[column]
            sim.apply(SetWip(name, None if limit is None or rng.random() < 0.3 else limit + 1))
        elif choice < 0.72 and sim.ready_wip is not None:
            sim.apply(SetWip("ready", sim.ready_wip + 1))
    except CommandError:
        pass


def _run_checked(data: dict[str, Any], strategy: str | None, seed: int) -> BoardChecker:
    scenario = Scenario.model_validate(data)
    sim = Simulation(scenario, seed=seed, strategy=strategy)
    checker = BoardChecker(sim)
    checker.check()
    rng = random.Random(seed)
    steps = 0
    while sim.env.peek() < sim.horizon:
        sim.env.step()
        steps += 1
        checker.check()
        if strategy is None and rng.random() < 0.3:
            _human_move(sim, rng)
            checker.check()
    assert steps < 200_000
    result = sim.result()
    assert result.metrics["items_done"] == len(checker.done)
    return checker


@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    data=scenarios(),
    strategy=st.sampled_from(sorted(ORDERINGS)),
    seed=st.integers(0, 2**32),
)
def test_books_balance_after_every_event_with_strategies(
    data: dict[str, Any], strategy: str, seed: int
) -> None:
    """A strategy PO: the invariants hold after every event."""
    _run_checked(data, strategy, seed)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=scenarios(), seed=st.integers(0, 2**32))
def test_books_balance_after_every_event_with_a_human(data: dict[str, Any], seed: int) -> None:
    """A human PO issuing random commands between events: the invariants still hold."""
    _run_checked(data, None, seed)


def test_checker_catches_a_broken_count(tiny_scenario: Scenario) -> None:
    """The checker is not vacuous: a corrupted column count is caught."""
    sim = Simulation(tiny_scenario, seed=1, strategy="fifo")
    sim.run_until(1.5)
    checker = BoardChecker(sim)
    checker.check()
    sim.counts[0] += 1
    try:
        checker.check()
    except AssertionError:
        pass
    else:  # pragma: no cover - the point of the test
        raise AssertionError("a wrong count went unnoticed")


def test_checker_catches_an_idle_member(tiny_scenario: Scenario) -> None:
    """The checker is not vacuous: a member idling next to free work is caught."""
    sim = Simulation(tiny_scenario, seed=1, strategy="fifo")
    sim.run_until(0.5)
    checker = BoardChecker(sim)
    checker.check()
    dev, tess = sim.members
    assert dev.item is not None and tess.waiting  # Dev develops #1; #2 waits in Ready
    tess.efficiency[0] = 1.0  # Tess could develop #2 now, yet nobody tells her
    try:
        checker.check()
    except AssertionError as error:
        assert "idles" in str(error)
    else:  # pragma: no cover - the point of the test
        raise AssertionError("an idle member went unnoticed")


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    data=scenarios(), seed=st.integers(0, 2**32), steps=st.lists(st.floats(0.05, 3), max_size=40)
)
def test_a_human_game_replays_exactly(data: dict[str, Any], seed: int, steps: list[float]) -> None:
    """Random clock advances and random decisions: ``(scenario, seed, commands)`` replays it."""
    scenario = Scenario.model_validate(data)
    sim = Simulation(scenario, seed=seed, strategy=None)
    rng = random.Random(seed)
    day = 0.0
    for step in [*steps, scenario.horizon_days]:
        day += step
        sim.run_until(day)
        for _ in range(rng.randint(0, 3)):
            _human_move(sim, rng)
    sim.run()
    played = sim.result()
    replayed = simulate(scenario, seed=seed, commands=sim.commands)
    assert replayed.records == played.records
    assert replayed.metrics == played.metrics
    twice = simulate(scenario, strategy="wsjf", seed=seed)
    assert twice.records == simulate(scenario, strategy="wsjf", seed=seed).records
