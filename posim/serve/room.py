"""A workshop room (``posim serve SCENARIO --room``): named players, one luck, a trainer.

Players open the printed address and give a display name (a clash gets a
suffix: "Ana (2)"); a cookie then names their folder in the room
(``players/NN-name/``), which is the game's ``POSIM_HOME``: its autosave,
its status file (:mod:`posim.room_status`) and its error log.  Everyone
plays the room's scenario with the room's seed (or each their own with
``--seed random``); the game turns off the menu and new games.  A player
who reloads the tab continues from their autosave (the game autosaves at
every new day); a player whose tab closed is shown as paused for
:data:`AWAY_GRACE_SECONDS`, then as gone, their save kept.

The trainer's page, ``/room?code=XXXXXX`` (the code is printed at start;
without it the page is refused), lists every player live and, when the
trainer presses "Reveal", the class debrief (:mod:`posim.serve.room_results`).
``/room/results.csv`` and ``/room/results.json`` export it (the code again),
and the room's folder, ``<data folder>/rooms/<start time>-<scenario>/``,
keeps them and every player's save after the server stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import json
import re
import secrets
import string
import sys
import time
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from posim import room_status
from posim.serve import addresses, page, room_results
from posim.serve.processes import KILL_GRACE_SECONDS, QUIT_GRACE_SECONDS
from posim.serve.server import Game, Mode

if TYPE_CHECKING:
    from aiohttp import web

    from posim.serve.server import GameServer

AWAY_GRACE_SECONDS = 60.0
"""How long a player whose tab closed shows as paused before they show as gone."""

PLAYER_COOKIE = "posim_player"
"""The cookie that names a player's folder (a random token)."""

TRAINER_COOKIE = "posim_trainer"
"""The cookie that remembers the trainer's code for the page's links."""

CODE_LENGTH = 6
"""Characters in the trainer's code."""

MAX_NAME_LENGTH = 30
"""The longest display name (longer ones are cut)."""

NAMES_PER_GAME = 4
"""A room takes at most this many names per game it runs (``--max-players``).

Players who change browsers join again under a new name; a script that joins
thousands of names would fill the room's folder and the trainer's page."""

RANDOM = "random"
"""``--seed random``: every player gets a seed of their own."""


def new_code() -> str:
    """A random trainer's code: six capital letters and digits, none easily confused."""
    alphabet = "".join(c for c in string.ascii_uppercase + string.digits if c not in "O0I1")
    return "".join(secrets.choice(alphabet) for _ in range(CODE_LENGTH))


def clean_name(raw: str) -> str:
    """A display name: no control characters, spaces collapsed, at most 30 characters."""
    text = "".join(" " if unicodedata.category(c).startswith(("C", "Z")) else c for c in raw)
    return " ".join(text.split())[:MAX_NAME_LENGTH].strip()


def unique_name(name: str, taken: set[str]) -> str:
    """``name``, or ``name (2)``, ``name (3)``... when already taken (case-insensitive)."""
    lowered = {t.casefold() for t in taken}
    if name.casefold() not in lowered:
        return name
    number = 2
    while f"{name} ({number})".casefold() in lowered:
        number += 1
    return f"{name} ({number})"


def slug(name: str) -> str:
    """A file-name-safe version of a name."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:20] or "player"


def unreadable_save(path: Path) -> str | None:
    """Why the save at ``path`` cannot continue a game (None: it can, or there is none)."""
    from posim import saves

    if not path.exists():
        return None
    try:
        save = saves.read_save(path)
        saves.restore(save, saves.scenario_of(save, str(path)), str(path))
    except saves.SaveError as error:
        return str(error).replace(str(path), path.name)
    return None


@dataclass
class Player:
    """One player of the room: their name, folder, seed and connection."""

    token: str
    name: str
    folder: Path
    seed: int
    joined: float = field(default_factory=time.time)
    connected: bool = False
    away_since: float | None = None
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    """Set to end this player's current game (a second tab took over)."""
    done: asyncio.Event = field(default_factory=asyncio.Event)
    """Set when this player's current game has ended."""

    @property
    def status_file(self) -> Path:
        return self.folder / "status.json"

    def status(self) -> dict[str, Any]:
        """The game's last status (empty before its first write)."""
        try:
            data = json.loads(self.status_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def state(self, status: dict[str, Any], now: float) -> str:
        """``playing``, ``paused``, ``finished`` or ``gone``."""
        if status.get("finished"):
            return "finished"
        if self.connected:
            return "paused" if status.get("clock") == "paused" else "playing"
        if self.away_since is not None and now - self.away_since >= AWAY_GRACE_SECONDS:
            return "gone"
        return "paused"

    def row(self, now: float) -> dict[str, Any]:
        """The player as the trainer sees them, and as ``results.csv`` exports them."""
        status = self.status()
        row = room_results.player_row({**status, "name": self.name, "seed": self.seed})
        row["day"] = status.get("day", 0.0)
        row["finished"] = bool(status.get("finished", False))
        row["horizon"] = status.get("horizon")
        row["trust"] = status.get("trust")
        row["state"] = self.state(status, now)
        return row


class Room(Mode):
    """The server's room mode: join by name, the trainer's page, the results."""

    def __init__(self, scenario_source: str, seed: int | str | None, data_dir: Path) -> None:
        from posim import saves

        self.source = saves.normalise_source(scenario_source)
        self.scenario, _digest = saves.load_source(scenario_source)
        self.random_seeds = seed == RANDOM
        self.seed = int(seed) if isinstance(seed, int) else self.scenario.seed
        self.code = new_code()
        started = datetime.now()
        name = re.sub(r"[^A-Za-z0-9_.-]+", "-", self.scenario.name)[:40] or "scenario"
        self.folder = data_dir / "rooms" / f"{started:%Y%m%d-%H%M%S}-{name}"
        suffix = 2
        while self.folder.exists():
            self.folder = data_dir / "rooms" / f"{started:%Y%m%d-%H%M%S}-{name}-{suffix}"
            suffix += 1
        (self.folder / "players").mkdir(parents=True)
        self.players: dict[str, Player] = {}
        self.revealed = False
        self.strategies = room_results.Strategies(self.scenario)
        self.server: GameServer | None = None
        (self.folder / "room.json").write_text(
            json.dumps(
                {
                    "scenario": self.scenario.name,
                    "source": self.source,
                    "seed": RANDOM if self.random_seeds else self.seed,
                    "started": started.isoformat(timespec="seconds"),
                },
                indent=1,
            ),
            encoding="utf-8",
        )

    # -- the trainer's code --------------------------------------------------

    def is_trainer(self, request: web.Request, form_code: str | None = None) -> bool:
        """Whether the request carries the trainer's code (query, form or cookie)."""
        for candidate in (
            request.query.get("code"),
            form_code,
            request.cookies.get(TRAINER_COOKIE),
        ):
            if candidate and secrets.compare_digest(candidate.strip().upper(), self.code):
                return True
        return False

    def refuse(self) -> web.Response:
        from aiohttp import web

        return web.Response(
            status=403,
            text=page.notice(
                "This page is for the trainer",
                "Open it with the code printed when the server started: /room?code=…",
            ),
            content_type="text/html",
        )

    # -- Mode -------------------------------------------------------------

    def routes(self, server: GameServer) -> list[Any]:
        from aiohttp import web

        self.server = server
        return [
            web.post("/join", self.handle_join),
            web.get("/room", self.handle_room),
            web.get("/room/players.json", self.handle_players),
            web.post("/room/reveal", self.handle_reveal),
            web.get("/room/results.csv", self.handle_csv),
            web.get("/room/results.json", self.handle_json),
        ]

    def player_of(self, request: web.Request) -> Player | None:
        token = request.cookies.get(PLAYER_COOKIE)
        return self.players.get(token) if token else None

    async def index(self, server: GameServer, request: web.Request) -> web.StreamResponse:
        from aiohttp import web

        player = self.player_of(request)
        if player is None:
            if server.full:
                return server.full_page()
            return web.Response(text=self.join_page(), content_type="text/html")
        # A player whose game still runs (a reload, a second tab) takes that game's
        # place: their new tab ends the old game first, so the cap does not apply.
        return server.game_page(request, check_full=player.done.is_set())

    def join_page(self, problem: str = "") -> str:
        title = html.escape(self.scenario.display_title)
        warning = f"<p class='gone'>{html.escape(problem)}</p>" if problem else ""
        return page.document(
            "Join the room",
            f"<h1>posim workshop: {title}</h1>"
            "<p>You are the product owner. Everyone in the room plays the same scenario"
            + ("" if self.random_seeds else " with the same luck")
            + "; the trainer sees each player's day and score.</p>"
            f"{warning}<form method='post' action='/join'>"
            "<label>Your name: <input name='name' maxlength='60' autofocus required></label> "
            "<button type='submit'>Join</button></form>",
        )

    async def handle_join(self, request: web.Request) -> web.StreamResponse:
        from aiohttp import web

        assert self.server is not None
        if not addresses.origin_allowed(
            request.headers.get("Origin"),
            request.headers.get("Host"),
            self.server.public_url,
            self.server.host,
        ):
            return web.Response(status=403, text="posim serve: this page may not join players\n")
        form = await request.post()
        name = clean_name(str(form.get("name", "")))
        if not name:
            return web.Response(
                status=400, text=self.join_page("Please give a name."), content_type="text/html"
            )
        if self.server.full:
            return self.server.full_page()
        most = NAMES_PER_GAME * self.server.max_players
        if len(self.players) >= most:  # every name is a folder and a row: keep them bounded
            return web.Response(
                status=503,
                text=page.notice(
                    "The room has all the names it takes",
                    f"{len(self.players)} players have joined, the most this room takes "
                    f"({NAMES_PER_GAME} × --max-players {self.server.max_players}).",
                    "If you joined before, come back from the same browser; or ask the trainer.",
                ),
                content_type="text/html",
            )
        name = unique_name(name, {p.name for p in self.players.values()})
        token = secrets.token_urlsafe(16)
        folder = self.folder / "players" / f"{len(self.players) + 1:02d}-{slug(name)}"
        folder.mkdir(parents=True)
        seed = secrets.randbelow(2**31) if self.random_seeds else self.seed
        player = Player(token, name, folder, seed)
        player.away_since = player.joined  # no game yet: gone if none starts within the grace
        player.done.set()
        self.players[token] = player
        (folder / "player.json").write_text(
            json.dumps({"name": name, "seed": seed}, indent=1), encoding="utf-8"
        )
        response = web.Response(status=303, headers={"Location": "/"})
        response.set_cookie(PLAYER_COOKIE, token, httponly=True, samesite="Lax", path="/")
        return response

    async def game(self, request: web.Request) -> Game | web.StreamResponse:
        from aiohttp import web

        player = self.player_of(request)
        if player is None:
            return web.Response(status=403, text="posim serve: join the room first (reload)\n")
        if not player.done.is_set():  # another tab of this player: end its game first
            player.stop.set()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    player.done.wait(), QUIT_GRACE_SECONDS + KILL_GRACE_SECONDS + 5
                )
        player.stop = asyncio.Event()
        player.done = asyncio.Event()
        autosave = player.folder / "autosave.json"
        command = [sys.executable, "-m", "posim", "play"]
        problem = await asyncio.to_thread(unreadable_save, autosave)
        if problem is not None:  # a game that cannot start would end every reload at once
            kept = autosave.with_name(f"autosave-unreadable-{time.strftime('%Y%m%d-%H%M%S')}.json")
            with contextlib.suppress(OSError):
                autosave.replace(kept)
            if self.server is not None:
                self.server.say(
                    f"{player.name}: their save cannot be loaded ({problem}); "
                    f"kept as {kept.name}, they start the scenario again"
                )
        if autosave.exists():
            command += ["--load", str(autosave)]
        else:
            command += [self.source, "--seed", str(player.seed)]

        def started(_session: Any) -> None:
            player.connected = True
            player.away_since = None

        def ended(done: asyncio.Event = player.done) -> None:
            player.connected = False
            player.away_since = time.time()
            done.set()

        return Game(
            command=command,
            home=player.folder,
            environment={
                room_status.STATUS_ENV: str(player.status_file),
                room_status.PLAYER_ENV: player.name,
            },
            on_start=started,
            on_end=ended,
            stop=player.stop,
        )

    def headline(self) -> str:
        return "posim serve: a workshop room; players join by name."

    def banner(self) -> list[str]:
        assert self.server is not None
        base = (
            self.server.public_url or addresses.reach_urls(self.server.host, self.server.port)[-1]
        )
        seed = "each player their own seed" if self.random_seeds else f"seed {self.seed} for all"
        return [
            f"Workshop room: {self.scenario.display_title} ({self.scenario.name}, {seed}).",
            f"Trainer's page (keep the code to yourself): {base}/room?code={self.code}",
            f"Room folder (kept): {self.folder}",
        ]

    async def close(self) -> None:
        """Write the results into the room's folder (the folder stays)."""
        with contextlib.suppress(Exception):
            await asyncio.to_thread(self.write_results)

    # -- results -------------------------------------------------------------

    def rows(self) -> list[dict[str, Any]]:
        now = time.time()
        return [player.row(now) for player in self.players.values()]

    def results(self) -> dict[str, Any]:
        """Everything ``results.json`` holds."""
        rows = self.rows()
        export = [
            {key: row[key] for key in (*room_results.PLAYER_COLUMNS, *room_results.metric_names())}
            for row in rows
        ]
        return {
            "scenario": self.scenario.name,
            "seed": RANDOM if self.random_seeds else self.seed,
            "players": export,
            "debrief": room_results.class_debrief(export, self.strategies),
        }

    def write_results(self) -> None:
        results = self.results()
        (self.folder / "results.json").write_text(json.dumps(results, indent=1), encoding="utf-8")
        (self.folder / "results.csv").write_text(
            room_results.csv_text(results["players"]), encoding="utf-8"
        )

    # -- the trainer's pages --------------------------------------------------

    async def handle_players(self, request: web.Request) -> web.StreamResponse:
        from aiohttp import web

        if not self.is_trainer(request):
            return self.refuse()
        return web.json_response(self.rows())

    async def handle_csv(self, request: web.Request) -> web.StreamResponse:
        from aiohttp import web

        if not self.is_trainer(request):
            return self.refuse()
        results = await asyncio.to_thread(self.results)
        return web.Response(
            text=room_results.csv_text(results["players"]),
            content_type="text/csv",
            headers={"Content-Disposition": "attachment; filename=results.csv"},
        )

    async def handle_json(self, request: web.Request) -> web.StreamResponse:
        from aiohttp import web

        if not self.is_trainer(request):
            return self.refuse()
        results = await asyncio.to_thread(self.results)
        return web.json_response(results, dumps=lambda data: json.dumps(data, indent=1))

    async def handle_reveal(self, request: web.Request) -> web.StreamResponse:
        from aiohttp import web

        form = await request.post()
        if not self.is_trainer(request, str(form.get("code", ""))):
            return self.refuse()
        self.revealed = form.get("hide") is None
        await asyncio.to_thread(self.write_results)
        return web.Response(status=303, headers={"Location": f"/room?code={self.code}"})

    async def handle_room(self, request: web.Request) -> web.StreamResponse:
        from aiohttp import web

        if not self.is_trainer(request):
            return self.refuse()
        from posim.serve import room_page

        results = await asyncio.to_thread(self.results) if self.revealed else None
        assert self.server is not None
        join = self.server.base_url(request) + "/"
        text = room_page.trainer_page(self, self.rows(), results, join)
        response = web.Response(text=text, content_type="text/html")
        response.set_cookie(TRAINER_COOKIE, self.code, httponly=True, samesite="Strict", path="/")
        return response
