"""Every player action through Pilot, asserting the engine's state afterwards.

The tutorial (seed 7) is the game: three items start in Ready (its limit is
3), a team question blocks an item on day 8, the first review is on day 10
and Sales sends its first request on day 12.
"""

from __future__ import annotations

import json
from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import Input, Select

from posim import saves
from posim.engine import Accept, Answer, Commit, Decline, Reorder, Report, SetWip
from posim.tui.app import PosimApp, build_app
from posim.tui.game import DAYS_PER_TICK
from posim.tui.screens.board import BoardScreen
from posim.tui.screens.dialogs import HelpScreen, NumberDialog
from posim.tui.screens.report import ReportScreen
from posim.tui.widgets.cards import CardList

from .conftest import REPO_ROOT, board_of, step_until

SIZE = (140, 44)


async def answer(pilot: Pilot[None], text: str) -> None:
    """Replace the text of the focused input and press Enter."""
    await pilot.press("end", *["backspace"] * 6, *text, "enter")
    await pilot.pause()


def backlog_ids(board: BoardScreen) -> list[int]:
    return [item.id for item in board.game.snapshot().backlog]


def commands(board: BoardScreen) -> list[object]:
    return [command for _, command in board.game.sim.commands]


async def test_reorder_by_keyboard_and_mouse() -> None:
    app = build_app("tutorial")
    async with app.run_test(size=SIZE) as pilot:
        board = board_of(app)
        start = backlog_ids(board)
        assert board.focused is board.query_one("#lane-backlog")
        await pilot.press("down", "down")  # the third backlog item
        third = start[2]
        assert board.selected == third
        await pilot.press("shift+up")
        assert backlog_ids(board)[1] == third
        await pilot.press("t")
        assert backlog_ids(board)[0] == third
        await pilot.press("J", "J")
        assert backlog_ids(board)[2] == third
        await pilot.click("#move-up")
        await pilot.pause()
        assert backlog_ids(board)[1] == third
        # Clicking a card selects it (cards are two lines below a one-line border).
        await pilot.click("#lane-backlog", offset=(3, 1 + 2 * 3))
        await pilot.pause()
        assert board.selected == backlog_ids(board)[3]
        assert f"#{board.selected} " in str(board.query_one("#detail-text").render())
        assert commands(board) == [
            Reorder(third, 1),
            Reorder(third, 0),
            Reorder(third, 1),
            Reorder(third, 2),
            Reorder(third, 1),
        ]
        # The rest of the order is untouched.
        assert sorted(backlog_ids(board)) == sorted(start)


async def test_commit_refused_when_ready_is_full_then_wip_change_lets_it_in() -> None:
    app = build_app("tutorial")
    async with app.run_test(size=SIZE) as pilot:
        board = board_of(app)
        snapshot = board.game.snapshot()
        assert (len(snapshot.ready), snapshot.ready_wip) == (3, 3)
        top = backlog_ids(board)[0]
        await pilot.press("c")
        assert board.last_refusal == "Ready is full (WIP limit 3)"
        assert board.game.snapshot().ready_wip == 3  # nothing changed
        # Change Ready's WIP limit: focus the Ready lane, press w, type 5.
        await pilot.press("right")
        assert board.focused is board.query_one("#lane-ready")
        await pilot.press("w")
        await pilot.pause()
        assert isinstance(app.screen, NumberDialog)
        await answer(pilot, "5")
        await pilot.pause()
        # Auto-commit fills the new room from the top of the backlog.
        snapshot = board.game.snapshot()
        assert snapshot.ready_wip == 5
        assert top in [i.id for i in snapshot.ready]
        next_top = backlog_ids(board)[0]
        # By mouse: click the analysis lane, then the WIP button.
        await pilot.click("#lane-col-0")
        await pilot.click("#wip")
        await pilot.pause()
        assert isinstance(app.screen, NumberDialog)
        assert app.screen.title_text == "WIP limit of analysis"
        await answer(pilot, "")  # blank: no limit
        await pilot.pause()
        assert board.game.snapshot().columns[0].wip is None
        await pilot.press("left", "left")
        assert board.focused is board.query_one("#lane-backlog")  # buttons took no focus
        await pilot.press("home")
        assert board.selected == next_top
        await pilot.press("c")
        assert board.last_refusal == "Ready is full (WIP limit 5)"
        assert commands(board) == [SetWip("ready", 5), SetWip("analysis", None)]


async def test_explicit_commit_between_replenishment_meetings(tmp_path: Path) -> None:
    text = (REPO_ROOT / "scenarios" / "tutorial.yaml").read_text()
    assert "replenish_every: 0" in text
    path = tmp_path / "weekly.yaml"
    path.write_text(text.replace("replenish_every: 0", "replenish_every: 5"))
    app = build_app(str(path))
    async with app.run_test(size=SIZE) as pilot:
        board = await step_until(
            pilot, lambda b: len(b.game.snapshot().ready) < (b.game.snapshot().ready_wip or 0)
        )
        assert board.game.now < 5  # before the next meeting, Ready has room
        await pilot.press("down")
        chosen = board.selected
        assert chosen == backlog_ids(board)[1]
        await pilot.press("c")
        await pilot.pause()
        assert chosen in [i.id for i in board.game.snapshot().ready]
        assert chosen not in backlog_ids(board)
        assert commands(board) == [Commit(chosen)]


async def test_answer_a_question() -> None:
    app = build_app("tutorial")
    async with app.run_test(size=SIZE) as pilot:
        board = await step_until(pilot, lambda b: bool(b.game.snapshot().questions))
        question = board.game.snapshot().questions[0]
        assert question.blocked == "question"
        assert board.game.paused  # auto-pause stopped the clock
        await pilot.press("n")
        await pilot.pause()
        assert board.game.snapshot().questions == ()
        assert board.game.find(question.id).blocked is None
        assert commands(board) == [Answer(question.id)]
        await pilot.press("n")  # nothing left to answer: a warning, no command
        assert commands(board) == [Answer(question.id)]


async def test_accept_at_a_rank_and_decline() -> None:
    app = build_app("tutorial")
    async with app.run_test(size=SIZE) as pilot:
        board = await step_until(pilot, lambda b: len(b.game.snapshot().inbox) >= 1)
        request = board.game.snapshot().inbox[0]
        assert request.requester == "Sales"
        await pilot.press("a")
        await pilot.pause()
        assert isinstance(app.screen, NumberDialog)
        await answer(pilot, "2")
        await pilot.pause()
        assert backlog_ids(board)[1] == request.id
        assert commands(board)[-1] == Accept(request.id, 1)
        board = await step_until(pilot, lambda b: len(b.game.snapshot().inbox) >= 1)
        second = board.game.snapshot().inbox[0]
        trust_before = {s.name: s.trust for s in board.game.snapshot().stakeholders}
        await pilot.click("#decline")
        await pilot.pause()
        assert board.game.snapshot().inbox == ()
        assert board.game.find(second.id).state == "declined"
        assert commands(board)[-1] == Decline(second.id)
        after = {s.name: s.trust for s in board.game.snapshot().stakeholders}
        assert after[second.requester] < trust_before[second.requester]


async def test_status_report_at_a_review() -> None:
    app = build_app("tutorial")
    async with app.run_test(size=SIZE) as pilot:
        board = await step_until(
            pilot, lambda b: isinstance(b.app.screen, ReportScreen), close_reports=False
        )
        modal = app.screen
        assert isinstance(modal, ReportScreen)
        assert [row.name for row in modal.rows] == ["Sales", "Support"]
        assert all(row.review_due for row in modal.rows)
        assert board.game.reviews_due() == {"Sales": 10.0, "Support": 10.0}
        # The forecast helper offers the Monte Carlo days and their assumptions.
        sales, support = modal.rows
        assert sales.open_items == 0 and sales.assumptions == "Nothing remains to be done."
        assert support.open_items == 1
        assert support.percentiles[50] <= support.percentiles[85] <= support.percentiles[95]
        # The suggestion is the engine's honest reporting policy, forecast included.
        forecast = board.game.sim.suggested_report("Support").forecast
        assert forecast is not None
        assert support.assumptions == forecast.assumptions.text
        assert support.assumptions.startswith("Based on ")
        assert support.suggested_day == round(support.percentiles[85], 1)
        helper = str(modal.query(".forecast-helper").last().render())
        assert f"85 %: d{support.percentiles[85]:.0f}" in helper
        modal.query_one("#status-1", Select).value = "at_risk"
        modal.query_one("#day-1", Input).value = "31"
        await pilot.click("#send")
        await pilot.pause()
        assert app.screen is board
        assert board.game.reviews_due() == {}
        sent = [c for c in commands(board) if isinstance(c, Report)]
        assert sent == [
            Report("Sales", "on_track", sales.suggested_day),
            Report("Support", "at_risk", 31.0),
        ]
        stakeholders = {s.name: s for s in board.game.snapshot().stakeholders}
        assert stakeholders["Support"].promise_day == 31.0
        assert stakeholders["Support"].promise_status == "at_risk"
        assert stakeholders["Sales"].promise_day is None  # nothing open to promise


async def test_report_rejects_a_bad_day_and_can_be_opened_any_time() -> None:
    app = build_app("tutorial")
    async with app.run_test(size=SIZE) as pilot:
        board = board_of(app)
        await pilot.press("r")
        await pilot.pause()
        modal = app.screen
        assert isinstance(modal, ReportScreen)
        modal.query_one("#day-1", Input).value = "soon"
        await pilot.click("#send")
        await pilot.pause()
        assert app.screen is modal
        assert "Support: the forecast day must be a day ≥ 0." in str(
            modal.query_one("#report-error").render()
        )
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is board
        assert commands(board) == []


async def test_clock_speeds_pause_step_and_auto_pause() -> None:
    app = build_app("tutorial")
    async with app.run_test(size=SIZE) as pilot:
        board = board_of(app)
        game = board.game
        assert game.paused and game.now == 0
        assert board.timer is not None
        # The real timer waits until the part that tests it: a slow machine would
        # otherwise run the clock between the key presses.
        board.timer.pause()
        await pilot.press("full_stop")
        assert game.now == 1.0
        await pilot.press("2")
        assert game.speed == 2
        await pilot.press("space")
        assert game.speed == 0
        await pilot.press("space")
        assert game.speed == 2  # resumes at the last speed
        await pilot.press("1")
        assert game.speed == 1
        await pilot.click("#clock-5")
        assert game.speed == 5
        await pilot.press("p")
        assert game.auto_pause is False
        start = game.now
        board.tick()  # what the timer calls
        assert game.now == start + 5 * DAYS_PER_TICK
        board.timer.resume()
        await pilot.pause(0.6)  # and the real timer runs it too
        assert game.now > start + 5 * DAYS_PER_TICK
        await pilot.press("space")
        stopped = game.now
        await pilot.pause(0.6)
        assert game.now == stopped
        board.timer.pause()
        # Auto-pause back on: the clock stops when the question arrives (day 8.33).
        await pilot.press("p", "5")
        assert game.auto_pause and game.last_speed == 5
        while game.speed:
            board.tick()
            await pilot.pause()
        question = game.snapshot().questions[0]
        asked = game.question_since(question.id)
        assert 8 < asked == game.now  # stopped exactly at the question, not at the tick's end


async def test_save_and_load(posim_home: Path) -> None:
    app = build_app("tutorial")
    async with app.run_test(size=SIZE) as pilot:
        board = board_of(app)
        await pilot.press("down", "t", "full_stop", "full_stop")
        await pilot.press("s")
        assert board.last_save == posim_home / "saves" / "tutorial-day002.json"
        saved = json.loads(board.last_save.read_text())
        kept = board.game.snapshot()
        kept_commands = list(board.game.sim.commands)
    assert saved["posim_save"] == 2
    assert saved["scenario"]["source"] == "tutorial"
    assert saved["day"] == 2.0
    assert saved["commands"] == [{"day": 0.0, "type": "reorder", "item": 5, "rank": 0}]
    assert not list((posim_home / "saves").glob("*.tmp"))  # the temporary file is gone
    loaded = build_app(load=posim_home / "saves" / "tutorial-day002.json")
    async with loaded.run_test(size=SIZE) as pilot:
        board = board_of(loaded)
        assert board.game.sim.commands == kept_commands
        again = board.game.snapshot()
        assert again.time == kept.time == 2.0
        assert [i.id for i in again.backlog] == [i.id for i in kept.backlog]
        assert again.metrics == kept.metrics
        assert [[i.id for i in c.items] for c in again.columns] == [
            [i.id for i in c.items] for c in kept.columns
        ]
    # And from the title screen: Load a saved game… lists it.
    title = PosimApp()
    async with title.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("down", "down", "down", "enter")  # Load a saved game…
        await pilot.pause()
        listing = title.screen.query_one("#save-list")
        assert str(listing.get_option_at_index(0).prompt) == (
            "tutorial-day002.json · tutorial · day 2.0"
        )
        await pilot.press("enter")
        await pilot.pause()
        assert board_of(title).game.sim.commands == kept_commands


async def test_help_and_command_palette_entries() -> None:
    app = build_app("tutorial")
    async with app.run_test(size=SIZE) as pilot:
        board = board_of(app)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is board
        titles = {command.title for command in app.get_system_commands(board)}
        for title in (
            "Commit",
            "Accept",
            "Decline",
            "Answer",
            "Report",
            "WIP",
            "Top",
            "Up",
            "Down",
            "Pause/run",
            "+1 day",
            "1×",
            "2×",
            "5×",
            "Save",
            "Auto-pause",
            "Charts",
            "Help",
        ):
            assert title in titles
        # And the palette runs them: Ctrl+P, "+1 day", Enter.
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"+1 day")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause()
        assert board.game.now == 1.0


async def test_quit_autosaves_with_status_zero(posim_home: Path) -> None:
    app = build_app("tutorial")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("down", "t", "full_stop")
        await pilot.press("ctrl+q")
        await pilot.pause()
    assert app.return_code == 0
    save = saves.read_save(posim_home / "autosave.json")
    assert save.day == 1.0
    assert save.commands[0][1] == Reorder(5, 0)


async def test_engine_error_keeps_the_autosave_and_exits_non_zero(posim_home: Path) -> None:
    app = build_app("tutorial")
    async with app.run_test(size=SIZE) as pilot:
        board = board_of(app)
        await pilot.press("full_stop", "full_stop")
        autosave = (posim_home / "autosave.json").read_text()

        def broken(day: float, stop: object = None) -> bool:
            raise RuntimeError("the team vanished")

        board.game.sim.run_through = broken  # type: ignore[method-assign]
        await pilot.press("full_stop")
        await pilot.pause()
        assert board.engine_error == "RuntimeError: the team vanished"
        assert "autosave is kept" in str(app.screen.query_one("#message").render())
        await pilot.press("enter")
        await pilot.pause()
    assert app.return_code == 1
    assert (posim_home / "autosave.json").read_text() == autosave


async def test_title_screen_new_game_continue_and_quit(posim_home: Path) -> None:
    app = PosimApp()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        menu = app.screen.query_one("#menu")
        assert menu.get_option("continue").disabled  # no autosave yet
        assert not menu.get_option("career").disabled  # posim.career exists
        await pilot.press("down", "enter")  # New game: pick a scenario
        await pilot.pause()
        assert "tutorial" in [o.id for o in app.screen.query_one("#scenario-list").options]
        assert "Lesson" in str(app.screen.query_one("#scenario-about").render())
        await pilot.press("enter")
        await pilot.pause()
        board = board_of(app)
        assert board.game.scenario.name == "tutorial"
        await pilot.press("full_stop", "full_stop", "full_stop")
        await pilot.press("ctrl+q")
    assert app.return_code == 0
    app = PosimApp()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert not app.screen.query_one("#menu").get_option("continue").disabled
        await pilot.press("down", "down", "enter")  # Continue
        await pilot.pause()
        assert board_of(app).game.now == 3.0
    app = PosimApp()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("down", "down", "down", "down", "enter")  # Career
        await pilot.pause()
        listing = app.screen.query_one("#career-list")
        assert listing.highlighted_option.id == "tutorial"  # the first open scenario
        assert listing.get_option("launch-date").disabled  # locked until the tutorial passes
        await pilot.press("enter")
        await pilot.pause()
        assert board_of(app).game.career is True
        assert board_of(app).game.scenario.name == "tutorial"
    app = PosimApp()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("up", "enter")  # Quit (the last entry)
        await pilot.pause()
    assert app.return_code == 0


async def test_cards_show_class_age_worker_and_block() -> None:
    app = build_app("tutorial")
    async with app.run_test(size=SIZE) as pilot:
        board = await step_until(pilot, lambda b: bool(b.game.snapshot().questions))
        snapshot = board.game.snapshot()
        lanes = {lane.lane: lane for lane in board.query(CardList)}
        blocked = snapshot.questions[0]
        column = next(c for c in snapshot.columns if blocked.id in [i.id for i in c.items])
        lane = lanes[column.name]
        text = "\n".join(str(option.prompt) for option in lane.options)
        assert f"#{blocked.id} {blocked.title}" in text
        assert "✖ question" in text
        working = next(m for m in snapshot.members if m.working_on is not None)
        everything = "\n".join(
            str(option.prompt) for lane in lanes.values() for option in lane.options
        )
        assert working.name in everything
        assert "DATE d25" in everything  # the Christmas banner's class and due day
        inbox = lanes["inbox"]
        assert len(snapshot.questions) == 1
        assert inbox.border_title == f"Inbox: {len(snapshot.inbox)} requests, 1 questions"
        waited = snapshot.time - board.game.question_since(blocked.id)
        question = next(o for o in inbox.options if str(o.prompt).startswith(f"#{blocked.id} "))
        assert f"waited {waited:.1f}d" in str(question.prompt)
        detail = str(board.query_one("#detail-text").render())
        assert "value" in detail and "cost of delay" in detail


async def test_menu_key_autosaves_and_opens_the_title_screen(posim_home: Path) -> None:
    from posim.tui.screens.title import TitleScreen

    app = build_app("tutorial")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("full_stop")  # one day, so the autosave has something to keep
        await pilot.pause()
        await pilot.press("m")
        await pilot.pause()
        assert isinstance(app.screen, TitleScreen)
        assert app.game is None
        assert (posim_home / "autosave.json").exists()
