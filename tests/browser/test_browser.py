"""``posim serve`` played in a real browser: Debian's Chromium driven by Playwright.

The browser is the system's ``/usr/bin/chromium`` (``apt-get install
chromium``; ``.ci/run`` installs it), never one Playwright downloads.  Every
request to a host other than 127.0.0.1 is blocked, so the page must work
offline.  The canvas the page draws on cannot be read as text, so the test
reads the screen the way the page does: every websocket frame the browser
receives is fed to a terminal emulator (pyte), and the test asserts on its
rows.  Screenshots (saved under the test's temporary folder, or
``$POSIM_SCREENSHOT_DIR``) show the same frames as pixels.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from test_serve import ServerProcess, game_processes, wait_until

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
"""Debian's Chromium; the test skips (saying why) when it is absent."""

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pyte = pytest.importorskip("pyte", reason="the browser test reads the screen with pyte")
sync_api = pytest.importorskip(
    "playwright.sync_api", reason="the browser test needs Playwright (pip install playwright)"
)


class Terminal:
    """The game's screen as the page sees it: received websocket frames fed to pyte."""

    def __init__(self, page: Any) -> None:
        self.screen: Any = None
        self.stream: Any = None
        page.on("websocket", self.attach)

    def attach(self, websocket: Any) -> None:
        """Size the emulator from the websocket's URL and follow its frames."""
        query = parse_qs(urlsplit(websocket.url).query)
        width, height = int(query["width"][0]), int(query["height"][0])
        self.screen = pyte.Screen(width, height)
        self.stream = pyte.ByteStream(self.screen)
        websocket.on("framereceived", self.received)
        websocket.on("framesent", self.sent)

    def received(self, payload: str | bytes) -> None:
        """Terminal output arrives as binary frames (text frames are control messages)."""
        if isinstance(payload, bytes):
            self.stream.feed(payload)

    def sent(self, payload: str | bytes) -> None:
        """Follow the page's resizes."""
        if isinstance(payload, str):
            message = json.loads(payload)
            if message[0] == "resize":
                self.screen.resize(lines=message[1]["height"], columns=message[1]["width"])

    @property
    def rows(self) -> list[str]:
        """The screen's rows as text."""
        return list(self.screen.display) if self.screen is not None else []

    @property
    def text(self) -> str:
        """The whole screen as text."""
        return "\n".join(self.rows)

    def backlog_ids(self) -> list[int]:
        """The ids (``#4``) of the cards visible in the Backlog lane, top to bottom."""
        rows = self.rows
        for number, row in enumerate(rows):
            if "Backlog" in row and "╮" in row[row.index("Backlog") :]:
                right = row.index("╮", row.index("Backlog"))  # the lane's top-right corner
                return [
                    int(found)
                    for below in rows[number + 1 :]
                    for found in re.findall(r"#(\d+)\b", below[:right])
                ]
        return []


def wait_for(page: Any, condition: Callable[[], bool], what: str, timeout: float = 30) -> None:
    """Let the page run until ``condition()`` holds; fail saying ``what`` did not happen."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        page.wait_for_timeout(50)


@pytest.fixture
def chromium() -> Iterator[Any]:
    """A fresh headless Chromium context whose pages can reach 127.0.0.1 only.

    Yields the context; ``context.blocked`` lists every request it refused.
    """
    if not CHROMIUM.exists():
        pytest.skip(
            f"Debian's Chromium is not installed ({CHROMIUM} is missing): "
            "run `apt-get install -y chromium` (.ci/run does)"
        )
    with (
        sync_api.sync_playwright() as playwright,
        tempfile.TemporaryDirectory(prefix="posim-chromium-") as profile,
    ):
        context = playwright.chromium.launch_persistent_context(
            profile,
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1200, "height": 800},
        )
        blocked: list[str] = []

        def only_loopback(route: Any) -> None:
            if urlsplit(route.request.url).hostname == "127.0.0.1":
                route.continue_()
            else:
                blocked.append(route.request.url)
                route.abort()

        context.route("**/*", only_loopback)
        context.blocked = blocked
        try:
            yield context
        finally:
            context.close()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    """``posim serve tutorial`` on a free port."""
    running = ServerProcess(tmp_path, "tutorial")
    try:
        yield running
    finally:
        running.close()


def open_game(context: Any, url: str) -> tuple[Any, Terminal]:
    """Open the page in a new tab and wait for the game's first frame (the board)."""
    page = context.new_page()
    terminal = Terminal(page)
    page.goto(url)
    page.wait_for_selector("body.-first-byte", timeout=20_000)
    wait_for(page, lambda: len(terminal.backlog_ids()) >= 2, "the board's first frame")
    page.locator(".xterm-helper-textarea").focus()  # keys go to the terminal
    return page, terminal


def test_play_in_the_browser_offline_then_close(
    chromium: Any, server: ServerProcess, tmp_path: Path
) -> None:
    shots = Path(os.environ.get("POSIM_SCREENSHOT_DIR", tmp_path))
    page, terminal = open_game(chromium, server.url)
    assert "Tutorial" in terminal.text and "Inbox" in terminal.text
    first = page.screenshot(path=shots / "board.png")

    # Everything came from the server: nothing was blocked, the bundled font is in use.
    assert chromium.blocked == []
    assert page.evaluate(
        "() => [...document.fonts].some("
        "f => f.family.includes('Roboto Mono') && f.status === 'loaded')"
    )

    # Reorder the backlog: the selected top card moves down one place.
    before = terminal.backlog_ids()
    page.keyboard.press("J")
    swapped = [before[1], before[0], *before[2:]]
    wait_for(page, lambda: terminal.backlog_ids()[: len(swapped)] == swapped, "the reorder")
    reordered = page.screenshot(path=shots / "reordered.png")
    assert reordered != first

    # Help opens over the board and closes again.
    assert "How to play" not in terminal.text
    page.keyboard.press("?")
    wait_for(page, lambda: "How to play" in terminal.text, "the help screen")
    help_shot = page.screenshot(path=shots / "help.png")
    assert help_shot != reordered
    page.keyboard.press("Escape")
    wait_for(page, lambda: "How to play" not in terminal.text, "the help screen to close")
    assert terminal.backlog_ids()[: len(swapped)] == swapped

    # One simulated day later the game has autosaved in its own data folder.
    (home,) = game_processes(server.tmp).values()
    page.keyboard.press(".")
    wait_for(page, lambda: (home / "autosave.json").is_file(), "the autosave")

    # A second tab is a game of its own: its own folder, no save yet, the original order.
    other, other_terminal = open_game(chromium, server.url)
    assert other_terminal.backlog_ids()[: len(before)] == before
    games = game_processes(server.tmp)
    assert len(games) == 2 and len(set(games.values())) == 2
    (other_home,) = set(games.values()) - {home}
    assert other_home.is_dir() and not (other_home / "autosave.json").exists()

    # Closing the tabs ends their games and removes their folders; Ctrl+C stops the server.
    page.close()
    other.close()
    assert wait_until(lambda: not game_processes(server.tmp), 15), game_processes(server.tmp)
    assert wait_until(lambda: not home.exists() and not other_home.exists(), 5)
    assert chromium.blocked == []
    assert server.interrupt() == 0
    assert not list(server.tmp.glob("posim-serve-*"))
