"""Records change nothing but the record, and the shortcuts that remain change nothing.

Whether records are kept changes only what is recorded (the rules call the
recorder; no rule has a records-off version); a scenario without slippage
draws only a tie-break per item.  These tests run every built-in scenario (and
flows of the benchmark) both ways and require identical results, and pin the
float clock that starts at day 0.  (``test_parts.py`` compares every item's
days, records on and off, on the Hypothesis scenarios too.)
"""

from __future__ import annotations

import pytest

from posim.engine import Accept, Answer, Report, simulate
from posim.engine.simulation import Simulation
from posim.scenario import Scenario, builtin_scenarios, load_scenario

STRATEGIES = ("fifo", "wsjf", "cos", "loudest")
BUILTIN_NAMES = [entry["name"] for entry in builtin_scenarios()]


def _comparable(result: object) -> tuple[object, ...]:
    return (
        result.metrics,  # type: ignore[attr-defined]
        result.by_product,  # type: ignore[attr-defined]
        [(day, change.cause, change.delta) for day, change in result.trust_changes],  # type: ignore[attr-defined]
        result.score.total,  # type: ignore[attr-defined]
    )


@pytest.mark.parametrize("name", BUILTIN_NAMES)
def test_records_on_or_off_give_the_same_run(name: str) -> None:
    scenario = load_scenario(name)
    for strategy in STRATEGIES:
        for seed in (1, 2):
            kept = simulate(scenario, strategy, seed=seed, keep_records=True)
            bare = simulate(scenario, strategy, seed=seed, keep_records=False)
            assert _comparable(kept) == _comparable(bare), (name, strategy, seed)
            assert kept.records and not bare.records


def _mm3() -> Scenario:
    return Scenario.model_validate(
        {
            "posim": 1,
            "name": "mm3",
            "horizon_days": 60,
            "workflow": [{"name": "work"}],
            "team": [{"name": "M", "count": 3, "skills": {"work": 1.0}}],
            "stakeholders": [
                {
                    "name": "S",
                    "requests": {"every": {"dist": "exponential", "mean": 0.1}, "template": "j"},
                }
            ],
            "templates": {"j": {"effort": {"work": {"dist": "exponential", "mean": 0.25}}}},
        }
    )


def test_a_flow_without_slippage_draws_only_a_tiebreak() -> None:
    sim = Simulation(_mm3(), seed=3, strategy="fifo", keep_records=False)
    sim.run()
    assert len(sim.items) > 300
    for item in sim.items:
        assert item.luck.actual == item.estimate
        assert (item.luck.defect_draw, item.luck.blocker_column, item.luck.scope_column) == (
            1.0,
            -1,
            -1,
        )
        assert not item.luck.question
        assert 0.0 <= item.luck.tiebreak < 1.0
    # Tie-breaks are draws, not a constant.
    assert len({item.luck.tiebreak for item in sim.items}) == len(sim.items)
    assert _comparable(simulate(_mm3(), "fifo", seed=3, keep_records=True)) == _comparable(
        sim.result()
    )


def test_the_clock_is_a_float_from_day_zero() -> None:
    result = simulate(load_scenario("tutorial"), "wsjf", seed=1)
    first = result.records[0]
    assert first.time == 0.0 and isinstance(first.time, float)
    assert all(isinstance(record.time, float) for record in result.records)


@pytest.mark.parametrize("name", ["tutorial", "open-door", "loud-stakeholder"])
def test_a_human_game_replays_the_same_with_records_on_or_off(name: str) -> None:
    """A person's accepts and reports replay the same with records off."""
    scenario = load_scenario(name)
    sim = Simulation(scenario, seed=11, strategy=None)  # records on: the slow path
    day = 0.0
    while day < scenario.horizon_days:
        day += 1.0
        sim.run_until(day)
        for item in list(sim.inbox):
            sim.apply(Accept(item.id))
        for item in list(sim.questions):
            sim.apply(Answer(item.id))
        for stakeholder in list(sim.books.reviews_due):
            sim.apply(Report(stakeholder, "on_track", sim.now + 10.0))
    played = sim.result()
    assert any(isinstance(command, Accept) for _, command in sim.commands)
    bare = simulate(scenario, seed=11, commands=sim.commands, keep_records=False)
    assert _comparable(bare) == _comparable(played)
