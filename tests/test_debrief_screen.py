"""The game's debrief screen, driven by Pilot: the comparison runs in a worker with a
progress bar, shows same luck, over seeds and the lesson, and retry / another week
start the right game."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Button, DataTable, ProgressBar, Static

from posim import debrief
from posim.engine import ORDERINGS
from posim.tui.app import PosimApp
from posim.tui.game import Game
from posim.tui.screens.board import BoardScreen
from posim.tui.screens.debrief import DebriefScreen

RUNS = 3
"""Other seeds in these tests (the game uses 30; the figures are checked in test_debrief.py)."""


@pytest.fixture
def posim_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh user data folder (saves, autosave, career)."""
    monkeypatch.setenv("POSIM_HOME", str(tmp_path))
    return tmp_path


def finished_app(name: str = "tutorial", seed: int | None = None) -> PosimApp:
    """An app whose game is already at its horizon: it opens on the debrief."""
    game = Game.new(name, seed)
    game.sim.run()
    app = PosimApp(game, autosave=False)
    app.debrief_runs = RUNS
    return app


async def debrief_of(app: PosimApp, pilot: Any) -> DebriefScreen:
    for _ in range(20):
        await pilot.pause()
        if isinstance(app.screen, DebriefScreen):
            return app.screen
    raise AssertionError(f"no debrief, on {app.screen!r}")


async def test_the_worker_finishes_and_fills_same_luck_over_seeds_and_the_lesson(
    posim_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[int, int, bool]] = []
    threads: list[bool] = []
    original = debrief.build

    def spy(*args: Any, **kwargs: Any) -> dict[str, Any]:
        threads.append(threading.current_thread() is threading.main_thread())
        return original(*args, **kwargs)

    monkeypatch.setattr(debrief, "build", spy)
    original_show = DebriefScreen.show_progress

    def record(self: DebriefScreen, done: int, total: int) -> None:
        calls.append((done, total, self.document is None))
        original_show(self, done, total)

    # On the class, before the screen exists: a fast worker cannot report before the spy.
    monkeypatch.setattr(DebriefScreen, "show_progress", record)
    app = finished_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await debrief_of(app, pilot)
        title = str(screen.query_one("#debrief-title").render())
        assert "seed 7" in title
        assert "The lesson's metric, cost_of_delay: " in title
        assert "(lower is better)" in title
        total = debrief.simulations(app.game.scenario, RUNS)  # type: ignore[union-attr]
        assert screen.query_one("#debrief-progress", ProgressBar).total == total
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert threads == [False], "the comparison ran off the UI thread"
        assert screen.document is not None
        # Progress moved in steps while the comparison ran, and ended full.
        assert any(waiting for _, _, waiting in calls)
        assert calls[-1][:2] == (total, total)
        assert [done for done, _, _ in calls] == sorted(done for done, _, _ in calls)
        assert screen.query_one("#debrief-progress", ProgressBar).progress == total
        assert not screen.query_one("#debrief-progress-row").display
        others = screen.query_one("#others", DataTable)
        assert others.row_count == 1 + len(ORDERINGS)
        assert [o.who for o in screen.outcomes] == ["you", *ORDERINGS]
        over = screen.query_one("#over-seeds", DataTable)
        assert over.row_count == len(ORDERINGS)
        wsjf = screen.document["over_seeds"]["strategies"]["wsjf"]["score"]
        assert over.get_row("wsjf")[1] == f"{wsjf['mean']:.1f}"
        lessons = str(screen.query_one("#lessons", Static).render())
        assert screen.document["lessons"][0]["sentence"] in lessons
        # The screen's figures are the headless debrief's, to the bit.
        headless = original(app.game.scenario, screen.result, runs=RUNS)  # type: ignore[union-attr]
        assert json.dumps(headless["over_seeds"]) == json.dumps(screen.document["over_seeds"])
        assert headless["lessons"] == screen.document["lessons"]


async def test_retry_starts_the_same_seed(posim_home: Path) -> None:
    app = finished_app("loud-stakeholder", seed=1234)
    async with app.run_test(size=(120, 40)) as pilot:
        old = app.game
        await debrief_of(app, pilot)
        await pilot.press("r")
        await pilot.pause()
        assert isinstance(app.screen, BoardScreen)
        game = app.game
        assert game is not None and game is not old
        assert game.seed == 1234 and game.now == 0.0 and not game.finished
        assert game.scenario.name == "loud-stakeholder"
        assert len(app.screen_stack) == 2  # the old board and debrief are gone
        assert "seed 1234" in str(app.screen.query_one("#clock-text").render())


async def test_another_week_starts_a_new_seed(posim_home: Path) -> None:
    app = finished_app("tutorial")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await debrief_of(app, pilot)
        await app.workers.wait_for_complete()
        await pilot.pause()
        screen.query_one("#debrief").scroll_end(animate=False)
        await pilot.pause()
        await pilot.click("#another-week")  # the button, as a mouse user would
        await pilot.pause()
        assert screen is not app.screen and isinstance(app.screen, BoardScreen)
        game = app.game
        assert game is not None
        assert game.seed != 7 and 0 <= game.seed < 1_000_000
        assert game.scenario.name == "tutorial" and game.now == 0.0
        assert game.to_save().seed == game.seed  # the save records it: replay reproduces it


async def test_a_room_turns_retry_and_another_week_off(posim_home: Path) -> None:
    app = finished_app("tutorial")
    app.allow_new_games = False
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await debrief_of(app, pilot)
        for button in ("#retry", "#another-week", "#new"):
            assert not screen.query_one(button, Button).display
        await pilot.press("r", "w", "n")
        await pilot.pause()
        assert app.screen is screen
        await app.workers.wait_for_complete()


async def test_save_debrief_writes_the_trainers_copy(posim_home: Path) -> None:
    app = finished_app("tutorial")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await debrief_of(app, pilot)
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("d")
        await pilot.pause()
        json_path, markdown_path = screen.saved_to
        assert json_path.parent.parent == posim_home / "saves" / "debriefs"
        assert json_path.parent.name.startswith("tutorial-seed7-")
        assert json.loads(json_path.read_text(encoding="utf-8")) == json.loads(
            json.dumps(screen.document)
        )
        assert markdown_path.read_text(encoding="utf-8").startswith("# Debrief: Tutorial")


async def test_leaving_the_debrief_cancels_the_comparison(posim_home: Path) -> None:
    app = finished_app("tutorial")
    app.debrief_runs = 200
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await debrief_of(app, pilot)
        await pilot.press("r")  # retry at once: the long comparison must not hold anything up
        await pilot.pause()
        await app.workers.wait_for_complete()
        assert screen.document is None
        total = debrief.simulations(screen.game.scenario, 200)
        assert screen.progress[0] < total / 2, "the comparison stopped early"
        assert isinstance(app.screen, BoardScreen)


async def test_quitting_while_the_comparison_runs_quits_cleanly(posim_home: Path) -> None:
    app = finished_app("tutorial")
    app.debrief_runs = 200
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await debrief_of(app, pilot)
        await pilot.press("ctrl+q")
        await pilot.pause()
    assert app.return_code == 0
    assert screen.document is None


def play_like_a_careful_po(game: Game) -> None:
    """Play a game to the horizon as a careful person would, through commands only.

    Each morning: order the backlog by cost of delay per estimated day, accept
    every request (it joins where its cost of delay per day ranks it), answer
    every question, and report the Monte Carlo 85 % day at every review.
    """
    from posim.engine.commands import Accept, Answer, Reorder, Report

    sim = game.sim
    while not game.finished:
        for item in list(sim.inbox):
            game.apply(Accept(item.id))
        for item in list(sim.questions):
            game.apply(Answer(item.id))
        views = [sim.view(item) for item in sim.backlog]
        ranked = sorted(views, key=lambda v: -v.cost_of_delay / max(v.estimate_total, 0.1))
        for rank, view in enumerate(ranked):
            if sim.backlog[rank].id != view.id:
                game.apply(Reorder(view.id, rank))
        for name in list(game.reviews_due()):
            day = round(sim.reporter.honest_day(name), 1)
            game.apply(Report(name, "on_track", day))
        game.step_day()


@pytest.mark.skipif(
    "POSIM_EXPORT_DEBRIEF" not in __import__("os").environ,
    reason="set POSIM_EXPORT_DEBRIEF=docs/debrief.svg to export the docs' screenshot",
)
async def test_export_the_debrief_screenshot(posim_home: Path) -> None:
    """The screenshot in README and docs/game.md: a careful game of the tutorial, 30 seeds."""
    import os

    game = Game.new("tutorial")
    play_like_a_careful_po(game)
    app = PosimApp(game, autosave=False)
    async with app.run_test(size=(120, 48)) as pilot:
        screen = await debrief_of(app, pilot)
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert screen.document is not None
        target = Path(os.environ["POSIM_EXPORT_DEBRIEF"])
        app.save_screenshot(target.name, str(target.parent))
    saved = os.environ.get("POSIM_EXPORT_DEBRIEF_SAVE")
    if saved:  # the game behind the README's `posim replay --debrief` output
        game.save(saved)


async def test_a_workshop_room_turns_them_off_by_itself(
    posim_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from posim import room_status

    monkeypatch.setenv(room_status.STATUS_ENV, str(posim_home / "status.json"))
    app = finished_app("tutorial")
    assert app.allow_new_games is False
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await debrief_of(app, pilot)
        assert not screen.query_one("#retry", Button).display
        await pilot.press("w")
        await pilot.pause()
        assert app.screen is screen
        await app.workers.wait_for_complete()
