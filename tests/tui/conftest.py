"""Fixtures for the game's tests: a private data folder and Pilot helpers."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot

from posim.tui.app import PosimApp
from posim.tui.screens.board import BoardScreen
from posim.tui.screens.report import ReportScreen

REPO_ROOT = Path(__file__).resolve().parents[2]
"""The repository checkout."""


@pytest.fixture(autouse=True)
def posim_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own ``POSIM_HOME`` (autosaves and saves land there)."""
    home = tmp_path / "posim-home"
    monkeypatch.setenv("POSIM_HOME", str(home))
    return home


def board_of(app: PosimApp) -> BoardScreen:
    """The board screen (wherever it is in the stack)."""
    for screen in app.screen_stack:
        if isinstance(screen, BoardScreen):
            return screen
    raise AssertionError(f"no board in {app.screen_stack}")


async def step_until(
    pilot: Pilot[None],
    condition: Callable[[BoardScreen], bool],
    *,
    limit: int = 60,
    close_reports: bool = True,
) -> BoardScreen:
    """Advance one day at a time (what the ``.`` key does) until ``condition(board)`` holds.

    The days are stepped through the board's own action without waiting for a
    repaint in between (the ``.`` key itself is tested on its own), which keeps
    the suite fast.  A status report that opens on its own is closed with
    Escape unless ``close_reports`` is false (then stepping stops at it).
    """
    app = pilot.app
    assert isinstance(app, PosimApp)
    board = board_of(app)
    for _ in range(limit):
        if condition(board):
            await pilot.pause()
            return board
        if isinstance(app.screen, ReportScreen):
            await pilot.pause()
            if not close_reports:
                return board
            await pilot.press("escape")
            await pilot.pause()
            continue
        board.action_step_day()
    raise AssertionError(f"condition not met by day {board.game.now}")
