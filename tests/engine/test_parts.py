"""The engine as parts: one way to close the books, records that change nothing
but the record, a pull that never recurses, and imports that point one way.

Issue 13: at the horizon a snapshot's metrics and the result's metrics agree
(the horizon is an event that closes the books); every item's committed,
started and done days are the same whether records are kept or not; a scenario
whose every item raises a question does not overflow the stack.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from posim.engine import ORDERINGS, REPORTING_POLICIES, Simulation, simulate
from posim.engine.strategies import ItemFacts
from posim.scenario import Scenario, builtin_scenarios, load_scenario, parse_scenario

from .test_invariants import scenarios

BUILTIN_NAMES = [entry["name"] for entry in builtin_scenarios()]
ENGINE = Path(__file__).resolve().parents[2] / "posim" / "engine"


@pytest.mark.parametrize("name", BUILTIN_NAMES)
def test_a_snapshot_at_the_horizon_has_the_results_metrics(name: str) -> None:
    """Every built-in x ordering x reporting: snapshot().metrics == result().metrics."""
    scenario = load_scenario(name)
    differ = []
    for ordering in ORDERINGS:
        for reporting in REPORTING_POLICIES:
            sim = Simulation(scenario, 3, ordering, reporting, keep_records=False)
            sim.run()
            snapshot = sim.snapshot()
            assert snapshot.finished
            if snapshot.metrics != sim.result().metrics:
                differ.append(f"{ordering}+{reporting}")
    assert differ == []


def test_the_books_close_at_the_horizon_whoever_asks_first() -> None:
    """sprint-review with fifo+green: the late promise is counted before any result.

    (Before the horizon was an event, the snapshot showed trust 15 and the
    result 0 until result() had been called.)
    """
    sim = Simulation(load_scenario("sprint-review"), 1, "fifo", "green", keep_records=True)
    sim.run()
    assert sim.books.closed
    causes = [change.cause for _, change in sim.books.trust_changes]
    snapshot = sim.snapshot()
    assert snapshot.metrics == sim.result().metrics
    # Closing is idempotent: a second result adds no trust change.
    sim.result()
    assert [change.cause for _, change in sim.books.trust_changes] == causes
    # Before the horizon the books are open.
    early = Simulation(load_scenario("sprint-review"), 1, "fifo", "green")
    early.run_until(10)
    assert not early.books.closed and not early.finished


QUESTIONS_EVERYWHERE = """\
posim: 1
name: questions everywhere
horizon_days: 30
workflow: [{name: work}]
team: [{name: Solo, skills: {work: 1}}]
slippage: {question_rate: 1}
templates: {f: {effort: {work: 1}}}
backlog: [{generate: 1200, template: f}]
"""


def test_a_backlog_of_questions_does_not_recurse() -> None:
    """Issue 12, defect 2: the pull of 1,200 question-raising items is a loop."""
    scenario = parse_scenario(QUESTIONS_EVERYWHERE, "questions.yaml")
    result = simulate(scenario, "fifo", seed=1)
    assert result.metrics["items_done"] > 0
    asked = [r for r in result.records if r.kind == "blocked" and r.detail == "question"]
    assert len(asked) >= 29  # one person answering after the response time, a day each
    # A human who never answers: every item is pulled, blocks, and the member moves on.
    sim = Simulation(scenario, seed=1, strategy=None, auto_commit=True)
    sim.run_until(1)
    assert len(sim.questions) == 1200
    assert sim.members[0].waiting


def _times(sim: Simulation) -> list[tuple[Any, ...]]:
    return [
        (i.id, i.state, i.committed, i.started, i.done, i.declined, tuple(i.column_entered.items()))
        for i in sim.items
    ]


def _run(scenario: Scenario, strategy: str | None, seed: int, keep: bool) -> Simulation:
    sim = Simulation(scenario, seed, strategy, keep_records=keep)
    sim.run()
    return sim


@pytest.mark.parametrize("name", BUILTIN_NAMES)
def test_records_change_nothing_but_the_record_on_every_builtin(name: str) -> None:
    scenario = load_scenario(name)
    for ordering in ORDERINGS:
        kept = _run(scenario, ordering, 5, True)
        bare = _run(scenario, ordering, 5, False)
        assert kept.records and not bare.records
        assert _times(kept) == _times(bare), ordering
        assert kept.result().metrics == bare.result().metrics


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=scenarios(), strategy=st.sampled_from(sorted(ORDERINGS)), seed=st.integers(0, 2**32))
def test_records_change_nothing_but_the_record_on_random_scenarios(
    data: dict[str, Any], strategy: str, seed: int
) -> None:
    scenario = Scenario.model_validate(data)
    assert _times(_run(scenario, strategy, seed, True)) == _times(
        _run(scenario, strategy, seed, False)
    )


def test_builtin_keys_read_only_what_a_view_shows() -> None:
    """The protocol built-in keys are typed with has only fields an ItemView shows."""
    from dataclasses import fields

    from posim.engine.items import ItemView

    shown = {f.name for f in fields(ItemView)}
    facts = {name for name in vars(ItemFacts) if not name.startswith("_")}
    assert facts and facts <= shown
    assert "luck" not in facts


def _engine_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def test_only_the_clock_touches_simpy_internals() -> None:
    """``_now``, ``_queue``, ``_eid``, ``_ok``, ``_value``: in clock.py and nowhere else."""
    internals = ("._now", "._queue", "._eid", "._ok", "._value", "env.schedule")
    offenders = []
    for path in sorted(ENGINE.glob("*.py")):
        if path.name == "clock.py":
            continue
        text = path.read_text()
        offenders += [f"{path.name}: {word}" for word in internals if word in text]
    assert offenders == []
    assert "simpy" in str(_engine_imports(ENGINE / "clock.py"))


def test_the_product_owner_writes_nothing_of_the_simulation() -> None:
    """po.py decides: no assignment to another part's attribute."""
    tree = ast.parse((ENGINE / "po.py").read_text())
    writes = []
    for node in ast.walk(tree):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AugAssign | ast.AnnAssign):
            targets = [node.target]
        for target in targets:
            if isinstance(target, ast.Attribute):
                owner = target.value
                if not (isinstance(owner, ast.Name) and owner.id == "self"):
                    writes.append(ast.unparse(target))
    assert writes == []


def test_daily_trust_reads_the_engines_history() -> None:
    """Two changes on one day: the day ends at the second one's value (nothing re-applied)."""
    from posim.engine.trust import daily_trust

    history = [(0.0, 60.0, "start"), (2.5, 50.0, "late"), (2.5, 45.0, "late"), (3.5, 35.0, "x")]
    assert daily_trust(history, 4) == [60.0, 60.0, 45.0, 35.0]
    sim = Simulation(load_scenario("loud-stakeholder"), 2, "fifo", "green")
    sim.run()
    for person in sim.snapshot().stakeholders:
        series = daily_trust(person.trust_history, sim.horizon)
        assert len(series) == int(sim.horizon)
        assert series[-1] == person.trust == sim.stakeholders[person.name].trust


def test_the_suggested_report_is_the_honest_strategys_report() -> None:
    """The game's suggestion and an honest strategy's report are one computation."""
    scenario = load_scenario("launch-date")
    sim = Simulation(scenario, 4, "wsjf", "honest")
    sim.run_until(30)
    twin = Simulation(scenario, 4, "wsjf", "honest")
    twin.run_until(30)
    for name in sim.stakeholders:
        suggestion = sim.suggested_report(name)
        assert (suggestion.status, suggestion.forecast_day) == twin.reporter.suggest("honest", name)
        if suggestion.forecast is not None and suggestion.forecast.has_data:
            assert suggestion.forecast_day == round(suggestion.forecast.percentiles[85], 1)


def test_stepping_records_each_event_at_its_own_day() -> None:
    """``Clock.step`` moves the day before an event's callbacks run: one event at a
    time (the game's ``run_through``) records exactly what ``run`` records."""
    scenario = load_scenario("tutorial")
    stepped = Simulation(scenario, 3, strategy="wsjf")
    while stepped.env.peek_day() < stepped.horizon:
        stepped.env.step()
    stepped.run()
    straight = Simulation(scenario, 3, strategy="wsjf")
    straight.run()
    assert stepped.records == straight.records


def test_run_through_the_horizon_closes_the_books_without_the_horizon_days_events() -> None:
    scenario = load_scenario("tutorial")
    game = Simulation(scenario, 3, strategy=None)
    assert game.run_through(game.horizon + 5) is False
    assert game.books.closed and game.now == game.horizon
    plain = Simulation(scenario, 3, strategy=None)
    plain.run()
    assert game.records == plain.records
    assert game.snapshot().metrics == game.result().metrics
