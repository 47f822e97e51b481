"""Serve the game to web browsers for a workshop (``posim serve``).

`textual-serve <https://github.com/Textual-Textualize/textual-serve>`_ (the
``web`` extra) turns a Textual app into a web page: every browser tab that
connects starts its own ``posim play`` process and talks to it over a
websocket.  This module adds what a room full of players needs:

- **One game per tab, kept apart.**  Each game gets its own data folder in
  ``POSIM_HOME`` (a fresh folder under the server's temporary folder), so
  saves and careers never mix; the folder is removed when the game ends.
- **No process left behind.**  Each game runs in its own process group.  When
  a tab closes, the game is asked to quit and, if it has not within
  :data:`QUIT_GRACE_SECONDS`, its whole group is killed (``os.killpg``).  On
  Ctrl+C (SIGINT) or SIGTERM the server kills every group before it exits,
  and a game whose server dies gets SIGTERM from the kernel (Linux).
- **No internet needed.**  textual-serve ships its JavaScript, CSS and fonts,
  but its page also links a Google Fonts stylesheet; posim serves a copy of
  the page without it, with ``@font-face`` rules pointing at the bundled fonts.
- **Reachable as typed.**  The page's websocket address is built from the
  address the browser used (its ``Host`` header), so players can use the
  trainer's IP address or host name; ``public_url`` overrides it (for a
  reverse proxy).

The server binds to loopback (:data:`DEFAULT_HOST`) unless told otherwise.
This module holds no game or engine logic: it runs ``posim play`` as a
command.  textual-serve is imported only when a server is created, so the
rest of posim works without the ``web`` extra.  The subclasses in
:func:`create_server` override a few of textual-serve's internals
(``AppService._open_app_process``, ``Server.handle_websocket``), which is why
the ``web`` extra pins ``textual-serve<2``; ``tests/test_serve.py`` and
``tests/browser`` check them against the installed version.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ipaddress
import logging
import os
import re
import shutil
import signal
import socket
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from asyncio.subprocess import Process

    from textual_serve.server import Server

DEFAULT_HOST = "127.0.0.1"
"""Listen on this machine only unless ``--host`` says otherwise."""

DEFAULT_PORT = 8000
"""The port ``posim serve`` listens on by default."""

HOME_ENV = "POSIM_HOME"
"""The environment variable that sets a game's data folder (saves, career)."""

QUIT_GRACE_SECONDS = 5.0
"""How long a game may take to quit after its tab closed before its group is killed."""

KILL_GRACE_SECONDS = 2.0
"""How long a process group has between SIGTERM and SIGKILL."""

MAX_COLUMNS = 500
"""The widest terminal a page may ask for (a bigger request is clamped)."""

MAX_ROWS = 200
"""The tallest terminal a page may ask for (a bigger request is clamped)."""

TITLE = "posim — product-owner simulator"
"""The name shown on the page while the game starts."""

ALL_INTERFACES = ("0.0.0.0", "::", "")
"""Host values that listen on every network interface."""

_EXTERNAL_REFERENCE = re.compile(r"""(?:href|src)\s*=\s*["']?(?:https?:)?//""", re.IGNORECASE)
_EXTERNAL_LINK = re.compile(
    r"""<link\b[^>]*\bhref\s*=\s*["']?(?:https?:)?//[^>]*>""", re.IGNORECASE
)
_SAFE_HOST = re.compile(r"^[A-Za-z0-9.\-]+(?::\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](?::\d{1,5})?$")

_LOCAL_FONTS = """<style>
      @font-face {
        font-family: "Roboto Mono";
        font-style: normal;
        font-weight: 100 700;
        src: url("{{ config.static.url }}fonts/RobotoMono-VariableFont_wght.ttf") format("truetype");
      }
      @font-face {
        font-family: "Roboto Mono";
        font-style: italic;
        font-weight: 100 700;
        src: url("{{ config.static.url }}fonts/RobotoMono-Italic-VariableFont_wght.ttf")
          format("truetype");
      }
    </style>
  </head>"""


class ServeError(Exception):
    """A problem that stops the server from starting; ``str()`` is one line."""


# --------------------------------------------------------------------------
# Commands, addresses and the page
# --------------------------------------------------------------------------


def game_command(scenario: str | None = None, python: str | None = None) -> list[str]:
    """The command each browser tab runs: ``python -m posim play SCENARIO`` (or ``--menu``).

    A scenario given as an existing file is made absolute, so the game finds
    it whatever its working folder; anything else (a built-in name) is kept.
    """
    command = [python or sys.executable, "-m", "posim", "play"]
    if scenario is None:
        command.append("--menu")  # a workshop starts at the title screen: pick a scenario
    else:
        path = Path(scenario)
        command.append(str(path.resolve()) if path.is_file() else scenario)
    return command


def _url(host: str, port: int) -> str:
    """``http://host:port``, with brackets around an IPv6 address."""
    with contextlib.suppress(ValueError):
        if ipaddress.ip_address(host).version == 6:
            host = f"[{host}]"
    return f"http://{host}:{port}"


def _network_addresses() -> list[str]:
    """This machine's address on the local network (best effort; may be empty).

    Connecting a UDP socket sends nothing; it only asks the kernel which
    interface would be used.
    """
    addresses: list[str] = []
    with contextlib.suppress(OSError), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(("10.255.255.255", 1))
        address = probe.getsockname()[0]
        if not ipaddress.ip_address(address).is_loopback:
            addresses.append(address)
    return addresses


def reach_urls(host: str, port: int) -> list[str]:
    """The addresses to type in a browser to reach a server on ``host:port``.

    A server on every interface (``0.0.0.0``) is reachable on this machine as
    ``127.0.0.1`` and from the room at this machine's network address and name.
    """
    if host not in ALL_INTERFACES:
        return [_url(host, port)]
    urls = [_url("127.0.0.1", port)]
    urls += [_url(address, port) for address in _network_addresses()]
    with contextlib.suppress(OSError):
        name = socket.gethostname()
        if name and name != "localhost":
            urls.append(_url(name, port))
    return list(dict.fromkeys(urls))


def offline_page(template: str) -> str:
    """textual-serve's page template with no reference to another host.

    Removes every ``<link>`` to an outside stylesheet (textual-serve links
    Google Fonts) and declares the bundled Roboto Mono fonts instead.  Raises
    :class:`ServeError` if anything else on the page would still be fetched
    from the internet.
    """
    page = _EXTERNAL_LINK.sub("", template)
    if "</head>" not in page:
        raise ServeError("textual-serve's page template has no </head>; cannot add local fonts")
    page = page.replace("</head>", _LOCAL_FONTS, 1)
    if _EXTERNAL_REFERENCE.search(page):
        raise ServeError(
            "textual-serve's page loads something from the internet; "
            "this version of textual-serve is not supported offline"
        )
    return page


def public_base_url(request_host: str | None, fallback: str, scheme: str = "http") -> str:
    """The base URL for the page's links: the address the browser used, if well-formed."""
    if request_host and _SAFE_HOST.match(request_host):
        return f"{scheme}://{request_host}"
    return fallback


# --------------------------------------------------------------------------
# Game processes: a data folder and a process group each
# --------------------------------------------------------------------------


def group_alive(pgid: int) -> bool:
    """Whether any process (other than a zombie) is left in process group ``pgid``."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return any(_in_group(pid, pgid) for pid in _pids())


def _pids() -> Iterable[int]:
    """Every process id on this machine (Linux ``/proc``)."""
    try:
        entries = os.listdir("/proc")
    except OSError:
        return []
    return (int(entry) for entry in entries if entry.isdigit())


def _in_group(pid: int, pgid: int) -> bool:
    """Whether ``pid`` is a live (non-zombie) member of process group ``pgid``."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    fields = stat.rsplit(")", 1)[-1].split()
    return len(fields) > 2 and fields[0] != "Z" and int(fields[2]) == pgid


def kill_group(pgid: int, grace: float = KILL_GRACE_SECONDS) -> None:
    """Stop every process of group ``pgid``: SIGTERM, then SIGKILL after ``grace`` seconds."""
    try:
        os.killpg(pgid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if not group_alive(pgid):
            return
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)


PR_SET_PDEATHSIG = 1
"""Linux ``prctl`` option: the signal a process gets when its parent dies."""


def parent_death_signal() -> Callable[[], None] | None:
    """A ``preexec_fn`` that makes a game get SIGTERM when the server dies (Linux; else None).

    The C function is looked up here, in the server, so the child only calls it
    between fork and exec.
    """
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    terminate = int(signal.SIGTERM)

    def die_with_parent() -> None:
        prctl(PR_SET_PDEATHSIG, terminate)

    return die_with_parent


@dataclass
class Session:
    """One browser tab's game: its process (a group leader) and its data folder."""

    process: Process
    """The game process; its pid is also its process group id."""
    home: Path
    """The game's ``POSIM_HOME``."""

    @property
    def pgid(self) -> int:
        """The game's process group id (the game started a new session)."""
        return self.process.pid


@dataclass
class Sessions:
    """Starts and stops the games of one server, every one in its own group and folder."""

    command: Sequence[str]
    """The game command (see :func:`game_command`)."""
    root: Path
    """The folder that holds every game's data folder."""
    live: dict[int, Session] = field(default_factory=dict)
    """The games started and not yet ended, by process group id."""

    async def start(self, environment: Mapping[str, str]) -> Session:
        """Start a game with ``environment`` plus its own ``POSIM_HOME``, in a new session."""
        home = Path(tempfile.mkdtemp(prefix="session-", dir=self.root))
        process = await asyncio.create_subprocess_exec(
            *self.command,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env={**environment, HOME_ENV: str(home)},
            start_new_session=True,
            preexec_fn=parent_death_signal(),
        )
        session = Session(process, home)
        self.live[session.pgid] = session
        return session

    async def end(self, session: Session, grace: float = QUIT_GRACE_SECONDS) -> None:
        """Wait up to ``grace`` seconds for a game to exit, then kill its group; drop its folder."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(session.process.wait(), grace)
        if group_alive(session.pgid):
            await asyncio.to_thread(kill_group, session.pgid)
        with contextlib.suppress(ProcessLookupError):
            await session.process.wait()
        self.live.pop(session.pgid, None)
        shutil.rmtree(session.home, ignore_errors=True)

    def stop_all(self) -> None:
        """Kill every game's process group at once (server shutdown); drop their folders."""
        sessions = list(self.live.values())
        for session in sessions:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(session.pgid, signal.SIGTERM)
        for session in sessions:
            kill_group(session.pgid)
            shutil.rmtree(session.home, ignore_errors=True)
        self.live.clear()


# --------------------------------------------------------------------------
# The textual-serve server
# --------------------------------------------------------------------------


def create_server(
    sessions: Sessions,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    public_url: str | None = None,
    title: str = TITLE,
    announce: Callable[[str], None] | None = None,
) -> Server:
    """A textual-serve server that starts a game of ``sessions`` for each browser tab.

    ``sessions.root`` (an existing, empty folder the caller removes afterwards)
    holds the offline page and the games' data folders.  ``announce`` receives
    the start-up message with the URLs (default: print it).
    """
    try:
        import aiohttp_jinja2
        from aiohttp import WSCloseCode, web
        from textual_serve.app_service import AppService
        from textual_serve.server import Server
    except ImportError as error:
        raise ServeError(
            f"posim serve needs the 'web' extra (pip install 'posim[web]'): {error}"
        ) from error

    templates = sessions.root / "templates"
    templates.mkdir()
    original = Path(sys.modules[Server.__module__].__file__ or "").parent / "templates"
    try:
        page = (original / "app_index.html").read_text(encoding="utf-8")
    except OSError as error:
        raise ServeError(f"cannot read textual-serve's page template: {error}") from error
    (templates / "app_index.html").write_text(offline_page(page), encoding="utf-8")
    say = announce or (lambda message: print(message, flush=True))

    class GameService(AppService):
        """textual-serve's per-tab service, running the game in its own group and folder."""

        session: Session | None = None

        async def _open_app_process(self, width: int = 80, height: int = 24) -> Process:
            environment = self._build_environment(width=width, height=height)
            self.session = await sessions.start(environment)
            self._process = self.session.process
            self._stdin = self.session.process.stdin
            return self.session.process

        async def run(self) -> None:
            await super().run()
            # The game is gone (quit, crashed or killed): show "Session ended" in the tab.
            with contextlib.suppress(Exception):
                await self.remote_close()

        async def stop(self) -> None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(super().stop()), QUIT_GRACE_SECONDS)
            if self.session is not None:
                session, self.session = self.session, None
                await sessions.end(session, grace=0)

    class GameServer(Server):
        """textual-serve's server with per-tab games, an offline page and posim's messages."""

        def __init__(self) -> None:
            super().__init__(
                command=" ".join(sessions.command),
                host=host,
                port=port,
                title=title,
                public_url=public_url,
                templates_path=templates,
            )
            self.fixed_public_url = public_url
            self.websockets: set[web.WebSocketResponse] = set()

        async def on_startup(self, app: web.Application) -> None:
            """Nothing: the banner is printed once the port is open (see :meth:`serve`)."""

        def banner(self) -> str:
            """How to reach the server, how to stop it."""
            urls = reach_urls(host, port) if public_url is None else [public_url]
            lines = ["posim serve: each browser tab gets its own game. Open:"]
            lines += [f"  {url}" for url in urls]
            if host not in ALL_INTERFACES and ipaddress_is_loopback(host):
                lines.append("Only this machine can connect (use --host 0.0.0.0 for the room).")
            elif host in ALL_INTERFACES:
                lines.append("Anyone who can reach this machine can play: there is no login.")
            lines.append("Press Ctrl+C to stop the server and every game.")
            return "\n".join(lines)

        def serve(self, debug: bool = False) -> None:
            """Serve until SIGINT or SIGTERM; announce the URLs once listening."""
            self.debug = debug
            self.initialize_logging()
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            for stop_signal in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(stop_signal, self.request_exit)
            try:
                web.run_app(
                    self._make_app(),
                    host=host,
                    port=port,
                    handle_signals=False,
                    loop=loop,
                    print=lambda *_: say(self.banner()),
                )
            finally:
                asyncio.set_event_loop(None)
                loop.close()

        async def on_shutdown(self, app: web.Application) -> None:
            await asyncio.to_thread(sessions.stop_all)
            for websocket in list(self.websockets):
                with contextlib.suppress(Exception):
                    await websocket.close(code=WSCloseCode.GOING_AWAY, message=b"server stopped")

        async def handle_index(self, request: web.Request) -> web.Response:
            base = self.fixed_public_url or public_base_url(
                request.headers.get("Host"), self.public_url, request.scheme
            )
            websocket_url = re.sub(r"^http", "ws", base) + str(
                request.app.router["websocket"].url_for()
            )
            static_url = base + str(request.app.router["static"].url_for(filename="/"))
            context = {
                "font_size": _to_int(request.query.get("fontsize", "16"), 16),
                "app_websocket_url": websocket_url,
                "config": {"static": {"url": static_url.rstrip("/") + "/"}},
                "application": {"name": self.title},
            }
            return aiohttp_jinja2.render_template("app_index.html", request, context)

        async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
            websocket = web.WebSocketResponse(heartbeat=15)
            width = min(max(_to_int(request.query.get("width", "80"), 80), 20), MAX_COLUMNS)
            height = min(max(_to_int(request.query.get("height", "24"), 24), 10), MAX_ROWS)
            service: GameService | None = None
            self.websockets.add(websocket)
            try:
                await websocket.prepare(request)

                async def close() -> None:
                    await websocket.close()

                service = GameService(
                    self.command,
                    write_bytes=websocket.send_bytes,
                    write_str=websocket.send_str,
                    close=close,
                    download_manager=self.download_manager,
                    debug=self.debug,
                )
                await service.start(width, height)
                await self._process_messages(websocket, service)
            except asyncio.CancelledError:
                await websocket.close()
            except Exception as error:
                logging.getLogger("textual-serve").exception(error)
            finally:
                self.websockets.discard(websocket)
                if service is not None:
                    await service.stop()
            return websocket

    return GameServer()


def ipaddress_is_loopback(host: str) -> bool:
    """Whether ``host`` names this machine only (``127.0.0.1``, ``::1``, ``localhost``)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _to_int(value: str, default: int) -> int:
    """``int(value)``, or ``default`` when it is not a whole number."""
    try:
        return int(value)
    except ValueError:
        return default


def serve_game(
    scenario: str | None = None,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    public_url: str | None = None,
    command: Sequence[str] | None = None,
) -> None:
    """Serve ``posim play [SCENARIO]`` until Ctrl+C; every game is stopped on the way out.

    ``command`` replaces the game command (default: :func:`game_command`).
    Raises :class:`ServeError` when the server cannot start (no ``web``
    extra, the port is taken, the host is not an address of this machine).
    """
    root = Path(tempfile.mkdtemp(prefix="posim-serve-"))
    sessions = Sessions(game_command(scenario) if command is None else list(command), root)
    try:
        create_server(sessions, host, port, public_url).serve()
    except OSError as error:
        raise ServeError(f"cannot listen on {host}:{port}: {error.strerror or error}") from error
    finally:
        sessions.stop_all()
        shutil.rmtree(root, ignore_errors=True)
