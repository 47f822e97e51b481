"""A workshop room's parts without a browser: names, seeds, the status file, the results.

The whole room (players joining, reloading, the trainer's page, the exports)
is played in Chromium by ``tests/browser/test_room.py``.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest

from posim import room_status
from posim.scenario import load_scenario
from posim.serve import room_results
from posim.serve.room import clean_name, new_code, slug, unique_name
from posim.tui.game import Game


def test_names_are_cleaned_and_clashes_numbered() -> None:
    assert clean_name("  Ana \t Lopez\n") == "Ana Lopez"
    assert clean_name("\x1b[2Jevil\x00") == "[2Jevil"
    assert clean_name("x" * 80) == "x" * 30
    assert clean_name("\u200b \n") == ""
    assert unique_name("Ana", set()) == "Ana"
    assert unique_name("ana", {"Ana"}) == "ana (2)"
    assert unique_name("Ana", {"Ana", "Ana (2)"}) == "Ana (3)"
    assert slug("Zoë O'Brien") == "zoe-o-brien"
    assert slug("李") == "player"


def test_trainer_codes_are_random_and_unambiguous() -> None:
    codes = {new_code() for _ in range(50)}
    assert len(codes) == 50
    assert all(len(code) == 6 and not set(code) & set("O0I1") for code in codes)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["tutorial", "--seed", "5"], "--seed needs --room"),
        (["tutorial", "--room", "--seed", "lucky"], "--seed must be a whole number or 'random'"),
        (["tutorial", "--room", "--seed", "-3"], "--seed must be a whole number or 'random'"),
        (["--room"], "--room needs a scenario"),
        (["no-such-scenario", "--room"], "no-such-scenario"),
    ],
)
def test_room_arguments_are_checked(
    posim_command: list[str], arguments: list[str], message: str
) -> None:
    completed = subprocess.run(
        [*posim_command, "serve", *arguments], capture_output=True, text=True, timeout=60
    )
    assert completed.returncode == 2
    assert message in completed.stderr
    assert "Traceback" not in completed.stderr
    assert len(completed.stderr.strip().splitlines()) == 1


def test_the_status_file_follows_the_day_and_the_end(tmp_path: Path) -> None:
    game = Game.new("tutorial", seed=3)
    path = tmp_path / "status.json"
    writer = room_status.StatusWriter(path, "Ana")
    assert writer.update(game)
    first = json.loads(path.read_text())
    assert (first["name"], first["seed"], first["day"], first["finished"]) == ("Ana", 3, 0, False)
    assert first["clock"] == "paused"
    assert not writer.update(game)  # nothing changed: nothing written
    game.step_day()
    game.step_day()
    assert writer.update(game)
    second = json.loads(path.read_text())
    result = game.result()
    assert second["day"] == 2
    assert second["score"] == result.score.total and second["grade"] == result.score.grade
    assert second["trust"] == result.metrics["trust_mean"]
    assert second["metrics"]["net_value"] == result.metrics["net_value"]
    game.auto_pause = False  # straight to the horizon (the clock stops at events otherwise)
    game.advance_to(game.scenario.horizon_days)
    assert writer.update(game)
    assert json.loads(path.read_text())["finished"] is True
    assert not list(tmp_path.glob(".*tmp"))  # written atomically, nothing left over


def test_room_status_is_off_outside_a_room(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(room_status.STATUS_ENV, raising=False)
    assert not room_status.in_room()
    assert room_status.attach(SimpleNamespace()) is None
    monkeypatch.setenv(room_status.STATUS_ENV, "/tmp/x/status.json")
    assert room_status.in_room()


def _finished_row(name: str, strategy: str, seed: int) -> dict[str, object]:
    """A player's row as if they had played exactly like a built-in strategy."""
    from posim.engine import simulate

    result = simulate(load_scenario("tutorial"), strategy=strategy, seed=seed, keep_records=False)
    status = {
        "name": name,
        "seed": seed,
        "day": 40.0,
        "finished": True,
        "score": result.score.total,
        "grade": result.score.grade,
        "metrics": dict(result.metrics),
    }
    return room_results.player_row(status)


def test_class_debrief_counts_players_who_beat_the_warned_strategy() -> None:
    rows = [_finished_row("Wes", "wsjf", 7), _finished_row("Fi", "fifo", 7)]
    strategies = room_results.Strategies(load_scenario("tutorial"))
    debrief = room_results.class_debrief(rows, strategies)
    lesson = debrief["lesson"]
    assert lesson["warned_against"] == "fifo" and lesson["metric"] == "cost_of_delay"
    # Playing fifo itself does not beat fifo; playing wsjf does (the lesson's claim, seed 7).
    assert lesson["finished_players"] == 2
    assert lesson["players_who_beat_it"] == ["Wes"]
    assert {row["strategy"] for row in debrief["strategies"]} >= {"fifo", "wsjf", "loudest"}
    fifo = next(row for row in debrief["strategies"] if row["strategy"] == "fifo")
    assert fifo["score"] == rows[1]["score"]  # the same luck: the same figures
    spread = debrief["spread"]["score"]
    assert spread["min"] == min(r["score"] for r in rows) and spread["n"] == 2
    svg = room_results.spread_svg(rows, debrief["strategies"])
    assert svg.startswith("<svg") and svg.count("<circle") == 6  # 2 players x 3 panels


def test_results_csv_holds_every_metric_per_player() -> None:
    rows = [_finished_row("Wes", "wsjf", 7), _finished_row("Fi, Jr.", "fifo", 7)]
    parsed = list(csv.DictReader(io.StringIO(room_results.csv_text(rows))))
    assert [row["name"] for row in parsed] == ["Wes", "Fi, Jr."]
    header = list(parsed[0])
    assert header[:6] == ["name", "seed", "day", "finished", "score", "grade"]
    assert set(room_results.metric_names()) <= set(header)
    for row, original in zip(parsed, rows, strict=True):
        assert float(row["net_value"]) == original["net_value"]
        assert row["finished"] == "True"


aiohttp = pytest.importorskip("aiohttp")


def test_a_room_refuses_strangers_and_keeps_only_what_was_played(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from test_serve import ServerProcess, game_processes, wait_until

    monkeypatch.setenv("POSIM_HOME", str(tmp_path / "home"))
    server = ServerProcess(tmp_path, "tutorial", "--room", "--seed", "random")
    try:
        code = server.banner.split("/room?code=")[1].split()[0]
        assert "each player their own seed" in server.banner

        async def visit() -> None:
            async with aiohttp.ClientSession() as http:
                async with http.get(server.url + "/") as page:
                    assert "Your name" in await page.text()
                for path in (
                    "/room",
                    "/room?code=AAAAAA",
                    "/room/results.csv",
                    "/room/results.json",
                ):
                    async with http.get(server.url + path) as refused:
                        assert refused.status == 403, path
                async with http.ws_connect(server.url + "/ws") as _:
                    pass

        with pytest.raises(aiohttp.WSServerHandshakeError):
            asyncio.run(visit())  # no player cookie: the websocket is refused (403)

        async def join_from(origin: str | None, name: str) -> int:
            headers = {"Origin": origin} if origin else {}
            async with (
                aiohttp.ClientSession() as http,
                http.post(
                    server.url + "/join",
                    data={"name": name},
                    headers=headers,
                    allow_redirects=False,
                ) as response,
            ):
                return response.status

        assert asyncio.run(join_from("http://evil.example", "Mallory")) == 403
        assert asyncio.run(join_from(None, "   ")) == 400
        assert asyncio.run(join_from(server.url, "Ana")) == 303
        assert asyncio.run(join_from(server.url, "Ana")) == 303

        async def trainer() -> tuple[str, list[dict[str, object]]]:
            jar = aiohttp.CookieJar(unsafe=True)  # keep cookies of an IP address, as browsers do
            async with aiohttp.ClientSession(cookie_jar=jar) as http:
                async with http.get(f"{server.url}/room?code={code.lower()}") as page:
                    assert page.status == 200
                    text = await page.text()
                async with http.get(server.url + "/room/players.json") as players:
                    return text, await players.json()  # the page's cookie suffices

        text, players = asyncio.run(trainer())
        assert "Reveal the class debrief" in text
        assert [p["name"] for p in players] == ["Ana", "Ana (2)"]
        assert [p["state"] for p in players] == ["paused", "paused"]
        assert players[0]["seed"] != players[1]["seed"]  # --seed random: one each
        assert server.interrupt() == 0
        assert game_processes(tmp_path) == {}
        (room_folder,) = (tmp_path / "home" / "rooms").iterdir()
        exported = json.loads((room_folder / "results.json").read_text())
        assert [p["name"] for p in exported["players"]] == ["Ana", "Ana (2)"]
        assert exported["seed"] == "random"
        assert wait_until(lambda: not list(tmp_path.glob("posim-serve-*")), 5)
    finally:
        server.close()


def test_a_room_nobody_joined_leaves_no_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from test_serve import ServerProcess

    monkeypatch.setenv("POSIM_HOME", str(tmp_path / "home"))
    server = ServerProcess(tmp_path, "tutorial", "--room", "--seed", "5")
    try:
        assert "seed 5 for all" in server.banner
        assert len(list((tmp_path / "home" / "rooms").iterdir())) == 1
        assert server.interrupt() == 0
        assert list((tmp_path / "home" / "rooms").iterdir()) == []
    finally:
        server.close()


async def test_in_a_room_the_game_writes_its_status_and_has_no_menu(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from posim.tui.app import build_app
    from posim.tui.screens.board import BoardScreen

    status_file = tmp_path / "status.json"
    monkeypatch.setenv("POSIM_HOME", str(tmp_path))
    monkeypatch.setenv(room_status.STATUS_ENV, str(status_file))
    monkeypatch.setenv(room_status.PLAYER_ENV, "Ana")
    app = build_app("tutorial", seed=9)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(2 * room_status.CHECK_SECONDS)
        first = json.loads(status_file.read_text())
        assert (first["name"], first["seed"], first["day"], first["clock"]) == (
            "Ana",
            9,
            0,
            "paused",
        )
        await pilot.press("m")  # the menu is off in a room
        await pilot.pause()
        assert isinstance(app.screen, BoardScreen)
        await pilot.press("full_stop")
        await pilot.pause(2 * room_status.CHECK_SECONDS + 0.2)
        assert json.loads(status_file.read_text())["day"] == 1
        await pilot.press("J")  # a decision after the day's autosave
        await pilot.pause()
        order = [item.id for item in app.game.sim.backlog]  # type: ignore[union-attr]
    saved = Game.load(tmp_path / "autosave.json")  # saved as the app ended
    assert [item.id for item in saved.sim.backlog] == order


def test_results_csv_keeps_formulas_in_names_as_text() -> None:
    rows = [
        {**_finished_row('=HYPERLINK("http://evil.example","x")', "fifo", 7), "net_value": -5.0},
        _finished_row("@SUM(A1)", "fifo", 7),
        _finished_row("Ana", "fifo", 7),
    ]
    parsed = list(csv.DictReader(io.StringIO(room_results.csv_text(rows))))
    assert [row["name"] for row in parsed] == [
        '\'=HYPERLINK("http://evil.example","x")',
        "'@SUM(A1)",
        "Ana",
    ]
    assert float(parsed[0]["net_value"]) == -5.0  # numbers stay numbers


@pytest.fixture
async def room_client(tmp_path: Path) -> object:
    """A room of the tutorial for at most one game, served in-process (no game is started)."""
    from aiohttp.test_utils import TestClient, TestServer

    from posim.serve import GameServer, Sessions
    from posim.serve.room import Room

    room = Room("tutorial", None, tmp_path / "home")
    server = GameServer(
        Sessions(["true"], tmp_path / "games"), max_players=1, mode=room, announce=lambda _: None
    )
    client = TestClient(TestServer(server.application()))
    await client.start_server()
    client.room, client.game_server = room, server  # type: ignore[attr-defined]
    try:
        yield client
    finally:
        await client.close()


async def join_room(client: object, name: str) -> str:
    """Join ``name`` by the form, as a browser on the server's page does; their cookie."""
    origin = str(client.make_url("")).rstrip("/")  # type: ignore[attr-defined]
    async with client.post(  # type: ignore[attr-defined]
        "/join", data={"name": name}, headers={"Origin": origin}, allow_redirects=False
    ) as response:
        assert response.status == 303
        token = response.cookies["posim_player"].value
    client.session.cookie_jar.clear()  # type: ignore[attr-defined]  # each test says whose it is
    return token


async def test_a_player_reloading_in_a_full_room_gets_their_game_back(room_client: object) -> None:
    from posim.serve.room import PLAYER_COOKIE

    room, server = room_client.room, room_client.game_server  # type: ignore[attr-defined]
    token = await join_room(room_client, "Ana")
    player = room.players[token]
    server.playing = 1  # Ana's game runs: the room (max 1) is full
    player.done.clear()
    async with room_client.get("/", cookies={PLAYER_COOKIE: token}) as reload:  # type: ignore[attr-defined]
        assert reload.status == 200  # the reload replaces Ana's own game
        assert "The room is full" not in await reload.text()
    async with room_client.get("/") as stranger:  # type: ignore[attr-defined]
        assert stranger.status == 503  # a newcomer still meets the cap
        assert "1 player is already playing" in await stranger.text()
    player.done.set()  # Ana's game ended; someone else took the place
    async with room_client.get("/", cookies={PLAYER_COOKIE: token}) as back:  # type: ignore[attr-defined]
        assert back.status == 503


async def test_a_player_whose_game_never_starts_shows_as_gone_after_the_grace(
    room_client: object,
) -> None:
    from posim.serve import room as room_module

    room = room_client.room  # type: ignore[attr-defined]
    token = await join_room(room_client, "Ghost")
    player = room.players[token]
    assert player.row(player.joined + 1)["state"] == "paused"
    late = player.joined + room_module.AWAY_GRACE_SECONDS + 1
    assert player.row(late)["state"] == "gone"


async def test_a_room_takes_a_bounded_number_of_names(room_client: object) -> None:
    from posim.serve.room import NAMES_PER_GAME

    room = room_client.room  # type: ignore[attr-defined]
    for number in range(NAMES_PER_GAME):  # max_players is 1
        await join_room(room_client, f"P{number}")
    origin = str(room_client.make_url("")).rstrip("/")  # type: ignore[attr-defined]
    async with room_client.post(  # type: ignore[attr-defined]
        "/join", data={"name": "One more"}, headers={"Origin": origin}, allow_redirects=False
    ) as refused:
        assert refused.status == 503
        assert "the most this room takes" in await refused.text()
    assert len(room.players) == NAMES_PER_GAME
    assert len(list((room.folder / "players").iterdir())) == NAMES_PER_GAME


def test_the_lesson_count_says_so_when_nobody_has_finished() -> None:
    from posim.serve import room_page

    strategies = room_results.Strategies(load_scenario("tutorial"))
    unfinished = {**_finished_row("Ana", "wsjf", 7), "finished": False, "day": 3.0}
    players = [unfinished]
    section = room_page.debrief_section(
        {"players": players, "debrief": room_results.class_debrief(players, strategies)}
    )
    assert "No player has finished yet" in section and "0 of 0" not in section
    one = [_finished_row("Wes", "wsjf", 7)]
    section = room_page.debrief_section(
        {"players": one, "debrief": room_results.class_debrief(one, strategies)}
    )
    assert "1 of 1</strong> finished player beat <strong>fifo" in section


async def test_a_player_whose_save_is_broken_starts_again_and_the_save_is_kept(
    room_client: object,
) -> None:
    from posim.serve.room import PLAYER_COOKIE

    room, server = room_client.room, room_client.game_server  # type: ignore[attr-defined]
    said: list[str] = []
    server.say = said.append
    token = await join_room(room_client, "Ana")
    player = room.players[token]
    request = SimpleNamespace(cookies={PLAYER_COOKIE: token})
    game = await room.game(request)
    assert game.command[-2:] == ["--seed", "7"]  # no save yet: the scenario from day 0
    game.on_end()
    (player.folder / "autosave.json").write_text('{"posim_save": 1, "seed": ', encoding="utf-8")
    game = await room.game(request)
    assert "--load" not in game.command and game.command[-2:] == ["--seed", "7"]
    (kept,) = player.folder.glob("autosave-unreadable-*.json")
    assert kept.read_text(encoding="utf-8") == '{"posim_save": 1, "seed": '
    assert said == [
        "Ana: their save cannot be loaded (autosave.json:1: not valid JSON: Expecting value); "
        f"kept as {kept.name}, they start the scenario again"
    ]
    game.on_end()
    Game.new("tutorial", seed=7).save(player.folder / "autosave.json")
    game = await room.game(request)
    assert game.command[-2:] == ["--load", str(player.folder / "autosave.json")]


@pytest.mark.parametrize("public_url", ["foo", "javascript:alert(1)", "http://", "ftp://host"])
def test_a_public_url_that_is_no_web_address_is_refused(tmp_path: Path, public_url: str) -> None:
    from posim.serve import GameServer, ServeError, Sessions

    with pytest.raises(ServeError, match="--public-url must be an http:// or https:// address"):
        GameServer(Sessions(["true"], tmp_path), public_url=public_url)
    server = GameServer(Sessions(["true"], tmp_path), public_url="https://po.example.org/")
    assert server.public_url == "https://po.example.org"
