"""A bare websocket client for the server tests: it can stall, send garbage and vanish.

aiohttp's client reads every frame it is sent; a player whose tab froze or
whose laptop lid closed does not.  :class:`RawClient` speaks just enough of
RFC 6455 over a plain socket to do what a misbehaving browser does: stop
reading (a tiny receive buffer, nothing read), send malformed frames, and
disappear with a TCP reset instead of a close frame.  Loopback only.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import struct
from typing import Any


def frame(payload: bytes, opcode: int = 1) -> bytes:
    """One masked client frame (opcode 1 text, 2 binary, 8 close)."""
    mask = os.urandom(4)
    length = len(payload)
    if length < 126:
        header = struct.pack("!BB", 0x80 | opcode, 0x80 | length)
    elif length < 1 << 16:
        header = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, length)
    else:
        header = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, length)
    masked = bytes(byte ^ mask[index % 4] for index, byte in enumerate(payload))
    return header + mask + masked


class RawClient:
    """A websocket connection over a plain socket, read only when the test says so."""

    def __init__(self, sock: socket.socket, status: int, rest: bytes) -> None:
        self.sock = sock
        self.status = status
        """The HTTP status of the handshake (101 when the websocket was accepted)."""
        self.received = rest
        """Bytes read so far after the handshake's headers."""

    @classmethod
    async def connect(
        cls,
        port: int,
        path: str = "/ws?width=100&height=30",
        origin: str | None = None,
        receive_buffer: int = 0,
        host: str | None = None,
    ) -> RawClient:
        """Open the websocket (a handshake with ``origin``, if given); never raises on refusal."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if receive_buffer:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        sock.setblocking(False)
        loop = asyncio.get_running_loop()
        await loop.sock_connect(sock, ("127.0.0.1", port))
        key = base64.b64encode(os.urandom(16)).decode()
        lines = [
            f"GET {path} HTTP/1.1",
            f"Host: {host or f'127.0.0.1:{port}'}",
            "Upgrade: websocket",
            "Connection: Upgrade",
            f"Sec-WebSocket-Key: {key}",
            "Sec-WebSocket-Version: 13",
        ]
        if origin is not None:
            lines.append(f"Origin: {origin}")
        await loop.sock_sendall(sock, ("\r\n".join(lines) + "\r\n\r\n").encode())
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = await asyncio.wait_for(loop.sock_recv(sock, 4096), 30)
            if not chunk:
                break
            data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1]) if head.startswith(b"HTTP/") else 0
        return cls(sock, status, rest)

    async def send(self, payload: bytes, opcode: int = 1) -> bool:
        """Send one frame; False when the server has gone (reset, closed)."""
        try:
            await asyncio.wait_for(
                asyncio.get_running_loop().sock_sendall(self.sock, frame(payload, opcode)), 5
            )
        except (OSError, TimeoutError):
            return False
        return True

    async def send_json(self, message: Any) -> bool:
        """Send a text frame holding ``message`` as JSON (what the page sends)."""
        return await self.send(json.dumps(message).encode())

    async def read_for(self, seconds: float) -> bytes:
        """Read whatever arrives for ``seconds`` (or until the server closes); what was read."""
        loop = asyncio.get_running_loop()
        got = b""
        deadline = loop.time() + seconds
        while loop.time() < deadline:
            try:
                chunk = await asyncio.wait_for(
                    loop.sock_recv(self.sock, 65536), deadline - loop.time()
                )
            except (TimeoutError, OSError):
                break
            if not chunk:
                break
            got += chunk
        self.received += got
        return got

    def vanish(self) -> None:
        """Disappear without a close frame: a TCP reset (SO_LINGER 0), unread data and all."""
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()

    def close(self) -> None:
        """Close the socket (no close frame)."""
        self.sock.close()
