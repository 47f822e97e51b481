"""What a tab and its game say to each other, read defensively.

The page (textual-serve's ``textual.js``) sends JSON text frames:
``["stdin", "keys"]``, ``["resize", {"width": W, "height": H}]``,
``["ping", "token"]``, ``["blur"]`` and ``["focus"]``.  Anything else, or any
of these malformed, is dropped (:func:`parse_client_message` returns None):
a tab is not trusted.  A terminal size is clamped to
:data:`MIN_COLUMNS`-:data:`MAX_COLUMNS` by :data:`MIN_ROWS`-:data:`MAX_ROWS`
both when the game starts and on every resize, since the game draws (and the
server sends) a whole screen of that size on each change.

The game (Textual's web driver, ``TEXTUAL_DRIVER``) writes ``__GANGLION__``
and then packets: one type byte (``D`` terminal output, ``M`` JSON meta,
``P`` packed file delivery), a 4-byte big-endian length and the payload; it
reads packets of the same shape (``D`` keys, ``M`` meta such as resize and
quit) on its standard input.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

MAX_COLUMNS = 500
"""The widest terminal a page may ask for (a bigger request is clamped)."""

MAX_ROWS = 200
"""The tallest terminal a page may ask for (a bigger request is clamped)."""

MIN_COLUMNS = 20
"""The narrowest terminal a game is given."""

MIN_ROWS = 10
"""The shortest terminal a game is given."""

MAX_MESSAGE_BYTES = 64 * 1024
"""The largest websocket message a tab may send (a paste of 64 KiB); bigger closes it."""

PRELUDE = b"__GANGLION__\n"
"""The line a Textual app in web mode writes before its first packet."""

DATA, META, PACKED = b"D", b"M", b"P"
"""Packet types between the server and a game."""


def packet(kind: bytes, payload: bytes) -> bytes:
    """One packet for a game's standard input."""
    return kind + len(payload).to_bytes(4, "big") + payload


def meta(message: dict[str, Any]) -> bytes:
    """A meta packet (``resize``, ``focus``, ``blur``, ``quit``) for a game."""
    return packet(META, json.dumps(message).encode("utf-8"))


def _whole(value: Any, default: int) -> int:
    """``value`` as a whole number (a float is floored; anything else is ``default``)."""
    if isinstance(value, bool):
        return default
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return math.floor(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            return default
    return default


def clamp_size(width: Any, height: Any) -> tuple[int, int]:
    """A terminal size within the limits, whatever a tab asked for (80×24 if nonsense)."""
    columns = min(max(_whole(width, 80), MIN_COLUMNS), MAX_COLUMNS)
    rows = min(max(_whole(height, 24), MIN_ROWS), MAX_ROWS)
    return columns, rows


@dataclass(frozen=True)
class ClientMessage:
    """One well-formed message from a tab."""

    kind: str
    """``stdin``, ``resize``, ``ping``, ``blur`` or ``focus``."""
    text: str = ""
    """The keys (``stdin``) or the token to echo (``ping``)."""
    width: int = 0
    """The clamped width (``resize``)."""
    height: int = 0
    """The clamped height (``resize``)."""


def parse_client_message(raw: str) -> ClientMessage | None:
    """A tab's text frame as a :class:`ClientMessage`, or None when it is not one."""
    try:
        envelope = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    if not isinstance(envelope, list) or not envelope or not isinstance(envelope[0], str):
        return None
    kind = envelope[0]
    argument = envelope[1] if len(envelope) > 1 else None
    if kind in ("stdin", "ping"):
        if not isinstance(argument, str) or (kind == "ping" and len(argument) > 256):
            return None
        return ClientMessage(kind, text=argument)
    if kind == "resize":
        if not isinstance(argument, dict):
            return None
        width, height = clamp_size(argument.get("width"), argument.get("height"))
        return ClientMessage(kind, width=width, height=height)
    if kind in ("blur", "focus"):
        return ClientMessage(kind)
    return None
