"""Exact event traces of tiny deterministic scenarios (SimPy's style of test).

Each scenario is small enough to work out by hand; the expected traces below
were derived on paper from the rules in DESIGN section 2 (a free member pulls
the next item whose next column has room; downstream work first) and then
compared with the engine.  ``command`` records (the automatic commits and
answers of a strategy PO) are asserted separately so the flow trace reads
like a Kanban board's history.
"""

from __future__ import annotations

import math
from typing import Any

import pytest

from posim.engine import Simulation, simulate
from posim.scenario import Scenario

Trace = list[tuple[float, str, int | None, str | None, str | None]]


def _scenario(**overrides: Any) -> Scenario:
    data: dict[str, Any] = {
        "posim": 1,
        "name": "Trace",
        "horizon_days": 10,
        "workflow": [{"name": "dev", "wip": 1}, {"name": "test", "wip": 1}],
        "team": [
            {"name": "Dev", "skills": {"dev": 1.0}},
            {"name": "Tess", "skills": {"test": 1.0}},
        ],
        "backlog": [
            {"title": "A", "effort": {"dev": 1, "test": 3}},
            {"title": "B", "effort": {"dev": 1, "test": 1}},
            {"title": "C", "effort": {"dev": 2, "test": 1}},
        ],
    }
    data.update(overrides)
    return Scenario.model_validate(data)


def _flow(records: list[Any]) -> Trace:
    return [(r.time, r.kind, r.item, r.column, r.member) for r in records if r.kind != "command"]


def test_three_items_through_two_limited_columns() -> None:
    """WIP 1 in both columns: B waits finished in dev while A is tested; C waits in Ready.

    By hand: A dev 0-1, test 1-4.  B dev 1-2, then sits finished in dev (test
    is full) so dev is full too and C cannot start.  At 4 A is done, Tess pulls
    B into test (4-5), which frees dev, so Dev pulls C at once (dev 4-6,
    test 6-7).
    """
    result = simulate(_scenario(), strategy="fifo", seed=1)
    assert _flow(result.records) == [
        (0, "arrived", 1, None, None),
        (0, "arrived", 2, None, None),
        (0, "arrived", 3, None, None),
        (0, "committed", 1, "ready", None),
        (0, "committed", 2, "ready", None),
        (0, "committed", 3, "ready", None),
        (0, "entered", 1, "dev", None),
        (0, "started", 1, "dev", "Dev"),
        (1.0, "finished", 1, "dev", None),
        (1.0, "entered", 1, "test", None),
        (1.0, "started", 1, "test", "Tess"),
        (1.0, "entered", 2, "dev", None),
        (1.0, "started", 2, "dev", "Dev"),
        (2.0, "finished", 2, "dev", None),
        (4.0, "finished", 1, "test", None),
        (4.0, "done", 1, "done", None),
        (4.0, "entered", 2, "test", None),
        (4.0, "entered", 3, "dev", None),
        (4.0, "started", 3, "dev", "Dev"),
        (4.0, "started", 2, "test", "Tess"),
        (5.0, "finished", 2, "test", None),
        (5.0, "done", 2, "done", None),
        (6.0, "finished", 3, "dev", None),
        (6.0, "entered", 3, "test", None),
        (6.0, "started", 3, "test", "Tess"),
        (7.0, "finished", 3, "test", None),
        (7.0, "done", 3, "done", None),
    ]
    commands = [(r.time, r.detail) for r in result.records if r.kind == "command"]
    assert commands == [(0, "commit(item=1)"), (0, "commit(item=2)"), (0, "commit(item=3)")]
    metrics = result.metrics
    assert metrics["items_done"] == 3
    assert metrics["lead_time_mean"] == (4 + 5 + 7) / 3
    assert metrics["cycle_time_mean"] == (4 + 4 + 3) / 3  # started 0, 1, 4
    assert metrics["wip_mean"] == (4 + 4 + 3) / 10
    assert metrics["flow_efficiency"] == (4 + 2 + 3) / 11  # B waited 2 days in dev


def test_unlimited_columns_pull_as_soon_as_a_member_is_free() -> None:
    """No WIP limits: B starts dev at 1 while A is still in test; nothing waits for room."""
    result = simulate(
        _scenario(workflow=[{"name": "dev"}, {"name": "test"}]), strategy="fifo", seed=1
    )
    done = [(r.time, r.item) for r in result.records if r.kind == "done"]
    # Dev: A 0-1, B 1-2, C 2-4.  Tess: A 1-4, B 4-5, C 5-6.
    assert done == [(4.0, 1), (5.0, 2), (6.0, 3)]
    starts = [(r.time, r.item, r.column) for r in result.records if r.kind == "started"]
    assert starts == [
        (0, 1, "dev"),
        (1.0, 1, "test"),
        (1.0, 2, "dev"),
        (2.0, 3, "dev"),
        (4.0, 2, "test"),
        (5.0, 3, "test"),
    ]


def test_question_then_defect_rework_trace() -> None:
    """One item with a question (answered after 0.5 days) and a defect found in test.

    By hand: enters dev at 0 and is blocked by its question; the PO answers at
    0.5; dev 0.5-2.5, test 2.5-4.5; test finds the defect, so half of dev's and
    half of test's effort is redone: dev 4.5-5.5, test 5.5-6.5.
    """
    scenario = _scenario(
        workflow=[{"name": "dev"}, {"name": "test"}],
        slippage={"defect_rate": 1.0, "rework_fraction": 0.5, "question_rate": 1.0},
        product_owner={"response_days": 0.5},
        backlog=[{"title": "A", "effort": {"dev": 2, "test": 2}}],
    )
    result = simulate(scenario, strategy="fifo", seed=3)
    assert [
        (*t, r.detail) for t, r in zip(_flow(result.records), _non_command(result), strict=True)
    ] == [
        (0, "arrived", 1, None, None, "backlog"),
        (0, "committed", 1, "ready", None, ""),
        (0, "entered", 1, "dev", None, ""),
        (0, "blocked", 1, "dev", None, "question"),
        (0.5, "unblocked", 1, "dev", None, "question"),
        (0.5, "started", 1, "dev", "Dev", ""),
        (2.5, "finished", 1, "dev", None, ""),
        (2.5, "entered", 1, "test", None, ""),
        (2.5, "started", 1, "test", "Tess", ""),
        (4.5, "finished", 1, "test", None, ""),
        (4.5, "defect", 1, "test", None, ""),
        (4.5, "entered", 1, "dev", None, ""),
        (4.5, "started", 1, "dev", "Dev", ""),
        (5.5, "finished", 1, "dev", None, ""),
        (5.5, "entered", 1, "test", None, ""),
        (5.5, "started", 1, "test", "Tess", ""),
        (6.5, "finished", 1, "test", None, ""),
        (6.5, "done", 1, "done", None, ""),
    ]
    commands = [(r.time, r.detail) for r in result.records if r.kind == "command"]
    assert commands == [(0, "commit(item=1)"), (0.5, "answer(item=1)")]
    assert result.metrics["blocked_days"] == 0.5
    assert result.metrics["lead_time_mean"] == 6.5
    assert result.items[0]["blocked_question"] == 0.5
    assert result.items[0]["defect"] is True


def _non_command(result: Any) -> list[Any]:
    return [r for r in result.records if r.kind != "command"]


def test_trace_is_the_same_for_any_seed_without_randomness() -> None:
    """Nothing random in the scenario: the seed changes nothing."""
    first = simulate(_scenario(), strategy="fifo", seed=1).records
    other = simulate(_scenario(), strategy="fifo", seed=987_654).records
    assert first == other


def test_defect_sent_back_to_a_full_column_does_not_stall_the_board() -> None:
    """Both columns at WIP 1 and every item has a defect: rework goes back at once.

    By hand: A dev 0-1, test 1-2; B dev 1-2 and waits there.  At 2 test finds
    A's defect and A goes back to dev although B fills it (waiting for room
    there would deadlock: dev waits for test, test for dev).  Tess pulls B
    (test 2-3) while Dev reworks A (half the effort, 2-2.5).  At 3 B's defect
    sends B back to dev (3-3.5) and Tess tests A again (3-3.5, done); B's
    second test is 3.5-4.
    """
    scenario = _scenario(
        slippage={"defect_rate": 1.0, "rework_fraction": 0.5},
        backlog=[
            {"title": "A", "effort": {"dev": 1, "test": 1}},
            {"title": "B", "effort": {"dev": 1, "test": 1}},
        ],
    )
    result = simulate(scenario, strategy="fifo", seed=1)
    assert _flow(result.records)[4:] == [
        (0, "entered", 1, "dev", None),
        (0, "started", 1, "dev", "Dev"),
        (1.0, "finished", 1, "dev", None),
        (1.0, "entered", 1, "test", None),
        (1.0, "started", 1, "test", "Tess"),
        (1.0, "entered", 2, "dev", None),
        (1.0, "started", 2, "dev", "Dev"),
        (2.0, "finished", 1, "test", None),
        (2.0, "defect", 1, "test", None),
        (2.0, "entered", 1, "dev", None),
        (2.0, "finished", 2, "dev", None),
        (2.0, "entered", 2, "test", None),
        (2.0, "started", 2, "test", "Tess"),
        (2.0, "started", 1, "dev", "Dev"),
        (2.5, "finished", 1, "dev", None),
        (3.0, "finished", 2, "test", None),
        (3.0, "defect", 2, "test", None),
        (3.0, "entered", 2, "dev", None),
        (3.0, "started", 2, "dev", "Dev"),
        (3.0, "entered", 1, "test", None),
        (3.0, "started", 1, "test", "Tess"),
        (3.5, "finished", 2, "dev", None),
        (3.5, "finished", 1, "test", None),
        (3.5, "done", 1, "done", None),
        (3.5, "entered", 2, "test", None),
        (3.5, "started", 2, "test", "Tess"),
        (4.0, "finished", 2, "test", None),
        (4.0, "done", 2, "done", None),
    ]


def _one_column(**overrides: Any) -> Scenario:
    data: dict[str, Any] = {
        "posim": 1,
        "name": "Staff",
        "horizon_days": 30,
        "workflow": [{"name": "dev"}],
        "team": [{"name": "Dev", "skills": {"dev": 1.0}}],
        "backlog": [{"title": "A", "effort": {"dev": 3}}],
    }
    data.update(overrides)
    return Scenario.model_validate(data)


def _staff_trace(scenario: Scenario) -> Trace:
    keep = {"entered", "started", "paused", "absent", "returned", "left", "joined", "done"}
    return [t for t in _flow(simulate(scenario, strategy="fifo", seed=1).records) if t[1] in keep]


def test_absence_pauses_work_and_the_member_resumes_on_return() -> None:
    """Dev is away on days 1-3: one day done, two left after the return."""
    assert _staff_trace(_one_column(events=[{"day": 1, "absent": "Dev", "days": 2}])) == [
        (0, "entered", 1, "dev", None),
        (0, "started", 1, "dev", "Dev"),
        (1.0, "absent", None, None, "Dev"),
        (1.0, "paused", 1, "dev", "Dev"),
        (3.0, "returned", None, None, "Dev"),
        (3.0, "started", 1, "dev", "Dev"),
        (5.0, "done", 1, "done", None),
    ]


def test_a_leaver_hands_the_work_to_a_colleague() -> None:
    """Dev leaves at day 1; Ann (half speed) takes the remaining two days of work: 4 days."""
    team = [{"name": "Dev", "skills": {"dev": 1.0}}, {"name": "Ann", "skills": {"dev": 0.5}}]
    assert _staff_trace(_one_column(team=team, events=[{"day": 1, "leave": "Dev"}])) == [
        (0, "entered", 1, "dev", None),
        (0, "started", 1, "dev", "Dev"),
        (1.0, "left", None, None, "Dev"),
        (1.0, "paused", 1, "dev", "Dev"),
        (1.0, "started", 1, "dev", "Ann"),
        (5.0, "done", 1, "done", None),
    ]


@pytest.mark.parametrize(
    ("effort", "events", "done_day"),
    [
        # Speed 0.5 + t/8 during a 4-day ramp: 2 days of work take T with
        # T/2 + T^2/16 = 2, T = 4 sqrt(3) - 4, so done at 1 + T.
        (2, [], 4 * math.sqrt(3) - 3),
        # 8 days of work: 3 done during the ramp (days 1-5), 5 at full speed.
        (8, [], 10.0),
        # Away on day 2-3 during the ramp: 0.5625 done by day 2; back at day 3 at
        # speed 0.75 for the 2 ramp days left (1.75 done), then 5.6875 at full speed.
        (8, [{"day": 2, "absent": "New", "days": 1}], 3 + 2 + 5.6875),
    ],
    ids=["short item inside the ramp", "long item past the ramp", "absent while ramping"],
)
def test_a_newcomer_ramps_up_from_half_to_full_speed(
    effort: float, events: list[dict[str, Any]], done_day: float
) -> None:
    """A member joins on day 1 with a 4-day ramp-up: half speed rising linearly to full."""
    scenario = _one_column(
        team=[{"name": "Tess", "skills": {"test": 1.0}}],
        workflow=[{"name": "dev"}, {"name": "test"}],
        backlog=[{"title": "A", "effort": {"dev": effort}}],
        events=[
            {"day": 1, "join": {"name": "New", "skills": {"dev": 1.0}}, "ramp_up_days": 4},
            *events,
        ],
    )
    trace = _staff_trace(scenario)
    assert trace[:3] == [
        (1.0, "joined", None, None, "New"),
        (1.0, "entered", 1, "dev", None),
        (1.0, "started", 1, "dev", "New"),
    ]
    assert trace[-1][1] == "done"
    assert trace[-1][0] == pytest.approx(done_day, abs=1e-9)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_blocker_strikes_at_its_drawn_point_and_lasts_its_drawn_days(seed: int) -> None:
    """One item of 4 days, a blocker for sure: work stops after ``blocker_at`` of it."""
    scenario = _one_column(
        backlog=[{"title": "A", "effort": {"dev": 4}}],
        slippage={"blocker_rate": 1.0, "blocker_days": {"dist": "uniform", "low": 1, "high": 3}},
    )
    sim = Simulation(scenario, seed=seed, strategy="fifo")
    luck = sim.items[0].luck
    assert 0 <= luck.blocker_at <= 1 and 1 <= luck.blocker_days <= 3
    sim.run()
    strike = 4 * luck.blocker_at
    flow = [(t, kind) for t, kind, *_ in _flow(sim.records) if kind not in ("arrived", "committed")]
    assert flow == [
        (0, "entered"),
        (0, "started"),
        (pytest.approx(strike), "blocked"),
        (pytest.approx(strike + luck.blocker_days), "unblocked"),
        (pytest.approx(strike + luck.blocker_days), "started"),
        (pytest.approx(4 + luck.blocker_days), "finished"),
        (pytest.approx(4 + luck.blocker_days), "done"),
    ]
    metrics = sim.result().metrics
    assert metrics["blocked_days"] == pytest.approx(luck.blocker_days)
    assert metrics["flow_efficiency"] == pytest.approx(4 / (4 + luck.blocker_days))
