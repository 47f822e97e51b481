"""Smoke test in a real terminal: tmux runs ``posim play``, we look at the screen.

Skipped only when ``tmux`` is not installed (CI installs it).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.tmux,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]


def posim_script() -> str:
    """The ``posim`` script next to this interpreter (the venv's)."""
    script = Path(sys.executable).with_name("posim")
    return str(script) if script.exists() else f"{sys.executable} -m posim"


@pytest.fixture
def tmux(tmp_path: Path, posim_home: Path) -> Iterator[Callable[..., str]]:
    """Run tmux commands on a private server; the session is killed afterwards."""
    socket = str(tmp_path / "tmux.sock")
    # COLUMNS/LINES (set by some runners) would override the pane's real size
    # in shutil.get_terminal_size, and the game would draw at that size.
    inherited = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    env = {**inherited, "POSIM_HOME": str(posim_home), "TERM": "xterm-256color"}

    def run(*args: str) -> str:
        done = subprocess.run(
            ["tmux", "-S", socket, *args],
            capture_output=True,
            text=True,
            env=env,
            check=False,
            timeout=20,
        )
        return done.stdout

    yield run
    run("kill-server")


def wait_for(screen: Callable[[], str], text: str, timeout: float = 20.0) -> str:
    """Capture the pane until ``text`` shows (or fail with the last capture)."""
    deadline = time.monotonic() + timeout
    shown = ""
    while time.monotonic() < deadline:
        shown = screen()
        if text in shown:
            return shown
        time.sleep(0.2)
    raise AssertionError(f"{text!r} never showed; the screen was:\n{shown}")


def test_play_in_tmux(tmux: Callable[..., str], tmp_path: Path, posim_home: Path) -> None:
    status = tmp_path / "status"
    command = f"{posim_script()}  play --menu; echo $? > {status}"
    tmux("new-session", "-d", "-s", "posim", "-x", "120", "-y", "40", command)

    def screen() -> str:
        return tmux("capture-pane", "-p", "-t", "posim")

    wait_for(screen, "Play the tutorial")  # the title screen
    tmux("send-keys", "-t", "posim", "Enter")
    # The first frames can be partial under load: wait for each lane (and the
    # tutorial's first item) in turn; wait_for fails with the screen if one never shows.
    for text in ("Backlog", "Ready", "analysis", "development", "test", "Done", "Inbox"):
        wait_for(screen, text)
    wait_for(screen, "Pay by card")
    tmux("send-keys", "-t", "posim", "?")
    wait_for(screen, "How to play")
    tmux("send-keys", "-t", "posim", "Escape")
    wait_for(screen, "Pay by card")  # back on the board
    time.sleep(0.3)  # so "." is not read as Alt+. after the Escape
    tmux("send-keys", "-t", "posim", ".")
    wait_for(screen, "week 1, Tue")
    tmux("send-keys", "-t", "posim", "C-q")
    deadline = time.monotonic() + 20
    while not status.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert status.read_text().strip() == "0"
    assert (posim_home / "autosave.json").exists()


def test_the_coach_guides_the_first_step_in_tmux(tmux: Callable[..., str]) -> None:
    """The tutorial's coach asks for the backlog ordered by cost of delay ÷ size, waits
    for it, and moves on to the next step once the player did it."""
    from posim.tui.coach import best_in_backlog
    from posim.tui.game import Game

    game = Game.new("tutorial")
    best = best_in_backlog(game)
    assert best is not None
    position = [item.id for item in game.snapshot().backlog].index(best.id)
    tmux("new-session", "-d", "-s", "coach", "-x", "120", "-y", "40", f"{posim_script()} play")

    def screen() -> str:
        return tmux("capture-pane", "-p", "-t", "coach")

    wait_for(screen, "Coach 1/5: Order by cost of delay")
    wait_for(screen, f"#{best.id} {best.title[:12]}")
    time.sleep(1.0)  # the board takes keys once it has drawn (a loaded machine is slow)
    assert "Coach 2/5" not in screen()  # the step waits for the player
    for _ in range(position):
        tmux("send-keys", "-t", "coach", "Down")
        time.sleep(0.2)
    tmux("send-keys", "-t", "coach", "t")
    wait_for(screen, "Coach 2/5: Run the clock")
    tmux("send-keys", "-t", "coach", "x")  # skip it
    wait_for(screen, "Coach 3/5: Let the clock run")
    tmux("send-keys", "-t", "coach", "C-q")
