"""One tab's game: the bridge between its websocket and its ``posim play`` process.

:func:`play` runs a game for as long as three things hold: the game runs,
the tab is connected, and the server has not been asked to stop.  It then
always ends the game the same way (:meth:`Sessions.end`: asked to quit, its
output drained so it can save, killed after a grace period) and closes the
socket.  A tab that stops reading is the tricky case: the game's output
piles up in the socket, then in the pipe, and the game blocks writing.  Every
send therefore has a deadline (:data:`STALL_SECONDS`): a tab that takes no
output for that long is treated as gone.  A tab that vanishes without a
close frame is found by a send failing or by the websocket heartbeat.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from posim.serve import protocol
from posim.serve.processes import QUIT_GRACE_SECONDS, Session, Sessions

if TYPE_CHECKING:
    from aiohttp import web

STALL_SECONDS = 15.0
"""A tab that takes no output (or a game that takes no input) for this long is dropped."""

HEARTBEAT_SECONDS = 15.0
"""How often the server pings a tab; a tab that does not answer is closed."""

CLOSE_SECONDS = 2.0
"""How long closing a websocket may take before its connection is dropped."""

log = logging.getLogger("posim.serve")


class GameLink:
    """A running game's pipes, spoken to in packets, every write with a deadline."""

    def __init__(self, session: Session) -> None:
        self.session = session

    async def write(self, data: bytes) -> bool:
        """Send packets to the game; False when it is gone or stopped reading."""
        stdin = self.session.process.stdin
        if stdin is None or stdin.is_closing():
            return False
        try:
            stdin.write(data)
            await asyncio.wait_for(stdin.drain(), STALL_SECONDS)
        except (OSError, RuntimeError, TimeoutError):
            return False
        return True

    async def output(
        self,
        send_bytes: Callable[[bytes], Awaitable[None]],
        send_text: Callable[[str], Awaitable[None]],
    ) -> None:
        """Forward the game's screen to the tab until the game exits or the tab stalls."""
        stdout = self.session.process.stdout
        assert stdout is not None
        try:
            for _ in range(10):  # a few lines before the prelude are tolerated
                line = await stdout.readline()
                if not line:
                    return
                if line == protocol.PRELUDE:
                    break
            else:
                log.warning("a game did not start in web mode")
                return
            while True:
                header = await stdout.readexactly(5)
                payload = await stdout.readexactly(int.from_bytes(header[1:], "big"))
                kind = header[:1]
                if kind == protocol.DATA:
                    await asyncio.wait_for(send_bytes(payload), STALL_SECONDS)
                elif kind == protocol.META:
                    message = json.loads(payload)
                    if message.get("type") == "exit":
                        return
                    if message.get("type") == "open_url":
                        forward = ["open_url", {"url": message.get("url"), "new_tab": True}]
                        await asyncio.wait_for(send_text(json.dumps(forward)), STALL_SECONDS)
                # PACKED (file deliveries) are not offered by posim: dropped.
        except (asyncio.IncompleteReadError, ValueError):
            return  # the game ended (or wrote nonsense)

    async def input(self, websocket: web.WebSocketResponse) -> None:
        """Forward the tab's keys and sizes to the game until the tab closes."""
        from aiohttp import WSMsgType

        async for message in websocket:
            if message.type == WSMsgType.ERROR:
                return
            if message.type != WSMsgType.TEXT:
                continue  # binary frames mean nothing here
            parsed = protocol.parse_client_message(message.data)
            if parsed is None:
                continue
            if parsed.kind == "stdin":
                sent = await self.write(protocol.packet(protocol.DATA, parsed.text.encode()))
            elif parsed.kind == "resize":
                sent = await self.write(
                    protocol.meta(
                        {"type": "resize", "width": parsed.width, "height": parsed.height}
                    )
                )
            elif parsed.kind == "ping":
                await asyncio.wait_for(websocket.send_json(["pong", parsed.text]), STALL_SECONDS)
                sent = True
            else:
                sent = await self.write(protocol.meta({"type": parsed.kind}))
            if not sent:
                return


async def play(
    websocket: web.WebSocketResponse,
    request: web.Request,
    sessions: Sessions,
    environment: Mapping[str, str],
    stops: Sequence[asyncio.Event],
    *,
    home: Path | None = None,
    command: Sequence[str] | None = None,
    on_start: Callable[[Session], Any] | None = None,
    grace: Callable[[], float] = lambda: QUIT_GRACE_SECONDS,
) -> None:
    """Run one game for a prepared ``websocket`` until the game or the tab stops, or a stop is set.

    ``home`` and ``command`` go to :meth:`Sessions.start`; ``on_start`` gets the
    session once it runs; ``grace()`` is how long the game may take to quit.
    """
    session = await sessions.start(environment, home=home, command=command)
    if on_start is not None:
        on_start(session)
    link = GameLink(session)
    tasks = [
        asyncio.create_task(link.output(websocket.send_bytes, websocket.send_str)),
        asyncio.create_task(link.input(websocket)),
        *(asyncio.create_task(stop.wait()) for stop in stops),
    ]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        for result in results:
            if isinstance(result, Exception) and not isinstance(
                result, (OSError, TimeoutError, RuntimeError)
            ):
                log.warning("a game's connection failed: %r", result)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(link.write(protocol.meta({"type": "quit"})), 1)
        await sessions.end(session, grace=grace())
        await close(websocket, request)


async def close(websocket: web.WebSocketResponse, request: web.Request) -> None:
    """Close a websocket politely, or drop its connection if the tab does not take it."""
    with contextlib.suppress(TimeoutError, OSError, RuntimeError):
        await asyncio.wait_for(asyncio.shield(websocket.close()), CLOSE_SECONDS)
    if not websocket.closed and request.transport is not None:
        with contextlib.suppress(Exception):
            request.transport.abort()
