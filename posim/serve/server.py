"""The web server: routes, limits, and a clean stop.

Built on aiohttp (textual-serve's own dependency); textual-serve itself
provides the page's template, JavaScript, CSS and fonts, and the protocol
(see :mod:`posim.serve.protocol`).  What the server enforces:

- **Origins** (:func:`posim.serve.addresses.origin_allowed`): a websocket
  from another site's page is refused with 403 before any game starts.
- **A cap on games** (``--max-players``, :data:`DEFAULT_MAX_PLAYERS`): the
  page and the websocket of a player over the cap say the room is full
  (the page with 503, the socket with a line on the terminal and close code
  1013, "try again later"), never a hung socket.
- **Sizes** are clamped at start and on resize (:mod:`posim.serve.protocol`).
- **No listing** of ``/static/``.
- **A stop in seconds**: SIGINT or SIGTERM asks every game to quit (they
  autosave), kills what is left after :data:`STOP_GRACE_SECONDS`, closes
  every socket and exits 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import signal
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from posim.serve import addresses, connection, page
from posim.serve.processes import QUIT_GRACE_SECONDS, Session, Sessions

if TYPE_CHECKING:
    from aiohttp import web

DEFAULT_MAX_PLAYERS = 40
"""Concurrent games a server runs unless ``--max-players`` says otherwise."""

STOP_GRACE_SECONDS = 1.0
"""On Ctrl+C, how long games have to save and quit before they are killed."""

FULL_CLOSE_CODE = 1013
"""Websocket close code for a player over the cap ("try again later")."""

log = logging.getLogger("posim.serve")


class ServeError(Exception):
    """A problem that stops the server from starting; ``str()`` is one line."""


@dataclass(frozen=True)
class Game:
    """What to run for one websocket: the command and data folder (None: the defaults)."""

    command: Sequence[str] | None = None
    """The game command (None: the server's)."""
    home: Path | None = None
    """A data folder kept after the game (None: a temporary one)."""
    environment: dict[str, str] = field(default_factory=dict)
    """Extra environment variables for the game."""
    on_start: Callable[[Session], Any] | None = None
    """Called with the session once the game runs."""
    on_end: Callable[[], Any] | None = None
    """Called once the game has ended."""
    stop: asyncio.Event | None = None
    """Set to end this game (besides the server stopping)."""


class Mode:
    """How the server hands out games; the plain mode gives each tab a fresh game.

    A workshop room (:mod:`posim.serve.room`) overrides these to ask for a
    name, keep each player's folder and add the trainer's pages.
    """

    def routes(self, server: GameServer) -> list[Any]:
        """Extra aiohttp routes."""
        return []

    async def index(self, server: GameServer, request: web.Request) -> web.StreamResponse:
        """``/``: the game's page."""
        return server.game_page(request)

    async def game(self, request: web.Request) -> Game | web.StreamResponse:
        """The game for a websocket request, or a response refusing it."""
        return Game()

    def headline(self) -> str:
        """The start-up message's first sentence."""
        return "posim serve: each browser tab gets its own game."

    def banner(self) -> list[str]:
        """Lines added to the start-up message."""
        return []

    async def close(self) -> None:
        """Called once every game has ended, before the server exits."""


class GameServer:
    """``posim serve``: a game per websocket, within the limits, until SIGINT or SIGTERM."""

    def __init__(
        self,
        sessions: Sessions,
        host: str = addresses.DEFAULT_HOST,
        port: int = addresses.DEFAULT_PORT,
        public_url: str | None = None,
        max_players: int = DEFAULT_MAX_PLAYERS,
        mode: Mode | None = None,
        announce: Callable[[str], None] | None = None,
    ) -> None:
        try:
            import jinja2
            import textual_serve
        except ImportError as error:
            raise ServeError(
                f"posim serve needs the 'web' extra (pip install 'posim[web]'): {error}"
            ) from error
        self.sessions = sessions
        self.host = host
        self.port = port
        if public_url is not None:
            parts = urlsplit(public_url.strip())
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ServeError(
                    f"--public-url must be an http:// or https:// address, not {public_url!r}"
                )
        self.public_url = public_url.strip().rstrip("/") if public_url else None
        self.max_players = max_players
        self.mode = mode or Mode()
        self.say = announce or (lambda message: print(message, flush=True))
        shipped = Path(textual_serve.__file__).parent
        self.static = shipped / "static"
        try:
            template = (shipped / "templates" / "app_index.html").read_text(encoding="utf-8")
            self.template = jinja2.Environment(autoescape=True).from_string(
                page.offline_page(template)
            )
        except (OSError, page.PageError) as error:
            raise ServeError(f"cannot use textual-serve's page: {error}") from error
        self.playing = 0
        """Games running or starting (the cap counts these)."""
        self.stopping = asyncio.Event()
        """Set when the server is asked to stop: every game ends."""
        self.handlers: set[asyncio.Task[Any]] = set()

    # -- pages -------------------------------------------------------------

    def base_url(self, request: web.Request) -> str:
        """The address the browser used (or ``--public-url``) for the page's links."""
        return self.public_url or addresses.public_base_url(
            request.headers.get("Host"), addresses.url(self.host, self.port), request.scheme
        )

    @property
    def full(self) -> bool:
        """Whether the cap on games is reached."""
        return self.playing >= self.max_players

    def full_page(self) -> web.Response:
        """The page a player over the cap gets (503)."""
        from aiohttp import web

        return web.Response(
            status=503,
            text=page.notice(*page.room_full_text(self.max_players), refresh=15),
            content_type="text/html",
            headers={"Retry-After": "15"},
        )

    def game_page(self, request: web.Request, check_full: bool = True) -> web.Response:
        """The page that runs the game in the tab (or says the room is full).

        ``check_full=False`` serves the page even at the cap: for a tab that
        takes the place of a game of its own (a room's player reloading).
        """
        from aiohttp import web

        if check_full and self.full:
            return self.full_page()
        base = self.base_url(request)
        websocket_url = re.sub(r"^http", "ws", base) + "/ws"
        try:
            font_size = min(max(int(request.query.get("fontsize", "16")), 6), 64)
        except ValueError:
            font_size = 16
        text = self.template.render(
            font_size=font_size,
            app_websocket_url=websocket_url,
            config={"static": {"url": base + "/static/"}},
            application={"name": page.TITLE},
        )
        return web.Response(text=text, content_type="text/html")

    async def handle_index(self, request: web.Request) -> web.StreamResponse:
        return await self.mode.index(self, request)

    # -- games -------------------------------------------------------------

    async def handle_websocket(self, request: web.Request) -> web.StreamResponse:
        """A tab's websocket: checked, then a game until one side stops."""
        from aiohttp import web

        if not addresses.origin_allowed(
            request.headers.get("Origin"),
            request.headers.get("Host"),
            self.public_url,
            self.host,
        ):
            return web.Response(
                status=403,
                text="posim serve: this page's origin may not start games here\n",
            )
        if self.stopping.is_set():
            return web.Response(status=503, text="posim serve: the server is stopping\n")
        game = await self.mode.game(request)
        if isinstance(game, web.StreamResponse):
            return game
        websocket = web.WebSocketResponse(
            heartbeat=connection.HEARTBEAT_SECONDS, max_msg_size=page_limit()
        )
        if self.full:
            await websocket.prepare(request)
            title, why, what = page.room_full_text(self.max_players)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(
                    websocket.send_bytes(f"\r\n  {title}.\r\n\r\n  {why}\r\n  {what}\r\n".encode()),
                    connection.CLOSE_SECONDS,
                )
                await asyncio.wait_for(
                    websocket.close(code=FULL_CLOSE_CODE, message=b"the room is full"),
                    connection.CLOSE_SECONDS,
                )
            await connection.close(websocket, request)
            return websocket
        self.playing += 1  # reserved before any await, so the cap holds
        task = asyncio.current_task()
        if task is not None:
            self.handlers.add(task)
        try:
            await websocket.prepare(request)
            from posim.serve.protocol import clamp_size

            width, height = clamp_size(request.query.get("width"), request.query.get("height"))
            environment = {**game_environment(width, height), **game.environment}
            await connection.play(
                websocket,
                request,
                self.sessions,
                environment,
                [self.stopping] if game.stop is None else [self.stopping, game.stop],
                home=game.home,
                command=game.command,
                on_start=game.on_start,
                grace=lambda: STOP_GRACE_SECONDS if self.stopping.is_set() else QUIT_GRACE_SECONDS,
            )
        except (OSError, RuntimeError, TimeoutError):
            pass  # the tab went away while the game started
        except Exception:
            log.exception("a game's connection failed")
        finally:
            self.playing -= 1
            if task is not None:
                self.handlers.discard(task)
            if game.on_end is not None:
                game.on_end()
        return websocket

    # -- running -------------------------------------------------------------

    def application(self) -> web.Application:
        """The aiohttp application: the page, the websocket, the static files."""
        from aiohttp import web

        app = web.Application()
        app.add_routes(
            [
                web.get("/", self.handle_index, name="index"),
                web.get("/ws", self.handle_websocket, name="websocket"),
                web.static("/static", self.static, show_index=False, name="static"),
                *self.mode.routes(self),
            ]
        )
        return app

    def banner(self) -> str:
        """How to reach the server, its limits, how to stop it."""
        urls = [self.public_url] if self.public_url else addresses.reach_urls(self.host, self.port)
        lines = [self.mode.headline() + " Open:"]
        lines += [f"  {url}" for url in urls]
        if self.host not in addresses.ALL_INTERFACES and addresses.is_loopback(self.host):
            lines.append("Only this machine can connect (use --host 0.0.0.0 for the room).")
        elif self.host in addresses.ALL_INTERFACES:
            lines.append("Anyone who can reach this machine can play: there is no login.")
        lines.append(f"At most {self.max_players} games at once (--max-players).")
        lines += self.mode.banner()
        lines.append("Press Ctrl+C to stop the server and every game.")
        return "\n".join(lines)

    async def run(self) -> None:
        """Serve until SIGINT or SIGTERM, then end every game and close every socket."""
        from aiohttp import web

        loop = asyncio.get_running_loop()
        for stop_signal in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(stop_signal, self.stopping.set)
        runner = web.AppRunner(
            self.application(), handle_signals=False, access_log=None, shutdown_timeout=1.0
        )
        await runner.setup()
        try:
            site = web.TCPSite(runner, self.host, self.port)
            await site.start()
            self.say(self.banner())
            await self.stopping.wait()
            await self.end_games()
        finally:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(runner.cleanup(), 5)
            await self.mode.close()
            for stop_signal in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(stop_signal)

    async def end_games(self) -> None:
        """Let every connection end its game (they watch :attr:`stopping`); bounded."""
        pending = set(self.handlers)
        if pending:
            await asyncio.wait(pending, timeout=STOP_GRACE_SECONDS + 10)


def page_limit() -> int:
    """The largest websocket message a tab may send."""
    from posim.serve.protocol import MAX_MESSAGE_BYTES

    return MAX_MESSAGE_BYTES


def game_environment(width: int, height: int) -> dict[str, str]:
    """The environment of a game: the server's, Textual's web driver and the terminal's size."""
    import os
    from importlib.metadata import version

    environment = dict(os.environ)
    environment.update(
        {
            "TEXTUAL_DRIVER": "textual.drivers.web_driver:WebDriver",
            "TEXTUAL_FPS": "60",
            "TEXTUAL_COLOR_SYSTEM": "truecolor",
            "TERM_PROGRAM": "textual",
            "TERM_PROGRAM_VERSION": version("textual-serve"),
            "COLUMNS": str(width),
            "ROWS": str(height),
        }
    )
    return environment
