"""The live game teaches: the log, trust toasts, the team, the PO's time, exact pauses.

And the bugs found by playing (issue 14), each with its test.  The tutorial
(seed 7): an item's question on day 8.33, reviews on days 10 and 20, Sales's
first request on day 11.99.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from typer.testing import CliRunner

from posim import cli, saves
from posim.engine import Accept, Answer, Decline, Report, journal
from posim.tui.app import build_app
from posim.tui.game import Game
from posim.tui.screens.dialogs import NumberDialog
from posim.tui.screens.report import ReportScreen
from posim.tui.widgets.cards import CardList

from .conftest import REPO_ROOT, board_of, step_until

SIZE = (140, 44)
FORMAT1_SAVE = Path(__file__).parent / "data" / "format1-open-door.json"
"""A game of open-door saved by posim before save format 2 (commands given at day
ends, answers, accepts and reports; 20 days)."""


def shown(widget: object) -> str:
    """The text a widget shows on screen, line by line."""
    return "\n".join(
        widget.render_line(y).text  # type: ignore[attr-defined]
        for y in range(widget.size.height)  # type: ignore[attr-defined]
    )


def svg_text(path: Path) -> str:
    """The text of a screenshot SVG (its spaces are ``&#160;``)."""
    return path.read_text(encoding="utf-8").replace("&#160;", " ")


def run_until_paused(game: Game, limit: int = 400) -> None:
    """Run the clock at 5x until auto-pause stops it."""
    game.set_speed(5)
    for _ in range(limit):
        game.tick()
        if game.paused:
            return
    raise AssertionError("never paused")


# -- bug 2: the clock stops exactly at the event --------------------------------


def test_auto_pause_stops_exactly_at_the_event_and_the_save_replays(tmp_path: Path) -> None:
    game = Game.new("tutorial")
    run_until_paused(game)
    asked = [r for r in game.sim.records if r.kind == "blocked" and r.detail == "question"]
    assert asked and game.now == asked[0].time  # not up to 1.25 days later
    game.apply(Answer(asked[0].item))  # applies after the event that paused
    for _ in range(20):  # requests and questions pause too; each exactly at its event
        run_until_paused(game)
        if game.reviews_due():
            break
        pausing = [r for r in game.sim.records if r.kind in ("arrived", "blocked")]
        assert any(r.time == game.now for r in pausing), game.now
    assert game.now == 10.0 and game.reviews_due()  # the review on day 10, not "day 11.2"
    for name in game.reviews_due():
        game.apply(Report(name, "at_risk", 30.0))
    run_until_paused(game)
    arrived = [r for r in game.sim.records if r.kind == "arrived" and r.detail != "backlog"]
    assert game.now == arrived[-1].time and not math.isclose(game.now % 0.25, 0)
    game.apply(Accept(arrived[-1].item))
    game.advance_to(25.0)
    path = game.save(tmp_path / "game.json")
    assert json.loads(path.read_text())["posim_save"] == 2
    again = Game.load(path)
    assert again.snapshot() == game.snapshot()
    assert again.sim.records == game.sim.records


def test_a_format_1_save_replays_as_it_did() -> None:
    # Written by posim before format 2 (PYTHONPATH=main); the figures are that posim's.
    save, result = saves.replay(FORMAT1_SAVE)
    assert save.format == 1 and save.day == 20.0 and len(save.commands) == 34
    assert result.metrics["net_value"] == 15787.873771805715
    assert result.metrics["blocked_days"] == 7.11745815234707
    assert result.score.total == 65.023249353  # the score's weights of issue 14
    # Continued, it keeps format 1's rules (and writes format 1).
    game = Game.load(FORMAT1_SAVE)
    assert game.format == 1 and not game.waiting()
    assert saves.to_json(game.to_save())["posim_save"] == 1


def test_commands_before_the_clock_runs_apply_before_day_zero(tmp_path: Path) -> None:
    game = Game.new("tutorial")
    last = game.snapshot().backlog[-1].id
    from posim.engine import Reorder

    game.apply(Reorder(last, 0))
    game.advance_to(3.0)
    assert last in [i.id for i in game.snapshot().ready] + [
        i.id for c in game.snapshot().columns for i in c.items
    ]
    again = Game.load(game.save(tmp_path / "g.json"))
    assert again.snapshot() == game.snapshot()


# -- the PO's time is the player's time -----------------------------------------


def test_a_persons_answers_and_reports_spend_the_po_budget(tmp_path: Path) -> None:
    game = Game.new("open-door")  # 6 hours a day; answers 0.5 h, reports 0.5 h
    run_until_paused(game)
    question = game.snapshot().questions[0].id
    asked = game.now
    lines = game.apply(Answer(question))
    assert [e.kind for e in lines] == ["waiting"]
    assert game.waiting()[0][0] == asked + 0.5 / 6  # as a strategy's answer would
    assert game.find(question).blocked == "question"  # not yet: it waits for your time
    time = journal.po_time(game.sim)
    assert time is not None and time.left_today == (math.floor(asked) + 1 - (asked + 0.5 / 6)) * 6
    game.advance_to(asked + 0.1)
    assert game.find(question).blocked != "question" and not game.waiting()
    saved = game.save(tmp_path / "g.json")
    assert Game.load(saved).snapshot() == game.snapshot()


async def test_the_board_shows_the_po_time_and_what_waits() -> None:
    app = build_app("open-door")
    async with app.run_test(size=SIZE) as pilot:
        board = await step_until(pilot, lambda b: bool(b.game.snapshot().questions))
        await pilot.press("n")
        await pilot.pause()
        clock = str(board.query_one("#clock-text").render())
        assert "h left" in clock and "(1 waiting)" in clock
        inbox = str(board.query_one("#inbox", CardList).get_option_at_index(0).prompt)
        assert "⧗ answer" in inbox
        await pilot.press("e")  # the team tab: the PO's time, what waits
        await pilot.pause()
        team = shown(board.query_one("#team"))
        assert "Your time: 6 h a day" in team and "takes effect on day" in team


# -- cause and effect, live -----------------------------------------------------


async def test_a_decline_is_told_as_a_toast_in_the_log_and_on_the_stakeholders() -> None:
    app = build_app("tutorial")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        board = await step_until(pilot, lambda b: bool(b.game.snapshot().inbox))
        request = board.game.snapshot().inbox[0]
        await pilot.press("d")
        await pilot.pause()
        assert Decline(request.id) in [c for _, c in board.game.sim.commands]
        toasts = [n for n in app._notifications if n.title.startswith("Sales trust −")]
        assert toasts and f"request #{request.id}" in toasts[-1].message
        panel = str(board.query_one("#stakeholders").render())
        assert f"request #{request.id}" in panel  # the last change and why
        lines = [e for e in board.game.log if e.kind == "trust"]
        assert lines[-1].stakeholder == "Sales" and (lines[-1].delta or 0) < 0
        await pilot.press("l")
        await pilot.pause()
        log = "\n".join(strip.text for strip in board.query_one("#log").lines)
        assert f"You declined #{request.id}" in log and "Sales trust −" in log
        asked = any(r.kind == "blocked" and r.detail == "question" for r in board.game.sim.records)
        assert ("The team asks about" in log) is asked  # a question is told when one was asked
        # Toasts sit at the top right, never over the trust bars.
        rack = app.screen.query_one("ToastRack")
        trust = board.query_one("#stakeholders")
        assert not rack.region.overlaps(trust.region)


async def test_the_team_tab_says_who_does_what_and_why_idle() -> None:
    app = build_app("tutorial")
    async with app.run_test(size=SIZE) as pilot:
        board = await step_until(pilot, lambda b: b.game.now >= 1)
        strip = str(board.query_one("#team-strip").render())
        assert strip.startswith("Team: ")
        await pilot.press("e")
        await pilot.pause()
        team = shown(board.query_one("#team"))
        for member in journal.team(board.game.sim):
            assert member.name in team and member.why in team
        reasons = {m.why for m in journal.team(board.game.sim) if m.working_on is None}
        assert all(r.startswith("idle: ") or r == "absent" for r in reasons)


def test_sprint_goal_and_end_in_scrum() -> None:
    game = Game.new("sprint-review")
    game.advance_to(1.0)
    sprint = journal.sprint(game.sim)
    assert sprint is not None and sprint.number == 1 and sprint.start == 0.0
    assert sprint.end == game.scenario.cadence.sprint_days and sprint.goal
    assert all(game.find(i).committed == 0.0 for i in sprint.goal)


# -- bugs found by playing ------------------------------------------------------


async def test_bug1_accept_defaults_to_the_bottom() -> None:
    app = build_app("tutorial")
    async with app.run_test(size=SIZE) as pilot:
        board = await step_until(pilot, lambda b: bool(b.game.snapshot().inbox))
        request = board.game.snapshot().inbox[0].id
        await pilot.press("a")
        await pilot.pause()
        assert isinstance(app.screen, NumberDialog)
        assert app.screen.query_one("#number").value == ""  # blank = the bottom
        await pilot.press("enter")
        await pilot.pause()
        assert board.game.snapshot().backlog[-1].id == request
        assert (board.game.now, Accept(request, None)) == board.game.sim.commands[-1]


async def test_bug5_no_key_acts_while_the_terminal_is_too_small() -> None:
    app = build_app("tutorial")
    async with app.run_test(size=(70, 20)) as pilot:
        board = board_of(app)
        assert board.too_small
        await pilot.press("full_stop", "full_stop", "t", "space")
        await pilot.pause()
        assert board.game.now == 0.0 and board.game.paused and not board.game.sim.commands
        board.game.set_speed(5)  # a clock left running does not run unseen either
        board.tick()
        assert board.game.now == 0.0


async def test_bug6_the_header_and_the_footers_fit_at_80x24() -> None:
    app = build_app("tutorial")
    async with app.run_test(size=(80, 24)) as pilot:
        board = board_of(app)
        await pilot.pause()
        shown = board.query_one("#clock-text").render_line(0).text
        assert shown.startswith("‖ paused day 0.0/40 week 1, Mon")
        ready = board.query_one("#lane-ready")
        assert ready.border_subtitle == "3/3"
    app = build_app("two-products")
    async with app.run_test(size=(120, 40)) as pilot:
        board = board_of(app)
        await pilot.pause()
        panel = board.query_one("#stakeholders")
        lines = [panel.render_line(y).text for y in range(panel.size.height)]
        for person in board.game.snapshot().stakeholders:
            assert any(line.strip().startswith(f"{person.name} ×") for line in lines), lines


async def test_bug7_top_scrolls_the_item_into_view() -> None:
    app = build_app("tutorial")
    async with app.run_test(size=(100, 26)) as pilot:
        board = board_of(app)
        backlog = board.query_one("#lane-backlog", CardList)
        await pilot.press("end")  # the last item, the list scrolled down
        await pilot.pause()
        assert backlog.scroll_y > 0
        item = board.selected
        await pilot.press("t")
        await pilot.pause()
        assert board.game.snapshot().backlog[0].id == item
        assert backlog.highlighted == 0 and backlog.scroll_y == 0


async def test_bug8_history_reads_well_and_no_report_after_the_end() -> None:
    game = Game.new("tutorial")
    game.auto_pause = False
    game.advance_to(40.0)
    done = game.snapshot().done[0].id
    history = [f"d{day:.1f} {kind} {text}".strip() for day, kind, text in game.history(done)]
    assert history[-1].endswith(" done") and "done done" not in history[-1]
    app = build_app("tutorial")
    app.game.auto_pause = False  # type: ignore[union-attr]
    app.game.advance_to(40.0)  # type: ignore[union-attr]
    assert app.game.finished  # type: ignore[union-attr]
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        board = board_of(app)
        await pilot.press("escape")  # the debrief
        await pilot.pause()
        board.action_report()
        await pilot.pause()
        assert not isinstance(app.screen, ReportScreen)


def test_bug8_replay_title_on_one_line(tmp_path: Path) -> None:
    game = Game.new("tutorial")
    game.auto_pause = False
    game.advance_to(3.0)
    path = game.save(tmp_path / "g.json")
    printed = CliRunner().invoke(cli.app, ["replay", str(path)], terminal_width=60)
    assert printed.exit_code == 0
    assert printed.stdout.splitlines()[0] == "tutorial · seed 7 · day 3 of 40 · 0 commands"


def test_bug3_a_builtin_career_scenario_on_its_seed_counts() -> None:
    assert Game.new("tutorial").career is True  # "next: posim play tutorial" counts
    assert Game.new("tutorial", seed=8).career is False
    assert Game.new(str(REPO_ROOT / "scenarios" / "tutorial.yaml")).career is False


async def test_bug4_a_new_game_keeps_the_unfinished_autosave(posim_home: Path) -> None:
    first = Game.new("two-products", autosave_to=saves.autosave_path())
    first.auto_pause = False
    first.advance_to(7.0)
    first.autosave()
    app = build_app("tutorial")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        kept = posim_home / "saves" / "autosave-two-products.json"
        assert saves.read_save(kept).day == 7.0
        assert board_of(app).game.kept_autosave == kept
        for _ in range(10):  # the toast is sent when the board mounts
            if any("kept" in n.message for n in app._notifications):
                break
            await pilot.pause(0.05)
        assert any("kept" in n.message for n in app._notifications)
        board_of(app).action_step_day()
        await pilot.pause()
    assert saves.read_save(saves.autosave_path()).scenario_name == "tutorial"
    assert saves.read_save(kept).scenario_name == "two-products"


# -- a guided first game --------------------------------------------------------


async def test_the_coach_walks_the_tutorial_step_by_step() -> None:
    from posim.tui.coach import best_in_backlog

    app = build_app("tutorial")
    async with app.run_test(size=SIZE) as pilot:
        board = board_of(app)
        coach = board.coach
        assert coach is not None

        def says() -> str:
            return str(board.query_one("#coach").render())

        assert says().startswith("Coach 1/5: Order by cost of delay ÷ size")
        best = best_in_backlog(board.game)
        assert best is not None and f"#{best.id} " in says()
        await pilot.press("end", "K")  # a move that does not put the best item on top
        assert says().startswith("Coach 1/5")  # the step waits for its action
        position = [i.id for i in board.game.snapshot().backlog].index(best.id)
        await pilot.press("home", *["down"] * position, "t")
        assert says().startswith("Coach 2/5: Run the clock")
        await pilot.press("full_stop")
        assert says().startswith("Coach 3/5: Let the clock run")
        await step_until(pilot, lambda b: bool(b.game.snapshot().questions))
        assert "Press n to answer" in says()
        await pilot.press("n")
        await pilot.pause()
        assert says().startswith("Coach 4/5")
        await step_until(pilot, lambda b: isinstance(app.screen, ReportScreen), close_reports=False)
        await pilot.click("#send")
        await pilot.pause()
        assert says().startswith("Coach 5/5")
        await step_until(pilot, lambda b: bool(b.game.snapshot().inbox))
        assert "Press a to accept" in says()
        await pilot.press("d")
        await pilot.pause()
        assert says().startswith("Coach 5/5 done") and not coach.skipped
        await pilot.press("x")  # hides the coach
        await pilot.pause()
        assert board.coach is None and not board.query_one("#coach").display


async def test_a_coach_step_can_be_skipped_and_other_scenarios_have_none() -> None:
    app = build_app("tutorial")
    async with app.run_test(size=SIZE) as pilot:
        board = board_of(app)
        await pilot.press("x")
        assert board.coach is not None and board.coach.skipped == {"order"}
        assert str(board.query_one("#coach").render()).startswith("Coach 2/5")
    app = build_app("open-door")
    async with app.run_test(size=SIZE) as pilot:
        assert board_of(app).coach is None
        assert not board_of(app).query_one("#coach").display


async def test_the_screens_docs_game_md_shows(tmp_path: Path) -> None:
    """The coach, the Today log and the Team tab as docs/game.md shows them.

    ``POSIM_EXPORT_DOCS=docs`` writes them there (coach.svg, log.svg, team.svg).
    """
    import os

    folder = Path(os.environ.get("POSIM_EXPORT_DOCS", tmp_path))
    app = build_app("tutorial")
    async with app.run_test(size=(120, 36)) as pilot:
        board = board_of(app)
        await pilot.pause()
        app.save_screenshot(str(folder / "coach.svg"))
        assert "Coach 1/5" in svg_text(folder / "coach.svg")
        await pilot.press("x")
        await step_until(pilot, lambda b: bool(b.game.snapshot().inbox))
        await pilot.press("d")
        await pilot.pause()
        app.clear_notifications()
        await pilot.press("l")
        await pilot.pause()
        app.save_screenshot(str(folder / "log.svg"))
        await pilot.press("e")
        await pilot.pause()
        app.save_screenshot(str(folder / "team.svg"))
        assert board.query_one("#tabs").active == "tab-team"  # type: ignore[attr-defined]
    assert "trust" in (folder / "log.svg").read_text()
    team = svg_text(folder / "team.svg")
    assert "idle" in team or "on #" in team
