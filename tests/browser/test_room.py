"""A workshop room (``posim serve SCENARIO --room``) in Debian's Chromium, driven by Playwright.

Three players join by name (two give the same one), play a few days, one
reloads the tab and continues from the autosave; the trainer's page lists
all three with their days and scores, reveals the class debrief, and the
CSV and JSON exports hold the same figures as the players' status files.
A fourth player over ``--max-players`` sees a page saying the room is full,
and a page from another site cannot open a game.  Every browser context
reaches 127.0.0.1 only (another site's page is served by the test itself).
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from test_serve import ServerProcess, game_processes, wait_until

from browser.test_browser import CHROMIUM, CHROMIUM_ARGS, Terminal, sync_api, wait_for

pytestmark = pytest.mark.browser

EVIL = "http://evil.example"
"""Another site's page, served by the test (never fetched from the network)."""


@pytest.fixture
def browser() -> Iterator[Any]:
    """Headless Chromium; each player gets a context of their own (their own cookies)."""
    if not CHROMIUM.exists():
        pytest.skip(f"Debian's Chromium is not installed ({CHROMIUM} is missing)")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            launched.close()


def new_context(browser: Any) -> Any:
    """A browser context that reaches 127.0.0.1 and the test's own stand-in of another site."""
    context = browser.new_context(viewport={"width": 1200, "height": 800})

    def only_loopback(route: Any) -> None:
        host = urlsplit(route.request.url).hostname
        if host == "127.0.0.1":
            route.continue_()
        elif route.request.url.startswith(EVIL):
            port = context.posim_port
            route.fulfill(
                content_type="text/html",
                body=(
                    f"<script>const ws = new WebSocket('ws://127.0.0.1:{port}/ws');"
                    "ws.onopen = () => document.title = 'opened';"
                    "ws.onerror = () => document.title = 'refused';</script>"
                ),
            )
        else:
            route.abort()

    context.route("**/*", only_loopback)
    return context


@pytest.fixture
def room(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ServerProcess]:
    """``posim serve tutorial --room --max-players 3``, its data folder in ``tmp_path``."""
    monkeypatch.setenv("POSIM_HOME", str(tmp_path / "home"))
    running = ServerProcess(tmp_path, "tutorial", "--room", "--max-players", "3")
    try:
        yield running
    finally:
        running.close()


def join(context: Any, url: str, name: str) -> tuple[Any, Terminal]:
    """Open the room, give a name, wait for the board."""
    page = context.new_page()
    terminal = Terminal(page)
    page.goto(url)
    page.fill("input[name=name]", name)
    page.click("button[type=submit]")
    page.wait_for_selector("body.-first-byte", timeout=20_000)
    wait_for(page, lambda: len(terminal.backlog_ids()) >= 2, "the board's first frame")
    page.locator(".xterm-helper-textarea").focus()
    return page, terminal


def status(folder: Path) -> dict[str, Any]:
    try:
        return json.loads((folder / "status.json").read_text())
    except (OSError, ValueError):
        return {}


def play_days(page: Any, folder: Path, days: int) -> float:
    """Press '.' (one day) ``days`` times, waiting for the status file each time; the day."""
    for _ in range(days):
        before = status(folder).get("day", -1)
        page.keyboard.press(".")
        wait_for(
            page,
            lambda before=before: status(folder).get("day", -1) > before,
            "a day to pass",
        )
    return float(status(folder)["day"])


def test_a_room_of_three_then_the_trainers_page_and_exports(
    browser: Any, room: ServerProcess, tmp_path: Path
) -> None:
    code = re.search(r"/room\?code=([A-Z0-9]{6})", room.banner)
    assert code, room.banner
    (room_folder,) = (tmp_path / "home" / "rooms").iterdir()
    assert room_folder.name.endswith("-tutorial")

    contexts = [new_context(browser) for _ in range(5)]
    for context in contexts:
        context.posim_port = room.port
    try:
        players = [
            join(contexts[i], room.url, name) for i, name in enumerate(["Ana", "Ana", "Ben"])
        ]
        folders = sorted((room_folder / "players").iterdir())
        assert [json.loads((f / "player.json").read_text())["name"] for f in folders] == [
            "Ana",
            "Ana (2)",
            "Ben",
        ]
        assert len(game_processes(room_folder)) == 3
        days = [
            play_days(page, folder, n)
            for (page, _), folder, n in zip(players, folders, (3, 2, 4), strict=True)
        ]
        assert days == [3.0, 2.0, 4.0]
        seeds = {status(folder)["seed"] for folder in folders}
        assert len(seeds) == 1  # the same luck for everyone

        # Ben reorders his backlog in the middle of day 4, then reloads the tab: a new
        # game from his autosave (written as the old game quit), order and day kept.
        ben, ben_terminal = players[2]
        before = ben_terminal.backlog_ids()
        ben.keyboard.press("J")
        swapped = [before[1], before[0], *before[2:]]
        wait_for(ben, lambda: ben_terminal.backlog_ids()[:5] == swapped[:5], "Ben's reorder")
        ben.reload()
        ben.wait_for_selector("body.-first-byte", timeout=40_000)
        wait_for(ben, lambda: len(ben_terminal.backlog_ids()) >= 5, "Ben's board after reload")
        assert ben_terminal.backlog_ids()[:5] == swapped[:5]
        wait_for(
            ben,
            lambda: any(
                "--load" in Path(f"/proc/{pid}/cmdline").read_text()
                for pid, home in game_processes(room_folder).items()
                if home == folders[2]
            ),
            "Ben's game to restart from the autosave",
        )
        assert len(game_processes(room_folder)) == 3
        ben.locator(".xterm-helper-textarea").focus()
        assert play_days(ben, folders[2], 1) == 5.0  # he continues: day 4, then 5
        days[2] = 5.0

        # A fourth player is over the cap: the page says so.
        fourth = contexts[3].new_page()
        response = fourth.goto(room.url)
        assert response is not None and response.status == 503
        assert "The room is full" in fourth.content()

        # Another site's page cannot open a game.
        evil = contexts[3].new_page()
        evil.goto(EVIL + "/")
        wait_for(evil, lambda: evil.title() in ("opened", "refused"), "the foreign websocket")
        assert evil.title() == "refused"
        assert len(game_processes(room_folder)) == 3

        # The trainer's page: refused without the code, then every player live.
        trainer = contexts[4].new_page()
        assert trainer.goto(room.url + "/room").status == 403
        trainer.goto(f"{room.url}/room?code={code.group(1)}")
        expected = {"Ana": days[0], "Ana (2)": days[1], "Ben": days[2]}

        def table() -> dict[str, tuple[str, str, str]]:
            rows = trainer.locator("#players tbody tr")
            found = {}
            for index in range(rows.count()):
                cells = rows.nth(index).locator("td").all_inner_texts()
                found[cells[0]] = (cells[1], cells[2], cells[5])
            return found

        wait_for(
            trainer,
            lambda: (
                {n: d.split(" /")[0] for n, (d, _, _) in table().items()}
                == {n: f"{d:.1f}" for n, d in expected.items()}
            ),
            "the trainer's table",
        )
        for name, folder in zip(expected, folders, strict=True):
            _day, score, state = table()[name]
            assert score == f"{status(folder)['score']:.1f}"
            assert state in ("playing", "paused")
        # Live: Ana plays another day; the open page follows without a reload.
        ana = players[0][0]
        ana.locator(".xterm-helper-textarea").focus()
        days[0] = expected["Ana"] = play_days(ana, folders[0], 1)
        assert days[0] == 4.0
        wait_for(trainer, lambda: table()["Ana"][0].startswith("4.0"), "the live update")
        assert table()["Ana"][1] == f"{status(folders[0])['score']:.1f}"
        trainer.click("text=Reveal the class debrief")
        trainer.wait_for_selector("#same-luck")
        debrief = trainer.locator("#same-luck").inner_text()
        assert all(name in debrief for name in expected)
        assert "strategy: wsjf" in debrief and "strategy: fifo" in debrief
        assert trainer.locator("svg circle").count() >= 3
        assert re.search(  # nobody has played to the horizon here
            r"No player has finished yet; once they do, this counts how many beat fifo",
            trainer.inner_text("#lesson-count"),
        )
        shots = os.environ.get("POSIM_SCREENSHOT_DIR")
        trainer.screenshot(path=str(tmp_path / "room.png"), full_page=True)
        if shots:
            shutil.copy(tmp_path / "room.png", Path(shots) / "workshop-room.png")

        # The exports hold the same figures as the players' own status files.
        csv_text = trainer.request.get(room.url + "/room/results.csv").text()
        exported = json.loads(trainer.request.get(room.url + "/room/results.json").text())
        csv_rows = list(csv.DictReader(io.StringIO(csv_text)))
        assert [row["name"] for row in csv_rows] == ["Ana", "Ana (2)", "Ben"]
        assert [row["name"] for row in exported["players"]] == ["Ana", "Ana (2)", "Ben"]
        for row, entry, folder in zip(csv_rows, exported["players"], folders, strict=True):
            own = status(folder)
            assert float(row["day"]) == entry["day"] == own["day"]
            assert float(row["score"]) == pytest.approx(entry["score"]) == own["score"]
            assert row["grade"] == entry["grade"] == own["grade"]
            assert int(row["seed"]) == entry["seed"] == own["seed"]
            assert row["finished"] == "False" and entry["finished"] is False
            for metric in ("net_value", "trust_mean", "items_done", "score"):
                value = own["metrics"][metric]
                assert entry[metric] == value
                assert (row[metric] == "") if value is None else float(row[metric]) == value
        assert len(exported["debrief"]["strategies"]) == 8
    finally:
        for context in contexts:
            context.close()

    # Stop the server: the room's folder stays, with the results and every save.
    assert room.interrupt() == 0
    assert wait_until(lambda: not game_processes(room_folder), 10)
    assert (room_folder / "results.csv").is_file() and (room_folder / "results.json").is_file()
    assert all((folder / "autosave.json").is_file() for folder in folders)
    assert "Traceback" not in room.output
