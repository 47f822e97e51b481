"""``posim serve`` without a browser: arguments, the offline page, per-game folders, process groups.

The server tests start ``posim serve`` in a subprocess, connect a websocket
the way the page does (each connection starts a real ``posim play``), and
check that every game has its own ``POSIM_HOME`` and that closing the
connection or stopping the server with SIGINT leaves no game process behind.
The browser itself is driven in ``tests/browser``.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from raw_websocket import RawClient

from posim import serve
from posim.serve import (
    Sessions,
    connection,
    game_command,
    group_alive,
    kill_group,
    offline_page,
    processes,
    protocol,
    public_base_url,
    reach_urls,
)
from posim.serve.page import PageError

textual_serve = pytest.importorskip("textual_serve", reason="posim serve needs the 'web' extra")
aiohttp = pytest.importorskip("aiohttp")

TEMPLATE = Path(textual_serve.__file__).parent / "templates" / "app_index.html"
STATIC = Path(textual_serve.__file__).parent / "static"


# --------------------------------------------------------------------------
# Helpers shared with the browser test
# --------------------------------------------------------------------------


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def game_processes(under: Path) -> dict[int, Path]:
    """Live processes whose ``POSIM_HOME`` is inside ``under`` (games and their children).

    pid → that ``POSIM_HOME``.  Every game the server starts, and anything a game
    starts, inherits its per-game ``POSIM_HOME``, so this finds them all.
    """
    found: dict[int, Path] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            environ = Path(f"/proc/{entry}/environ").read_bytes().split(b"\0")
            state = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[-1].split()[0]
        except OSError:
            continue
        if state == "Z":
            continue
        for variable in environ:
            if variable.startswith(b"POSIM_HOME="):
                home = Path(os.fsdecode(variable.split(b"=", 1)[1]))
                if home.is_relative_to(under):
                    found[int(entry)] = home
    return found


def wait_until(condition, timeout: float, interval: float = 0.05) -> bool:  # type: ignore[no-untyped-def]
    """Poll ``condition()`` until it is true or ``timeout`` seconds pass; its last value."""
    deadline = time.monotonic() + timeout
    while True:
        if condition():
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(interval)


class ServerProcess:
    """``posim serve`` in a subprocess (its own process group), with its temporary folder."""

    def __init__(
        self, tmp: Path, *args: str, command: list[str] | None = None, max_players: int = 40
    ) -> None:
        self.tmp = tmp
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        environment = {**os.environ, "TMPDIR": str(tmp), "PYTHONUNBUFFERED": "1"}
        if command is None:
            argv = [sys.executable, "-m", "posim", "serve", *args, "--port", str(self.port)]
        else:  # the server with a stand-in for the game
            code = (
                "from posim.serve import serve_game; "
                f"serve_game(port={self.port}, command={command!r}, max_players={max_players})"
            )
            argv = [sys.executable, "-c", code]
        self.process = subprocess.Popen(
            argv,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=environment,
            start_new_session=True,
            preexec_fn=serve.parent_death_signal(),  # no server outlives a killed test run
        )
        self.banner = self._read_banner()
        self.lines: list[str] = []
        """What the server printed after its banner (read all along, so it never blocks)."""
        self.reader = threading.Thread(target=self._read_rest, daemon=True)
        self.reader.start()

    def _read_rest(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)

    @property
    def output(self) -> str:
        """Everything printed after the banner so far."""
        return "".join(self.lines)

    def _read_banner(self) -> str:
        """The start-up message, up to the line saying how to stop the server."""
        lines = []
        assert self.process.stdout is not None
        for line in self.process.stdout:
            lines.append(line)
            if "Ctrl+C" in line:
                return "".join(lines)
        raise AssertionError(f"posim serve did not start:\n{''.join(lines)}")

    def interrupt(self, timeout: float = 20, stop_signal: int = signal.SIGINT) -> int:
        """Send SIGINT (Ctrl+C) to the server only; its exit status once it has stopped."""
        self.process.send_signal(stop_signal)
        status = self.process.wait(timeout)
        self.reader.join(5)
        return status

    def close(self) -> None:
        """Make sure the server and anything it started are gone."""
        if self.process.poll() is None:
            kill_group(self.process.pid, grace=1)
            self.process.wait(5)
        self.reader.join(5)
        for pid in game_processes(self.tmp):
            os.kill(pid, signal.SIGKILL)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    """``posim serve tutorial`` on a free port, stopped after the test."""
    running = ServerProcess(tmp_path, "tutorial")
    try:
        yield running
    finally:
        running.close()


async def _connect(
    url: str, expect: bytes = b"Backlog", size: str = "width=100&height=30"
) -> tuple[object, object, bytes]:
    """Connect a websocket as the page does and read until the game has drawn ``expect``.

    Gives up after 30 seconds (the caller's assertions then fail, nothing hangs).
    """
    session = aiohttp.ClientSession()
    received = b""
    try:
        async with asyncio.timeout(30):
            websocket = await session.ws_connect(f"{url}/ws?{size}")
            while expect not in received:
                message = await websocket.receive()
                if message.type == aiohttp.WSMsgType.BINARY:
                    received += message.data
                elif message.type != aiohttp.WSMsgType.TEXT:
                    break
    except BaseException:
        await session.close()
        raise
    return session, websocket, received


# --------------------------------------------------------------------------
# Pure helpers
# --------------------------------------------------------------------------


def test_game_command_runs_posim_play_with_this_python(tmp_path: Path) -> None:
    assert game_command() == [sys.executable, "-m", "posim", "play", "--menu"]
    assert game_command("tutorial") == [sys.executable, "-m", "posim", "play", "tutorial"]
    scenario = tmp_path / "mine.yaml"
    scenario.write_text("posim: 1\n")
    relative = os.path.relpath(scenario)
    assert game_command(relative)[-1] == str(scenario.resolve())


def test_reach_urls() -> None:
    assert reach_urls("127.0.0.1", 8000) == ["http://127.0.0.1:8000"]
    assert reach_urls("::1", 8080) == ["http://[::1]:8080"]
    assert reach_urls("workshop.local", 9000) == ["http://workshop.local:9000"]
    everywhere = reach_urls("0.0.0.0", 8000)
    assert everywhere[0] == "http://127.0.0.1:8000"
    assert len(everywhere) == len(set(everywhere))
    assert all(re.fullmatch(r"http://\S+:8000", url) for url in everywhere)


def test_offline_page_has_no_outside_reference_and_local_fonts() -> None:
    original = TEMPLATE.read_text(encoding="utf-8")
    assert "fonts.googleapis.com" in original  # what this is about
    page = offline_page(original)
    assert "googleapis" not in page
    assert not re.search(r"""(?:href|src)\s*=\s*["']?(?:https?:)?//""", page)
    fonts = re.findall(r'\{\{ config\.static\.url \}\}(fonts/[^")]+)', page)
    assert len(fonts) == 2
    assert all((STATIC / font).is_file() for font in fonts)
    assert page.count("</head>") == 1
    assert page.index("@font-face") < page.index("</head>")


def test_offline_page_refuses_other_outside_assets() -> None:
    page = "<html><head><script src='https://cdn.example/x.js'></script></head></html>"
    with pytest.raises(PageError, match="internet"):
        offline_page(page)
    with pytest.raises(PageError, match="</head>"):
        offline_page("<html></html>")


def test_public_base_url_uses_a_well_formed_host_only() -> None:
    fallback = "http://127.0.0.1:8000"
    assert public_base_url("192.168.1.20:8000", fallback) == "http://192.168.1.20:8000"
    assert public_base_url("trainer-laptop:8000", fallback) == "http://trainer-laptop:8000"
    assert public_base_url("[fe80::1]:8000", fallback) == "http://[fe80::1]:8000"
    assert public_base_url('evil"><script>:8000', fallback) == fallback
    assert public_base_url(None, fallback) == fallback


# --------------------------------------------------------------------------
# Game processes: folders and process groups
# --------------------------------------------------------------------------

SPAWNS_A_CHILD = [
    sys.executable,
    "-c",
    "import os, subprocess, sys, time\n"
    "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
    "print(os.environ['POSIM_HOME'], flush=True)\n"
    "time.sleep(60)\n",
]
"""A stand-in game that starts a child of its own, prints its POSIM_HOME and sleeps."""


def _group_members(pgid: int) -> list[int]:
    return [pid for pid in processes.pids() if processes.in_group(pid, pgid)]


def test_each_session_has_its_own_folder_and_group_and_end_kills_the_group(
    tmp_path: Path,
) -> None:
    async def scenario() -> None:
        sessions = Sessions(SPAWNS_A_CHILD, tmp_path)
        first = await sessions.start(dict(os.environ))
        second = await sessions.start(dict(os.environ))
        homes = []
        for session in (first, second):
            assert session.process.stdout is not None
            line = await asyncio.wait_for(session.process.stdout.readline(), 10)
            homes.append(Path(line.decode().strip()))
        assert homes == [first.home, second.home]
        assert first.home != second.home
        assert all(home.is_dir() and home.parent == tmp_path for home in homes)
        # Each game leads its own process group, apart from the server's.
        for session in (first, second):
            assert os.getpgid(session.process.pid) == session.pgid == session.process.pid
            assert session.pgid != os.getpgrp()
        assert wait_until(lambda: len(_group_members(first.pgid)) == 2, 10)
        assert set(sessions.live) == {first.pgid, second.pgid}

        await sessions.end(first, grace=0.2)
        assert not group_alive(first.pgid)  # the game's own child went too
        assert not first.home.exists()
        assert set(sessions.live) == {second.pgid}
        assert group_alive(second.pgid) and second.home.is_dir()

        sessions.stop_all()
        assert not group_alive(second.pgid)
        assert not second.home.exists()
        assert sessions.live == {}
        await second.process.wait()

    asyncio.run(scenario())


def test_a_game_that_exits_by_itself_is_not_killed_and_its_folder_goes(tmp_path: Path) -> None:
    async def scenario() -> None:
        sessions = Sessions([sys.executable, "-c", "pass"], tmp_path)
        session = await sessions.start(dict(os.environ))
        started = time.monotonic()
        await sessions.end(session, grace=5)
        assert time.monotonic() - started < 4
        assert session.process.returncode == 0  # exited, not killed
        assert not session.home.exists()

    asyncio.run(scenario())


def test_kill_group_uses_sigkill_when_sigterm_is_ignored() -> None:
    stubborn = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import signal, sys, time\n"
            "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
            "print('ready', flush=True)\n"
            "time.sleep(60)\n",
        ],
        stdout=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        assert stubborn.stdout is not None and stubborn.stdout.readline() == b"ready\n"
        started = time.monotonic()
        kill_group(stubborn.pid, grace=0.3)
        assert stubborn.wait(5) == -signal.SIGKILL
        assert time.monotonic() - started < 3
        assert not group_alive(stubborn.pid)
    finally:
        if stubborn.poll() is None:
            stubborn.kill()
        stubborn.wait()
        assert stubborn.stdout is not None
        stubborn.stdout.close()


# --------------------------------------------------------------------------
# The command line
# --------------------------------------------------------------------------


def test_serve_rejects_a_bad_scenario_with_one_line(posim_command: list[str]) -> None:
    completed = subprocess.run(
        [*posim_command, "serve", "no-such-scenario"], capture_output=True, text=True, timeout=60
    )
    assert completed.returncode == 2
    assert "no-such-scenario" in completed.stderr
    assert "Traceback" not in completed.stderr
    assert len(completed.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("port", ["0", "70000", "http"])
def test_serve_rejects_a_bad_port(posim_command: list[str], port: str) -> None:
    completed = subprocess.run(
        [*posim_command, "serve", "--port", port], capture_output=True, text=True, timeout=60
    )
    assert completed.returncode == 2
    assert "--port" in completed.stderr
    assert "Traceback" not in completed.stderr


def test_serve_reports_a_port_in_use(posim_command: list[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        completed = subprocess.run(
            [*posim_command, "serve", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert completed.returncode == 2
    assert (
        completed.stderr.strip()
        .splitlines()[-1]
        .startswith(f"posim serve: cannot listen on 127.0.0.1:{port}: ")
    )
    assert "Traceback" not in completed.stderr


def test_serve_help_shows_loopback_default(posim_command: list[str]) -> None:
    completed = subprocess.run(
        [*posim_command, "serve", "--help"], capture_output=True, text=True, timeout=60
    )
    assert completed.returncode == 0
    assert "127.0.0.1" in completed.stdout
    assert "8000" in completed.stdout


# --------------------------------------------------------------------------
# The server, with real games
# --------------------------------------------------------------------------


def test_server_listens_on_loopback_and_says_where(server: ServerProcess) -> None:
    assert f"  {server.url}\n" in server.banner
    assert "Only this machine can connect" in server.banner
    listening = subprocess.run(["cat", "/proc/net/tcp"], capture_output=True, text=True).stdout
    port_hex = f"{server.port:04X}"
    local = [line.split()[1] for line in listening.splitlines()[1:] if line.split()[3] == "0A"]
    assert f"0100007F:{port_hex}" in local  # 127.0.0.1, LISTEN
    assert f"00000000:{port_hex}" not in local  # not 0.0.0.0


def test_page_is_served_without_outside_references(server: ServerProcess) -> None:
    async def fetch() -> tuple[str, int]:
        async with aiohttp.ClientSession() as session:
            async with session.get(server.url + "/", headers={"Host": "trainer:1234"}) as page:
                text = await page.text()
            fonts = re.findall(r'url\("http://trainer:1234(/static/fonts/[^"]+)"', text)
            statuses = []
            for font in fonts:
                async with session.get(server.url + font) as response:
                    statuses.append(response.status)
            return text, len(fonts) if statuses == [200] * len(fonts) else -1

    page, fonts = asyncio.run(fetch())
    assert fonts == 2
    assert "googleapis" not in page
    assert 'data-session-websocket-url="ws://trainer:1234/ws"' in page
    external = re.findall(r"""(?:href|src)\s*=\s*["']?(https?://[^"' >]+)""", page)
    assert external and all(url.startswith("http://trainer:1234/static/") for url in external)


def test_each_connection_gets_its_own_game_and_home(server: ServerProcess) -> None:
    async def two_players() -> None:
        first = await _connect(server.url)
        second = await _connect(server.url, size="width=100000&height=40")
        try:
            assert b"Backlog" in first[2] and b"Backlog" in second[2]
            games = game_processes(server.tmp)
            assert len(games) == 2
            environments = [
                dict(
                    line.split(b"=", 1)
                    for line in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
                    if b"=" in line
                )
                for pid in games
            ]
            sizes = sorted((env[b"COLUMNS"], env[b"ROWS"]) for env in environments)
            assert sizes == [(b"100", b"30"), (b"500", b"40")]  # an absurd width is clamped
            homes = list(games.values())
            assert homes[0] != homes[1]
            assert all(home.is_dir() for home in homes)
            assert all(os.getpgid(pid) == pid for pid in games)  # group leaders
            # Closing one tab ends its game and removes its folder; the other plays on.
            await first[1].close()  # type: ignore[attr-defined]
            gone = await asyncio.to_thread(
                wait_until, lambda: len(game_processes(server.tmp)) == 1, 15
            )
            assert gone
            (survivor,) = game_processes(server.tmp).values()
            assert survivor in homes
            (closed,) = set(homes) - {survivor}
            assert await asyncio.to_thread(wait_until, lambda: not closed.exists(), 5)
        finally:
            for session, websocket, _ in (first, second):
                await websocket.close()  # type: ignore[attr-defined]
                await session.close()  # type: ignore[attr-defined]

    asyncio.run(two_players())
    assert wait_until(lambda: not game_processes(server.tmp), 15)


def test_sigint_stops_every_game_even_with_tabs_open(server: ServerProcess) -> None:
    async def play_then_interrupt() -> int:
        players = [await _connect(server.url) for _ in range(2)]
        try:
            assert len(game_processes(server.tmp)) == 2
            started = time.monotonic()
            status = await asyncio.to_thread(server.interrupt)
            assert time.monotonic() - started < 15
            # The open tabs are told the session ended.
            for _, websocket, _ in players:
                message = await websocket.receive(timeout=5)  # type: ignore[attr-defined]
                while message.type in (aiohttp.WSMsgType.BINARY, aiohttp.WSMsgType.TEXT):
                    message = await websocket.receive(timeout=5)  # type: ignore[attr-defined]
                assert message.type in (
                    aiohttp.WSMsgType.CLOSE,
                    aiohttp.WSMsgType.CLOSED,
                    aiohttp.WSMsgType.CLOSING,
                )
            return status
        finally:
            for session, _, _ in players:
                await session.close()  # type: ignore[attr-defined]

    status = asyncio.run(play_then_interrupt())
    assert status == 0
    assert game_processes(server.tmp) == {}
    assert not group_alive(server.process.pid)
    assert not list(server.tmp.glob("posim-serve-*"))  # the server's folder is gone


STUBBORN_GAME = [
    sys.executable,
    "-c",
    "import signal, subprocess, sys, time\n"
    "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
    "signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
    "subprocess.Popen([sys.executable, '-c', "
    "'import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(120)'])\n"
    "out = sys.stdout.buffer\n"
    "out.write(b'__GANGLION__\\n')\n"
    "out.write(b'D' + (8).to_bytes(4, 'big') + b'stubborn')\n"
    "out.flush()\n"
    "time.sleep(120)\n",
]
"""A game that ignores quit, SIGTERM and SIGINT, and has a child that ignores SIGTERM too."""


@pytest.fixture
def stubborn_server(tmp_path: Path) -> Iterator[ServerProcess]:
    """The server running :data:`STUBBORN_GAME` for each tab."""
    running = ServerProcess(tmp_path, command=STUBBORN_GAME)
    try:
        yield running
    finally:
        running.close()


def test_a_closed_tab_kills_a_game_that_will_not_quit(stubborn_server: ServerProcess) -> None:
    server = stubborn_server

    async def open_and_close() -> None:
        session, websocket, received = await _connect(server.url, expect=b"stubborn")
        try:
            assert b"stubborn" in received
            assert await asyncio.to_thread(
                wait_until, lambda: len(game_processes(server.tmp)) == 2, 10
            )  # the game and its child
            await websocket.close()  # type: ignore[attr-defined]
        finally:
            await session.close()  # type: ignore[attr-defined]

    asyncio.run(open_and_close())
    grace = serve.QUIT_GRACE_SECONDS + serve.KILL_GRACE_SECONDS
    assert wait_until(lambda: not game_processes(server.tmp), grace + 5)
    assert server.process.poll() is None  # the server plays on


def test_sigint_kills_games_that_will_not_quit(stubborn_server: ServerProcess) -> None:
    server = stubborn_server

    async def open_then_interrupt() -> int:
        players = [await _connect(server.url, expect=b"stubborn") for _ in range(2)]
        try:
            assert await asyncio.to_thread(
                wait_until, lambda: len(game_processes(server.tmp)) == 4, 10
            )
            return await asyncio.to_thread(server.interrupt)
        finally:
            for session, _, _ in players:
                await session.close()  # type: ignore[attr-defined]

    started = time.monotonic()
    assert asyncio.run(open_then_interrupt()) == 0
    assert time.monotonic() - started < 20
    assert game_processes(server.tmp) == {}
    assert not list(server.tmp.glob("posim-serve-*"))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux-only")
def test_games_end_when_the_server_is_killed(server: ServerProcess) -> None:
    async def open_then_kill() -> None:
        session, _, received = await _connect(server.url)
        try:
            assert b"Backlog" in received
            assert len(game_processes(server.tmp)) == 1
            server.process.kill()  # SIGKILL: the server cannot clean up
            server.process.wait(5)
        finally:
            await session.close()  # type: ignore[attr-defined]

    asyncio.run(open_then_kill())
    assert wait_until(lambda: not game_processes(server.tmp), 15), game_processes(server.tmp)


# --------------------------------------------------------------------------
# Hardening (issue 12, defects 3 and 4): vanished tabs, origins, the cap, sizes
# --------------------------------------------------------------------------

ECHO_GAME = [
    sys.executable,
    "-c",
    "import json, os, sys\n"
    "out = sys.stdout.buffer\n"
    "def send(text):\n"
    "    data = text.encode()\n"
    "    out.write(b'D' + len(data).to_bytes(4, 'big') + data); out.flush()\n"
    "out.write(b'__GANGLION__\\n')\n"
    "send('size %s %s' % (os.environ['COLUMNS'], os.environ['ROWS']))\n"
    "inp = sys.stdin.buffer\n"
    "while True:\n"
    "    head = inp.read(5)\n"
    "    if len(head) < 5: break\n"
    "    body = inp.read(int.from_bytes(head[1:], 'big'))\n"
    "    if head[:1] == b'M' and json.loads(body)['type'] == 'quit': break\n"
    "    send('got %s %s;' % (head[:1].decode(), body.decode()))\n",
]
"""A stand-in game that says its starting size, then echoes every packet it is sent."""


@pytest.fixture
def echo_server(tmp_path: Path) -> Iterator[ServerProcess]:
    """The server running :data:`ECHO_GAME` for each tab, at most two at once."""
    running = ServerProcess(tmp_path, command=ECHO_GAME, max_players=2)
    try:
        yield running
    finally:
        running.close()


def _game_threads_blocked_writing(pid: int) -> bool:
    """Whether a thread of ``pid`` sleeps in the kernel writing to a pipe."""
    try:
        threads = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return False
    for thread in threads:
        try:
            if "pipe_write" in Path(f"/proc/{pid}/task/{thread}/wchan").read_text():
                return True
        except OSError:
            continue
    return False


def test_a_tab_that_stops_reading_and_vanishes_leaves_no_game(server: ServerProcess) -> None:
    """Issue 12 defect 3: the game blocked on its output pipe stayed forever; Ctrl+C took 75 s."""

    async def stall_until_the_game_blocks_then_vanish() -> bool:
        client = await RawClient.connect(
            server.port, "/ws?width=500&height=200", receive_buffer=4096
        )
        assert client.status == 101
        blocked = False
        deadline = time.monotonic() + 40
        turn = 0
        while not blocked and time.monotonic() < deadline:
            turn += 1
            width, height = (500, 200) if turn % 2 else (400, 150)  # a whole new screen
            await client.send_json(["resize", {"width": width, "height": height}])
            await asyncio.sleep(0.05)
            blocked = any(_game_threads_blocked_writing(pid) for pid in game_processes(server.tmp))
        client.vanish()
        return blocked

    assert asyncio.run(stall_until_the_game_blocks_then_vanish()), "the game never blocked"
    limit = connection.STALL_SECONDS + serve.QUIT_GRACE_SECONDS + serve.KILL_GRACE_SECONDS + 5
    assert wait_until(lambda: not game_processes(server.tmp), limit), game_processes(server.tmp)
    assert wait_until(lambda: not list(server.tmp.glob("posim-serve-*/session-*")), 5)
    started = time.monotonic()
    assert server.interrupt() == 0
    assert time.monotonic() - started < 5
    assert "Traceback" not in server.output and "Event loop is closed" not in server.output
    assert not list(server.tmp.glob("posim-serve-*"))


def test_sigterm_stops_the_server_in_seconds(server: ServerProcess) -> None:
    async def open_then_terminate() -> int:
        session, websocket, _ = await _connect(server.url)
        try:
            started = time.monotonic()
            status = await asyncio.to_thread(server.interrupt, 20, signal.SIGTERM)
            assert time.monotonic() - started < 5
            return status
        finally:
            await websocket.close()  # type: ignore[attr-defined]
            await session.close()  # type: ignore[attr-defined]

    assert asyncio.run(open_then_terminate()) == 0
    assert game_processes(server.tmp) == {}
    assert "Traceback" not in server.output


@pytest.mark.parametrize(
    ("origin", "host", "public_url", "allowed"),
    [
        (None, "127.0.0.1:8000", None, True),  # not a browser: a tool
        ("http://127.0.0.1:8000", "127.0.0.1:8000", None, True),
        ("http://192.168.1.20:8000", "192.168.1.20:8000", None, True),
        ("http://[::1]:8000", "[::1]:8000", None, True),
        ("http://localhost:8000", "localhost:8000", None, True),
        ("http://evil.example", "127.0.0.1:8000", None, False),
        ("http://127.0.0.1:9999", "127.0.0.1:8000", None, False),  # another local site
        ("http://evil.example:8000", "evil.example:8000", None, False),  # DNS rebinding
        ("null", "127.0.0.1:8000", None, False),
        ("file://", "127.0.0.1:8000", None, False),
        ("https://posim.example.org", "127.0.0.1:8000", "https://posim.example.org", True),
        ("http://posim.example.org", "127.0.0.1:8000", "https://posim.example.org", False),
        ("https://posim.example.org", "posim.example.org", None, False),
    ],
)
def test_origin_allowed(
    origin: str | None, host: str, public_url: str | None, allowed: bool
) -> None:
    assert serve.origin_allowed(origin, host, public_url) is allowed


def test_origin_of_this_machines_name_is_allowed() -> None:
    name = socket.gethostname().lower()
    assert serve.origin_allowed(f"http://{name}:8000", f"{name}:8000")
    assert serve.origin_allowed("http://room-laptop:8000", "room-laptop:8000", None, "room-laptop")


@pytest.mark.parametrize(
    ("width", "height", "size"),
    [
        (100, 30, (100, 30)),
        (8000, 8000, (500, 200)),
        (-5, 0, (20, 10)),
        ("120", "40", (120, 40)),
        ("x", None, (80, 24)),
        (1e308, float("nan"), (500, 24)),
        (True, [], (80, 24)),
        (99.9, 30.5, (99, 30)),
    ],
)
def test_clamp_size(width: object, height: object, size: tuple[int, int]) -> None:
    assert serve.clamp_size(width, height) == size


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "not json",
        "{}",
        "[]",
        "[1, 2]",
        '["stdin"]',
        '["stdin", 5]',
        '["resize", "big"]',
        '["ping", {"a": 1}]',
        '["ping", "' + "x" * 300 + '"]',
        '["explode", {}]',
        "[" * 100_000,
    ],
)
def test_garbage_from_a_tab_is_dropped(raw: str) -> None:
    assert protocol.parse_client_message(raw) is None


def test_client_messages_are_parsed_and_clamped() -> None:
    assert protocol.parse_client_message('["stdin", "J"]') == protocol.ClientMessage("stdin", "J")
    resize = protocol.parse_client_message('["resize", {"width": 8000, "height": 8000}]')
    assert resize == protocol.ClientMessage("resize", width=500, height=200)
    assert protocol.parse_client_message('["focus"]') == protocol.ClientMessage("focus")


def test_a_foreign_origin_is_refused_before_any_game(echo_server: ServerProcess) -> None:
    server = echo_server

    async def handshakes() -> list[int]:
        statuses = []
        for origin in ("http://evil.example", f"http://127.0.0.1:{server.port}", None):
            client = await RawClient.connect(server.port, origin=origin)
            statuses.append(client.status)
            if origin == "http://evil.example":
                assert b"origin" in client.received + await client.read_for(1)
                assert game_processes(server.tmp) == {}
            client.close()
        return statuses

    assert asyncio.run(handshakes()) == [403, 101, 101]


def test_sizes_are_clamped_at_start_and_on_resize(echo_server: ServerProcess) -> None:
    server = echo_server

    async def resize_absurdly() -> bytes:
        client = await RawClient.connect(server.port, "/ws?width=8000&height=-3")
        await client.read_for(1)
        for message in (
            ["resize", {"width": 8000, "height": 8000}],
            ["resize", {"width": "wide", "height": 1e308}],
            ["resize", "nonsense"],
            ["stdin", "k"],
        ):
            await client.send_json(message)
        await client.send(b"binary", opcode=2)
        await client.read_for(2)
        await client.send(b"\xff\xfe not utf-8")  # not text: the tab is closed (1007)
        await client.read_for(3)
        client.close()
        return client.received

    received = asyncio.run(resize_absurdly())
    assert b"size 500 10" in received
    resizes = re.findall(rb'"width": (\d+), "height": (\d+)', received)
    assert resizes == [(b"500", b"200"), (b"80", b"200")]
    assert b"got D k;" in received
    assert b"\x88\x02\x03\xef" in received  # closed: invalid UTF-8 (1007)
    assert wait_until(lambda: not game_processes(server.tmp), 10)


def test_a_player_over_the_cap_is_told_the_room_is_full(echo_server: ServerProcess) -> None:
    server = echo_server  # --max-players 2

    async def three_players() -> None:
        first = await RawClient.connect(server.port)
        second = await RawClient.connect(server.port)
        await first.read_for(1)
        await second.read_for(1)
        assert len(game_processes(server.tmp)) == 2
        third = await RawClient.connect(server.port)
        assert third.status == 101  # accepted, told, closed: not a hung socket
        told = third.received + await third.read_for(5)
        assert b"The room is full" in told and b"--max-players 2" in told
        assert b"\x88\x12\x03\xf5" in told  # a close frame with code 1013 ("try again later")
        assert len(game_processes(server.tmp)) == 2
        async with aiohttp.ClientSession() as http, http.get(server.url + "/") as response:
            assert response.status == 503
            assert "The room is full" in await response.text()
        first.close()
        assert await asyncio.to_thread(wait_until, lambda: len(game_processes(server.tmp)) == 1, 10)
        # The server frees the place when it has finished with the connection, which
        # can be a moment after the game's process is gone: ask until it says so.
        status = 503
        async with aiohttp.ClientSession() as http:
            for _ in range(100):
                async with http.get(server.url + "/") as response:
                    status = response.status
                if status != 503:
                    break
                await asyncio.sleep(0.1)
        assert status == 200  # a place is free again
        fourth = await RawClient.connect(server.port)
        assert b"size 100 30" in fourth.received + await fourth.read_for(2)
        second.close()
        fourth.close()

    asyncio.run(three_players())
    assert wait_until(lambda: not game_processes(server.tmp), 10)


def test_static_files_are_served_but_not_listed(echo_server: ServerProcess) -> None:
    async def fetch(path: str) -> tuple[int, str]:
        async with aiohttp.ClientSession() as http, http.get(echo_server.url + path) as response:
            return response.status, await response.text(errors="replace")

    for folder in ("/static/", "/static", "/static/js/", "/static/fonts/"):
        status, text = asyncio.run(fetch(folder))
        assert status in (403, 404), folder
        assert "textual.js" not in text and "Index of" not in text
    status, text = asyncio.run(fetch("/static/js/textual.js"))
    assert status == 200 and len(text) > 1000
    assert asyncio.run(fetch("/static/../pyproject.toml"))[0] in (403, 404)
