"""Terminal sizes, resizes, SVG snapshots of the main screens, and the charts' data.

Snapshots (pytest-textual-snapshot 1.1.0 and syrupy 4.8.0, pinned in the
``test`` extra) live in ``__snapshots__/``; refresh them after a deliberate
change with ``pytest tests/tui --snapshot-update`` and look at the report.
"""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import pytest
from textual.pilot import Pilot

from posim.scenario import builtin_scenarios
from posim.tui.app import PosimApp, build_app
from posim.tui.game import Game
from posim.tui.screens.board import MIN_HEIGHT, MIN_WIDTH
from posim.tui.screens.debrief import DebriefScreen
from posim.tui.screens.report import ReportScreen
from posim.tui.widgets.cards import CardList
from posim.tui.widgets.charts import (
    aging_wip,
    cumulative_flow,
    cycle_time_percentiles,
    cycle_times,
    throughput_per_day,
)

from .conftest import REPO_ROOT, board_of


async def test_sizes_from_40x12_to_200x60_with_resizes() -> None:
    app = build_app("tutorial")
    async with app.run_test(size=(40, 12)) as pilot:
        board = board_of(app)
        await pilot.pause()
        sizes = [(40, 12), (79, 24), (80, 23), (80, 24), (120, 40), (200, 60), (40, 12), (120, 40)]
        for width, height in sizes:
            await pilot.resize_terminal(width, height)
            await pilot.pause()
            small = width < MIN_WIDTH or height < MIN_HEIGHT
            assert board.too_small is small, (width, height)
            assert board.query_one("#too-small").display is small
            assert board.query_one("#tabs").display is not small
            if small:
                assert "Terminal too small" in str(board.query_one("#too-small").render())
        await pilot.press("full_stop")  # the game still runs after all that
        assert board.game.now == 1.0
        await pilot.press("g")  # the charts, then shrink and grow with them showing
        await pilot.pause()
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        await pilot.resize_terminal(200, 60)
        await pilot.pause()
        assert board.query_one("#chart-cfd").size.width > 40
        await pilot.press("g", "full_stop")
        assert board.game.now == 2.0


def test_snapshot_title(snap_compare: object, posim_home: Path) -> None:
    assert snap_compare(PosimApp(), terminal_size=(100, 30))  # type: ignore[operator]


def test_snapshot_board(snap_compare: object) -> None:
    async def play(pilot: Pilot[None]) -> None:
        board = board_of(pilot.app)  # type: ignore[arg-type]
        for _ in range(9):
            board.action_step_day()
        await pilot.pause()
        pilot.app.clear_notifications()  # the question's toast would hide the inbox
        pilot.app.screen.query_one("#lane-backlog").focus()
        await pilot.pause()
        export = os.environ.get("POSIM_EXPORT_BOARD")
        if export:  # how docs/board.svg is made
            pilot.app.save_screenshot(export)

    assert snap_compare(  # type: ignore[operator]
        build_app("tutorial"), terminal_size=(140, 40), run_before=play
    )


def test_snapshot_report(snap_compare: object) -> None:
    async def to_review(pilot: Pilot[None]) -> None:
        board = board_of(pilot.app)  # type: ignore[arg-type]
        for _ in range(11):
            board.action_step_day()
        await pilot.pause()
        # Toasts time out (5 s): under load they could be gone or not; leave none.
        pilot.app.clear_notifications()
        await pilot.pause()

    assert snap_compare(  # type: ignore[operator]
        build_app("tutorial"), terminal_size=(120, 40), run_before=to_review
    )


def test_chart_series_from_a_known_game() -> None:
    game = Game.new("tutorial")
    game.auto_pause = False  # straight to day 12
    game.advance_to(12)
    result = game.result()
    rows = result.items
    per_day = throughput_per_day(rows, game.now)
    done = [row["done"] for row in rows if row["done"] is not None]
    assert len(per_day) == 12 and sum(per_day) == len(done) == result.metrics["items_done"]
    for day, count in enumerate(per_day):
        assert count == sum(1 for d in done if day <= d < day + 1)
    flow = cumulative_flow(rows, result.columns, game.now)
    assert list(flow) == ["backlog", "ready", "analysis", "development", "test", "done"]
    assert all(len(series) == 12 for series in flow.values())
    # Cumulative flow: each band is below the one before it, and never falls.
    states = list(flow.values())
    for upper, lower in itertools.pairwise(states):
        assert all(u >= v for u, v in zip(upper, lower, strict=True))
    for series in states:
        assert series == sorted(series)
    assert flow["done"][-1] == len(done)
    days, times = cycle_times(rows)
    assert days == sorted(days) and len(times) == len(done)
    marks = cycle_time_percentiles(times)
    assert marks[50] <= marks[85] <= marks[95] <= max(times)
    assert marks[50] == pytest.approx(result.metrics["cycle_time_p50"])
    assert marks[85] == pytest.approx(result.metrics["cycle_time_p85"])
    snapshot = game.snapshot()
    aging = aging_wip(snapshot)
    in_columns = sum(len(c.items) for c in snapshot.columns)
    assert len(aging) == in_columns
    assert all(age >= 0 for _, _, age, _ in aging)
    assert cycle_time_percentiles([]) == {}


async def test_charts_tab_draws() -> None:
    app = build_app("tutorial")
    async with app.run_test(size=(140, 44)) as pilot:
        board = board_of(app)
        for _ in range(9):  # the day before the first review
            board.action_step_day()
        await pilot.press("g")
        await pilot.pause()
        assert board.query_one("#tabs").active == "tab-charts"
        plot = board.query_one("#chart-throughput")
        assert plot.size.width > 20
        drawn = str(plot.render())
        assert "Throughput" in drawn
        assert "Cumulative flow" in str(board.query_one("#chart-cfd").render())


def test_readme_board_screenshot_exists() -> None:
    svg = REPO_ROOT / "docs" / "board.svg"
    assert svg.exists() and "Backlog" in svg.read_text(encoding="utf-8")
    assert "docs/board.svg" in (REPO_ROOT / "README.md").read_text(encoding="utf-8")


@pytest.mark.slow
@pytest.mark.parametrize("name", [entry["name"] for entry in builtin_scenarios()])
async def test_every_builtin_scenario_plays_to_its_debrief(name: str) -> None:
    app = build_app(name)
    async with app.run_test(size=(120, 40)) as pilot:
        board = board_of(app)
        for _ in range(500):
            if isinstance(app.screen, DebriefScreen):
                break
            if isinstance(app.screen, ReportScreen):
                await pilot.pause()
                await pilot.click("#send")
                await pilot.pause()
                continue
            snapshot = board.game.snapshot()
            # With a PO budget a decision waits for the PO's time: act on the others.
            waiting = {getattr(command, "item", None) for _, command in board.game.waiting()}
            questions = [i.id for i in snapshot.questions if i.id not in waiting]
            requests = [i.id for i in snapshot.inbox if i.id not in waiting]
            if questions:
                board.selected = questions[0]
                board.query_one("#inbox", CardList).select_item(questions[0])
                board.action_answer()
            elif requests:
                board.query_one("#inbox", CardList).select_item(requests[0])
                board.action_accept()
                await pilot.pause()
                await pilot.press("enter")
                await pilot.pause()
            else:
                board.action_step_day()
        await pilot.pause()
        assert isinstance(app.screen, DebriefScreen)
        assert board.game.finished
        await app.workers.wait_for_complete()
