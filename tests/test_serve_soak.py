"""A soak test for ``posim serve`` (issue 12): tabs that misbehave, then a clean slate.

Players connect to a real server running real games, all at once and on
loopback only: some play and close politely, some stop reading and vanish
(a TCP reset) or stay connected without reading, some resize absurdly, some send garbage (bad JSON, binary
frames, invalid UTF-8, oversize messages), one comes from a foreign page and
some hang up mid-handshake; more try than the cap allows.  Afterwards no game
process, no open connection and no session folder is left, and the server
stops in seconds with nothing on its output that looks like a traceback.
Bounded: a fixed number of clients and rounds, each step with a deadline.
The fast suite runs one round; ``make test-slow`` runs several.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from raw_websocket import RawClient
from test_serve import ServerProcess, game_processes, wait_until

from posim.serve import connection, processes

pytest.importorskip("textual_serve", reason="posim serve needs the 'web' extra")

MAX_PLAYERS = 4
"""The soak's cap: fewer places than clients, so some are turned away."""


def open_connections(port: int) -> list[str]:
    """TCP connections to ``port`` still open on this machine (not listening, not closed)."""
    gone = {"06", "07", "0A"}  # TIME_WAIT, CLOSE, LISTEN
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local, remote, state = fields[1], fields[2], fields[3]
            if state in gone:
                continue
            if local.endswith(f":{port:04X}") or remote.endswith(f":{port:04X}"):
                found.append(f"{local} {remote} {state}")
    return found


async def polite(port: int, rng: random.Random) -> None:
    client = await RawClient.connect(port)
    await client.read_for(rng.uniform(2, 4))
    for key in ("J", ".", "?", "\x1b"):
        await client.send_json(["stdin", key])
    await client.read_for(1)
    await client.send(b"\x03\xe8", opcode=8)  # a close frame: 1000, normal
    await client.read_for(1)
    client.close()


async def staller(port: int, rng: random.Random) -> None:
    client = await RawClient.connect(port, "/ws?width=500&height=200", receive_buffer=4096)
    deadline = time.monotonic() + rng.uniform(6, 10)
    turn = 0
    while time.monotonic() < deadline:
        turn += 1
        size = {"width": 500, "height": 200} if turn % 2 else {"width": 380, "height": 120}
        if not await client.send_json(["resize", size]):
            break
        await asyncio.sleep(0.05)
    client.vanish()


async def frozen(port: int, rng: random.Random) -> None:
    """A tab that stops reading and stays connected: the server must give up on it."""
    client = await RawClient.connect(port, "/ws?width=500&height=200", receive_buffer=4096)
    for turn in range(100):
        size = {"width": 500, "height": 200} if turn % 2 else {"width": 380, "height": 120}
        if not await client.send_json(["resize", size]):
            break
        await asyncio.sleep(0.05)
    # Dropped by a send's deadline if output piled up, else by the heartbeat (no pong).
    noticed = max(connection.STALL_SECONDS, connection.HEARTBEAT_SECONDS * 1.5)
    await asyncio.sleep(noticed + processes.QUIT_GRACE_SECONDS + 5)
    sent = [await client.send_json(["stdin", "x"]) for _ in range(3)]
    assert not all(sent), "the server kept a tab that read nothing"
    client.close()


async def resizer(port: int, rng: random.Random) -> None:
    client = await RawClient.connect(port, "/ws?width=99999&height=-1")
    for width, height in ((8000, 8000), (-1, 0), ("x", None), (1e308, 2**70), (120, 40)):
        await client.send_json(["resize", {"width": width, "height": height}])
        await client.read_for(0.2)
    await client.read_for(rng.uniform(0.5, 2))
    client.vanish()


async def garbage(port: int, rng: random.Random) -> None:
    client = await RawClient.connect(port)
    junk: list[tuple[bytes, int]] = [
        (b"not json", 1),
        (b"{}", 1),
        (json.dumps(["stdin", 5]).encode(), 1),
        (json.dumps(["explode", {}]).encode(), 1),
        (json.dumps(["ping", "x" * 1000]).encode(), 1),
        (b"[" * 5000, 1),
        (bytes(rng.randrange(256) for _ in range(300)), 2),
        (json.dumps(["ping", "hello"]).encode(), 1),
    ]
    for payload, opcode in junk:
        await client.send(payload, opcode)
    await client.read_for(1)
    ending = rng.choice(["oversize", "utf8", "vanish"])
    if ending == "oversize":
        await client.send(json.dumps(["stdin", "k" * 200_000]).encode())
    elif ending == "utf8":
        await client.send(b"\xff\xfe\xfd")
    await client.read_for(1)
    client.vanish()


async def foreign(port: int, rng: random.Random) -> None:
    client = await RawClient.connect(port, origin="http://evil.example")
    assert client.status == 403
    client.close()


async def hang_up_early(port: int, rng: random.Random) -> None:
    client = await RawClient.connect(port)
    await asyncio.sleep(rng.uniform(0, 0.5))
    client.vanish()


BEHAVIOURS: list[Callable[[int, random.Random], Awaitable[None]]] = [
    polite,
    staller,
    frozen,
    resizer,
    garbage,
    foreign,
    hang_up_early,
    polite,
    garbage,
]


async def one_round(port: int, seed: int) -> None:
    """Every behaviour at once, each bounded by a deadline."""
    rng = random.Random(seed)
    behaviours = list(BEHAVIOURS)
    rng.shuffle(behaviours)

    async def bounded(behaviour: Callable[[int, random.Random], Awaitable[None]]) -> None:
        await asyncio.wait_for(behaviour(port, random.Random(rng.random())), 60)

    await asyncio.gather(*(bounded(behaviour) for behaviour in behaviours))


def soak(tmp_path: Path, rounds: int) -> None:
    server = ServerProcess(tmp_path, "tutorial", "--max-players", str(MAX_PLAYERS))
    try:
        for round_number in range(rounds):
            asyncio.run(one_round(server.port, round_number))
            limit = connection.STALL_SECONDS + processes.QUIT_GRACE_SECONDS + 10
            assert wait_until(lambda: not game_processes(server.tmp), limit), game_processes(
                server.tmp
            )
        assert wait_until(lambda: not open_connections(server.port), 10), open_connections(
            server.port
        )
        assert not list(server.tmp.glob("posim-serve-*/session-*"))
        assert server.process.poll() is None  # it served on throughout
        started = time.monotonic()
        assert server.interrupt() == 0
        assert time.monotonic() - started < 5
        assert "Traceback" not in server.output, server.output
        assert "Event loop is closed" not in server.output
        assert not list(server.tmp.glob("posim-serve-*"))
    finally:
        server.close()


def test_soak_one_round(tmp_path: Path) -> None:
    soak(tmp_path, rounds=1)


@pytest.mark.slow
def test_soak_many_rounds(tmp_path: Path) -> None:
    soak(tmp_path, rounds=5)
